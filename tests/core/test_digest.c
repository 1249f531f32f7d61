/* tests/core/test_digest.c — hex helpers, Merkle roots and audit paths, the
 * model digest and tensor-set digests: against byte strings built by hand
 * here and hashed with OpenSSL directly, against golden values (checked with
 * an independent Python implementation of docs/receipts.md), order
 * independence, tampering and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/digest.h"
#include "core/hex.h"
#include "core/merkle.h"
#include "core/model.h"
#include "test_util.h"

/* ==== an independent byte builder and SHA-256 ==== */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_u8(bytes *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_le(bytes *b, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        put_u8(b, (uint8_t)(v >> (8 * i)));
}

static void put_str(bytes *b, const char *s)
{
    put_le(b, strlen(s), 4);
    put(b, s, strlen(s));
}

static void sha(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
}

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    sha(buf, sizeof buf, out);
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
    char got[2 * 64 + 1];
    vi_hex_encode(p, n, got);
    assert_string_equal(got, want);
}

/* ==== hex ==== */

static void test_hex(void **state)
{
    (void)state;
    const uint8_t in[4] = {0x00, 0x9f, 0xa0, 0xff};
    char s[9];
    vi_hex_encode(in, 4, s);
    assert_string_equal(s, "009fa0ff");
    uint8_t out[4];
    vi_error err;
    assert_int_equal(vi_hex_decode("009fa0ff", out, 4, "x", &err), VI_OK);
    assert_memory_equal(out, in, 4);
    assert_int_equal(vi_hex_decode("009fa0f", out, 4, "field 'x'", &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "field 'x' must be 8 lowercase hex characters (got 7 characters)");
    assert_int_equal(vi_hex_decode("009FA0ff", out, 4, "field 'x'", &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "field 'x' must be lowercase hex: character 3 is 'F' (0x46)");
    assert_int_equal(vi_hex_decode("009fa0f ", out, 4, "k", &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "k must be lowercase hex: character 7 is ' ' (0x20)");
}

/* ==== Merkle ==== */

/* Reference root built bottom-up: pair neighbours left to right and carry an
 * odd last node up unchanged (equal to the RFC 6962 split definition). */
static void ref_root(const uint8_t (*leaves)[32], int n, uint8_t out[32])
{
    uint8_t(*level)[32] = malloc((size_t)n * 32);
    assert_non_null(level);
    memcpy(level, leaves, (size_t)n * 32);
    while (n > 1) {
        int m = 0;
        for (int i = 0; i + 1 < n; i += 2)
            node(level[i], level[i + 1], level[m++]);
        if (n & 1)
            memcpy(level[m++], level[n - 1], 32);
        n = m;
    }
    memcpy(out, level[0], 32);
    free(level);
}

static void make_leaves(uint8_t (*leaves)[32], int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t buf[2] = {0x00, (uint8_t)i};
        sha(buf, sizeof buf, leaves[i]);
    }
}

static void test_merkle_small_trees_by_hand(void **state)
{
    (void)state;
    uint8_t l[5][32], a[32], b[32], c[32], want[32], got[32];
    vi_error err;
    make_leaves(l, 5);
    assert_int_equal(vi_merkle_root((const uint8_t(*)[32])l, 1, got, &err), VI_OK);
    assert_memory_equal(got, l[0], 32);
    node(l[0], l[1], a);
    node(a, l[2], want); /* n = 3: ((0 1) 2) */
    assert_int_equal(vi_merkle_root((const uint8_t(*)[32])l, 3, got, &err), VI_OK);
    assert_memory_equal(got, want, 32);
    node(l[2], l[3], b);
    node(a, b, c);
    node(c, l[4], want); /* n = 5: (((0 1) (2 3)) 4) */
    assert_int_equal(vi_merkle_root((const uint8_t(*)[32])l, 5, got, &err), VI_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(vi_merkle_root((const uint8_t(*)[32])l, 0, got, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "a Merkle tree needs at least one leaf");
}

static void test_merkle_proofs_every_leaf(void **state)
{
    (void)state;
    enum { MAXN = 33 };
    uint8_t leaves[MAXN][32], root[32], want[32], path[VI_MERKLE_MAX_PATH][32];
    vi_error err;
    make_leaves(leaves, MAXN);
    const uint8_t(*cl)[32] = (const uint8_t(*)[32])leaves;
    const uint8_t(*cp)[32] = (const uint8_t(*)[32])path;
    for (int n = 1; n <= MAXN; n++) {
        assert_int_equal(vi_merkle_root(cl, (uint64_t)n, root, &err), VI_OK);
        ref_root(cl, n, want);
        assert_memory_equal(root, want, 32);
        int depth = 0;
        while ((1 << depth) < n)
            depth++;
        for (int i = 0; i < n; i++) {
            int len = -1;
            assert_int_equal(vi_merkle_proof(cl, (uint64_t)n, (uint64_t)i, path, &len, &err),
                             VI_OK);
            assert_true(len <= depth);
            assert_int_equal(
                vi_merkle_verify(leaves[i], (uint64_t)i, (uint64_t)n, cp, len, root, &err), VI_OK);
            /* any flipped bit in any path hash breaks it */
            for (int k = 0; k < len; k++)
                for (int bit = 0; bit < 256; bit += 37) {
                    path[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(
                        vi_merkle_verify(leaves[i], (uint64_t)i, (uint64_t)n, cp, len, root, &err),
                        VI_ERR_VERIFY);
                    path[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            /* another leaf, another index, a shorter or longer path, another root */
            if (n > 1) {
                int j = (i + 1) % n;
                assert_int_equal(
                    vi_merkle_verify(leaves[j], (uint64_t)i, (uint64_t)n, cp, len, root, &err),
                    VI_ERR_VERIFY);
                assert_int_equal(
                    vi_merkle_verify(leaves[i], (uint64_t)j, (uint64_t)n, cp, len, root, &err),
                    VI_ERR_VERIFY);
                assert_int_equal(
                    vi_merkle_verify(leaves[i], (uint64_t)i, (uint64_t)n, cp, len - 1, root, &err),
                    VI_ERR_VERIFY);
            }
            memcpy(path[len], leaves[0], 32);
            assert_int_equal(
                vi_merkle_verify(leaves[i], (uint64_t)i, (uint64_t)n, cp, len + 1, root, &err),
                VI_ERR_VERIFY);
            uint8_t bad[32];
            memcpy(bad, root, 32);
            bad[31] ^= 0x80;
            assert_int_equal(
                vi_merkle_verify(leaves[i], (uint64_t)i, (uint64_t)n, cp, len, bad, &err),
                VI_ERR_VERIFY);
        }
        int len;
        assert_int_equal(vi_merkle_proof(cl, (uint64_t)n, (uint64_t)n, path, &len, &err),
                         VI_ERR_INVALID);
        assert_int_equal(vi_merkle_verify(leaves[0], (uint64_t)n, (uint64_t)n, cp, 0, root, &err),
                         VI_ERR_INVALID);
    }
}

static void test_merkle_messages(void **state)
{
    (void)state;
    uint8_t leaves[5][32], root[32], path[VI_MERKLE_MAX_PATH][32];
    const uint8_t(*cp)[32] = (const uint8_t(*)[32])path;
    vi_error err;
    int len;
    make_leaves(leaves, 5);
    assert_int_equal(vi_merkle_root((const uint8_t(*)[32])leaves, 5, root, &err), VI_OK);
    assert_int_equal(vi_merkle_proof((const uint8_t(*)[32])leaves, 5, 2, path, &len, &err), VI_OK);
    assert_int_equal(len, 3);
    assert_int_equal(vi_merkle_verify(leaves[2], 2, 5, cp, 2, root, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof is too short: 2 hashes for leaf 2 of 5");
    memset(path[3], 0, 32);
    assert_int_equal(vi_merkle_verify(leaves[2], 2, 5, cp, 4, root, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof is too long: 4 hashes for leaf 2 of 5");
    assert_int_equal(vi_merkle_verify(leaves[3], 2, 5, cp, 3, root, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof of leaf 2 of 5 does not lead to the root");
    assert_int_equal(vi_merkle_verify(leaves[2], 5, 5, cp, 3, root, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "leaf index 5 is outside a tree of 5 leaves");
    assert_int_equal(vi_merkle_verify(leaves[2], 2, 5, cp, 65, root, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "audit path length 65 is outside [0, 64]");
}

/* ==== the model digest ==== */

static const char MANIFEST[] = "{\"name\":\"tiny\"}";
static const uint8_t W_DATA[16] = {0, 0, 0x80, 0x3f, 0, 0, 0,    0x40,
                                   0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40};
static const uint8_t B_DATA[4] = {0x80, 0x3f, 0x00, 0x40}; /* BF16 1.0, 2.0 */
static const uint8_t IDX_DATA[8] = {7, 0, 0, 0, 0, 0, 0, 0};
static const int64_t W_SHAPE[2] = {2, 2}, B_SHAPE[1] = {2}, E_SHAPE[2] = {0, 3};

/* The golden model, deliberately not in name order. */
static void tiny_model(vi_digest_tensor t[4])
{
    t[0] = (vi_digest_tensor){"w", "F32", 2, W_SHAPE, W_DATA, 16};
    t[1] = (vi_digest_tensor){"idx", "I64", 0, NULL, IDX_DATA, 8};
    t[2] = (vi_digest_tensor){"b", "BF16", 1, B_SHAPE, B_DATA, 4};
    t[3] = (vi_digest_tensor){"empty", "F32", 2, E_SHAPE, NULL, 0};
}

#define GOLDEN_MODEL_DIGEST "3fc5bcd124e74e81e658ed557a01faeda238d767b57e6b28cd04bb262eb7412a"

static void leaf_by_hand(const vi_digest_tensor *t, uint8_t out[32])
{
    bytes b = {0};
    put_u8(&b, 0x00);
    put_str(&b, "verinfer.tensor.v1");
    put_str(&b, t->name);
    put_str(&b, t->dtype);
    put_le(&b, (uint64_t)t->ndim, 4);
    for (int i = 0; i < t->ndim; i++)
        put_le(&b, (uint64_t)t->shape[i], 8);
    put_le(&b, t->nbytes, 8);
    put(&b, t->data, (size_t)t->nbytes);
    sha(b.p, b.n, out);
    free(b.p);
}

static void test_model_digest_by_hand(void **state)
{
    (void)state;
    vi_digest_tensor t[4];
    tiny_model(t);
    uint8_t l[5][32], a[32], bb[32], c[32], root[32], want[32], got[32];
    bytes b = {0};
    put_u8(&b, 0x00);
    put_str(&b, "verinfer.manifest.v1");
    put_le(&b, strlen(MANIFEST), 8);
    put(&b, MANIFEST, strlen(MANIFEST));
    sha(b.p, b.n, l[0]);
    leaf_by_hand(&t[2], l[1]); /* b */
    leaf_by_hand(&t[3], l[2]); /* empty */
    leaf_by_hand(&t[1], l[3]); /* idx */
    leaf_by_hand(&t[0], l[4]); /* w */
    node(l[0], l[1], a);
    node(l[2], l[3], bb);
    node(a, bb, c);
    node(c, l[4], root);
    b.n = 0;
    put_str(&b, "verinfer.model.v1");
    put_le(&b, 5, 8);
    put(&b, root, 32);
    sha(b.p, b.n, want);
    free(b.p);

    vi_error err;
    uint8_t leaf[32];
    assert_int_equal(vi_manifest_leaf_hash(MANIFEST, strlen(MANIFEST), leaf, &err), VI_OK);
    assert_memory_equal(leaf, l[0], 32);
    assert_int_equal(vi_tensor_leaf_hash(&t[1], leaf, &err), VI_OK);
    assert_memory_equal(leaf, l[3], 32);
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), t, 4, got, &err), VI_OK);
    assert_memory_equal(got, want, 32);
    assert_hex(got, 32, GOLDEN_MODEL_DIGEST);
}

static void test_model_digest_order_and_sensitivity(void **state)
{
    (void)state;
    vi_digest_tensor t[4], p[4];
    tiny_model(t);
    uint8_t base[32], got[32];
    vi_error err;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), t, 4, base, &err), VI_OK);
    /* all 24 orders give the same digest */
    int perm[4] = {0, 1, 2, 3}, count = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++) {
                int d = 6 - a - b - c;
                if (a == b || a == c || b == c || d == a || d == b || d == c)
                    continue;
                perm[0] = a, perm[1] = b, perm[2] = c, perm[3] = d;
                for (int i = 0; i < 4; i++)
                    p[i] = t[perm[i]];
                assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, got, &err),
                                 VI_OK);
                assert_memory_equal(got, base, 32);
                count++;
            }
    assert_int_equal(count, 24);
    /* one byte of manifest, one bit of data, a name, a dtype, a shape: all change it */
    char man[sizeof MANIFEST];
    memcpy(man, MANIFEST, sizeof man);
    man[3] ^= 1;
    assert_int_equal(vi_model_digest(man, strlen(man), t, 4, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    uint8_t w2[16];
    memcpy(w2, W_DATA, 16);
    w2[15] ^= 0x01;
    memcpy(p, t, sizeof p);
    p[0].data = w2;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    memcpy(p, t, sizeof p);
    p[0].name = "v";
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    memcpy(p, t, sizeof p);
    p[0].dtype = "I32";
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    const int64_t flat[1] = {4};
    memcpy(p, t, sizeof p);
    p[0].ndim = 1, p[0].shape = flat;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    /* dropping a tensor changes it too */
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), t, 3, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    /* a manifest alone is a one-leaf tree */
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), NULL, 0, got, &err), VI_OK);
}

static void test_model_digest_bad_input(void **state)
{
    (void)state;
    vi_digest_tensor t[4], p[4];
    tiny_model(t);
    uint8_t out[32];
    vi_error err;
    memcpy(p, t, sizeof p);
    p[2].name = "w";
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "duplicate model tensor name 'w'");
    memcpy(p, t, sizeof p);
    p[1].name = "";
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "model tensor 1 has an empty name");
    memcpy(p, t, sizeof p);
    p[0].dtype = "F31";
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "tensor 'w': unknown safetensors dtype 'F31'");
    memcpy(p, t, sizeof p);
    p[0].nbytes = 12;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "tensor 'w': 12 bytes stored, but F32 [2, 2] needs 16");
    memcpy(p, t, sizeof p);
    p[2].data = NULL;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "tensor 'b' has no data");
    memcpy(p, t, sizeof p);
    const int64_t neg[2] = {2, -2};
    p[0].shape = neg;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "tensor 'w': dimension 1 is negative (-2)");
    memcpy(p, t, sizeof p);
    p[0].ndim = 9;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), p, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "tensor 'w': 9 dimensions (expected 0..8 with a shape)");
    assert_int_equal(vi_model_digest(NULL, 3, t, 4, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "manifest has 3 bytes but no data");
}

