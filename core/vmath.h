/* core/vmath.h — verinfer's own math: the ONLY transcendental functions used
 * in exact paths, on every backend (scalar C, SIMD loops, CUDA kernels).
 *
 * Built only from IEEE-754 operations that are correctly rounded everywhere
 * (+ - * / sqrt fma, comparisons, integer bit manipulation), all in float:
 * no libm, no rint/floor, no CUDA approximate intrinsics, no double. The same
 * source therefore gives the same bits on every machine and in every lane.
 * exp, expm1, tanh, erf, sigmoid, log, sin and cos are faithfully rounded
 * (error < 1 ulp, at most 0.77 ulp) for every float input; sqrt is IEEE sqrt;
 * rsqrt is by definition two roundings (1 / sqrt, at most 1.49 ulp). The algorithms,
 * constants and the measured errors are in docs/math.md; bench/ulp_sweep.c
 * measures all 2^32 inputs; scripts/vmath_coeffs.py derives the polynomial
 * coefficients. Changing any constant or operation here changes model
 * outputs: tests/core/test_vmath.c pins the bits.
 *
 * Branch-free apart from selects, so loops over these functions vectorise.
 * CUDA: compile with -fmad=false and without -ftz=true / --use_fast_math.
 * Names ending in '_' are internal pieces, not for callers. */
#ifndef VI_VMATH_H
#define VI_VMATH_H

#include <stdint.h>
#include <string.h>

#include "vi_hd.h"

/* Correctly rounded fma, sqrt and division: CUDA device code (the device pass of nvcc
 * defines __CUDA_ARCH__) gets the _rn intrinsics, host code the builtins. */
#if defined(__CUDA_ARCH__)
#define VI_FMAF(a, b, c) __fmaf_rn((a), (b), (c))
#define VI_SQRTF(a) __fsqrt_rn(a)
#define VI_DIVF(a, b) __fdiv_rn((a), (b))
#else
#define VI_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#define VI_SQRTF(a) __builtin_sqrtf(a)
#define VI_DIVF(a, b) ((a) / (b))
#endif

/* The bits of a float, and the float with given bits. */
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

/* ==== Shared pieces ==== */

/* c ? a : b through bit masks, so that both a and b are computed
 * unconditionally (a compiler that keeps trapping semantics would otherwise
 * sink one side into a branch and stop vectorising the caller's loop). */
VI_HD float vi_select_(int c, float a, float b)
{
    uint32_t m = 0u - (uint32_t)(c != 0);
    return vi_bits_f32((vi_f32_bits(a) & m) | (vi_f32_bits(b) & ~m));
}

/* 2^k for an integer k in [-126, 127] (other k give garbage, never UB). */
VI_HD float vi_pow2i_(int32_t k)
{
    return vi_bits_f32((uint32_t)(k + 127) << 23);
}

/* The exp kernel, for |x| <= 104.5 or NaN: n = round(x / ln2) and
 *     e^x = 2^n (1 + h + uh + ul)
 * with h = x - n ln2_hi exact (|h| <= 0.3467), uh = RN(h*h)/2 exact and
 * |ul| < 0.0075, the whole accurate to about 2^-30 relative. */
VI_HD void vi_exp_kernel_(float x, int32_t *n, float *h, float *uh, float *ul)
{
    /* n + 1.5*2^23, rounded to an integer by the fma itself (ties to even) */
    float t = VI_FMAF(x, 0x1.715476p+0f, 0x1.8p+23f);
    float nf = t - 0x1.8p+23f;
    /* n from the low bits of t; the mask keeps NaN inputs free of UB */
    *n = (int32_t)((vi_f32_bits(t) - 0x4b400000u + 256u) & 0x1ffu) - 256;
    float hh = VI_FMAF(nf, -0x1.62e43p-1f, x); /* x - n ln2_hi, exact */
    float l = nf * 0x1.05c61p-29f;             /* -n ln2_lo */
    float h2 = hh * hh;
    float h2l = VI_FMAF(hh, hh, -h2);
    float q = VI_FMAF(0x1.6b63bap-13f, hh, 0x1.6d40e8p-10f);
    q = VI_FMAF(q, hh, 0x1.113734p-7f);
    q = VI_FMAF(q, hh, 0x1.5554f2p-5f);
    q = VI_FMAF(q, hh, 0x1.55553cp-3f);
    *h = hh;
    *uh = 0.5f * h2;
    /* h^3 Q(h) + (h^2 - RN(h^2))/2 + l e^h */
    *ul = VI_FMAF(h2 * hh, q, VI_FMAF(0.5f, h2l, VI_FMAF(l, hh + *uh, l)));
}

