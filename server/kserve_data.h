/* server/kserve_data.h — pieces shared by the KServe request and response
 * codecs: the checks run before jansson parses, tensor headers (name,
 * datatype, shape) and tensor data (JSON numbers or binary slices) decoded
 * into row-major little-endian bytes. Internal to server/kserve_*.c. */
#ifndef VI_KSERVE_DATA_H
#define VI_KSERVE_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"
#include "core/tensor.h"
#include "server/kserve.h"

/* Reads an optional string member; *out is NULL if absent, else a malloc'ed
 * copy. Fails if present with another type. */
vi_status vi_ks_opt_string(json_t *obj, const char *key, const char *path, char **out,
                           vi_error *err);

/* Where a tensor's bytes come from. */
typedef struct vi_ks_blob {
    const uint8_t *data; /* the binary part after the JSON (may be NULL when len is 0) */
    size_t len;
    size_t used;     /* bytes taken so far, in tensor order */
    size_t json_len; /* length of the JSON text: a JSON element takes at least one byte */
} vi_ks_blob;

/* Decodes the tensor object at `path` ("inputs[1]") into t: name, datatype,
 * shape (at most VI_MAX_DIMS, numel <= max_elements) and a malloc'ed data
 * buffer, from "data" (flat or nested JSON) or parameters.binary_data_size
 * bytes taken from blob. Shapes the JSON text or the binary bytes left cannot
 * fill are rejected before anything is allocated. allow_nonfinite accepts the strings "NaN",
 * "Infinity" and "-Infinity" for FP32/FP64. On failure t->data is NULL. */
vi_status vi_ks_read_tensor(json_t *obj, const char *path, int64_t max_elements,
                            int allow_nonfinite, vi_ks_blob *blob, vi_tensor *t, vi_error *err);

/* Fails unless every byte of the binary part was taken by some tensor. */
vi_status vi_ks_blob_done(const vi_ks_blob *blob, vi_error *err);

struct vi_kserve_request;
struct vi_kserve_limits;

/* Decodes the common request shape without jansson (server/kserve_fast.c):
 * returns 1 with req filled exactly as vi_kserve_parse_request would fill it,
 * or 0 with req zeroed when the request is outside that shape or has any
 * fault (the full route then decides). */
int vi_ks_fast_request(const char *json, size_t len, const uint8_t *binary, size_t binary_len,
                       const struct vi_kserve_limits *lim, struct vi_kserve_request *req);

/* vi_kserve_parse_request through jansson only (the reference for the above). */
vi_status vi_ks_parse_request_full(const char *json, size_t json_len, const uint8_t *binary,
                                   size_t binary_len, const struct vi_kserve_limits *lim,
                                   struct vi_kserve_request *req, vi_error *err);

#endif
