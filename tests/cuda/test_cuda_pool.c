/* tests/cuda/test_cuda_pool.c — the CUDA backend's device memory pool and
 * pinned staging, run on the host emulation: size classes, reuse of freed
 * blocks, the cap on cached bytes, repeated engine runs that allocate
 * nothing new after the first while matching the CPU bit for bit, the
 * split-K workspace taken from and given back to the pool, reported
 * allocation failures, chunked copies through the staging buffers, several
 * threads at once, and destroy giving back every allocation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/engine.h"
#include "core/model.h"
#include "cpu/cpu_backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_pool.h"
#include "cuda/emu/emu_control.h"
#include "models/gen_model.h"
#include "test_util.h"

static vi_backend *cuda_dut(void)
{
    vi_error err = {{0}};
    vi_backend *b = vi_cuda_backend_create(0, &err);
    if (!b)
        fail_msg("cuda backend: %s", err.msg);
    return b;
}

static vi_cuda_pool_stats stats(vi_backend *b)
{
    vi_cuda_pool_stats s;
    vi_error err = {{0}};
    memset(&s, 0xff, sizeof s);
    assert_int_equal(vi_cuda_backend_pool_stats(b, &s, &err), VI_OK);
    return s;
}

static void test_class_sizes(void **state)
{
    (void)state;
    assert_int_equal(vi_cuda_pool_class_size(0), 256);
    assert_int_equal(vi_cuda_pool_class_size(1), 256);
    assert_int_equal(vi_cuda_pool_class_size(256), 256);
    assert_int_equal(vi_cuda_pool_class_size(257), 512);
    assert_int_equal(vi_cuda_pool_class_size(1000), 1024);
    assert_int_equal(vi_cuda_pool_class_size((size_t)1 << 20), (size_t)1 << 20);
    assert_int_equal(vi_cuda_pool_class_size(((size_t)1 << 20) + 1), 1310720); /* 1.25 MiB */
    assert_int_equal(vi_cuda_pool_class_size(2726297), 3145728);               /* 2.6 -> 3 MiB */
    assert_int_equal(vi_cuda_pool_class_size(3145728), 3145728);
    assert_int_equal(vi_cuda_pool_class_size(3145729), 3670016); /* 3.5 MiB */
    assert_int_equal(vi_cuda_pool_class_size((size_t)1 << 21), (size_t)1 << 21);
    assert_int_equal(vi_cuda_pool_class_size((size_t)1 << 46), (size_t)1 << 46);
    assert_int_equal(vi_cuda_pool_class_size(((size_t)1 << 46) + 1), 0); /* not cached */
    /* every large class is a multiple of 64 KiB and wastes under a quarter */
    for (size_t n = ((size_t)1 << 20) + 1; n < ((size_t)1 << 32); n = n * 9 / 7 + 12345) {
        size_t c = vi_cuda_pool_class_size(n);
        assert_true(c >= n && c % 65536 == 0 && c - n < n / 4 + 1);
    }
}

static void test_freed_blocks_are_reused_by_class(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    long base = vi_emu_live_allocations();
    void *p = b->alloc(b, 1000);
    assert_non_null(p);
    b->free(b, p);
    assert_int_equal(vi_emu_live_allocations(), base + 1); /* cached, not freed */
    void *q = b->alloc(b, 900);                            /* same class (1024) */
    assert_ptr_equal(q, p);
    void *r = b->alloc(b, 1100); /* class 1280: a new block */
    assert_ptr_not_equal(r, p);
    vi_cuda_pool_stats s = stats(b);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 2);
    assert_int_equal(s.in_use_blocks, 2);
    assert_int_equal(s.in_use_bytes, 1024 + 1280);
    assert_int_equal(s.cached_blocks, 0);
    b->free(b, q);
    b->free(b, r);
    void *big = b->alloc(b, 3 << 20);
    b->free(b, big);
    assert_ptr_equal(b->alloc(b, 2726297), big);
    b->free(b, big);
    s = stats(b);
    assert_int_equal(s.in_use_blocks, 0);
    assert_int_equal(s.cached_blocks, 3);
    assert_int_equal(s.cached_bytes, 1024 + 1280 + 3145728);
    assert_int_equal(s.cap_bytes, (uint64_t)1 << 30);
    assert_int_equal(s.releases, 0);
    assert_int_equal(vi_emu_live_allocations(), base + 3);
    b->destroy(b);
}

