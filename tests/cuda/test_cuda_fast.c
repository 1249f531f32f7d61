/* tests/cuda/test_cuda_fast.c — the CUDA backend's fast mode and its
 * workers, on the host emulation (the fast mode's cuBLAS calls run on
 * cuda/emu/cublas.cpp, which rounds inputs to TF32 like the tensor cores):
 * each fast linear/matmul output within its per-layer bound of the exact
 * one (and really different somewhere), every generated model within its
 * fast-mode tolerance (the depth rule, docs/fast-mode.md), workers that share
 * one upload of the weights but enqueue on their own streams, engine views,
 * destruction in any order without leaks, two workers running at once, and
 * the error messages. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/tolerance.h"
#include "cpu/cpu_backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_pool.h"
#include "cuda/emu/emu_control.h"
#include "cuda/fast_cublas.h"
#include "test_util.h"
#include "cross_check.h"

static void report(void *user, const xc_result *r)
{
    (void)user;
    if (!r->equal || getenv("VERBOSE"))
        print_message("%-8s %-60s %s %s\n", r->op, r->shape, r->equal ? "ok" : "OUTSIDE", r->note);
}

static vi_backend *cpu_ref(void)
{
    vi_error err = {{0}};
    vi_backend *b = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    if (!b)
        fail_msg("cpu backend: %s", err.msg);
    return b;
}

static vi_backend *primary(void)
{
    vi_error err = {{0}};
    vi_backend *b = vi_cuda_backend_create(0, &err);
    if (!b)
        fail_msg("cuda backend: %s", err.msg);
    return b;
}

static vi_backend *worker(vi_backend *shared, int fast)
{
    vi_error err = {{0}};
    vi_backend *b = fast ? vi_cuda_backend_create_fast_worker(shared, &err)
                         : vi_cuda_backend_create_worker(shared, &err);
    if (!b)
        fail_msg("worker: %s", err.msg);
    return b;
}

static long ops(vi_backend *b)
{
    return vi_emu_stream_ops(vi_cuda_backend_stream(b));
}

static void test_fast_backend_identity(void **state)
{
    (void)state;
    long live0 = vi_emu_live_allocations();
    vi_error err = {{0}};
    vi_backend *f = vi_cuda_backend_create_fast(0, &err);
    assert_non_null(f);
    assert_string_equal(f->name, "cuda-fast");
    assert_true(strncmp(f->detail, "verinfer CUDA emulator sm=", 26) == 0);
    assert_non_null(f->weights_domain);
    assert_non_null(vi_cuda_backend_stream(f));
    vi_backend *w = worker(f, 0); /* an exact worker of a fast primary */
    assert_string_equal(w->name, "cuda");
    assert_ptr_equal(w->weights_domain, f->weights_domain);
    assert_ptr_not_equal(vi_cuda_backend_stream(w), vi_cuda_backend_stream(f));
    f->destroy(f);
    w->destroy(w);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

/* ==== one layer: within vi_cuda_fast_linear_tol of the exact result ==== */

