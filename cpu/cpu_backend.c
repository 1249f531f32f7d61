/* cpu/cpu_backend.c — the CPU implementation of the vi_backend table: host
 * memory, argument checks, and every op split over the thread pool (row ops by
 * blocks of rows, elementwise ops by fixed blocks of indices; work is only
 * ever split over outputs, so neither the thread count nor the ISA changes a
 * bit). */
#include "cpu_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/backend_args.h"
#include "linear.h"
#include "ops.h"
#include "threadpool.h"

#define CPU_ALIGN 64
#define CPU_ELEM_BLOCK 16384 /* elements per task for elementwise ops */
#define CPU_ROW_WORK 16384   /* about this many elements per task for row ops */

typedef struct cpu_ctx {
    vi_isa isa; /* resolved: SCALAR, AVX2 or AVX512 */
    vi_pool *pool;
} cpu_ctx;

static cpu_ctx *ctx_of(vi_backend *b)
{
    return (cpu_ctx *)b->ctx;
}

/* ==== memory ==== */

static void *cpu_alloc(vi_backend *b, size_t bytes)
{
    (void)b;
    void *p = NULL;
    if (posix_memalign(&p, CPU_ALIGN, bytes ? bytes : 1) != 0)
        return NULL;
    return p;
}

static void cpu_free(vi_backend *b, void *p)
{
    (void)b;
    free(p);
}

static vi_status cpu_copy(vi_backend *b, void *dst, const void *src, size_t bytes)
{
    (void)b;
    if (bytes == 0)
        return VI_OK;
    if (!dst || !src)
        return VI_ERR_INVALID;
    memcpy(dst, src, bytes);
    return VI_OK;
}

static vi_status cpu_const_prepare(vi_backend *b, const float *host, int64_t n, const float **out,
                                   vi_error *err)
{
    (void)b;
    if (n < 0)
        return vi_fail(err, VI_ERR_INVALID, "constant has a negative element count (%lld)",
                       (long long)n);
    if (n > 0 && !host)
        return vi_fail(err, VI_ERR_INVALID, "constant of %lld elements has no data", (long long)n);
    *out = host;
    return VI_OK;
}

static void cpu_const_release(vi_backend *b, const float *prepared)
{
    (void)b;
    (void)prepared;
}

/* ==== linear / matmul (cpu/linear.c) ==== */

static vi_status cpu_linear_prepare(vi_backend *b, const float *w, int64_t N, int64_t K, int out_in,
                                    const float *bias, void **prepared, vi_error *err)
{
    (void)b;
    vi_cpu_linear *lw = NULL;
    vi_status st = vi_cpu_linear_prepare(w, N, K, out_in, bias, &lw, err);
    *prepared = lw;
    return st;
}

static void cpu_linear_release(vi_backend *b, void *prepared)
{
    (void)b;
    vi_cpu_linear_free(prepared);
}

static vi_status cpu_linear(vi_backend *b, const void *prepared, const float *x, int64_t M,
                            float *y)
{
    if (!prepared || M < 0)
        return VI_ERR_INVALID;
    if (M == 0)
        return VI_OK;
    if (!x || !y)
        return VI_ERR_INVALID;
    vi_cpu_linear_run(prepared, x, M, y, ctx_of(b)->isa, ctx_of(b)->pool);
    return VI_OK;
}

static vi_status cpu_matmul(vi_backend *b, const float *a, const float *bm, int64_t batch,
                            int64_t M, int64_t K, int64_t N, float *y)
{
    if (batch < 0 || M < 0 || K < 0 || N < 0)
        return VI_ERR_INVALID;
    if (batch == 0 || M == 0 || N == 0)
        return VI_OK;
    if (!y || (K > 0 && (!a || !bm)))
        return VI_ERR_INVALID;
    vi_cpu_matmul_run(a, bm, batch, M, K, N, y, ctx_of(b)->isa, ctx_of(b)->pool);
    return VI_OK;
}

/* ==== elementwise ==== */

typedef struct elem_job {
    vi_op op;
    int gelu_tanh;
    const float *a, *bv;
    int64_t n, nb;
    float *y;
    vi_isa isa;
} elem_job;

static void elem_block(int64_t task, int64_t n, int64_t *i0, int64_t *i1)
{
    *i0 = task * CPU_ELEM_BLOCK;
    *i1 = n - *i0 < CPU_ELEM_BLOCK ? n : *i0 + CPU_ELEM_BLOCK;
}

