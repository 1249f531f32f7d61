/* core/gguf.h — GGUF (v3, and v2 which has the same layout) files: the
 * reader (mmap'ed file or caller buffer, fully validated on open, metadata
 * and tensors looked up in O(1)) and the writer (used by tests and by
 * `verinfer gen-llm` to build small models). The ggml tensor type numbers
 * live here; core/quant.h holds their block formats and formulas.
 *
 * Layout (little-endian):
 *   "GGUF" u32 version, u64 tensor_count, u64 kv_count
 *   kv_count x { string key, u32 value type, value }
 *   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset }
 *   padding to general.alignment (default 32), then the data section
 * where a string is u64 length + bytes (no NUL) and an array value is
 * u32 element type, u64 count, elements. docs/gguf.md lists every check. */
#ifndef VI_GGUF_H
#define VI_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define VI_GGUF_MAX_DIMS 4
#define VI_GGUF_DEFAULT_ALIGNMENT 32u
#define VI_GGUF_MAX_NAME 65535u         /* longest key or tensor name, bytes */
#define VI_GGUF_MAX_STRING (1ull << 30) /* longest string value, bytes */
#define VI_GGUF_MAX_TENSORS (1ll << 20)
#define VI_GGUF_MAX_KV (1ll << 20)

/* ggml tensor types that verinfer reads (the numbers are ggml's). */
typedef enum {
    VI_GGML_F32 = 0,
    VI_GGML_F16 = 1,
    VI_GGML_Q4_0 = 2,
    VI_GGML_Q4_1 = 3,
    VI_GGML_Q8_0 = 8,
    VI_GGML_Q4_K = 12,
    VI_GGML_Q6_K = 14,
    VI_GGML_BF16 = 30
} vi_ggml_type;

/* GGUF metadata value types (the numbers are the format's). */
typedef enum {
    VI_GGUF_U8 = 0,
    VI_GGUF_I8 = 1,
    VI_GGUF_U16 = 2,
    VI_GGUF_I16 = 3,
    VI_GGUF_U32 = 4,
    VI_GGUF_I32 = 5,
    VI_GGUF_F32 = 6,
    VI_GGUF_BOOL = 7,
    VI_GGUF_STRING = 8,
    VI_GGUF_ARRAY = 9,
    VI_GGUF_U64 = 10,
    VI_GGUF_I64 = 11,
    VI_GGUF_F64 = 12
} vi_gguf_vtype;

/* A string of the file: points into the mapping, NOT NUL-terminated. */
typedef struct vi_gguf_str {
    const char *ptr;
    uint64_t len;
} vi_gguf_str;

typedef struct vi_gguf_tensor {
    vi_gguf_str name;
    int n_dims;
    int64_t ne[VI_GGUF_MAX_DIMS]; /* ne[0] innermost (row length); unused dims are 1 */
    vi_ggml_type type;
    uint64_t offset; /* from the data section start */
    uint64_t nbytes;
    const uint8_t *data; /* in the mapping; aligned as the file's alignment allows */
} vi_gguf_tensor;

typedef struct vi_gguf vi_gguf; /* opaque; owns the mmap (or borrows the caller's buffer) */

/* ==== Reader ==== */

/* Maps the file at path and validates all of it (header, every key and value,
 * every tensor's shape, type and extent). On failure *out is NULL and err names
 * the file and the offending key, tensor or field. */
vi_status vi_gguf_open(vi_gguf **out, const char *path, vi_error *err);

/* As vi_gguf_open over a file image in memory; data is borrowed (not copied)
 * and must outlive the returned handle. */
vi_status vi_gguf_open_memory(vi_gguf **out, const void *data, size_t size, vi_error *err);

/* Releases the handle and its mapping; accepts NULL. */
void vi_gguf_close(vi_gguf *g);

/* The file's format version (2 or 3). */
uint32_t vi_gguf_version(const vi_gguf *g);

