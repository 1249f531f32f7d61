/* cuda/fast_cublas.cu — the fast mode of the CUDA backend: the exact backend
 * (cuda/cuda_backend.cu) with linear and matmul replaced by cuBLAS SGEMM,
 * TF32 tensor cores allowed. Not bit-exact and not reproducible across GPUs;
 * within vi_cuda_fast_linear_tol of the exact result (docs/cuda.md, "Fast
 * mode"). Built only with nvcc (the host emulation has no cuBLAS). */
#include "cuda/compat.h"

#include <cublas_v2.h>
#include <limits.h>
#include <stdlib.h>

#include "cuda/cuda_ctx.h"
#include "cuda/cuda_ops.h"
#include "cuda/fast_cublas.h"

typedef struct fast_ext {
    cublasHandle_t handle;
} fast_ext;

/* A weight as given (row-major [N, K] when out_in, else [K, N]) plus bias. */
typedef struct fast_linear {
    int64_t N, K;
    int out_in;
    float *w;
    float *bias;
} fast_linear;

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

static void fast_linear_release(vi_backend *b, void *prepared)
{
    fast_linear *lw = (fast_linear *)prepared;
    if (!lw)
        return;
    b->free(b, lw->w);
    b->free(b, lw->bias);
    free(lw);
}

static vi_status fast_linear_prepare(vi_backend *b, const float *w, int64_t N, int64_t K,
                                     int out_in, const float *bias, void **prepared,
                                     vi_error *err)
{
    *prepared = NULL;
    if (N < 1 || K < 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "linear prepare: N and K must be >= 1 (got N=%lld, K=%lld)", (long long)N,
                       (long long)K);
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "linear prepare: the weight [%lld, %lld] has no data",
                       (long long)N, (long long)K);
    if (N > INT_MAX || K > INT_MAX || N > (int64_t)(SIZE_MAX / sizeof(float)) / K)
        return vi_fail(err, VI_ERR_LIMIT,
                       "linear prepare: the weight [%lld, %lld] is too large for cuBLAS",
                       (long long)N, (long long)K);
    fast_linear *lw = (fast_linear *)calloc(1, sizeof *lw);
    if (!lw)
        return vi_fail(err, VI_ERR_NOMEM, "linear prepare: out of memory");
    lw->N = N;
    lw->K = K;
    lw->out_in = out_in;
    size_t bytes = (size_t)(N * K) * sizeof(float);
    vi_status st = VI_OK;
    lw->w = (float *)b->alloc(b, bytes);
    if (!lw->w) {
        st = vi_fail(err, VI_ERR_NOMEM, "linear prepare: out of device memory for the weight "
                     "[%lld, %lld]", (long long)N, (long long)K);
        goto fail;
    }
    if ((st = b->upload(b, lw->w, w, bytes)) != VI_OK) {
        vi_fail(err, st, "linear prepare: uploading the weight [%lld, %lld] failed",
                (long long)N, (long long)K);
        goto fail;
    }
    if (bias) {
        lw->bias = (float *)b->alloc(b, (size_t)N * sizeof(float));
        if (!lw->bias) {
            st = vi_fail(err, VI_ERR_NOMEM,
                         "linear prepare: out of device memory for the bias [%lld]", (long long)N);
            goto fail;
        }
        if ((st = b->upload(b, lw->bias, bias, (size_t)N * sizeof(float))) != VI_OK) {
            vi_fail(err, st, "linear prepare: uploading the bias [%lld] failed", (long long)N);
            goto fail;
        }
    }
    *prepared = lw;
    return VI_OK;

fail:
    fast_linear_release(b, lw);
    return st;
}

/* y row-major [M, N] is column-major [N, M]: C = op(W) X with X column-major [K, M]. */
static vi_status fast_linear_run(vi_backend *b, const void *prepared, const float *x,
                                 int64_t M, float *y)
{
    const fast_linear *lw = (const fast_linear *)prepared;
    if (!lw || M < 0)
        return VI_ERR_INVALID;
    if (M == 0)
        return VI_OK;
    if (!x || !y)
        return VI_ERR_INVALID;
    if (M > INT_MAX || M > INT64_MAX / lw->N)
        return VI_ERR_LIMIT;
    vi_cuda_ctx *c;
    cublasHandle_t h = handle_of(b, &c);
    const float one = 1.0f, zero = 0.0f;
    const int n = (int)lw->N, m = (int)M, k = (int)lw->K;
    cublasStatus_t s =
        lw->out_in ? cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, lw->w, k, x, k, &zero, y, n)
                   : cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, lw->w, n, x, k, &zero, y, n);
    if (s != CUBLAS_STATUS_SUCCESS)
        return cublas_status(s);
    int64_t total = M * lw->N;
    VI_LAUNCH(vi_fast_bias_kernel, dim3(vi_cuda_stride_blocks(total, 256)), dim3(256), 0,
              c->stream, y, total, lw->N, (const float *)lw->bias);
    return vi_cuda_status(cudaGetLastError());
}

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
        return vi_cuda_status(cudaMemsetAsync(y, 0, (size_t)(batch * M * N) * sizeof(float), c->stream));
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t s = cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)N, (int)M, (int)K,
                                                 &one, bm, (int)N, K * N, a, (int)K, M * K, &zero,
                                                 y, (int)N, M * N, (int)batch);
    if (s != CUBLAS_STATUS_SUCCESS)
        return cublas_status(s);
    int64_t total = batch * M * N;
    VI_LAUNCH(vi_fast_bias_kernel, dim3(vi_cuda_stride_blocks(total, 256)), dim3(256), 0,
              c->stream, y, total, N, (const float *)NULL);
    return vi_cuda_status(cudaGetLastError());
}

extern "C" vi_backend *vi_cuda_backend_create_fast(int device, vi_error *err)
{
    vi_backend *b = vi_cuda_backend_create(device, err);
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
        vi_fail(err, cublas_status(s), "CUDA device %d: cuBLAS setup failed: %s", device,
                cublasGetStatusString(s));
        b->destroy(b);
        return NULL;
    }
    b->name = "cuda-fast";
    b->linear_prepare = fast_linear_prepare;
    b->linear_release = fast_linear_release;
    b->linear = fast_linear_run;
    b->matmul = fast_matmul;
    return b;
}
