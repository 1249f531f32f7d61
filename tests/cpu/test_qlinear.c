/* tests/cpu/test_qlinear.c — quantised linear layers (cpu/qlinear.h): every
 * output bit equal to vi_qdot_ref for every weight format, ISA (scalar,
 * AVX2, AVX-512 where the CPU has them), thread count 1..3, M 1..9, odd N
 * and K not a multiple of the 128-long chunk; guard words around outputs;
 * a row's bits independent of its position in the batch; NaN and infinity
 * handling; bad prepare arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/quant.h"
#include "cpu/qlinear.h"
#include "test_util.h"

#define GUARD 64
#define SENTINEL 0xA5A5A5A5u

static const vi_isa ISAS[] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};
#define N_ISAS 3
#define MAX_THREADS 3

static vi_pool *g_pools[MAX_THREADS + 1]; /* g_pools[t]: t threads (1: NULL, the caller alone) */

static int setup_pools(void **state)
{
    (void)state;
    vi_error err;
    for (int t = 2; t <= MAX_THREADS; t++) {
        g_pools[t] = vi_pool_create(t, &err);
        if (!g_pools[t])
            return -1;
    }
    return 0;
}

static int teardown_pools(void **state)
{
    (void)state;
    for (int t = 0; t <= MAX_THREADS; t++) {
        vi_pool_destroy(g_pools[t]);
        g_pools[t] = NULL;
    }
    return 0;
}

/* ==== helpers ==== */

static float *gbuf_alloc(int64_t n)
{
    uint32_t *base = malloc(((size_t)n + 2 * GUARD) * sizeof(uint32_t));
    assert_non_null(base);
    for (int64_t i = 0; i < n + 2 * GUARD; i++)
        base[i] = SENTINEL;
    return (float *)(base + GUARD);
}

static void gbuf_reset(float *p, int64_t n)
{
    uint32_t *u = (uint32_t *)p;
    for (int64_t i = 0; i < n; i++)
        u[i] = SENTINEL;
}

static void gbuf_check(const float *p, int64_t n, const char *what)
{
    const uint32_t *base = (const uint32_t *)p - GUARD;
    for (int64_t i = 0; i < GUARD; i++)
        if (base[i] != SENTINEL || base[GUARD + n + i] != SENTINEL)
            fail_msg("%s: guard word %lld %s the output was overwritten", what,
                     (long long)(base[i] != SENTINEL ? GUARD - i : i + 1),
                     base[i] != SENTINEL ? "before" : "after");
}

static void gbuf_free(float *p)
{
    if (p)
        free((uint32_t *)p - GUARD);
}

/* N rows of K elements of type t: random bytes with every f16 scale replaced
 * by a small normal half (finite, model-like); exactly-sized allocation, so
 * that a stray read shows under ASan. */
static uint8_t *make_weights(vi_ggml_type t, int64_t N, int64_t K, vt_rng *r)
{
    size_t bb = vi_ggml_type_block_bytes(t);
    int64_t nb = N * (K / (int64_t)vi_ggml_type_block_size(t));
    uint8_t *w = malloc((size_t)nb * bb);
    assert_non_null(w);
    for (size_t i = 0; i < (size_t)nb * bb; i++)
        w[i] = (uint8_t)vt_next(r);
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *blk = w + (size_t)b * bb;
        uint16_t h1 = (uint16_t)(0x2000 + vt_range(r, 0, 0x0fff));
        uint16_t h2 = (uint16_t)(vt_range(r, 0, 1) << 15 | (0x2000 + vt_range(r, 0, 0x0fff)));
        switch (t) {
        case VI_GGML_F16:
            blk[0] = (uint8_t)h2, blk[1] = (uint8_t)(h2 >> 8);
            break;
        case VI_GGML_BF16:
            blk[1] = (uint8_t)(0x3c | (blk[1] & 0x80));
            break;
        case VI_GGML_F32: {
            float f = vt_uniform(r, -1.0f, 1.0f);
            memcpy(blk, &f, 4);
            break;
        }
        case VI_GGML_Q4_0:
        case VI_GGML_Q8_0:
            blk[0] = (uint8_t)h1, blk[1] = (uint8_t)(h1 >> 8);
            break;
        case VI_GGML_Q4_1:
        case VI_GGML_Q4_K:
            blk[0] = (uint8_t)h1, blk[1] = (uint8_t)(h1 >> 8);
            blk[2] = (uint8_t)h2, blk[3] = (uint8_t)(h2 >> 8);
            break;
        case VI_GGML_Q6_K:
            blk[208] = (uint8_t)h1, blk[209] = (uint8_t)(h1 >> 8);
            break;
        }
    }
    return w;
}