/* The data alignment in bytes (general.alignment, default 32). */
uint32_t vi_gguf_alignment(const vi_gguf *g);

/* Byte offset of the data section from the start of the file. */
uint64_t vi_gguf_data_offset(const vi_gguf *g);

/* Number of tensors, and tensor i in file order (NULL when i is out of range). */
int64_t vi_gguf_n_tensors(const vi_gguf *g);
const vi_gguf_tensor *vi_gguf_tensor_at(const vi_gguf *g, int64_t i);

/* The tensor with that name, or NULL if absent. */
const vi_gguf_tensor *vi_gguf_find_tensor(const vi_gguf *g, const char *name);

/* Number of metadata keys; key i in file order and its value type (*elem_type
 * gets an array's element type, else the type itself). Any output may be
 * NULL. Returns VI_ERR_NOT_FOUND when i is out of range. */
int64_t vi_gguf_n_kv(const vi_gguf *g);
vi_status vi_gguf_kv_at(const vi_gguf *g, int64_t i, vi_gguf_str *key, vi_gguf_vtype *type,
                        vi_gguf_vtype *elem_type, vi_error *err);

/* 1 if the metadata has that key, else 0. */
int vi_gguf_has_key(const vi_gguf *g, const char *key);

/* Typed metadata getters. Each returns VI_ERR_NOT_FOUND if the key is absent
 * and VI_ERR_INVALID (the message names the key, the expected and the actual
 * type) if the value has another type. Integer getters accept any integer
 * type whose value fits the result (VI_ERR_INVALID naming the value if not);
 * float getters accept F32, and F64 when the value converts to the result
 * exactly. */
vi_status vi_gguf_get_u32(const vi_gguf *g, const char *key, uint32_t *out, vi_error *err);
vi_status vi_gguf_get_i32(const vi_gguf *g, const char *key, int32_t *out, vi_error *err);
vi_status vi_gguf_get_u64(const vi_gguf *g, const char *key, uint64_t *out, vi_error *err);
vi_status vi_gguf_get_i64(const vi_gguf *g, const char *key, int64_t *out, vi_error *err);
vi_status vi_gguf_get_f32(const vi_gguf *g, const char *key, float *out, vi_error *err);
vi_status vi_gguf_get_f64(const vi_gguf *g, const char *key, double *out, vi_error *err);
vi_status vi_gguf_get_bool(const vi_gguf *g, const char *key, int *out, vi_error *err);
vi_status vi_gguf_get_str(const vi_gguf *g, const char *key, vi_gguf_str *out, vi_error *err);

/* Element type and count of an array value (VI_ERR_INVALID if the value is
 * not an array). */
vi_status vi_gguf_get_array(const vi_gguf *g, const char *key, vi_gguf_vtype *elem_type,
                            uint64_t *count, vi_error *err);

/* Element i of an array; O(1) (string arrays are indexed on open).
 * VI_ERR_INVALID if the value is not an array of a matching element type or
 * i >= count; the integer accessors accept any integer element type whose
 * value fits, the f32 accessor F32 elements (and F64 ones that convert exactly). */
vi_status vi_gguf_array_str(const vi_gguf *g, const char *key, uint64_t i, vi_gguf_str *out,
                            vi_error *err);
vi_status vi_gguf_array_i32(const vi_gguf *g, const char *key, uint64_t i, int32_t *out,
                            vi_error *err);
vi_status vi_gguf_array_f32(const vi_gguf *g, const char *key, uint64_t i, float *out,
                            vi_error *err);

/* The packed little-endian elements of a non-string array, in the mapping
 * (possibly unaligned: copy with memcpy). VI_ERR_INVALID for a string array
 * or a non-array value. */
vi_status vi_gguf_array_data(const vi_gguf *g, const char *key, vi_gguf_vtype *elem_type,
                             uint64_t *count, const void **data, vi_error *err);

