/* cuda/cuda_pool.cu — device memory of a CUDA backend: the caching pool of
 * cudaMalloc blocks by size class (free lists per class, in-use blocks
 * hashed by address, a cap on cached bytes) and the pinned staging buffers
 * that uploads and downloads go through. Plain cudaMalloc and
 * cudaMallocHost only, never managed memory. */
#include "cuda/compat.h"

#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_pool.h"

#define POOL_SMALL_CLASSES ((int)(VI_CUDA_POOL_SMALL_MAX / VI_CUDA_POOL_SMALL_STEP))
#define POOL_FIRST_BUCKETS 256

/* The class of a request (0 bytes counts as 1), -1 when it is not cached. */
static int class_of(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    if (bytes <= VI_CUDA_POOL_SMALL_MAX)
        return (int)((bytes - 1) / VI_CUDA_POOL_SMALL_STEP);
    int e = 20; /* 2^e < bytes <= 2^(e+1) */
    while (e < 20 + VI_CUDA_POOL_LARGE_OCTAVES && bytes > ((size_t)1 << (e + 1)))
        e++;
    if (e >= 20 + VI_CUDA_POOL_LARGE_OCTAVES)
        return -1;
    size_t base = (size_t)1 << e, q = base >> 2;
    int j = (int)((bytes - base + q - 1) / q); /* 1..4 */
    return POOL_SMALL_CLASSES + 4 * (e - 20) + (j - 1);
}

static size_t class_bytes(int cls)
{
    if (cls < POOL_SMALL_CLASSES)
        return (size_t)(cls + 1) * VI_CUDA_POOL_SMALL_STEP;
    int e = 20 + (cls - POOL_SMALL_CLASSES) / 4, j = (cls - POOL_SMALL_CLASSES) % 4 + 1;
    return ((size_t)1 << e) + (size_t)j * ((size_t)1 << (e - 2));
}

extern "C" size_t vi_cuda_pool_class_size(size_t bytes)
{
    int cls = class_of(bytes);
    return cls < 0 ? 0 : class_bytes(cls);
}

static size_t bucket_of(const vi_cuda_pool *p, const void *ptr)
{
    uint64_t h = (uint64_t)(uintptr_t)ptr >> 8;
    h *= 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (p->n_buckets - 1);
}

/* Doubles the hash table when it gets crowded; keeps the old one if the
 * host is out of memory (chains only get longer). */
static void maybe_grow(vi_cuda_pool *p)
{
    if (p->st.in_use_blocks < 2 * (uint64_t)p->n_buckets)
        return;
    size_t n = p->n_buckets * 2;
    vi_cuda_block **nb = (vi_cuda_block **)calloc(n, sizeof *nb);
    if (!nb)
        return;
    vi_cuda_block **old = p->buckets;
    size_t old_n = p->n_buckets;
    p->buckets = nb;
    p->n_buckets = n;
    for (size_t i = 0; i < old_n; i++)
        for (vi_cuda_block *blk = old[i], *next; blk; blk = next) {
            next = blk->next;
            size_t h = bucket_of(p, blk->ptr);
            blk->next = nb[h];
            nb[h] = blk;
        }
    free(old);
}

static void track(vi_cuda_pool *p, vi_cuda_block *blk)
{
    size_t h = bucket_of(p, blk->ptr);
    blk->next = p->buckets[h];
    p->buckets[h] = blk;
    p->st.in_use_blocks++;
    p->st.in_use_bytes += blk->size;
    maybe_grow(p);
}

/* Removes the in-use record of ptr and returns it (NULL if unknown). */
static vi_cuda_block *untrack(vi_cuda_pool *p, const void *ptr)
{
    for (vi_cuda_block **pp = &p->buckets[bucket_of(p, ptr)]; *pp; pp = &(*pp)->next)
        if ((*pp)->ptr == ptr) {
            vi_cuda_block *blk = *pp;
            *pp = blk->next;
            p->st.in_use_blocks--;
            p->st.in_use_bytes -= blk->size;
            return blk;
        }
    return NULL;
}

static void release(vi_cuda_pool *p, vi_cuda_block *blk)
{
    cudaFree(blk->ptr);
    p->st.releases++;
    free(blk);
}

