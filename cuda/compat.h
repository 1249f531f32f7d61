/* cuda/compat.h — the first include of every kernel file (cuda/<op>.cu): the
 * one place that differs between the real CUDA build and the host emulation.
 *
 * Under nvcc it includes the CUDA runtime and VI_LAUNCH is a triple-chevron
 * launch. Compiled as C++17 with -DVI_CUDA_EMU (the verinfer_cuda_emu library
 * the CPU tests link), it includes the emulator (cuda/emu/emu.h) and
 * VI_LAUNCH runs the grid synchronously, block by block, each thread a fiber
 * (docs/cuda.md, "Emulation").
 *
 *     VI_LAUNCH(kernel, grid, block, shmem_bytes, stream, args...);
 *
 * grid and block are dim3 or unsigned; launch errors are read with
 * cudaGetLastError() in both builds. */
#ifndef VI_CUDA_COMPAT_H
#define VI_CUDA_COMPAT_H

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#define VI_LAUNCH(kernel, grid, block, shmem_bytes, stream, ...)                                   \
    kernel<<<(grid), (block), (shmem_bytes), (stream)>>>(__VA_ARGS__)

#elif defined(VI_CUDA_EMU)

#include "cuda/emu/emu.h"

#define VI_LAUNCH(kernel, grid, block, shmem_bytes, stream, ...)                                   \
    VI_EMU_LAUNCH(kernel, grid, block, shmem_bytes, stream, ##__VA_ARGS__)

#else
#error "cuda/compat.h: compile with nvcc, or as C++17 with -DVI_CUDA_EMU (the emulated build)"
#endif

#endif
