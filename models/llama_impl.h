/* models/llama_impl.h — what the llama files share and nothing else uses:
 * the model, layer and KV-cache structs, RoPE and the canonical attention.
 * docs/llm.md states every formula implemented here. */
#ifndef VI_LLAMA_IMPL_H
#define VI_LLAMA_IMPL_H

#include <stdint.h>

#include "core/gguf.h"
#include "cpu/isa.h"
#include "cpu/qlinear.h"
#include "cpu/threadpool.h"
#include "llama.h"

#define VI_ATTN_SPLIT 256 /* KV positions per attention split (a size, never a count) */
#define VI_KV_BLOCK 16    /* positions per block of the K cache layout */

/* One linear: a prepared weight with N outputs over K inputs. */
typedef struct vi_llama_lin {
    vi_qlinear *q;
    int64_t N, K;
} vi_llama_lin;

typedef struct vi_llama_layer {
    float *attn_norm; /* [n_embd], widened to f32, owned */
    float *ffn_norm;  /* [n_embd] */
    /* q, k, v as one linear of N = (n_head + 2 n_head_kv) * head_dim outputs
     * (rows q, then k, then v), or three when their types differ */
    vi_llama_lin qkv, wq, wk, wv;
    int fused_qkv;
    vi_llama_lin wo; /* N = n_embd, K = n_head * head_dim */
    /* gate and up as one linear of 2 n_ff outputs (gate first), or two */
    vi_llama_lin gate_up, wgate, wup;
    int fused_gate_up;
    vi_llama_lin wdown; /* N = n_embd, K = n_ff */
} vi_llama_layer;

struct vi_llama {
    vi_llama_hparams hp;
    vi_gguf *owned; /* the GGUF when loaded by path */
    const vi_gguf *g;
    vi_ggml_type embd_type;
    const uint8_t *embd; /* token_embd rows in their GGUF layout */
    uint64_t embd_row_bytes;
    float *out_norm;   /* [n_embd] */
    vi_llama_lin head; /* output head: output.weight, or token_embd when tied */
    int tied_head;
    vi_llama_layer *layers; /* [n_layer] */
    float *rope_inv;        /* [head_dim / 2] inverse frequencies */
    float attn_scale;       /* 1 / sqrt(head_dim), two roundings */
};

struct vi_kv_cache {
    int32_t n_layer, n_head_kv, head_dim;
    int32_t n_ctx, n_ctx_pad; /* n_ctx rounded up to VI_KV_BLOCK */
    int32_t len;
    int32_t pending; /* rows of the running forward call (0 between calls) */
    /* k: [layer][kv head][n_ctx_pad / 16 blocks][head_dim][16 positions]
     * (positions innermost, so scores vectorise over keys);
     * v: [layer][kv head][n_ctx][head_dim] */
    float *k, *v;
};

/* Start of the K block holding position p, for (layer, kv head). */
static inline float *vi_kv_kblock(const vi_kv_cache *c, int32_t layer, int32_t h, int32_t p)
{
    int64_t base = ((int64_t)layer * c->n_head_kv + h) * c->n_ctx_pad * c->head_dim;
    return c->k + base + (int64_t)(p / VI_KV_BLOCK) * VI_KV_BLOCK * c->head_dim;
}

/* Row of V at position p, for (layer, kv head). */
static inline float *vi_kv_vrow(const vi_kv_cache *c, int32_t layer, int32_t h, int32_t p)
{
    int64_t base = ((int64_t)layer * c->n_head_kv + h) * c->n_ctx * c->head_dim;
    return c->v + base + (int64_t)p * c->head_dim;
}

/* Stores k [n_head_kv * head_dim] and v (same shape) of position p. */
void vi_kv_store(vi_kv_cache *c, int32_t layer, int32_t p, const float *k, const float *v);

/* ==== loading (models/llama_load.c) ==== */

/* Reads hyper-parameters and prepares every weight of g into m (m zeroed by
 * the caller); on failure m holds what was prepared, for vi_llama_release. */
vi_status vi_llama_build(vi_llama *m, const vi_gguf *g, vi_error *err);

/* Frees what vi_llama_build prepared (not m itself, not the GGUF). */
void vi_llama_release(vi_llama *m);

/* ==== RoPE (models/llama_rope.c) ==== */

/* inv[i] = vi_expf(-(vi_logf(base) * ((float)(2i) / (float)hd))), i < hd / 2. */
void vi_rope_inv_freq(float base, int32_t hd, float *inv);

/* c[i], s[i] = cos, sin of (float)pos * inv[i], i < half. */
void vi_rope_cos_sin(const float *inv, int32_t half, int32_t pos, float *c, float *s);

/* Rotates the adjacent pairs (x[2i], x[2i+1]) of each of n_heads heads of
 * hd values in place (GGUF "llama" = NORM mode). */
void vi_rope_apply(float *x, int32_t n_heads, int32_t hd, const float *c, const float *s);

/* ==== attention (models/llama_attn.c) ==== */

/* Floats of scratch one vi_attn_heads call needs for n keys, head_dim hd
 * and G query heads. */
int64_t vi_attn_scratch_floats(int32_t n, int32_t hd, int32_t G);

/* out[g * hd + d] = causal attention of the G query heads q[g * hd + d]
 * (after RoPE) that share kv head kvh, over positions [0, n) of layer
 * `layer` in cache c, in the canonical split order; scratch holds
 * vi_attn_scratch_floats(n, hd, G) floats. */
void vi_attn_heads(const vi_kv_cache *c, int32_t layer, int32_t kvh, const float *q, int G,
                   int32_t n, float scale, float *out, float *scratch, vi_isa isa);

#endif
