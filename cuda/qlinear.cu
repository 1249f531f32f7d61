/* cuda/qlinear.cu — the quantised linear on the GPU, the twin of
 * vi_qdot_ref (core/quant.h) and cpu/qlinear.c: y[m][n] = the canonical dot
 * of x[m][0..K) with row n of a GGUF weight, dequantised on the fly by the
 * VI_HD block functions of core/quant.h (the one source of the formulas).
 *
 * Per output, exactly vi_qdot_ref's sequence:
 *     y = +0; for each 128-long K-chunk c in increasing order:
 *     { p = +0; p = fmaf(x[k], w[k], p) for k increasing; y = y + p };
 *     y = vi_canon_nan(y).
 * The work is split only between chunks and outputs: a warp's 32 lanes are
 * cut into segments of L lanes (L = the number of chunks rounded up to a
 * power of two, at most 32), one segment per output column; lane j of a
 * segment computes the partial p of chunks j, j + L, ... and the segment's
 * first lane collects them by shuffles and adds them to y in chunk order.
 * Each lane feeds R rows (1: decode, 8: prefill) from every dequantised
 * weight; blockIdx.y walks the groups of R rows.
 *
 * The weight stays in GGUF layout on the device: row n starts at
 * n * (K / block) * block_bytes. */
#include "cuda/compat.h"

/* before core/tensor.h (through the backend headers): its plain declaration
 * of vi_bf16_to_f32 then names quant.h's inline definition instead of
 * clashing with it */
extern "C" {
#include "core/quant.h"
}

#include "cuda/cuda_ctx.h"
#include "cuda/cuda_ops.h"
#include "cuda/qlinear_cuda.h"

#include <stdlib.h>

#define VI_QL_THREADS 128 /* 4 warps */
#define VI_QL_WARPS (VI_QL_THREADS / 32)

/* ==== per-type block access (core/quant.h's functions, nothing else) ==== */

template <int T> struct vi_qt;

template <> struct vi_qt<VI_GGML_F32> {
    enum { BS = 1, BB = 4 };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        uint32_t u = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                     ((uint32_t)b[3] << 24);
        o[0] = vi_bits_f32(u); /* the stored bits */
    }
};
template <> struct vi_qt<VI_GGML_F16> {
    enum { BS = 1, BB = 2 };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        o[0] = vi_f16_to_f32(vi_le16_(b));
    }
};
template <> struct vi_qt<VI_GGML_BF16> {
    enum { BS = 1, BB = 2 };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        o[0] = vi_bf16_to_f32(vi_le16_(b));
    }
};
template <> struct vi_qt<VI_GGML_Q4_0> {
    enum { BS = VI_QK4_0, BB = VI_Q4_0_BYTES };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        vi_dequant_block_q4_0(b, o);
    }
};
template <> struct vi_qt<VI_GGML_Q4_1> {
    enum { BS = VI_QK4_1, BB = VI_Q4_1_BYTES };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        vi_dequant_block_q4_1(b, o);
    }
};
template <> struct vi_qt<VI_GGML_Q8_0> {
    enum { BS = VI_QK8_0, BB = VI_Q8_0_BYTES };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        vi_dequant_block_q8_0(b, o);
    }
};
template <> struct vi_qt<VI_GGML_Q4_K> {
    enum { BS = VI_QK_K, BB = VI_Q4_K_BYTES };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        vi_dequant_block_q4_k(b, o);
    }
};
template <> struct vi_qt<VI_GGML_Q6_K> {
    enum { BS = VI_QK_K, BB = VI_Q6_K_BYTES };
    static __device__ __forceinline__ void deq(const uint8_t *b, float *o)
    {
        vi_dequant_block_q6_k(b, o);
    }
};

/* ==== the kernel ==== */

/* grid: x = groups of VI_QL_WARPS * (32 >> seg_log2) columns, y = groups of
 * R rows from row m0. seg_log2: log2 of the lanes per column. */
