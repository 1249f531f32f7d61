/* core/vi_hd.h — one macro so arithmetic headers compile for the host (C11)
 * and for CUDA (__host__ __device__) from the same source. */
#ifndef VI_HD_H
#define VI_HD_H

#if defined(__CUDACC__)
#define VI_HD __host__ __device__ __forceinline__
#else
#define VI_HD static inline
#endif

#endif
