/* tests/server/test_batcher.c — the dynamic batcher: the batching policy as a
 * table; bit identity with solo runs under 64 concurrent clients (and signed
 * receipts that verify); preferred sizes; a full queue; the queue delay;
 * max_batch_size 1; destroy running what is queued; bad configurations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "core/keys.h"
#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "server/batcher.h"
#include "test_util.h"

#define N_REQ 400     /* requests of the fixture */
#define N_CLIENTS 64  /* concurrent client threads */
#define N_FEATURES 37 /* inputs per row of the generated model */

/* ==== fixture: one model, N_REQ parsed requests and their solo results ==== */

typedef struct {
    char dir[512];
    vi_model m;
    vi_backend *be;
    vi_engine e;
    vi_infer_model im;
    EVP_PKEY *key;
    uint8_t pub[VI_KEY_PUBLIC_LEN];
    vi_kserve_request req[N_REQ];
    vi_infer_result solo[N_REQ]; /* vi_infer_run of each request alone, unsigned */
    int rows[N_REQ];
} fixture;

static char *random_request(vt_rng *rng, int rows, int id)
{
    size_t cap = 96 + (size_t)rows * N_FEATURES * 24;
    char *s = malloc(cap);
    size_t u = (size_t)snprintf(s, cap,
                                "{\"id\":\"q%d\",\"inputs\":[{\"name\":\"input\",\"datatype\":"
                                "\"FP32\",\"shape\":[%d,%d],\"data\":[",
                                id, rows, N_FEATURES);
    for (int i = 0; i < rows * N_FEATURES; i++)
        u += (size_t)snprintf(s + u, cap - u, "%s%.9g", i ? "," : "", vt_uniform(rng, -4, 4));
    snprintf(s + u, cap - u, "]}]}");
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    vi_error err = {{0}};
    vt_tmpdir("batcher", f->dir, sizeof f->dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.n_inputs = N_FEATURES;
    opt.hidden[0] = 129;
    opt.hidden[1] = 300;
    opt.n_hidden = 2;
    opt.n_classes = 7;
    opt.activation = VI_GEN_ACT_GELU;
    if (vi_gen_model(&opt, f->dir, &err) != VI_OK || vi_model_load(&f->m, f->dir, &err) != VI_OK)
        goto fail;
    f->be = vi_cpu_backend_create(2, VI_ISA_AUTO, &err);
    if (!f->be || vi_engine_init(&f->e, &f->m, f->be, &err) != VI_OK ||
        vi_infer_model_init(&f->im, &f->m, &f->e, &err) != VI_OK)
        goto fail;
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(7 * i + 1);
    if (vi_key_from_seed(seed, &f->key, &err) != VI_OK ||
        vi_key_public_raw(f->key, f->pub, &err) != VI_OK)
        goto fail;
    vt_rng rng = {2024};
    for (int r = 0; r < N_REQ; r++) {
        f->rows[r] = (int)vt_range(&rng, 1, 8);
        char *json = random_request(&rng, f->rows[r], r);
        vi_status st = vi_kserve_parse_request(json, strlen(json), NULL, 0, NULL, &f->req[r], &err);
        free(json);
        if (st != VI_OK || vi_infer_run(&f->im, &f->req[r], NULL, 0, &f->solo[r], &err) != VI_OK)
            goto fail;
    }
    *state = f;
    return 0;
fail:
    fprintf(stderr, "batcher fixture: %s\n", err.msg);
    return -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int r = 0; r < N_REQ; r++) {
        vi_infer_result_free(&f->solo[r]);
        vi_kserve_request_free(&f->req[r]);
    }
    vi_key_free(f->key);
    vi_engine_free(&f->e);
    if (f->be)
        f->be->destroy(f->be);
    vi_model_free(&f->m);
    free(f);
    return 0;
}

/* ==== helpers ==== */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Counts done calls of a group of items; a waiter sleeps on it. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} tracker;

typedef struct {
    vi_batch_item item;
    int req;          /* index into the fixture */
    atomic_int calls; /* done calls seen for this item */
    tracker *t;
} slot;

static void tracker_init(tracker *t)
{
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->done = 0;
}

