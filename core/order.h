/* core/order.h — THE canonical order of floating-point operations (order v1).
 *
 * This header decides the bits. Every backend (the scalar CPU reference, the
 * AVX2 and AVX-512 paths, the CUDA kernels) must reproduce exactly the
 * operation sequences written here; they may only differ in how the work is
 * split across threads, lanes and blocks. docs/determinism.md describes the
 * same sequences in prose for independent verifiers.
 *
 * Dot products (linear, matmul), for one output element:
 *     y = +0
 *     for each chunk c = [c*VI_DOT_CHUNK, min(K, (c+1)*VI_DOT_CHUNK)) in order:
 *         p = +0
 *         for k in the chunk, in increasing order: p = fmaf(x[k], w[k], p)
 *         y = y + p
 *     if there is a bias: y = y + bias
 *
 * Row reductions (softmax sum, norm statistics), over a row v[0..n):
 *     16 lanes s[0..15] = identity; element i goes to lane i % 16, in
 *     increasing i: s[l] = s[l] (op) v[i]; then the fixed tree
 *         s[l] = s[l] (op) s[l+8] for l < 8; s[l] = s[l] (op) s[l+4] for l < 4;
 *         s[l] = s[l] (op) s[l+2] for l < 2; result = s[0] (op) s[1]. */
#ifndef VI_ORDER_H
#define VI_ORDER_H

#include <stdint.h>

#include "vi_hd.h"
#include "vmath.h"

#define VI_ORDER_VERSION 1
#define VI_DOT_CHUNK 128   /* K-chunk length of the canonical dot product */
#define VI_REDUCE_LANES 16 /* lanes of the canonical row reduction */

/* Canonical dot product of x[k] (stride xs) and w[k] (stride ws), k in [0, K). */
VI_HD float vi_dot_ref(const float *x, int64_t xs, const float *w, int64_t ws, int64_t K)
{
    float y = 0.0f;
    for (int64_t c0 = 0; c0 < K; c0 += VI_DOT_CHUNK) {
        int64_t c1 = c0 + VI_DOT_CHUNK < K ? c0 + VI_DOT_CHUNK : K;
        float p = 0.0f;
        for (int64_t k = c0; k < c1; k++)
            p = VI_FMAF(x[k * xs], w[k * ws], p);
        y = y + p;
    }
    return y;
}

/* The fixed combining tree over 16 lane sums (addition). */
VI_HD float vi_lanes_sum(float s[VI_REDUCE_LANES])
{
    for (int l = 0; l < 8; l++)
        s[l] = s[l] + s[l + 8];
    for (int l = 0; l < 4; l++)
        s[l] = s[l] + s[l + 4];
    for (int l = 0; l < 2; l++)
        s[l] = s[l] + s[l + 2];
    return s[0] + s[1];
}

/* max used by reductions: NaN wins (propagates), otherwise the larger value;
 * on equal values (including -0 and +0) the left operand is kept. */
VI_HD float vi_max_nan(float a, float b)
{
    if (a != a)
        return a;
    if (b != b)
        return b;
    return b > a ? b : a;
}

/* The fixed combining tree over 16 lane maxima. */
VI_HD float vi_lanes_max(float s[VI_REDUCE_LANES])
{
    for (int l = 0; l < 8; l++)
        s[l] = vi_max_nan(s[l], s[l + 8]);
    for (int l = 0; l < 4; l++)
        s[l] = vi_max_nan(s[l], s[l + 4]);
    for (int l = 0; l < 2; l++)
        s[l] = vi_max_nan(s[l], s[l + 2]);
    return vi_max_nan(s[0], s[1]);
}

/* Canonical sum of v[0..n): lane l accumulates s[l] = s[l] + v[i] for i % 16 == l. */
VI_HD float vi_rowsum_ref(const float *v, int64_t n)
{
    float s[VI_REDUCE_LANES];
    for (int l = 0; l < VI_REDUCE_LANES; l++)
        s[l] = 0.0f;
    for (int64_t i = 0; i < n; i++)
        s[i % VI_REDUCE_LANES] = s[i % VI_REDUCE_LANES] + v[i];
    return vi_lanes_sum(s);
}

