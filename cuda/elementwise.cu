/* cuda/elementwise.cu — unary (relu, gelu, tanh, sigmoid) and binary (add,
 * mul with a repeating second operand) ops on the GPU, the twins of
 * cpu/elementwise.c: one thread per element (grid-stride), the per-op
 * formulas of core/order.h. */
#include "cuda/compat.h"

#include "cuda/cuda_ops.h"

__global__ void vi_unary_kernel(vi_op op, int gelu_tanh, const float *x, int64_t n, float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        float v = x[i], r;
        switch (op) {
        case VI_OP_RELU:
            r = vi_relu_elem(v);
            break;
        case VI_OP_GELU:
            r = gelu_tanh ? vi_gelu_tanh_elem(v) : vi_gelu_erf_elem(v);
            break;
        case VI_OP_TANH:
            r = vi_tanh_elem(v);
            break;
        default:
            r = vi_sigmoid_elem(v);
            break;
        }
        y[i] = r;
    }
}

__global__ void vi_binary_kernel(vi_op op, const float *a, int64_t n, const float *b, int64_t nb,
                                 float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        float bv = b[nb == n ? i : i % nb];
        y[i] = op == VI_OP_ADD ? vi_add_elem(a[i], bv) : vi_mul_elem(a[i], bv);
    }
}

cudaError_t vi_cuda_unary_launch(vi_op op, int gelu_tanh, const float *x, int64_t n, float *y,
                                 cudaStream_t stream)
{
    if (n < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_unary_kernel, dim3(vi_cuda_stride_blocks(n, 256)), dim3(256), 0, stream, op,
              gelu_tanh, x, n, y);
    return cudaGetLastError();
}

cudaError_t vi_cuda_binary_launch(vi_op op, const float *a, int64_t n, const float *b, int64_t nb,
                                  float *y, cudaStream_t stream)
{
    if (n < 1)
        return cudaSuccess;
    VI_LAUNCH(vi_binary_kernel, dim3(vi_cuda_stride_blocks(n, 256)), dim3(256), 0, stream, op, a, n,
              b, nb, y);
    return cudaGetLastError();
}
