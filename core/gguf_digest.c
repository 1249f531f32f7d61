/* core/gguf_digest.c — the Merkle model digest of a GGUF file (head leaf +
 * one leaf per tensor, RFC 6962 tree). */
#include <stdlib.h>

#include "gguf_digest.h"
#include "gguf_priv.h"
#include "merkle.h"

/* leaf = SHA256(0x00 || str(tag) || u32 type || u32 n_dims || u64 ne[d]...
 *               || str(name) || u64 nbytes || data) */
static vi_status tensor_leaf(const vi_gguf_tensor *t, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    vi_sha256 h;
    vi_status st = vi_merkle_leaf_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_GGUF_TENSOR);
    vi_sha256_u32(&h, (uint32_t)t->type);
    vi_sha256_u32(&h, (uint32_t)t->n_dims);
    for (int d = 0; d < t->n_dims; d++)
        vi_sha256_u64(&h, (uint64_t)t->ne[d]);
    vi_sha256_str(&h, t->name.ptr, (size_t)t->name.len);
    vi_sha256_u64(&h, t->nbytes);
    vi_sha256_bytes(&h, t->data, (size_t)t->nbytes);
    return vi_sha256_final(&h, out, err);
}

vi_status vi_gguf_digest(const vi_gguf *g, const uint8_t *head, uint64_t head_len,
                         uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    if (head_len != vi_gguf_data_offset(g))
        return vi_fail(err, VI_ERR_INVALID,
                       "gguf digest: the head has %llu bytes but the data section starts at %llu",
                       (unsigned long long)head_len, (unsigned long long)vi_gguf_data_offset(g));
    int64_t n = vi_gguf_n_tensors(g);
    uint8_t(*leaves)[VI_SHA256_LEN] = malloc(((size_t)n + 1) * VI_SHA256_LEN);
    if (!leaves)
        return vi_fail(err, VI_ERR_NOMEM, "gguf digest: out of memory for %lld leaves",
                       (long long)n + 1);
    vi_sha256 h;
    vi_status st = vi_merkle_leaf_begin(&h, err);
    if (st != VI_OK)
        goto done;
    vi_sha256_cstr(&h, VI_TAG_GGUF_HEAD);
    vi_sha256_u64(&h, head_len);
    vi_sha256_bytes(&h, head, (size_t)head_len);
    if ((st = vi_sha256_final(&h, leaves[0], err)) != VI_OK)
        goto done;
    for (int64_t i = 0; i < n; i++)
        if ((st = tensor_leaf(vi_gguf_tensor_at(g, i), leaves[i + 1], err)) != VI_OK)
            goto done;
    st = vi_merkle_root((const uint8_t(*)[VI_SHA256_LEN])leaves, (uint64_t)n + 1, out, err);
done:
    free(leaves);
    return st;
}

vi_status vi_gguf_digest_file(const vi_gguf *g, const char *path, uint8_t out[VI_SHA256_LEN],
                              vi_error *err)
{
    /* the head is hashed from the mapping the tensors are hashed from: read
     * again from path, it could come from a file replaced since the open */
    if (g->data_offset > g->size)
        return vi_fail(err, VI_ERR_IO,
                       "gguf digest: %s has %llu bytes, fewer than its %llu-byte head", path,
                       (unsigned long long)g->size, (unsigned long long)g->data_offset);
    return vi_gguf_digest(g, g->base, g->data_offset, out, err);
}
