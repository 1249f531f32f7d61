/* cpu/linear.h — linear (x W^T + b) and matmul (A @ B) on the CPU, in the
 * canonical dot-product order of core/order.h: a scalar reference, AVX2 and
 * AVX-512 paths and a threaded driver, all giving the same bits.
 *
 * Every output element is
 *     y = +0; for each K-chunk of VI_DOT_CHUNK: { p = +0; p = fmaf(x, w, p)
 *     over the chunk in increasing k; y = y + p }; y = y + bias (if any)
 * and a NaN result is written as the canonical NaN (VI_CANON_NAN_BITS), so
 * the bits of y[m, n] depend only on row m of x and on the weights: never on
 * M, the position of the row in the batch, the thread count or the ISA. */
#ifndef VI_CPU_LINEAR_H
#define VI_CPU_LINEAR_H

#include <stdint.h>

#include "../core/status.h"
#include "isa.h"
#include "threadpool.h"

/* A weight prepared for repeated use: packed into column panels, plus bias. */
typedef struct vi_cpu_linear vi_cpu_linear;

/* Packs w ([N, K] when out_in is 1, [K, N] when 0) and copies bias ([N] or
 * NULL) into a new prepared weight in *out. Fails with VI_ERR_INVALID when
 * N or K is < 1 or w is NULL, VI_ERR_LIMIT when the packed size overflows,
 * VI_ERR_NOMEM when memory runs out; *out is then NULL. */
vi_status vi_cpu_linear_prepare(const float *w, int64_t N, int64_t K, int out_in, const float *bias,
                                vi_cpu_linear **out, vi_error *err);

/* Frees a prepared weight; accepts NULL. */
void vi_cpu_linear_free(vi_cpu_linear *lw);

/* Output and input width of a prepared weight. */
int64_t vi_cpu_linear_n(const vi_cpu_linear *lw);
int64_t vi_cpu_linear_k(const vi_cpu_linear *lw);

/* y [M, N] = x [M, K] (row-major) times the prepared weight, plus its bias.
 * isa is SCALAR, AVX2 or AVX512 (AUTO or a path this CPU lacks falls back to
 * the best supported one; the bits are the same); pool may be NULL. x and y
 * must not overlap. Uses about 72 KB of stack on each thread that runs tasks. */
void vi_cpu_linear_run(const vi_cpu_linear *lw, const float *x, int64_t M, float *y, vi_isa isa,
                       vi_pool *pool);

/* For each of `batch` items: y [M, N] = a [M, K] @ b [K, N] (all row-major,
 * items contiguous), no bias, same order and isa/pool/overlap rules as
 * linear. K may be 0 (y = +0, a and b unread); nothing is written when
 * batch, M or N is < 1. */
void vi_cpu_matmul_run(const float *a, const float *b, int64_t batch, int64_t M, int64_t K,
                       int64_t N, float *y, vi_isa isa, vi_pool *pool);

/* The plain reference, the specification made executable: y[m, n] =
 * vi_dot_ref over row m of x and column n of W (w laid out as in prepare),
 * plus bias[n] when bias is not NULL, NaN canonicalised. Single-threaded,
 * unpacked, slow; used by the tests. */
void vi_cpu_linear_ref(const float *w, int64_t N, int64_t K, int out_in, const float *bias,
                       const float *x, int64_t M, float *y);

#endif
