/* server/batcher.c — the dynamic batcher of one model: a FIFO queue under a
 * mutex, one worker thread that sleeps on a condition variable (monotonic
 * clock) until a batch is due, runs it as one vi_infer_run_batch call, signs
 * the receipts of the execution with one signature (vi_receipt_seal_batch)
 * and hands every request its own result. Only the worker touches the
 * engine. */
#include "batcher.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vi_batcher {
    const vi_infer_model *im;
    vi_batch_config cfg;
    EVP_PKEY *key;
    vi_model_metrics *metrics;

    pthread_mutex_t mu;
    pthread_cond_t wake; /* submit and stop signal the worker */
    vi_batch_item *head, *tail;
    int n_queued;
    int stopping;

    pthread_t thread;
    vi_batch_item *batch[VI_BATCH_MAX_ITEMS]; /* worker only: the items being run */
    vi_infer_job *jobs[VI_BATCH_MAX_ITEMS];
    vi_receipt *receipts[VI_BATCH_MAX_ITEMS]; /* worker only: the receipts being signed */
};

static uint64_t us_between(int64_t from_ns, int64_t to_ns)
{
    return to_ns > from_ns ? (uint64_t)(to_ns - from_ns) / 1000 : 0;
}

/* ==== policy ==== */

static int is_preferred(const vi_batch_config *cfg, int64_t rows)
{
    int n = cfg->n_preferred < VI_BATCH_MAX_PREFERRED ? cfg->n_preferred : VI_BATCH_MAX_PREFERRED;
    for (int i = 0; i < n; i++)
        if (cfg->preferred[i] == rows)
            return 1;
    return 0;
}

int vi_batch_plan(const vi_batch_config *cfg, const vi_batch_item *head, int flush)
{
    if (!head)
        return 0;
    if (cfg->max_batch_size <= 1)
        return 1;
    int64_t max = cfg->max_batch_size, rows = 0;
    int n = 0, best_preferred = 0, full = 0;
    for (const vi_batch_item *it = head; it; it = it->next) {
        if (n == VI_BATCH_MAX_ITEMS || it->job.rows > max - rows) {
            full = 1;
            break;
        }
        rows += it->job.rows;
        n++;
        if (is_preferred(cfg, rows))
            best_preferred = n;
        if (rows == max) {
            full = 1;
            break;
        }
    }
    if (n == 0) /* the first request alone exceeds max_batch_size */
        return 1;
    if (best_preferred)
        return best_preferred;
    return (full || flush) ? n : 0;
}

/* ==== worker ==== */

/* Signs the receipts of the jobs of one execution that succeeded with one
 * Ed25519 signature: over the Merkle root of their receipt_digests, or the
 * plain signature when only one succeeded. If signing fails, those jobs fail
 * with its error (an unsigned receipt is never handed out by a server that
 * has a key). */
static void sign_batch(vi_batcher *b, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (b->jobs[i]->status == VI_OK)
            b->receipts[m++] = &b->jobs[i]->res.receipt;
    if (m == 0)
        return;
    vi_error err = {{0}};
    vi_status st = vi_receipt_seal_batch(b->receipts, m, b->key, &err);
    for (int i = 0; i < n && st != VI_OK; i++) {
        vi_infer_job *job = b->jobs[i];
        if (job->status != VI_OK)
            continue;
        vi_infer_result_free(&job->res);
        job->status = st;
        job->err = err;
    }
}

/* Runs n items taken off the queue as one execution (called unlocked). */
static void run_batch(vi_batcher *b, int n)
{
    int64_t start = vi_monotonic_ns();
    int64_t rows = 0;
    uint64_t queue_us = 0;
    for (int i = 0; i < n; i++) {
        b->jobs[i] = &b->batch[i]->job;
        rows += b->batch[i]->job.rows;
        queue_us += us_between(b->batch[i]->enqueued_ns, start);
    }
    vi_error err = {{0}};
    /* receipts sealed unsigned here, then those of the jobs that succeeded
     * (whatever the batch's status) signed together */
    vi_status st = vi_infer_run_batch(b->im, b->jobs, n, NULL, (int64_t)time(NULL), &err);
    if (b->key)
        sign_batch(b, n);
    int64_t end = vi_monotonic_ns();
    /* vi_infer_run_batch concatenates inputs, runs the engine, splits the
     * outputs and seals the receipts in one call, and the one signature
     * follows it, so all of it is counted as compute_infer; input and output
     * stay 0 rather than guessed. Counted before the done calls, so that an
     * answered request is already visible in the metrics. A batch that failed
     * as a whole inferred nothing. */
    if (b->metrics && st == VI_OK)
        vi_metrics_execution(b->metrics, rows, n, queue_us, 0, us_between(start, end), 0);
    for (int i = 0; i < n; i++) {
        vi_batch_item *item = b->batch[i];
        b->batch[i] = NULL;
        item->batch_rows = rows;
        item->done(item, item->arg); /* the item may be freed from here on */
    }
}

