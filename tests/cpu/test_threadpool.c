/* tests/cpu/test_threadpool.c — the pthread pool runs every task exactly
 * once, for any task count and thread count, over many back-to-back runs;
 * bad thread counts are refused with a message; the default thread count
 * is the online CPUs, at most 64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu/threadpool.h"

typedef struct {
    atomic_int *hits;
} counter;

static void count_task(void *arg, int64_t task)
{
    counter *c = arg;
    atomic_fetch_add(&c->hits[task], 1);
}

static void test_every_task_runs_once(void **state)
{
    (void)state;
    static const int64_t COUNTS[] = {0, 1, 2, 3, 7, 64, 1000};
    atomic_int *hits = calloc(1000, sizeof *hits);
    for (int threads = 1; threads <= 4; threads++) {
        vi_error err;
        vi_pool *p = vi_pool_create(threads, &err);
        assert_non_null(p);
        assert_int_equal(vi_pool_threads(p), threads);
        for (int round = 0; round < 200; round++) {
            int64_t n = COUNTS[round % 7];
            for (int64_t i = 0; i < n; i++)
                atomic_store(&hits[i], 0);
            counter c = {hits};
            vi_pool_run(p, n, count_task, &c);
            for (int64_t i = 0; i < n; i++)
                if (atomic_load(&hits[i]) != 1)
                    fail_msg("threads %d round %d: task %lld ran %d times", threads, round,
                             (long long)i, atomic_load(&hits[i]));
        }
        vi_pool_destroy(p);
    }
    /* a NULL pool runs on the caller */
    counter c = {hits};
    atomic_store(&hits[0], 0);
    vi_pool_run(NULL, 1, count_task, &c);
    assert_int_equal(atomic_load(&hits[0]), 1);
    free(hits);
}

static void test_bad_thread_counts(void **state)
{
    (void)state;
    vi_error err;
    assert_null(vi_pool_create(0, &err));
    assert_non_null(strstr(err.msg, "between 1 and 1024"));
    assert_null(vi_pool_create(5000, &err));
    vi_pool_destroy(NULL);
}

/* The default thread count: the online CPUs, clamped to [1, 64]. */
static void test_default_threads(void **state)
{
    (void)state;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int want = online < 1 ? 1 : online > VI_POOL_DEFAULT_MAX ? VI_POOL_DEFAULT_MAX : (int)online;
    assert_int_equal(vi_pool_default_threads(), want);
    assert_int_equal(VI_POOL_DEFAULT_MAX, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_runs_once),
        cmocka_unit_test(test_bad_thread_counts),
        cmocka_unit_test(test_default_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
