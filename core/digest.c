/* core/digest.c — the model digest: manifest and tensor leaves, the Merkle
 * tree over them, and inclusion proofs of single tensors. */
#include "digest.h"

#include <stdlib.h>
#include <string.h>

vi_status vi_manifest_leaf_hash(const void *manifest, size_t manifest_len,
                                uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    if (!manifest && manifest_len > 0)
        return vi_fail(err, VI_ERR_INVALID, "manifest has %zu bytes but no data", manifest_len);
    vi_sha256 h;
    vi_status st = vi_merkle_leaf_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_MANIFEST);
    vi_sha256_u64(&h, (uint64_t)manifest_len);
    vi_sha256_bytes(&h, manifest, manifest_len);
    return vi_sha256_final(&h, out, err);
}

/* Checks name, dtype, shape and byte length of one model tensor. */
static vi_status check_tensor(const vi_digest_tensor *t, vi_error *err)
{
    if (!t->name || !t->name[0])
        return vi_fail(err, VI_ERR_INVALID, "model tensor has an empty name");
    vi_dtype dt = vi_dtype_from_safetensors(t->dtype);
    if (dt == VI_DT_INVALID)
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': unknown safetensors dtype '%s'", t->name,
                       t->dtype ? t->dtype : "(null)");
    if (t->ndim < 0 || t->ndim > VI_MAX_DIMS || (t->ndim > 0 && !t->shape))
        return vi_fail(err, VI_ERR_INVALID,
                       "tensor '%s': %d dimensions (expected 0..%d with a shape)", t->name, t->ndim,
                       VI_MAX_DIMS);
    int64_t numel;
    vi_status st = vi_shape_numel(t->ndim, t->shape, &numel, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "tensor '%s'", t->name);
        return st;
    }
    uint64_t size = vi_dtype_size(dt);
    if ((uint64_t)numel > UINT64_MAX / size)
        return vi_fail(err, VI_ERR_LIMIT, "tensor '%s': byte size overflows 64 bits", t->name);
    uint64_t want = (uint64_t)numel * size;
    if (t->nbytes != want) {
        char shape[128];
        vi_shape_str(t->ndim, t->shape, shape, sizeof shape);
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': %llu bytes stored, but %s %s needs %llu",
                       t->name, (unsigned long long)t->nbytes, t->dtype, shape,
                       (unsigned long long)want);
    }
    if (t->nbytes > SIZE_MAX)
        return vi_fail(err, VI_ERR_LIMIT, "tensor '%s' does not fit in memory", t->name);
    if (t->nbytes > 0 && !t->data)
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s' has no data", t->name);
    return VI_OK;
}

vi_status vi_tensor_leaf_hash(const vi_digest_tensor *t, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    vi_status st = check_tensor(t, err);
    if (st != VI_OK)
        return st;
    vi_sha256 h;
    st = vi_merkle_leaf_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_TENSOR);
    vi_sha256_cstr(&h, t->name);
    vi_sha256_cstr(&h, t->dtype);
    vi_sha256_u32(&h, (uint32_t)t->ndim);
    for (int i = 0; i < t->ndim; i++)
        vi_sha256_u64(&h, (uint64_t)t->shape[i]);
    vi_sha256_u64(&h, t->nbytes);
    vi_sha256_bytes(&h, t->data, (size_t)t->nbytes);
    return vi_sha256_final(&h, out, err);
}

vi_status vi_model_digest_from_root(const uint8_t root[VI_SHA256_LEN], uint64_t n_leaves,
                                    uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    vi_sha256 h;
    vi_status st = vi_sha256_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_MODEL);
    vi_sha256_u64(&h, n_leaves);
    vi_sha256_bytes(&h, root, VI_SHA256_LEN);
    return vi_sha256_final(&h, out, err);
}

static int cmp_by_name(const void *a, const void *b)
{
    const vi_digest_tensor *x = *(const vi_digest_tensor *const *)a;
    const vi_digest_tensor *y = *(const vi_digest_tensor *const *)b;
    return strcmp(x->name, y->name); /* compares as unsigned char: bytewise */
}

/* The leaf hashes of a model in tree order: leaves[0] is the manifest, then
 * the tensors sorted by name. On success *leaves_out (1 + n hashes) and, if
 * order_out is given, *order_out (the tensor behind leaf i + 1) are the
 * caller's to free. */
