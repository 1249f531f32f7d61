/* cuda/cuda_pool.h — device memory of a CUDA backend: a caching pool of
 * cudaMalloc blocks in size classes (so the engine's per-node buffers are
 * reused instead of cudaMalloc/cudaFree per run) and pinned staging buffers
 * through which uploads and downloads are copied. The C part (statistics,
 * the cache cap) is callable from C; the pool itself is C++ (nvcc or the
 * host emulation) and lives in cuda/cuda_pool.cu. */
#ifndef VI_CUDA_POOL_H
#define VI_CUDA_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#include "cuda/compat.h"
#include <pthread.h>
extern "C" {
#endif

#include "../core/backend.h"
#include "../core/status.h"

/* Requests up to 1 MiB round up to a multiple of 256 bytes; larger ones to
 * 2^e + j * 2^(e-2) (j = 1..4), a multiple of 64 KiB; beyond 2^46 bytes a
 * block is not cached. Blocks of one class all have the class's size. */
#define VI_CUDA_POOL_SMALL_MAX ((size_t)1 << 20)
#define VI_CUDA_POOL_SMALL_STEP 256
#define VI_CUDA_POOL_LARGE_OCTAVES 26
#define VI_CUDA_POOL_CLASSES                                                                       \
    ((int)(VI_CUDA_POOL_SMALL_MAX / VI_CUDA_POOL_SMALL_STEP) + 4 * VI_CUDA_POOL_LARGE_OCTAVES)
/* default cap on cached (free) bytes: min(1 GiB, a quarter of device memory) */
#define VI_CUDA_POOL_DEFAULT_CAP ((size_t)1 << 30)
/* each of the two pinned staging buffers grows up to this; larger copies go in chunks */
#define VI_CUDA_STAGE_MAX ((size_t)8 << 20)
#define VI_CUDA_STAGE_MIN ((size_t)64 << 10)

typedef struct vi_cuda_pool_stats {
    uint64_t in_use_blocks, in_use_bytes; /* handed out, not yet freed (class sizes) */
    uint64_t cached_blocks, cached_bytes; /* freed to the pool, kept for reuse */
    uint64_t cap_bytes;                   /* cached_bytes never exceeds it */
    uint64_t hits;                        /* allocations served from the cache */
    uint64_t misses;                      /* allocations that called cudaMalloc */
    uint64_t releases;                    /* blocks given back with cudaFree */
    uint64_t stage_bytes;                 /* size of each pinned staging buffer (0: none) */
} vi_cuda_pool_stats;

/* Fills *out with the pool counters of a backend made by
 * vi_cuda_backend_create. VI_ERR_INVALID (with a message) for another backend. */
vi_status vi_cuda_backend_pool_stats(vi_backend *b, vi_cuda_pool_stats *out, vi_error *err);

/* Sets the cap on cached bytes of a CUDA backend and really frees cached
 * blocks beyond it (0: cache nothing). VI_ERR_INVALID for another backend. */
vi_status vi_cuda_backend_set_pool_cap(vi_backend *b, size_t cap_bytes, vi_error *err);

/* The size a request of `bytes` is rounded up to (its class size), or 0
 * when such a block is not cached (0 bytes counts as 1). */
size_t vi_cuda_pool_class_size(size_t bytes);

#ifdef __cplusplus
} /* extern "C" */

/* One cudaMalloc block known to the pool. */
typedef struct vi_cuda_block {
    void *ptr;
    size_t size; /* the class size (or the request, for an uncached size) */
    int cls;     /* -1: not cached */
    struct vi_cuda_block *next;
} vi_cuda_block;

/* The caching allocator. Not locked itself: the backend calls it under its
 * mutex (vi_cuda_ctx.lock). */
typedef struct vi_cuda_pool {
    vi_cuda_block **free_list; /* [VI_CUDA_POOL_CLASSES], most recently freed first */
    vi_cuda_block **buckets;   /* blocks in use, hashed by address */
    size_t n_buckets;
    vi_cuda_pool_stats st;
} vi_cuda_pool;

/* Sets up an empty pool caching at most cap_bytes. VI_ERR_NOMEM when the
 * host tables cannot be allocated. */
vi_status vi_cuda_pool_init(vi_cuda_pool *p, size_t cap_bytes);
/* A device block of at least `bytes` bytes (256-byte aligned): a cached one
 * of the same class, else cudaMalloc (after freeing the whole cache and
 * retrying once when the device is out of memory). NULL on failure, with the
 * CUDA error left as the thread's last error. */
void *vi_cuda_pool_alloc(vi_cuda_pool *p, size_t bytes);
/* Returns a block to the cache, or frees it when the cap would be exceeded
 * or it is not cached. Accepts NULL; a pointer the pool did not hand out is
 * passed to cudaFree. */
void vi_cuda_pool_free(vi_cuda_pool *p, void *ptr);
/* Frees cached blocks, largest classes first, until at most keep_bytes stay cached. */
void vi_cuda_pool_trim(vi_cuda_pool *p, size_t keep_bytes);
/* Frees every block, cached or still in use, and the host tables; accepts a
 * zeroed pool. */
void vi_cuda_pool_destroy(vi_cuda_pool *p);

/* Two pinned host buffers through which copies run double-buffered. */
typedef struct vi_cuda_stage {
    pthread_mutex_t lock; /* held for a whole copy */
    int ready;            /* lock and events exist */
    void *buf[2];
    size_t bytes; /* each buffer */
    cudaEvent_t done[2];
} vi_cuda_stage;

/* Creates the events of an empty stage (buffers come on first use). */
cudaError_t vi_cuda_stage_init(vi_cuda_stage *s);
/* Copies `bytes` host<->device (kind H2D or D2H) through the pinned buffers
 * on `stream` and waits for it; a copy falls back to a direct copy from/to
 * pageable memory when no pinned buffer can be allocated. Returns the first
 * CUDA error. */
cudaError_t vi_cuda_stage_copy(vi_cuda_stage *s, void *dst, const void *src, size_t bytes,
                               cudaMemcpyKind kind, cudaStream_t stream);
/* Frees the buffers and events; accepts a zeroed stage. */
void vi_cuda_stage_destroy(vi_cuda_stage *s);

#endif /* __cplusplus */

#endif