template <int T, int R>
__global__ void VI_LAUNCH_BOUNDS(VI_QL_THREADS)
    vi_qlinear_kernel(const uint8_t *w, int64_t N, int64_t K, const float *x, int64_t M,
                      int64_t m0, float *y, int seg_log2)
{
    typedef vi_qt<T> Q;
    const int lane = (int)(threadIdx.x & 31u), warp = (int)(threadIdx.x >> 5);
    const int seg = 1 << seg_log2;
    const int sub = lane & (seg - 1);
    const int leader = lane - sub;
    const int64_t n = ((int64_t)blockIdx.x * VI_QL_WARPS + warp) * (32 >> seg_log2) + (lane >> seg_log2);
    const int64_t mb = m0 + (int64_t)blockIdx.y * R;
    const int rows = M - mb < R ? (int)(M - mb) : R;
    const int64_t nch = (K + VI_DOT_CHUNK - 1) / VI_DOT_CHUNK;
    const int64_t row_bytes = K / Q::BS * Q::BB;
    const bool active = n < N;
    const uint8_t *wr = w + (active ? n : 0) * row_bytes;

    float acc[R];
    VI_UNROLL
    for (int r = 0; r < R; r++)
        acc[r] = 0.0f;

    /* every lane runs every round (the shuffles need the whole warp) */
    for (int64_t c0 = 0; c0 < nch; c0 += seg) {
        const int64_t c = c0 + sub;
        float p[R];
        VI_UNROLL
        for (int r = 0; r < R; r++)
            p[r] = 0.0f;
        if (active && c < nch) {
            const int64_t k0 = c * VI_DOT_CHUNK;
            const int64_t k1 = k0 + VI_DOT_CHUNK < K ? k0 + VI_DOT_CHUNK : K;
            float wb[Q::BS];
            for (int64_t k = k0; k < k1;) {
                const int64_t b = k / Q::BS;
                Q::deq(wr + b * Q::BB, wb);
                const int64_t kb = (b + 1) * Q::BS < k1 ? (b + 1) * Q::BS : k1;
                for (; k < kb; k++) {
                    const float wv = wb[k - b * Q::BS];
                    VI_UNROLL
                    for (int r = 0; r < R; r++)
                        if (r < rows)
                            p[r] = VI_FMAF(x[(mb + r) * K + k], wv, p[r]);
                }
            }
        }
        /* the segment's first lane adds the partials in chunk order */
        for (int j = 0; j < seg; j++) {
            VI_UNROLL
            for (int r = 0; r < R; r++) {
                const float v = __shfl_sync(0xffffffffu, p[r], leader + j);
                if (sub == 0 && c0 + j < nch)
                    acc[r] = acc[r] + v;
            }
        }
    }
    if (active && sub == 0) {
        VI_UNROLL
        for (int r = 0; r < R; r++)
            if (r < rows)
                y[(mb + r) * N + n] = vi_canon_nan(acc[r]);
    }
}

/* Launches the kernel over all rows (grid.y in slices of at most 65535 groups). */
template <int T, int R>
static cudaError_t qlinear_launch_t(const uint8_t *w, int64_t N, int64_t K, const float *x,
                                    int64_t M, float *y, cudaStream_t stream)
{
    const int64_t nch = (K + VI_DOT_CHUNK - 1) / VI_DOT_CHUNK;
    int seg_log2 = 0;
    while ((1 << seg_log2) < nch && seg_log2 < 5)
        seg_log2++;
    const int64_t cols_per_block = (int64_t)VI_QL_WARPS * (32 >> seg_log2);
    const int64_t gx = (N + cols_per_block - 1) / cols_per_block;
    const int64_t groups = (M + R - 1) / R;
    for (int64_t g0 = 0; g0 < groups; g0 += VI_CUDA_GRID_YZ_MAX) {
        const int64_t gy = groups - g0 < VI_CUDA_GRID_YZ_MAX ? groups - g0 : VI_CUDA_GRID_YZ_MAX;
        dim3 grid((unsigned)gx, (unsigned)gy, 1);
        VI_LAUNCH((vi_qlinear_kernel<T, R>), grid, VI_QL_THREADS, 0, stream, w, N, K, x, M, g0 * R,
                  y, seg_log2);
        cudaError_t rc = cudaGetLastError();
        if (rc != cudaSuccess)
            return rc;
    }
    return cudaSuccess;
}

