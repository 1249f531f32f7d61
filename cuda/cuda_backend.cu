/* cuda/cuda_backend.cu — the CUDA implementation of the vi_backend table:
 * device memory (the caching pool of cuda/cuda_pool.cu over plain
 * cudaMalloc, never managed memory), copies through pinned staging, weight
 * preparation (a linear weight is uploaded once, transposed to [K, ldw]),
 * argument checks mirroring cpu/cpu_backend.c, and each op's launch on the
 * backend's stream. Workers (one per server worker: batcher, verifier, fast
 * mode) share a primary backend's prepared weights and own their stream,
 * staging and pool. Kernel choice depends on shapes only and never changes
 * a bit. */
#include "cuda/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_backend.h" /* first: it includes core/ headers with C linkage */
#include "core/backend_args.h"
#include "cuda/cuda_ctx.h"
#include "cuda/cuda_ops.h"

#define CUDA_LDW_ALIGN 128                 /* prepared weights: columns padded to this */
#define CUDA_STAGE_BYTES ((size_t)4 << 20) /* host staging slab of linear_prepare */
#define CUDA_SPLITK_MAX_M 16               /* AUTO: split-K up to this many rows */

static void cuda_destroy(vi_backend *b);

vi_cuda_ctx *vi_cuda_ctx_of(vi_backend *b)
{
    return b && b->destroy == cuda_destroy ? (vi_cuda_ctx *)b->ctx : NULL;
}

vi_status vi_cuda_status(cudaError_t rc)
{
    if (rc == cudaSuccess)
        return VI_OK;
    return rc == cudaErrorMemoryAllocation ? VI_ERR_NOMEM : VI_ERR_IO;
}

/* Makes the backend's device current for the calling thread and clears the
 * thread's last CUDA error, so that a launch check reports this call's own
 * error, not one left by an earlier failed call (errors that poison the
 * context stay sticky and come back from the next synchronisation). */
static vi_cuda_ctx *enter(vi_backend *b)
{
    vi_cuda_ctx *c = (vi_cuda_ctx *)b->ctx;
    cudaSetDevice(c->device);
    (void)cudaGetLastError();
    return c;
}

/* Waits for the stream and maps the first error (launch or execution). */
static vi_status finish(vi_cuda_ctx *c, cudaError_t rc)
{
    if (rc == cudaSuccess)
        rc = cudaStreamSynchronize(c->stream);
    return vi_cuda_status(rc);
}

/* Checks a launch; kernels stay in flight (the stream orders later work). */
static vi_status launched(cudaError_t rc)
{
    return vi_cuda_status(rc);
}

