/* tests/cpu/test_backend.c — the CPU backend table, op by op (a table of
 * cases × random shapes): through every supported ISA × 1..4 threads the
 * result equals (memcmp) the scalar single-thread result, guard bytes around
 * every output stay untouched, and a row gives the same bits alone and at
 * every position of batches of 1..64. Plus the backend's memory functions,
 * creation errors and argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/order.h"
#include "cpu/cpu_backend.h"
#include "cpu/linear.h"
#include "cpu/ops.h"
#include "test_util.h"

#define GUARD_BYTES 64
#define MAX_THREADS 4
#define MAX_CFG (3 * MAX_THREADS)

/* ==== the op table ==== */

typedef enum {
    T_LINEAR,
    T_LINEAR_BIAS,
    T_MATMUL,
    T_ADD,
    T_ADD_BCAST,
    T_MUL,
    T_MUL_BCAST,
    T_RELU,
    T_GELU,
    T_GELU_TANH,
    T_TANH,
    T_SIGMOID,
    T_SOFTMAX,
    T_LAYER_NORM,
    T_LAYER_NORM_BETA,
    T_RMS_NORM,
    T_EMBEDDING,
    T_ARGMAX,
    T_COUNT
} test_op;

static const char *const OP_NAMES[T_COUNT] = {
    "linear",   "linear+bias", "matmul",  "add",        "add(bcast)",
    "mul",      "mul(bcast)",  "relu",    "gelu",       "gelu(tanh)",
    "tanh",     "sigmoid",     "softmax", "layer_norm", "layer_norm+beta",
    "rms_norm", "embedding",   "argmax"};

/* One problem: an op with fixed weights/shape per row; `rows` varies per run.
 * Per row: x holds xw floats (ids: one int64), x2 holds x2w floats (the second
 * activation of add/mul/matmul), the output ow elements (floats, or int64 for
 * argmax). */
typedef struct problem {
    test_op op;
    int64_t D;     /* row width (K for linear/matmul) */
    int64_t N, M;  /* linear/matmul output width; matmul rows per item */
    int out_in;    /* linear weight layout */
    int64_t nb, V; /* broadcast length; embedding table rows */
    int64_t xw, x2w, ow;
    float *w, *bias, *gamma, *beta, *bv, *table;
    float eps;
    void *prep[MAX_CFG]; /* linear: the weight prepared on each backend */
} problem;

typedef struct cfg {
    vi_backend *b;
    vi_isa isa;
    int threads;
} cfg;

static cfg CFGS[MAX_CFG];
static int N_CFG;

/* ==== helpers ==== */

static float *rvec(vt_rng *r, int64_t n, float lo, float hi)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = vt_uniform(r, lo, hi);
    return v;
}

/* Sprinkles NaN, +-inf and -0 over about one element in `every`. */
static void sprinkle(vt_rng *r, float *v, int64_t n, int every)
{
    static const uint32_t SP[] = {0x7fc00000u, 0xffc12345u, 0x7f800001u,
                                  0x7f800000u, 0xff800000u, 0x80000000u};
    for (int64_t i = 0; i < n; i++)
        if (vt_range(r, 0, every - 1) == 0)
            v[i] = vi_bits_f32(SP[vt_range(r, 0, 5)]);
}

static int out_is_int(const problem *p)
{
    return p->op == T_ARGMAX;
}

static size_t out_esize(const problem *p)
{
    return out_is_int(p) ? sizeof(int64_t) : sizeof(float);
}

/* An output buffer of `bytes` with GUARD_BYTES of pattern on both sides; the
 * payload gets the pattern too, so an element never written shows up. */
static unsigned char *gbuf(size_t bytes, unsigned char pat)
{
    unsigned char *g = malloc(bytes + 2 * GUARD_BYTES);
    assert_non_null(g);
    memset(g, pat, bytes + 2 * GUARD_BYTES);
    return g + GUARD_BYTES;
}

static void gcheck(const unsigned char *p, size_t bytes, unsigned char pat, const char *what)
{
    for (size_t i = 0; i < GUARD_BYTES; i++)
        if (p[-1 - (ptrdiff_t)i] != pat || p[bytes + i] != pat)
            fail_msg("%s: guard byte %zu %s the output was overwritten", what, i,
                     p[-1 - (ptrdiff_t)i] != pat ? "before" : "after");
}

