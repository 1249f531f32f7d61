/* cuda/emu/internal.h — what the emulator's launch code (fiber.cpp) needs from
 * its runtime (runtime.cpp): the last error, device memory and stream
 * look-ups. Not for kernel or backend code. */
#ifndef VI_CUDA_EMU_INTERNAL_H
#define VI_CUDA_EMU_INTERNAL_H

#include "cuda/emu/emu.h"

namespace vi_emu
{

/* Records e as this OS thread's last error (cudaSuccess is not recorded); returns e. */
cudaError_t record_error(cudaError_t e);

/* True when p lies in a live cudaMalloc or cudaMallocHost block, its end included. */
bool device_accessible(const void *p);

/* True for the default stream (NULL) and for streams created and not destroyed. */
bool stream_valid(cudaStream_t s);

/* Number of devices the emulator currently reports. */
int device_count();

/* Counts one kernel launch that ran on stream s (an operation of s too). */
void count_launch(cudaStream_t s);

/* Counts one operation (launch, async copy or memset, cuBLAS call) enqueued
 * on stream s; nothing for the default stream or an invalid handle. */
void count_stream_op(cudaStream_t s);

} // namespace vi_emu

#endif
