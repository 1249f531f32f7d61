/* cpu/elementwise.c — unary (relu, gelu, tanh, sigmoid) and binary (add, mul
 * with a broadcast suffix) kernels, and the scalar vi_cpu_kern table that
 * every SIMD table must match bit for bit. */
#include "ops.h"

static float rowsum_scalar(const float *v, int64_t n)
{
    return vi_rowsum_ref(v, n);
}

static float rowsumsq_scalar(const float *v, int64_t n)
{
    return vi_rowsumsq_ref(v, n);
}

static float rowsumsqdev_scalar(const float *v, int64_t n, float mean)
{
    return vi_rowsumsqdev_ref(v, n, mean);
}

static float rowmax_scalar(const float *v, int64_t n)
{
    return vi_rowmax_ref(v, n);
}

static void softmax_exp_scalar(const float *x, float m, float *y, int64_t n)
{
    vi_softmax_exp_loop(x, m, y, n);
}

static void unary_scalar(vi_op op, int gelu_tanh, const float *x, float *y, int64_t n)
{
    vi_unary_loop(op, gelu_tanh, x, y, n);
}

static void binary_scalar(vi_op op, const float *a, const float *b, int64_t nb, int64_t j0,
                          float *y, int64_t n)
{
    vi_binary_loop(op, a, b, nb, j0, y, n);
}

const vi_cpu_kern vi_cpu_kern_scalar = {
    .rowsum = rowsum_scalar,
    .rowsumsq = rowsumsq_scalar,
    .rowsumsqdev = rowsumsqdev_scalar,
    .rowmax = rowmax_scalar,
    .softmax_exp = softmax_exp_scalar,
    .unary = unary_scalar,
    .binary = binary_scalar,
};

void vi_cpu_unary(vi_op op, int gelu_tanh, const float *x, float *y, int64_t i0, int64_t i1,
                  vi_isa isa)
{
    if (i1 > i0)
        vi_cpu_kern_for(isa)->unary(op, gelu_tanh, x + i0, y + i0, i1 - i0);
}

void vi_cpu_binary(vi_op op, const float *a, const float *b, int64_t nb, float *y, int64_t i0,
                   int64_t i1, vi_isa isa)
{
    if (i1 > i0)
        vi_cpu_kern_for(isa)->binary(op, a + i0, b, nb, i0 % nb, y + i0, i1 - i0);
}
