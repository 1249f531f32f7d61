/* cuda/emu/cublas.cpp — the emulated cuBLAS subset (cuda/emu/cublas.h):
 * handles, and SGEMM computed on the host, with TF32 input rounding in the
 * tensor-op math mode so that the fast mode's results differ from the exact
 * ones as they do on a GPU. Work is synchronous, counted as an operation of
 * the handle's stream. */
#include "cuda/emu/cublas.h"

#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>

#include "cuda/emu/internal.h"

struct vi_emu_cublas {
    cudaStream_t stream;
    cublasMath_t math;
};

namespace
{

std::mutex mu;
std::set<vi_emu_cublas *> handles;

bool live(cublasHandle_t h)
{
    std::lock_guard<std::mutex> lock(mu);
    return h && handles.count(h) != 0;
}

/* Rounds to TF32: 10 explicit mantissa bits, to nearest, ties away from zero. */
float tf32(float v)
{
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) /* infinity stays, NaN becomes quiet */
        u = (u & 0x007fffffu) ? 0x7fc00000u : u;
    else
        u = (u + 0x1000u) & 0xffffe000u;
    float r;
    std::memcpy(&r, &u, sizeof r);
    return r;
}

/* Element (i, j) of op(X) for a column-major X with leading dimension ld. */
float at(const float *x, int ld, cublasOperation_t op, int64_t i, int64_t j)
{
    return op == CUBLAS_OP_N ? x[i + j * (int64_t)ld] : x[j + i * (int64_t)ld];
}

bool device_range(const void *p)
{
    return p && vi_emu::device_accessible(p);
}

cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, float alpha, const float *A, int lda, long long sa, const float *B,
                    int ldb, long long sb, float beta, float *C, int ldc, long long sc, int batch)
{
    if (!live(h))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    if (m < 0 || n < 0 || k < 0 || batch < 0 || (ta != CUBLAS_OP_N && ta != CUBLAS_OP_T) ||
        (tb != CUBLAS_OP_N && tb != CUBLAS_OP_T) || lda < 1 || ldb < 1 || ldc < 1 ||
        lda < (ta == CUBLAS_OP_N ? m : k) || ldb < (tb == CUBLAS_OP_N ? k : n) || ldc < m)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0 || batch == 0)
        return CUBLAS_STATUS_SUCCESS;
    if (!vi_emu::stream_valid(h->stream) || !device_range(C) ||
        (k > 0 && (!device_range(A) || !device_range(B))))
        return CUBLAS_STATUS_EXECUTION_FAILED;
    vi_emu::count_stream_op(h->stream);
    const bool tensor = h->math == CUBLAS_TF32_TENSOR_OP_MATH;
    for (int z = 0; z < batch; z++) {
        const float *a = A + z * sa, *b = B + z * sb;
        float *c = C + z * sc;
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < m; i++) {
                float acc = 0.0f;
                if (tensor) {
                    /* TF32 products are exact in float32 (11 x 11 significant bits) */
                    for (int64_t p0 = 0; p0 < k; p0 += 4) {
                        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                        for (int64_t p = p0; p < p0 + 4 && p < k; p++)
                            t[p - p0] = tf32(at(a, lda, ta, i, p)) * tf32(at(b, ldb, tb, p, j));
                        acc = acc + ((t[0] + t[1]) + (t[2] + t[3]));
                    }
                } else {
                    for (int64_t p = 0; p < k; p++)
                        acc = __fmaf_rn(at(a, lda, ta, i, p), at(b, ldb, tb, p, j), acc);
                }
                float *out = &c[i + j * (int64_t)ldc];
                *out = beta == 0.0f ? alpha * acc : alpha * acc + beta * *out;
            }
    }
    return CUBLAS_STATUS_SUCCESS;
}

} // namespace

cublasStatus_t cublasCreate(cublasHandle_t *handle)
{
    if (!handle)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (vi_emu::device_count() < 1)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    vi_emu_cublas *h = new vi_emu_cublas{nullptr, CUBLAS_DEFAULT_MATH};
    std::lock_guard<std::mutex> lock(mu);
    handles.insert(h);
    *handle = h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle)
{
    {
        std::lock_guard<std::mutex> lock(mu);
        if (!handle || handles.erase(handle) == 0)
            return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream)
{
    if (!live(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
    if (!live(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float *alpha,
                           const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc)
{
    if (!alpha || !beta)
        return CUBLAS_STATUS_INVALID_VALUE;
    return gemm(handle, transa, transb, m, n, k, *alpha, A, lda, 0, B, ldb, 0, *beta, C, ldc, 0, 1);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda,
                                         long long strideA, const float *B, int ldb,
                                         long long strideB, const float *beta, float *C, int ldc,
                                         long long strideC, int batchCount)
{
    if (!alpha || !beta)
        return CUBLAS_STATUS_INVALID_VALUE;
    return gemm(handle, transa, transb, m, n, k, *alpha, A, lda, strideA, B, ldb, strideB, *beta, C,
                ldc, strideC, batchCount);
}

const char *cublasGetStatusString(cublasStatus_t status)
{
    switch (status) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
        return "CUBLAS_STATUS_INTERNAL_ERROR";
    default:
        return "CUBLAS_STATUS_UNKNOWN";
    }
}