/* 1 + h + uh + ul = *vh + w with *vh = RN(1 + h + uh) and w the small rest
 * (rounded once, an error of at most 2^-31). */
VI_HD float vi_exp_one_plus_(float h, float uh, float ul, float *vh)
{
    float v1 = 1.0f + h;
    float e1 = (1.0f - v1) + h; /* exact: |h| < 1 */
    float v2 = v1 + uh;
    float e2 = uh - (v2 - v1); /* exact: |uh| < |v1| */
    *vh = v2;
    return e2 + (e1 + ul);
}

/* ==== Functions ==== */

/* e^x. */
VI_HD float vi_expf(float x)
{
    float xc = x < -104.5f ? -104.5f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    int32_t n;
    float h, uh, ul, vh;
    vi_exp_kernel_(xc, &n, &h, &uh, &ul);
    float w = vi_exp_one_plus_(h, uh, ul, &vh);
    int32_t n1 = n / 2;
    float s1 = vi_pow2i_(n1);
    /* one rounding to 24 bits; the scale by 2^(n-n1) is exact unless the
     * result is subnormal (a second rounding) or overflows */
    return VI_FMAF(s1, vh, s1 * w) * vi_pow2i_(n - n1);
}

/* e^x - 1. */
VI_HD float vi_expm1f(float x)
{
    float xc = x < -20.0f ? -20.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    int32_t n;
    float h, uh, ul, vh;
    vi_exp_kernel_(xc, &n, &h, &uh, &ul);
    /* n <= 24: (2^n - 1) + 2^n h + 2^n (uh + ul); 2^n - 1 is exact for
     * n >= -24 and rounds to -1 below (its error 2^n goes to the low part) */
    int32_t na = n < 24 ? n : 24;
    float s = vi_pow2i_(na);
    float c = -(1.0f - s);
    float b = s * h;
    float hi = c + b;
    float lo = (c - hi) + b;
    float cl = n < -24 ? s : 0.0f;
    float b2 = s * uh;
    float hi2 = hi + b2;
    float lo2 = b2 - (hi2 - hi); /* exact: |b2| < |hi| */
    float ya = hi2 + VI_FMAF(s, ul, (lo + lo2) + cl);
    /* n > 24: 2^n (1 + h + uh + ul - 2^-n), as in vi_expf */
    int32_t n1 = n / 2, n2 = n - n1;
    float w = vi_exp_one_plus_(h, uh, ul - vi_pow2i_(-n1) * vi_pow2i_(-n2), &vh);
    float s1 = vi_pow2i_(n1);
    float yb = VI_FMAF(s1, vh, s1 * w) * vi_pow2i_(n2);
    float y = vi_select_(n > 24, yb, ya);
    /* |x| < 2^-25: e^x - 1 rounds to x (this also keeps -0) */
    return vi_select_((vi_f32_bits(x) & 0x7fffffffu) < 0x33000000u, x, y);
}

