/* server/metrics.c — per-model counters (relaxed atomics) and their
 * Prometheus text exposition (format 0.0.4): HELP and TYPE once per series,
 * then one sample per model, labels model="...",version="..." escaped; and
 * the monotonic clock durations are measured on. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tensor.h"

#define RELAXED memory_order_relaxed

static void add(atomic_ullong *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, (unsigned long long)v, RELAXED);
}

static uint64_t get(const atomic_ullong *c)
{
    /* C11 atomic_load takes a non-const pointer in some libcs. */
    return (uint64_t)atomic_load_explicit((atomic_ullong *)c, RELAXED);
}

void vi_metrics_init(vi_model_metrics *m)
{
    atomic_init(&m->request_success, 0);
    for (int r = 0; r < VI_FAIL_COUNT; r++)
        atomic_init(&m->request_failure[r], 0);
    atomic_init(&m->inference_count, 0);
    atomic_init(&m->exec_count, 0);
    atomic_init(&m->pending_requests, 0);
    atomic_init(&m->request_duration_us, 0);
    atomic_init(&m->queue_duration_us, 0);
    atomic_init(&m->compute_input_us, 0);
    atomic_init(&m->compute_infer_us, 0);
    atomic_init(&m->compute_output_us, 0);
    for (int b = 0; b <= VI_METRICS_BATCH_BUCKETS; b++)
        atomic_init(&m->batch_rows_bucket[b], 0);
    atomic_init(&m->batch_rows_sum, 0);
    atomic_init(&m->batch_requests_sum, 0);
}

void vi_metrics_request_received(vi_model_metrics *m)
{
    atomic_fetch_add_explicit(&m->pending_requests, 1, RELAXED);
}

void vi_metrics_request_done(vi_model_metrics *m, int ok, vi_fail_reason reason,
                             uint64_t duration_us)
{
    if (ok) {
        add(&m->request_success, 1);
        add(&m->request_duration_us, duration_us);
    } else {
        if ((int)reason < 0 || reason >= VI_FAIL_COUNT)
            reason = VI_FAIL_OTHER;
        add(&m->request_failure[reason], 1);
    }
    atomic_fetch_sub_explicit(&m->pending_requests, 1, RELAXED);
}

/* Bucket of an execution of `rows` rows: the smallest i with rows <= 2^i. */
static int bucket_of(int64_t rows)
{
    int i = 0;
    while (i < VI_METRICS_BATCH_BUCKETS && rows > ((int64_t)1 << i))
        i++;
    return i;
}

void vi_metrics_execution(vi_model_metrics *m, int64_t rows, int requests, uint64_t queue_us,
                          uint64_t input_us, uint64_t infer_us, uint64_t output_us)
{
    uint64_t r = rows > 0 ? (uint64_t)rows : 0;
    add(&m->exec_count, 1);
    add(&m->inference_count, r);
    add(&m->batch_rows_bucket[bucket_of(rows)], 1);
    add(&m->batch_rows_sum, r);
    add(&m->batch_requests_sum, requests > 0 ? (uint64_t)requests : 0);
    add(&m->queue_duration_us, queue_us);
    add(&m->compute_input_us, input_us);
    add(&m->compute_infer_us, infer_us);
    add(&m->compute_output_us, output_us);
}

/* ==== text building ==== */

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)w < b->cap - b->len) {
            b->len += (size_t)w;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)w;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void vi_metrics_label_escape(const char *v, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = v ? v : ""; *p && o + 3 <= size; p++) {
        char c = *p == '\n' ? 'n' : *p;
        if (*p == '\\' || *p == '"' || *p == '\n')
            out[o++] = '\\';
        out[o++] = c;
    }
    if (size)
        out[o < size ? o : size - 1] = '\0';
}

/* A label value (names are shorter than VI_NAME_MAX), escaped. */
static void put_label_value(sbuf *b, const char *v)
{
    char e[2 * VI_NAME_MAX + 1];
    vi_metrics_label_escape(v, e, sizeof e);
    put(b, "%s", e);
}

/* name{model="..",version=".."[,extra]} — extra is a pre-escaped label list. */
static void put_sample_start(sbuf *b, const char *name, const char *model, const char *version,
                             const char *extra)
{
    put(b, "%s{model=\"", name);
    put_label_value(b, model);
    put(b, "\",version=\"");
    put_label_value(b, version);
    put(b, "\"%s%s} ", extra ? "," : "", extra ? extra : "");
}

/* The plain per-model series, in rendering order. */
typedef struct {
    const char *name;
    const char *type;
    const char *help;
    size_t offset; /* of an atomic_ullong in vi_model_metrics */
} series;

static const series SIMPLE[] = {
    {"verinfer_inference_request_success", "counter", "Inference requests answered successfully",
     offsetof(vi_model_metrics, request_success)},
    {"verinfer_inference_count", "counter", "Rows inferred (a request of n batch rows counts n)",
     offsetof(vi_model_metrics, inference_count)},
    {"verinfer_inference_exec_count", "counter",
     "Engine executions (one per batch, however many requests it merged)",
     offsetof(vi_model_metrics, exec_count)},
};

