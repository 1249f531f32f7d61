/* server/repo.h — the model repository of `verinfer serve`: every
 * subdirectory of the repository directory holding a model.json is one
 * model, named by its directory. Each loaded model is an instance with its
 * own backend (the CPU thread pool is not re-entrant), engine, digest and
 * dynamic batcher. Instances are reference-counted: a request holds its
 * instance from lookup to reply, so a reload or unload never pulls a model
 * from under a running request (the old instance is freed when its last
 * request is answered). One mutex guards the table; nothing is global. */
#ifndef VI_REPO_H
#define VI_REPO_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/types.h>

#include "core/backend.h"
#include "core/engine.h"
#include "core/model.h"
#include "core/sha256.h"
#include "server/batcher.h"
#include "server/infer.h"
#include "server/metrics.h"

/* Creates a fresh backend for one model instance (NULL + err on failure). */
typedef vi_backend *(*vi_repo_backend_fn)(void *arg, vi_error *err);

/* Creates a backend for another worker of an instance that shares `main`'s
 * prepared weights (the same weights_domain) but has its own stream: fast 0
 * for the verification engine, 1 for fast-mode requests (cuBLAS). *out NULL
 * with VI_OK: there is no such backend (the verification engine then gets a
 * make_backend backend with its own weights; fast-mode requests run on the
 * exact engine). */
typedef vi_status (*vi_repo_worker_fn)(void *arg, vi_backend *main, int fast, vi_backend **out,
                                       vi_error *err);

/* Receives one log line (no newline), e.g. "loaded model 'mlp' ...". */
typedef void (*vi_repo_log_fn)(void *arg, const char *line);

/* Batching settings that override every model's model.json; -1 (n_preferred
 * -1) keeps the model's own value. */
typedef struct vi_repo_batch_overrides {
    int max_batch_size;
    int64_t max_queue_delay_us;
    int preferred[VI_BATCH_MAX_PREFERRED];
    int n_preferred;
    int max_queue_size;
} vi_repo_batch_overrides;

typedef struct vi_repo_config {
    const char *dir; /* the repository directory */
    vi_repo_backend_fn make_backend;
    vi_repo_worker_fn make_worker; /* may be NULL (as if it made none) */
    void *backend_arg;             /* for both */
    EVP_PKEY *key;                 /* signs receipts; NULL: unsigned (must outlive the repo) */
    vi_repo_batch_overrides batch;
    vi_repo_log_fn log; /* may be NULL */
    void *log_arg;
} vi_repo_config;

/* One loaded instance of a model. */
typedef struct vi_repo_model {
    char name[VI_NAME_MAX];
    vi_model model;
    vi_backend *backend;
    vi_engine engine;
    vi_infer_model im;
    vi_backend *fast_backend; /* fast-mode requests (a view of engine); NULL: none */
    vi_engine fast_engine;
    vi_batch_config batch; /* what the batcher was started with */
    vi_batcher *batcher;
    vi_model_metrics *metrics; /* owned by the repository entry: survives reloads */
    char digest_hex[2 * VI_SHA256_LEN + 1];
    /* re-execution for verification runs on its own engine (made on first use) */
    pthread_mutex_t verify_lock;
    vi_backend *verify_backend;
    vi_engine verify_engine;
    vi_infer_model verify_im;
    int verify_ready;
    int refs; /* guarded by the repository mutex */
} vi_repo_model;

typedef enum { VI_REPO_READY = 0, VI_REPO_UNAVAILABLE } vi_repo_state;

/* A copy of one entry for the index. */
typedef struct vi_repo_info {
    char name[VI_NAME_MAX];
    char version[VI_NAME_MAX]; /* "" when never loaded */
    vi_repo_state state;
    char reason[VI_ERROR_MSG_MAX]; /* why it is unavailable; "" when ready */
} vi_repo_info;

typedef struct vi_repo vi_repo;

/* Scans cfg->dir and loads every model in it (a model that fails stays
 * listed as unavailable with its reason). VI_ERR_IO if the directory cannot
 * be read, VI_ERR_NOMEM. */
vi_status vi_repo_open(vi_repo **out, const vi_repo_config *cfg, vi_error *err);

/* Refuses new lookups (VI_ERR_UNSUPPORTED "shutting down") and drops the
 * repository's own references, so each instance is freed (its batcher
 * drained) when its last request is answered. */
void vi_repo_stop(vi_repo *r);

/* Requests holding an instance (looked up, not yet released). */
int vi_repo_in_flight(vi_repo *r);

/* Frees everything; call after vi_repo_stop once vi_repo_in_flight is 0.
 * Accepts NULL. */
void vi_repo_close(vi_repo *r);

/* Takes a reference to the ready instance of model `name`: VI_ERR_NOT_FOUND
 * for a name not in the repository, VI_ERR_UNSUPPORTED (with the reason) for
 * a model that is not loaded or while stopping. */
vi_status vi_repo_acquire(vi_repo *r, const char *name, vi_repo_model **out, vi_error *err);

/* Drops a reference taken by vi_repo_acquire; frees a replaced instance when
 * it was the last. Never call from a batcher thread. Accepts NULL m. */
void vi_repo_release(vi_repo *r, vi_repo_model *m);

/* (Re)loads model `name` from its directory (new models in the repository
 * directory are picked up): the new instance replaces the old one once it
 * is ready; on failure the old instance (if any) keeps serving.
 * VI_ERR_INVALID for a name that cannot be a directory name, VI_ERR_NOT_FOUND
 * when there is no such model directory, the load error otherwise. */
vi_status vi_repo_load(vi_repo *r, const char *name, vi_error *err);

/* Unloads model `name` (it becomes unavailable, reason "unloaded");
 * VI_ERR_NOT_FOUND for an unknown name. Unloading an unloaded model is ok. */
vi_status vi_repo_unload(vi_repo *r, const char *name, vi_error *err);

/* Copies the index into a malloc'ed array (*n entries, sorted by name). */
vi_status vi_repo_index(vi_repo *r, vi_repo_info **out, int *n, vi_error *err);

/* 1 when every model that should be loaded (all but the unloaded ones) is
 * ready and the repository is not stopping; otherwise 0 and why in reason. */
int vi_repo_ready(vi_repo *r, char *reason, size_t reason_size);

/* Prometheus text of every model's metrics (malloc'ed; NULL when out of memory). */
char *vi_repo_metrics(vi_repo *r);

/* Runs vi_infer_verify on the instance's verification engine (serialised). */
vi_status vi_repo_verify(vi_repo *r, vi_repo_model *m, const vi_kserve_request *req,
                         const vi_kserve_response *resp, const uint8_t *trusted_key,
                         int allow_unsigned, vi_verify_report *rep, vi_error *err);

#endif