/* tanh(x). */
VI_HD float vi_tanhf(float x)
{
    uint32_t sign = vi_f32_bits(x) & 0x80000000u;
    float a = vi_bits_f32(vi_f32_bits(x) ^ sign);
    /* |x| < 0.375: x + x^3 P(x^2) */
    float z = a * a;
    float p = VI_FMAF(-0x1.04ea72p-7f, z, 0x1.659316p-6f);
    p = VI_FMAF(p, z, -0x1.ba265cp-5f);
    p = VI_FMAF(p, z, 0x1.111154p-3f);
    p = VI_FMAF(p, z, -0x1.555556p-2f);
    float ys = VI_FMAF(a * z, p, a);
    /* otherwise (1 - E) / (1 + E), E = e^(-2|x|) = eh + el */
    float m2a = -2.0f * a;
    m2a = m2a < -80.0f ? -80.0f : m2a;
    int32_t n;
    float h, uh, ul, vh;
    vi_exp_kernel_(m2a, &n, &h, &uh, &ul);
    float w = vi_exp_one_plus_(h, uh, ul, &vh);
    float ph = vh + w, pl = w - (ph - vh);
    float s = vi_pow2i_(n);
    float eh = s * ph, el = s * pl;
    float nh = 1.0f - eh, nl = ((1.0f - nh) - eh) - el;
    float dh = 1.0f + eh, dl = ((1.0f - dh) + eh) + el;
    float rcp = VI_DIVF(1.0f, dh);
    float q = nh * rcp;
    float rem = VI_FMAF(-q, dh, nh) + VI_FMAF(-q, dl, nl);
    float yl = VI_FMAF(rem, rcp, q);
    float y = vi_select_(a < 0.375f, ys, yl);
    return vi_bits_f32(vi_f32_bits(y) | sign);
}

/* erf(x). */
VI_HD float vi_erff(float x)
{
    uint32_t sign = vi_f32_bits(x) & 0x80000000u;
    float a = vi_bits_f32(vi_f32_bits(x) ^ sign);
    /* |x| < 0.5: x + x H(x^2) */
    float z = a * a;
    float hp = VI_FMAF(-0x1.56f4bp-12f, z, 0x1.42526p-8f);
    hp = VI_FMAF(hp, z, -0x1.b717ap-6f);
    hp = VI_FMAF(hp, z, 0x1.ce28e6p-4f);
    hp = VI_FMAF(hp, z, -0x1.81273ap-2f);
    hp = VI_FMAF(hp, z, 0x1.06eba8p-3f);
    float ya = VI_FMAF(a, hp, a);
    /* 0.5 <= |x| < 1: E0 + d C(d), d = |x| - 0.75, E0 = erf(0.75) = hi + lo */
    float d = a - 0.75f;
    float cp = VI_FMAF(0x1.cf9102p-9f, d, 0x1.33bf52p-6f);
    cp = VI_FMAF(cp, d, -0x1.ba5c16p-6f);
    cp = VI_FMAF(cp, d, -0x1.b4c86ap-5f);
    cp = VI_FMAF(cp, d, 0x1.349d4cp-3f);
    cp = VI_FMAF(cp, d, 0x1.b6f448p-6f);
    cp = VI_FMAF(cp, d, -0x1.edc566p-2f);
    float th = d * 0x1.492e42p-1f;
    float tl = VI_FMAF(d, 0x1.492e42p-1f, -th); /* d c0 = th + tl exactly */
    float yc1 = 0x1.6c1c98p-1f + th;
    float yc2 = th - (yc1 - 0x1.6c1c98p-1f); /* exact: |th| < E0hi */
    float yc = yc1 + (yc2 + VI_FMAF(d * d, cp, tl + -0x1.4c5e34p-26f));
    /* 1 <= |x|: 1 - e^(-x^2 + L(x)), L(x) = log(e^(x^2) erfc(x)) = c0 + e P(e),
     * e = |x| - 2.5, c0 = hi + lo; erf rounds to 1 from 3.92 on */
    float ac = vi_select_(a > 4.0f, 4.0f, a);
    float zh = ac * ac, zl = VI_FMAF(ac, ac, -zh);
    float e = ac - 2.5f;
    float lp = VI_FMAF(0x1.af21dep-20f, e, -0x1.be92f4p-17f);
    lp = VI_FMAF(lp, e, 0x1.44c88p-14f);
    lp = VI_FMAF(lp, e, -0x1.b88edp-12f);
    lp = VI_FMAF(lp, e, 0x1.1bc8aep-9f);
    lp = VI_FMAF(lp, e, -0x1.63cfccp-7f);
    lp = VI_FMAF(lp, e, 0x1.cb9fap-5f);
    lp = VI_FMAF(lp, e, -0x1.69252p-2f);
    float t = e * lp;
    /* the exponent -zh + c0hi + t as ah + al (two exact Fast2Sums) */
    float s1 = -zh + -0x1.8e8b72p+0f;
    float e1 = -0x1.8e8b72p+0f - (s1 + zh);
    float ah = s1 + t;
    float e2 = t - (ah - s1);
    float al = (e1 + e2) + (-0x1.a92c66p-27f - zl);
    int32_t n;
    float h, uh, ul, vh;
    vi_exp_kernel_(ah, &n, &h, &uh, &ul);
    float w = vi_exp_one_plus_(h, uh, ul, &vh);
    float m = VI_FMAF(al, vh, w); /* e^(ah + al) = 2^n (vh + m) */
    float s = vi_pow2i_(n);
    float eh = s * vh;
    float yh = 1.0f - eh;
    float yb = yh + (((1.0f - yh) - eh) - s * m);
    float y = vi_select_(a < 0.5f, ya, vi_select_(a < 1.0f, yc, yb));
    return vi_bits_f32(vi_f32_bits(y) | sign);
}