static void test_cap_on_cached_bytes(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_backend *b = cuda_dut();
    long base = vi_emu_live_allocations();
    assert_int_equal(vi_cuda_backend_set_pool_cap(b, 4096, &err), VI_OK);
    void *p[3];
    for (int i = 0; i < 3; i++)
        assert_non_null(p[i] = b->alloc(b, 2048));
    for (int i = 0; i < 3; i++)
        b->free(b, p[i]);
    vi_cuda_pool_stats s = stats(b);
    assert_int_equal(s.cached_blocks, 2);
    assert_int_equal(s.cached_bytes, 4096);
    assert_int_equal(s.releases, 1);
    assert_int_equal(vi_emu_live_allocations(), base + 2);
    assert_int_equal(vi_cuda_backend_set_pool_cap(b, 0, &err), VI_OK); /* trims */
    s = stats(b);
    assert_int_equal(s.cached_blocks, 0);
    assert_int_equal(s.releases, 3);
    assert_int_equal(vi_emu_live_allocations(), base);
    /* a block over the cap is freed at once */
    b->free(b, b->alloc(b, 100));
    assert_int_equal(vi_emu_live_allocations(), base);
    b->destroy(b);

    vi_backend *cpu = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    assert_non_null(cpu);
    assert_int_equal(vi_cuda_backend_set_pool_cap(cpu, 0, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "set_pool_cap: backend 'cpu' is not a CUDA backend");
    assert_int_equal(vi_cuda_backend_pool_stats(cpu, &s, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "pool_stats: backend 'cpu' is not a CUDA backend");
    cpu->destroy(cpu);
}

/* ==== whole models through the engine ==== */

typedef struct {
    vi_model m;
    vi_engine cpu, gpu;
    vi_backend *cpu_b, *gpu_b;
    vi_tensor in[8];
    const vi_tensor *inp[8];
} model_run;

/* Generates and loads a model (all-ops preset or an mlp with odd widths),
 * prepares it on the CPU and the CUDA backend, and makes `rows` input rows. */
static void model_open(model_run *r, int all_ops, int64_t rows)
{
    memset(r, 0, sizeof *r);
    char dir[512];
    vt_tmpdir(all_ops ? "pool-allops" : "pool-mlp", dir, sizeof dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.force = 1;
    if (all_ops) {
        opt.preset = VI_GEN_ALL_OPS;
    } else {
        opt.n_inputs = 131;
        opt.hidden[0] = 257;
        opt.hidden[1] = 33;
        opt.n_classes = 7;
        opt.activation = VI_GEN_ACT_GELU_TANH;
        opt.weight_dtype = VI_DT_BF16;
    }
    vi_error err = {{0}};
    if (vi_gen_model(&opt, dir, &err) != VI_OK || vi_model_load(&r->m, dir, &err) != VI_OK)
        fail_msg("model: %s", err.msg);
    r->cpu_b = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    assert_non_null(r->cpu_b);
    r->gpu_b = cuda_dut();
    assert_int_equal(vi_engine_init(&r->cpu, &r->m, r->cpu_b, &err), VI_OK);
    assert_int_equal(vi_engine_init(&r->gpu, &r->m, r->gpu_b, &err), VI_OK);
    const vi_graph *g = &r->m.graph;
    assert_true(g->n_inputs <= 8 && g->n_outputs <= 8);
    vt_rng rng = {0x9001u + (uint64_t)all_ops};
    for (int i = 0; i < g->n_inputs; i++) {
        const vi_value *v = &g->values[g->inputs[i]];
        vi_tensor *t = &r->in[i];
        snprintf(t->name, sizeof t->name, "%s", v->name);
        t->dtype = v->dtype;
        t->ndim = v->ndim;
        memcpy(t->shape, v->shape, sizeof t->shape);
        t->shape[0] = rows;
        int64_t n = rows * v->row_numel;
        t->data = malloc((size_t)(n > 0 ? n : 1) * vi_dtype_size(v->dtype));
        assert_non_null(t->data);
        int64_t V = r->cpu.embed_rows[g->inputs[i]];
        for (int64_t k = 0; k < n; k++) {
            if (v->dtype == VI_DT_FP32)
                ((float *)t->data)[k] = vt_uniform(&rng, -3.0f, 3.0f);
            else if (v->dtype == VI_DT_INT64)
                ((int64_t *)t->data)[k] = vt_range(&rng, 0, V - 1);
            else
                ((int32_t *)t->data)[k] = (int32_t)vt_range(&rng, 0, V - 1);
        }
        r->inp[i] = t;
    }
}

static void model_close(model_run *r)
{
    vi_engine_free(&r->cpu);
    vi_engine_free(&r->gpu);
    for (int i = 0; i < 8; i++)
        free(r->in[i].data);
    r->cpu_b->destroy(r->cpu_b);
    r->gpu_b->destroy(r->gpu_b);
    vi_model_free(&r->m);
}

/* Runs `rows` rows on both backends; returns the CUDA run's status (err filled)
 * and, when it succeeds, asserts every output equal to the CPU's bit for bit. */
static vi_status run_and_compare(model_run *r, int64_t rows, vi_error *err)
{
    const vi_graph *g = &r->m.graph;
    vi_tensor oc[8], og[8];
    memset(oc, 0, sizeof oc);
    memset(og, 0, sizeof og);
    vi_error cerr = {{0}};
    for (int i = 0; i < g->n_inputs; i++)
        r->in[i].shape[0] = rows; /* the data holds at least that many rows */
    if (vi_engine_run(&r->cpu, r->inp, rows, oc, &cerr) != VI_OK)
        fail_msg("cpu run: %s", cerr.msg);
    vi_status st = vi_engine_run(&r->gpu, r->inp, rows, og, err);
    for (int o = 0; st == VI_OK && o < g->n_outputs; o++) {
        const vi_value *v = &g->values[g->outputs[o]];
        size_t n = (size_t)(rows * v->row_numel) * vi_dtype_size(v->dtype);
        assert_int_equal(og[o].dtype, oc[o].dtype);
        assert_true(n > 0);
        assert_memory_equal(og[o].data, oc[o].data, n);
    }
    vi_engine_outputs_free(oc, g->n_outputs);
    if (st == VI_OK)
        vi_engine_outputs_free(og, g->n_outputs);
    return st;
}

static void check_repeated_runs(int all_ops)
{
    long live0 = vi_emu_live_allocations();
    model_run r;
    model_open(&r, all_ops, 20);
    vi_error err = {{0}};
    vi_cuda_pool_stats s0 = stats(r.gpu_b);
    assert_int_equal(run_and_compare(&r, 20, &err), VI_OK);
    long live1 = vi_emu_live_allocations();
    vi_cuda_pool_stats s1 = stats(r.gpu_b);
    assert_true(s1.cached_blocks > 0); /* the run's buffers went back to the pool */
    assert_int_equal(s1.in_use_blocks, s0.in_use_blocks);
    uint64_t per_run = s1.hits + s1.misses - s0.hits - s0.misses;
    assert_true(per_run > 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(run_and_compare(&r, 20, &err), VI_OK);
        vi_cuda_pool_stats s = stats(r.gpu_b);
        assert_int_equal(vi_emu_live_allocations(), live1);
        assert_int_equal(s.misses, s1.misses);
        assert_int_equal(s.releases, 0);
        assert_int_equal(s.hits, s1.hits + (uint64_t)(k + 1) * per_run); /* all from the pool */
        assert_int_equal(s.cached_blocks, s1.cached_blocks);
        assert_int_equal(s.in_use_blocks, s1.in_use_blocks);
    }
    /* fewer rows fit in the cached blocks' classes or add a few; then back */
    assert_int_equal(run_and_compare(&r, 3, &err), VI_OK);
    long live2 = vi_emu_live_allocations();
    assert_int_equal(run_and_compare(&r, 20, &err), VI_OK);
    assert_int_equal(run_and_compare(&r, 3, &err), VI_OK);
    assert_int_equal(vi_emu_live_allocations(), live2);
    model_close(&r);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

static void test_repeated_runs_allocate_nothing_new_mlp(void **state)
{
    (void)state;
    check_repeated_runs(0);
}

static void test_repeated_runs_allocate_nothing_new_all_ops(void **state)
{
    (void)state;
    check_repeated_runs(1);
}

static void test_allocation_failure_is_reported(void **state)
{
    (void)state;
    long live0 = vi_emu_live_allocations();
    model_run r;
    model_open(&r, 0, 7);
    vi_error err = {{0}};
    uint64_t weights = stats(r.gpu_b).in_use_blocks;
    /* the first device allocation of the run: the input */
    vi_emu_fail_alloc_after(0);
    vi_status st = run_and_compare(&r, 7, &err);
    vi_emu_fail_alloc_after(-1);
    assert_int_equal(st, VI_ERR_NOMEM);
    assert_string_equal(err.msg, "out of memory for input 'input'");
    assert_int_equal(stats(r.gpu_b).in_use_blocks, weights);
    /* the first node's output */
    vi_emu_fail_alloc_after(1);
    st = run_and_compare(&r, 7, &err);
    vi_emu_fail_alloc_after(-1);
    assert_int_equal(st, VI_ERR_NOMEM);
    assert_string_equal(err.msg, "node 'fc0' (linear): out of memory for 'h0' (1799 elements)");
    assert_int_equal(stats(r.gpu_b).in_use_blocks, weights); /* the failed run freed its buffers */
    /* the input's block is cached now, h0 gets a new one, and the split-K
     * workspace of the product (7 rows) fails; the op fills no message, so
     * the engine names the node, the backend and the status */
    memset(&err, 0, sizeof err);
    vi_emu_fail_alloc_after(1);
    st = run_and_compare(&r, 7, &err);
    vi_emu_fail_alloc_after(-1);
    assert_int_equal(st, VI_ERR_NOMEM);
    assert_string_equal(err.msg, "node 'fc0' (linear): the cuda backend failed: out of memory");
    assert_int_equal(stats(r.gpu_b).in_use_blocks, weights);
    /* after a complete run every buffer of the next one comes from the pool:
     * no cudaMalloc is needed */
    assert_int_equal(run_and_compare(&r, 7, &err), VI_OK);
    vi_emu_fail_alloc_after(0);
    st = run_and_compare(&r, 7, &err);
    vi_emu_fail_alloc_after(-1);
    assert_int_equal(st, VI_OK);
    model_close(&r);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

static void test_failed_allocation_empties_the_cache(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    long base = vi_emu_live_allocations();
    b->free(b, b->alloc(b, 5000));
    b->free(b, b->alloc(b, 70000));
    assert_int_equal(stats(b).cached_blocks, 2);
    vi_emu_fail_alloc_after(0);
    /* a class with nothing cached: the cache is given back, the retry fails too */
    assert_null(b->alloc(b, 123456));
    void *again = b->alloc(b, 5000); /* its block was freed with the cache */
    vi_emu_fail_alloc_after(-1);
    assert_null(again);
    vi_cuda_pool_stats s = stats(b);
    assert_int_equal(s.cached_blocks, 0);
    assert_int_equal(s.releases, 2);
    assert_int_equal(vi_emu_live_allocations(), base);
    b->destroy(b);
}

/* ==== the split-K workspace ==== */

/* The workspace of the split-K kernels is a pool block, given back right
 * after the product is enqueued: the second product reuses it, its failure
 * is VI_ERR_NOMEM with nothing lost, and the bits stay the CPU's. */
static void test_splitk_workspace_comes_from_the_pool(void **state)
{
    (void)state;
    enum { M = 5, N = 300, K = 500 }; /* 4 chunks: 4 * 5 * 300 floats = 24000 bytes */
    vi_error err = {{0}};
    long live0 = vi_emu_live_allocations();
    vi_backend *b = cuda_dut(), *cpu = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    assert_non_null(cpu);
    assert_int_equal(vi_cuda_backend_set_linear_path(b, VI_CUDA_LIN_SPLITK, &err), VI_OK);
    static float w[N * K], x[M * K], bias[N], want[M * N], got[M * N];
    vt_rng rng = {4242};
    for (int i = 0; i < N * K; i++)
        w[i] = vt_uniform(&rng, -1.0f, 1.0f);
    for (int i = 0; i < M * K; i++)
        x[i] = vt_uniform(&rng, -2.0f, 2.0f);
    for (int i = 0; i < N; i++)
        bias[i] = vt_uniform(&rng, -1.0f, 1.0f);
    void *pc = NULL, *pg = NULL;
    assert_int_equal(cpu->linear_prepare(cpu, w, N, K, 1, bias, &pc, &err), VI_OK);
    assert_int_equal(cpu->linear(cpu, pc, x, M, want), VI_OK);
    assert_int_equal(b->linear_prepare(b, w, N, K, 1, bias, &pg, &err), VI_OK);
    float *dx = b->alloc(b, sizeof x), *dy = b->alloc(b, sizeof got);
    assert_non_null(dx);
    assert_non_null(dy);
    assert_int_equal(b->upload(b, dx, x, sizeof x), VI_OK);
    vi_cuda_pool_stats s0 = stats(b);
    long live1 = vi_emu_live_allocations();

    assert_int_equal(b->linear(b, pg, dx, M, dy), VI_OK);
    vi_cuda_pool_stats s1 = stats(b);
    assert_int_equal(s1.misses, s0.misses + 1);           /* the workspace, from cudaMalloc once */
    assert_int_equal(s1.in_use_blocks, s0.in_use_blocks); /* and back in the pool */
    assert_int_equal(s1.cached_blocks, s0.cached_blocks + 1);
    assert_int_equal(s1.cached_bytes, s0.cached_bytes + vi_cuda_pool_class_size(24000));
    assert_int_equal(vi_emu_live_allocations(), live1 + 1);
    assert_int_equal(b->download(b, got, dy, sizeof got), VI_OK);
    assert_memory_equal(got, want, sizeof want);

    memset(got, 0, sizeof got);
    assert_int_equal(b->linear(b, pg, dx, M, dy), VI_OK);
    vi_cuda_pool_stats s2 = stats(b);
    assert_int_equal(s2.misses, s1.misses);
    assert_int_equal(s2.hits, s1.hits + 1);
    assert_int_equal(vi_emu_live_allocations(), live1 + 1);
    assert_int_equal(b->download(b, got, dy, sizeof got), VI_OK);
    assert_memory_equal(got, want, sizeof want);

    /* nothing cached and no device memory left: the product fails cleanly */
    assert_int_equal(vi_cuda_backend_set_pool_cap(b, 0, &err), VI_OK);
    assert_int_equal(vi_emu_live_allocations(), live1);
    vi_emu_fail_alloc_after(0);
    vi_status st = b->linear(b, pg, dx, M, dy);
    vi_emu_fail_alloc_after(-1);
    assert_int_equal(st, VI_ERR_NOMEM);
    assert_int_equal(stats(b).in_use_blocks, s0.in_use_blocks);
    assert_int_equal(vi_emu_live_allocations(), live1);

    b->free(b, dx);
    b->free(b, dy);
    b->linear_release(b, pg);
    cpu->linear_release(cpu, pc);
    b->destroy(b);
    cpu->destroy(cpu);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

/* ==== staging ==== */

static void test_copies_through_pinned_staging(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    long base = vi_emu_live_allocations();
    assert_int_equal(stats(b).stage_bytes, 0);
    const size_t n = ((size_t)20 << 20) + 12; /* three chunks of 8 MiB, the last partial */
    unsigned char *src = malloc(n), *back = malloc(n + 1);
    assert_non_null(src);
    assert_non_null(back);
    vt_rng rng = {77};
    for (size_t i = 0; i < n; i++)
        src[i] = (unsigned char)vt_next(&rng);
    unsigned char *d = b->alloc(b, n);
    assert_non_null(d);
    /* no pinned memory: the copies still work, directly */
    vi_emu_fail_alloc_after(0);
    assert_int_equal(b->upload(b, d, src, 100000), VI_OK);
    memset(back, 0, 100000);
    assert_int_equal(b->download(b, back, d, 100000), VI_OK);
    vi_emu_fail_alloc_after(-1);
    assert_memory_equal(back, src, 100000);
    assert_int_equal(stats(b).stage_bytes, 0);
    assert_int_equal(vi_emu_live_allocations(), base + 1);
    /* a small copy: two 128 KiB buffers */
    assert_int_equal(b->upload(b, d, src, 100000), VI_OK);
    assert_int_equal(stats(b).stage_bytes, 131072);
    assert_int_equal(vi_emu_live_allocations(), base + 3);
    /* a large one: two 8 MiB buffers, three chunks each way */
    assert_int_equal(b->upload(b, d, src, n), VI_OK);
    assert_int_equal(stats(b).stage_bytes, (uint64_t)8 << 20);
    back[n] = 0xa5;
    memset(back, 0, n);
    assert_int_equal(b->download(b, back, d, n), VI_OK);
    assert_memory_equal(back, src, n);
    assert_int_equal(back[n], 0xa5);
    /* a download of an inner range lands where it belongs */
    memset(back, 0, n);
    assert_int_equal(b->download(b, back + 3, d + 5, n - 7), VI_OK);
    assert_memory_equal(back + 3, src + 5, n - 7);
    assert_int_equal(back[0] | back[1] | back[2], 0);
    assert_int_equal(vi_emu_live_allocations(), base + 3); /* the old buffers were freed */
    b->free(b, d);
    b->destroy(b);
    free(src);
    free(back);
}

/* ==== threads ==== */

typedef struct {
    vi_backend *b;
    int id;
    int bad;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    vt_rng rng = {1000u + (uint64_t)a->id};
    unsigned char buf[6000], back[6000];
    for (int it = 0; it < 200; it++) {
        size_t n = (size_t)vt_range(&rng, 1, (int64_t)sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)(a->id * 31 + it + i);
        void *d = a->b->alloc(a->b, n);
        if (!d || a->b->upload(a->b, d, buf, n) != VI_OK ||
            a->b->download(a->b, back, d, n) != VI_OK || memcmp(back, buf, n) != 0)
            a->bad++;
        a->b->free(a->b, d);
    }
    return NULL;
}

static void test_threads_share_the_pool(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){b, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].bad, 0);
    }
    vi_cuda_pool_stats s = stats(b);
    assert_int_equal(s.in_use_blocks, 0);
    assert_int_equal(s.hits + s.misses, 800);
    assert_true(s.misses <= 4 * 24); /* at most one block per thread per class (24 classes) */
    b->destroy(b);
}

static void test_destroy_releases_everything(void **state)
{
    (void)state;
    long live0 = vi_emu_live_allocations();
    vi_backend *b = cuda_dut();
    void *kept = b->alloc(b, 300);    /* still in use at destroy */
    b->free(b, b->alloc(b, 5 << 20)); /* cached */
    float x[4] = {1, 2, 3, 4};
    assert_int_equal(b->upload(b, kept, x, sizeof x), VI_OK); /* pinned buffers */
    assert_true(vi_emu_live_allocations() >= live0 + 5);
    b->destroy(b);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_sizes),
        cmocka_unit_test(test_freed_blocks_are_reused_by_class),
        cmocka_unit_test(test_cap_on_cached_bytes),
        cmocka_unit_test(test_repeated_runs_allocate_nothing_new_mlp),
        cmocka_unit_test(test_repeated_runs_allocate_nothing_new_all_ops),
        cmocka_unit_test(test_allocation_failure_is_reported),
        cmocka_unit_test(test_failed_allocation_empties_the_cache),
        cmocka_unit_test(test_splitk_workspace_comes_from_the_pool),
        cmocka_unit_test(test_copies_through_pinned_staging),
        cmocka_unit_test(test_threads_share_the_pool),
        cmocka_unit_test(test_destroy_releases_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
