/* server/metrics.h — per-model counters in Prometheus text format, named like
 * Triton's series with the nv_ prefix replaced by verinfer_. All counters are
 * atomics: handler threads and batcher threads update them without locks. */
#ifndef VI_METRICS_H
#define VI_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Failure reasons, as Triton labels them. */
typedef enum {
    VI_FAIL_REJECTED = 0, /* queue full, server stopping */
    VI_FAIL_CANCELED,
    VI_FAIL_BACKEND, /* the engine failed */
    VI_FAIL_OTHER,   /* bad request (4xx) */
    VI_FAIL_COUNT
} vi_fail_reason;

/* Upper bounds (rows) of the batch-size histogram buckets: 1, 2, 4, ..., 512
 * (bucket i holds executions of more than 2^(i-1) and at most 2^i rows);
 * batch_rows_bucket[VI_METRICS_BATCH_BUCKETS] counts those above 512. The
 * stored buckets are not cumulative; the rendering makes them so. */
#define VI_METRICS_BATCH_BUCKETS 10

typedef struct vi_model_metrics {
    atomic_ullong request_success;
    atomic_ullong request_failure[VI_FAIL_COUNT];
    atomic_ullong inference_count;     /* rows inferred (a request of n rows counts n) */
    atomic_ullong exec_count;          /* engine executions (batches) */
    atomic_llong pending_requests;     /* gauge: received, not yet answered */
    atomic_ullong request_duration_us; /* cumulative, successful requests */
    atomic_ullong queue_duration_us;
    atomic_ullong compute_input_us;
    atomic_ullong compute_infer_us;
    atomic_ullong compute_output_us;
    atomic_ullong
        batch_rows_bucket[VI_METRICS_BATCH_BUCKETS + 1]; /* histogram of rows per execution */
    atomic_ullong batch_rows_sum;
    atomic_ullong batch_requests_sum; /* requests merged per execution, summed */
} vi_model_metrics;

/* Zeroes all counters. */
void vi_metrics_init(vi_model_metrics *m);

/* One request for this model was received: the pending gauge goes up by one.
 * Every call is matched by exactly one vi_metrics_request_done. */
void vi_metrics_request_received(vi_model_metrics *m);

/* One finished request (success, or failure with its reason): counts the
 * outcome, adds duration_us to the request duration when ok, and takes the
 * request off the pending gauge. An out-of-range reason counts as OTHER. */
void vi_metrics_request_done(vi_model_metrics *m, int ok, vi_fail_reason reason,
                             uint64_t duration_us);

/* One engine execution of `rows` rows merged from `requests` requests, with
 * the time spent queued (summed over its requests) and computing (once per
 * execution, not per request). Adds rows to inference_count. */
void vi_metrics_execution(vi_model_metrics *m, int64_t rows, int requests, uint64_t queue_us,
                          uint64_t input_us, uint64_t infer_us, uint64_t output_us);

/* Appends the Prometheus text exposition (HELP/TYPE lines once per series,
 * one sample per model with labels model="name",version="v") of n models to
 * a malloc'ed NUL-terminated string; returns NULL on allocation failure. */
char *vi_metrics_render(const vi_model_metrics *const *models, const char *const *names,
                        const char *const *versions, int n);

/* v as a label value of the text format: backslash, double quote and newline
 * escaped (the only escapes it defines), into out (size bytes, NUL-terminated;
 * cut short, never mid-escape, when it does not fit). */
void vi_metrics_label_escape(const char *v, char *out, size_t size);

/* CLOCK_MONOTONIC in nanoseconds: the clock every server duration is measured on. */
int64_t vi_monotonic_ns(void);

#endif
