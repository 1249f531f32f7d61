/* core/merkle.c — RFC 6962-style Merkle roots, audit paths and their check. */
#include "merkle.h"

#include <string.h>

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
                           "inclusion proof is too long: %d hashes for leaf %llu of %llu",
                           path_len, (unsigned long long)index, (unsigned long long)n_leaves);
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