static vi_status build_leaves(const void *manifest, size_t manifest_len,
                              const vi_digest_tensor *tensors, int n,
                              uint8_t (**leaves_out)[VI_SHA256_LEN],
                              const vi_digest_tensor ***order_out, vi_error *err)
{
    uint8_t(*leaves)[VI_SHA256_LEN] = NULL;
    const vi_digest_tensor **order = NULL;
    vi_status st = VI_OK;
    *leaves_out = NULL;
    if (order_out)
        *order_out = NULL;
    if (n < 0 || (n > 0 && !tensors))
        return vi_fail(err, VI_ERR_INVALID, "bad tensor list (n = %d)", n);
    leaves = malloc(((size_t)n + 1) * sizeof *leaves);
    order = malloc(((size_t)n + 1) * sizeof *order);
    if (!leaves || !order) {
        st = vi_fail(err, VI_ERR_NOMEM, "cannot allocate the leaf table of %d tensors", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        order[i] = &tensors[i];
        if (!tensors[i].name || !tensors[i].name[0]) {
            st = vi_fail(err, VI_ERR_INVALID, "model tensor %d has an empty name", i);
            goto done;
        }
    }
    qsort(order, (size_t)n, sizeof *order, cmp_by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0) {
            st = vi_fail(err, VI_ERR_INVALID, "duplicate model tensor name '%s'", order[i]->name);
            goto done;
        }
    st = vi_manifest_leaf_hash(manifest, manifest_len, leaves[0], err);
    for (int i = 0; st == VI_OK && i < n; i++)
        st = vi_tensor_leaf_hash(order[i], leaves[i + 1], err);
done:
    if (st != VI_OK) {
        free(leaves);
        free(order);
        return st;
    }
    *leaves_out = leaves;
    if (order_out)
        *order_out = order;
    else
        free(order);
    return VI_OK;
}

vi_status vi_model_digest(const void *manifest, size_t manifest_len,
                          const vi_digest_tensor *tensors, int n, uint8_t out[VI_SHA256_LEN],
                          vi_error *err)
{
    uint8_t(*leaves)[VI_SHA256_LEN];
    uint8_t root[VI_SHA256_LEN];
    vi_status st = build_leaves(manifest, manifest_len, tensors, n, &leaves, NULL, err);
    if (st != VI_OK)
        return st;
    st = vi_merkle_root((const uint8_t(*)[VI_SHA256_LEN])leaves, (uint64_t)n + 1, root, err);
    if (st == VI_OK)
        st = vi_model_digest_from_root(root, (uint64_t)n + 1, out, err);
    free(leaves);
    return st;
}

vi_status vi_model_tensor_proof(const void *manifest, size_t manifest_len,
                                const vi_digest_tensor *tensors, int n, const char *name,
                                vi_tensor_proof *proof, vi_error *err)
{
    uint8_t(*leaves)[VI_SHA256_LEN];
    const vi_digest_tensor **order;
    memset(proof, 0, sizeof *proof);
    vi_status st = build_leaves(manifest, manifest_len, tensors, n, &leaves, &order, err);
    if (st != VI_OK)
        return st;
    int at = -1;
    for (int i = 0; name && i < n; i++)
        if (strcmp(order[i]->name, name) == 0)
            at = i;
    const uint8_t(*cleaves)[VI_SHA256_LEN] = (const uint8_t(*)[VI_SHA256_LEN])leaves;
    if (at < 0)
        st = vi_fail(err, VI_ERR_NOT_FOUND, "the model has no tensor '%s'", name ? name : "(null)");
    else {
        proof->index = (uint64_t)at + 1;
        proof->n_leaves = (uint64_t)n + 1;
        st = vi_merkle_proof(cleaves, proof->n_leaves, proof->index, proof->path, &proof->path_len,
                             err);
    }
    if (st == VI_OK)
        st = vi_merkle_root(cleaves, proof->n_leaves, proof->root, err);
    free(leaves);
    free(order);
    return st;
}

vi_status vi_model_tensor_verify(const vi_digest_tensor *t, const vi_tensor_proof *proof,
                                 const uint8_t model_digest[VI_SHA256_LEN], vi_error *err)
{
    uint8_t leaf[VI_SHA256_LEN], digest[VI_SHA256_LEN];
    vi_status st = vi_tensor_leaf_hash(t, leaf, err);
    if (st != VI_OK)
        return st;
    if (proof->index == 0)
        return vi_fail(err, VI_ERR_VERIFY, "tensor '%s': leaf 0 is the manifest, not a tensor",
                       t->name);
    st = vi_model_digest_from_root(proof->root, proof->n_leaves, digest, err);
    if (st != VI_OK)
        return st;
    if (memcmp(digest, model_digest, VI_SHA256_LEN) != 0)
        return vi_fail(err, VI_ERR_VERIFY,
                       "tensor '%s': the proof's root and leaf count do not give this model digest",
                       t->name);
    st = vi_merkle_verify(leaf, proof->index, proof->n_leaves,
                          (const uint8_t(*)[VI_SHA256_LEN])proof->path, proof->path_len,
                          proof->root, err);
    if (st != VI_OK)
        vi_error_prefix(err, "tensor '%s'", t->name);
    return st;
}