/* 1 / (1 + e^-x). */
VI_HD float vi_sigmoidf(float x)
{
    float a = vi_bits_f32(vi_f32_bits(x) & 0x7fffffffu);
    float ac = a > 104.5f ? 104.5f : a;
    int32_t n;
    float h, uh, ul, vh;
    vi_exp_kernel_(-ac, &n, &h, &uh, &ul);
    float w = vi_exp_one_plus_(h, uh, ul, &vh);
    float ph = vh + w, pl = w - (ph - vh);
    /* E = e^-|x| = s (ph + pl); below 2^-126 it no longer matters in 1 + E */
    float s = vi_pow2i_(n < -126 ? -126 : n);
    float eh = s * ph, el = s * pl;
    float dh = 1.0f + eh, dl = ((1.0f - dh) + eh) + el;
    /* x >= 0: 1 / (1 + E); x < 0: 2^n (ph + pl) / (1 + E) */
    int neg = x < 0.0f;
    float nh = neg ? ph : 1.0f, nl = neg ? pl : 0.0f;
    float rcp = VI_DIVF(1.0f, dh);
    float q = nh * rcp;
    float rem = VI_FMAF(-q, dh, nh) + VI_FMAF(-q, dl, nl);
    float m = VI_FMAF(rem, rcp, q);
    int32_t n1 = n / 2;
    float yn = (m * vi_pow2i_(n1)) * vi_pow2i_(n - n1);
    return vi_select_(neg, yn, m);
}

/* ==== log ==== */

/* log x for x > 0: x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), and
 *     log x = k ln2 + f - f^2/2 + f^3 P(f)
 * with k ln2 and f - f^2/2 carried as float pairs; one final rounding. */
