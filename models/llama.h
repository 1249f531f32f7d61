/* models/llama.h — the llama architecture (GGUF arch "llama"): weights and
 * hyper-parameters loaded from a GGUF file, per-sequence f32 KV caches and
 * the forward pass in the canonical LLM order of docs/llm.md.
 *
 * Every logit bit depends only on the model bytes, the token, its position
 * and the contents of its own sequence's cache: never on which other rows
 * share a forward call, on prefill versus token-by-token decoding, on the
 * thread count or on the SIMD path. */
#ifndef VI_LLAMA_H
#define VI_LLAMA_H

#include <stdint.h>

#include "core/gguf.h"
#include "core/status.h"
#include "cpu/isa.h"

typedef struct vi_llama_hparams {
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train;
    float rope_base, rms_eps;
} vi_llama_hparams;

/* Weights borrowed from an open vi_gguf (kept open by the caller, or owned
 * when loaded by path); read-only after loading, so one model may serve many
 * vi_llama_ctx at once. */
typedef struct vi_llama vi_llama;

/* Opens, validates and prepares the GGUF file at path (the model owns it);
 * VI_ERR_IO / VI_ERR_INVALID / VI_ERR_UNSUPPORTED with a message naming the
 * file, key or tensor on failure. */
vi_status vi_llama_load(vi_llama **out, const char *gguf_path, vi_error *err);

/* Same from an open GGUF, which must outlive the model; fails as vi_llama_load. */
vi_status vi_llama_from_gguf(vi_llama **out, const vi_gguf *g, vi_error *err);

/* Frees the model (and the GGUF it owns); accepts NULL. */
void vi_llama_free(vi_llama *m);

/* The model's hyper-parameters. */
const vi_llama_hparams *vi_llama_hparams_of(const vi_llama *m);

/* The GGUF the weights come from (for the tokenizer and metadata). */
const vi_gguf *vi_llama_gguf(const vi_llama *m);

/* ==== KV cache: one sequence ==== */

typedef struct vi_kv_cache vi_kv_cache;

/* Creates an empty cache for up to n_ctx positions (1 <= n_ctx <= 1 << 24) of
 * model m; VI_ERR_INVALID for a bad n_ctx, VI_ERR_NOMEM if it does not fit. */
vi_status vi_kv_cache_new(vi_kv_cache **out, const vi_llama *m, int32_t n_ctx, vi_error *err);

/* Frees a cache; accepts NULL. */
void vi_kv_cache_free(vi_kv_cache *c);

/* Number of positions filled. */
int32_t vi_kv_cache_len(const vi_kv_cache *c);

/* The capacity given at creation. */
int32_t vi_kv_cache_n_ctx(const vi_kv_cache *c);

/* Forgets positions >= len (len outside [0, current length] is clamped). */
void vi_kv_cache_truncate(vi_kv_cache *c, int32_t len);

/* ==== Forward ==== */

/* Scratch buffers, a thread pool and the SIMD path: one per worker thread. */
typedef struct vi_llama_ctx vi_llama_ctx;

/* Creates a context for model m with n_threads threads (>= 1) and the given
 * SIMD path (VI_ISA_AUTO picks the best supported); VI_ERR_UNSUPPORTED if the
 * CPU cannot run the path, VI_ERR_INVALID for a bad thread count. */
vi_status vi_llama_ctx_new(vi_llama_ctx **out, const vi_llama *m, int n_threads, vi_isa isa,
                           vi_error *err);

/* Frees a context; accepts NULL. */
void vi_llama_ctx_free(vi_llama_ctx *c);

/* The SIMD path the context runs (never VI_ISA_AUTO). */
vi_isa vi_llama_ctx_isa(const vi_llama_ctx *c);

/* One forward call over rows from one or several sequences. Row r is token
 * tokens[r] at position vi_kv_cache_len(caches[r]) + (number of earlier rows
 * of this call with the same cache); the rows of one sequence must be
 * consecutive. Writes logits[i][n_vocab] for the i-th row (in row order) with
 * want_logits[r] != 0 (want_logits NULL = every row) and appends every row's
 * k/v to its cache. On failure nothing is changed: VI_ERR_INVALID (bad token,
 * NULL cache, a cache of another model, a sequence's rows not consecutive),
 * VI_ERR_LIMIT (a cache would exceed its n_ctx), VI_ERR_NOMEM. */
vi_status vi_llama_forward(vi_llama_ctx *c, vi_kv_cache *const *caches, const int32_t *tokens,
                           int32_t n_rows, const uint8_t *want_logits, float *logits,
                           vi_error *err);

#endif