static void tracker_free(tracker *t)
{
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
}

static void on_done(vi_batch_item *item, void *arg)
{
    slot *s = arg;
    tracker *t = s->t;
    (void)item;
    atomic_fetch_add(&s->calls, 1);
    pthread_mutex_lock(&t->mu);
    t->done++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Waits until n items of t are done or timeout_s passes; returns the count. */
static int wait_done(tracker *t, int n, int timeout_s)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_s;
    pthread_mutex_lock(&t->mu);
    while (t->done < n)
        if (pthread_cond_timedwait(&t->cv, &t->mu, &dl) != 0)
            break;
    int done = t->done;
    pthread_mutex_unlock(&t->mu);
    return done;
}

/* Prepares slot s for request r of the fixture. */
static void slot_prepare(fixture *f, slot *s, int r, tracker *t)
{
    vi_error err = {{0}};
    memset(s, 0, sizeof *s);
    s->req = r;
    s->t = t;
    atomic_init(&s->calls, 0);
    s->item.done = on_done;
    s->item.arg = s;
    assert_int_equal(vi_infer_prepare(&f->im, &f->req[r], &s->item.job, &err), VI_OK);
}

/* 1 when a finished job has exactly the solo result's outputs and digests;
 * otherwise 0 with the difference in why. */
static int same_as_solo(const fixture *f, const vi_infer_job *job, int r, char *why, size_t n)
{
    const vi_infer_result *a = &job->res, *s = &f->solo[r];
    if (job->status != VI_OK) {
        snprintf(why, n, "request %d failed: %.400s", r, job->err.msg);
        return 0;
    }
    if (a->n_outputs != s->n_outputs) {
        snprintf(why, n, "request %d: %d outputs, solo %d", r, a->n_outputs, s->n_outputs);
        return 0;
    }
    for (int o = 0; o < a->n_outputs; o++) {
        size_t bytes = (size_t)vi_tensor_numel(&s->outputs[o]) * vi_dtype_size(s->outputs[o].dtype);
        if (a->outputs[o].shape[0] != s->outputs[o].shape[0] ||
            memcmp(a->outputs[o].data, s->outputs[o].data, bytes) != 0) {
            snprintf(why, n, "request %d: output '%s' differs from the solo run", r,
                     s->outputs[o].name);
            return 0;
        }
    }
    if (memcmp(a->receipt.output_digest, s->receipt.output_digest, 32) != 0 ||
        memcmp(a->receipt.input_digest, s->receipt.input_digest, 32) != 0) {
        snprintf(why, n, "request %d: receipt digests differ from the solo run", r);
        return 0;
    }
    return 1;
}

static vi_batch_config config(int max_batch, int64_t delay_us, int max_queue)
{
    vi_batch_config c;
    memset(&c, 0, sizeof c);
    c.max_batch_size = max_batch;
    c.max_queue_delay_us = delay_us;
    c.max_queue_size = max_queue;
    return c;
}

static uint64_t load(atomic_ullong *c)
{
    return (uint64_t)atomic_load(c);
}

/* ==== the policy ==== */

typedef struct {
    const char *what;
    int max_batch;
    int preferred[3];
    int n_preferred;
    int64_t rows[8]; /* queued requests' rows, 0-terminated */
    int flush;
    int want; /* requests to run now; 0 = wait */
} plan_case;

