/* server/batcher.h — the dynamic batcher of one model: requests (each possibly
 * several rows) wait in a FIFO queue; one worker thread merges them into one
 * engine call (vi_infer_run_batch) and hands each its own rows and receipt.
 * With a key, the receipts of one execution share one Ed25519 signature over
 * the Merkle root of their digests ("ed25519-merkle"; a lone receipt gets the
 * plain "ed25519" form). Because of the canonical order, batching never
 * changes a bit. */
#ifndef VI_BATCHER_H
#define VI_BATCHER_H

#include <stdint.h>

#include <openssl/types.h>

#include "server/infer.h"
#include "server/metrics.h"

#define VI_BATCH_MAX_PREFERRED 8
#define VI_BATCH_MAX_ITEMS 1024 /* requests merged into one execution, at most */

typedef struct vi_batch_config {
    int max_batch_size;                    /* rows per execution; <= 1 runs each request alone */
    int64_t max_queue_delay_us;            /* how long the oldest request may wait for others */
    int preferred[VI_BATCH_MAX_PREFERRED]; /* preferred batch sizes (rows), ascending */
    int n_preferred;
    int max_queue_size; /* requests waiting; 0 = unbounded */
} vi_batch_config;

typedef struct vi_batch_item vi_batch_item;

/* Called exactly once per submitted item, from the batcher thread, after
 * item->job.status and item->job.res are set. Must not block for long. */
typedef void (*vi_batch_done_fn)(vi_batch_item *item, void *arg);

struct vi_batch_item {
    vi_infer_job job; /* prepared by the caller with vi_infer_prepare */
    vi_batch_done_fn done;
    void *arg;
    int64_t enqueued_ns; /* set by vi_batcher_submit (CLOCK_MONOTONIC) */
    int64_t batch_rows;  /* set before done: rows of the execution it ran in */
    vi_batch_item *next; /* queue link (internal) */
};

typedef struct vi_batcher vi_batcher;

/* Starts the worker thread of one model. key (may be NULL: unsigned receipts;
 * else every execution's receipts are signed by vi_receipt_seal_batch) and
 * metrics (may be NULL) must outlive the batcher. Returns NULL with err
 * set for an invalid configuration (VI_ERR_INVALID naming the field) or when
 * the thread cannot start. */
vi_batcher *vi_batcher_create(const vi_infer_model *im, const vi_batch_config *cfg, EVP_PKEY *key,
                              vi_model_metrics *metrics, vi_error *err);

/* Queues a prepared item. VI_ERR_LIMIT when max_queue_size requests are
 * already waiting (the caller answers 503 with Retry-After), VI_ERR_UNSUPPORTED
 * after vi_batcher_stop or once destroy began. On success `done` will be
 * called exactly once, and the batcher no longer touches the item after it. */
vi_status vi_batcher_submit(vi_batcher *b, vi_batch_item *item, vi_error *err);

/* Requests currently waiting (not yet running). */
int vi_batcher_queued(vi_batcher *b);

/* Stops accepting (later submits get VI_ERR_UNSUPPORTED) and runs what is
 * queued at once, without waiting for max_queue_delay_us; returns without
 * waiting for it (vi_batcher_destroy does). Accepts NULL. */
void vi_batcher_stop(vi_batcher *b);

/* The batching policy, as a pure function of the queue (head first, linked by
 * next; only job.rows is read): returns how many requests from the head to
 * run now as one execution, or 0 to keep waiting. `flush` means waiting is
 * over (the oldest waited max_queue_delay_us, the delay is 0, or the batcher
 * is stopping). The batch is the largest prefix whose rows hit a preferred
 * size, else the longest prefix within max_batch_size; it runs now when a
 * preferred size is hit, when the queue holds max_batch_size rows or more,
 * or on flush. A first request larger than max_batch_size runs alone. */
int vi_batch_plan(const vi_batch_config *cfg, const vi_batch_item *head, int flush);

/* Stops accepting, runs everything already queued, joins the worker and
 * frees the batcher; accepts NULL. */
void vi_batcher_destroy(vi_batcher *b);

#endif
