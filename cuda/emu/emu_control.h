/* cuda/emu/emu_control.h — C interface to the CUDA emulator's test hooks:
 * pretend there is no device, make cudaMalloc fail, count live allocations,
 * kernel launches and the operations of each stream. Only the emulated build (verinfer_cuda_emu)
 * has them. */
#ifndef VI_CUDA_EMU_CONTROL_H
#define VI_CUDA_EMU_CONTROL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sets how many devices cudaGetDeviceCount reports (1 by default; 0 makes it
 * and cudaSetDevice/cudaGetDeviceProperties fail with cudaErrorNoDevice). */
void vi_emu_set_device_count(int count);

/* After `n` more successful cudaMalloc/cudaMallocHost calls, every further
 * one fails with cudaErrorMemoryAllocation; a negative n (the default)
 * never fails. */
void vi_emu_fail_alloc_after(long n);

/* Number of device (cudaMalloc) and pinned (cudaMallocHost) allocations not
 * yet freed, over all threads. */
long vi_emu_live_allocations(void);

/* Number of kernel launches that ran (all threads) since the program started. */
long vi_emu_launch_count(void);

/* Operations enqueued on a stream (a cudaStream_t passed as an opaque
 * pointer) since it was created: kernel launches, cudaMemcpyAsync,
 * cudaMemsetAsync and emulated cuBLAS calls; -1 for the default stream or a
 * handle that is not a live stream. */
long vi_emu_stream_ops(const void *stream);

#ifdef __cplusplus
}
#endif

#endif