static float *make_x(int64_t n, vt_rng *r)
{
    float *x = malloc((size_t)n * sizeof(float));
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = vt_uniform(r, -2.0f, 2.0f);
    return x;
}

/* y[m][n] = vi_qdot_ref(row n, x[m]) */
static void reference(vi_ggml_type t, const uint8_t *w, int64_t N, int64_t K, const float *x,
                      int64_t M, float *y)
{
    size_t row_bytes =
        (size_t)(K / (int64_t)vi_ggml_type_block_size(t)) * vi_ggml_type_block_bytes(t);
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++)
            y[m * N + n] = vi_qdot_ref(t, w + (size_t)n * row_bytes, x + m * K, K);
}

static void assert_same_bits(const float *got, const float *want, int64_t M, int64_t N,
                             const char *what)
{
    if (memcmp(got, want, (size_t)(M * N) * sizeof(float)) == 0)
        return;
    for (int64_t i = 0; i < M * N; i++)
        if (vi_f32_bits(got[i]) != vi_f32_bits(want[i]))
            fail_msg("%s: y[%lld, %lld] = %a (0x%08x), vi_qdot_ref gives %a (0x%08x)", what,
                     (long long)(i / N), (long long)(i % N), (double)got[i], vi_f32_bits(got[i]),
                     (double)want[i], vi_f32_bits(want[i]));
}

static vi_qlinear *prepare_ok(vi_ggml_type t, const uint8_t *w, int64_t N, int64_t K)
{
    vi_qlinear *q = NULL;
    vi_error err;
    vi_status st = vi_qlinear_prepare(&q, t, w, N, K, &err);
    if (st != VI_OK)
        fail_msg("prepare %s N=%lld K=%lld: %s", vi_ggml_type_name(t), (long long)N, (long long)K,
                 err.msg);
    assert_int_equal(vi_qlinear_n(q), N);
    assert_int_equal(vi_qlinear_k(q), K);
    assert_int_equal(vi_qlinear_type(q), t);
    return q;
}

/* Runs every (M in Ms, threads in ts, isa) combination and compares with the
 * reference rows (which it computes once for the largest M). */
static void check_shape(vi_ggml_type t, int64_t N, int64_t K, const int *Ms, int nM, const int *ts,
                        int nt, vt_rng *r)
{
    int Mmax = 0;
    for (int i = 0; i < nM; i++)
        Mmax = Ms[i] > Mmax ? Ms[i] : Mmax;
    uint8_t *w = make_weights(t, N, K, r);
    float *x = make_x(Mmax * K, r);
    float *want = malloc((size_t)(Mmax * N) * sizeof(float));
    assert_non_null(want);
    reference(t, w, N, K, x, Mmax, want);
    vi_qlinear *q = prepare_ok(t, w, N, K);
    free(w); /* the prepared weight owns its copy */
    float *y = gbuf_alloc(Mmax * N);
    char what[160];
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!vi_isa_supported(ISAS[ii]))
            continue;
        for (int mi = 0; mi < nM; mi++)
            for (int ti = 0; ti < nt; ti++) {
                int64_t M = Ms[mi];
                snprintf(what, sizeof what, "%s N=%lld K=%lld M=%lld threads=%d isa=%s",
                         vi_ggml_type_name(t), (long long)N, (long long)K, (long long)M, ts[ti],
                         vi_isa_name(ISAS[ii]));
                gbuf_reset(y, Mmax * N);
                vi_qlinear_run(q, x, M, y, ISAS[ii], g_pools[ts[ti]]);
                gbuf_check(y, Mmax * N, what);
                assert_same_bits(y, want, M, N, what);
                /* rows past M untouched */
                for (int64_t i = M * N; i < Mmax * N; i++)
                    if (vi_f32_bits(y[i]) != SENTINEL)
                        fail_msg("%s: y[%lld] past the M rows was written", what, (long long)i);
            }
    }
    gbuf_free(y);
    vi_qlinear_free(q);
    free(want);
    free(x);
}

