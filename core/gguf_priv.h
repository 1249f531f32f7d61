/* core/gguf_priv.h — internals shared by the GGUF files of core/ only:
 * the reader's handle (core/gguf.c builds it, core/gguf_meta.c answers
 * metadata queries from it) and the helpers the writer (core/gguf_write.c)
 * reuses so that it accepts exactly what the reader accepts. */
#ifndef VI_GGUF_PRIV_H
#define VI_GGUF_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "GGUF data is little-endian and is read in place: a little-endian host is required"
#endif

#define VI_GGUF_HEADER_BYTES 24u /* magic, version, tensor_count, kv_count */
#define VI_GGUF_N_VTYPES 13u     /* value types 0 .. 12 */

/* One metadata entry; every pointer is into the mapping. */
typedef struct vi_gguf_kv {
    vi_gguf_str key;
    vi_gguf_vtype type;
    vi_gguf_vtype elem_type; /* arrays only */
    uint64_t count;          /* arrays only: number of elements */
    const uint8_t *val;      /* the scalar, the string's length prefix, or array element 0 */
    uint64_t str_first;      /* string arrays only: index of element 0 in str_off[] */
} vi_gguf_kv;

/* A name -> position table (open addressing, linear probing). slot holds
 * position + 1, 0 marks an empty slot; cap is a power of two >= 2n. */
typedef struct vi_gguf_index {
    uint32_t *slot;
    uint64_t cap;
} vi_gguf_index;

struct vi_gguf {
    const uint8_t *base; /* the whole file */
    uint64_t size;
    int mapped; /* 1 if base must be munmap'ed */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    vi_gguf_kv *kv;
    int64_t n_tensors;
    vi_gguf_tensor *tensors;
    uint64_t *str_off; /* offset from base of each string-array element's u64 length */
    uint64_t n_str_off, cap_str_off;
    vi_gguf_index kv_index, tensor_index;
};

/* Fixed byte size of a scalar value type; 0 for STRING, ARRAY and invalid numbers. */
size_t vi_gguf_vtype_size(uint32_t t);

/* The format's name of a value type ("U32", "STRING", ...), or "invalid". */
const char *vi_gguf_vtype_name(uint32_t t);


/* The metadata entry with that key, or NULL. */
const vi_gguf_kv *vi_gguf_kv_find(const vi_gguf *g, const char *key);

#endif
