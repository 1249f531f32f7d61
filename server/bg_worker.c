/* server/bg_worker.c — the background thread of bg_worker.h: a ring of
 * (fn, arg) jobs under one mutex, run in submission order. */
#include "bg_worker.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    vi_bg_fn fn;
    void *arg;
} job;

struct vi_bg {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    job *ring;
    int cap, head, n; /* n queued, from ring[head] */
    int running;      /* a job is being run */
    int stopping;
    int joined;
};

static void *bg_main(void *arg)
{
    vi_bg *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->n == 0 && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        if (b->n == 0)
            break; /* stopping, queue drained */
        job j = b->ring[b->head];
        b->head = (b->head + 1) % b->cap;
        b->n--;
        b->running = 1;
        pthread_mutex_unlock(&b->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&b->mu);
        b->running = 0;
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

vi_status vi_bg_start(int max_queue, vi_bg **out, vi_error *err)
{
    *out = NULL;
    if (max_queue < 1)
        return vi_fail(err, VI_ERR_INVALID, "background queue of %d jobs (at least 1)", max_queue);
    vi_bg *b = calloc(1, sizeof *b);
    if (!b || !(b->ring = calloc((size_t)max_queue, sizeof *b->ring))) {
        free(b);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for the background worker");
    }
    b->cap = max_queue;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    if (pthread_create(&b->thread, NULL, bg_main, b) != 0) {
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->mu);
        free(b->ring);
        free(b);
        return vi_fail(err, VI_ERR_INTERNAL, "cannot start the background worker thread");
    }
    *out = b;
    return VI_OK;
}

vi_status vi_bg_submit(vi_bg *b, vi_bg_fn fn, void *arg, vi_error *err)
{
    vi_status st = VI_OK;
    pthread_mutex_lock(&b->mu);
    if (b->stopping) {
        st = vi_fail(err, VI_ERR_UNSUPPORTED, "the server is shutting down");
    } else if (b->n == b->cap) {
        st = vi_fail(err, VI_ERR_LIMIT, "%d jobs are already waiting", b->cap);
    } else {
        b->ring[(b->head + b->n) % b->cap] = (job){fn, arg};
        b->n++;
        pthread_cond_signal(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

int vi_bg_pending(vi_bg *b)
{
    pthread_mutex_lock(&b->mu);
    int n = b->n + b->running;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void vi_bg_stop(vi_bg *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    int join = !b->stopping;
    b->stopping = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (join) /* only the first caller: vi_bg_stop is called from one thread */
        pthread_join(b->thread, NULL);
    b->joined = 1;
}

void vi_bg_free(vi_bg *b)
{
    if (!b)
        return;
    if (!b->joined)
        vi_bg_stop(b);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b->ring);
    free(b);
}