static const vi_ggml_type ALL_TYPES[] = {VI_GGML_Q4_1, VI_GGML_Q8_0, VI_GGML_Q4_0, VI_GGML_F32,
                                         VI_GGML_F16,  VI_GGML_BF16, VI_GGML_Q4_K, VI_GGML_Q6_K};
#define N_TYPES (sizeof ALL_TYPES / sizeof ALL_TYPES[0])

/* ==== tests ==== */

/* Small odd shapes, every type, M 1..9, threads 1..3, every ISA. */
static void test_small_shapes(void **state)
{
    (void)state;
    static const int64_t Ns[] = {1, 7, 17, 33};
    static const int64_t Ks32[] = {32, 96, 160, 576};
    static const int64_t Ks256[] = {256, 768};
    static const int Ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const int ts[] = {1, 2, 3};
    vt_rng r = {0x51e5};
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        vi_ggml_type t = ALL_TYPES[ti];
        int kq = vi_ggml_type_block_size(t) == 256;
        const int64_t *Ks = kq ? Ks256 : Ks32;
        int nK = kq ? 2 : 4;
        for (size_t ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++)
            for (int ki = 0; ki < nK; ki++)
                check_shape(t, Ns[ni], Ks[ki], Ms, 9, ts, 3, &r);
    }
}

/* The shapes of SmolLM2-135M (n_embd 576, 3 kv heads x 64, n_ff 1536) and
 * two more K values that are not multiples of 128. */
static void test_model_shapes(void **state)
{
    (void)state;
    static const struct {
        vi_ggml_type t;
        int64_t N, K;
    } shapes[] = {{VI_GGML_Q4_1, 576, 576},  {VI_GGML_Q4_1, 192, 576},  {VI_GGML_Q4_1, 1536, 576},
                  {VI_GGML_Q4_1, 576, 1536}, {VI_GGML_Q8_0, 576, 576},  {VI_GGML_Q8_0, 1536, 608},
                  {VI_GGML_Q4_1, 100, 1376}, {VI_GGML_Q6_K, 576, 1536}, {VI_GGML_Q4_K, 49, 512}};
    static const int Ms[] = {1, 2, 5, 8, 9};
    static const int ts[] = {1, 3};
    vt_rng r = {0x5e0d};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(shapes[i].t, shapes[i].N, shapes[i].K, Ms, 5, ts, 2, &r);
}

/* Calls of fewer than 2^19 multiply-adds run on the calling thread, so the
 * small shapes above never reach the pool: odd N over that size, threaded. */
static void test_threaded_odd_shapes(void **state)
{
    (void)state;
    static const vi_ggml_type types[] = {VI_GGML_Q4_1, VI_GGML_Q8_0, VI_GGML_F16, VI_GGML_Q4_0};
    static const int Ms[] = {1, 3, 9};
    static const int ts[] = {1, 2, 3};
    vt_rng r = {0x7e4d};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        check_shape(types[i], 1031, 544, Ms, 3, ts, 3, &r);
}

/* The tied output head of SmolLM2: 49152 x 576 Q8_0. */
static void test_output_head(void **state)
{
    (void)state;
    static const int Ms[] = {1, 3};
    static const int ts[] = {2};
    vt_rng r = {0x4ead};
    check_shape(VI_GGML_Q8_0, 49152, 576, Ms, 2, ts, 1, &r);
}