static void gfree(unsigned char *p)
{
    if (p)
        free(p - GUARD_BYTES);
}

/* ==== problems ==== */

static void problem_init(problem *p, test_op op, int64_t D, vt_rng *r)
{
    memset(p, 0, sizeof *p);
    p->op = op;
    p->D = D;
    p->xw = D;
    p->ow = D;
    p->eps = 1e-5f;
    switch (op) {
    case T_LINEAR:
    case T_LINEAR_BIAS:
        p->N = vt_range(r, 1, 40);
        p->out_in = (int)vt_range(r, 0, 1);
        p->w = rvec(r, p->N * D, -1.0f, 1.0f);
        if (op == T_LINEAR_BIAS)
            p->bias = rvec(r, p->N, -1.0f, 1.0f);
        p->ow = p->N;
        for (int c = 0; c < N_CFG; c++) {
            vi_error err;
            vi_backend *b = CFGS[c].b;
            if (b->linear_prepare(b, p->w, p->N, D, p->out_in, p->bias, &p->prep[c], &err) != VI_OK)
                fail_msg("linear_prepare: %s", err.msg);
        }
        break;
    case T_MATMUL:
        p->M = vt_range(r, 1, 4);
        p->N = vt_range(r, 1, 20);
        p->xw = p->M * D;
        p->x2w = D * p->N;
        p->ow = p->M * p->N;
        break;
    case T_ADD:
    case T_MUL:
        p->x2w = D;
        break;
    case T_ADD_BCAST:
    case T_MUL_BCAST: {
        /* the largest divisor of D below D (1 for a prime or D == 1) */
        p->nb = 1;
        for (int64_t d = D / 2; d >= 1; d--)
            if (D % d == 0) {
                p->nb = d;
                break;
            }
        p->bv = rvec(r, p->nb, -2.0f, 2.0f);
        break;
    }
    case T_LAYER_NORM:
    case T_LAYER_NORM_BETA:
    case T_RMS_NORM:
        p->gamma = rvec(r, D, -2.0f, 2.0f);
        if (op == T_LAYER_NORM_BETA)
            p->beta = rvec(r, D, -1.0f, 1.0f);
        break;
    case T_EMBEDDING:
        p->V = vt_range(r, 1, 50);
        p->table = rvec(r, p->V * D, -1.0f, 1.0f);
        sprinkle(r, p->table, p->V * D, 50);
        p->xw = 1;
        break;
    case T_ARGMAX:
        p->ow = 1;
        break;
    default:
        break;
    }
}

static void problem_free(problem *p)
{
    for (int c = 0; c < N_CFG; c++)
        if (p->prep[c])
            CFGS[c].b->linear_release(CFGS[c].b, p->prep[c]);
    free(p->w);
    free(p->bias);
    free(p->gamma);
    free(p->beta);
    free(p->bv);
    free(p->table);
}

/* Fresh inputs for `rows` rows (x: floats, or ids for embedding). */
static void make_inputs(const problem *p, vt_rng *r, int64_t rows, float *x, int64_t *ids,
                        float *x2, int specials)
{
    if (p->op == T_EMBEDDING) {
        for (int64_t i = 0; i < rows; i++)
            ids[i] = vt_range(r, 0, p->V - 1);
        return;
    }
    float lo = p->op == T_SOFTMAX ? -10.0f : -4.0f, hi = -lo;
    for (int64_t i = 0; i < rows * p->xw; i++)
        x[i] = vt_uniform(r, lo, hi);
    for (int64_t i = 0; i < rows * p->x2w; i++)
        x2[i] = vt_uniform(r, -2.0f, 2.0f);
    if (specials) {
        sprinkle(r, x, rows * p->xw, 40);
        sprinkle(r, x2, rows * p->x2w, 40);
    }
}