static float *dev_upload(vi_backend *b, const float *h, int64_t n)
{
    float *d = b->alloc(b, (size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(d);
    assert_int_equal(b->upload(b, d, h, (size_t)n * sizeof(float)), VI_OK);
    return d;
}

/* y = x W (+ bias) on a backend, through linear_prepare / linear. */
static void run_linear(vi_backend *b, const float *x, const float *w, const float *bias, int64_t M,
                       int64_t N, int64_t K, int out_in, float *y)
{
    vi_error err = {{0}};
    void *prep = NULL;
    assert_int_equal(b->linear_prepare(b, w, N, K, out_in, bias, &prep, &err), VI_OK);
    float *dx = dev_upload(b, x, M * K), *dy = b->alloc(b, (size_t)(M * N) * sizeof(float));
    assert_non_null(dy);
    assert_int_equal(b->linear(b, prep, dx, M, dy), VI_OK);
    assert_int_equal(b->download(b, y, dy, (size_t)(M * N) * sizeof(float)), VI_OK);
    b->free(b, dx);
    b->free(b, dy);
    b->linear_release(b, prep);
}

static double abs_d(double v)
{
    return v < 0 ? -v : v;
}

/* Checks every output of y_fast against y_exact within the per-layer bound;
 * returns how many differ in their bits. */
static int64_t check_layer(const float *x, const float *w, const float *bias, int64_t M, int64_t N,
                           int64_t K, int out_in, const float *yf, const float *ye)
{
    int64_t differ = 0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double mag = 0.0;
            for (int64_t k = 0; k < K; k++)
                mag += abs_d((double)x[m * K + k] * (double)(out_in ? w[n * K + k] : w[k * N + n]));
            double bound = vi_cuda_fast_linear_tol(K) * mag;
            float a = yf[m * N + n], b = ye[m * N + n];
            /* the bias is added exactly in both, after the product */
            double d = abs_d((double)a - (double)b);
            if (!(d <= bound + (bias ? 0x1p-24 * abs_d((double)b) : 0.0)))
                fail_msg("M=%lld N=%lld K=%lld out (%lld, %lld): fast %.9g exact %.9g, |diff| "
                         "%.3g > bound %.3g",
                         (long long)M, (long long)N, (long long)K, (long long)m, (long long)n,
                         (double)a, (double)b, d, bound);
            differ += vi_f32_bits(a) != vi_f32_bits(b);
        }
    return differ;
}

static void test_fast_linear_within_layer_bound(void **state)
{
    (void)state;
    static const struct {
        int64_t M, N, K;
        int out_in, bias;
    } CASES[] = {
        {1, 7, 5, 1, 0},     {3, 33, 130, 1, 1}, {17, 129, 257, 0, 1},
        {5, 64, 1000, 1, 0}, {2, 1, 1, 0, 1},    {9, 200, 64, 0, 0},
    };
    vi_backend *cpu = cpu_ref(), *p = primary(), *f = worker(p, 1);
    vt_rng rng = {0xfa57u};
    int64_t differ = 0, total = 0;
    long ops0 = ops(f), pops0 = ops(p);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        int64_t M = CASES[i].M, N = CASES[i].N, K = CASES[i].K;
        float *x = malloc((size_t)(M * K) * sizeof *x), *w = malloc((size_t)(N * K) * sizeof *w);
        float *bias = malloc((size_t)N * sizeof *bias);
        float *ye = malloc((size_t)(M * N) * sizeof *ye),
              *yf = malloc((size_t)(M * N) * sizeof *yf);
        assert_true(x && w && bias && ye && yf);
        for (int64_t k = 0; k < M * K; k++)
            x[k] = vt_uniform(&rng, -2.0f, 2.0f);
        for (int64_t k = 0; k < N * K; k++)
            w[k] = vt_uniform(&rng, -1.0f, 1.0f);
        for (int64_t k = 0; k < N; k++)
            bias[k] = vt_uniform(&rng, -1.0f, 1.0f);
        const float *bp = CASES[i].bias ? bias : NULL;
        run_linear(cpu, x, w, bp, M, N, K, CASES[i].out_in, ye);
        run_linear(f, x, w, bp, M, N, K, CASES[i].out_in, yf);
        differ += check_layer(x, w, bp, M, N, K, CASES[i].out_in, yf, ye);
        total += M * N;
        free(x), free(w), free(bias), free(ye), free(yf);
    }
    print_message("fast linear: %lld of %lld outputs differ from exact, all within the bound\n",
                  (long long)differ, (long long)total);
    assert_true(differ > total / 4); /* TF32 really ran */
    assert_true(ops(f) > ops0);      /* on the fast worker's stream ... */
    assert_int_equal(ops(p), pops0); /* ... not on its primary's */
    f->destroy(f);
    p->destroy(p);
    cpu->destroy(cpu);
}

static void test_fast_matmul_within_layer_bound(void **state)
{
    (void)state;
    vi_backend *cpu = cpu_ref(), *p = primary(), *f = worker(p, 1);
    p->destroy(p); /* the worker keeps the primary's context (and weights) alive */
    const int64_t batch = 3, M = 5, K = 37, N = 11;
    vt_rng rng = {0x3a7u};
    float a[3 * 5 * 37], bm[3 * 37 * 11], ye[3 * 5 * 11], yf[3 * 5 * 11];
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        a[i] = vt_uniform(&rng, -2.0f, 2.0f);
    for (size_t i = 0; i < sizeof bm / sizeof bm[0]; i++)
        bm[i] = vt_uniform(&rng, -2.0f, 2.0f);
    vi_backend *bk[2] = {cpu, f};
    float *out[2] = {ye, yf};
    for (int i = 0; i < 2; i++) {
        vi_backend *b = bk[i];
        float *da = dev_upload(b, a, batch * M * K), *db = dev_upload(b, bm, batch * K * N);
        float *dy = b->alloc(b, sizeof ye);
        assert_int_equal(b->matmul(b, da, db, batch, M, K, N, dy), VI_OK);
        assert_int_equal(b->download(b, out[i], dy, sizeof ye), VI_OK);
        b->free(b, da), b->free(b, db), b->free(b, dy);
    }
    int64_t differ = 0;
    for (int64_t z = 0; z < batch; z++) {
        float w[37 * 11];
        memcpy(w, bm + z * K * N, sizeof w);
        differ += check_layer(a + z * M * K, w, NULL, M, N, K, 0, yf + z * M * N, ye + z * M * N);
    }
    assert_true(differ > 0);
    f->destroy(f);
    cpu->destroy(cpu);
}

