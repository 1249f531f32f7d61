/* cuda/emu/cublas.h — the cuBLAS subset of the CUDA emulator, what the fast
 * mode (cuda/fast_cublas.cu) calls: handles bound to a stream and a math
 * mode, SGEMM and strided batched SGEMM (column-major, as cuBLAS). In
 * CUBLAS_TF32_TENSOR_OP_MATH the inputs are rounded to TF32 (10 explicit
 * mantissa bits, to nearest, ties away from zero, as cvt.rna.tf32.f32) and
 * products summed in groups of four, so results really differ from the exact
 * order, as on a GPU; the default math mode is a sequential fmaf chain.
 * Speed and the exact cuBLAS summation order are not emulated. */
#ifndef VI_CUDA_EMU_CUBLAS_H
#define VI_CUDA_EMU_CUBLAS_H

#include "cuda/emu/emu.h"

typedef struct vi_emu_cublas *cublasHandle_t;

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;

typedef enum {
    CUBLAS_DEFAULT_MATH = 0,
    CUBLAS_TENSOR_OP_MATH = 1,
    CUBLAS_PEDANTIC_MATH = 2,
    CUBLAS_TF32_TENSOR_OP_MATH = 3
} cublasMath_t;

/* NOT_INITIALIZED when there is no device (vi_emu_set_device_count(0)). */
cublasStatus_t cublasCreate(cublasHandle_t *handle);
/* NOT_INITIALIZED for a handle that is not live. */
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);

/* C = alpha * op(A) op(B) + beta * C, column-major; m, n, k >= 0 and each
 * leading dimension at least its matrix's rows (INVALID_VALUE otherwise);
 * EXECUTION_FAILED when a matrix is not device memory or the stream is not
 * live. beta == 0 ignores C's old values. */
cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float *alpha,
                           const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc);
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda,
                                         long long strideA, const float *B, int ldb,
                                         long long strideB, const float *beta, float *C, int ldc,
                                         long long strideC, int batchCount);

/* cuBLAS's names for the statuses ("CUBLAS_STATUS_SUCCESS", ...). */
const char *cublasGetStatusString(cublasStatus_t status);

#endif