static vi_status run_op(int c, const problem *p, int64_t rows, const float *x, const int64_t *ids,
                        const float *x2, void *out)
{
    vi_backend *b = CFGS[c].b;
    float *y = out;
    int64_t n = rows * p->D;
    switch (p->op) {
    case T_LINEAR:
    case T_LINEAR_BIAS:
        return b->linear(b, p->prep[c], x, rows, y);
    case T_MATMUL:
        return b->matmul(b, x, x2, rows, p->M, p->D, p->N, y);
    case T_ADD:
        return b->binary(b, VI_OP_ADD, x, n, x2, n, y);
    case T_MUL:
        return b->binary(b, VI_OP_MUL, x, n, x2, n, y);
    case T_ADD_BCAST:
        return b->binary(b, VI_OP_ADD, x, n, p->bv, p->nb, y);
    case T_MUL_BCAST:
        return b->binary(b, VI_OP_MUL, x, n, p->bv, p->nb, y);
    case T_RELU:
        return b->unary(b, VI_OP_RELU, 0, x, n, y);
    case T_GELU:
        return b->unary(b, VI_OP_GELU, 0, x, n, y);
    case T_GELU_TANH:
        return b->unary(b, VI_OP_GELU, 1, x, n, y);
    case T_TANH:
        return b->unary(b, VI_OP_TANH, 0, x, n, y);
    case T_SIGMOID:
        return b->unary(b, VI_OP_SIGMOID, 0, x, n, y);
    case T_SOFTMAX:
        return b->softmax(b, x, rows, p->D, y);
    case T_LAYER_NORM:
    case T_LAYER_NORM_BETA:
        return b->layer_norm(b, x, rows, p->D, p->gamma, p->beta, p->eps, y);
    case T_RMS_NORM:
        return b->rms_norm(b, x, rows, p->D, p->gamma, p->eps, y);
    case T_EMBEDDING:
        return b->embedding(b, ids, rows, p->table, p->V, p->D, y);
    case T_ARGMAX:
        return b->argmax(b, x, rows, p->D, out);
    default:
        return VI_ERR_INTERNAL;
    }
}

/* The same op computed without the backend: one scalar kernel call over the
 * whole range (linear/matmul through the plain reference), so that a wrong
 * split into tasks cannot hide behind a reference that shares it. */
static void run_direct(const problem *p, int64_t rows, const float *x, const int64_t *ids,
                       const float *x2, void *out)
{
    float *y = out;
    int64_t n = rows * p->D;
    const vi_isa S = VI_ISA_SCALAR;
    switch (p->op) {
    case T_LINEAR:
    case T_LINEAR_BIAS:
        vi_cpu_linear_ref(p->w, p->N, p->D, p->out_in, p->bias, x, rows, y);
        break;
    case T_MATMUL:
        for (int64_t i = 0; i < rows; i++)
            vi_cpu_linear_ref(x2 + i * p->x2w, p->N, p->D, 0, NULL, x + i * p->xw, p->M,
                              y + i * p->ow);
        break;
    case T_ADD:
        vi_cpu_binary(VI_OP_ADD, x, x2, n, y, 0, n, S);
        break;
    case T_MUL:
        vi_cpu_binary(VI_OP_MUL, x, x2, n, y, 0, n, S);
        break;
    case T_ADD_BCAST:
        vi_cpu_binary(VI_OP_ADD, x, p->bv, p->nb, y, 0, n, S);
        break;
    case T_MUL_BCAST:
        vi_cpu_binary(VI_OP_MUL, x, p->bv, p->nb, y, 0, n, S);
        break;
    case T_RELU:
        vi_cpu_unary(VI_OP_RELU, 0, x, y, 0, n, S);
        break;
    case T_GELU:
        vi_cpu_unary(VI_OP_GELU, 0, x, y, 0, n, S);
        break;
    case T_GELU_TANH:
        vi_cpu_unary(VI_OP_GELU, 1, x, y, 0, n, S);
        break;
    case T_TANH:
        vi_cpu_unary(VI_OP_TANH, 0, x, y, 0, n, S);
        break;
    case T_SIGMOID:
        vi_cpu_unary(VI_OP_SIGMOID, 0, x, y, 0, n, S);
        break;
    case T_SOFTMAX:
        vi_cpu_softmax(x, p->D, y, 0, rows, S);
        break;
    case T_LAYER_NORM:
    case T_LAYER_NORM_BETA:
        vi_cpu_layer_norm(x, p->D, p->gamma, p->beta, p->eps, y, 0, rows, S);
        break;
    case T_RMS_NORM:
        vi_cpu_rms_norm(x, p->D, p->gamma, p->eps, y, 0, rows, S);
        break;
    case T_EMBEDDING:
        vi_cpu_embedding(ids, p->table, p->D, y, 0, rows);
        break;
    case T_ARGMAX:
        vi_cpu_argmax(x, p->D, out, 0, rows, S);
        break;
    default:
        break;
    }
}

