/* server/infer.h — one inference with its receipt, shared by `verinfer run`,
 * `verinfer verify` and the HTTP server: bind a decoded KServe request to the
 * model, resolve its mode (exact, or fast: docs/fast-mode.md), run the
 * engine of that mode, select the requested outputs, compute the input and
 * output digests, and fill + seal the receipt. Also the verification of a
 * claimed response by exact re-execution: bit for bit for an exact receipt,
 * within the claimed tolerance for a fast one. */
#ifndef VI_INFER_H
#define VI_INFER_H

#include <stdint.h>

#include <openssl/types.h>

#include "core/engine.h"
#include "core/receipt.h"
#include "core/tolerance.h"
#include "server/kserve.h"

/* What stays fixed for every request to one loaded model. */
typedef struct vi_infer_model {
    const vi_model *model;
    vi_engine *engine;      /* exact mode (and verification) */
    vi_engine *fast_engine; /* fast mode; NULL: the exact engine answers fast-mode requests */
    uint8_t model_digest[VI_SHA256_LEN];
    char engine_id[VI_RECEIPT_ENGINE_MAX];      /* of engine */
    char fast_engine_id[VI_RECEIPT_ENGINE_MAX]; /* of the engine fast-mode requests run on */
    vi_tolerance tolerance; /* what fast-mode answers claim (vi_tolerance_of_model) */
} vi_infer_model;

/* Computes the model digest, engine id and fast-mode tolerance of an
 * initialised engine; fast-mode requests run on that engine too until
 * vi_infer_model_set_fast gives them their own. */
vi_status vi_infer_model_init(vi_infer_model *im, const vi_model *m, vi_engine *e, vi_error *err);

/* Runs fast-mode requests on `fast` (an engine of the same model, e.g. a
 * view on the cuBLAS backend), or on the exact engine when fast is NULL. */
void vi_infer_model_set_fast(vi_infer_model *im, vi_engine *fast);

typedef struct vi_infer_result {
    vi_tensor *outputs; /* [n_outputs], the outputs to send, in response order, data owned */
    int n_outputs;
    int *binary;        /* [n_outputs]: 1 if the request asked for binary data */
    vi_receipt receipt; /* filled and sealed (signed when a key was given) */
} vi_infer_result;

/* One request inside a batch: bound inputs in, result or error out. */
typedef struct vi_infer_job {
    const vi_kserve_request *req;
    const vi_tensor **inputs; /* [graph n_inputs]: the request's tensors in graph order */
    int64_t rows;             /* batch rows of this request */
    vi_mode mode;             /* EXACT or FAST: the request's, else the model's */
    vi_infer_result res;      /* filled by vi_infer_run_batch when status is VI_OK */
    vi_status status;
    vi_error err;
} vi_infer_job;

/* Binds req to the model and checks it fully (shapes, datatypes, id ranges),
 * so that a bad request is rejected alone, before it joins a batch; resolves
 * its mode (req->mode, else model.json's "mode"). */
vi_status vi_infer_prepare(const vi_infer_model *im, const vi_kserve_request *req,
                           vi_infer_job *job, vi_error *err);

/* Frees a job's bound inputs and result; accepts NULL. */
void vi_infer_job_free(vi_infer_job *job);

/* Runs prepared jobs as one engine call per mode over their concatenated
 * rows (exact jobs on the exact engine, fast jobs on the fast engine: the
 * modes are never mixed in one execution) and gives each job its own outputs
 * and receipt (job->status, job->res). The canonical order makes every exact
 * job's bits identical to running it alone. Returns an error only when every
 * execution failed (each job then has that status too). */
vi_status vi_infer_run_batch(const vi_infer_model *im, vi_infer_job *const *jobs, int n,
                             EVP_PKEY *key, int64_t now, vi_error *err);

/* Runs req on the model in its mode and builds the receipt (signed with key
 * when not NULL; the creation time is `now`, seconds since the epoch).
 * Request errors are VI_ERR_INVALID with a message for the client. */
vi_status vi_infer_run(const vi_infer_model *im, const vi_kserve_request *req, EVP_PKEY *key,
                       int64_t now, vi_infer_result *res, vi_error *err);

/* Encodes the KServe response for a result, the receipt embedded as "receipt". */
vi_status vi_infer_response(const vi_infer_model *im, const vi_kserve_request *req,
                            const vi_infer_result *res, char **json, size_t *json_len,
                            uint8_t **binary, size_t *binary_len, vi_error *err);

/* Frees the outputs of a result; accepts NULL. */
void vi_infer_result_free(vi_infer_result *res);

/* ==== verification by re-execution ==== */

typedef enum {
    VI_CHECK_SIGNATURE = 0, /* receipt digest and signature */
    VI_CHECK_MODEL,         /* model name and weights (model digest) */
    VI_CHECK_INPUT,         /* input digest of the request */
    VI_CHECK_OUTPUT_DATA,   /* the response's outputs are what the receipt commits to */
    VI_CHECK_OUTPUT,        /* re-execution gives the committed outputs */
    VI_CHECK_COUNT
} vi_check;

typedef struct vi_verify_report {
    int ok[VI_CHECK_COUNT];           /* 1 passed, 0 failed */
    char detail[VI_CHECK_COUNT][640]; /* what was found */
    int verified;                     /* all passed */
    vi_mode mode; /* the receipt's mode (DEFAULT when it names none we know); for FAST
                   * the output detail says within which tolerance it was checked */
} vi_verify_report;

/* Name of a check as printed by verify: "signature", "weights", "input",
 * "output-data", "output". */
const char *vi_check_name(vi_check c);

/* Verifies a claimed response (its outputs and receipt) for req by
 * re-executing it in exact mode on im's exact engine: an exact receipt's
 * output digest must be the re-execution's; a fast receipt's outputs must be
 * within the tolerance it states (tolerance_rtol, tolerance_atol, no looser
 * than the model's) of the re-execution, element by element. trusted_key (32
 * bytes) may be NULL; allow_unsigned accepts a receipt without signature.
 * Returns VI_OK when the checks could be made (rep says whether they passed),
 * or an error when the response has no readable receipt. */
vi_status vi_infer_verify(const vi_infer_model *im, const vi_kserve_request *req,
                          const vi_kserve_response *resp, const uint8_t *trusted_key,
                          int allow_unsigned, vi_verify_report *rep, vi_error *err);

#endif
