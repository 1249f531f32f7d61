/* cuda/device_probe.h — C interface to the CUDA device probe. */
#ifndef VI_CUDA_DEVICE_PROBE_H
#define VI_CUDA_DEVICE_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a one-line description of device 0 (or why there is none) into buf
 * and returns the number of CUDA devices (0 when none or no driver). */
int vi_cuda_probe(char *buf, size_t bufsize);

#ifdef __cplusplus
}
#endif

#endif
