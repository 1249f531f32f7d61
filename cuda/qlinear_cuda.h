/* cuda/qlinear_cuda.h — C interface to the quantised linear of the CUDA
 * backend (cuda/qlinear.cu): a weight matrix in one of the GGUF formats of
 * core/quant.h, uploaded once (in GGUF layout) into a CUDA backend's weight
 * pool, and y[m][n] = vi_qdot_ref(type, row n, x[m], K) computed on the
 * device, bit for bit (docs/cuda.md, "Quantised linear"). */
#ifndef VI_QLINEAR_CUDA_H
#define VI_QLINEAR_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "../core/backend.h"
#include "../core/gguf.h"
#include "../core/status.h"

/* Which kernel runs a product. AUTO picks by M; the others force one kernel
 * for every M (tests run both on every shape). The choice never changes a bit. */
typedef enum {
    VI_CUDA_QLIN_AUTO = 0,
    VI_CUDA_QLIN_DECODE, /* rows one at a time: lanes over (column, K-chunk) */
    VI_CUDA_QLIN_PREFILL /* the same lanes, each feeding 8 rows per dequantised weight */
} vi_cuda_qlin_kernel;

typedef struct vi_cuda_qlinear vi_cuda_qlinear;

/* Uploads w (N rows of K elements of type t, GGUF layout: ne[0] = K,
 * ne[1] = N) into the weight pool of CUDA backend b (shared with b's
 * workers). Types: F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K. Returns
 * VI_ERR_INVALID naming the bad argument (not a CUDA backend, unsupported
 * type, K not a positive multiple of the block, N < 1, size overflow), or
 * the device error; *out is NULL then. b must outlive the result. */
vi_status vi_cuda_qlinear_prepare(vi_cuda_qlinear **out, vi_backend *b, vi_ggml_type t,
                                  const void *w, int64_t N, int64_t K, vi_error *err);

/* Frees the weight (after b's stream is idle); accepts NULL. */
void vi_cuda_qlinear_free(vi_cuda_qlinear *q);

/* Forces the kernel (a vi_cuda_qlin_kernel value, passed as int so any
 * value can be checked). VI_ERR_INVALID for an unknown value. */
vi_status vi_cuda_qlinear_set_kernel(vi_cuda_qlinear *q, int kernel, vi_error *err);

/* y[m][n] = canonical quantised dot of x[m][0..K) and row n, for m in
 * [0, M): x [M, K] and y [M, N] are device pointers (row-major), enqueued on
 * b's stream. b is the preparing backend or a worker sharing its weights.
 * M == 0 does nothing. VI_ERR_INVALID for another backend, M < 0 or NULL
 * pointers; the launch error otherwise. */
vi_status vi_cuda_qlinear_run(const vi_cuda_qlinear *q, vi_backend *b, const float *x, int64_t M,
                              float *y, vi_error *err);

/* The same product with host x and y: uploads x, runs, downloads y and
 * waits. Device buffers come from b's pool. Errors as vi_cuda_qlinear_run,
 * plus VI_ERR_NOMEM / VI_ERR_IO from the device. */
vi_status vi_cuda_qlinear_run_host(const vi_cuda_qlinear *q, vi_backend *b, const float *x,
                                   int64_t M, float *y, vi_error *err);

#ifdef __cplusplus
}
#endif

#endif
