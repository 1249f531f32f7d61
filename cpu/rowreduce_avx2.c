/* cpu/rowreduce_avx2.c — the vi_cpu_kern table for AVX2: the canonical row
 * reductions with two 8-lane registers (lanes 0-7 and 8-15 of order.h; the
 * tail through masked loads and blends, then the order.h combining tree), and
 * the element loops compiled with AVX2 + FMA flags. Bits equal the scalar
 * table. */
#include <immintrin.h>

#include "ops.h"

/* Lane masks for the last rem (1..15) elements: lo covers lanes 0-7, hi 8-15. */
static inline void tail_masks(int64_t rem, __m256i *lo, __m256i *hi)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *lo = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), idx);
    *hi = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem - 8), idx);
}

static inline float finish_sum(__m256 lo, __m256 hi)
{
    float l[VI_REDUCE_LANES];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(l + 8, hi);
    return vi_lanes_sum(l);
}

static float rowsum_avx2(const float *v, int64_t n)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(v + i));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(v + i + 8));
    }
    if (i < n) {
        __m256i ml, mh;
        tail_masks(n - i, &ml, &mh);
        __m256 xl = _mm256_maskload_ps(v + i, ml), xh = _mm256_maskload_ps(v + i + 8, mh);
        lo = _mm256_blendv_ps(lo, _mm256_add_ps(lo, xl), _mm256_castsi256_ps(ml));
        hi = _mm256_blendv_ps(hi, _mm256_add_ps(hi, xh), _mm256_castsi256_ps(mh));
    }
    return finish_sum(lo, hi);
}

static float rowsumsq_avx2(const float *v, int64_t n)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 xl = _mm256_loadu_ps(v + i), xh = _mm256_loadu_ps(v + i + 8);
        lo = _mm256_fmadd_ps(xl, xl, lo);
        hi = _mm256_fmadd_ps(xh, xh, hi);
    }
    if (i < n) {
        __m256i ml, mh;
        tail_masks(n - i, &ml, &mh);
        __m256 xl = _mm256_maskload_ps(v + i, ml), xh = _mm256_maskload_ps(v + i + 8, mh);
        lo = _mm256_blendv_ps(lo, _mm256_fmadd_ps(xl, xl, lo), _mm256_castsi256_ps(ml));
        hi = _mm256_blendv_ps(hi, _mm256_fmadd_ps(xh, xh, hi), _mm256_castsi256_ps(mh));
    }
    return finish_sum(lo, hi);
}

static float rowsumsqdev_avx2(const float *v, int64_t n, float mean)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    __m256 m = _mm256_set1_ps(mean);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 dl = _mm256_sub_ps(_mm256_loadu_ps(v + i), m);
        __m256 dh = _mm256_sub_ps(_mm256_loadu_ps(v + i + 8), m);
        lo = _mm256_fmadd_ps(dl, dl, lo);
        hi = _mm256_fmadd_ps(dh, dh, hi);
    }
    if (i < n) {
        __m256i ml, mh;
        tail_masks(n - i, &ml, &mh);
        __m256 dl = _mm256_sub_ps(_mm256_maskload_ps(v + i, ml), m);
        __m256 dh = _mm256_sub_ps(_mm256_maskload_ps(v + i + 8, mh), m);
        lo = _mm256_blendv_ps(lo, _mm256_fmadd_ps(dl, dl, lo), _mm256_castsi256_ps(ml));
        hi = _mm256_blendv_ps(hi, _mm256_fmadd_ps(dh, dh, hi), _mm256_castsi256_ps(mh));
    }
    return finish_sum(lo, hi);
}

/* vi_max_nan(s, x) in the lanes of mask k: x replaces s iff s is not NaN and
 * (x is NaN or x > s); !(x <= s) unordered-true covers both cases. */
static inline __m256 max_nan(__m256 s, __m256 x, __m256 k)
{
    __m256 take = _mm256_and_ps(_mm256_cmp_ps(s, s, _CMP_ORD_Q), _mm256_cmp_ps(x, s, _CMP_NLE_UQ));
    return _mm256_blendv_ps(s, x, _mm256_and_ps(take, k));
}

static float rowmax_avx2(const float *v, int64_t n)
{
    __m256 lo = _mm256_set1_ps(-__builtin_inff()), hi = lo;
    const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = max_nan(lo, _mm256_loadu_ps(v + i), all);
        hi = max_nan(hi, _mm256_loadu_ps(v + i + 8), all);
    }
    if (i < n) {
        __m256i ml, mh;
        tail_masks(n - i, &ml, &mh);
        lo = max_nan(lo, _mm256_maskload_ps(v + i, ml), _mm256_castsi256_ps(ml));
        hi = max_nan(hi, _mm256_maskload_ps(v + i + 8, mh), _mm256_castsi256_ps(mh));
    }
    float l[VI_REDUCE_LANES];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(l + 8, hi);
    return vi_lanes_max(l);
}

static void softmax_exp_avx2(const float *x, float m, float *y, int64_t n)
{
    vi_softmax_exp_loop(x, m, y, n);
}

static void unary_avx2(vi_op op, int gelu_tanh, const float *x, float *y, int64_t n)
{
    vi_unary_loop(op, gelu_tanh, x, y, n);
}

static void binary_avx2(vi_op op, const float *a, const float *b, int64_t nb, int64_t j0, float *y,
                        int64_t n)
{
    vi_binary_loop(op, a, b, nb, j0, y, n);
}

const vi_cpu_kern vi_cpu_kern_avx2 = {
    .rowsum = rowsum_avx2,
    .rowsumsq = rowsumsq_avx2,
    .rowsumsqdev = rowsumsqdev_avx2,
    .rowmax = rowmax_avx2,
    .softmax_exp = softmax_exp_avx2,
    .unary = unary_avx2,
    .binary = binary_avx2,
};