vi_status vi_cuda_pool_init(vi_cuda_pool *p, size_t cap_bytes)
{
    memset(p, 0, sizeof *p);
    p->free_list = (vi_cuda_block **)calloc(VI_CUDA_POOL_CLASSES, sizeof *p->free_list);
    p->buckets = (vi_cuda_block **)calloc(POOL_FIRST_BUCKETS, sizeof *p->buckets);
    if (!p->free_list || !p->buckets) {
        vi_cuda_pool_destroy(p);
        return VI_ERR_NOMEM;
    }
    p->n_buckets = POOL_FIRST_BUCKETS;
    p->st.cap_bytes = cap_bytes;
    return VI_OK;
}

void *vi_cuda_pool_alloc(vi_cuda_pool *p, size_t bytes)
{
    int cls = class_of(bytes);
    if (cls >= 0 && p->free_list[cls]) {
        vi_cuda_block *blk = p->free_list[cls];
        p->free_list[cls] = blk->next;
        p->st.cached_blocks--;
        p->st.cached_bytes -= blk->size;
        p->st.hits++;
        track(p, blk);
        return blk->ptr;
    }
    vi_cuda_block *blk = (vi_cuda_block *)calloc(1, sizeof *blk);
    if (!blk)
        return NULL;
    blk->cls = cls;
    blk->size = cls >= 0 ? class_bytes(cls) : (bytes ? bytes : 1);
    cudaError_t rc = cudaMalloc(&blk->ptr, blk->size);
    if (rc == cudaErrorMemoryAllocation && p->st.cached_blocks > 0) {
        vi_cuda_pool_trim(p, 0); /* cached blocks of other classes may make room */
        rc = cudaMalloc(&blk->ptr, blk->size);
    }
    if (rc != cudaSuccess) {
        free(blk);
        return NULL;
    }
    p->st.misses++;
    track(p, blk);
    return blk->ptr;
}

void vi_cuda_pool_free(vi_cuda_pool *p, void *ptr)
{
    if (!ptr)
        return;
    vi_cuda_block *blk = untrack(p, ptr);
    if (!blk) {
        cudaFree(ptr);
        return;
    }
    if (blk->cls < 0 || blk->size > p->st.cap_bytes - p->st.cached_bytes ||
        p->st.cached_bytes > p->st.cap_bytes) {
        release(p, blk);
        return;
    }
    /* later work on the backend's single stream that gets this block is
     * ordered after the kernels that used it, so no wait is needed here */
    blk->next = p->free_list[blk->cls];
    p->free_list[blk->cls] = blk;
    p->st.cached_blocks++;
    p->st.cached_bytes += blk->size;
}

void vi_cuda_pool_trim(vi_cuda_pool *p, size_t keep_bytes)
{
    if (!p->free_list)
        return;
    /* largest classes first: fewest cudaFree calls for the bytes given back */
    for (int cls = VI_CUDA_POOL_CLASSES - 1; cls >= 0 && p->st.cached_bytes > keep_bytes; cls--)
        while (p->free_list[cls] && p->st.cached_bytes > keep_bytes) {
            vi_cuda_block *blk = p->free_list[cls];
            p->free_list[cls] = blk->next;
            p->st.cached_blocks--;
            p->st.cached_bytes -= blk->size;
            release(p, blk);
        }
}

void vi_cuda_pool_destroy(vi_cuda_pool *p)
{
    vi_cuda_pool_trim(p, 0);
    if (p->buckets)
        for (size_t i = 0; i < p->n_buckets; i++)
            for (vi_cuda_block *blk = p->buckets[i], *next; blk; blk = next) {
                next = blk->next;
                release(p, blk);
            }
    free(p->buckets);
    free(p->free_list);
    memset(p, 0, sizeof *p);
}

/* ==== pinned staging ==== */

cudaError_t vi_cuda_stage_init(vi_cuda_stage *s)
{
    memset(s, 0, sizeof *s);
    cudaError_t rc = cudaEventCreate(&s->done[0]);
    if (rc == cudaSuccess && (rc = cudaEventCreate(&s->done[1])) != cudaSuccess) {
        cudaEventDestroy(s->done[0]);
        s->done[0] = NULL;
    }
    if (rc != cudaSuccess)
        return rc;
    pthread_mutex_init(&s->lock, NULL);
    s->ready = 1;
    return cudaSuccess;
}

/* Grows both buffers towards `want` bytes each (a power of two from
 * VI_CUDA_STAGE_MIN to VI_CUDA_STAGE_MAX); keeps the old ones when pinned
 * memory runs out. */