/* A row's bits do not depend on where it sits in the batch or on the batch. */
static void test_row_position(void **state)
{
    (void)state;
    const int64_t N = 33, K = 288, M = 9;
    vt_rng r = {0x9051};
    for (int f = 0; f < 2; f++) {
        vi_ggml_type t = f ? VI_GGML_Q8_0 : VI_GGML_Q4_1;
        uint8_t *w = make_weights(t, N, K, &r);
        vi_qlinear *q = prepare_ok(t, w, N, K);
        float *row = make_x(K, &r);
        float *alone = gbuf_alloc(N);
        float *batch = make_x(M * K, &r);
        float *y = gbuf_alloc(M * N);
        for (int ii = 0; ii < N_ISAS; ii++) {
            if (!vi_isa_supported(ISAS[ii]))
                continue;
            vi_qlinear_run(q, row, 1, alone, ISAS[ii], NULL);
            gbuf_check(alone, N, "row alone");
            for (int64_t pos = 0; pos < M; pos++) {
                float *b = malloc((size_t)(M * K) * sizeof(float));
                assert_non_null(b);
                memcpy(b, batch, (size_t)(M * K) * sizeof(float));
                memcpy(b + pos * K, row, (size_t)K * sizeof(float));
                for (int th = 1; th <= MAX_THREADS; th++) {
                    vi_qlinear_run(q, b, M, y, ISAS[ii], g_pools[th]);
                    gbuf_check(y, M * N, "batch");
                    char what[96];
                    snprintf(what, sizeof what, "%s isa=%s row at %lld of %lld, %d threads",
                             vi_ggml_type_name(t), vi_isa_name(ISAS[ii]), (long long)pos,
                             (long long)M, th);
                    assert_same_bits(y + pos * N, alone, 1, N, what);
                }
                free(b);
            }
        }
        gbuf_free(y);
        free(batch);
        gbuf_free(alone);
        free(row);
        vi_qlinear_free(q);
        free(w);
    }
}

/* Infinite and NaN scales, infinities in x: the results are the canonical
 * NaN or infinities, the same bits on every path. */
static void test_specials(void **state)
{
    (void)state;
    const int64_t N = 19, K = 160, M = 3;
    vt_rng r = {0x5bec};
    for (int f = 0; f < 2; f++) {
        vi_ggml_type t = f ? VI_GGML_Q8_0 : VI_GGML_Q4_1;
        size_t bb = vi_ggml_type_block_bytes(t);
        uint8_t *w = make_weights(t, N, K, &r);
        /* row 0 block 0: d = +inf; row 1 block 2: d = NaN; row 2 block 4:
         * d = -inf (and for Q4_1 m = +inf in row 3 block 1) */
        w[0] = 0x00, w[1] = 0x7c;
        w[(5 + 2) * bb] = 0x01, w[(5 + 2) * bb + 1] = 0x7e;
        w[(10 + 4) * bb] = 0x00, w[(10 + 4) * bb + 1] = 0xfc;
        if (t == VI_GGML_Q4_1)
            w[(15 + 1) * bb + 2] = 0x00, w[(15 + 1) * bb + 3] = 0x7c;
        float *x = make_x(M * K, &r);
        x[1 * K + 40] = __builtin_inff();  /* row 1 */
        x[2 * K + 7] = __builtin_nanf(""); /* row 2 */
        float *want = malloc((size_t)(M * N) * sizeof(float));
        assert_non_null(want);
        reference(t, w, N, K, x, M, want);
        int nan = 0, inf = 0;
        for (int64_t i = 0; i < M * N; i++) {
            nan += want[i] != want[i];
            inf += want[i] - want[i] != 0.0f && want[i] == want[i];
            if (want[i] != want[i])
                assert_int_equal(vi_f32_bits(want[i]), VI_CANON_NAN_BITS);
        }
        assert_true(nan >= N); /* all of row 2, at least */
        (void)inf;
        vi_qlinear *q = prepare_ok(t, w, N, K);
        float *y = gbuf_alloc(M * N);
        for (int ii = 0; ii < N_ISAS; ii++) {
            if (!vi_isa_supported(ISAS[ii]))
                continue;
            vi_qlinear_run(q, x, M, y, ISAS[ii], g_pools[2]);
            gbuf_check(y, M * N, "specials");
            assert_same_bits(y, want, M, N, vi_isa_name(ISAS[ii]));
        }
        gbuf_free(y);
        vi_qlinear_free(q);
        free(want);
        free(x);
        free(w);
    }
}

