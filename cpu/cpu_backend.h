/* cpu/cpu_backend.h — the CPU backend: scalar reference kernels in the
 * canonical order plus AVX2 / AVX-512 paths chosen at run time, work split
 * over a thread pool. Every path gives the bits of the scalar reference. */
#ifndef VI_CPU_BACKEND_H
#define VI_CPU_BACKEND_H

#include "../core/backend.h"
#include "isa.h"

/* Creates a CPU backend with n_threads threads (>= 1) and the given SIMD path
 * (VI_ISA_AUTO picks the best supported; forcing an unsupported one fails with
 * a message). Returns NULL and fills err on failure. Free with b->destroy(b). */
vi_backend *vi_cpu_backend_create(int n_threads, vi_isa isa, vi_error *err);

#endif