static const plan_case PLAN_CASES[] = {
    {"empty queue", 8, {0}, 0, {0}, 1, 0},
    {"below max: wait", 8, {0}, 0, {3, 2}, 0, 0},
    {"below max, delay over: run all", 8, {0}, 0, {3, 2}, 1, 2},
    {"exactly max: run now", 8, {0}, 0, {3, 5, 1}, 0, 2},
    {"next would exceed max: run prefix", 8, {0}, 0, {3, 4, 2}, 0, 2},
    {"first exceeds max: alone", 8, {0}, 0, {9, 1}, 0, 1},
    {"never split or reorder: 1 fits after 7 but is not taken", 8, {0}, 0, {7, 5, 1}, 0, 1},
    {"max_batch 1: alone at once", 1, {0}, 0, {1, 1}, 0, 1},
    {"max_batch 0: alone at once", 0, {0}, 0, {3, 1}, 0, 1},
    {"preferred hit: run it", 32, {4}, 1, {1, 1, 1, 1}, 0, 4},
    {"preferred hit with more queued", 32, {4}, 1, {1, 1, 1, 1, 1, 1}, 0, 4},
    {"largest preferred hit", 32, {2, 4, 8}, 3, {1, 1, 2, 3, 2}, 0, 3},
    {"largest preferred hit, last", 32, {2, 4, 8}, 3, {1, 1, 2, 3, 1}, 0, 5},
    {"preferred missed (jumped over): wait", 32, {4}, 1, {3, 2}, 0, 0},
    {"preferred missed, delay over: run all", 32, {4}, 1, {3, 2}, 1, 2},
    {"preferred beats max", 8, {4}, 1, {2, 2, 2, 2}, 0, 2},
    {"preferred above max ignored", 4, {16}, 1, {2, 2, 2}, 0, 2},
    {"preferred hit on flush", 32, {2}, 1, {1, 1, 1}, 1, 2},
};

static void test_plan_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof PLAN_CASES / sizeof PLAN_CASES[0]; c++) {
        const plan_case *pc = &PLAN_CASES[c];
        vi_batch_config cfg = config(pc->max_batch, 1000, 0);
        cfg.n_preferred = pc->n_preferred;
        for (int i = 0; i < pc->n_preferred; i++)
            cfg.preferred[i] = pc->preferred[i];
        vi_batch_item items[8];
        memset(items, 0, sizeof items);
        int n = 0;
        while (n < 8 && pc->rows[n] > 0) {
            items[n].job.rows = pc->rows[n];
            if (n > 0)
                items[n - 1].next = &items[n];
            n++;
        }
        int got = vi_batch_plan(&cfg, n ? &items[0] : NULL, pc->flush);
        if (got != pc->want)
            fail_msg("%s: plan %d, want %d", pc->what, got, pc->want);
    }
    /* no more than VI_BATCH_MAX_ITEMS requests in one execution */
    vi_batch_item *many = calloc(VI_BATCH_MAX_ITEMS + 5, sizeof *many);
    for (int i = 0; i < VI_BATCH_MAX_ITEMS + 5; i++) {
        many[i].job.rows = 1;
        many[i].next = i + 1 < VI_BATCH_MAX_ITEMS + 5 ? &many[i + 1] : NULL;
    }
    vi_batch_config big = config(1 << 20, 1000, 0);
    assert_int_equal(vi_batch_plan(&big, many, 0), VI_BATCH_MAX_ITEMS);
    free(many);
}

/* ==== bit identity under concurrency ==== */

typedef struct {
    fixture *f;
    atomic_int *next;
    vi_batcher *b;
    uint64_t seed;
    atomic_int *mismatches;
    atomic_int *bad_receipts;
    atomic_int *submit_errors;
    pthread_mutex_t *why_mu;
    char *why; /* first problem seen, VI_ERROR_MSG_MAX */
} client;

static void note(client *c, atomic_int *counter, const char *msg)
{
    atomic_fetch_add(counter, 1);
    pthread_mutex_lock(c->why_mu);
    if (!c->why[0])
        snprintf(c->why, VI_ERROR_MSG_MAX, "%s", msg);
    pthread_mutex_unlock(c->why_mu);
}

