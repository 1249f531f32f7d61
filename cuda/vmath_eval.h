/* cuda/vmath_eval.h — C interface to evaluating core/vmath.h on the GPU. */
#ifndef VI_CUDA_VMATH_EVAL_H
#define VI_CUDA_VMATH_EVAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VI_CUDA_FN_EXP = 0,
    VI_CUDA_FN_EXPM1,
    VI_CUDA_FN_TANH,
    VI_CUDA_FN_ERF,
    VI_CUDA_FN_SIGMOID,
    VI_CUDA_FN_RSQRT,
    VI_CUDA_FN_SQRT,
    VI_CUDA_FN_LOG,
    VI_CUDA_FN_SIN,
    VI_CUDA_FN_COS
};

/* y[i] = fn(x[i]) on CUDA device 0; returns 0, or -1 with a message in err. */
int vi_cuda_vmath_eval(int fn, const float *host_x, float *host_y, long long n, char *err,
                       size_t errsize);

#ifdef __cplusplus
}
#endif

#endif
