/* cuda/fast_cublas.cu — the fast mode of the CUDA backend: the exact backend
 * (cuda/cuda_backend.cu) with linear and matmul replaced by cuBLAS SGEMM,
 * TF32 tensor cores allowed. It reads the exact backend's prepared weights
 * (W^T as [K, ldw], cuda/cuda_ctx.h), so a fast worker shares one upload of
 * the weights with the exact backend it belongs to. Not bit-exact and not
 * reproducible across GPUs; within vi_cuda_fast_linear_tol of the exact
 * result per layer (docs/cuda.md, "Fast mode"; docs/fast-mode.md for what a
 * fast-mode receipt claims). The host emulation links cuda/emu/cublas.cpp,
 * which rounds inputs to TF32 as the tensor cores do. */
#include "cuda/compat.h"

#if defined(__CUDACC__)
#include <cublas_v2.h>
#else
#include "cuda/emu/cublas.h"
#endif
#include <limits.h>
#include <stdlib.h>

#include "cuda/cuda_ctx.h"
#include "cuda/cuda_ops.h"
#include "cuda/fast_cublas.h"

typedef struct fast_ext {
    cublasHandle_t handle; /* bound to the backend's stream */
} fast_ext;

static void fast_ext_free(void *p)
{
    fast_ext *f = (fast_ext *)p;
    if (!f)
        return;
    if (f->handle)
        cublasDestroy(f->handle);
    free(f);
}

static cublasHandle_t handle_of(vi_backend *b, vi_cuda_ctx **cp)
{
    vi_cuda_ctx *c = (vi_cuda_ctx *)b->ctx;
    cudaSetDevice(c->device);
    (void)cudaGetLastError();
    *cp = c;
    return ((fast_ext *)c->ext)->handle;
}

/* y[m, n] = canonical NaN of (y[m, n] + bias[n]) (bias may be NULL). */
__global__ void vi_fast_bias_kernel(float *y, int64_t total, int64_t N, const float *bias)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        float v = y[e];
        if (bias)
            v = v + bias[e % N];
        y[e] = vi_canon_nan(v);
    }
}

static vi_status cublas_status(cublasStatus_t s)
{
    if (s == CUBLAS_STATUS_SUCCESS)
        return VI_OK;
    return s == CUBLAS_STATUS_ALLOC_FAILED ? VI_ERR_NOMEM : VI_ERR_IO;
}

/* Adds the bias (if any) and canonicalises NaNs of y [rows, N]. */
static vi_status fast_epilogue(vi_cuda_ctx *c, float *y, int64_t total, int64_t N,
                               const float *bias)
{
    VI_LAUNCH(vi_fast_bias_kernel, dim3(vi_cuda_stride_blocks(total, 256)), dim3(256), 0, c->stream,
              y, total, N, bias);
    return vi_cuda_status(cudaGetLastError());
}

/* y row-major [M, N] is column-major [N, M]: C = A X where A is the prepared
 * W^T read column-major ([N, K] with lda = ldw) and X is x column-major
 * ([K, M], ldb = K). */
static vi_status fast_linear(vi_backend *b, const void *prepared, const float *x, int64_t M,
                             float *y)
{
    const vi_cuda_linear *lw = (const vi_cuda_linear *)prepared;
    if (!lw || M < 0)
        return VI_ERR_INVALID;
    if (M == 0)
        return VI_OK;
    if (!x || !y)
        return VI_ERR_INVALID;
    if (M > INT_MAX || lw->N > INT_MAX || lw->K > INT_MAX || lw->ldw > INT_MAX ||
        M > INT64_MAX / lw->N)
        return VI_ERR_LIMIT;
    vi_cuda_ctx *c;
    cublasHandle_t h = handle_of(b, &c);
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t s = cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)lw->N, (int)M, (int)lw->K,
                                   &one, lw->w, (int)lw->ldw, x, (int)lw->K, &zero, y, (int)lw->N);
    if (s != CUBLAS_STATUS_SUCCESS)
        return cublas_status(s);
    return fast_epilogue(c, y, M * lw->N, lw->N, lw->bias);
}

/* Per item: y [M, N] = a [M, K] @ bm [K, N], all row-major, i.e. column-major
 * C [N, M] = Bm [N, K] A [K, M]. */
static vi_status fast_matmul(vi_backend *b, const float *a, const float *bm, int64_t batch,
                             int64_t M, int64_t K, int64_t N, float *y)
{
    if (batch < 0 || M < 0 || K < 0 || N < 0)
        return VI_ERR_INVALID;
    if (batch == 0 || M == 0 || N == 0)
        return VI_OK;
    if (!y || (K > 0 && (!a || !bm)))
        return VI_ERR_INVALID;
    if (batch > INT_MAX || M > INT_MAX || K > INT_MAX || N > INT_MAX || M > INT64_MAX / N ||
        batch > INT64_MAX / (M * N) || (K > 0 && (M > INT64_MAX / K || K > INT64_MAX / N)))
        return VI_ERR_LIMIT;
    vi_cuda_ctx *c;
    cublasHandle_t h = handle_of(b, &c);
    if (K == 0)
        return vi_cuda_status(
            cudaMemsetAsync(y, 0, (size_t)(batch * M * N) * sizeof(float), c->stream));
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t s = cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)N, (int)M,
                                                 (int)K, &one, bm, (int)N, K * N, a, (int)K, M * K,
                                                 &zero, y, (int)N, M * N, (int)batch);
    if (s != CUBLAS_STATUS_SUCCESS)
        return cublas_status(s);
    return fast_epilogue(c, y, batch * M * N, N, NULL);
}

/* Turns an exact CUDA backend into a fast one (consumes b on failure). */
static vi_backend *make_fast(vi_backend *b, vi_error *err)
{
    if (!b)
        return NULL;
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    fast_ext *f = (fast_ext *)calloc(1, sizeof *f);
    if (!f) {
        vi_fail(err, VI_ERR_NOMEM, "out of memory creating the fast CUDA backend");
        b->destroy(b);
        return NULL;
    }
    c->ext = f;
    c->ext_free = fast_ext_free;
    cublasStatus_t s = cublasCreate(&f->handle);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetStream(f->handle, c->stream);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetMathMode(f->handle, CUBLAS_TF32_TENSOR_OP_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        vi_fail(err, cublas_status(s), "CUDA device %d: cuBLAS setup failed: %s", c->device,
                cublasGetStatusString(s));
        b->destroy(b);
        return NULL;
    }
    b->name = "cuda-fast";
    b->linear = fast_linear;
    b->matmul = fast_matmul;
    return b;
}

extern "C" vi_backend *vi_cuda_backend_create_fast(int device, vi_error *err)
{
    return make_fast(vi_cuda_backend_create(device, err), err);
}

extern "C" vi_backend *vi_cuda_backend_create_fast_worker(vi_backend *shared, vi_error *err)
{
    return make_fast(vi_cuda_backend_create_worker(shared, err), err);
}
