/* cpu/threadpool.h — a fixed pthread pool that runs n independent tasks.
 *
 * Work is only ever split over output elements (rows, column blocks), never
 * over a reduction, so the thread count cannot change any bit. */
#ifndef VI_THREADPOOL_H
#define VI_THREADPOOL_H

#include <stdint.h>

#include "../core/status.h"

typedef struct vi_pool vi_pool;

/* fn(arg, task) is called once for every task in [0, n_tasks). */
typedef void (*vi_pool_fn)(void *arg, int64_t task);

/* Creates a pool of n_threads workers (the caller counts as one of them, so
 * n_threads == 1 starts no thread). Returns NULL and fills err on failure. */
vi_pool *vi_pool_create(int n_threads, vi_error *err);

/* The default thread count wherever the user gives none: the online CPUs,
 * at least 1 and at most VI_POOL_DEFAULT_MAX. */
#define VI_POOL_DEFAULT_MAX 64
int vi_pool_default_threads(void);

/* Number of threads (including the caller). */
int vi_pool_threads(const vi_pool *pool);

/* Runs fn for every task and returns when all are done. Tasks are handed out
 * dynamically; fn must not depend on which thread runs it. Not re-entrant:
 * one vi_pool_run at a time per pool (callers serialise). pool may be NULL:
 * then the tasks run on the calling thread. */
void vi_pool_run(vi_pool *pool, int64_t n_tasks, vi_pool_fn fn, void *arg);

/* Stops and joins the workers; accepts NULL. */
void vi_pool_destroy(vi_pool *pool);

#endif
