/* cpu/rowreduce_avx512.c — the vi_cpu_kern table for AVX-512: the canonical
 * row reductions with one 16-lane register (lane l = elements i % 16 == l,
 * the tail through a mask, then the order.h combining tree), and the element
 * loops compiled with AVX-512 flags. Bits equal the scalar table. */
#include <immintrin.h>

#include "ops.h"

static inline __mmask16 tail_mask(int64_t rem)
{
    return (__mmask16)((1u << rem) - 1u);
}

static float rowsum_avx512(const float *v, int64_t n)
{
    __m512 s = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        s = _mm512_add_ps(s, _mm512_loadu_ps(v + i));
    if (i < n) {
        __mmask16 k = tail_mask(n - i);
        s = _mm512_mask_add_ps(s, k, s, _mm512_maskz_loadu_ps(k, v + i));
    }
    float l[VI_REDUCE_LANES];
    _mm512_storeu_ps(l, s);
    return vi_lanes_sum(l);
}

static float rowsumsq_avx512(const float *v, int64_t n)
{
    __m512 s = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(v + i);
        s = _mm512_fmadd_ps(x, x, s);
    }
    if (i < n) {
        __mmask16 k = tail_mask(n - i);
        __m512 x = _mm512_maskz_loadu_ps(k, v + i);
        s = _mm512_mask3_fmadd_ps(x, x, s, k);
    }
    float l[VI_REDUCE_LANES];
    _mm512_storeu_ps(l, s);
    return vi_lanes_sum(l);
}

static float rowsumsqdev_avx512(const float *v, int64_t n, float mean)
{
    __m512 s = _mm512_setzero_ps();
    __m512 m = _mm512_set1_ps(mean);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(v + i), m);
        s = _mm512_fmadd_ps(d, d, s);
    }
    if (i < n) {
        __mmask16 k = tail_mask(n - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, v + i), m);
        s = _mm512_mask3_fmadd_ps(d, d, s, k);
    }
    float l[VI_REDUCE_LANES];
    _mm512_storeu_ps(l, s);
    return vi_lanes_sum(l);
}

/* vi_max_nan(s, x) in the lanes of k: x replaces s iff s is not NaN and
 * (x is NaN or x > s); !(x <= s) unordered-true covers both cases. */
static inline __m512 max_nan(__m512 s, __m512 x, __mmask16 k)
{
    __mmask16 ord = _mm512_cmp_ps_mask(s, s, _CMP_ORD_Q);
    __mmask16 take = _mm512_mask_cmp_ps_mask(ord & k, x, s, _CMP_NLE_UQ);
    return _mm512_mask_mov_ps(s, take, x);
}

static float rowmax_avx512(const float *v, int64_t n)
{
    __m512 s = _mm512_set1_ps(-__builtin_inff());
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        s = max_nan(s, _mm512_loadu_ps(v + i), (__mmask16)0xffffu);
    if (i < n) {
        __mmask16 k = tail_mask(n - i);
        s = max_nan(s, _mm512_maskz_loadu_ps(k, v + i), k);
    }
    float l[VI_REDUCE_LANES];
    _mm512_storeu_ps(l, s);
    return vi_lanes_max(l);
}

static void softmax_exp_avx512(const float *x, float m, float *y, int64_t n)
{
    vi_softmax_exp_loop(x, m, y, n);
}

static void unary_avx512(vi_op op, int gelu_tanh, const float *x, float *y, int64_t n)
{
    vi_unary_loop(op, gelu_tanh, x, y, n);
}

static void binary_avx512(vi_op op, const float *a, const float *b, int64_t nb, int64_t j0,
                          float *y, int64_t n)
{
    vi_binary_loop(op, a, b, nb, j0, y, n);
}

const vi_cpu_kern vi_cpu_kern_avx512 = {
    .rowsum = rowsum_avx512,
    .rowsumsq = rowsumsq_avx512,
    .rowsumsqdev = rowsumsqdev_avx512,
    .rowmax = rowmax_avx512,
    .softmax_exp = softmax_exp_avx512,
    .unary = unary_avx512,
    .binary = binary_avx512,
};
