/* cuda/softmax.cu — softmax over the last axis on the GPU, the twin of
 * cpu/softmax.c. One half-warp per row: lane l visits the elements
 * i = l, l+16, ... in increasing order (lane l of core/order.h's row
 * reduction), the fixed tree runs through shuffles (vi_half_max /
 * vi_half_sum), the element formulas are order.h's. y may equal x. */
#include "cuda/compat.h"

#include "cuda/cuda_ops.h"

__global__ void vi_softmax_kernel(const float *x, int64_t rows, int64_t D, float *y)
{
    const int64_t row = (int64_t)blockIdx.x * VI_CUDA_ROWS_PER_BLOCK + threadIdx.x / 16;
    const int l = (int)(threadIdx.x % 16);
    const bool valid = row < rows; /* every lane joins the shuffles */
    const float *xr = x + (valid ? row * D : 0);
    float *yr = y + (valid ? row * D : 0);

    float mx = vi_bits_f32(0xff800000u); /* -inf */
    if (valid)
        for (int64_t i = l; i < D; i += 16)
            mx = vi_max_nan(mx, xr[i]);
    const float m = vi_half_max(mx);

    float s = 0.0f;
    if (valid)
        for (int64_t i = l; i < D; i += 16) {
            float e = vi_softmax_exp(xr[i], m);
            yr[i] = e;
            s = s + e;
        }
    const float sum = vi_half_sum(s);

    if (valid)
        for (int64_t i = l; i < D; i += 16)
            yr[i] = vi_softmax_div(yr[i], sum);
}

cudaError_t vi_cuda_softmax_launch(const float *x, int64_t rows, int64_t D, float *y,
                                   cudaStream_t stream)
{
    if (rows < 1 || D < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_softmax_kernel, dim3(vi_cuda_row_blocks(rows)), dim3(VI_CUDA_ROW_THREADS), 0,
              stream, x, rows, D, y);
    return cudaGetLastError();
}
