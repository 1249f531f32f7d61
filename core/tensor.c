/* core/tensor.c — datatype tables, shape arithmetic and exact 16-bit float widening. */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *kserve;
    const char *safetensors;
    size_t size;
} DTYPES[VI_DT_COUNT] = {
    [VI_DT_INVALID] = {NULL, NULL, 0},   [VI_DT_BOOL] = {"BOOL", "BOOL", 1},
    [VI_DT_UINT8] = {"UINT8", "U8", 1},  [VI_DT_INT8] = {"INT8", "I8", 1},
    [VI_DT_INT16] = {"INT16", "I16", 2}, [VI_DT_INT32] = {"INT32", "I32", 4},
    [VI_DT_INT64] = {"INT64", "I64", 8}, [VI_DT_FP16] = {"FP16", "F16", 2},
    [VI_DT_BF16] = {"BF16", "BF16", 2},  [VI_DT_FP32] = {"FP32", "F32", 4},
    [VI_DT_FP64] = {"FP64", "F64", 8},
};

size_t vi_dtype_size(vi_dtype dt)
{
    return (dt > VI_DT_INVALID && dt < VI_DT_COUNT) ? DTYPES[dt].size : 0;
}

const char *vi_dtype_kserve_name(vi_dtype dt)
{
    return (dt > VI_DT_INVALID && dt < VI_DT_COUNT) ? DTYPES[dt].kserve : NULL;
}

vi_dtype vi_dtype_from_kserve(const char *name)
{
    for (int i = 1; name && i < VI_DT_COUNT; i++)
        if (strcmp(name, DTYPES[i].kserve) == 0)
            return (vi_dtype)i;
    return VI_DT_INVALID;
}

const char *vi_dtype_safetensors_name(vi_dtype dt)
{
    return (dt > VI_DT_INVALID && dt < VI_DT_COUNT) ? DTYPES[dt].safetensors : NULL;
}

vi_dtype vi_dtype_from_safetensors(const char *name)
{
    for (int i = 1; name && i < VI_DT_COUNT; i++)
        if (strcmp(name, DTYPES[i].safetensors) == 0)
            return (vi_dtype)i;
    return VI_DT_INVALID;
}

vi_status vi_shape_numel(int ndim, const int64_t *shape, int64_t *numel, vi_error *err)
{
    if (ndim < 0 || ndim > VI_MAX_DIMS)
        return vi_fail(err, VI_ERR_LIMIT, "tensor has %d dimensions (at most %d are supported)",
                       ndim, VI_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return vi_fail(err, VI_ERR_INVALID, "dimension %d is negative (%lld)", i,
                           (long long)shape[i]);
        if (shape[i] != 0 && n > INT64_MAX / shape[i])
            return vi_fail(err, VI_ERR_LIMIT, "element count overflows 64 bits");
        n *= shape[i];
    }
    *numel = n;
    return VI_OK;
}

int64_t vi_tensor_numel(const vi_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

void vi_shape_str(int ndim, const int64_t *shape, char *buf, size_t bufsize)
{
    size_t used = 0;
    if (bufsize == 0)
        return;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, bufsize, "[");
    for (int i = 0; i < ndim && used < bufsize; i++)
        used += (size_t)snprintf(buf + used, bufsize - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    if (used < bufsize)
        snprintf(buf + used, bufsize - used, "]");
}