static void *client_main(void *arg)
{
    client *c = arg;
    vt_rng rng = {c->seed};
    tracker t;
    tracker_init(&t);
    int answered = 0;
    for (;;) {
        int r = atomic_fetch_add(c->next, 1);
        if (r >= N_REQ)
            break;
        sleep_us(vt_range(&rng, 0, 1500));
        slot s;
        vi_error err = {{0}};
        memset(&s, 0, sizeof s);
        s.req = r;
        s.t = &t;
        atomic_init(&s.calls, 0);
        s.item.done = on_done;
        s.item.arg = &s;
        if (vi_infer_prepare(&c->f->im, &c->f->req[r], &s.item.job, &err) != VI_OK) {
            note(c, c->submit_errors, err.msg);
            continue;
        }
        if (vi_batcher_submit(c->b, &s.item, &err) != VI_OK) {
            note(c, c->submit_errors, err.msg);
            vi_infer_job_free(&s.item.job);
            continue;
        }
        answered++; /* only this thread's items use t */
        if (wait_done(&t, answered, 30) != answered) {
            note(c, c->submit_errors, "a request was not answered within 30 s");
            wait_done(&t, answered, 3600); /* the slot is still in use: keep it alive */
        }
        if (atomic_load(&s.calls) != 1)
            note(c, c->submit_errors, "a request was answered more than once");
        char why[VI_ERROR_MSG_MAX];
        if (!same_as_solo(c->f, &s.item.job, r, why, sizeof why))
            note(c, c->mismatches, why);
        vi_receipt_verdict verdict;
        vi_error e = {{0}};
        if (s.item.job.status == VI_OK &&
            (vi_receipt_check(&s.item.job.res.receipt, c->f->pub, &verdict, &e) != VI_OK ||
             verdict != VI_RECEIPT_SIGNED))
            note(c, c->bad_receipts, e.msg[0] ? e.msg : "receipt not signed");
        vi_infer_job_free(&s.item.job);
    }
    tracker_free(&t);
    return NULL;
}

static void test_concurrent_clients_get_solo_bits(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    vi_model_metrics met;
    vi_metrics_init(&met);
    vi_batch_config cfg = config(32, 2000, 0);
    vi_batcher *b = vi_batcher_create(&f->im, &cfg, f->key, &met, &err);
    assert_non_null(b);

    atomic_int next, mismatches, bad_receipts, submit_errors;
    atomic_init(&next, 0);
    atomic_init(&mismatches, 0);
    atomic_init(&bad_receipts, 0);
    atomic_init(&submit_errors, 0);
    pthread_mutex_t why_mu = PTHREAD_MUTEX_INITIALIZER;
    char why[VI_ERROR_MSG_MAX] = "";
    client clients[N_CLIENTS];
    pthread_t th[N_CLIENTS];
    for (int i = 0; i < N_CLIENTS; i++) {
        clients[i] = (client){
            f,       &next, b, 1000 + (uint64_t)i, &mismatches, &bad_receipts, &submit_errors,
            &why_mu, why};
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &clients[i]), 0);
    }
    for (int i = 0; i < N_CLIENTS; i++)
        pthread_join(th[i], NULL);
    vi_batcher_destroy(b);

    if (atomic_load(&mismatches) || atomic_load(&bad_receipts) || atomic_load(&submit_errors))
        fail_msg("%d mismatches, %d bad receipts, %d submit errors; first: %s",
                 atomic_load(&mismatches), atomic_load(&bad_receipts), atomic_load(&submit_errors),
                 why);
    uint64_t total_rows = 0;
    for (int r = 0; r < N_REQ; r++)
        total_rows += (uint64_t)f->rows[r];
    uint64_t execs = load(&met.exec_count);
    printf("  %d requests (%llu rows) from %d clients in %llu executions (%.2f requests each)\n",
           N_REQ, (unsigned long long)total_rows, N_CLIENTS, (unsigned long long)execs,
           (double)N_REQ / (double)execs);
    assert_true(execs < N_REQ); /* real batches formed */
    assert_int_equal(load(&met.batch_requests_sum), N_REQ);
    assert_int_equal(load(&met.batch_rows_sum), total_rows);
    assert_int_equal(load(&met.inference_count), total_rows);
    for (int k = 6; k <= VI_METRICS_BATCH_BUCKETS; k++) /* no execution above 32 rows */
        assert_int_equal(load(&met.batch_rows_bucket[k]), 0);
    uint64_t hist = 0;
    for (int k = 0; k <= VI_METRICS_BATCH_BUCKETS; k++)
        hist += load(&met.batch_rows_bucket[k]);
    assert_int_equal(hist, execs);
    pthread_mutex_destroy(&why_mu);
}

/* ==== preferred size, full queue, delay, max_batch 1, destroy ==== */