template <int R>
static cudaError_t qlinear_launch_r(vi_ggml_type t, const uint8_t *w, int64_t N, int64_t K,
                                    const float *x, int64_t M, float *y, cudaStream_t stream)
{
    switch (t) {
    case VI_GGML_F32:
        return qlinear_launch_t<VI_GGML_F32, R>(w, N, K, x, M, y, stream);
    case VI_GGML_F16:
        return qlinear_launch_t<VI_GGML_F16, R>(w, N, K, x, M, y, stream);
    case VI_GGML_BF16:
        return qlinear_launch_t<VI_GGML_BF16, R>(w, N, K, x, M, y, stream);
    case VI_GGML_Q4_0:
        return qlinear_launch_t<VI_GGML_Q4_0, R>(w, N, K, x, M, y, stream);
    case VI_GGML_Q4_1:
        return qlinear_launch_t<VI_GGML_Q4_1, R>(w, N, K, x, M, y, stream);
    case VI_GGML_Q8_0:
        return qlinear_launch_t<VI_GGML_Q8_0, R>(w, N, K, x, M, y, stream);
    case VI_GGML_Q4_K:
        return qlinear_launch_t<VI_GGML_Q4_K, R>(w, N, K, x, M, y, stream);
    case VI_GGML_Q6_K:
        return qlinear_launch_t<VI_GGML_Q6_K, R>(w, N, K, x, M, y, stream);
    }
    return cudaErrorInvalidValue;
}

cudaError_t vi_cuda_qlinear_launch(vi_ggml_type t, const uint8_t *w, int64_t N, int64_t K,
                                   const float *x, int64_t M, float *y, int prefill,
                                   cudaStream_t stream)
{
    if (M == 0 || N == 0)
        return cudaSuccess;
    return prefill ? qlinear_launch_r<8>(t, w, N, K, x, M, y, stream)
                   : qlinear_launch_r<1>(t, w, N, K, x, M, y, stream);
}

/* ==== host API (cuda/qlinear_cuda.h) ==== */

struct vi_cuda_qlinear {
    vi_backend *b;      /* the preparing backend */
    const void *domain; /* its weights domain: who may run this weight */
    vi_ggml_type type;
    int64_t N, K;
    uint64_t bytes;
    uint8_t *w; /* device, GGUF layout, from the primary's pool */
    vi_cuda_qlin_kernel kernel;
};