/* AUTO and an ISA the CPU may lack fall back without changing bits. */
static void test_isa_fallback(void **state)
{
    (void)state;
    const int64_t N = 40, K = 96;
    vt_rng r = {0xfa11};
    uint8_t *w = make_weights(VI_GGML_Q4_1, N, K, &r);
    float *x = make_x(2 * K, &r);
    float want[80], y[80];
    reference(VI_GGML_Q4_1, w, N, K, x, 2, want);
    vi_qlinear *q = prepare_ok(VI_GGML_Q4_1, w, N, K);
    vi_qlinear_run(q, x, 2, y, VI_ISA_AUTO, NULL);
    assert_same_bits(y, want, 2, N, "auto");
    vi_qlinear_run(q, x, 2, y, (vi_isa)99, NULL);
    assert_same_bits(y, want, 2, N, "unknown isa");
    /* M < 1 and q NULL do nothing */
    memset(y, 0x5a, sizeof y);
    vi_qlinear_run(q, x, 0, y, VI_ISA_AUTO, NULL);
    vi_qlinear_run(NULL, x, 2, y, VI_ISA_AUTO, NULL);
    for (int i = 0; i < 80; i++)
        assert_int_equal(vi_f32_bits(y[i]), 0x5a5a5a5au);
    /* prepared bytes: 3 panels of 3 blocks of 320 */
    assert_int_equal(vi_qlinear_bytes(q), 3 * 3 * 320);
    vi_qlinear_free(q);
    vi_qlinear_free(NULL);
    free(x);
    free(w);
}

/* Several weights over one x in one call: each output as its own run. */
static void test_run_multi(void **state)
{
    (void)state;
    enum { NW = 4 };
    static const vi_ggml_type types[NW] = {VI_GGML_Q4_1, VI_GGML_Q8_0, VI_GGML_Q4_K, VI_GGML_F16};
    static const int64_t Ns[NW] = {1031, 17, 9, 50}; /* M >= 2: big enough for the pool */
    const int64_t K = 256, Mmax = 9;
    vt_rng r = {0x3017};
    vi_qlinear *qs[NW];
    float *want[NW], *ys[NW];
    float *x = make_x(Mmax * K, &r);
    for (int i = 0; i < NW; i++) {
        uint8_t *w = make_weights(types[i], Ns[i], K, &r);
        want[i] = malloc((size_t)(Mmax * Ns[i]) * sizeof(float));
        assert_non_null(want[i]);
        reference(types[i], w, Ns[i], K, x, Mmax, want[i]);
        qs[i] = prepare_ok(types[i], w, Ns[i], K);
        ys[i] = gbuf_alloc(Mmax * Ns[i]);
        free(w);
    }
    static const int Ms[] = {1, 5, 9};
    vi_error err;
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!vi_isa_supported(ISAS[ii]))
            continue;
        for (int mi = 0; mi < 3; mi++)
            for (int th = 1; th <= MAX_THREADS; th++)
                for (int n = 1; n <= NW; n++) {
                    for (int i = 0; i < NW; i++)
                        gbuf_reset(ys[i], Mmax * Ns[i]);
                    assert_int_equal(vi_qlinear_run_multi((const vi_qlinear *const *)qs, ys, n, x,
                                                          Ms[mi], ISAS[ii], g_pools[th], &err),
                                     VI_OK);
                    for (int i = 0; i < NW; i++) {
                        char what[96];
                        snprintf(what, sizeof what, "multi %d of %d (%s) M=%d threads=%d isa=%s", i,
                                 n, vi_ggml_type_name(types[i]), Ms[mi], th, vi_isa_name(ISAS[ii]));
                        gbuf_check(ys[i], Mmax * Ns[i], what);
                        if (i < n) {
                            assert_same_bits(ys[i], want[i], Ms[mi], Ns[i], what);
                        } else {
                            for (int64_t k = 0; k < Mmax * Ns[i]; k++)
                                assert_int_equal(vi_f32_bits(ys[i][k]), SENTINEL);
                        }
                    }
                }
    }
    /* bad calls compute nothing */
    vi_qlinear *q2[2] = {qs[0], NULL};
    float *y2[2] = {ys[0], ys[1]};
    gbuf_reset(ys[0], Mmax * Ns[0]);
    assert_int_equal(
        vi_qlinear_run_multi((const vi_qlinear *const *)qs, ys, 0, x, 1, VI_ISA_AUTO, NULL, &err),
        VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "0 weights given, 1 to 8"));
    assert_int_equal(
        vi_qlinear_run_multi((const vi_qlinear *const *)qs, ys, 9, x, 1, VI_ISA_AUTO, NULL, &err),
        VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "9 weights given"));
    assert_int_equal(
        vi_qlinear_run_multi((const vi_qlinear *const *)q2, y2, 2, x, 1, VI_ISA_AUTO, NULL, &err),
        VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "weight 1 or its output is NULL"));
    for (int64_t k = 0; k < Mmax * Ns[0]; k++)
        assert_int_equal(vi_f32_bits(ys[0][k]), SENTINEL);
    uint8_t *w = make_weights(VI_GGML_Q4_1, 3, 96, &r);
    vi_qlinear *other = prepare_ok(VI_GGML_Q4_1, w, 3, 96);
    q2[1] = other;
    assert_int_equal(
        vi_qlinear_run_multi((const vi_qlinear *const *)q2, y2, 2, x, 1, VI_ISA_AUTO, NULL, &err),
        VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "weight 1 has K=96, weight 0 has K=256"));
    vi_qlinear_free(other);
    free(w);
    for (int i = 0; i < NW; i++) {
        vi_qlinear_free(qs[i]);
        gbuf_free(ys[i]);
        free(want[i]);
    }
    free(x);
}