VI_HD float vi_logf(float x)
{
    /* subnormals: scale by 2^23 (exact) first */
    int sub = x < 0x1p-126f;
    uint32_t ix = vi_f32_bits(vi_select_(sub, x * 0x1p23f, x));
    /* k from the exponent of x / sqrt(1/2); m = x / 2^k by exponent arithmetic */
    uint32_t u = ix + (0x3f800000u - 0x3f3504f3u);
    int32_t k = (int32_t)(u >> 23) - 127 - (sub ? 23 : 0);
    float m = vi_bits_f32(ix - ((u & 0xff800000u) - 0x3f800000u));
    float f = m - 1.0f; /* exact (Sterbenz) */
    float z = f * f;
    float zl = VI_FMAF(f, f, -z);
    float p = VI_FMAF(-0x1.c0028p-5f, f, 0x1.a81a7p-4f);
    p = VI_FMAF(p, f, -0x1.bee7aap-4f);
    p = VI_FMAF(p, f, 0x1.c66da4p-4f);
    p = VI_FMAF(p, f, -0x1.fca9cep-4f);
    p = VI_FMAF(p, f, 0x1.24793p-3f);
    p = VI_FMAF(p, f, -0x1.5564bp-3f);
    p = VI_FMAF(p, f, 0x1.999ab4p-3f);
    p = VI_FMAF(p, f, -0x1.ffffdp-3f);
    p = VI_FMAF(p, f, 0x1.555554p-2f);
    /* f - z/2 = sh + se exactly (Fast2Sum: |z/2| < |f|) */
    float hz = 0.5f * z;
    float sh = f - hz;
    float se = (f - sh) - hz;
    float tail = VI_FMAF(f * z, p, VI_FMAF(-0.5f, zl, se));
    /* k ln2 = kh + kl: kh = RN(k ln2_hi), its error exact by fma */
    float kf = (float)k;
    float kh = kf * 0x1.62e43p-1f;
    float kl = VI_FMAF(kf, 0x1.62e43p-1f, -kh) + kf * -0x1.05c61p-29f;
    /* kh + sh exactly (Fast2Sum: |kh| >= 0.69 > |sh| unless kh = 0) */
    float y1 = kh + sh;
    float y2 = sh - (y1 - kh);
    float y = y1 + (y2 + (tail + kl));
    /* +inf -> +inf; +-0 -> -inf; x < 0 -> NaN; NaN -> NaN */
    y = vi_select_(x == vi_bits_f32(0x7f800000u), x, y);
    y = vi_select_(x == 0.0f, vi_bits_f32(0xff800000u), y);
    y = vi_select_(x < 0.0f, vi_bits_f32(0x7fc00000u), y);
    return vi_select_(x != x, x + x, y);
}

/* ==== sin, cos ==== */

/* The pieces of sin and cos are large: force them inline on the host so that
 * loops over vi_sinf / vi_cosf still vectorise (CUDA's VI_HD already does). */
#if defined(__CUDACC__)
#define VI_HD_BIG_ VI_HD
#else
#define VI_HD_BIG_ VI_HD __attribute__((always_inline))
#endif

/* s + e = a + b exactly (2Sum, any order of magnitudes). */
VI_HD_BIG_ float vi_two_sum_(float a, float b, float *e)
{
    float s = a + b;
    float bb = s - a;
    *e = (a - (s - bb)) + (b - bb);
    return s;
}

/* Cody-Waite reduction of a = |x| < 2^17 (other a: garbage, never UB):
 * a = n pi/2 + rh + rl, n = round(a * 2/pi), |rh + rl| <= pi/4 + 0.0053,
 * pi/2 = C1 + C2 + C3 + C4 (24 + 24 + 24 + 20 bits). Returns n mod 4. */
VI_HD_BIG_ int32_t vi_trig_reduce_cw_(float a, float *rh, float *rl)
{
    float t = VI_FMAF(a, 0x1.45f306p-1f, 0x1.8p+23f);
    float nf = t - 0x1.8p+23f;
    float r1 = VI_FMAF(-nf, 0x1.921fb6p+0f, a); /* exact */
    float p2 = nf * -0x1.777a5cp-25f;
    float q2 = VI_FMAF(nf, -0x1.777a5cp-25f, -p2); /* n C2 = p2 + q2 exactly */
    float p3 = nf * -0x1.ee59dap-50f;
    float q3 = VI_FMAF(nf, -0x1.ee59dap-50f, -p3); /* n C3 = p3 + q3 exactly */
    float e1, e2, e3;
    float s1 = vi_two_sum_(r1, -p2, &e1);
    float s2 = vi_two_sum_(s1, -q2, &e2);
    float s3 = vi_two_sum_(s2, -p3, &e3);
    float lo = ((e1 + e2) + e3) - VI_FMAF(nf, 0x1.98a2ep-77f, q3);
    float h = s3 + lo;
    *rh = h;
    *rl = lo - (h - s3);
    return (int32_t)((vi_f32_bits(t) - 0x4b400000u) & 3u);
}

/* Word i (0..7) of 2/pi in binary: word 0 is zero (the bits of weight 2^0 and
 * above), word i >= 1 holds the fraction bits of weight 2^(1-32i) .. 2^(-32i). */
