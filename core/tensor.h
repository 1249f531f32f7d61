/* core/tensor.h — datatypes, shapes and the plain tensor view used between modules.
 *
 * A vi_tensor does not own its data: whoever allocated `data` frees it.
 * Shapes are int64; the element count of a valid tensor fits in int64 and its
 * byte size in size_t (vi_shape_numel checks for overflow). */
#ifndef VI_TENSOR_H
#define VI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define VI_MAX_DIMS 8
#define VI_NAME_MAX 128 /* tensor / model names, including the NUL */

typedef enum {
    VI_DT_INVALID = 0,
    VI_DT_BOOL,
    VI_DT_UINT8,
    VI_DT_INT8,
    VI_DT_INT16,
    VI_DT_INT32,
    VI_DT_INT64,
    VI_DT_FP16,
    VI_DT_BF16,
    VI_DT_FP32,
    VI_DT_FP64,
    VI_DT_COUNT
} vi_dtype;

typedef struct vi_tensor {
    char name[VI_NAME_MAX];
    vi_dtype dtype;
    int ndim;
    int64_t shape[VI_MAX_DIMS];
    void *data; /* row-major, little-endian, not owned */
} vi_tensor;

/* Size of one element in bytes (0 for VI_DT_INVALID). */
size_t vi_dtype_size(vi_dtype dt);

/* KServe v2 datatype names: "FP32", "INT64", "BF16", ... NULL if invalid. */
const char *vi_dtype_kserve_name(vi_dtype dt);
/* Parses a KServe datatype name; returns VI_DT_INVALID if unknown. */
vi_dtype vi_dtype_from_kserve(const char *name);

/* safetensors dtype names: "F32", "F16", "BF16", "I64", ... NULL if none. */
const char *vi_dtype_safetensors_name(vi_dtype dt);
vi_dtype vi_dtype_from_safetensors(const char *name);

/* Element count of a shape; fails (VI_ERR_LIMIT) on negative dims or overflow
 * of int64. A shape with ndim == 0 is a scalar with one element. */
vi_status vi_shape_numel(int ndim, const int64_t *shape, int64_t *numel, vi_error *err);

/* Element count of a tensor whose shape is already known to be valid. */
int64_t vi_tensor_numel(const vi_tensor *t);

/* Formats a shape as "[2, 3, -1]" into buf (always NUL-terminated). */
void vi_shape_str(int ndim, const int64_t *shape, char *buf, size_t bufsize);

#endif
