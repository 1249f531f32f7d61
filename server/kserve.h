/* server/kserve.h — the KServe v2 (Open Inference Protocol) REST codec:
 * inference requests (JSON + binary tensor extension) decoded into tensors,
 * requests bound to a model graph, responses encoded and parsed back.
 *
 * Wire details as implemented: docs/kserve.md. Every decoded tensor holds
 * malloc'ed row-major little-endian data owned by the request / response that
 * carries it. */
#ifndef VI_KSERVE_H
#define VI_KSERVE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/graph.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/tolerance.h"

/* ==== Limits ==== */

typedef struct vi_kserve_limits {
    int max_depth;        /* JSON nesting depth (arrays + objects), checked before parsing */
    int64_t max_elements; /* elements of one tensor */
    int max_inputs;       /* entries of "inputs" */
    int max_outputs;      /* entries of "outputs" */
} vi_kserve_limits;

/* Fills lim with the defaults: depth 64, 1<<24 elements, 64 inputs, 64 outputs.
 * Dimensions are limited to VI_MAX_DIMS and names to VI_NAME_MAX - 1 bytes. */
void vi_kserve_limits_default(vi_kserve_limits *lim);

/* ==== JSON documents ==== */

/* Parses json (len bytes) into an object, safely for untrusted input: first
 * scans the text for nesting deeper than max_depth (VI_ERR_LIMIT) and for
 * bare NaN / Infinity tokens, then runs jansson with duplicate keys rejected.
 * `what` names the document in messages ("request", "verify body"). Used by
 * the codec and by every route that reads a JSON body. */
vi_status vi_kserve_load_json(const char *json, size_t len, int max_depth, const char *what,
                              json_t **root, vi_error *err);

/* ==== Requests ==== */

typedef struct vi_kserve_output_req {
    char name[VI_NAME_MAX];
    int binary_data; /* parameters.binary_data: -1 absent, 0 false, 1 true */
} vi_kserve_output_req;

typedef struct vi_kserve_request {
    char *id;          /* echoed in the response; NULL if absent */
    vi_tensor *inputs; /* [n_inputs], request order, data malloc'ed */
    int n_inputs;
    vi_kserve_output_req *outputs; /* [n_outputs]; NULL and 0 if "outputs" is absent (= all) */
    int n_outputs;
    int binary_data_output; /* request parameters.binary_data_output (0 if absent) */
    vi_mode mode;           /* parameters.verinfer_mode; VI_MODE_DEFAULT (0) if absent */
    json_t *parameters;     /* request "parameters" object (own reference) or NULL */
} vi_kserve_request;

/* Decodes a KServe v2 inference request: json (json_len bytes, need not be
 * NUL-terminated) followed by binary_len bytes of binary tensor data (may be
 * NULL when 0). lim NULL means the defaults. On failure req is left zeroed and
 * err names the field path ("inputs[1].shape[0] ..."); status VI_ERR_INVALID
 * for malformed input, VI_ERR_LIMIT for exceeded limits, VI_ERR_UNSUPPORTED
 * for valid but unsupported content (FP16/BF16 as JSON, BYTES), VI_ERR_NOMEM. */
vi_status vi_kserve_parse_request(const char *json, size_t json_len, const uint8_t *binary,
                                  size_t binary_len, const vi_kserve_limits *lim,
                                  vi_kserve_request *req, vi_error *err);

/* Frees everything a request owns and zeroes it; accepts NULL. */
void vi_kserve_request_free(vi_kserve_request *req);

/* Whether output `name` is to be sent as binary data: its own
 * parameters.binary_data if given, else the request's binary_data_output. */
int vi_kserve_output_wants_binary(const vi_kserve_request *req, const char *name);

/* Matches a request to a model graph: ordered_inputs[i] (g->n_inputs entries)
 * receives the request tensor for graph input i, *batch_rows the common batch
 * size. Every model input must be present once with the model's datatype and
 * per-row shape, the batch dimension >= 1, equal across inputs and at most
 * g->max_batch_size (when > 0); requested outputs must exist. VI_ERR_INVALID
 * with a message naming the input/output otherwise. */
vi_status vi_kserve_bind(const vi_kserve_request *req, const vi_graph *g,
                         const vi_tensor **ordered_inputs, int64_t *batch_rows, vi_error *err);

/* ==== Responses ==== */

typedef struct vi_kserve_response_spec {
    const char *model_name;
    const char *model_version; /* NULL: omitted */
    const char *id;            /* NULL: omitted (the request had none) */
    const vi_tensor *outputs;  /* [n_outputs], in the order to emit */
    int n_outputs;
    const int *binary;        /* [n_outputs] 1 = send as binary data; NULL = all as JSON */
    json_t *parameters;       /* optional top-level "parameters" object (not consumed) */
    json_t *receipt;          /* optional top-level "receipt" object (not consumed) */
    const char *receipt_text; /* or the receipt as ready JSON text (used when receipt is NULL) */
} vi_kserve_response_spec;

/* Encodes a response: *json_out (malloc'ed, NUL-terminated, *json_len bytes
 * without the NUL) and *binary_out (malloc'ed, *binary_len bytes; NULL and 0
 * when no output is binary) to be sent after the JSON. FP32 values are written
 * as the shortest round-tripping decimal, non-finite floats as the strings
 * "NaN", "Infinity", "-Infinity". On failure the outputs are NULL/0;
 * VI_ERR_INVALID for a bad spec, VI_ERR_UNSUPPORTED for FP16/BF16 as JSON. */
vi_status vi_kserve_build_response(const vi_kserve_response_spec *spec, char **json_out,
                                   size_t *json_len, uint8_t **binary_out, size_t *binary_len,
                                   vi_error *err);

typedef struct vi_kserve_response {
    char *model_name;
    char *model_version; /* NULL if absent */
    char *id;            /* NULL if absent */
    vi_tensor *outputs;  /* [n_outputs], data malloc'ed */
    int n_outputs;
    json_t *parameters; /* own reference or NULL */
    json_t *receipt;    /* own reference or NULL */
} vi_kserve_response;

/* Parses a response produced by vi_kserve_build_response (or any KServe v2
 * server), decoding every output (JSON data, including the non-finite
 * strings for FP32/FP64, or binary data sliced from `binary` in output order).
 * On failure resp is left zeroed and err names the field path. */
vi_status vi_kserve_parse_response(const char *json, size_t len, const uint8_t *binary,
                                   size_t binary_len, vi_kserve_response *resp, vi_error *err);

/* Frees everything a parsed response owns and zeroes it; accepts NULL. */
void vi_kserve_response_free(vi_kserve_response *resp);

#endif
