/* models/llama_attn.c — the canonical causal attention of one query row
 * over a sequence's KV cache, with the fixed KV split of VI_ATTN_SPLIT
 * positions (docs/llm.md, "Attention"): a scalar reference and AVX2 /
 * AVX-512 paths (function-level target attributes, chosen by the caller's
 * vi_isa) that give its bits.
 *
 * The query heads sharing one KV head (grouped-query attention) are handled
 * together so that they share the K and V loads. The SIMD paths vectorise
 * the scores over keys (one independent fma chain per lane) and the value
 * accumulation over the head dimension; heads and blocks of keys only add
 * independent chains, so no operation changes its order. */
#include <immintrin.h>
#include <string.h>

#include "core/order.h"
#include "cpu/ops.h"
#include "llama_impl.h"

#define VI_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define VI_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define VI_INLINE static inline __attribute__((always_inline))
#define VI_GMAX 4 /* query heads per kernel call (more are done in several calls) */

/* Scores of G query heads (q + g * qs) for keys j in [0, n) of one split:
 * s[g * ld + j] = vi_dot_ref(q_g, k_j, hd) * scale. kc is the K block of the
 * split's first key. */
typedef void (*vi_scores_fn)(const float *kc, const float *q, int64_t qs, int G, int32_t hd,
                             int32_t n, float scale, float *s, int64_t ld);

/* Value sums of G heads over keys [0, n) of one split, from +0:
 * acc[g * hd + d] = fmaf(e[g * ld + j], v_j[d], acc[g * hd + d]) for j ascending. */
typedef void (*vi_acc_fn)(const float *e, int64_t ld, int G, const float *v, int32_t hd, int32_t n,
                          float *acc);

/* ==== scalar reference ==== */

static void scores_scalar(const float *kc, const float *q, int64_t qs, int G, int32_t hd, int32_t n,
                          float scale, float *s, int64_t ld)
{
    for (int g = 0; g < G; g++)
        for (int32_t j = 0; j < n; j++) {
            const float *kb = kc + (int64_t)(j / VI_KV_BLOCK) * VI_KV_BLOCK * hd + j % VI_KV_BLOCK;
            s[g * ld + j] = vi_dot_ref(q + g * qs, 1, kb, VI_KV_BLOCK, hd) * scale;
        }
}

static void acc_scalar(const float *e, int64_t ld, int G, const float *v, int32_t hd, int32_t n,
                       float *acc)
{
    for (int g = 0; g < G; g++) {
        float *a = acc + (int64_t)g * hd;
        for (int32_t d = 0; d < hd; d++)
            a[d] = 0.0f;
        for (int32_t j = 0; j < n; j++) {
            const float *vj = v + (int64_t)j * hd;
            for (int32_t d = 0; d < hd; d++)
                a[d] = VI_FMAF(e[g * ld + j], vj[d], a[d]);
        }
    }
}

/* ==== AVX2: 8 keys per vector; 2 blocks (4 vectors) x up to 2 heads ==== */

VI_INLINE VI_TARGET_AVX2 void scores_avx2_g(const float *kc, const float *q, int64_t qs,
                                            const int G, int32_t hd, int32_t n, float scale,
                                            float *s, int64_t ld)
{
    const int64_t bs = (int64_t)VI_KV_BLOCK * hd;
    int32_t nb = (n + VI_KV_BLOCK - 1) / VI_KV_BLOCK;
    for (int32_t b = 0; b < nb; b += 2) {
        int nbk = nb - b >= 2 ? 2 : 1;
        /* a missing second block repeats the first; its lanes are dropped */
        const float *k0 = kc + b * bs, *k1 = k0 + (nbk == 2 ? bs : 0);
        __m256 y[2][4];
        for (int g = 0; g < G; g++)
            for (int t = 0; t < 4; t++)
                y[g][t] = _mm256_setzero_ps();
        for (int32_t c0 = 0; c0 < hd; c0 += VI_DOT_CHUNK) {
            int32_t c1 = c0 + VI_DOT_CHUNK < hd ? c0 + VI_DOT_CHUNK : hd;
            __m256 p[2][4];
            for (int g = 0; g < G; g++)
                for (int t = 0; t < 4; t++)
                    p[g][t] = _mm256_setzero_ps();
            for (int32_t d = c0; d < c1; d++) {
                int64_t o = (int64_t)d * VI_KV_BLOCK;
                __m256 kv[4] = {_mm256_loadu_ps(k0 + o), _mm256_loadu_ps(k0 + o + 8),
                                _mm256_loadu_ps(k1 + o), _mm256_loadu_ps(k1 + o + 8)};
                for (int g = 0; g < G; g++) {
                    __m256 qd = _mm256_set1_ps(q[g * qs + d]);
                    for (int t = 0; t < 4; t++)
                        p[g][t] = _mm256_fmadd_ps(qd, kv[t], p[g][t]);
                }
            }
            for (int g = 0; g < G; g++)
                for (int t = 0; t < 4; t++)
                    y[g][t] = _mm256_add_ps(y[g][t], p[g][t]);
        }
        __m256 sc = _mm256_set1_ps(scale);
        int32_t j0 = b * VI_KV_BLOCK, m = n - j0 < nbk * VI_KV_BLOCK ? n - j0 : nbk * VI_KV_BLOCK;
        for (int g = 0; g < G; g++) {
            float t8[32];
            for (int t = 0; t < 4; t++)
                _mm256_storeu_ps(t8 + 8 * t, _mm256_mul_ps(y[g][t], sc));
            memcpy(s + g * ld + j0, t8, (size_t)m * sizeof(float));
        }
    }
}

