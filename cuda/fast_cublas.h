/* cuda/fast_cublas.h — the CUDA backend's fast mode (cuda/fast_cublas.cu; on
 * the host emulation with cuda/emu/cublas.cpp): every op of the exact backend
 * except linear and matmul, which run on cuBLAS SGEMM with TF32 tensor cores
 * allowed. Not bit-exact: each linear/matmul output is within
 * vi_cuda_fast_linear_tol of the exact one (docs/cuda.md, "Fast mode"), and
 * receipts made with it say mode "fast" and state a model-level tolerance
 * (docs/fast-mode.md). */
#ifndef VI_CUDA_FAST_CUBLAS_H
#define VI_CUDA_FAST_CUBLAS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* inside the C linkage block, as in cuda/cuda_backend.h */
#include "../core/backend.h"
#include "../core/status.h"

/* Creates the fast CUDA backend (name "cuda-fast", detail the GPU name) on
 * device `device`: a primary, as vi_cuda_backend_create, whose weights are
 * prepared in the exact backend's format. Returns NULL and fills err as
 * vi_cuda_backend_create does, or when cuBLAS cannot be initialised ("CUDA
 * device 0: cuBLAS setup failed: ..."). Free with b->destroy(b). */
vi_backend *vi_cuda_backend_create_fast(int device, vi_error *err);

/* Creates a fast worker of a CUDA backend (exact or fast): it shares
 * `shared`'s prepared weights and owns its stream, staging, pool and cuBLAS
 * handle (vi_cuda_backend_create_worker), so an engine view
 * (vi_engine_init_view) runs fast mode without a second upload. NULL with
 * err filled as vi_cuda_backend_create_worker or cuBLAS setup fails. */
vi_backend *vi_cuda_backend_create_fast_worker(vi_backend *shared, vi_error *err);

/* The bound of one fast-mode linear/matmul output against the exact one:
 *     |y_fast - y_exact| <= vi_cuda_fast_linear_tol(K) * sum_k |x_k * w_k|
 * TF32 keeps 10 explicit mantissa bits: converting an input errs by less
 * than 2^-10 relative (truncation; 2^-11 when rounded), so a product by
 * less than 2^-9 + 2^-20; both results accumulate in float32, in some
 * order, each within K * 2^-24 of the real sum (the fast one given twice
 * that room for tensor-core accumulation that truncates). */
static inline double vi_cuda_fast_linear_tol(int64_t K)
{
    return 0x1p-9 + 0x1p-20 + (double)K * 0x1p-22;
}

#ifdef __cplusplus
}
#endif

#endif
