/* cuda/argmax.cu — argmax over the last axis on the GPU, the twin of
 * cpu/argmax.c: the first index of the maximum, the first NaN counting as
 * the maximum (order.h vi_argmax_better).
 *
 * One half-warp per row. Lane l scans i = l, l+16, ... with the sequential
 * rule and keeps its winner (value, index); lane 0 of the half then picks
 * among the 16 winners: a NaN before any number, else the larger value,
 * ties (including -0 == +0) to the smaller index. Both the sequential scan
 * and this pick return the element minimising the key (NaN ? (0, i) :
 * (1, -value, i)), and each lane's winner minimises it over the lane's
 * elements, so the result is the sequential one. */
#include "cuda/compat.h"

#include "cuda/cuda_ops.h"

/* 1 if candidate (v, i) beats (bv, bi) under the key above; bi < 0 means none. */
__device__ __forceinline__ bool vi_argmax_pick(float v, int64_t i, float bv, int64_t bi)
{
    if (i < 0)
        return false;
    if (bi < 0)
        return true;
    bool vn = v != v, bn = bv != bv;
    if (vn || bn)
        return vn && (!bn || i < bi);
    return v > bv || (v == bv && i < bi);
}

__global__ void vi_argmax_kernel(const float *x, int64_t rows, int64_t D, int64_t *y)
{
    __shared__ float win_v[VI_CUDA_ROW_THREADS];
    __shared__ int64_t win_i[VI_CUDA_ROW_THREADS];
    const int64_t row = (int64_t)blockIdx.x * VI_CUDA_ROWS_PER_BLOCK + threadIdx.x / 16;
    const int l = (int)(threadIdx.x % 16);
    const bool valid = row < rows; /* every thread reaches the barrier */

    float bv = 0.0f;
    int64_t bi = -1;
    if (valid && l < D) {
        const float *xr = x + row * D;
        bi = l;
        bv = xr[l];
        for (int64_t i = l + 16; i < D && bv == bv; i += 16)
            if (vi_argmax_better(xr[i], bv)) {
                bv = xr[i];
                bi = i;
            }
    }
    win_v[threadIdx.x] = bv;
    win_i[threadIdx.x] = bi;
    __syncthreads();
    if (!valid || l != 0)
        return;
    for (int k = 1; k < 16; k++)
        if (vi_argmax_pick(win_v[threadIdx.x + k], win_i[threadIdx.x + k], bv, bi)) {
            bv = win_v[threadIdx.x + k];
            bi = win_i[threadIdx.x + k];
        }
    y[row] = bi;
}

cudaError_t vi_cuda_argmax_launch(const float *x, int64_t rows, int64_t D, int64_t *y,
                                  cudaStream_t stream)
{
    if (rows < 1 || D < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_argmax_kernel, dim3(vi_cuda_row_blocks(rows)), dim3(VI_CUDA_ROW_THREADS), 0,
              stream, x, rows, D, y);
    return cudaGetLastError();
}