VI_TARGET_AVX2 static void scores_avx2(const float *kc, const float *q, int64_t qs, int G,
                                       int32_t hd, int32_t n, float scale, float *s, int64_t ld)
{
    for (int g = 0; g < G; g += 2) {
        if (G - g >= 2)
            scores_avx2_g(kc, q + g * qs, qs, 2, hd, n, scale, s + g * ld, ld);
        else
            scores_avx2_g(kc, q + g * qs, qs, 1, hd, n, scale, s + g * ld, ld);
    }
}

/* dims [d0, d0 + 8 * NV) of up to 2 heads */
VI_INLINE VI_TARGET_AVX2 void acc_avx2_g(const float *e, int64_t ld, const int G, const float *v,
                                         int32_t hd, int32_t n, float *acc, int32_t d0,
                                         const int NV)
{
    __m256 a[2][4];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < NV; t++)
            a[g][t] = _mm256_setzero_ps();
    for (int32_t j = 0; j < n; j++) {
        const float *vj = v + (int64_t)j * hd + d0;
        __m256 vv[4];
        for (int t = 0; t < NV; t++)
            vv[t] = _mm256_loadu_ps(vj + 8 * t);
        for (int g = 0; g < G; g++) {
            __m256 ej = _mm256_set1_ps(e[g * ld + j]);
            for (int t = 0; t < NV; t++)
                a[g][t] = _mm256_fmadd_ps(ej, vv[t], a[g][t]);
        }
    }
    for (int g = 0; g < G; g++)
        for (int t = 0; t < NV; t++)
            _mm256_storeu_ps(acc + (int64_t)g * hd + d0 + 8 * t, a[g][t]);
}

VI_TARGET_AVX2 static void acc_avx2(const float *e, int64_t ld, int G, const float *v, int32_t hd,
                                    int32_t n, float *acc)
{
    for (int g = 0; g < G; g += 2) {
        int two = G - g >= 2;
        const float *eg = e + g * ld;
        float *ag = acc + (int64_t)g * hd;
        int32_t d = 0;
        for (; d + 32 <= hd; d += 32) {
            if (two)
                acc_avx2_g(eg, ld, 2, v, hd, n, ag, d, 4);
            else
                acc_avx2_g(eg, ld, 1, v, hd, n, ag, d, 4);
        }
        for (; d + 8 <= hd; d += 8) {
            if (two)
                acc_avx2_g(eg, ld, 2, v, hd, n, ag, d, 1);
            else
                acc_avx2_g(eg, ld, 1, v, hd, n, ag, d, 1);
        }
        for (int gg = 0; gg < 1 + two; gg++)
            for (int32_t dd = d; dd < hd; dd++) {
                float a = 0.0f;
                for (int32_t j = 0; j < n; j++)
                    a = VI_FMAF(eg[gg * ld + j], v[(int64_t)j * hd + dd], a);
                ag[(int64_t)gg * hd + dd] = a;
            }
    }
}

/* ==== AVX-512: 16 keys per vector; 4 blocks x up to 4 heads ==== */