static void expect_fail(vi_status want, const char *msg_part, vi_ggml_type t, const void *w,
                        int64_t N, int64_t K, int null_out)
{
    vi_qlinear *q = (vi_qlinear *)&q; /* must be reset to NULL */
    vi_error err = {{0}};
    vi_status st = vi_qlinear_prepare(null_out ? NULL : &q, t, w, N, K, &err);
    if (st != want || !strstr(err.msg, msg_part))
        fail_msg("prepare(type %u, N=%lld, K=%lld): status %d \"%s\", expected %d with \"%s\"",
                 (unsigned)t, (long long)N, (long long)K, st, err.msg, want, msg_part);
    if (!null_out)
        assert_null(q);
}

static void test_bad_prepare(void **state)
{
    (void)state;
    static uint8_t w[4096];
    expect_fail(VI_ERR_INVALID, "no output pointer", VI_GGML_Q4_1, w, 1, 32, 1);
    expect_fail(VI_ERR_INVALID, "Q4_1 weight pointer is NULL", VI_GGML_Q4_1, NULL, 1, 32, 0);
    expect_fail(VI_ERR_INVALID, "N=0 K=32 must have N >= 1", VI_GGML_Q8_0, w, 0, 32, 0);
    expect_fail(VI_ERR_INVALID, "N=4 K=-32 must have", VI_GGML_Q8_0, w, 4, -32, 0);
    expect_fail(VI_ERR_INVALID, "K=48 is not a multiple of the block size 32", VI_GGML_Q4_1, w, 2,
                48, 0);
    expect_fail(VI_ERR_INVALID, "Q6_K row length K=128 is not a multiple of the block size 256",
                VI_GGML_Q6_K, w, 2, 128, 0);
    expect_fail(VI_ERR_UNSUPPORTED, "weight type 6 is not supported", (vi_ggml_type)6, w, 1, 32, 0);
    expect_fail(VI_ERR_LIMIT, "Q4_1 weight N=4611686018427387903 K=32 is too large", VI_GGML_Q4_1,
                w, INT64_MAX / 2, 32, 0);
    expect_fail(VI_ERR_LIMIT, "F32 weight N=2 K=4611686018427387904 is too large", VI_GGML_F32, w,
                2, INT64_MAX / 2 + 1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_shapes),        cmocka_unit_test(test_model_shapes),
        cmocka_unit_test(test_threaded_odd_shapes), cmocka_unit_test(test_output_head),
        cmocka_unit_test(test_row_position),        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_run_multi),           cmocka_unit_test(test_isa_fallback),
        cmocka_unit_test(test_bad_prepare),
    };
    return cmocka_run_group_tests(tests, setup_pools, teardown_pools);
}