/* ==== whole models: within the depth rule ==== */

static void test_fast_models_within_tolerance(void **state)
{
    (void)state;
    vi_backend *p = primary();
    xc_ctx c = {cpu_ref(), worker(p, 1), report, NULL, 0, 0, 0x5eedfa57u, NULL};
    char dir[512];
    vt_tmpdir("fast-models", dir, sizeof dir);
    xc_run_models_mode(&c, dir, 7, 1);
    print_message("fast models: %d outputs, %d outside the tolerance\n", c.n_cases, c.n_diff);
    assert_int_equal(c.n_cases,
                     5 * 2 * 3 + 4 * 3); /* 5 mlps x 2 outputs, all-ops 4; rows 1, 2, 7 */
    assert_int_equal(c.n_diff, 0);
    c.dut->destroy(c.dut);
    p->destroy(p);
    c.ref->destroy(c.ref);
}

/* ==== workers ==== */

typedef struct {
    vi_model m;
    vi_tensor in;
    const vi_tensor *inp[1];
    vi_tensor want[8]; /* the CPU's outputs */
} fixture;

static void fixture_open(fixture *fx, int64_t rows)
{
    memset(fx, 0, sizeof *fx);
    char dir[512];
    vt_tmpdir("fast-mlp", dir, sizeof dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.force = 1;
    opt.n_inputs = 45;
    opt.hidden[0] = 70;
    opt.hidden[1] = 19;
    opt.n_classes = 6;
    opt.activation = VI_GEN_ACT_TANH;
    vi_error err = {{0}};
    if (vi_gen_model(&opt, dir, &err) != VI_OK || vi_model_load(&fx->m, dir, &err) != VI_OK)
        fail_msg("model: %s", err.msg);
    snprintf(fx->in.name, sizeof fx->in.name, "input");
    fx->in.dtype = VI_DT_FP32;
    fx->in.ndim = 2;
    fx->in.shape[0] = rows;
    fx->in.shape[1] = 45;
    float *x = malloc((size_t)(rows * 45) * sizeof *x);
    assert_non_null(x);
    vt_rng rng = {0x77u};
    for (int64_t i = 0; i < rows * 45; i++)
        x[i] = vt_uniform(&rng, -3.0f, 3.0f);
    fx->in.data = x;
    fx->inp[0] = &fx->in;
    vi_backend *cpu = cpu_ref();
    vi_engine e;
    assert_int_equal(vi_engine_init(&e, &fx->m, cpu, &err), VI_OK);
    assert_int_equal(vi_engine_run(&e, fx->inp, rows, fx->want, &err), VI_OK);
    vi_engine_free(&e);
    cpu->destroy(cpu);
}

static void fixture_close(fixture *fx)
{
    vi_engine_outputs_free(fx->want, fx->m.graph.n_outputs);
    free(fx->in.data);
    vi_model_free(&fx->m);
}

/* Runs the engine and asserts outputs equal to the CPU's, bit for bit. */
static int run_equal(fixture *fx, vi_engine *e)
{
    vi_tensor out[8];
    vi_error err = {{0}};
    if (vi_engine_run(e, fx->inp, fx->in.shape[0], out, &err) != VI_OK)
        return 0;
    int same = 1;
    for (int o = 0; o < fx->m.graph.n_outputs; o++)
        same &= memcmp(out[o].data, fx->want[o].data,
                       (size_t)vi_tensor_numel(&out[o]) * vi_dtype_size(out[o].dtype)) == 0;
    vi_engine_outputs_free(out, fx->m.graph.n_outputs);
    return same;
}

static vi_cuda_pool_stats pool(vi_backend *b)
{
    vi_cuda_pool_stats s;
    vi_error err = {{0}};
    assert_int_equal(vi_cuda_backend_pool_stats(b, &s, &err), VI_OK);
    return s;
}

static void test_worker_shares_weights_and_owns_its_stream(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, 5);
    long live0 = vi_emu_live_allocations();
    vi_error err = {{0}};
    vi_backend *p = primary();
    vi_engine e, v;
    assert_int_equal(vi_engine_init(&e, &fx.m, p, &err), VI_OK);
    uint64_t weights = pool(p).in_use_blocks;
    assert_true(weights >= 6); /* three layers: weight and bias each */
    long live_weights = vi_emu_live_allocations();

    vi_backend *w = worker(p, 0);
    assert_ptr_equal(w->weights_domain, p->weights_domain);
    assert_ptr_not_equal(vi_cuda_backend_stream(w), vi_cuda_backend_stream(p));
    assert_int_equal(vi_engine_init_view(&v, &e, w, &err), VI_OK);
    /* the worker added its flag only: no weight was uploaded again */
    assert_int_equal(vi_emu_live_allocations(), live_weights + 1);
    assert_int_equal(pool(w).in_use_blocks, 0);

    long pw = ops(p), ww = ops(w);
    assert_true(run_equal(&fx, &v));
    assert_int_equal(ops(p), pw); /* the view's run went to the worker's stream only */
    assert_true(ops(w) > ww);
    ww = ops(w);
    assert_true(run_equal(&fx, &e));
    assert_true(ops(p) > pw);
    assert_int_equal(ops(w), ww);
    assert_int_equal(pool(p).in_use_blocks, weights); /* activations came back */

    /* an engine prepared through the worker puts its weights in the primary's pool */
    vi_engine e2;
    assert_int_equal(vi_engine_init(&e2, &fx.m, w, &err), VI_OK);
    assert_int_equal(pool(p).in_use_blocks, 2 * weights);
    assert_int_equal(pool(w).in_use_blocks, 0);
    assert_true(run_equal(&fx, &e2));
    vi_engine_free(&e2);
    assert_int_equal(pool(p).in_use_blocks, weights);

    vi_engine_free(&v);
    vi_engine_free(&e);
    /* the primary goes first: the worker keeps its context alive and still runs */
    p->destroy(p);
    assert_int_equal(vi_engine_init(&e2, &fx.m, w, &err), VI_OK);
    assert_true(run_equal(&fx, &e2));
    vi_engine_free(&e2);
    w->destroy(w);
    assert_int_equal(vi_emu_live_allocations(), live0);
    fixture_close(&fx);
}