VI_INLINE VI_TARGET_AVX512 void scores_avx512_g(const float *kc, const float *q, int64_t qs,
                                                const int G, int32_t hd, int32_t n, float scale,
                                                float *s, int64_t ld)
{
    const int64_t bs = (int64_t)VI_KV_BLOCK * hd;
    int32_t nb = (n + VI_KV_BLOCK - 1) / VI_KV_BLOCK;
    for (int32_t b = 0; b < nb; b += 4) {
        int nbk = nb - b >= 4 ? 4 : nb - b;
        /* blocks past the end repeat the last one; their lanes are dropped */
        const float *kp[4];
        for (int t = 0; t < 4; t++)
            kp[t] = kc + (b + (t < nbk ? t : nbk - 1)) * bs;
        __m512 y[VI_GMAX][4];
        for (int g = 0; g < G; g++)
            for (int t = 0; t < 4; t++)
                y[g][t] = _mm512_setzero_ps();
        for (int32_t c0 = 0; c0 < hd; c0 += VI_DOT_CHUNK) {
            int32_t c1 = c0 + VI_DOT_CHUNK < hd ? c0 + VI_DOT_CHUNK : hd;
            __m512 p[VI_GMAX][4];
            for (int g = 0; g < G; g++)
                for (int t = 0; t < 4; t++)
                    p[g][t] = _mm512_setzero_ps();
            for (int32_t d = c0; d < c1; d++) {
                int64_t o = (int64_t)d * VI_KV_BLOCK;
                __m512 kv[4];
                for (int t = 0; t < 4; t++)
                    kv[t] = _mm512_loadu_ps(kp[t] + o);
                for (int g = 0; g < G; g++) {
                    __m512 qd = _mm512_set1_ps(q[g * qs + d]);
                    for (int t = 0; t < 4; t++)
                        p[g][t] = _mm512_fmadd_ps(qd, kv[t], p[g][t]);
                }
            }
            for (int g = 0; g < G; g++)
                for (int t = 0; t < 4; t++)
                    y[g][t] = _mm512_add_ps(y[g][t], p[g][t]);
        }
        __m512 sc = _mm512_set1_ps(scale);
        int32_t j0 = b * VI_KV_BLOCK, m = n - j0 < nbk * VI_KV_BLOCK ? n - j0 : nbk * VI_KV_BLOCK;
        for (int g = 0; g < G; g++) {
            float t16[64];
            for (int t = 0; t < 4; t++)
                _mm512_storeu_ps(t16 + 16 * t, _mm512_mul_ps(y[g][t], sc));
            memcpy(s + g * ld + j0, t16, (size_t)m * sizeof(float));
        }
    }
}

VI_TARGET_AVX512 static void scores_avx512(const float *kc, const float *q, int64_t qs, int G,
                                           int32_t hd, int32_t n, float scale, float *s, int64_t ld)
{
    for (int g = 0; g < G; g += VI_GMAX) {
        const float *qg = q + g * qs;
        float *sg = s + g * ld;
        switch (G - g) {
        case 1:
            scores_avx512_g(kc, qg, qs, 1, hd, n, scale, sg, ld);
            break;
        case 2:
            scores_avx512_g(kc, qg, qs, 2, hd, n, scale, sg, ld);
            break;
        case 3:
            scores_avx512_g(kc, qg, qs, 3, hd, n, scale, sg, ld);
            break;
        default:
            scores_avx512_g(kc, qg, qs, 4, hd, n, scale, sg, ld);
            break;
        }
    }
}

/* dims [d0, d0 + 16 * NV) of G heads; the last vector may be partial (mask) */
VI_INLINE VI_TARGET_AVX512 void acc_avx512_g(const float *e, int64_t ld, const int G,
                                             const float *v, int32_t hd, int32_t n, float *acc,
                                             int32_t d0, const int NV, __mmask16 last)
{
    __m512 a[VI_GMAX][4];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < NV; t++)
            a[g][t] = _mm512_setzero_ps();
    for (int32_t j = 0; j < n; j++) {
        const float *vj = v + (int64_t)j * hd + d0;
        __m512 vv[4];
        for (int t = 0; t < NV; t++)
            vv[t] = _mm512_maskz_loadu_ps(t == NV - 1 ? last : (__mmask16)0xffff, vj + 16 * t);
        for (int g = 0; g < G; g++) {
            __m512 ej = _mm512_set1_ps(e[g * ld + j]);
            for (int t = 0; t < NV; t++)
                a[g][t] = _mm512_fmadd_ps(ej, vv[t], a[g][t]);
        }
    }
    for (int g = 0; g < G; g++)
        for (int t = 0; t < NV; t++)
            _mm512_mask_storeu_ps(acc + (int64_t)g * hd + d0 + 16 * t,
                                  t == NV - 1 ? last : (__mmask16)0xffff, a[g][t]);
}