static void test_preferred_size_is_honoured(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    vi_model_metrics met;
    vi_metrics_init(&met);
    vi_batch_config cfg = config(32, 10 * 1000000, 0); /* a delay that never runs out here */
    cfg.preferred[0] = 4;
    cfg.n_preferred = 1;
    vi_batcher *b = vi_batcher_create(&f->im, &cfg, NULL, &met, &err);
    assert_non_null(b);
    tracker t;
    tracker_init(&t);
    enum { N = 16 };
    slot s[N];
    int n = 0;
    for (int r = 0; r < N_REQ && n < N; r++) /* one-row requests */
        if (f->rows[r] == 1)
            slot_prepare(f, &s[n++], r, &t);
    assert_int_equal(n, N);
    int64_t t0 = now_ns();
    for (int i = 0; i < N; i++)
        assert_int_equal(vi_batcher_submit(b, &s[i].item, &err), VI_OK);
    assert_int_equal(wait_done(&t, N, 5), N); /* well before the 10 s delay */
    assert_true(now_ns() - t0 < 5000000000LL);
    /* metrics are counted before the done calls, so they are complete now */
    assert_int_equal(load(&met.exec_count), 4);
    assert_int_equal(load(&met.batch_rows_bucket[2]), 4); /* le="4" */
    assert_int_equal(load(&met.batch_rows_sum), N);
    vi_batcher_destroy(b);
    char why[VI_ERROR_MSG_MAX];
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&s[i].calls), 1);
        if (!same_as_solo(f, &s[i].item.job, s[i].req, why, sizeof why))
            fail_msg("%s", why);
        vi_infer_job_free(&s[i].item.job);
    }
    tracker_free(&t);
}

static void test_full_queue_and_stop_reject(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    vi_batch_config cfg = config(64, 60 * 1000000, 2); /* nothing runs before destroy */
    vi_batcher *b = vi_batcher_create(&f->im, &cfg, NULL, NULL, &err);
    assert_non_null(b);
    tracker t;
    tracker_init(&t);
    slot s[3];
    for (int i = 0; i < 3; i++)
        slot_prepare(f, &s[i], i, &t);
    assert_int_equal(vi_batcher_submit(b, &s[0].item, &err), VI_OK);
    assert_int_equal(vi_batcher_submit(b, &s[1].item, &err), VI_OK);
    assert_int_equal(vi_batcher_queued(b), 2);
    assert_int_equal(vi_batcher_submit(b, &s[2].item, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "queue full: 2 requests waiting");
    assert_int_equal(vi_batcher_queued(b), 2);

    int64_t t0 = now_ns();
    vi_batcher_stop(b); /* runs the two at once, no 60 s wait */
    err.msg[0] = '\0';
    assert_int_equal(vi_batcher_submit(b, &s[2].item, &err), VI_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "is shutting down"));
    assert_int_equal(wait_done(&t, 2, 10), 2);
    vi_batcher_destroy(b);
    assert_true(now_ns() - t0 < 10000000000LL);
    char why[VI_ERROR_MSG_MAX];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(atomic_load(&s[i].calls), i < 2 ? 1 : 0);
        if (i < 2 && !same_as_solo(f, &s[i].item.job, s[i].req, why, sizeof why))
            fail_msg("%s", why);
        vi_infer_job_free(&s[i].item.job);
    }
    tracker_free(&t);
}

static void test_queue_delay(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    const int64_t delays_us[] = {250000, 0};
    for (int d = 0; d < 2; d++) {
        vi_batch_config cfg = config(32, delays_us[d], 0);
        vi_batcher *b = vi_batcher_create(&f->im, &cfg, NULL, NULL, &err);
        assert_non_null(b);
        tracker t;
        tracker_init(&t);
        slot s;
        slot_prepare(f, &s, 0, &t);
        int64_t t0 = now_ns();
        assert_int_equal(vi_batcher_submit(b, &s.item, &err), VI_OK);
        assert_int_equal(wait_done(&t, 1, 10), 1);
        int64_t waited_us = (now_ns() - t0) / 1000;
        printf("  max_queue_delay_us %lld: answered after %lld us\n", (long long)delays_us[d],
               (long long)waited_us);
        assert_true(waited_us >= delays_us[d] - 1000); /* not before the delay */
        assert_true(waited_us < delays_us[d] + 2000000);
        vi_batcher_destroy(b);
        assert_int_equal(s.item.job.status, VI_OK);
        vi_infer_job_free(&s.item.job);
        tracker_free(&t);
    }
}

