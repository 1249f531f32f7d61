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

#endif