static void binary_task(void *arg, int64_t task)
{
    const elem_job *j = arg;
    int64_t i0, i1;
    elem_block(task, j->n, &i0, &i1);
    vi_cpu_binary(j->op, j->a, j->bv, j->nb, j->y, i0, i1, j->isa);
}

static void unary_task(void *arg, int64_t task)
{
    const elem_job *j = arg;
    int64_t i0, i1;
    elem_block(task, j->n, &i0, &i1);
    vi_cpu_unary(j->op, j->gelu_tanh, j->a, j->y, i0, i1, j->isa);
}

static int64_t n_blocks(int64_t n, int64_t block)
{
    return n / block + (n % block != 0);
}

static vi_status cpu_binary(vi_backend *b, vi_op op, const float *a, int64_t n, const float *bv,
                            int64_t nb, float *y)
{
    int empty;
    vi_status st = vi_args_binary(op, a, n, bv, nb, y, &empty);
    if (st != VI_OK || empty)
        return st;
    elem_job j = {.op = op, .a = a, .bv = bv, .n = n, .nb = nb, .y = y, .isa = ctx_of(b)->isa};
    vi_pool_run(ctx_of(b)->pool, n_blocks(n, CPU_ELEM_BLOCK), binary_task, &j);
    return VI_OK;
}

static vi_status cpu_unary(vi_backend *b, vi_op op, int gelu_tanh, const float *x, int64_t n,
                           float *y)
{
    int empty;
    vi_status st = vi_args_unary(op, x, n, y, &empty);
    if (st != VI_OK || empty)
        return st;
    elem_job j = {.op = op, .gelu_tanh = gelu_tanh, .a = x, .n = n, .y = y, .isa = ctx_of(b)->isa};
    vi_pool_run(ctx_of(b)->pool, n_blocks(n, CPU_ELEM_BLOCK), unary_task, &j);
    return VI_OK;
}

/* ==== row ops ==== */

typedef enum { ROW_SOFTMAX, ROW_LAYER_NORM, ROW_RMS_NORM, ROW_ARGMAX, ROW_EMBEDDING } row_kind;

typedef struct row_job {
    row_kind kind;
    const float *x, *gamma, *beta;
    const int64_t *ids;
    int64_t rows, D, per_task;
    float eps;
    float *y;
    int64_t *yi;
    vi_isa isa;
} row_job;

static void row_task(void *arg, int64_t task)
{
    const row_job *j = arg;
    int64_t r0 = task * j->per_task;
    int64_t r1 = j->rows - r0 < j->per_task ? j->rows : r0 + j->per_task;
    switch (j->kind) {
    case ROW_SOFTMAX:
        vi_cpu_softmax(j->x, j->D, j->y, r0, r1, j->isa);
        break;
    case ROW_LAYER_NORM:
        vi_cpu_layer_norm(j->x, j->D, j->gamma, j->beta, j->eps, j->y, r0, r1, j->isa);
        break;
    case ROW_RMS_NORM:
        vi_cpu_rms_norm(j->x, j->D, j->gamma, j->eps, j->y, r0, r1, j->isa);
        break;
    case ROW_ARGMAX:
        vi_cpu_argmax(j->x, j->D, j->yi, r0, r1, j->isa);
        break;
    case ROW_EMBEDDING:
        vi_cpu_embedding(j->ids, j->x, j->D, j->y, r0, r1);
        break;
    }
}

/* Splits the rows of an op whose arguments were checked over the pool. */
static vi_status run_rows(vi_backend *b, row_job *j)
{
    j->isa = ctx_of(b)->isa;
    j->per_task = j->D >= CPU_ROW_WORK ? 1 : CPU_ROW_WORK / j->D;
    vi_pool_run(ctx_of(b)->pool, n_blocks(j->rows, j->per_task), row_task, j);
    return VI_OK;
}

static vi_status cpu_softmax(vi_backend *b, const float *x, int64_t rows, int64_t D, float *y)
{
    int empty;
    vi_status st = vi_args_rows(rows, D, 0, x && y, &empty);
    if (st != VI_OK || empty)
        return st;
    row_job j = {.kind = ROW_SOFTMAX, .x = x, .rows = rows, .D = D, .y = y};
    return run_rows(b, &j);
}