static const series DURATIONS[] = {
    {"verinfer_inference_request_duration_us", "counter",
     "Cumulative end-to-end duration of successful requests in microseconds",
     offsetof(vi_model_metrics, request_duration_us)},
    {"verinfer_inference_queue_duration_us", "counter",
     "Cumulative time requests waited in the batch queue in microseconds",
     offsetof(vi_model_metrics, queue_duration_us)},
    {"verinfer_inference_compute_input_duration_us", "counter",
     "Cumulative input gathering time in microseconds (included in compute_infer, so 0)",
     offsetof(vi_model_metrics, compute_input_us)},
    {"verinfer_inference_compute_infer_duration_us", "counter",
     "Cumulative batch execution time in microseconds, counted once per execution",
     offsetof(vi_model_metrics, compute_infer_us)},
    {"verinfer_inference_compute_output_duration_us", "counter",
     "Cumulative output splitting time in microseconds (included in compute_infer, so 0)",
     offsetof(vi_model_metrics, compute_output_us)},
};

static const char *const REASONS[VI_FAIL_COUNT] = {"REJECTED", "CANCELED", "BACKEND", "OTHER"};

static uint64_t field(const vi_model_metrics *m, size_t offset)
{
    return get((const atomic_ullong *)((const char *)m + offset));
}

static void put_header(sbuf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_simple(sbuf *b, const series *s, const vi_model_metrics *const *models,
                       const char *const *names, const char *const *versions, int n)
{
    put_header(b, s->name, s->type, s->help);
    for (int i = 0; i < n; i++) {
        if (!models[i])
            continue;
        put_sample_start(b, s->name, names[i], versions ? versions[i] : "", NULL);
        put(b, "%llu\n", (unsigned long long)field(models[i], s->offset));
    }
}

char *vi_metrics_render(const vi_model_metrics *const *models, const char *const *names,
                        const char *const *versions, int n)
{
    sbuf b = {malloc(4096), 0, 4096, 0};
    if (!b.s)
        return NULL;
    b.s[0] = '\0';
    if (n < 0 || (n > 0 && (!models || !names)))
        n = 0;

    put_simple(&b, &SIMPLE[0], models, names, versions, n);

    const char *fail = "verinfer_inference_request_failure";
    put_header(&b, fail, "counter", "Inference requests that failed, by reason");
    for (int i = 0; i < n; i++) {
        if (!models[i])
            continue;
        for (int r = 0; r < VI_FAIL_COUNT; r++) {
            char extra[32];
            snprintf(extra, sizeof extra, "reason=\"%s\"", REASONS[r]);
            put_sample_start(&b, fail, names[i], versions ? versions[i] : "", extra);
            put(&b, "%llu\n", (unsigned long long)get(&models[i]->request_failure[r]));
        }
    }

    put_simple(&b, &SIMPLE[1], models, names, versions, n);
    put_simple(&b, &SIMPLE[2], models, names, versions, n);

    const char *pend = "verinfer_inference_pending_request_count";
    put_header(&b, pend, "gauge", "Requests received and not yet answered");
    for (int i = 0; i < n; i++) {
        if (!models[i])
            continue;
        put_sample_start(&b, pend, names[i], versions ? versions[i] : "", NULL);
        put(&b, "%lld\n",
            (long long)atomic_load_explicit((atomic_llong *)&models[i]->pending_requests, RELAXED));
    }

    for (size_t d = 0; d < sizeof DURATIONS / sizeof DURATIONS[0]; d++)
        put_simple(&b, &DURATIONS[d], models, names, versions, n);

    const char *hist = "verinfer_inference_batch_size";
    put_header(&b, hist, "histogram", "Rows per engine execution");
    for (int i = 0; i < n; i++) {
        if (!models[i])
            continue;
        const char *ver = versions ? versions[i] : "";
        uint64_t cum = 0;
        for (int k = 0; k <= VI_METRICS_BATCH_BUCKETS; k++) {
            char extra[32];
            cum += get(&models[i]->batch_rows_bucket[k]);
            if (k < VI_METRICS_BATCH_BUCKETS)
                snprintf(extra, sizeof extra, "le=\"%d\"", 1 << k);
            else
                snprintf(extra, sizeof extra, "le=\"+Inf\"");
            put_sample_start(&b, "verinfer_inference_batch_size_bucket", names[i], ver, extra);
            put(&b, "%llu\n", (unsigned long long)cum);
        }
        put_sample_start(&b, "verinfer_inference_batch_size_sum", names[i], ver, NULL);
        put(&b, "%llu\n", (unsigned long long)get(&models[i]->batch_rows_sum));
        /* _count is the +Inf bucket, read once, so the two always agree. */
        put_sample_start(&b, "verinfer_inference_batch_size_count", names[i], ver, NULL);
        put(&b, "%llu\n", (unsigned long long)cum);
    }

    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int64_t vi_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
