/* cuda/vmath_eval.cu — evaluates verinfer's own math (core/vmath.h) on the
 * GPU, element by element, from the same source the CPU uses. The GPU
 * conformance suite compares its bits with the CPU's; building it here also
 * proves in every CI run that the shared headers compile as device code. */
#include <cuda_runtime.h>
#include <stdio.h>

#include "core/order.h"
#include "cuda/vmath_eval.h"

__global__ void vi_vmath_eval_kernel(int fn, const float *x, float *y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    float v = x[i];
    switch (fn) {
    case VI_CUDA_FN_EXP:
        y[i] = vi_expf(v);
        break;
    case VI_CUDA_FN_EXPM1:
        y[i] = vi_expm1f(v);
        break;
    case VI_CUDA_FN_TANH:
        y[i] = vi_tanhf(v);
        break;
    case VI_CUDA_FN_ERF:
        y[i] = vi_erff(v);
        break;
    case VI_CUDA_FN_SIGMOID:
        y[i] = vi_sigmoidf(v);
        break;
    case VI_CUDA_FN_RSQRT:
        y[i] = vi_rsqrtf(v);
        break;
    case VI_CUDA_FN_LOG:
        y[i] = vi_logf(v);
        break;
    case VI_CUDA_FN_SIN:
        y[i] = vi_sinf(v);
        break;
    case VI_CUDA_FN_COS:
        y[i] = vi_cosf(v);
        break;
    default:
        y[i] = vi_sqrtf(v);
        break;
    }
}

extern "C" int vi_cuda_vmath_eval(int fn, const float *host_x, float *host_y, long long n,
                                  char *err, size_t errsize)
{
    float *dx = NULL, *dy = NULL;
    size_t bytes = (size_t)n * sizeof(float);
    cudaError_t rc = cudaMalloc(&dx, bytes ? bytes : 4);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&dy, bytes ? bytes : 4);
    if (rc == cudaSuccess)
        rc = cudaMemcpy(dx, host_x, bytes, cudaMemcpyHostToDevice);
    if (rc == cudaSuccess && n > 0) {
        int threads = 256;
        long long blocks = (n + threads - 1) / threads;
        vi_vmath_eval_kernel<<<(unsigned)blocks, threads>>>(fn, dx, dy, n);
        rc = cudaGetLastError();
    }
    if (rc == cudaSuccess)
        rc = cudaMemcpy(host_y, dy, bytes, cudaMemcpyDeviceToHost);
    if (rc != cudaSuccess)
        snprintf(err, errsize, "CUDA: %s", cudaGetErrorString(rc));
    cudaFree(dx);
    cudaFree(dy);
    return rc == cudaSuccess ? 0 : -1;
}