extern "C" vi_status vi_cuda_qlinear_prepare(vi_cuda_qlinear **out, vi_backend *b,
                                             vi_ggml_type t, const void *w, int64_t N, int64_t K,
                                             vi_error *err)
{
    if (out)
        *out = NULL;
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    if (!out || !c)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_prepare: backend '%s' is not a CUDA backend",
                       b && b->name ? b->name : "(null)");
    if (!vi_ggml_type_supported((uint32_t)t))
        return vi_fail(err, VI_ERR_INVALID, "qlinear_prepare: unsupported weight type %d", (int)t);
    const int64_t bs = (int64_t)vi_ggml_type_block_size(t);
    const int64_t bb = (int64_t)vi_ggml_type_block_bytes(t);
    if (K < 1 || K % bs != 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "qlinear_prepare: K = %lld is not a positive multiple of the %s block (%lld)",
                       (long long)K, vi_ggml_type_name(t), (long long)bs);
    if (N < 1)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_prepare: N = %lld, need at least 1 row",
                       (long long)N);
    const int64_t row_bytes = K / bs * bb; /* K / bs * bb <= K * 4: no overflow */
    if (N > INT64_MAX / row_bytes || (uint64_t)(N * row_bytes) > (uint64_t)SIZE_MAX)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_prepare: %lld x %lld %s weight is too large",
                       (long long)N, (long long)K, vi_ggml_type_name(t));
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_prepare: weight data is NULL");
    vi_cuda_qlinear *q = (vi_cuda_qlinear *)calloc(1, sizeof *q);
    if (!q)
        return vi_fail(err, VI_ERR_NOMEM, "qlinear_prepare: out of memory");
    q->b = b;
    q->domain = b->weights_domain;
    q->type = t;
    q->N = N;
    q->K = K;
    q->bytes = (uint64_t)(N * row_bytes);
    q->kernel = VI_CUDA_QLIN_AUTO;

    cudaError_t rc = cudaSetDevice(c->device);
    vi_cuda_ctx *wc = c->weights;
    if (rc == cudaSuccess) {
        pthread_mutex_lock(&wc->lock);
        q->w = (uint8_t *)vi_cuda_pool_alloc(&wc->pool, (size_t)q->bytes);
        pthread_mutex_unlock(&wc->lock);
        if (!q->w)
            rc = cudaGetLastError();
        /* a cached block may still be read by the primary's queued kernels */
        else if (wc != c)
            rc = cudaStreamSynchronize(wc->stream);
    }
    if (rc == cudaSuccess)
        rc = vi_cuda_stage_copy(&c->stage, q->w, w, (size_t)q->bytes, cudaMemcpyHostToDevice,
                                c->stream);
    if (rc != cudaSuccess || !q->w) {
        if (rc == cudaSuccess)
            rc = cudaErrorMemoryAllocation;
        vi_cuda_qlinear_free(q);
        return vi_fail(err, vi_cuda_status(rc), "qlinear_prepare: uploading the %lld x %lld %s weight: %s",
                       (long long)N, (long long)K, vi_ggml_type_name(t), cudaGetErrorString(rc));
    }
    *out = q;
    return VI_OK;
}

extern "C" void vi_cuda_qlinear_free(vi_cuda_qlinear *q)
{
    if (!q)
        return;
    if (q->w) {
        vi_cuda_ctx *c = vi_cuda_ctx_of(q->b);
        cudaSetDevice(c->device);
        cudaStreamSynchronize(c->stream);
        vi_cuda_ctx *wc = c->weights;
        pthread_mutex_lock(&wc->lock);
        vi_cuda_pool_free(&wc->pool, q->w);
        pthread_mutex_unlock(&wc->lock);
    }
    free(q);
}

extern "C" vi_status vi_cuda_qlinear_set_kernel(vi_cuda_qlinear *q, int kernel, vi_error *err)
{
    if (!q)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_set_kernel: weight is NULL");
    if (kernel != VI_CUDA_QLIN_AUTO && kernel != VI_CUDA_QLIN_DECODE &&
        kernel != VI_CUDA_QLIN_PREFILL)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_set_kernel: unknown kernel %d", kernel);
    q->kernel = (vi_cuda_qlin_kernel)kernel;
    return VI_OK;
}

/* Checks that b may run q on M rows and sets *cp to b's context. */
static vi_status run_ctx(const vi_cuda_qlinear *q, vi_backend *b, int64_t M, const char *fn,
                         vi_cuda_ctx **cp, vi_error *err)
{
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    if (!q)
        return vi_fail(err, VI_ERR_INVALID, "%s: weight is NULL", fn);
    if (!c || b->weights_domain != q->domain)
        return vi_fail(err, VI_ERR_INVALID,
                       "%s: backend '%s' does not share the weights of the backend that prepared "
                       "this weight",
                       fn, b && b->name ? b->name : "(null)");
    if (M < 0)
        return vi_fail(err, VI_ERR_INVALID, "%s: M = %lld is negative", fn, (long long)M);
    if (M > INT64_MAX / (q->K > q->N ? q->K : q->N) / (int64_t)sizeof(float))
        return vi_fail(err, VI_ERR_INVALID, "%s: M = %lld rows overflow the buffer sizes", fn,
                       (long long)M);
    *cp = c;
    return VI_OK;
}