static void test_fast_view_runs_on_its_own_stream(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, 7);
    long live0 = vi_emu_live_allocations();
    vi_error err = {{0}};
    vi_backend *p = primary();
    vi_engine e, v;
    assert_int_equal(vi_engine_init(&e, &fx.m, p, &err), VI_OK);
    long live_weights = vi_emu_live_allocations();
    vi_backend *f = worker(p, 1);
    assert_int_equal(vi_engine_init_view(&v, &e, f, &err), VI_OK);
    assert_int_equal(vi_emu_live_allocations(), live_weights + 1);
    char id[256];
    vi_engine_describe(&v, id, sizeof id);
    assert_non_null(strstr(id, " backend/cuda-fast isa/verinfer CUDA emulator sm="));
    long pw = ops(p);
    vi_tensor out[8];
    assert_int_equal(vi_engine_run(&v, fx.inp, 7, out, &err), VI_OK);
    assert_int_equal(ops(p), pw);
    vi_tolerance tol;
    vi_tol_report tr;
    vi_tolerance_of_model(&fx.m.graph, &tol);
    assert_true(tol.rtol == 3 * 0x1p-7 && tol.atol == 3 * 0x1p-7);
    assert_int_equal(vi_tolerance_compare(&tol, out, fx.m.graph.n_outputs, fx.want,
                                          fx.m.graph.n_outputs, &tr, &err),
                     VI_OK);
    print_message("fast mlp: max abs diff %.3g, max rel diff %.3g (rtol = atol = %g)\n", tr.max_abs,
                  tr.max_rel, tol.rtol);
    assert_true(tr.max_abs > 0.0); /* not the exact bits */
    vi_engine_outputs_free(out, fx.m.graph.n_outputs);
    vi_engine_free(&v);
    f->destroy(f);
    assert_true(run_equal(&fx, &e)); /* the primary's exact engine is untouched */
    vi_engine_free(&e);
    p->destroy(p);
    assert_int_equal(vi_emu_live_allocations(), live0);
    fixture_close(&fx);
}

