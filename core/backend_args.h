/* core/backend_args.h — the argument rules every backend applies to its op
 * calls (core/backend.h), in one place so the CPU and CUDA backends reject
 * exactly the same calls. Each check returns VI_OK when the op may run,
 * VI_ERR_INVALID / VI_ERR_LIMIT otherwise, and sets *empty when there is
 * nothing to compute (a valid call with zero elements). */
#ifndef VI_BACKEND_ARGS_H
#define VI_BACKEND_ARGS_H

#include <stdint.h>

#include "graph.h"
#include "status.h"

/* binary: op ADD or MUL, n >= 0, nb >= 1 dividing n, pointers when n > 0. */
static inline vi_status vi_args_binary(vi_op op, const float *a, int64_t n, const float *bv,
                                       int64_t nb, const float *y, int *empty)
{
    *empty = 0;
    if (op != VI_OP_ADD && op != VI_OP_MUL)
        return VI_ERR_INVALID;
    if (n < 0 || nb < 1 || n % nb != 0)
        return VI_ERR_INVALID;
    if (n == 0) {
        *empty = 1;
        return VI_OK;
    }
    return (a && bv && y) ? VI_OK : VI_ERR_INVALID;
}

/* unary: op RELU, GELU, TANH or SIGMOID, n >= 0, pointers when n > 0. */
static inline vi_status vi_args_unary(vi_op op, const float *x, int64_t n, const float *y,
                                      int *empty)
{
    *empty = 0;
    if (op != VI_OP_RELU && op != VI_OP_GELU && op != VI_OP_TANH && op != VI_OP_SIGMOID)
        return VI_ERR_INVALID;
    if (n < 0)
        return VI_ERR_INVALID;
    if (n == 0) {
        *empty = 1;
        return VI_OK;
    }
    return (x && y) ? VI_OK : VI_ERR_INVALID;
}

/* row ops (softmax, norms, argmax): rows, D >= 0 with rows * D within int64;
 * min_d is 1 for argmax (an empty row has no index); ptrs_ok says whether
 * the pointers the op needs are present (checked only when there is work). */
static inline vi_status vi_args_rows(int64_t rows, int64_t D, int64_t min_d, int ptrs_ok,
                                     int *empty)
{
    *empty = 0;
    if (rows < 0 || D < 0 || (rows > 0 && D < min_d))
        return VI_ERR_INVALID;
    if (D > 0 && rows > INT64_MAX / D)
        return VI_ERR_LIMIT;
    if (rows == 0 || D == 0) {
        *empty = 1;
        return VI_OK;
    }
    return ptrs_ok ? VI_OK : VI_ERR_INVALID;
}

/* embedding: n, V, D >= 0 with V * D and n * D within int64, pointers when
 * there is work. The ids themselves are checked by the backend (they may
 * live in device memory). */
static inline vi_status vi_args_embedding(const int64_t *ids, int64_t n, const float *table,
                                          int64_t V, int64_t D, const float *y, int *empty)
{
    *empty = 0;
    if (n < 0 || V < 0 || D < 0)
        return VI_ERR_INVALID;
    if (D > 0 && (V > INT64_MAX / D || n > INT64_MAX / D))
        return VI_ERR_LIMIT;
    if (n == 0 || D == 0) {
        *empty = 1;
        return VI_OK;
    }
    return (ids && table && y) ? VI_OK : VI_ERR_INVALID;
}

#endif