static void same_bits(const problem *p, const void *got, const void *want, int64_t n_out,
                      const char *what)
{
    size_t es = out_esize(p);
    if (memcmp(got, want, (size_t)n_out * es) == 0)
        return;
    for (int64_t i = 0; i < n_out; i++)
        if (memcmp((const char *)got + i * es, (const char *)want + i * es, es) != 0) {
            if (out_is_int(p))
                fail_msg("%s: out[%lld] = %lld, want %lld", what, (long long)i,
                         (long long)((const int64_t *)got)[i],
                         (long long)((const int64_t *)want)[i]);
            fail_msg("%s: out[%lld] = 0x%08x, want 0x%08x", what, (long long)i,
                     vi_f32_bits(((const float *)got)[i]), vi_f32_bits(((const float *)want)[i]));
        }
}

/* ==== setup ==== */

static int setup(void **state)
{
    (void)state;
    static const vi_isa ISAS[] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};
    N_CFG = 0;
    for (int k = 0; k < 3; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        for (int t = 1; t <= MAX_THREADS; t++) {
            vi_error err;
            vi_backend *b = vi_cpu_backend_create(t, ISAS[k], &err);
            if (!b) {
                fprintf(stderr, "vi_cpu_backend_create: %s\n", err.msg);
                return -1;
            }
            CFGS[N_CFG++] = (cfg){b, ISAS[k], t};
        }
    }
    return 0; /* CFGS[0] is scalar, one thread: the reference */
}

static int teardown(void **state)
{
    (void)state;
    for (int c = 0; c < N_CFG; c++)
        CFGS[c].b->destroy(CFGS[c].b);
    N_CFG = 0;
    return 0;
}

/* ==== every ISA × thread count equals scalar, one thread ==== */

static void check_configs(const problem *p, int64_t rows, vt_rng *r, int specials)
{
    float *x = rvec(r, rows * p->xw, 0, 0), *x2 = rvec(r, rows * p->x2w, 0, 0);
    int64_t *ids = malloc((size_t)rows * sizeof *ids);
    assert_non_null(ids);
    make_inputs(p, r, rows, x, ids, x2, specials);
    int64_t n_out = rows * p->ow;
    size_t bytes = (size_t)n_out * out_esize(p);
    unsigned char *ref = gbuf(bytes, 0x5a);
    assert_int_equal(run_op(0, p, rows, x, ids, x2, ref), VI_OK);
    gcheck(ref, bytes, 0x5a, OP_NAMES[p->op]);
    unsigned char *direct = gbuf(bytes, 0x3c);
    run_direct(p, rows, x, ids, x2, direct);
    char dwhat[160];
    snprintf(dwhat, sizeof dwhat, "%s rows=%lld D=%lld: backend vs one kernel call",
             OP_NAMES[p->op], (long long)rows, (long long)p->D);
    same_bits(p, ref, direct, n_out, dwhat);
    gfree(direct);
    for (int c = 0; c < N_CFG; c++) {
        char what[160];
        snprintf(what, sizeof what, "%s rows=%lld D=%lld isa=%s threads=%d specials=%d",
                 OP_NAMES[p->op], (long long)rows, (long long)p->D, vi_isa_name(CFGS[c].isa),
                 CFGS[c].threads, specials);
        unsigned char *y = gbuf(bytes, 0xa5);
        assert_int_equal(run_op(c, p, rows, x, ids, x2, y), VI_OK);
        gcheck(y, bytes, 0xa5, what);
        same_bits(p, y, ref, n_out, what);
        gfree(y);
    }
    gfree(ref);
    free(x);
    free(x2);
    free(ids);
}

