/* cuda/device_probe.cu — asks the CUDA runtime which devices exist. The CUDA
 * backend proper (one .cu per op, same names as cpu/) builds on this. */
#include <cuda_runtime.h>
#include <stdio.h>

#include "cuda/device_probe.h"

extern "C" int vi_cuda_probe(char *buf, size_t bufsize)
{
    int count = 0;
    cudaError_t rc = cudaGetDeviceCount(&count);
    if (rc != cudaSuccess) {
        snprintf(buf, bufsize, "no CUDA device (%s)", cudaGetErrorString(rc));
        return 0;
    }
    if (count == 0) {
        snprintf(buf, bufsize, "no CUDA device");
        return 0;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        snprintf(buf, bufsize, "%d CUDA device(s), properties unavailable", count);
        return count;
    }
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    snprintf(buf, bufsize, "%s, %d SMs, driver %d, runtime %d", prop.name, prop.multiProcessorCount,
             driver, runtime);
    return count;
}