static void *worker(void *arg)
{
    vi_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        if (!b->head) {
            if (b->stopping)
                break;
            pthread_cond_wait(&b->wake, &b->mu);
            continue;
        }
        int64_t delay = b->cfg.max_queue_delay_us;
        int64_t due = INT64_MAX; /* when the oldest request has waited the delay */
        if (delay <= (INT64_MAX - b->head->enqueued_ns) / 1000)
            due = b->head->enqueued_ns + delay * 1000;
        int flush = b->stopping || delay == 0 || vi_monotonic_ns() >= due;
        int n = vi_batch_plan(&b->cfg, b->head, flush);
        if (n == 0) {
            struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
            pthread_cond_timedwait(&b->wake, &b->mu, &ts);
            continue;
        }
        for (int i = 0; i < n; i++) {
            b->batch[i] = b->head;
            b->head = b->head->next;
            b->batch[i]->next = NULL;
        }
        if (!b->head)
            b->tail = NULL;
        b->n_queued -= n;
        pthread_mutex_unlock(&b->mu);
        run_batch(b, n);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ==== lifecycle ==== */

static vi_status check_config(const vi_infer_model *im, const vi_batch_config *cfg, vi_error *err)
{
    if (!im || !cfg)
        return vi_fail(err, VI_ERR_INVALID, "batcher: no model or no configuration given");
    const char *model = im->model ? im->model->graph.name : "?";
    if (cfg->max_queue_delay_us < 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "batcher of model '%s': max_queue_delay_us is %lld; it must be >= 0", model,
                       (long long)cfg->max_queue_delay_us);
    if (cfg->max_queue_size < 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "batcher of model '%s': max_queue_size is %d; "
                       "it must be >= 0 (0: unbounded)",
                       model, cfg->max_queue_size);
    if (cfg->n_preferred < 0 || cfg->n_preferred > VI_BATCH_MAX_PREFERRED)
        return vi_fail(err, VI_ERR_INVALID,
                       "batcher of model '%s': %d preferred batch sizes; at most %d are allowed",
                       model, cfg->n_preferred, VI_BATCH_MAX_PREFERRED);
    for (int i = 0; i < cfg->n_preferred; i++)
        if (cfg->preferred[i] <= 0)
            return vi_fail(err, VI_ERR_INVALID,
                           "batcher of model '%s': preferred_batch_size[%d] is %d; it must be > 0",
                           model, i, cfg->preferred[i]);
    return VI_OK;
}

vi_batcher *vi_batcher_create(const vi_infer_model *im, const vi_batch_config *cfg, EVP_PKEY *key,
                              vi_model_metrics *metrics, vi_error *err)
{
    if (check_config(im, cfg, err) != VI_OK)
        return NULL;
    vi_batcher *b = calloc(1, sizeof *b);
    if (!b) {
        vi_fail(err, VI_ERR_NOMEM, "out of memory creating the batcher");
        return NULL;
    }
    b->im = im;
    b->cfg = *cfg;
    b->key = key;
    b->metrics = metrics;
    int mu_ok = 0, cond_ok = 0, rc;
    pthread_condattr_t ca;
    if ((rc = pthread_mutex_init(&b->mu, NULL)) != 0)
        goto fail;
    mu_ok = 1;
    if ((rc = pthread_condattr_init(&ca)) != 0)
        goto fail;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&b->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        goto fail;
    cond_ok = 1;
    if ((rc = pthread_create(&b->thread, NULL, worker, b)) != 0)
        goto fail;
    return b;

fail:
    vi_fail(err, rc == ENOMEM || rc == EAGAIN ? VI_ERR_NOMEM : VI_ERR_INTERNAL,
            "batcher of model '%s': cannot start its worker thread (%s)",
            im->model ? im->model->graph.name : "?", strerror(rc));
    if (cond_ok)
        pthread_cond_destroy(&b->wake);
    if (mu_ok)
        pthread_mutex_destroy(&b->mu);
    free(b);
    return NULL;
}

vi_status vi_batcher_submit(vi_batcher *b, vi_batch_item *item, vi_error *err)
{
    if (!item || !item->done)
        return vi_fail(err, VI_ERR_INVALID, "batcher: an item without a done callback");
    vi_status st = VI_OK;
    pthread_mutex_lock(&b->mu);
    if (b->stopping) {
        st = vi_fail(err, VI_ERR_UNSUPPORTED, "model '%s' is shutting down: no new requests",
                     b->im->model->graph.name);
    } else if (b->cfg.max_queue_size > 0 && b->n_queued >= b->cfg.max_queue_size) {
        st = vi_fail(err, VI_ERR_LIMIT, "queue full: %d requests waiting", b->n_queued);
    } else {
        item->enqueued_ns = vi_monotonic_ns();
        item->next = NULL;
        if (b->tail)
            b->tail->next = item;
        else
            b->head = item;
        b->tail = item;
        b->n_queued++;
        pthread_cond_signal(&b->wake);
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

int vi_batcher_queued(vi_batcher *b)
{
    pthread_mutex_lock(&b->mu);
    int n = b->n_queued;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void vi_batcher_stop(vi_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->mu);
}

void vi_batcher_destroy(vi_batcher *b)
{
    if (!b)
        return;
    vi_batcher_stop(b);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->mu);
    free(b);
}
