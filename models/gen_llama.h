/* models/gen_llama.h — seed-determined tiny llama GGUF models for tests:
 * random weights of the requested ggml types written through the GGUF
 * writer, with a small gpt2-style byte-level BPE vocabulary (3 ChatML
 * control tokens, the 256 byte tokens, the first merges of SmolLM2's list)
 * and SmolLM2's ChatML chat template, so that the tokenizer loads it too.
 *
 * The same options give the same bytes on every machine: block bytes come
 * from splitmix64 streams through integer arithmetic only. */
#ifndef VI_GEN_LLAMA_H
#define VI_GEN_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/gguf.h"
#include "core/status.h"

#define VI_GEN_LLAMA_MAX_MERGES 41 /* vocabulary = 3 + 256 + n_merges tokens */
#define VI_GEN_LLAMA_TIED (-1)     /* head_type: no output.weight (tied to token_embd) */

typedef struct vi_gen_llama_opts {
    uint64_t seed;
    int32_t n_layer, n_embd, n_head, n_head_kv, n_ff, n_ctx;
    int32_t n_merges;  /* 0..VI_GEN_LLAMA_MAX_MERGES */
    int32_t wtype;     /* vi_ggml_type of attn_q/k/output, ffn_gate/down */
    int32_t alt_type;  /* of attn_v and ffn_up (= wtype fuses q/k/v and gate/up) */
    int32_t embd_type; /* of token_embd */
    int32_t head_type; /* of output.weight, or VI_GEN_LLAMA_TIED */
    int32_t norm_type; /* F32, F16 or BF16 */
    float rope_base, rms_eps;
} vi_gen_llama_opts;

/* Defaults: seed 1, 2 layers, n_embd 64, 4 heads, 2 kv heads, n_ff 160,
 * n_ctx 1024, 41 merges (vocab 300), Q4_1 linears, Q8_0 tied embedding,
 * F32 norms, rope base 10000, eps 1e-5. */
void vi_gen_llama_defaults(vi_gen_llama_opts *o);

/* Vocabulary size of the options (3 + 256 + n_merges). */
int32_t vi_gen_llama_n_vocab(const vi_gen_llama_opts *o);

/* Builds the GGUF image in memory (*buf malloc'ed, the caller frees it).
 * VI_ERR_INVALID names an option out of range (the shapes must suit the
 * types' block sizes). */
vi_status vi_gen_llama_to_memory(const vi_gen_llama_opts *o, uint8_t **buf, size_t *size,
                                 vi_error *err);

/* Same, written to path; VI_ERR_IO on a write failure. */
vi_status vi_gen_llama_write(const vi_gen_llama_opts *o, const char *path, vi_error *err);

#endif
