/* core/merkle.c — RFC 6962-style Merkle roots, audit paths and their check;
 * whole trees kept level by level for the audit paths of every leaf. */
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

vi_status vi_merkle_leaf_begin(vi_sha256 *h, vi_error *err)
{
    vi_status st = vi_sha256_begin(h, err);
    if (st == VI_OK)
        vi_sha256_u8(h, 0x00);
    return st;
}

vi_status vi_merkle_node(const uint8_t left[VI_SHA256_LEN], const uint8_t right[VI_SHA256_LEN],
                         uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    uint8_t buf[1 + 2 * VI_SHA256_LEN];
    buf[0] = 0x01;
    memcpy(buf + 1, left, VI_SHA256_LEN);
    memcpy(buf + 1 + VI_SHA256_LEN, right, VI_SHA256_LEN);
    return vi_sha256_once(buf, sizeof buf, out, err);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

static vi_status subtree_root(const uint8_t (*leaves)[VI_SHA256_LEN], uint64_t n,
                              uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    if (n == 1) {
        memcpy(out, leaves[0], VI_SHA256_LEN);
        return VI_OK;
    }
    uint64_t k = split_point(n);
    uint8_t left[VI_SHA256_LEN], right[VI_SHA256_LEN];
    vi_status st = subtree_root(leaves, k, left, err);
    if (st == VI_OK)
        st = subtree_root(leaves + k, n - k, right, err);
    if (st == VI_OK)
        st = vi_merkle_node(left, right, out, err);
    return st;
}

vi_status vi_merkle_root(const uint8_t (*leaves)[VI_SHA256_LEN], uint64_t n,
                         uint8_t root[VI_SHA256_LEN], vi_error *err)
{
    if (n == 0)
        return vi_fail(err, VI_ERR_INVALID, "a Merkle tree needs at least one leaf");
    return subtree_root(leaves, n, root, err);
}

static vi_status subtree_path(const uint8_t (*leaves)[VI_SHA256_LEN], uint64_t n, uint64_t m,
                              uint8_t (*path)[VI_SHA256_LEN], int *len, vi_error *err)
{
    if (n == 1)
        return VI_OK;
    uint64_t k = split_point(n);
    vi_status st;
    if (m < k) {
        st = subtree_path(leaves, k, m, path, len, err);
        if (st == VI_OK)
            st = subtree_root(leaves + k, n - k, path[*len], err);
    } else {
        st = subtree_path(leaves + k, n - k, m - k, path, len, err);
        if (st == VI_OK)
            st = subtree_root(leaves, k, path[*len], err);
    }
    if (st == VI_OK)
        (*len)++;
    return st;
}

vi_status vi_merkle_proof(const uint8_t (*leaves)[VI_SHA256_LEN], uint64_t n, uint64_t index,
                          uint8_t (*path)[VI_SHA256_LEN], int *path_len, vi_error *err)
{
    *path_len = 0;
    if (n == 0)
        return vi_fail(err, VI_ERR_INVALID, "a Merkle tree needs at least one leaf");
    if (index >= n)
        return vi_fail(err, VI_ERR_INVALID, "leaf index %llu is outside a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)n);
    return subtree_path(leaves, n, index, path, path_len, err);
}

/* The audit-path walk of RFC 9162 section 2.1.3.2: fn tracks the node's
 * position and sn the last position at the current level. */
vi_status vi_merkle_verify(const uint8_t leaf_hash[VI_SHA256_LEN], uint64_t index,
                           uint64_t n_leaves, const uint8_t (*path)[VI_SHA256_LEN], int path_len,
                           const uint8_t root[VI_SHA256_LEN], vi_error *err)
{
    if (index >= n_leaves)
        return vi_fail(err, VI_ERR_INVALID, "leaf index %llu is outside a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)n_leaves);
    if (path_len < 0 || path_len > VI_MERKLE_MAX_PATH)
        return vi_fail(err, VI_ERR_INVALID, "audit path length %d is outside [0, %d]", path_len,
                       VI_MERKLE_MAX_PATH);
    uint64_t fn = index, sn = n_leaves - 1;
    uint8_t r[VI_SHA256_LEN];
    memcpy(r, leaf_hash, VI_SHA256_LEN);
    for (int i = 0; i < path_len; i++) {
        if (sn == 0)
            return vi_fail(err, VI_ERR_VERIFY,
                           "inclusion proof is too long: %d hashes for leaf %llu of %llu", path_len,
                           (unsigned long long)index, (unsigned long long)n_leaves);
        vi_status st;
        if ((fn & 1) || fn == sn) {
            st = vi_merkle_node(path[i], r, r, err);
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            st = vi_merkle_node(r, path[i], r, err);
        }
        if (st != VI_OK)
            return st;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return vi_fail(err, VI_ERR_VERIFY,
                       "inclusion proof is too short: %d hashes for leaf %llu of %llu", path_len,
                       (unsigned long long)index, (unsigned long long)n_leaves);
    if (memcmp(r, root, VI_SHA256_LEN) != 0)
        return vi_fail(err, VI_ERR_VERIFY,
                       "inclusion proof of leaf %llu of %llu does not lead to the root",
                       (unsigned long long)index, (unsigned long long)n_leaves);
    return VI_OK;
}

int vi_merkle_path_len(uint64_t index, uint64_t n)
{
    if (n == 0 || index >= n)
        return -1;
    int len = 0;
    for (; n > 1; n = n / 2 + n % 2, index >>= 1)
        if ((index ^ 1) < n) /* a partner on this level; else the node moves up */
            len++;
    return len;
}

/* ==== Whole trees ==== */

/* out = SHA256(prefix || a[0..na) || b[0..nb)) on ctx; 1 on success. */
static int hash_on(EVP_MD_CTX *ctx, uint8_t prefix, const void *a, size_t na, const void *b,
                   size_t nb, uint8_t out[VI_SHA256_LEN])
{
    unsigned int len = 0;
    return EVP_DigestInit_ex2(ctx, vi_sha256_md(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, &prefix, 1) == 1 && EVP_DigestUpdate(ctx, a, na) == 1 &&
           (nb == 0 || EVP_DigestUpdate(ctx, b, nb) == 1) &&
           EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == VI_SHA256_LEN;
}

vi_status vi_merkle_leaf_hash(const void *p, size_t n, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return vi_fail(err, VI_ERR_NOMEM, "cannot allocate a SHA-256 context");
    int ok = hash_on(ctx, 0x00, p, n, NULL, 0, out);
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        memset(out, 0, VI_SHA256_LEN);
        return vi_fail(err, VI_ERR_INTERNAL, "OpenSSL SHA-256 failed");
    }
    return VI_OK;
}

vi_status vi_merkle_tree_build(vi_merkle_tree *t, const uint8_t (*leaves)[VI_SHA256_LEN],
                               uint64_t n, vi_error *err)
{
    memset(t, 0, sizeof *t);
    if (n == 0)
        return vi_fail(err, VI_ERR_INVALID, "a Merkle tree needs at least one leaf");
    if (n > (UINT64_C(1) << 62) || 2 * n > SIZE_MAX / VI_SHA256_LEN)
        return vi_fail(err, VI_ERR_INVALID, "a Merkle tree of %llu leaves is too large",
                       (unsigned long long)n);
    uint64_t total = 0;
    for (uint64_t count = n;; count = count / 2 + count % 2) {
        t->level_start[t->n_levels] = total;
        t->level_count[t->n_levels] = count;
        t->n_levels++;
        total += count;
        if (count == 1)
            break;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    t->nodes = malloc((size_t)total * VI_SHA256_LEN);
    if (!ctx || !t->nodes) {
        EVP_MD_CTX_free(ctx);
        vi_merkle_tree_free(t);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for a Merkle tree of %llu leaves",
                       (unsigned long long)n);
    }
    t->n_leaves = n;
    memcpy(t->nodes, leaves, (size_t)n * VI_SHA256_LEN);
    int ok = 1;
    for (int l = 0; ok && l + 1 < t->n_levels; l++) {
        const uint8_t(*below)[VI_SHA256_LEN] = t->nodes + t->level_start[l];
        uint8_t(*above)[VI_SHA256_LEN] = t->nodes + t->level_start[l + 1];
        uint64_t count = t->level_count[l];
        for (uint64_t i = 0; ok && i + 1 < count; i += 2)
            ok = hash_on(ctx, 0x01, below[i], VI_SHA256_LEN, below[i + 1], VI_SHA256_LEN,
                         above[i / 2]);
        if (count % 2)
            memcpy(above[count / 2], below[count - 1], VI_SHA256_LEN);
    }
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        vi_merkle_tree_free(t);
        return vi_fail(err, VI_ERR_INTERNAL, "OpenSSL SHA-256 failed");
    }
    return VI_OK;
}

const uint8_t *vi_merkle_tree_root(const vi_merkle_tree *t)
{
    return t->n_levels > 0 ? t->nodes[t->level_start[t->n_levels - 1]] : NULL;
}

vi_status vi_merkle_tree_path(const vi_merkle_tree *t, uint64_t index,
                              uint8_t (*path)[VI_SHA256_LEN], int cap, int *path_len, vi_error *err)
{
    *path_len = 0;
    if (index >= t->n_leaves)
        return vi_fail(err, VI_ERR_INVALID, "leaf index %llu is outside a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)t->n_leaves);
    int want = vi_merkle_path_len(index, t->n_leaves);
    if (want > cap)
        return vi_fail(err, VI_ERR_LIMIT,
                       "the audit path of leaf %llu of %llu has %d hashes; room for %d",
                       (unsigned long long)index, (unsigned long long)t->n_leaves, want, cap);
    for (int l = 0; l + 1 < t->n_levels; l++, index >>= 1) {
        uint64_t partner = index ^ 1;
        if (partner < t->level_count[l])
            memcpy(path[(*path_len)++], t->nodes[t->level_start[l] + partner], VI_SHA256_LEN);
    }
    return VI_OK;
}

void vi_merkle_tree_free(vi_merkle_tree *t)
{
    if (!t)
        return;
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