static void test_configs_match_scalar(void **state)
{
    (void)state;
    /* (rows, D): the row lengths of interest, then a large one that splits into
     * several tasks (elementwise blocks of 16384, row blocks of ~16384 elements) */
    static const int64_t SHAPES[][2] = {{1, 1},    {3, 15}, {5, 16}, {2, 17},
                                        {4, 1000}, {0, 0},  {0, 0},  {41, 2500}};
    vt_rng r = {101};
    int64_t n_checked = 0;
    for (int op = 0; op < T_COUNT; op++) {
        for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++) {
            int64_t rows = SHAPES[s][0], D = SHAPES[s][1];
            if (rows == 0) { /* random shapes */
                rows = vt_range(&r, 1, 70);
                D = vt_range(&r, 1, 300);
            }
            if ((op == T_MATMUL || op == T_LINEAR || op == T_LINEAR_BIAS) && rows * D > 20000)
                rows = 7; /* keep the dot products cheap */
            problem p;
            problem_init(&p, (test_op)op, D, &r);
            check_configs(&p, rows, &r, 0);
            check_configs(&p, rows, &r, 1);
            problem_free(&p);
            n_checked += 2;
        }
    }
    print_message("%lld op/shape cases x %d backends bit-identical\n", (long long)n_checked, N_CFG);
}

/* ==== a row alone == that row at every position of batches of 1..64 ==== */

static void test_batch_position(void **state)
{
    (void)state;
    vt_rng r = {202};
    const int64_t MAXB = 64;
    for (int op = 0; op < T_COUNT; op++) {
        int64_t D = op == T_LINEAR || op == T_LINEAR_BIAS ? 150 : 37; /* 150: two K-chunks */
        problem p;
        problem_init(&p, (test_op)op, D, &r);
        float *x = rvec(&r, MAXB * p.xw, 0, 0), *x2 = rvec(&r, MAXB * p.x2w, 0, 0);
        float *px = rvec(&r, p.xw, 0, 0), *px2 = rvec(&r, p.x2w, 0, 0);
        int64_t *ids = malloc((size_t)MAXB * sizeof *ids), pid;
        assert_non_null(ids);
        make_inputs(&p, &r, 1, px, &pid, px2, 1);
        size_t obytes = (size_t)p.ow * out_esize(&p);
        unsigned char *alone = gbuf(obytes, 0x5a);
        assert_int_equal(run_op(0, &p, 1, px, &pid, px2, alone), VI_OK);
        unsigned char *y = gbuf((size_t)MAXB * obytes, 0xa5);
        for (int64_t B = 1; B <= MAXB; B++)
            for (int64_t pos = 0; pos < B; pos++) {
                int c = (int)((B * MAXB + pos) % N_CFG);
                make_inputs(&p, &r, B, x, ids, x2, 1);
                memcpy(x + pos * p.xw, px, (size_t)p.xw * sizeof *x);
                memcpy(x2 + pos * p.x2w, px2, (size_t)p.x2w * sizeof *x2);
                ids[pos] = pid;
                memset(y, 0xa5, (size_t)B * obytes);
                assert_int_equal(run_op(c, &p, B, x, ids, x2, y), VI_OK);
                if (memcmp(y + pos * obytes, alone, obytes) != 0) {
                    char what[160];
                    snprintf(what, sizeof what, "%s: row at %lld of %lld (isa=%s threads=%d)",
                             OP_NAMES[op], (long long)pos, (long long)B, vi_isa_name(CFGS[c].isa),
                             CFGS[c].threads);
                    same_bits(&p, y + pos * obytes, alone, p.ow, what);
                }
            }
        gcheck(y, (size_t)MAXB * obytes, 0xa5, OP_NAMES[op]);
        gfree(y);
        gfree(alone);
        free(x);
        free(x2);
        free(px);
        free(px2);
        free(ids);
        problem_free(&p);
    }
}

/* ==== the backend itself ==== */