static vi_status cpu_layer_norm(vi_backend *b, const float *x, int64_t rows, int64_t D,
                                const float *gamma, const float *beta, float eps, float *y)
{
    int empty;
    vi_status st = vi_args_rows(rows, D, 0, x && y && gamma, &empty);
    if (st != VI_OK || empty)
        return st;
    row_job j = {.kind = ROW_LAYER_NORM,
                 .x = x,
                 .gamma = gamma,
                 .beta = beta,
                 .eps = eps,
                 .rows = rows,
                 .D = D,
                 .y = y};
    return run_rows(b, &j);
}

static vi_status cpu_rms_norm(vi_backend *b, const float *x, int64_t rows, int64_t D,
                              const float *gamma, float eps, float *y)
{
    int empty;
    vi_status st = vi_args_rows(rows, D, 0, x && y && gamma, &empty);
    if (st != VI_OK || empty)
        return st;
    row_job j = {
        .kind = ROW_RMS_NORM, .x = x, .gamma = gamma, .eps = eps, .rows = rows, .D = D, .y = y};
    return run_rows(b, &j);
}

static vi_status cpu_argmax(vi_backend *b, const float *x, int64_t rows, int64_t D, int64_t *y)
{
    int empty;
    vi_status st = vi_args_rows(rows, D, 1, x && y, &empty);
    if (st != VI_OK || empty)
        return st;
    row_job j = {.kind = ROW_ARGMAX, .x = x, .rows = rows, .D = D, .yi = y};
    return run_rows(b, &j);
}

static vi_status cpu_embedding(vi_backend *b, const int64_t *ids, int64_t n, const float *table,
                               int64_t V, int64_t D, float *y)
{
    int empty;
    vi_status st = vi_args_embedding(ids, n, table, V, D, y, &empty);
    if (st != VI_OK || empty)
        return st;
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return VI_ERR_INVALID;
    row_job j = {.kind = ROW_EMBEDDING, .x = table, .ids = ids, .rows = n, .D = D, .y = y};
    return run_rows(b, &j);
}

/* ==== creation ==== */

static void cpu_destroy(vi_backend *b)
{
    if (!b)
        return;
    if (b->ctx)
        vi_pool_destroy(ctx_of(b)->pool);
    free(b->ctx);
    free(b);
}

vi_backend *vi_cpu_backend_create(int n_threads, vi_isa isa, vi_error *err)
{
    if (isa != VI_ISA_AUTO && isa != VI_ISA_SCALAR && isa != VI_ISA_AVX2 && isa != VI_ISA_AVX512) {
        vi_fail(err, VI_ERR_INVALID, "unknown ISA value %d", (int)isa);
        return NULL;
    }
    if (isa == VI_ISA_AUTO)
        isa = vi_isa_detect();
    else if (!vi_isa_supported(isa)) {
        vi_fail(err, VI_ERR_UNSUPPORTED, "--isa %s is not supported by this CPU", vi_isa_name(isa));
        return NULL;
    }
    vi_backend *b = calloc(1, sizeof *b);
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!b || !c) {
        vi_fail(err, VI_ERR_NOMEM, "out of memory creating the CPU backend");
        goto fail;
    }
    c->isa = isa;
    c->pool = vi_pool_create(n_threads, err);
    if (!c->pool) {
        vi_error_prefix(err, "CPU backend");
        goto fail;
    }
    b->ctx = c;
    b->name = "cpu";
    /* the engine id says "isa/<name>"; the thread count never changes a bit, so it is not part of
     * it */
    snprintf(b->detail, sizeof b->detail, "%s", vi_isa_name(isa));
    b->alloc = cpu_alloc;
    b->free = cpu_free;
    b->upload = cpu_copy;
    b->download = cpu_copy;
    b->const_prepare = cpu_const_prepare;
    b->const_release = cpu_const_release;
    b->linear_prepare = cpu_linear_prepare;
    b->linear_release = cpu_linear_release;
    b->linear = cpu_linear;
    b->matmul = cpu_matmul;
    b->binary = cpu_binary;
    b->unary = cpu_unary;
    b->softmax = cpu_softmax;
    b->layer_norm = cpu_layer_norm;
    b->rms_norm = cpu_rms_norm;
    b->argmax = cpu_argmax;
    b->embedding = cpu_embedding;
    b->destroy = cpu_destroy;
    return b;

fail:
    if (c)
        vi_pool_destroy(c->pool);
    free(c);
    free(b);
    return NULL;
}