/* a * b into *out; 0 on int64 overflow (a, b >= 0). */
static int mul_ok(int64_t a, int64_t b, int64_t *out)
{
    if (a > 0 && b > INT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

/* ==== memory ==== */

/* Prepared weights live in the primary's pool, so every worker sharing it
 * can read them. A worker gives one back only once its own stream, whose
 * kernels may still read it, is idle. */
static void weights_free(vi_backend *b, void *p)
{
    if (!p)
        return;
    vi_cuda_ctx *c = enter(b), *w = c->weights;
    if (w != c)
        cudaStreamSynchronize(c->stream);
    pthread_mutex_lock(&w->lock);
    vi_cuda_pool_free(&w->pool, p);
    pthread_mutex_unlock(&w->lock);
}

/* A block for a weight from the primary's pool. When a worker prepares it,
 * the (cached) block may still be in use by the primary's queued kernels:
 * the worker waits for the primary's stream before uploading into it. */
static void *weights_alloc(vi_backend *b, size_t bytes)
{
    vi_cuda_ctx *c = enter(b), *w = c->weights;
    pthread_mutex_lock(&w->lock);
    void *p = vi_cuda_pool_alloc(&w->pool, bytes);
    pthread_mutex_unlock(&w->lock);
    if (p && w != c && cudaStreamSynchronize(w->stream) != cudaSuccess) {
        weights_free(b, p);
        return NULL;
    }
    return p;
}

/* Blocks come from the backend's pool: a block freed by one run is handed
 * to the next run asking for the same size class. */
static void *cuda_alloc(vi_backend *b, size_t bytes)
{
    vi_cuda_ctx *c = enter(b);
    pthread_mutex_lock(&c->lock);
    void *p = vi_cuda_pool_alloc(&c->pool, bytes);
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void cuda_free(vi_backend *b, void *p)
{
    if (!p)
        return;
    vi_cuda_ctx *c = enter(b);
    pthread_mutex_lock(&c->lock);
    vi_cuda_pool_free(&c->pool, p);
    pthread_mutex_unlock(&c->lock);
}

static vi_status cuda_copy(vi_backend *b, void *dst, const void *src, size_t bytes,
                           cudaMemcpyKind kind)
{
    if (bytes == 0)
        return VI_OK;
    if (!dst || !src)
        return VI_ERR_INVALID;
    vi_cuda_ctx *c = enter(b);
    return vi_cuda_status(vi_cuda_stage_copy(&c->stage, dst, src, bytes, kind, c->stream));
}

static vi_status cuda_upload(vi_backend *b, void *dst, const void *src, size_t bytes)
{
    return cuda_copy(b, dst, src, bytes, cudaMemcpyHostToDevice);
}

static vi_status cuda_download(vi_backend *b, void *dst, const void *src, size_t bytes)
{
    return cuda_copy(b, dst, src, bytes, cudaMemcpyDeviceToHost);
}

static vi_status cuda_const_prepare(vi_backend *b, const float *host, int64_t n, const float **out,
                                    vi_error *err)
{
    *out = NULL;
    if (n < 0)
        return vi_fail(err, VI_ERR_INVALID, "constant has a negative element count (%lld)",
                       (long long)n);
    if (n > 0 && !host)
        return vi_fail(err, VI_ERR_INVALID, "constant of %lld elements has no data", (long long)n);
    if ((uint64_t)n > SIZE_MAX / sizeof(float))
        return vi_fail(err, VI_ERR_LIMIT, "constant of %lld elements is too large", (long long)n);
    size_t bytes = (size_t)n * sizeof(float);
    float *d = (float *)weights_alloc(b, bytes);
    if (!d)
        return vi_fail(err, VI_ERR_NOMEM, "out of device memory for a constant of %lld elements",
                       (long long)n);
    vi_status st = cuda_upload(b, d, host, bytes);
    if (st != VI_OK) {
        weights_free(b, d);
        return vi_fail(err, st, "uploading a constant of %lld elements failed: %s", (long long)n,
                       cudaGetErrorString(cudaGetLastError()));
    }
    *out = d;
    return VI_OK;
}

static void cuda_const_release(vi_backend *b, const float *prepared)
{
    weights_free(b, (void *)prepared);
}

/* ==== linear / matmul ==== */

static void cuda_linear_release(vi_backend *b, void *prepared)
{
    vi_cuda_linear *lw = (vi_cuda_linear *)prepared;
    if (!lw)
        return;
    weights_free(b, lw->w);
    weights_free(b, lw->bias);
    free(lw);
}

/* Uploads W^T into lw->w ([K, ldw], zero columns from N) slab by slab of k rows. */
static vi_status upload_transposed(vi_backend *b, vi_cuda_linear *lw, const float *w, int out_in,
                                   vi_error *err)
{
    const int64_t N = lw->N, K = lw->K, ldw = lw->ldw;
    int64_t slab = (int64_t)(CUDA_STAGE_BYTES / sizeof(float)) / ldw;
    slab = slab < 1 ? 1 : slab > K ? K : slab;
    float *stage = (float *)malloc((size_t)(slab * ldw) * sizeof(float));
    if (!stage)
        return vi_fail(err, VI_ERR_NOMEM, "linear prepare: out of memory for a staging slab");
    vi_status st = VI_OK;
    for (int64_t k0 = 0; k0 < K && st == VI_OK; k0 += slab) {
        int64_t kn = K - k0 < slab ? K - k0 : slab;
        for (int64_t kk = 0; kk < kn; kk++) {
            float *row = stage + kk * ldw;
            if (out_in)
                for (int64_t n = 0; n < N; n++)
                    row[n] = w[n * K + k0 + kk];
            else
                memcpy(row, w + (k0 + kk) * N, (size_t)N * sizeof(float));
            for (int64_t n = N; n < ldw; n++)
                row[n] = 0.0f;
        }
        st = cuda_upload(b, lw->w + k0 * ldw, stage, (size_t)(kn * ldw) * sizeof(float));
        if (st != VI_OK)
            vi_fail(err, st, "linear prepare: uploading the weight [%lld, %lld] failed",
                    (long long)N, (long long)K);
    }
    free(stage);
    return st;
}

static vi_status cuda_linear_prepare(vi_backend *b, const float *w, int64_t N, int64_t K,
                                     int out_in, const float *bias, void **prepared, vi_error *err)
{
    *prepared = NULL;
    if (N < 1 || K < 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "linear prepare: N and K must be >= 1 (got N=%lld, K=%lld)", (long long)N,
                       (long long)K);
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "linear prepare: the weight [%lld, %lld] has no data",
                       (long long)N, (long long)K);
    int64_t ldw = 0, total = 0;
    if (N <= INT64_MAX - CUDA_LDW_ALIGN)
        ldw = (N + CUDA_LDW_ALIGN - 1) / CUDA_LDW_ALIGN * CUDA_LDW_ALIGN;
    if (ldw == 0 || !mul_ok(K, ldw, &total) || (uint64_t)total > SIZE_MAX / sizeof(float))
        return vi_fail(err, VI_ERR_LIMIT, "linear prepare: the weight [%lld, %lld] is too large",
                       (long long)N, (long long)K);
    vi_cuda_linear *lw = (vi_cuda_linear *)calloc(1, sizeof *lw);
    if (!lw)
        return vi_fail(err, VI_ERR_NOMEM, "linear prepare: out of memory");
    lw->N = N;
    lw->K = K;
    lw->ldw = ldw;
    vi_status st = VI_OK;
    lw->w = (float *)weights_alloc(b, (size_t)total * sizeof(float));
    if (!lw->w) {
        st = vi_fail(err, VI_ERR_NOMEM,
                     "linear prepare: out of device memory for the weight "
                     "[%lld, %lld] (%lld bytes)",
                     (long long)N, (long long)K, (long long)(total * (int64_t)sizeof(float)));
        goto fail;
    }
    st = upload_transposed(b, lw, w, out_in, err);
    if (st != VI_OK)
        goto fail;
    if (bias) {
        lw->bias = (float *)weights_alloc(b, (size_t)N * sizeof(float));
        if (!lw->bias) {
            st = vi_fail(err, VI_ERR_NOMEM,
                         "linear prepare: out of device memory for the bias [%lld]", (long long)N);
            goto fail;
        }
        st = cuda_upload(b, lw->bias, bias, (size_t)N * sizeof(float));
        if (st != VI_OK) {
            vi_fail(err, st, "linear prepare: uploading the bias [%lld] failed", (long long)N);
            goto fail;
        }
    }
    *prepared = lw;
    return VI_OK;

fail:
    cuda_linear_release(b, lw);
    return st;
}

/* The kernel for a product: the forced one, else split-K for few rows and
 * the larger tile once it still gives every SM two blocks. */
static vi_cuda_lin_path pick_path(const vi_cuda_ctx *c, const vi_cuda_gemm *g)
{
    if (c->lin_path != VI_CUDA_LIN_AUTO)
        return c->lin_path;
    if (g->M <= CUDA_SPLITK_MAX_M)
        return VI_CUDA_LIN_SPLITK;
    int64_t tiles = ((g->M + 127) / 128) * ((g->N + 127) / 128) * g->batch;
    return tiles >= 2 * (int64_t)c->sm_count ? VI_CUDA_LIN_TILE128 : VI_CUDA_LIN_TILE64;
}

/* Enqueues a product. The split-K workspace is a block of the backend's
 * pool, given back as soon as both kernels are enqueued: the next user of
 * the block is ordered after them on this backend's stream. */
static vi_status run_gemm(vi_cuda_ctx *c, const vi_cuda_gemm *g)
{
    vi_cuda_lin_path path = pick_path(c, g);
    int64_t need = vi_cuda_gemm_work_floats(g, path);
    if (need < 0 || (uint64_t)need > SIZE_MAX / sizeof(float))
        return VI_ERR_LIMIT;
    float *work = NULL;
    if (need > 0) {
        pthread_mutex_lock(&c->lock);
        work = (float *)vi_cuda_pool_alloc(&c->pool, (size_t)need * sizeof(float));
        pthread_mutex_unlock(&c->lock);
        if (!work)
            return VI_ERR_NOMEM;
    }
    cudaError_t rc = vi_cuda_gemm_launch(g, path, work, c->stream);
    if (work) {
        pthread_mutex_lock(&c->lock);
        vi_cuda_pool_free(&c->pool, work);
        pthread_mutex_unlock(&c->lock);
    }
    return launched(rc);
}

static vi_status cuda_linear(vi_backend *b, const void *prepared, const float *x, int64_t M,
                             float *y)
{
    const vi_cuda_linear *lw = (const vi_cuda_linear *)prepared;
    if (!lw || M < 0)
        return VI_ERR_INVALID;
    if (M == 0)
        return VI_OK;
    if (!x || !y)
        return VI_ERR_INVALID;
    int64_t t;
    if (!mul_ok(M, lw->K, &t) || !mul_ok(M, lw->N, &t))
        return VI_ERR_LIMIT;
    vi_cuda_gemm g = {x, lw->w, lw->bias, y, M, lw->N, lw->K, lw->ldw, 1, 0, 0, 0, 1};
    return run_gemm(enter(b), &g);
}

static vi_status cuda_matmul(vi_backend *b, const float *a, const float *bm, int64_t batch,
                             int64_t M, int64_t K, int64_t N, float *y)
{
    if (batch < 0 || M < 0 || K < 0 || N < 0)
        return VI_ERR_INVALID;
    if (batch == 0 || M == 0 || N == 0)
        return VI_OK;
    if (!y || (K > 0 && (!a || !bm)))
        return VI_ERR_INVALID;
    int64_t mk, kn, mn, t;
    if (!mul_ok(M, K, &mk) || !mul_ok(K, N, &kn) || !mul_ok(M, N, &mn) || !mul_ok(batch, mk, &t) ||
        !mul_ok(batch, kn, &t) || !mul_ok(batch, mn, &t) || (uint64_t)t > SIZE_MAX / sizeof(float))
        return VI_ERR_LIMIT;
    vi_cuda_ctx *c = enter(b);
    if (K == 0) /* empty sums: +0, whose bits are all zero */
        return launched(cudaMemsetAsync(y, 0, (size_t)t * sizeof(float), c->stream));
    vi_cuda_gemm g = {a, bm, NULL, y, M, N, K, N, batch, mk, kn, mn, 0};
    return run_gemm(c, &g);
}

/* ==== elementwise ==== */

static vi_status cuda_binary(vi_backend *b, vi_op op, const float *a, int64_t n, const float *bv,
                             int64_t nb, float *y)
{
    int empty;
    vi_status st = vi_args_binary(op, a, n, bv, nb, y, &empty);
    if (st != VI_OK || empty)
        return st;
    vi_cuda_ctx *c = enter(b);
    return launched(vi_cuda_binary_launch(op, a, n, bv, nb, y, c->stream));
}

static vi_status cuda_unary(vi_backend *b, vi_op op, int gelu_tanh, const float *x, int64_t n,
                            float *y)
{
    int empty;
    vi_status st = vi_args_unary(op, x, n, y, &empty);
    if (st != VI_OK || empty)
        return st;
    vi_cuda_ctx *c = enter(b);
    return launched(vi_cuda_unary_launch(op, gelu_tanh, x, n, y, c->stream));
}

/* ==== row ops ==== */

/* The shared row-op rules (core/backend_args.h) plus the grid size limit;
 * *work is 1 when there is something to launch. */
static vi_status check_rows(int64_t rows, int64_t D, int64_t min_d, int ptrs_ok, int *work)
{
    int empty;
    *work = 0;
    vi_status st = vi_args_rows(rows, D, min_d, ptrs_ok, &empty);
    if (st != VI_OK || empty)
        return st;
    if (rows / VI_CUDA_ROWS_PER_BLOCK >= 0x7fffffff)
        return VI_ERR_LIMIT; /* grid.x */
    *work = 1;
    return VI_OK;
}

static vi_status cuda_softmax(vi_backend *b, const float *x, int64_t rows, int64_t D, float *y)
{
    int work;
    vi_status st = check_rows(rows, D, 0, x && y, &work);
    if (st != VI_OK || !work)
        return st;
    vi_cuda_ctx *c = enter(b);
    return launched(vi_cuda_softmax_launch(x, rows, D, y, c->stream));
}

static vi_status cuda_layer_norm(vi_backend *b, const float *x, int64_t rows, int64_t D,
                                 const float *gamma, const float *beta, float eps, float *y)
{
    int work;
    vi_status st = check_rows(rows, D, 0, x && y && gamma, &work);
    if (st != VI_OK || !work)
        return st;
    vi_cuda_ctx *c = enter(b);
    return launched(vi_cuda_layer_norm_launch(x, rows, D, gamma, beta, eps, y, c->stream));
}

static vi_status cuda_rms_norm(vi_backend *b, const float *x, int64_t rows, int64_t D,
                               const float *gamma, float eps, float *y)
{
    int work;
    vi_status st = check_rows(rows, D, 0, x && y && gamma, &work);
    if (st != VI_OK || !work)
        return st;
    vi_cuda_ctx *c = enter(b);
    return launched(vi_cuda_rms_norm_launch(x, rows, D, gamma, eps, y, c->stream));
}

static vi_status cuda_argmax(vi_backend *b, const float *x, int64_t rows, int64_t D, int64_t *y)
{
    int work;
    vi_status st = check_rows(rows, D, 1, x && y, &work);
    if (st != VI_OK || !work)
        return st;
    vi_cuda_ctx *c = enter(b);
    return launched(vi_cuda_argmax_launch(x, rows, D, y, c->stream));
}

/* ids live in device memory: the kernel flags an id outside [0, V) and the
 * call waits for the flag, so a bad id fails as on the CPU. */
static vi_status cuda_embedding(vi_backend *b, const int64_t *ids, int64_t n, const float *table,
                                int64_t V, int64_t D, float *y)
{
    int empty;
    vi_status st0 = vi_args_embedding(ids, n, table, V, D, y, &empty);
    if (st0 != VI_OK || empty)
        return st0;
    vi_cuda_ctx *c = enter(b);
    int bad = 0;
    pthread_mutex_lock(&c->lock);
    cudaError_t rc = cudaMemsetAsync(c->flag, 0, sizeof(int), c->stream);
    if (rc == cudaSuccess)
        rc = vi_cuda_embedding_launch(ids, n, table, V, D, y, c->flag, c->stream);
    if (rc == cudaSuccess)
        rc = cudaMemcpyAsync(&bad, c->flag, sizeof(int), cudaMemcpyDeviceToHost, c->stream);
    vi_status st = finish(c, rc);
    pthread_mutex_unlock(&c->lock);
    if (st == VI_OK && bad)
        return VI_ERR_INVALID;
    return st;
}

/* ==== creation ==== */

/* Frees a context's device state (whatever of it exists) and the context. */
static void ctx_teardown(vi_cuda_ctx *c)
{
    cudaSetDevice(c->device);
    if (c->ext_free)
        c->ext_free(c->ext);
    if (c->stream)
        cudaStreamSynchronize(c->stream);
    cudaFree(c->flag);
    vi_cuda_pool_destroy(&c->pool);
    vi_cuda_stage_destroy(&c->stage);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Drops one reference of a primary; the last one frees it (and the weights). */
static void ctx_unref(vi_cuda_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    int last = --c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        ctx_teardown(c);
}

/* A worker is freed at once and releases its primary; a primary lives on
 * while workers use its weights. */
static void cuda_destroy(vi_backend *b)
{
    if (!b)
        return;
    vi_cuda_ctx *c = (vi_cuda_ctx *)b->ctx;
    if (c && c->weights != c) {
        vi_cuda_ctx *w = c->weights;
        ctx_teardown(c);
        ctx_unref(w);
    } else if (c) {
        ctx_unref(c);
    }
    free(b);
}

/* A backend on `device` with its own stream, staging, pool and flag. Its
 * weights live in `weights`' pool (a primary, which gains a reference), or
 * in its own when weights is NULL. NULL with err filled on failure. */
static vi_backend *backend_new(int device, int sm_count, size_t cap, vi_cuda_ctx *weights,
                               vi_error *err)
{
    vi_backend *b = (vi_backend *)calloc(1, sizeof *b);
    vi_cuda_ctx *c = (vi_cuda_ctx *)calloc(1, sizeof *c);
    if (!b || !c) {
        free(b);
        free(c);
        vi_fail(err, VI_ERR_NOMEM, "out of memory creating the CUDA backend");
        return NULL;
    }
    c->device = device;
    c->sm_count = sm_count;
    c->lin_path = VI_CUDA_LIN_AUTO;
    c->refs = 1;
    c->weights = c;
    pthread_mutex_init(&c->lock, NULL);
    if (vi_cuda_pool_init(&c->pool, cap) != VI_OK) {
        vi_fail(err, VI_ERR_NOMEM, "out of memory creating the CUDA backend's memory pool");
        ctx_teardown(c);
        free(b);
        return NULL;
    }
    cudaError_t rc;
    if ((rc = cudaSetDevice(device)) != cudaSuccess ||
        (rc = cudaStreamCreate(&c->stream)) != cudaSuccess ||
        (rc = vi_cuda_stage_init(&c->stage)) != cudaSuccess ||
        (rc = cudaMalloc((void **)&c->flag, sizeof(int))) != cudaSuccess) {
        vi_fail(err, vi_cuda_status(rc), "CUDA device %d: setting up the backend failed: %s",
                device, cudaGetErrorString(rc));
        ctx_teardown(c);
        free(b);
        return NULL;
    }
    if (weights) {
        pthread_mutex_lock(&weights->lock);
        weights->refs++;
        pthread_mutex_unlock(&weights->lock);
        c->weights = weights;
    }
    b->ctx = c;
    b->weights_domain = c->weights;
    b->destroy = cuda_destroy;
    b->name = "cuda";
    b->alloc = cuda_alloc;
    b->free = cuda_free;
    b->upload = cuda_upload;
    b->download = cuda_download;
    b->const_prepare = cuda_const_prepare;
    b->const_release = cuda_const_release;
    b->linear_prepare = cuda_linear_prepare;
    b->linear_release = cuda_linear_release;
    b->linear = cuda_linear;
    b->matmul = cuda_matmul;
    b->binary = cuda_binary;
    b->unary = cuda_unary;
    b->softmax = cuda_softmax;
    b->layer_norm = cuda_layer_norm;
    b->rms_norm = cuda_rms_norm;
    b->argmax = cuda_argmax;
    b->embedding = cuda_embedding;
    return b;
}

extern "C" vi_backend *vi_cuda_backend_create(int device, vi_error *err)
{
    int count = 0;
    cudaError_t rc = cudaGetDeviceCount(&count);
    if (rc != cudaSuccess) {
        vi_fail(err, VI_ERR_UNSUPPORTED, "no CUDA device: %s", cudaGetErrorString(rc));
        return NULL;
    }
    if (count < 1) {
        vi_fail(err, VI_ERR_UNSUPPORTED, "no CUDA device: the driver reports none");
        return NULL;
    }
    if (device < 0 || device >= count) {
        vi_fail(err, VI_ERR_INVALID, "CUDA device %d does not exist (%d device%s: 0..%d)", device,
                count, count == 1 ? "" : "s", count - 1);
        return NULL;
    }
    cudaDeviceProp prop;
    if ((rc = cudaSetDevice(device)) != cudaSuccess ||
        (rc = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) {
        vi_fail(err, VI_ERR_IO, "CUDA device %d: %s", device, cudaGetErrorString(rc));
        return NULL;
    }
    size_t cap = VI_CUDA_POOL_DEFAULT_CAP;
    if (prop.totalGlobalMem / 4 < cap)
        cap = prop.totalGlobalMem / 4;
    int sm = prop.multiProcessorCount > 0 ? prop.multiProcessorCount : 1;
    vi_backend *b = backend_new(device, sm, cap, NULL, err);
    if (!b)
        return NULL;
    /* the engine id (and so every receipt and GET /v2) names the GPU, its SM
     * count and the driver and runtime versions; none of them changes a bit */
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    snprintf(b->detail, sizeof b->detail, "%.80s sm=%d driver=%d runtime=%d", prop.name,
             prop.multiProcessorCount, driver, runtime);
    return b;
}

extern "C" vi_backend *vi_cuda_backend_create_worker(vi_backend *shared, vi_error *err)
{
    vi_cuda_ctx *s = vi_cuda_ctx_of(shared);
    if (!s) {
        vi_fail(err, VI_ERR_INVALID, "create_worker: backend '%s' is not a CUDA backend",
                shared && shared->name ? shared->name : "(null)");
        return NULL;
    }
    vi_cuda_ctx *w = s->weights;
    pthread_mutex_lock(&w->lock);
    size_t cap = w->pool.st.cap_bytes;
    pthread_mutex_unlock(&w->lock);
    vi_backend *b = backend_new(w->device, w->sm_count, cap, w, err);
    if (!b)
        return NULL;
    ((vi_cuda_ctx *)b->ctx)->lin_path = s->lin_path;
    memcpy(b->detail, shared->detail, sizeof b->detail);
    return b;
}

extern "C" const void *vi_cuda_backend_stream(vi_backend *b)
{
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    return c ? (const void *)c->stream : NULL;
}

extern "C" vi_status vi_cuda_backend_set_linear_path(vi_backend *b, int path, vi_error *err)
{
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    if (!c)
        return vi_fail(err, VI_ERR_INVALID, "set_linear_path: backend '%s' is not a CUDA backend",
                       b && b->name ? b->name : "(null)");
    if (path != VI_CUDA_LIN_AUTO && path != VI_CUDA_LIN_SPLITK && path != VI_CUDA_LIN_TILE64 &&
        path != VI_CUDA_LIN_TILE128)
        return vi_fail(err, VI_ERR_INVALID, "set_linear_path: unknown path %d", path);
    c->lin_path = (vi_cuda_lin_path)path;
    return VI_OK;
}

extern "C" vi_status vi_cuda_backend_pool_stats(vi_backend *b, vi_cuda_pool_stats *out,
                                                vi_error *err)
{
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    if (!c)
        return vi_fail(err, VI_ERR_INVALID, "pool_stats: backend '%s' is not a CUDA backend",
                       b && b->name ? b->name : "(null)");
    pthread_mutex_lock(&c->lock);
    *out = c->pool.st;
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_lock(&c->stage.lock);
    out->stage_bytes = c->stage.bytes;
    pthread_mutex_unlock(&c->stage.lock);
    return VI_OK;
}

extern "C" vi_status vi_cuda_backend_set_pool_cap(vi_backend *b, size_t cap_bytes, vi_error *err)
{
    vi_cuda_ctx *c = vi_cuda_ctx_of(b);
    if (!c)
        return vi_fail(err, VI_ERR_INVALID, "set_pool_cap: backend '%s' is not a CUDA backend",
                       b && b->name ? b->name : "(null)");
    enter(b);
    pthread_mutex_lock(&c->lock);
    c->pool.st.cap_bytes = cap_bytes;
    vi_cuda_pool_trim(&c->pool, cap_bytes);
    pthread_mutex_unlock(&c->lock);
    return VI_OK;
}