/* 1 if s holds exactly the bytes of the NUL-terminated c, else 0. */
int vi_gguf_str_eq(vi_gguf_str s, const char *c);

/* Byte size of a tensor of type t and shape ne[0..n_dims): (ne[0] / block) *
 * block_bytes * ne[1] * ... Fails with VI_ERR_UNSUPPORTED for a type this
 * reader does not read (the message names its number and, if known, its ggml
 * name) and VI_ERR_INVALID for n_dims outside 1..4, ne <= 0, ne[0] not a
 * multiple of the block size, or a size that overflows 64 bits. */
vi_status vi_gguf_tensor_bytes(uint32_t type, int n_dims, const int64_t *ne, uint64_t *nbytes,
                               vi_error *err);

/* ==== Writer ==== */

typedef struct vi_gguf_writer vi_gguf_writer;

/* A new empty writer (GGUF v3; alignment 32 unless general.alignment is set). */
vi_status vi_gguf_writer_new(vi_gguf_writer **out, vi_error *err);

/* Releases the writer and its copies; accepts NULL. */
void vi_gguf_writer_free(vi_gguf_writer *w);

/* Metadata setters: keys are written in the order they are first set; a key
 * set twice is VI_ERR_INVALID, as is an empty, over-long or non-UTF-8 key.
 * general.alignment may only be set as a u32 power of two. */
vi_status vi_gguf_writer_set_u32(vi_gguf_writer *w, const char *key, uint32_t v, vi_error *err);
vi_status vi_gguf_writer_set_i32(vi_gguf_writer *w, const char *key, int32_t v, vi_error *err);
vi_status vi_gguf_writer_set_f32(vi_gguf_writer *w, const char *key, float v, vi_error *err);
vi_status vi_gguf_writer_set_bool(vi_gguf_writer *w, const char *key, int v, vi_error *err);
vi_status vi_gguf_writer_set_str(vi_gguf_writer *w, const char *key, const char *v, vi_error *err);
vi_status vi_gguf_writer_set_str_array(vi_gguf_writer *w, const char *key, const char *const *vals,
                                       uint64_t n, vi_error *err);
vi_status vi_gguf_writer_set_i32_array(vi_gguf_writer *w, const char *key, const int32_t *vals,
                                       uint64_t n, vi_error *err);
vi_status vi_gguf_writer_set_f32_array(vi_gguf_writer *w, const char *key, const float *vals,
                                       uint64_t n, vi_error *err);

/* Any scalar type (not STRING, not ARRAY): value points to one element in
 * host (little-endian) layout of that type's size (a BOOL is one byte, 0 or 1). */
vi_status vi_gguf_writer_set_scalar(vi_gguf_writer *w, const char *key, vi_gguf_vtype type,
                                    const void *value, vi_error *err);

/* An array of any element type except ARRAY: for STRING, vals is a
 * const char *const * of n NUL-terminated strings; otherwise n packed elements. */
vi_status vi_gguf_writer_set_array(vi_gguf_writer *w, const char *key, vi_gguf_vtype elem_type,
                                   const void *vals, uint64_t n, vi_error *err);

/* Adds a tensor (written in insertion order); data is already in that type's
 * block format and is copied. nbytes must equal vi_gguf_tensor_bytes of the
 * shape; names must be unique, non-empty UTF-8 of at most 65535 bytes. */
vi_status vi_gguf_writer_add_tensor(vi_gguf_writer *w, const char *name, vi_ggml_type type,
                                    int n_dims, const int64_t *ne, const void *data,
                                    uint64_t nbytes, vi_error *err);

/* Writes the file (to path.tmp, then renamed over path). */
vi_status vi_gguf_writer_write_file(vi_gguf_writer *w, const char *path, vi_error *err);

/* Builds the same bytes in memory; *buf is malloc'ed (the caller frees it). */
vi_status vi_gguf_writer_to_memory(vi_gguf_writer *w, uint8_t **buf, size_t *size, vi_error *err);

#endif
