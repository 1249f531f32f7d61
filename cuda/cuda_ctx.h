/* cuda/cuda_ctx.h — the state behind a CUDA vi_backend (cuda/cuda_backend.cu):
 * a primary backend owns its stream, staging, pool and the prepared weights;
 * a worker owns its stream, staging and pool and uses its primary's weights.
 * Shared with the cuBLAS fast mode (cuda/fast_cublas.cu), which reuses every
 * op but linear and matmul. C++ (nvcc or the host emulation). */
#ifndef VI_CUDA_CTX_H
#define VI_CUDA_CTX_H

#include "cuda/compat.h"

#include "cuda/cuda_backend.h" /* first: it includes core/ with C linkage */
#include "cuda/cuda_pool.h"

#include <pthread.h>
#include <stdint.h>

typedef struct vi_cuda_ctx {
    int device;
    int sm_count;
    cudaStream_t stream;       /* every copy and kernel of this backend, in order */
    vi_cuda_lin_path lin_path; /* AUTO unless forced */
    /* `lock` guards the pool and refs. Blocks of the pool are reused without
     * a wait because all work on them is ordered by this one stream. */
    pthread_mutex_t lock;
    vi_cuda_pool pool;   /* this backend's buffers and split-K workspaces; a primary's weights */
    vi_cuda_stage stage; /* pinned buffers of upload/download (own lock) */
    int *flag;           /* one device int: embedding's bad-id flag */
    /* Whose pool holds prepared weights: this context (a primary), or the
     * primary a worker shares them with (vi_cuda_backend_create_worker; the
     * worker holds a reference on it). A primary lives until its backend and
     * all its workers are destroyed (refs, under lock). */
    struct vi_cuda_ctx *weights;
    int refs;
    /* an extension (fast mode) owning extra state; ext_free releases it */
    void *ext;
    void (*ext_free)(void *ext);
} vi_cuda_ctx;

/* A linear weight prepared by the exact backend: W^T as [K, ldw] on the
 * device, ldw = N rounded up to 128, zero columns from N; bias [N] or NULL. */
typedef struct vi_cuda_linear {
    int64_t N, K, ldw;
    float *w;
    float *bias;
} vi_cuda_linear;

/* The context of a backend made by vi_cuda_backend_create (or the fast
 * variant), or NULL for any other backend. */
vi_cuda_ctx *vi_cuda_ctx_of(vi_backend *b);

/* Maps a CUDA error to a status: VI_ERR_NOMEM for allocation failures,
 * VI_ERR_IO for other device errors. */
vi_status vi_cuda_status(cudaError_t rc);

#endif