static void test_views_and_workers_refused(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, 1);
    long live0 = vi_emu_live_allocations();
    vi_error err = {{0}};
    vi_backend *cpu = cpu_ref(), *p = primary(), *q = primary();
    vi_engine ec, ep, v;
    assert_int_equal(vi_engine_init(&ec, &fx.m, cpu, &err), VI_OK);
    assert_int_equal(vi_engine_init(&ep, &fx.m, p, &err), VI_OK);
    assert_int_equal(vi_engine_init_view(&v, &ec, p, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "engine view: backend 'cuda' cannot use weights prepared by "
                                 "backend 'cpu' (they share no weights domain)");
    assert_int_equal(vi_engine_init_view(&v, &ep, q, &err), VI_ERR_INVALID); /* another primary */
    assert_string_equal(err.msg, "engine view: backend 'cuda' cannot use weights prepared by "
                                 "backend 'cuda' (they share no weights domain)");
    assert_int_equal(vi_engine_init_view(&v, &ep, cpu, &err), VI_ERR_INVALID);
    /* a view of the engine's own backend, and a view of a view */
    vi_engine v2;
    assert_int_equal(vi_engine_init_view(&v, &ep, p, &err), VI_OK);
    assert_int_equal(vi_engine_init_view(&v2, &v, p, &err), VI_OK);
    assert_ptr_equal(v2.view_of, &ep);
    assert_true(run_equal(&fx, &v2));
    vi_engine_free(&v2);
    vi_engine_free(&v);

    assert_null(vi_cuda_backend_create_worker(cpu, &err));
    assert_string_equal(err.msg, "create_worker: backend 'cpu' is not a CUDA backend");
    assert_null(vi_cuda_backend_create_fast_worker(cpu, &err));
    assert_string_equal(err.msg, "create_worker: backend 'cpu' is not a CUDA backend");
    assert_null(vi_cuda_backend_stream(cpu));
    vi_emu_set_device_count(0);
    vi_backend *w = vi_cuda_backend_create_worker(p, &err);
    vi_emu_set_device_count(1);
    assert_null(w);
    assert_string_equal(err.msg, "CUDA device 0: setting up the backend failed: no CUDA-capable "
                                 "device is detected");
    /* a failed setup leaves nothing behind */
    long live1 = vi_emu_live_allocations();
    vi_emu_fail_alloc_after(0); /* the worker's flag */
    assert_null(vi_cuda_backend_create_fast_worker(p, &err));
    vi_emu_fail_alloc_after(-1);
    assert_string_equal(err.msg, "CUDA device 0: setting up the backend failed: out of memory");
    assert_int_equal(vi_emu_live_allocations(), live1);

    vi_engine_free(&ep);
    vi_engine_free(&ec);
    q->destroy(q);
    p->destroy(p);
    cpu->destroy(cpu);
    assert_int_equal(vi_emu_live_allocations(), live0);
    fixture_close(&fx);
}

/* ==== two workers at once ==== */

typedef struct {
    fixture *fx;
    vi_engine *e;
    int bad;
} runner;

static void *run_many(void *arg)
{
    runner *r = arg;
    for (int i = 0; i < 6; i++)
        r->bad += !run_equal(r->fx, r->e);
    return NULL;
}

static void test_primary_and_worker_run_at_once(void **state)
{
    (void)state;
    fixture fx;
    fixture_open(&fx, 3);
    vi_error err = {{0}};
    vi_backend *p = primary();
    vi_backend *w = worker(p, 0);
    vi_engine e, v;
    assert_int_equal(vi_engine_init(&e, &fx.m, p, &err), VI_OK);
    assert_int_equal(vi_engine_init_view(&v, &e, w, &err), VI_OK);
    runner r[2] = {{&fx, &e, 0}, {&fx, &v, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_many, &r[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    vi_engine_free(&v);
    vi_engine_free(&e);
    w->destroy(w);
    p->destroy(p);
    fixture_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_backend_identity),
        cmocka_unit_test(test_fast_linear_within_layer_bound),
        cmocka_unit_test(test_fast_matmul_within_layer_bound),
        cmocka_unit_test(test_fast_models_within_tolerance),
        cmocka_unit_test(test_worker_shares_weights_and_owns_its_stream),
        cmocka_unit_test(test_fast_view_runs_on_its_own_stream),
        cmocka_unit_test(test_views_and_workers_refused),
        cmocka_unit_test(test_primary_and_worker_run_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
