/* cuda/embedding.cu — embedding lookup on the GPU, the twin of
 * cpu/embedding.c: each output row is a bit copy of one table row. */
#include "cuda/compat.h"

#include "cuda/cuda_ops.h"

__global__ void vi_embedding_kernel(const int64_t *ids, int64_t n, const float *table, int64_t V,
                                    int64_t D, float *y, int *bad)
{
    const int64_t total = n * D;
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        int64_t i = e / D, j = e - i * D;
        int64_t id = ids[i];
        if (id < 0 || id >= V) {
            *bad = 1; /* every writer stores the same value: no atomic needed */
            continue;
        }
        y[e] = table[id * D + j];
    }
}

cudaError_t vi_cuda_embedding_launch(const int64_t *ids, int64_t n, const float *table, int64_t V,
                                     int64_t D, float *y, int *bad, cudaStream_t stream)
{
    if (n < 1 || D < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_embedding_kernel, dim3(vi_cuda_stride_blocks(n * D, 256)), dim3(256), 0, stream,
              ids, n, table, V, D, y, bad);
    return cudaGetLastError();
}