/* Canonical sum of squares: s[l] = fmaf(v[i], v[i], s[l]). */
VI_HD float vi_rowsumsq_ref(const float *v, int64_t n)
{
    float s[VI_REDUCE_LANES];
    for (int l = 0; l < VI_REDUCE_LANES; l++)
        s[l] = 0.0f;
    for (int64_t i = 0; i < n; i++)
        s[i % VI_REDUCE_LANES] = VI_FMAF(v[i], v[i], s[i % VI_REDUCE_LANES]);
    return vi_lanes_sum(s);
}

/* Canonical sum of squared deviations: d = v[i] - mean; s[l] = fmaf(d, d, s[l]). */
VI_HD float vi_rowsumsqdev_ref(const float *v, int64_t n, float mean)
{
    float s[VI_REDUCE_LANES];
    for (int l = 0; l < VI_REDUCE_LANES; l++)
        s[l] = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float d = v[i] - mean;
        s[i % VI_REDUCE_LANES] = VI_FMAF(d, d, s[i % VI_REDUCE_LANES]);
    }
    return vi_lanes_sum(s);
}

/* Canonical max of v[0..n) (n >= 1): lanes start at -inf, then vi_max_nan. */
VI_HD float vi_rowmax_ref(const float *v, int64_t n)
{
    float s[VI_REDUCE_LANES];
    for (int l = 0; l < VI_REDUCE_LANES; l++)
        s[l] = -__builtin_inff();
    for (int64_t i = 0; i < n; i++)
        s[i % VI_REDUCE_LANES] = vi_max_nan(s[i % VI_REDUCE_LANES], v[i]);
    return vi_lanes_max(s);
}

/* ======================================================================
 * Per-op formulas (op v1)
 *
 * The exact element-wise arithmetic of every op other than linear/matmul.
 * Each backend evaluates these functions (or the identical operation
 * sequence) per element; row statistics come from the row reductions above.
 * Every float operation is written out in evaluation order: no fma unless
 * written, no reassociation. docs/ops.md states the same in prose.
 *
 * NaN results: hardware disagrees on which NaN an operation returns (x86
 * propagates an operand's payload or returns 0xffc00000, CUDA returns
 * 0x7fffffff), so every NaN an op writes is replaced by the one canonical
 * quiet NaN VI_CANON_NAN_BITS. Only the final value is canonicalised; NaNs
 * inside a computation only need to stay NaNs, which IEEE guarantees.
 * ====================================================================== */

#define VI_CANON_NAN_BITS 0x7fc00000u

/* y, or the canonical quiet NaN if y is any NaN. */
VI_HD float vi_canon_nan(float y)
{
    return y != y ? vi_bits_f32(VI_CANON_NAN_BITS) : y;
}

/* relu: x for x > 0 (+inf stays +inf); +0 for every other number, including
 * -0 and -inf; the canonical NaN for a NaN. */
VI_HD float vi_relu_elem(float x)
{
    if (x > 0.0f)
        return x;
    return x == x ? 0.0f : vi_bits_f32(VI_CANON_NAN_BITS);
}

#define VI_GELU_RSQRT2 0.70710678118654752440f /* 1/sqrt(2) rounded: 0x3f3504f3 */
#define VI_GELU_C1 0.044715f                   /* 0x3d372713 */
#define VI_GELU_SQRT2PI 0.7978845608028654f    /* sqrt(2/pi) rounded: 0x3f4c422a */

/* gelu, erf form: h = 0.5f * x; u = x * RSQRT2; e = vi_erff(u); t = 1.0f + e;
 * y = h * t (each step rounded to float). gelu(-inf) = NaN (-inf * 0), as in
 * the textbook formula. */
VI_HD float vi_gelu_erf_elem(float x)
{
    float h = 0.5f * x;
    float e = vi_erff(x * VI_GELU_RSQRT2);
    return vi_canon_nan(h * (1.0f + e));
}

