/* cpu/threadpool.c — pthread pool: workers spin briefly, then sleep on a
 * condition variable, and take task indices from a shared atomic counter.
 * The short spin keeps back-to-back runs (a model's layers) from paying a
 * futex wake-up (tens of microseconds) per layer. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

struct vi_pool {
    int n_threads;
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_cond_t done;
    atomic_ullong generation; /* bumped (under mu) for every vi_pool_run */
    atomic_int stopping;
    int open;   /* 1 while the current run still admits workers */
    int active; /* workers admitted to the current run and not yet done */
    vi_pool_fn fn;
    void *arg;
    int64_t n_tasks;
    atomic_llong next;
};

static void pool_drain(vi_pool *p)
{
    for (;;) {
        long long t = atomic_fetch_add(&p->next, 1);
        if (t >= p->n_tasks)
            return;
        p->fn(p->arg, (int64_t)t);
    }
}

#define VI_POOL_SPIN                                                                               \
    200 /* polls (a few microseconds) before a worker sleeps: long spins                           \
         * steal the core from HTTP threads on small machines */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *pool_worker(void *arg)
{
    vi_pool *p = arg;
    uint64_t seen = 0;
    for (;;) {
        for (int s = 0;
             s < VI_POOL_SPIN && atomic_load(&p->generation) == seen && !atomic_load(&p->stopping);
             s++)
            cpu_relax();
        /* the mutex, taken either way, publishes fn/arg/n_tasks of the new run */
        pthread_mutex_lock(&p->mu);
        while (!atomic_load(&p->stopping) && atomic_load(&p->generation) == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (atomic_load(&p->stopping)) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        seen = atomic_load(&p->generation);
        if (!p->open) { /* woke after the caller finished that run alone: skip it */
            pthread_mutex_unlock(&p->mu);
            continue;
        }
        p->active++;
        pthread_mutex_unlock(&p->mu);
        pool_drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

int vi_pool_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > VI_POOL_DEFAULT_MAX ? VI_POOL_DEFAULT_MAX : (int)n;
}

vi_pool *vi_pool_create(int n_threads, vi_error *err)
{
    if (n_threads < 1 || n_threads > 1024) {
        vi_fail(err, VI_ERR_INVALID, "thread count must be between 1 and 1024 (got %d)", n_threads);
        return NULL;
    }
    vi_pool *p = calloc(1, sizeof *p);
    if (!p) {
        vi_fail(err, VI_ERR_NOMEM, "out of memory creating the thread pool");
        return NULL;
    }
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->stopping, 0);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            vi_pool_destroy(p);
            vi_fail(err, VI_ERR_NOMEM, "out of memory creating the thread pool");
            return NULL;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            if (pthread_create(&p->workers[i], NULL, pool_worker, p) != 0) {
                p->n_threads = i + 1; /* only join those that started */
                vi_pool_destroy(p);
                vi_fail(err, VI_ERR_IO, "cannot start worker thread %d", i);
                return NULL;
            }
        }
    }
    return p;
}

int vi_pool_threads(const vi_pool *pool)
{
    return pool ? pool->n_threads : 1;
}

void vi_pool_run(vi_pool *p, int64_t n_tasks, vi_pool_fn fn, void *arg)
{
    if (n_tasks <= 0)
        return;
    if (!p || p->n_threads == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; t++)
            fn(arg, t);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->open = 1;
    p->active = 0;
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    pool_drain(p);

    pthread_mutex_lock(&p->mu);
    /* every task has been taken; wait only for workers still running one, never
     * for a sleeping worker to wake up (it will see the run closed and skip it) */
    p->open = 0;
    while (p->active > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void vi_pool_destroy(vi_pool *p)
{
    if (!p)
        return;
    if (p->workers) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stopping, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->n_threads - 1; i++)
            pthread_join(p->workers[i], NULL);
        free(p->workers);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}
