/* models/kv_cache.c — the per-sequence f32 KV cache of the llama forward:
 * allocation, stores, length bookkeeping. The K layout (positions innermost
 * within blocks of VI_KV_BLOCK) is in models/llama_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "llama_impl.h"

#define VI_KV_MAX_CTX (1 << 24) /* (float)pos stays exact up to 2^24 */

vi_status vi_kv_cache_new(vi_kv_cache **out, const vi_llama *m, int32_t n_ctx, vi_error *err)
{
    *out = NULL;
    if (!m)
        return vi_fail(err, VI_ERR_INVALID, "kv cache: model is NULL");
    if (n_ctx < 1 || n_ctx > VI_KV_MAX_CTX)
        return vi_fail(err, VI_ERR_INVALID, "kv cache: n_ctx %d out of range [1, %d]", (int)n_ctx,
                       VI_KV_MAX_CTX);
    const vi_llama_hparams *hp = &m->hp;
    vi_kv_cache *c = calloc(1, sizeof *c);
    if (!c)
        return vi_fail(err, VI_ERR_NOMEM, "kv cache: out of memory");
    c->n_layer = hp->n_layer;
    c->n_head_kv = hp->n_head_kv;
    c->head_dim = hp->head_dim;
    c->n_ctx = n_ctx;
    c->n_ctx_pad = (n_ctx + VI_KV_BLOCK - 1) / VI_KV_BLOCK * VI_KV_BLOCK;
    /* the loader bounds n_layer, n_head_kv and head_dim by 2^16 each, so
     * per_pos < 2^48 and only the product with the length needs a check */
    uint64_t per_pos = (uint64_t)hp->n_layer * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    uint64_t nk = per_pos * (uint64_t)c->n_ctx_pad, nv = per_pos * (uint64_t)n_ctx;
    if (per_pos != 0 && (nk / per_pos != (uint64_t)c->n_ctx_pad || nk > SIZE_MAX / sizeof(float))) {
        free(c);
        return vi_fail(err, VI_ERR_NOMEM, "kv cache: %d positions of %llu floats do not fit",
                       (int)n_ctx, (unsigned long long)per_pos);
    }
    /* calloc: untouched pages stay unmapped until a position is stored, and
     * the SIMD score loop may read (and discard) initialised values past the
     * length within the last K block */
    c->k = calloc(nk ? (size_t)nk : 1, sizeof(float));
    c->v = calloc(nv ? (size_t)nv : 1, sizeof(float));
    if (!c->k || !c->v) {
        vi_kv_cache_free(c);
        return vi_fail(err, VI_ERR_NOMEM, "kv cache: out of memory for %d positions (%llu MiB)",
                       (int)n_ctx, (unsigned long long)((nk + nv) * sizeof(float) >> 20));
    }
    *out = c;
    return VI_OK;
}

void vi_kv_cache_free(vi_kv_cache *c)
{
    if (!c)
        return;
    free(c->k);
    free(c->v);
    free(c);
}

int32_t vi_kv_cache_len(const vi_kv_cache *c)
{
    return c->len;
}

int32_t vi_kv_cache_n_ctx(const vi_kv_cache *c)
{
    return c->n_ctx;
}

void vi_kv_cache_truncate(vi_kv_cache *c, int32_t len)
{
    if (len < 0)
        len = 0;
    if (len < c->len)
        c->len = len;
}

void vi_kv_store(vi_kv_cache *c, int32_t layer, int32_t p, const float *k, const float *v)
{
    int32_t hd = c->head_dim, lane = p % VI_KV_BLOCK;
    for (int32_t h = 0; h < c->n_head_kv; h++) {
        float *kb = vi_kv_kblock(c, layer, h, p);
        const float *kh = k + (int64_t)h * hd;
        for (int32_t d = 0; d < hd; d++)
            kb[(int64_t)d * VI_KV_BLOCK + lane] = kh[d];
        memcpy(vi_kv_vrow(c, layer, h, p), v + (int64_t)h * hd, (size_t)hd * sizeof(float));
    }
}
