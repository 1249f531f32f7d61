/* server/bg_worker.h — one background thread with a bounded queue, for work
 * too long to run on an HTTP thread (re-executing a completion to verify
 * it): a handler suspends its request, submits a job, and the job resumes
 * the request when it is done. */
#ifndef VI_BG_WORKER_H
#define VI_BG_WORKER_H

#include "core/status.h"

typedef struct vi_bg vi_bg;
typedef void (*vi_bg_fn)(void *arg);

/* Starts the thread; at most max_queue jobs wait (>= 1). */
vi_status vi_bg_start(int max_queue, vi_bg **out, vi_error *err);

/* Queues fn(arg). VI_ERR_LIMIT when max_queue jobs already wait,
 * VI_ERR_UNSUPPORTED once vi_bg_stop has begun; fn is then not run. */
vi_status vi_bg_submit(vi_bg *b, vi_bg_fn fn, void *arg, vi_error *err);

/* Jobs waiting or running. */
int vi_bg_pending(vi_bg *b);

/* Refuses new jobs (VI_ERR_UNSUPPORTED from then on), runs every queued one
 * and joins the thread. The object stays valid for vi_bg_submit until
 * vi_bg_free. Accepts NULL; a second call does nothing. */
void vi_bg_stop(vi_bg *b);

/* Stops (as vi_bg_stop) and frees. Accepts NULL. */
void vi_bg_free(vi_bg *b);

#endif