VI_HD_BIG_ uint32_t vi_two_over_pi_word_(int32_t i)
{
    return ((0u - (uint32_t)(i == 1)) & 0xa2f9836eu) | ((0u - (uint32_t)(i == 2)) & 0x4e441529u) |
           ((0u - (uint32_t)(i == 3)) & 0xfc2757d1u) | ((0u - (uint32_t)(i == 4)) & 0xf534ddc0u) |
           ((0u - (uint32_t)(i == 5)) & 0xdb629599u) | ((0u - (uint32_t)(i == 6)) & 0x3c439041u) |
           ((0u - (uint32_t)(i == 7)) & 0xfe5163abu);
}

/* Payne-Hanek reduction of a = |x| >= 2^-6 (finite; other a: garbage, never UB;
 * used from 2^17 on):
 * a = M 2^s (M the 24-bit significand), y = M 2^s 2/pi mod 4 from a 96-bit
 * window of the bits of 2/pi in integer arithmetic, then rh + rl = (y - n) pi/2
 * with n = round(y). Returns n mod 4. */
VI_HD_BIG_ int32_t vi_trig_reduce_ph_(float a, float *rh, float *rl)
{
    uint32_t ab = vi_f32_bits(a);
    uint32_t mant = (ab & 0x007fffffu) | 0x00800000u;
    int32_t s = (int32_t)((ab >> 23) & 0xffu) - 150;
    s = s < -30 ? -30 : s;
    s = s > 104 ? 104 : s;
    /* window: fraction bits of weight 2^-(s-1) .. 2^-(s+94), from bit g0 = s + 30 on */
    int32_t g0 = s + 30, idx = g0 >> 5;
    uint32_t sh = 32u - (uint32_t)(g0 & 31);
    uint32_t wa = vi_two_over_pi_word_(idx), wb = vi_two_over_pi_word_(idx + 1);
    uint32_t wc = vi_two_over_pi_word_(idx + 2), wd = vi_two_over_pi_word_(idx + 3);
    uint32_t w2 = (uint32_t)((((uint64_t)wa << 32) | wb) >> sh);
    uint32_t w1 = (uint32_t)((((uint64_t)wb << 32) | wc) >> sh);
    uint32_t w0 = (uint32_t)((((uint64_t)wc << 32) | wd) >> sh);
    /* P = M W mod 2^96 = y 2^94 */
    uint64_t a0 = (uint64_t)mant * w0;
    uint64_t a1 = (uint64_t)mant * w1 + (a0 >> 32);
    uint64_t a2 = (uint64_t)mant * w2 + (a1 >> 32);
    uint32_t p2 = (uint32_t)a2, p1 = (uint32_t)a1, p0 = (uint32_t)a0;
    int32_t n = (int32_t)(((p2 >> 30) + ((p2 >> 29) & 1u)) & 3u);
    /* F = (y - n) 2^96 as a signed 96-bit number, |y - n| <= 1/2; its magnitude
     * (one's complement: 2^-96 short for negative values) in 24-bit pieces */
    uint32_t f2 = (p2 << 2) | (p1 >> 30), f1 = (p1 << 2) | (p0 >> 30), f0 = p0 << 2;
    uint32_t neg = 0u - (f2 >> 31);
    f2 ^= neg;
    f1 ^= neg;
    f0 ^= neg;
    float u0 = (float)(int32_t)(f2 >> 8) * 0x1p-24f;
    float u1 = (float)(int32_t)(((f2 & 0xffu) << 16) | (f1 >> 16)) * 0x1p-48f;
    float u2 = (float)(int32_t)(((f1 & 0xffffu) << 8) | (f0 >> 24)) * 0x1p-72f;
    float u3 = (float)(int32_t)(f0 & 0xffffffu) * 0x1p-96f;
    float fh = u0 + u1;
    float fl = (u1 - (fh - u0)) + (u2 + u3); /* Fast2Sum error: u0 >= u1 or u0 = 0 */
    /* (fh + fl) (C1 + C2) */
    float h = fh * 0x1.921fb6p+0f;
    float l = VI_FMAF(fh, 0x1.921fb6p+0f, -h) + VI_FMAF(fh, -0x1.777a5cp-25f, fl * 0x1.921fb6p+0f);
    float hh = h + l;
    float ll = l - (hh - h);
    *rh = vi_bits_f32(vi_f32_bits(hh) ^ (neg & 0x80000000u));
    *rl = vi_bits_f32(vi_f32_bits(ll) ^ (neg & 0x80000000u));
    return n;
}

