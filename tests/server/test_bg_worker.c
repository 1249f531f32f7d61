/* tests/server/test_bg_worker.c — the background worker runs jobs one at a
 * time in submission order, refuses a job past its queue with the exact
 * error, runs what is queued when stopped, and refuses jobs after that. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/bg_worker.h"

typedef struct joblog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int order[64], n;
    int gate_open; /* the first job waits for it */
    int running, max_running;
} joblog;

typedef struct job {
    joblog *lg;
    int id;
} job;

static void run(void *arg)
{
    job *j = arg;
    joblog *lg = j->lg;
    pthread_mutex_lock(&lg->mu);
    lg->running++;
    if (lg->running > lg->max_running)
        lg->max_running = lg->running;
    pthread_cond_broadcast(&lg->cv); /* "running" changed */
    while (j->id == 0 && !lg->gate_open)
        pthread_cond_wait(&lg->cv, &lg->mu);
    lg->order[lg->n++] = j->id;
    lg->running--;
    pthread_cond_broadcast(&lg->cv);
    pthread_mutex_unlock(&lg->mu);
}

static void test_order_limit_and_stop(void **state)
{
    (void)state;
    joblog lg = {.n = 0};
    pthread_mutex_init(&lg.mu, NULL);
    pthread_cond_init(&lg.cv, NULL);
    vi_bg *b = NULL;
    vi_error err = {{0}};
    assert_int_equal(vi_bg_start(0, &b, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "background queue of 0 jobs (at least 1)");
    assert_null(b);
    assert_int_equal(vi_bg_start(3, &b, &err), VI_OK);

    job jobs[6];
    for (int i = 0; i < 6; i++)
        jobs[i] = (job){&lg, i};
    /* job 0 runs and holds the worker at the gate; wait until it does */
    assert_int_equal(vi_bg_submit(b, run, &jobs[0], &err), VI_OK);
    pthread_mutex_lock(&lg.mu);
    while (lg.running == 0)
        pthread_cond_wait(&lg.cv, &lg.mu);
    pthread_mutex_unlock(&lg.mu);
    /* three wait; the fourth is refused */
    for (int i = 1; i <= 3; i++)
        assert_int_equal(vi_bg_submit(b, run, &jobs[i], &err), VI_OK);
    assert_int_equal(vi_bg_pending(b), 4);
    assert_int_equal(vi_bg_submit(b, run, &jobs[4], &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "3 jobs are already waiting");

    pthread_mutex_lock(&lg.mu);
    lg.gate_open = 1;
    pthread_cond_broadcast(&lg.cv);
    pthread_mutex_unlock(&lg.mu);
    vi_bg_stop(b); /* runs 1..3 before returning */
    assert_int_equal(lg.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(lg.order[i], i);
    assert_int_equal(lg.max_running, 1);
    assert_int_equal(vi_bg_pending(b), 0);

    assert_int_equal(vi_bg_submit(b, run, &jobs[5], &err), VI_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "the server is shutting down");
    vi_bg_stop(b); /* a second stop does nothing */
    vi_bg_free(b);
    vi_bg_free(NULL);
    vi_bg_stop(NULL);
    assert_int_equal(lg.n, 4);
    pthread_cond_destroy(&lg.cv);
    pthread_mutex_destroy(&lg.mu);
}

static void test_many_jobs_run_in_order(void **state)
{
    (void)state;
    joblog lg = {.gate_open = 1};
    pthread_mutex_init(&lg.mu, NULL);
    pthread_cond_init(&lg.cv, NULL);
    vi_bg *b = NULL;
    vi_error err = {{0}};
    assert_int_equal(vi_bg_start(64, &b, &err), VI_OK);
    job jobs[64];
    for (int i = 0; i < 64; i++) {
        jobs[i] = (job){&lg, i + 1};
        assert_int_equal(vi_bg_submit(b, run, &jobs[i], &err), VI_OK);
    }
    vi_bg_free(b); /* stops: every job has run, in order */
    assert_int_equal(lg.n, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(lg.order[i], i + 1);
    assert_int_equal(lg.max_running, 1);
    pthread_cond_destroy(&lg.cv);
    pthread_mutex_destroy(&lg.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_limit_and_stop),
        cmocka_unit_test(test_many_jobs_run_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