/* Enqueues the product on c's stream. */
static vi_status run_dev(const vi_cuda_qlinear *q, vi_cuda_ctx *c, const float *x, int64_t M,
                         float *y, vi_error *err)
{
    int prefill = q->kernel == VI_CUDA_QLIN_PREFILL || (q->kernel == VI_CUDA_QLIN_AUTO && M > 1);
    cudaError_t rc = cudaSetDevice(c->device);
    if (rc == cudaSuccess)
        rc = vi_cuda_qlinear_launch(q->type, q->w, q->N, q->K, x, M, y, prefill, c->stream);
    if (rc != cudaSuccess)
        return vi_fail(err, vi_cuda_status(rc), "qlinear_run: %s launch of the %lld x %lld %s "
                       "weight, M = %lld: %s", prefill ? "prefill" : "decode", (long long)q->N,
                       (long long)q->K, vi_ggml_type_name(q->type), (long long)M,
                       cudaGetErrorString(rc));
    return VI_OK;
}

extern "C" vi_status vi_cuda_qlinear_run(const vi_cuda_qlinear *q, vi_backend *b, const float *x,
                                         int64_t M, float *y, vi_error *err)
{
    vi_cuda_ctx *c = NULL;
    vi_status st0 = run_ctx(q, b, M, "qlinear_run", &c, err);
    if (st0 != VI_OK)
        return st0;
    if (M == 0)
        return VI_OK;
    if (!x || !y)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_run: %s is NULL", !x ? "x" : "y");
    return run_dev(q, c, x, M, y, err);
}

extern "C" vi_status vi_cuda_qlinear_run_host(const vi_cuda_qlinear *q, vi_backend *b,
                                              const float *x, int64_t M, float *y, vi_error *err)
{
    vi_cuda_ctx *c = NULL;
    vi_status st0 = run_ctx(q, b, M, "qlinear_run_host", &c, err);
    if (st0 != VI_OK)
        return st0;
    if (M == 0)
        return VI_OK;
    if (!x || !y)
        return vi_fail(err, VI_ERR_INVALID, "qlinear_run_host: %s is NULL", !x ? "x" : "y");
    const size_t xb = (size_t)(M * q->K) * sizeof(float), yb = (size_t)(M * q->N) * sizeof(float);
    vi_status st = VI_OK;
    cudaError_t rc = cudaSetDevice(c->device);
    float *dx = NULL, *dy = NULL;
    if (rc == cudaSuccess) {
        pthread_mutex_lock(&c->lock);
        dx = (float *)vi_cuda_pool_alloc(&c->pool, xb);
        dy = dx ? (float *)vi_cuda_pool_alloc(&c->pool, yb) : NULL;
        pthread_mutex_unlock(&c->lock);
        if (!dy) {
            rc = cudaGetLastError();
            if (rc == cudaSuccess)
                rc = cudaErrorMemoryAllocation;
        }
    }
    if (rc == cudaSuccess)
        rc = vi_cuda_stage_copy(&c->stage, dx, x, xb, cudaMemcpyHostToDevice, c->stream);
    if (rc != cudaSuccess) {
        st = vi_fail(err, vi_cuda_status(rc), "qlinear_run_host: uploading x (%lld x %lld): %s",
                     (long long)M, (long long)q->K, cudaGetErrorString(rc));
        goto done;
    }
    st = run_dev(q, c, dx, M, dy, err);
    if (st != VI_OK)
        goto done;
    rc = vi_cuda_stage_copy(&c->stage, y, dy, yb, cudaMemcpyDeviceToHost, c->stream);
    if (rc != cudaSuccess)
        st = vi_fail(err, vi_cuda_status(rc), "qlinear_run_host: downloading y (%lld x %lld): %s",
                     (long long)M, (long long)q->N, cudaGetErrorString(rc));
done:
    pthread_mutex_lock(&c->lock);
    vi_cuda_pool_free(&c->pool, dy);
    vi_cuda_pool_free(&c->pool, dx);
    pthread_mutex_unlock(&c->lock);
    return st;
}