/* gelu, tanh form: a = C1 * x; q = x * x; u = fmaf(a, q, x) (one rounding:
 * x + 0.044715 x^3); v = SQRT2PI * u; t = vi_tanhf(v); h = 0.5f * x;
 * y = h * (1.0f + t). gelu(-inf) = NaN, as for the erf form. */
VI_HD float vi_gelu_tanh_elem(float x)
{
    float a = VI_GELU_C1 * x;
    float q = x * x;
    float u = VI_FMAF(a, q, x);
    float t = vi_tanhf(VI_GELU_SQRT2PI * u);
    float h = 0.5f * x;
    return vi_canon_nan(h * (1.0f + t));
}

/* tanh: vi_tanhf(x). */
VI_HD float vi_tanh_elem(float x)
{
    return vi_canon_nan(vi_tanhf(x));
}

/* sigmoid: vi_sigmoidf(x) (core/vmath.h, docs/math.md). */
VI_HD float vi_sigmoid_elem(float x)
{
    return vi_canon_nan(vi_sigmoidf(x));
}

/* add: a + b. */
VI_HD float vi_add_elem(float a, float b)
{
    return vi_canon_nan(a + b);
}

/* mul: a * b. */
VI_HD float vi_mul_elem(float a, float b)
{
    return vi_canon_nan(a * b);
}

/* softmax over a row x[0..D), D >= 1:
 *     m = vi_rowmax_ref(x, D)
 *     e[i] = vi_softmax_exp(x[i], m)          = vi_expf(x[i] - m)
 *     s = vi_rowsum_ref(e, D)
 *     y[i] = vi_softmax_div(e[i], s)          = e[i] / s
 * A row holding a NaN or +inf, or only -inf, gives NaN everywhere. */
VI_HD float vi_softmax_exp(float x, float m)
{
    return vi_expf(x - m);
}

VI_HD float vi_softmax_div(float e, float s)
{
    return vi_canon_nan(e / s);
}

/* layer_norm over a row x[0..D), D >= 1, with gamma (and optional beta):
 *     mean = vi_rowsum_ref(x, D) / (float)D
 *     var  = vi_rowsumsqdev_ref(x, D, mean) / (float)D
 *     r    = vi_rsqrtf(var + eps)            (1.0f / sqrtf(var + eps))
 *     y[i] = ((x[i] - mean) * r) * gamma[i]   then, with beta, + beta[i]
 * (float)D is the int64 -> float conversion, round to nearest even. */
VI_HD float vi_norm_div_len(float sum, int64_t D)
{
    return sum / (float)D;
}

VI_HD float vi_norm_rstd(float var, float eps)
{
    return vi_rsqrtf(var + eps);
}

VI_HD float vi_layer_norm_elem(float x, float mean, float r, float g)
{
    return vi_canon_nan(((x - mean) * r) * g);
}

VI_HD float vi_layer_norm_elem_beta(float x, float mean, float r, float g, float b)
{
    return vi_canon_nan((((x - mean) * r) * g) + b);
}

/* rms_norm over a row x[0..D), D >= 1, with gamma:
 *     ms   = vi_rowsumsq_ref(x, D) / (float)D
 *     r    = vi_rsqrtf(ms + eps)
 *     y[i] = (x[i] * r) * gamma[i] */
VI_HD float vi_rms_norm_elem(float x, float r, float g)
{
    return vi_canon_nan((x * r) * g);
}

/* argmax over a row: the first index of the maximum. Scanning in increasing
 * index order, candidate x replaces the current best iff best is not NaN and
 * (x is NaN or x > best): the first NaN wins, -0 and +0 are equal, ties keep
 * the earlier index. The result does not depend on the scan order used by a
 * backend as long as ties resolve to the smaller index. */
VI_HD int vi_argmax_better(float x, float best)
{
    return best == best && (x != x || x > best);
}

/* ==== end of per-op formulas ==== */

#endif
