/* core/safetensors.h — reading (mmap, fully validated) and writing of
 * .safetensors files: 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
 * then the data section. */
#ifndef VI_SAFETENSORS_H
#define VI_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tensor.h"

#define VI_ST_MAX_HEADER (64u << 20) /* largest JSON header accepted */
#define VI_ST_MAX_TENSORS 65536

typedef struct vi_st_tensor {
    char name[VI_NAME_MAX];
    vi_dtype dtype;
    int ndim;
    int64_t shape[VI_MAX_DIMS];
    uint64_t begin, end; /* byte offsets inside the data section */
    const void *data;    /* points into the mapping (may be unaligned) */
} vi_st_tensor;

typedef struct vi_safetensors {
    void *map; /* whole file (mmap) or caller buffer */
    size_t map_size;
    int mapped;            /* 1 if map must be munmap'ed */
    vi_st_tensor *tensors; /* sorted by name (bytewise) */
    int n_tensors;
} vi_safetensors;

/* Maps and validates a file. On failure nothing stays open. */
vi_status vi_safetensors_open(vi_safetensors *st, const char *path, vi_error *err);

/* Validates an in-memory file image (not copied; must outlive st). */
vi_status vi_safetensors_parse(vi_safetensors *st, const void *buf, size_t len, vi_error *err);

/* Releases what open/parse acquired; accepts a zeroed struct. */
void vi_safetensors_close(vi_safetensors *st);

/* The tensor with that name, or NULL. */
const vi_st_tensor *vi_safetensors_find(const vi_safetensors *st, const char *name);

/* One tensor to write: data holds numel * dtype size bytes, little-endian. */
typedef struct vi_st_write {
    const char *name;
    vi_dtype dtype;
    int ndim;
    const int64_t *shape;
    const void *data;
} vi_st_write;

/* Writes a safetensors file (header padded with spaces to a multiple of 8,
 * tensors in the given order, no gaps). Writes to path.tmp then renames. */
vi_status vi_safetensors_write(const char *path, const vi_st_write *tensors, int n, vi_error *err);

/* Builds in memory the exact bytes vi_safetensors_write would write; *out is
 * malloc'ed (the caller frees it). Fails, with *out NULL, on invalid input. */
vi_status vi_safetensors_serialize(const vi_st_write *tensors, int n, void **out, size_t *out_len,
                                   vi_error *err);

#endif
