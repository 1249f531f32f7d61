/* cuda/norm.cu — layer_norm and rms_norm over the last axis on the GPU, the
 * twins of cpu/norm.c. One half-warp per row: lane l accumulates the
 * elements i = l, l+16, ... in increasing order, the fixed tree runs through
 * shuffles (vi_half_sum), and the statistics and element formulas are
 * core/order.h's. y may equal x (each lane rewrites only what it read). */
#include "cuda/compat.h"

#include "cuda/cuda_ops.h"

__global__ void vi_layer_norm_kernel(const float *x, int64_t rows, int64_t D, const float *gamma,
                                     const float *beta, float eps, float *y)
{
    const int64_t row = (int64_t)blockIdx.x * VI_CUDA_ROWS_PER_BLOCK + threadIdx.x / 16;
    const int l = (int)(threadIdx.x % 16);
    const bool valid = row < rows; /* every lane joins the shuffles */
    const float *xr = x + (valid ? row * D : 0);
    float *yr = y + (valid ? row * D : 0);

    float s = 0.0f;
    if (valid)
        for (int64_t i = l; i < D; i += 16)
            s = s + xr[i];
    const float mean = vi_norm_div_len(vi_half_sum(s), D);

    float q = 0.0f;
    if (valid)
        for (int64_t i = l; i < D; i += 16) {
            float d = xr[i] - mean;
            q = VI_FMAF(d, d, q);
        }
    const float var = vi_norm_div_len(vi_half_sum(q), D);
    const float r = vi_norm_rstd(var, eps);

    if (!valid)
        return;
    if (beta)
        for (int64_t i = l; i < D; i += 16)
            yr[i] = vi_layer_norm_elem_beta(xr[i], mean, r, gamma[i], beta[i]);
    else
        for (int64_t i = l; i < D; i += 16)
            yr[i] = vi_layer_norm_elem(xr[i], mean, r, gamma[i]);
}

__global__ void vi_rms_norm_kernel(const float *x, int64_t rows, int64_t D, const float *gamma,
                                   float eps, float *y)
{
    const int64_t row = (int64_t)blockIdx.x * VI_CUDA_ROWS_PER_BLOCK + threadIdx.x / 16;
    const int l = (int)(threadIdx.x % 16);
    const bool valid = row < rows;
    const float *xr = x + (valid ? row * D : 0);
    float *yr = y + (valid ? row * D : 0);

    float q = 0.0f;
    if (valid)
        for (int64_t i = l; i < D; i += 16)
            q = VI_FMAF(xr[i], xr[i], q);
    const float ms = vi_norm_div_len(vi_half_sum(q), D);
    const float r = vi_norm_rstd(ms, eps);

    if (!valid)
        return;
    for (int64_t i = l; i < D; i += 16)
        yr[i] = vi_rms_norm_elem(xr[i], r, gamma[i]);
}

cudaError_t vi_cuda_layer_norm_launch(const float *x, int64_t rows, int64_t D, const float *gamma,
                                      const float *beta, float eps, float *y, cudaStream_t stream)
{
    if (rows < 1 || D < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_layer_norm_kernel, dim3(vi_cuda_row_blocks(rows)), dim3(VI_CUDA_ROW_THREADS), 0,
              stream, x, rows, D, gamma, beta, eps, y);
    return cudaGetLastError();
}

cudaError_t vi_cuda_rms_norm_launch(const float *x, int64_t rows, int64_t D, const float *gamma,
                                    float eps, float *y, cudaStream_t stream)
{
    if (rows < 1 || D < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_rms_norm_kernel, dim3(vi_cuda_row_blocks(rows)), dim3(VI_CUDA_ROW_THREADS), 0,
              stream, x, rows, D, gamma, eps, y);
    return cudaGetLastError();
}
