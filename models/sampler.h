/* models/sampler.h — picking the next token from a row of logits: greedy,
 * or temperature / top-k / top-p sampling driven by a counter-based random
 * generator, so the token at a position depends only on (logits, parameters,
 * seed, position) — never on threads, batching or earlier calls. Every step
 * (order of candidates, softmax sums, the cuts, the draw) is specified in
 * docs/llm-sampling.md and reproducible bit for bit. */
#ifndef VI_SAMPLER_H
#define VI_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct vi_sampling {
    float temperature; /* 0 = greedy; otherwise finite and > 0 */
    int32_t top_k;     /* 0 = off */
    float top_p;       /* in (0, 1]; 1 = off */
    uint64_t seed;
} vi_sampling;

/* The uniform number in [0, 1) for (seed, position): the top 24 bits of
 * splitmix64's finaliser applied to seed + 0x9e3779b97f4a7c15 * (position + 1)
 * (mod 2^64) — output number position + 1 of splitmix64 seeded with seed —
 * times 2^-24 (exact). Never fails. */
float vi_sample_uniform(uint64_t seed, uint64_t position);

/* Bytes of scratch memory vi_sample needs for n_vocab logits (16 per logit);
 * 0 when n_vocab < 1. */
size_t vi_sample_scratch_bytes(int32_t n_vocab);

/* Picks the token for `position` from logits[n_vocab] (docs/llm-sampling.md):
 * temperature 0 is greedy (first index of the maximum, as the argmax op);
 * otherwise candidates sorted by (logit / T descending, id ascending), NaN and
 * -inf logits excluded, top-k and top-p cuts, a softmax in that order and a
 * draw with vi_sample_uniform(seed, position). scratch holds
 * vi_sample_scratch_bytes(n_vocab) bytes (may be NULL for greedy). Writes
 * *token and returns VI_OK; VI_ERR_INVALID (message naming the parameter and
 * its value) for a NULL pointer, n_vocab < 1, a temperature that is negative,
 * NaN or infinite, top_k < 0, top_p outside (0, 1], or logits that are all
 * NaN or -inf when sampling. */
vi_status vi_sample(const vi_sampling *p, const float *logits, int32_t n_vocab, uint64_t position,
                    void *scratch, int32_t *token, vi_error *err);

#endif