/* a = |x| = n pi/2 + rh + rl; returns n mod 4 (NaN, inf: NaN in rh). */
VI_HD_BIG_ int32_t vi_trig_reduce_(float a, float *rh, float *rl)
{
    float ch, cl, ph, pl;
    int32_t nc = vi_trig_reduce_cw_(a, &ch, &cl);
    int32_t np = vi_trig_reduce_ph_(a, &ph, &pl);
    int big = a >= 0x1p17f;
    *rh = vi_select_(big, ph, ch);
    *rl = vi_select_(big, pl, cl);
    return big ? np : nc;
}

/* sin(rh + rl) and cos(rh + rl) for |rh + rl| <= 0.791:
 * sin = r + r^3 S(r^2), cos = 1 - r^2/2 + r^4 C(r^2). */
VI_HD_BIG_ void vi_sincos_kernel_(float rh, float rl, float *sn, float *cs)
{
    float z = rh * rh;
    float sp = VI_FMAF(0x1.7b587ap-19f, z, -0x1.a056a2p-13f);
    sp = VI_FMAF(sp, z, 0x1.111172p-7f);
    sp = VI_FMAF(sp, z, -0x1.555556p-3f);
    /* sin: rh + rl (1 - z/2) + rh^3 S */
    *sn = rh + VI_FMAF(rh * z, sp, VI_FMAF(-0.5f * z, rl, rl));
    /* cos: r^2 = z + zl exactly (to the rl^2 term), 1 - z/2 = ch + ce exactly */
    float zl = VI_FMAF(rh, rh, -z) + (2.0f * rh) * rl;
    float cp = VI_FMAF(0x1.99e14ap-16f, z, -0x1.6c0c1ap-10f);
    cp = VI_FMAF(cp, z, 0x1.55554ap-5f);
    float hz = 0.5f * z;
    float ch = 1.0f - hz;
    float ce = (1.0f - ch) - hz;
    *cs = ch + (ce + VI_FMAF(z * z, cp, -0.5f * zl));
}

/* sin(x). */
VI_HD float vi_sinf(float x)
{
    uint32_t sign = vi_f32_bits(x) & 0x80000000u;
    float a = vi_bits_f32(vi_f32_bits(x) ^ sign);
    float rh, rl, sn, cs;
    int32_t n = vi_trig_reduce_(a, &rh, &rl);
    vi_sincos_kernel_(rh, rl, &sn, &cs);
    /* quadrant n: sin, cos, -sin, -cos; then the sign of x */
    float y = vi_select_(n & 1, cs, sn);
    y = vi_bits_f32(vi_f32_bits(y) ^ ((uint32_t)(n & 2) << 30) ^ sign);
    /* inf, NaN -> NaN */
    return vi_select_(a <= 0x1.fffffep+127f, y, x - x);
}

/* cos(x). */
VI_HD float vi_cosf(float x)
{
    float a = vi_bits_f32(vi_f32_bits(x) & 0x7fffffffu);
    float rh, rl, sn, cs;
    int32_t n = vi_trig_reduce_(a, &rh, &rl);
    vi_sincos_kernel_(rh, rl, &sn, &cs);
    /* quadrant n: cos, -sin, -cos, sin */
    float y = vi_select_(n & 1, sn, cs);
    y = vi_bits_f32(vi_f32_bits(y) ^ ((uint32_t)((n + 1) & 2) << 30));
    return vi_select_(a <= 0x1.fffffep+127f, y, x - x);
}

/* Correctly rounded square root (IEEE sqrt). */
VI_HD float vi_sqrtf(float x)
{
    return VI_SQRTF(x);
}

/* 1 / sqrt(x): a correctly rounded sqrt followed by a correctly rounded division. */
VI_HD float vi_rsqrtf(float x)
{
    return VI_DIVF(1.0f, VI_SQRTF(x));
}

#endif