static void test_model_tensor_proofs(void **state)
{
    (void)state;
    vi_digest_tensor t[4];
    tiny_model(t);
    uint8_t digest[32];
    vi_error err;
    assert_int_equal(vi_model_digest(MANIFEST, strlen(MANIFEST), t, 4, digest, &err), VI_OK);
    static const uint64_t INDEX[4] = {4, 3, 1, 2}; /* w, idx, b, empty in sorted order */
    for (int i = 0; i < 4; i++) {
        vi_tensor_proof pr;
        assert_int_equal(
            vi_model_tensor_proof(MANIFEST, strlen(MANIFEST), t, 4, t[i].name, &pr, &err), VI_OK);
        assert_int_equal(pr.index, INDEX[i]);
        assert_int_equal(pr.n_leaves, 5);
        assert_int_equal(pr.path_len, i == 0 ? 1 : 3);
        assert_int_equal(vi_model_tensor_verify(&t[i], &pr, digest, &err), VI_OK);
        /* another tensor with this proof */
        assert_int_equal(vi_model_tensor_verify(&t[(i + 1) % 4], &pr, digest, &err), VI_ERR_VERIFY);
        /* a claimed leaf count that is not the committed one */
        vi_tensor_proof bad = pr;
        bad.n_leaves = 6;
        assert_int_equal(vi_model_tensor_verify(&t[i], &bad, digest, &err), VI_ERR_VERIFY);
        char want[160];
        snprintf(want, sizeof want,
                 "tensor '%s': the proof's root and leaf count do not give this model digest",
                 t[i].name);
        assert_string_equal(err.msg, want);
        bad = pr;
        bad.path[0][5] ^= 4;
        assert_int_equal(vi_model_tensor_verify(&t[i], &bad, digest, &err), VI_ERR_VERIFY);
        bad = pr;
        bad.index = 0;
        assert_int_equal(vi_model_tensor_verify(&t[i], &bad, digest, &err), VI_ERR_VERIFY);
    }
    /* a tensor whose bytes changed is not in the model */
    vi_tensor_proof pr;
    assert_int_equal(vi_model_tensor_proof(MANIFEST, strlen(MANIFEST), t, 4, "w", &pr, &err),
                     VI_OK);
    uint8_t w2[16];
    memcpy(w2, W_DATA, 16);
    w2[0] ^= 1;
    vi_digest_tensor tw = t[0];
    tw.data = w2;
    assert_int_equal(vi_model_tensor_verify(&tw, &pr, digest, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg,
                        "tensor 'w': inclusion proof of leaf 4 of 5 does not lead to the root");
    assert_int_equal(vi_model_tensor_proof(MANIFEST, strlen(MANIFEST), t, 4, "nope", &pr, &err),
                     VI_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "the model has no tensor 'nope'");
}

static void test_model_digest_of_loaded_model(void **state)
{
    (void)state;
    vi_digest_tensor t[4];
    tiny_model(t);
    /* a vi_model as the loader leaves it: tensors sorted, offsets into one data block */
    uint8_t block[28];
    memcpy(block, B_DATA, 4);
    memcpy(block + 4, IDX_DATA, 8);
    memcpy(block + 12, W_DATA, 16);
    vi_st_tensor st[4];
    memset(st, 0, sizeof st);
    strcpy(st[0].name, "b"), st[0].dtype = VI_DT_BF16, st[0].ndim = 1, st[0].shape[0] = 2;
    st[0].begin = 0, st[0].end = 4, st[0].data = block;
    strcpy(st[1].name, "empty"), st[1].dtype = VI_DT_FP32, st[1].ndim = 2, st[1].shape[1] = 3;
    st[1].begin = 4, st[1].end = 4, st[1].data = block + 4;
    strcpy(st[2].name, "idx"), st[2].dtype = VI_DT_INT64, st[2].ndim = 0;
    st[2].begin = 4, st[2].end = 12, st[2].data = block + 4;
    strcpy(st[3].name, "w"), st[3].dtype = VI_DT_FP32, st[3].ndim = 2;
    st[3].shape[0] = 2, st[3].shape[1] = 2, st[3].begin = 12, st[3].end = 28,
    st[3].data = block + 12;
    char manifest[sizeof MANIFEST];
    memcpy(manifest, MANIFEST, sizeof manifest);
    vi_model m;
    memset(&m, 0, sizeof m);
    m.manifest = manifest;
    m.manifest_len = strlen(manifest);
    m.st.tensors = st;
    m.st.n_tensors = 4;
    uint8_t got[32];
    vi_error err;
    assert_int_equal(vi_model_digest_of(&m, got, &err), VI_OK);
    assert_hex(got, 32, GOLDEN_MODEL_DIGEST);
    st[3].end = 27;
    assert_int_equal(vi_model_digest_of(&m, got, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "tensor 'w': 15 bytes stored, but F32 [2, 2] needs 16");
}

/* ==== tensor-set digests ==== */

static int64_t IDS[3] = {1, 2, 3};
static uint8_t MASK[3] = {1, 1, 0};
static float LOGITS[2] = {0.5f, -1.0f};

static void request_tensors(vi_tensor t[3])
{
    memset(t, 0, 3 * sizeof *t);
    strcpy(t[0].name, "mask"), t[0].dtype = VI_DT_BOOL, t[0].ndim = 2;
    t[0].shape[0] = 1, t[0].shape[1] = 3, t[0].data = MASK;
    strcpy(t[1].name, "input_ids"), t[1].dtype = VI_DT_INT64, t[1].ndim = 2;
    t[1].shape[0] = 1, t[1].shape[1] = 3, t[1].data = IDS;
    strcpy(t[2].name, "logits"), t[2].dtype = VI_DT_FP32, t[2].ndim = 2;
    t[2].shape[0] = 1, t[2].shape[1] = 2, t[2].data = LOGITS;
}

#define GOLDEN_INPUTS_DIGEST "ec4aa817a975a0f79fe401ae845e15509133992ac3e40118bee68a3f3e812b8e"
#define GOLDEN_OUTPUTS_DIGEST "848466fdbeef5d91360cb2571d0256597664f4c1ebf7d6cab0c2afef18326759"

static void test_tensors_digest_by_hand(void **state)
{
    (void)state;
    vi_tensor t[3];
    request_tensors(t);
    bytes b = {0};
    put_str(&b, "verinfer.tensors.v1");
    put_str(&b, "inputs");
    put_le(&b, 2, 4);
    put_str(&b, "input_ids"); /* sorted: "input_ids" < "mask" */
    put_str(&b, "INT64");
    put_le(&b, 2, 4);
    put_le(&b, 1, 8);
    put_le(&b, 3, 8);
    put_le(&b, 24, 8);
    for (int i = 0; i < 3; i++)
        put_le(&b, (uint64_t)IDS[i], 8);
    put_str(&b, "mask");
    put_str(&b, "BOOL");
    put_le(&b, 2, 4);
    put_le(&b, 1, 8);
    put_le(&b, 3, 8);
    put_le(&b, 3, 8);
    put(&b, MASK, 3);
    uint8_t want[32], got[32];
    sha(b.p, b.n, want);
    free(b.p);
    vi_error err;
    assert_int_equal(vi_tensors_digest("inputs", t, 2, got, &err), VI_OK);
    assert_memory_equal(got, want, 32);
    assert_hex(got, 32, GOLDEN_INPUTS_DIGEST);
    /* either order */
    vi_tensor swapped[2] = {t[1], t[0]};
    assert_int_equal(vi_tensors_digest("inputs", swapped, 2, got, &err), VI_OK);
    assert_memory_equal(got, want, 32);
    /* the same tensors as outputs are another commitment */
    assert_int_equal(vi_tensors_digest("outputs", t, 2, got, &err), VI_OK);
    assert_memory_not_equal(got, want, 32);
    assert_int_equal(vi_tensors_digest("outputs", &t[2], 1, got, &err), VI_OK);
    assert_hex(got, 32, GOLDEN_OUTPUTS_DIGEST);
}

static void test_tensors_digest_order_and_sensitivity(void **state)
{
    (void)state;
    vi_tensor t[3], p[3];
    request_tensors(t);
    uint8_t base[32], got[32];
    vi_error err;
    assert_int_equal(vi_tensors_digest("outputs", t, 3, base, &err), VI_OK);
    static const int PERMS[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int k = 0; k < 6; k++) {
        for (int i = 0; i < 3; i++)
            p[i] = t[PERMS[k][i]];
        assert_int_equal(vi_tensors_digest("outputs", p, 3, got, &err), VI_OK);
        assert_memory_equal(got, base, 32);
    }
    /* -0.0 and +0.0 are different bytes, hence different digests */
    float z[2] = {0.0f, 0.0f};
    memcpy(p, t, sizeof p);
    p[2].data = z;
    assert_int_equal(vi_tensors_digest("outputs", p, 3, base, &err), VI_OK);
    z[1] = -0.0f;
    assert_int_equal(vi_tensors_digest("outputs", p, 3, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    /* the same bytes under another shape or datatype */
    int64_t u[3] = {1, 2, 3};
    memcpy(p, t, sizeof p);
    assert_int_equal(vi_tensors_digest("inputs", &p[1], 1, base, &err), VI_OK);
    p[1].ndim = 1, p[1].shape[0] = 3;
    assert_int_equal(vi_tensors_digest("inputs", &p[1], 1, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    memcpy(p, t, sizeof p);
    p[1].dtype = VI_DT_FP64, p[1].data = u;
    assert_int_equal(vi_tensors_digest("inputs", &p[1], 1, got, &err), VI_OK);
    assert_memory_not_equal(got, base, 32);
    /* no tensors at all is a valid (empty) set */
    assert_int_equal(vi_tensors_digest("inputs", NULL, 0, got, &err), VI_OK);
}

static void test_tensors_digest_bad_input(void **state)
{
    (void)state;
    vi_tensor t[3], p[3];
    request_tensors(t);
    uint8_t out[32];
    vi_error err;
    assert_int_equal(vi_tensors_digest("weights", t, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg,
                        "tensor digest role must be \"inputs\" or \"outputs\" (got \"weights\")");
    memcpy(p, t, sizeof p);
    strcpy(p[2].name, "mask");
    assert_int_equal(vi_tensors_digest("outputs", p, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "duplicate outputs tensor name 'mask'");
    memcpy(p, t, sizeof p);
    p[1].name[0] = '\0';
    assert_int_equal(vi_tensors_digest("inputs", p, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "inputs tensor 1 has an empty name");
    memcpy(p, t, sizeof p);
    memset(p[1].name, 'x', sizeof p[1].name);
    assert_int_equal(vi_tensors_digest("inputs", p, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "inputs tensor 1: name is not NUL-terminated");
    memcpy(p, t, sizeof p);
    p[0].dtype = VI_DT_INVALID;
    assert_int_equal(vi_tensors_digest("inputs", p, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "inputs tensor 'mask': invalid datatype 0");
    memcpy(p, t, sizeof p);
    p[2].data = NULL;
    assert_int_equal(vi_tensors_digest("outputs", p, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "outputs tensor 'logits' has no data");
    memcpy(p, t, sizeof p);
    p[2].shape[1] = -1;
    assert_int_equal(vi_tensors_digest("outputs", p, 3, out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "outputs tensor 'logits': dimension 1 is negative (-1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_merkle_small_trees_by_hand),
        cmocka_unit_test(test_merkle_proofs_every_leaf),
        cmocka_unit_test(test_merkle_messages),
        cmocka_unit_test(test_model_digest_by_hand),
        cmocka_unit_test(test_model_digest_order_and_sensitivity),
        cmocka_unit_test(test_model_digest_bad_input),
        cmocka_unit_test(test_model_tensor_proofs),
        cmocka_unit_test(test_model_digest_of_loaded_model),
        cmocka_unit_test(test_tensors_digest_by_hand),
        cmocka_unit_test(test_tensors_digest_order_and_sensitivity),
        cmocka_unit_test(test_tensors_digest_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