static void stage_reserve(vi_cuda_stage *s, size_t bytes)
{
    size_t want = VI_CUDA_STAGE_MIN;
    while (want < bytes && want < VI_CUDA_STAGE_MAX)
        want *= 2;
    if (want <= s->bytes)
        return;
    void *nb[2] = {NULL, NULL};
    if (cudaMallocHost(&nb[0], want) != cudaSuccess ||
        cudaMallocHost(&nb[1], want) != cudaSuccess) {
        cudaFreeHost(nb[0]);
        (void)cudaGetLastError(); /* the copy goes on with what there is */
        return;
    }
    cudaFreeHost(s->buf[0]);
    cudaFreeHost(s->buf[1]);
    s->buf[0] = nb[0];
    s->buf[1] = nb[1];
    s->bytes = want;
}

/* Chunk k of a copy uses buffer k % 2: filling (upload) or reading
 * (download) one buffer overlaps the DMA of the other. */
static cudaError_t stage_upload(vi_cuda_stage *s, char *dst, const char *src, size_t bytes,
                                cudaStream_t stream)
{
    cudaError_t rc = cudaSuccess;
    size_t k = 0;
    for (size_t off = 0; off < bytes && rc == cudaSuccess; off += s->bytes, k++) {
        size_t len = bytes - off < s->bytes ? bytes - off : s->bytes;
        int i = (int)(k & 1);
        if (k >= 2 && (rc = cudaEventSynchronize(s->done[i])) != cudaSuccess)
            break;
        memcpy(s->buf[i], src + off, len);
        rc = cudaMemcpyAsync(dst + off, s->buf[i], len, cudaMemcpyHostToDevice, stream);
        if (rc == cudaSuccess)
            rc = cudaEventRecord(s->done[i], stream);
    }
    return rc;
}

static cudaError_t stage_download(vi_cuda_stage *s, char *dst, const char *src, size_t bytes,
                                  cudaStream_t stream)
{
    cudaError_t rc = cudaSuccess;
    size_t prev_off = 0, prev_len = 0, k = 0;
    for (size_t off = 0; off < bytes; off += s->bytes, k++) {
        size_t len = bytes - off < s->bytes ? bytes - off : s->bytes;
        int i = (int)(k & 1);
        rc = cudaMemcpyAsync(s->buf[i], src + off, len, cudaMemcpyDeviceToHost, stream);
        if (rc == cudaSuccess)
            rc = cudaEventRecord(s->done[i], stream);
        if (rc == cudaSuccess && k > 0 &&
            (rc = cudaEventSynchronize(s->done[i ^ 1])) == cudaSuccess)
            memcpy(dst + prev_off, s->buf[i ^ 1], prev_len);
        if (rc != cudaSuccess)
            return rc;
        prev_off = off;
        prev_len = len;
    }
    if (prev_len > 0 && (rc = cudaEventSynchronize(s->done[(k - 1) & 1])) == cudaSuccess)
        memcpy(dst + prev_off, s->buf[(k - 1) & 1], prev_len);
    return rc;
}

cudaError_t vi_cuda_stage_copy(vi_cuda_stage *s, void *dst, const void *src, size_t bytes,
                               cudaMemcpyKind kind, cudaStream_t stream)
{
    pthread_mutex_lock(&s->lock);
    stage_reserve(s, bytes);
    cudaError_t rc;
    if (s->bytes == 0) /* no pinned memory at all: the driver stages pageable memory itself */
        rc = cudaMemcpyAsync(dst, src, bytes, kind, stream);
    else if (kind == cudaMemcpyHostToDevice)
        rc = stage_upload(s, (char *)dst, (const char *)src, bytes, stream);
    else
        rc = stage_download(s, (char *)dst, (const char *)src, bytes, stream);
    /* also after an error: no copy may still read or write a buffer once the lock is released */
    cudaError_t sync = cudaStreamSynchronize(stream);
    pthread_mutex_unlock(&s->lock);
    return rc != cudaSuccess ? rc : sync;
}

void vi_cuda_stage_destroy(vi_cuda_stage *s)
{
    cudaFreeHost(s->buf[0]);
    cudaFreeHost(s->buf[1]);
    if (s->done[0])
        cudaEventDestroy(s->done[0]);
    if (s->done[1])
        cudaEventDestroy(s->done[1]);
    if (s->ready)
        pthread_mutex_destroy(&s->lock);
    memset(s, 0, sizeof *s);
}
