/* server/llm_sched.h — serving one GGUF language model: the model bundle
 * (weights, tokenizer, digest), the completion job shared by an HTTP request
 * and the scheduler (reference-counted), and the continuous-batching
 * scheduler: one thread per model, a bounded queue, up to max_seqs sequences
 * decoding at once, each with its own KV cache; every step is ONE
 * vi_llama_forward over the decode row of every decoding sequence plus
 * prefill rows of newly admitted ones (at most step_tokens prefill rows).
 * Because each row's bits depend only on its own sequence, a completion is
 * bit-identical to vi_llm_run_alone of the same job. docs/llm.md
 * ("Serving") describes the stops and what the generated ids cover. */
#ifndef VI_LLM_SCHED_H
#define VI_LLM_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"
#include "core/status.h"
#include "core/tensor.h"
#include "cpu/isa.h"
#include "models/llama.h"
#include "models/sampler.h"
#include "models/tokenizer.h"

#define VI_LLM_MAX_STOP 4

typedef struct vi_llm_sched vi_llm_sched;

/* A served model. */
typedef struct vi_llm {
    char name[VI_NAME_MAX];
    char path[4096];
    vi_llama *model;
    vi_tokenizer *tok;
    uint8_t digest[VI_SHA256_LEN]; /* core/gguf_digest.h */
    int32_t n_ctx;                 /* positions per sequence: min(requested, training context) */
    double load_s;                 /* load + digest time */
    vi_llm_sched *sched;           /* NULL until vi_llm_sched_start */
} vi_llm;

/* Loads the GGUF at path under name, with its tokenizer and digest; n_ctx
 * (>= 2) is capped by the model's training context. Fails with the loader's
 * status and message (naming the file). */
vi_status vi_llm_open(vi_llm **out, const char *path, const char *name, int32_t n_ctx,
                      vi_error *err);

/* Stops the scheduler if started (finishing queued and running jobs), then
 * frees everything; accepts NULL. */
void vi_llm_close(vi_llm *l);

/* Why a job ended. */
typedef enum {
    VI_LLM_RUNNING = 0,
    VI_LLM_FINISH_STOP,      /* an end-of-generation token or a stop string */
    VI_LLM_FINISH_LENGTH,    /* max_tokens, or the context is full */
    VI_LLM_FINISH_CANCELLED, /* the client went away */
    VI_LLM_FINISH_ERROR      /* err says why */
} vi_llm_finish;

/* "stop" / "length" / "cancelled" / "error" (NULL while running). */
const char *vi_llm_finish_name(vi_llm_finish f);

/* What to generate; owned by the job once set (freed with it). */
typedef struct vi_llm_params {
    int32_t *prompt; /* malloc'ed token ids, n_prompt >= 1 */
    size_t n_prompt;
    vi_sampling sp;
    int32_t max_tokens; /* >= 1 */
    int n_stop;
    char *stop[VI_LLM_MAX_STOP]; /* malloc'ed, non-empty */
} vi_llm_params;

typedef struct vi_llm_job vi_llm_job;

/* Called by the producing thread with the job's mutex held after every new
 * token and once when the job ends; must not block or take the mutex. */
typedef void (*vi_llm_notify_fn)(vi_llm_job *j, void *arg);

struct vi_llm_job {
    vi_llm_params p; /* immutable once submitted */
    pthread_mutex_t mu;
    atomic_int refs;
    /* below: under mu */
    int32_t *ids; /* generated ids, in order (see docs/llm.md for what they cover) */
    size_t n_ids, cap;
    char *text; /* detokenised ids (an end-of-generation token excluded), cut
                   before the first stop string; NUL-terminated */
    size_t text_len;
    size_t stable_len; /* prefix of text that can no longer change */
    vi_llm_finish finish;
    vi_error err;
    int cancelled;
    vi_llm_notify_fn notify; /* NULL: nobody listens (any more) */
    void *notify_arg;
};

/* A new job with one reference and params p (taken over: p is zeroed);
 * VI_ERR_NOMEM. */
vi_status vi_llm_job_new(vi_llm_job **out, vi_llm_params *p, vi_error *err);
/* Takes another reference. */
void vi_llm_job_ref(vi_llm_job *j);
/* Drops a reference; the last one frees the job. Accepts NULL. */
void vi_llm_job_unref(vi_llm_job *j);
/* The requester goes away: no more notify calls, and a job still running is
 * ended (finish CANCELLED) at the scheduler's next step. */
void vi_llm_job_detach(vi_llm_job *j);
/* Frees what params own and zeroes it; accepts NULL. */
void vi_llm_params_free(vi_llm_params *p);

/* Checks params against the model: prompt ids in range and shorter than
 * l->n_ctx, max_tokens >= 1, sampling parameters valid. VI_ERR_INVALID /
 * VI_ERR_LIMIT naming the field. */
vi_status vi_llm_params_check(const vi_llm *l, const vi_llm_params *p, vi_error *err);

/* Length of the UTF-8 step at s[i..n): a whole valid sequence, 1 for a byte
 * that cannot start or continue one, 0 when the bytes end inside what may
 * still become a valid sequence (only if !final; final treats it as invalid). */
size_t vi_utf8_step(const unsigned char *s, size_t i, size_t n, int final);

typedef struct vi_llm_sched_config {
    int max_seqs;        /* sequences decoding at once (default 8) */
    int max_queue;       /* jobs waiting for a slot before submit refuses (default 64) */
    int32_t step_tokens; /* prefill rows per step (default 256) */
    int threads;         /* compute threads (default: online CPUs) */
    vi_isa isa;          /* default VI_ISA_AUTO */
} vi_llm_sched_config;

/* Fills the defaults above. */
void vi_llm_sched_config_default(vi_llm_sched_config *c);

/* Starts the scheduler thread of l; VI_ERR_INVALID for a bad config, the
 * context's errors, VI_ERR_INTERNAL if the thread cannot start. */
vi_status vi_llm_sched_start(vi_llm *l, const vi_llm_sched_config *cfg, vi_error *err);

/* Queues job j (the scheduler takes its own reference). VI_ERR_LIMIT
 * ("queue full") when max_queue jobs wait, VI_ERR_UNSUPPORTED when the
 * scheduler is stopping or not started. */
vi_status vi_llm_submit(vi_llm *l, vi_llm_job *j, vi_error *err);

/* Generates job j alone on a fresh context and cache (threads, isa as for a
 * scheduler), exactly as the scheduler would; the job ends with its finish
 * set. Returns VI_OK unless the job ended with VI_LLM_FINISH_ERROR (then
 * that status and message). */
vi_status vi_llm_run_alone(const vi_llm *l, vi_llm_job *j, int threads, vi_isa isa, vi_error *err);

/* Counters of a scheduler (zero when not started). */
typedef struct vi_llm_stats {
    uint64_t steps;       /* forward calls */
    uint64_t steps_multi; /* forward calls with more than one sequence */
    uint64_t rows;        /* rows over all steps */
    uint64_t tokens_generated;
    uint64_t jobs_done, jobs_cancelled, jobs_rejected;
    int64_t queued, active; /* gauges */
} vi_llm_stats;

/* A snapshot of the counters. */
void vi_llm_stats_get(const vi_llm *l, vi_llm_stats *s);

#endif
