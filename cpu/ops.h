/* cpu/ops.h — the CPU kernels of every op except linear/matmul (cpu/linear.h):
 * elementwise, softmax, layer_norm, rms_norm, argmax, embedding.
 *
 * Each kernel evaluates the per-op formulas of core/order.h on a range of
 * outputs; the backend (cpu/cpu_backend.c) splits a call into such ranges
 * over its thread pool. The ISA-specific pieces (row reductions and the
 * element loops compiled with AVX2 / AVX-512 flags) are reached through a
 * vi_cpu_kern table; every table gives the bits of the scalar one.
 *
 * Kernels do not check their arguments (the backend does) and allow y == x
 * (in place) but no other overlap of inputs and outputs. */
#ifndef VI_CPU_OPS_H
#define VI_CPU_OPS_H

#include <stdint.h>

#include "../core/graph.h"
#include "../core/order.h"
#include "isa.h"

/* ==== per-ISA building blocks ==== */

typedef struct vi_cpu_kern {
    /* the canonical row reductions of core/order.h */
    float (*rowsum)(const float *v, int64_t n);
    float (*rowsumsq)(const float *v, int64_t n);
    float (*rowsumsqdev)(const float *v, int64_t n, float mean);
    float (*rowmax)(const float *v, int64_t n); /* n >= 1 */
    /* y[i] = vi_softmax_exp(x[i], m) for i in [0, n) */
    void (*softmax_exp)(const float *x, float m, float *y, int64_t n);
    /* y[i] = f(x[i]); op RELU, GELU, TANH or SIGMOID */
    void (*unary)(vi_op op, int gelu_tanh, const float *x, float *y, int64_t n);
    /* y[i] = a[i] (op) b[(j0 + i) % nb], j0 < nb; op ADD or MUL */
    void (*binary)(vi_op op, const float *a, const float *b, int64_t nb, int64_t j0, float *y,
                   int64_t n);
} vi_cpu_kern;

extern const vi_cpu_kern vi_cpu_kern_scalar; /* cpu/elementwise.c */
extern const vi_cpu_kern vi_cpu_kern_avx2;   /* cpu/rowreduce_avx2.c */
extern const vi_cpu_kern vi_cpu_kern_avx512; /* cpu/rowreduce_avx512.c */

/* The table for an ISA (the caller has checked that the CPU supports it;
 * AUTO and unknown values give the scalar table). */
static inline const vi_cpu_kern *vi_cpu_kern_for(vi_isa isa)
{
    switch (isa) {
    case VI_ISA_AVX512:
        return &vi_cpu_kern_avx512;
    case VI_ISA_AVX2:
        return &vi_cpu_kern_avx2;
    default:
        return &vi_cpu_kern_scalar;
    }
}

/* ==== element loops ====
 * Plain C over the order.h formulas, compiled once per ISA file (the
 * compiler may vectorise them; -ffp-contract=off keeps every rounding). */

static inline void vi_unary_loop(vi_op op, int gelu_tanh, const float *x, float *y, int64_t n)
{
    switch (op) {
    case VI_OP_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = vi_relu_elem(x[i]);
        break;
    case VI_OP_GELU:
        if (gelu_tanh)
            for (int64_t i = 0; i < n; i++)
                y[i] = vi_gelu_tanh_elem(x[i]);
        else
            for (int64_t i = 0; i < n; i++)
                y[i] = vi_gelu_erf_elem(x[i]);
        break;
    case VI_OP_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = vi_tanh_elem(x[i]);
        break;
    case VI_OP_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = vi_sigmoid_elem(x[i]);
        break;
    default:
        break;
    }
}

static inline void vi_binary_loop(vi_op op, const float *a, const float *b, int64_t nb, int64_t j0,
                                  float *y, int64_t n)
{
    int64_t i = 0;
    while (i < n) {
        /* one stretch of b without wrapping: b[j0 .. j0 + len) */
        int64_t len = nb - j0 < n - i ? nb - j0 : n - i;
        const float *bj = b + j0;
        if (op == VI_OP_ADD)
            for (int64_t k = 0; k < len; k++)
                y[i + k] = vi_add_elem(a[i + k], bj[k]);
        else
            for (int64_t k = 0; k < len; k++)
                y[i + k] = vi_mul_elem(a[i + k], bj[k]);
        i += len;
        j0 = 0;
    }
}

static inline void vi_softmax_exp_loop(const float *x, float m, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = vi_softmax_exp(x[i], m);
}

/* ==== kernels (scalar C driving a vi_cpu_kern table) ==== */

/* y[i] = f(x[i]) for i in [i0, i1). */
void vi_cpu_unary(vi_op op, int gelu_tanh, const float *x, float *y, int64_t i0, int64_t i1,
                  vi_isa isa);

/* y[i] = a[i] (op) b[i % nb] for i in [i0, i1). */
void vi_cpu_binary(vi_op op, const float *a, const float *b, int64_t nb, float *y, int64_t i0,
                   int64_t i1, vi_isa isa);

/* Softmax of rows [r0, r1) of x [rows, D] (D >= 1) into y. */
void vi_cpu_softmax(const float *x, int64_t D, float *y, int64_t r0, int64_t r1, vi_isa isa);

/* layer_norm of rows [r0, r1) of x [rows, D] (D >= 1); beta may be NULL. */
void vi_cpu_layer_norm(const float *x, int64_t D, const float *gamma, const float *beta, float eps,
                       float *y, int64_t r0, int64_t r1, vi_isa isa);

/* rms_norm of rows [r0, r1) of x [rows, D] (D >= 1). */
void vi_cpu_rms_norm(const float *x, int64_t D, const float *gamma, float eps, float *y, int64_t r0,
                     int64_t r1, vi_isa isa);

/* y[r] = the first index of the maximum of row r of x [rows, D] (D >= 1),
 * a NaN counting as the maximum, for r in [r0, r1). */
void vi_cpu_argmax(const float *x, int64_t D, int64_t *y, int64_t r0, int64_t r1, vi_isa isa);

/* y[i, :] = table[ids[i], :] (bit copy) for i in [i0, i1); ids in [0, V). */
void vi_cpu_embedding(const int64_t *ids, const float *table, int64_t D, float *y, int64_t i0,
                      int64_t i1);

#endif