static void test_create_and_memory(void **state)
{
    (void)state;
    vi_error err;
    vi_backend *b = vi_cpu_backend_create(3, VI_ISA_SCALAR, &err);
    assert_non_null(b);
    assert_string_equal(b->name, "cpu");
    assert_string_equal(b->detail, "scalar");
    b->destroy(b);

    b = vi_cpu_backend_create(1, VI_ISA_AUTO, &err);
    assert_non_null(b);
    char want[64];
    snprintf(want, sizeof want, "%s", vi_isa_name(vi_isa_detect()));
    assert_string_equal(b->detail, want);

    float *p = b->alloc(b, 1000);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    void *z = b->alloc(b, 0);
    assert_non_null(z);
    b->free(b, z);
    b->free(b, NULL);
    const float src[3] = {1.0f, -0.0f, 3.5f};
    float back[3];
    assert_int_equal(b->upload(b, p, src, sizeof src), VI_OK);
    assert_int_equal(b->download(b, back, p, sizeof back), VI_OK);
    assert_memory_equal(back, src, sizeof src);
    const float *prep = NULL;
    assert_int_equal(b->const_prepare(b, src, 3, &prep, &err), VI_OK);
    assert_ptr_equal(prep, src);
    b->const_release(b, prep);
    assert_int_equal(b->const_prepare(b, NULL, 3, &prep, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "constant of 3 elements has no data");
    assert_int_equal(b->const_prepare(b, src, -2, &prep, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "constant has a negative element count (-2)");
    b->free(b, p);
    b->destroy(b);
    b = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    assert_non_null(b);
    b->destroy(NULL); /* accepts NULL */
    b->destroy(b);
}

static void test_create_errors(void **state)
{
    (void)state;
    vi_error err;
    assert_null(vi_cpu_backend_create(0, VI_ISA_SCALAR, &err));
    assert_string_equal(err.msg, "CPU backend: thread count must be between 1 and 1024 (got 0)");
    assert_null(vi_cpu_backend_create(2, (vi_isa)9, &err));
    assert_string_equal(err.msg, "unknown ISA value 9");
    static const vi_isa FORCED[] = {VI_ISA_AVX2, VI_ISA_AVX512};
    for (int k = 0; k < 2; k++) {
        vi_backend *b = vi_cpu_backend_create(1, FORCED[k], &err);
        if (vi_isa_supported(FORCED[k])) {
            assert_non_null(b);
            b->destroy(b);
        } else {
            char want[80];
            snprintf(want, sizeof want, "--isa %s is not supported by this CPU",
                     vi_isa_name(FORCED[k]));
            assert_null(b);
            assert_string_equal(err.msg, want);
        }
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    vi_backend *b = CFGS[N_CFG - 1].b;
    float x[8] = {0}, y[8], g[4] = {1, 1, 1, 1};
    int64_t yi[2], ids[2] = {0, 3};
    assert_int_equal(b->binary(b, VI_OP_ADD, x, 8, g, 3, y), VI_ERR_INVALID); /* 8 % 3 */
    assert_int_equal(b->binary(b, VI_OP_ADD, x, 8, g, 0, y), VI_ERR_INVALID);
    assert_int_equal(b->binary(b, VI_OP_RELU, x, 8, g, 4, y), VI_ERR_INVALID);
    assert_int_equal(b->binary(b, VI_OP_MUL, x, -1, g, 4, y), VI_ERR_INVALID);
    assert_int_equal(b->binary(b, VI_OP_MUL, x, 0, g, 4, y), VI_OK);
    assert_int_equal(b->unary(b, VI_OP_SOFTMAX, 0, x, 8, y), VI_ERR_INVALID);
    assert_int_equal(b->unary(b, VI_OP_TANH, 0, NULL, 8, y), VI_ERR_INVALID);
    assert_int_equal(b->softmax(b, x, -1, 4, y), VI_ERR_INVALID);
    assert_int_equal(b->softmax(b, x, INT64_MAX / 2, 4, y), VI_ERR_LIMIT);
    assert_int_equal(b->layer_norm(b, x, 2, 4, NULL, NULL, 1e-5f, y), VI_ERR_INVALID);
    assert_int_equal(b->rms_norm(b, x, 2, 4, NULL, 1e-5f, y), VI_ERR_INVALID);
    assert_int_equal(b->argmax(b, x, 2, 0, yi), VI_ERR_INVALID); /* empty rows */
    assert_int_equal(b->argmax(b, x, 0, 0, yi), VI_OK);
    assert_int_equal(b->embedding(b, ids, 2, x, 3, 2, y), VI_ERR_INVALID); /* id 3 of V 3 */
    ids[1] = -1;
    assert_int_equal(b->embedding(b, ids, 2, x, 3, 2, y), VI_ERR_INVALID);
    assert_int_equal(b->embedding(b, ids, 2, x, INT64_MAX, 2, y), VI_ERR_LIMIT);
    assert_int_equal(b->matmul(b, x, x, 1, -1, 2, 2, y), VI_ERR_INVALID);
    assert_int_equal(b->linear(b, NULL, x, 1, y), VI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configs_match_scalar), cmocka_unit_test(test_batch_position),
        cmocka_unit_test(test_bad_arguments),        cmocka_unit_test(test_create_and_memory),
        cmocka_unit_test(test_create_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
