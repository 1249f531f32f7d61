/* core/vmath.h — verinfer's own math: the ONLY transcendental functions used
 * in exact paths, on every backend.
 *
 * Built only from IEEE-754 operations that are correctly rounded everywhere
 * (+ - * / sqrt fma, comparisons, integer bit manipulation), so the CPU
 * reference, every SIMD path and the CUDA kernels produce the same bits.
 * No libm, no CUDA intrinsics with approximate results.
 *
 * PLACEHOLDER implementations: to be replaced by accuracy-measured ones
 * (see docs/math.md and bench/ulp_sweep.c). */
#ifndef VI_VMATH_H
#define VI_VMATH_H

#include <stdint.h>
#include <string.h>

#include "vi_hd.h"

#if defined(__CUDACC__)
#define VI_FMAF(a, b, c) __fmaf_rn((a), (b), (c))
#define VI_SQRTF(a) __fsqrt_rn(a)
#else
#define VI_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#define VI_SQRTF(a) __builtin_sqrtf(a)
#endif

VI_HD uint32_t vi_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

VI_HD float vi_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* e^x. */
VI_HD float vi_expf(float x)
{
    if (x != x)
        return x;
    if (x > 88.72283935546875f)
        return vi_bits_f32(0x7f800000u);
    if (x < -103.972084045410f)
        return 0.0f;
    float n = __builtin_rintf(x * 1.44269504088896341f);
    float r = VI_FMAF(n, -0.693145751953125f, x);
    r = VI_FMAF(n, -1.428606765330187045e-06f, r);
    float p = 1.0f / 5040.0f;
    p = VI_FMAF(p, r, 1.0f / 720.0f);
    p = VI_FMAF(p, r, 1.0f / 120.0f);
    p = VI_FMAF(p, r, 1.0f / 24.0f);
    p = VI_FMAF(p, r, 1.0f / 6.0f);
    p = VI_FMAF(p, r, 0.5f);
    p = VI_FMAF(p, r, 1.0f);
    p = VI_FMAF(p, r, 1.0f);
    int32_t ni = (int32_t)n;
    /* scale in two steps so 2^n never overflows or underflows on its own */
    int32_t n1 = ni / 2, n2 = ni - n1;
    p *= vi_bits_f32((uint32_t)(n1 + 127) << 23);
    p *= vi_bits_f32((uint32_t)(n2 + 127) << 23);
    return p;
}

/* tanh(x). */
VI_HD float vi_tanhf(float x)
{
    if (x != x)
        return x;
    float a = x < 0.0f ? -x : x;
    if (a > 9.0f)
        return x < 0.0f ? -1.0f : 1.0f;
    float e = vi_expf(2.0f * a);
    float t = 1.0f - 2.0f / (e + 1.0f);
    return x < 0.0f ? -t : t;
}

/* erf(x). */
VI_HD float vi_erff(float x)
{
    if (x != x)
        return x;
    float a = x < 0.0f ? -x : x;
    /* Abramowitz-Stegun 7.1.26 placeholder (1.5e-7 absolute) */
    float t = 1.0f / VI_FMAF(0.3275911f, a, 1.0f);
    float p = 1.061405429f;
    p = VI_FMAF(p, t, -1.453152027f);
    p = VI_FMAF(p, t, 1.421413741f);
    p = VI_FMAF(p, t, -0.284496736f);
    p = VI_FMAF(p, t, 0.254829592f);
    float y = 1.0f - p * t * vi_expf(-a * a);
    return x < 0.0f ? -y : y;
}

/* 1 / (1 + e^-x). */
VI_HD float vi_sigmoidf(float x)
{
    return 1.0f / (1.0f + vi_expf(-x));
}

/* Correctly rounded square root (IEEE sqrt). */
VI_HD float vi_sqrtf(float x)
{
    return VI_SQRTF(x);
}

/* 1 / sqrt(x): a correctly rounded sqrt followed by a correctly rounded division. */
VI_HD float vi_rsqrtf(float x)
{
    return 1.0f / VI_SQRTF(x);
}

#endif