static void test_max_batch_one_runs_alone(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    vi_model_metrics met;
    vi_metrics_init(&met);
    vi_batch_config cfg = config(1, 10 * 1000000, 0);
    vi_batcher *b = vi_batcher_create(&f->im, &cfg, NULL, &met, &err);
    assert_non_null(b);
    tracker t;
    tracker_init(&t);
    enum { N = 5 };
    slot s[N];
    for (int i = 0; i < N; i++)
        slot_prepare(f, &s[i], 10 + i, &t);
    for (int i = 0; i < N; i++)
        assert_int_equal(vi_batcher_submit(b, &s[i].item, &err), VI_OK);
    assert_int_equal(wait_done(&t, N, 5), N); /* no waiting for the 10 s delay */
    vi_batcher_destroy(b);
    assert_int_equal(load(&met.exec_count), N);
    assert_int_equal(load(&met.batch_requests_sum), N);
    for (int i = 0; i < N; i++)
        vi_infer_job_free(&s[i].item.job);
    tracker_free(&t);
}

static void test_destroy_runs_queued_work(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    vi_model_metrics met;
    vi_metrics_init(&met);
    vi_batch_config cfg = config(16, 60 * 1000000, 0);
    vi_batcher *b = vi_batcher_create(&f->im, &cfg, NULL, &met, &err);
    assert_non_null(b);
    tracker t;
    tracker_init(&t);
    enum { N = 30 };
    slot s[N];
    uint64_t rows = 0;
    for (int i = 0; i < N; i++) {
        slot_prepare(f, &s[i], 100 + i, &t);
        rows += (uint64_t)f->rows[100 + i];
    }
    int64_t t0 = now_ns();
    for (int i = 0; i < N; i++)
        assert_int_equal(vi_batcher_submit(b, &s[i].item, &err), VI_OK);
    vi_batcher_destroy(b); /* the tail waits for a 60 s delay unless destroy flushes it */
    assert_true(now_ns() - t0 < 10000000000LL);
    assert_int_equal(t.done, N);
    char why[VI_ERROR_MSG_MAX];
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&s[i].calls), 1);
        if (!same_as_solo(f, &s[i].item.job, s[i].req, why, sizeof why))
            fail_msg("%s", why);
        vi_infer_job_free(&s[i].item.job);
    }
    assert_int_equal(load(&met.batch_requests_sum), N);
    assert_int_equal(load(&met.batch_rows_sum), rows);
    assert_true(load(&met.exec_count) >= (rows + 15) / 16);
    tracker_free(&t);
}

static void test_bad_configurations(void **state)
{
    fixture *f = *state;
    vi_error err = {{0}};
    vi_batch_config cfg = config(8, -1, 0);
    assert_null(vi_batcher_create(&f->im, &cfg, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "max_queue_delay_us is -1"));
    cfg = config(8, 0, -3);
    assert_null(vi_batcher_create(&f->im, &cfg, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "max_queue_size is -3"));
    cfg = config(8, 0, 0);
    cfg.n_preferred = VI_BATCH_MAX_PREFERRED + 1;
    assert_null(vi_batcher_create(&f->im, &cfg, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "9 preferred batch sizes"));
    cfg.n_preferred = 2;
    cfg.preferred[0] = 4;
    cfg.preferred[1] = 0;
    assert_null(vi_batcher_create(&f->im, &cfg, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "preferred_batch_size[1] is 0"));
    vi_batcher_destroy(NULL);
    vi_batcher_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_table),
        cmocka_unit_test(test_concurrent_clients_get_solo_bits),
        cmocka_unit_test(test_preferred_size_is_honoured),
        cmocka_unit_test(test_full_queue_and_stop_reject),
        cmocka_unit_test(test_queue_delay),
        cmocka_unit_test(test_max_batch_one_runs_alone),
        cmocka_unit_test(test_destroy_runs_queued_work),
        cmocka_unit_test(test_bad_configurations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