VI_TARGET_AVX512 static void acc_avx512(const float *e, int64_t ld, int G, const float *v,
                                        int32_t hd, int32_t n, float *acc)
{
    for (int g = 0; g < G; g += VI_GMAX) {
        int gn = G - g < VI_GMAX ? G - g : VI_GMAX;
        const float *eg = e + g * ld;
        float *ag = acc + (int64_t)g * hd;
        for (int32_t d = 0; d < hd; d += 64) {
            /* up to 4 vectors of 16 dims; the last one masked to what is left */
            int32_t left = hd - d < 64 ? hd - d : 64;
            int nv = (left + 15) / 16;
            __mmask16 last =
                (__mmask16)((1u << (left - 16 * (nv - 1))) - 1u); /* 16 lanes: 0xffff */
#define VI_ACC_CASE(GN)                                                                            \
    case GN:                                                                                       \
        if (nv == 4)                                                                               \
            acc_avx512_g(eg, ld, GN, v, hd, n, ag, d, 4, last);                                    \
        else if (nv == 3)                                                                          \
            acc_avx512_g(eg, ld, GN, v, hd, n, ag, d, 3, last);                                    \
        else if (nv == 2)                                                                          \
            acc_avx512_g(eg, ld, GN, v, hd, n, ag, d, 2, last);                                    \
        else                                                                                       \
            acc_avx512_g(eg, ld, GN, v, hd, n, ag, d, 1, last);                                    \
        break;
            switch (gn) {
                VI_ACC_CASE(1)
                VI_ACC_CASE(2)
                VI_ACC_CASE(3)
            default:
                VI_ACC_CASE(4)
            }
#undef VI_ACC_CASE
        }
    }
}

/* ==== G query heads of one KV head ==== */

int64_t vi_attn_scratch_floats(int32_t n, int32_t hd, int32_t G)
{
    int64_t splits = ((int64_t)n + VI_ATTN_SPLIT - 1) / VI_ATTN_SPLIT;
    return (int64_t)G * (VI_ATTN_SPLIT + splits * ((int64_t)hd + 2));
}

void vi_attn_heads(const vi_kv_cache *c, int32_t layer, int32_t kvh, const float *q, int G,
                   int32_t n, float scale, float *out, float *scratch, vi_isa isa)
{
    const vi_cpu_kern *kern = vi_cpu_kern_for(isa);
    vi_scores_fn scores = isa == VI_ISA_AVX512 ? scores_avx512
                          : isa == VI_ISA_AVX2 ? scores_avx2
                                               : scores_scalar;
    vi_acc_fn accf = isa == VI_ISA_AVX512 ? acc_avx512 : isa == VI_ISA_AVX2 ? acc_avx2 : acc_scalar;
    int32_t hd = c->head_dim;
    int32_t n_split = (n + VI_ATTN_SPLIT - 1) / VI_ATTN_SPLIT;
    float *sc = scratch;                         /* [G][VI_ATTN_SPLIT] scores, then e */
    float *ms = sc + (int64_t)G * VI_ATTN_SPLIT; /* [G][n_split] split maxima */
    float *ls = ms + (int64_t)G * n_split;       /* [G][n_split] split sums */
    float *acc = ls + (int64_t)G * n_split;      /* [n_split][G][hd] split accumulators */
    for (int32_t s = 0; s < n_split; s++) {
        int32_t j0 = s * VI_ATTN_SPLIT;
        int32_t len = n - j0 < VI_ATTN_SPLIT ? n - j0 : VI_ATTN_SPLIT;
        scores(vi_kv_kblock(c, layer, kvh, j0), q, hd, G, hd, len, scale, sc, VI_ATTN_SPLIT);
        for (int g = 0; g < G; g++) {
            float *sg = sc + g * VI_ATTN_SPLIT;
            float m = kern->rowmax(sg, len);
            kern->softmax_exp(sg, m, sg, len);
            ms[g * n_split + s] = m;
            ls[g * n_split + s] = kern->rowsum(sg, len);
        }
        accf(sc, VI_ATTN_SPLIT, G, vi_kv_vrow(c, layer, kvh, j0), hd, len,
             acc + (int64_t)s * G * hd);
    }
    for (int g = 0; g < G; g++) {
        const float *mg = ms + g * n_split, *lg = ls + g * n_split;
        float *o = out + (int64_t)g * hd;
        float m = mg[0];
        for (int32_t s = 1; s < n_split; s++)
            m = vi_max_nan(m, mg[s]);
        float L = 0.0f;
        for (int32_t d = 0; d < hd; d++)
            o[d] = 0.0f;
        for (int32_t s = 0; s < n_split; s++) {
            float f = vi_expf(mg[s] - m);
            L = L + lg[s] * f;
            const float *as = acc + ((int64_t)s * G + g) * hd;
            for (int32_t d = 0; d < hd; d++)
                o[d] = o[d] + as[d] * f;
        }
        for (int32_t d = 0; d < hd; d++)
            o[d] = o[d] / L;
    }
}
