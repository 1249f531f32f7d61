/* tests/cpu/test_linear.c — linear and matmul on the CPU: accuracy against a
 * float64 reference, bit equality of the scalar path with vi_dot_ref, of every
 * SIMD path with scalar, across batch positions and thread counts, untouched
 * guard bytes around every output, NaN canonicalisation and bad prepare input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/order.h"
#include "cpu/linear.h"
#include "test_util.h"

#define GUARD 64
#define SENTINEL 0xA5A5A5A5u

/* ==== helpers ==== */

/* n floats with GUARD sentinel floats before and after; the n floats are
 * sentinel too, so an output never written shows up as a mismatch. */
static float *gbuf_alloc(int64_t n)
{
    uint32_t *base = malloc(((size_t)n + 2 * GUARD) * sizeof(uint32_t));
    assert_non_null(base);
    for (int64_t i = 0; i < n + 2 * GUARD; i++)
        base[i] = SENTINEL;
    return (float *)(base + GUARD);
}

static void gbuf_check(const float *p, int64_t n, const char *what)
{
    const uint32_t *base = (const uint32_t *)p - GUARD;
    for (int64_t i = 0; i < GUARD; i++) {
        if (base[i] != SENTINEL || base[GUARD + n + i] != SENTINEL) {
            fail_msg("%s: guard float %lld %s the output was overwritten", what,
                     (long long)(base[i] != SENTINEL ? GUARD - i : i + 1),
                     base[i] != SENTINEL ? "before" : "after");
        }
    }
}

static void gbuf_free(float *p)
{
    if (p)
        free((uint32_t *)p - GUARD);
}

static float *rand_vec(vt_rng *rng, int64_t n, float lo, float hi)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = vt_uniform(rng, lo, hi);
    return v;
}

/* Asserts a == b bit for bit, naming the first differing element. */
static void assert_same_bits(const float *a, const float *b, int64_t M, int64_t N, const char *what)
{
    if (memcmp(a, b, (size_t)(M * N) * sizeof(float)) == 0)
        return;
    for (int64_t i = 0; i < M * N; i++)
        if (vi_f32_bits(a[i]) != vi_f32_bits(b[i]))
            fail_msg("%s: y[%lld, %lld] = %a (0x%08x), expected %a (0x%08x)", what,
                     (long long)(i / N), (long long)(i % N), (double)a[i], vi_f32_bits(a[i]),
                     (double)b[i], vi_f32_bits(b[i]));
}

static const vi_isa ISAS[] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};
#define N_ISAS 3

static vi_cpu_linear *prepare_ok(const float *w, int64_t N, int64_t K, int out_in,
                                 const float *bias)
{
    vi_cpu_linear *lw = NULL;
    vi_error err = {{0}};
    vi_status st = vi_cpu_linear_prepare(w, N, K, out_in, bias, &lw, &err);
    if (st != VI_OK)
        fail_msg("prepare N=%lld K=%lld failed: %s", (long long)N, (long long)K, err.msg);
    return lw;
}

/* W(k, n) for either layout. */
static float w_at(const float *w, int64_t N, int64_t K, int out_in, int64_t k, int64_t n)
{
    return out_in ? w[n * K + k] : w[k * N + n];
}

/* ==== accuracy ==== */

/* Against float64: every product x*w is exact in double and a double sum over
 * K <= 4096 terms carries a relative error below 2^-40, so ref is the exact
 * value to far better than float precision. Each float fmaf/add rounds with
 * relative error u = 2^-24; a sum of K terms (in any bracketing of depth <= K)
 * therefore errs by at most gamma_K * sum_k |x_k w_k| with gamma_K = K u /
 * (1 - K u) <= 2 K u. Adding the bias is one more rounding of a value below
 * sum |x w| + |b| in size. Bound used:
 *     |y - ref| <= (K + 1) * 2^-23 * (sum_k |x_k w_k| + |bias|). */
static void test_accuracy_vs_float64(void **state)
{
    (void)state;
    vt_rng rng = {101};
    static const int64_t shapes[][3] = {{3, 5, 1},      {4, 33, 7},    {5, 50, 128},
                                        {7, 97, 129},   {2, 64, 1000}, {9, 130, 2048},
                                        {1, 257, 4096}, {16, 48, 777}, {70, 31, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        int out_in = (int)(s & 1);
        int has_bias = s % 3 != 0;
        float *w = rand_vec(&rng, N * K, -1.0f, 1.0f);
        float *x = rand_vec(&rng, M * K, -2.0f, 2.0f);
        float *bias = has_bias ? rand_vec(&rng, N, -4.0f, 4.0f) : NULL;
        float *y = gbuf_alloc(M * N);
        vi_cpu_linear *lw = prepare_ok(w, N, K, out_in, bias);
        vi_cpu_linear_run(lw, x, M, y, vi_isa_detect(), NULL);
        gbuf_check(y, M * N, "accuracy");
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double ref = 0.0, mag = 0.0;
                for (int64_t k = 0; k < K; k++) {
                    double t = (double)x[m * K + k] * (double)w_at(w, N, K, out_in, k, n);
                    ref += t;
                    mag += fabs(t);
                }
                if (bias) {
                    ref += bias[n];
                    mag += fabs((double)bias[n]);
                }
                double bound = (double)(K + 1) * ldexp(1.0, -23) * mag;
                double e = fabs((double)y[m * N + n] - ref);
                if (!(e <= bound))
                    fail_msg("M=%lld N=%lld K=%lld: y[%lld, %lld] = %.9g, float64 %.17g, "
                             "error %.3g > bound %.3g",
                             (long long)M, (long long)N, (long long)K, (long long)m, (long long)n,
                             (double)y[m * N + n], ref, e, bound);
            }
        vi_cpu_linear_free(lw);
        gbuf_free(y);
        free(w);
        free(x);
        free(bias);
    }
}

/* ==== scalar path == vi_dot_ref ==== */

static void expect_dot_ref(const float *w, int64_t N, int64_t K, int out_in, const float *bias,
                           const float *x, int64_t M, float *y)
{
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            float v = out_in ? vi_dot_ref(x + m * K, 1, w + n * K, 1, K)
                             : vi_dot_ref(x + m * K, 1, w + n, N, K);
            if (bias)
                v = v + bias[n];
            y[m * N + n] = v;
        }
}

static void test_scalar_equals_dot_ref(void **state)
{
    (void)state;
    vt_rng rng = {202};
    static const int64_t Ks[] = {1, 2, 5, 15, 16, 17, 127, 128, 129, 256, 300, 513};
    static const int64_t Ns[] = {1, 2, 3, 17, 47, 48, 49, 97, 130};
    char what[96];
    for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++)
            for (int variant = 0; variant < 4; variant++) {
                int64_t K = Ks[ki], N = Ns[ni], M = 1 + (int64_t)((ki + ni + variant) % 5);
                int out_in = variant & 1, has_bias = variant >> 1;
                float *w = rand_vec(&rng, N * K, -1.0f, 1.0f);
                float *x = rand_vec(&rng, M * K, -1.0f, 1.0f);
                float *bias = has_bias ? rand_vec(&rng, N, -1.0f, 1.0f) : NULL;
                float *want = malloc((size_t)(M * N) * sizeof(float));
                float *ref = gbuf_alloc(M * N);
                float *y = gbuf_alloc(M * N);
                expect_dot_ref(w, N, K, out_in, bias, x, M, want);
                vi_cpu_linear_ref(w, N, K, out_in, bias, x, M, ref);
                snprintf(what, sizeof what, "ref M=%lld N=%lld K=%lld out_in=%d bias=%d",
                         (long long)M, (long long)N, (long long)K, out_in, has_bias);
                gbuf_check(ref, M * N, what);
                assert_same_bits(ref, want, M, N, what);
                vi_cpu_linear *lw = prepare_ok(w, N, K, out_in, bias);
                vi_cpu_linear_run(lw, x, M, y, VI_ISA_SCALAR, NULL);
                snprintf(what, sizeof what, "scalar M=%lld N=%lld K=%lld out_in=%d bias=%d",
                         (long long)M, (long long)N, (long long)K, out_in, has_bias);
                gbuf_check(y, M * N, what);
                assert_same_bits(y, want, M, N, what);
                vi_cpu_linear_free(lw);
                gbuf_free(y);
                gbuf_free(ref);
                free(want);
                free(w);
                free(x);
                free(bias);
            }
}

/* ==== every ISA == scalar, random shapes ==== */

static void test_isa_paths_equal_scalar(void **state)
{
    (void)state;
    vt_rng rng = {303};
    char what[128];
    for (int iter = 0; iter < 60; iter++) {
        int64_t M = vt_range(&rng, 1, 70), N = vt_range(&rng, 1, 300), K = vt_range(&rng, 1, 600);
        int out_in = (int)vt_range(&rng, 0, 1), has_bias = (int)vt_range(&rng, 0, 1);
        float *w = rand_vec(&rng, N * K, -1.0f, 1.0f);
        float *x = rand_vec(&rng, M * K, -1.0f, 1.0f);
        float *bias = has_bias ? rand_vec(&rng, N, -1.0f, 1.0f) : NULL;
        float *want = gbuf_alloc(M * N);
        vi_cpu_linear *lw = prepare_ok(w, N, K, out_in, bias);
        vi_cpu_linear_run(lw, x, M, want, VI_ISA_SCALAR, NULL);
        gbuf_check(want, M * N, "scalar");
        for (int i = 1; i < N_ISAS; i++) {
            if (!vi_isa_supported(ISAS[i]))
                continue;
            float *y = gbuf_alloc(M * N);
            vi_cpu_linear_run(lw, x, M, y, ISAS[i], NULL);
            snprintf(what, sizeof what, "%s M=%lld N=%lld K=%lld out_in=%d bias=%d",
                     vi_isa_name(ISAS[i]), (long long)M, (long long)N, (long long)K, out_in,
                     has_bias);
            gbuf_check(y, M * N, what);
            assert_same_bits(y, want, M, N, what);
            gbuf_free(y);
        }
        vi_cpu_linear_free(lw);
        gbuf_free(want);
        free(w);
        free(x);
        free(bias);
    }
}

/* ==== batch invariance ==== */

/* For batch sizes 1..64: (a) every row equal to the probe row, (b) the probe at
 * one position among random rows; each must give the probe's M = 1 bits. */
static void test_batch_invariance(void **state)
{
    (void)state;
    vt_rng rng = {404};
    static const int64_t shapes[][2] = {{67, 260}, {130, 129}};
    char what[128];
    for (size_t s = 0; s < 2; s++) {
        int64_t N = shapes[s][0], K = shapes[s][1];
        float *w = rand_vec(&rng, N * K, -1.0f, 1.0f);
        float *bias = rand_vec(&rng, N, -1.0f, 1.0f);
        float *probe = rand_vec(&rng, K, -1.0f, 1.0f);
        float *x = rand_vec(&rng, 64 * K, -1.0f, 1.0f);
        float *y = gbuf_alloc(64 * N);
        float *solo = gbuf_alloc(N);
        vi_cpu_linear *lw = prepare_ok(w, N, K, (int)s, bias);
        for (int i = 0; i < N_ISAS; i++) {
            if (!vi_isa_supported(ISAS[i]))
                continue;
            vi_cpu_linear_run(lw, probe, 1, solo, ISAS[i], NULL);
            gbuf_check(solo, N, "solo");
            for (int64_t B = 1; B <= 64; B++) {
                for (int64_t r = 0; r < B; r++)
                    memcpy(x + r * K, probe, (size_t)K * sizeof(float));
                vi_cpu_linear_run(lw, x, B, y, ISAS[i], NULL);
                gbuf_check(y, 64 * N, "batch of copies");
                for (int64_t r = 0; r < B; r++) {
                    snprintf(what, sizeof what, "%s N=%lld K=%lld batch %lld (all probe) row %lld",
                             vi_isa_name(ISAS[i]), (long long)N, (long long)K, (long long)B,
                             (long long)r);
                    assert_same_bits(y + r * N, solo, 1, N, what);
                }
                int64_t pos = vt_range(&rng, 0, B - 1);
                for (int64_t r = 0; r < B * K; r++)
                    x[r] = vt_uniform(&rng, -1.0f, 1.0f);
                memcpy(x + pos * K, probe, (size_t)K * sizeof(float));
                /* output of the (shorter) previous run beyond B rows stays; guards still hold */
                vi_cpu_linear_run(lw, x, B, y, ISAS[i], NULL);
                snprintf(what, sizeof what, "%s N=%lld K=%lld batch %lld probe at row %lld",
                         vi_isa_name(ISAS[i]), (long long)N, (long long)K, (long long)B,
                         (long long)pos);
                gbuf_check(y, 64 * N, what);
                assert_same_bits(y + pos * N, solo, 1, N, what);
            }
        }
        vi_cpu_linear_free(lw);
        gbuf_free(solo);
        gbuf_free(y);
        free(x);
        free(probe);
        free(bias);
        free(w);
    }
}

/* ==== thread counts ==== */

static void test_threads_identical(void **state)
{
    (void)state;
    vt_rng rng = {505};
    /* large enough for several row blocks and panel blocks */
    static const int64_t shapes[][3] = {
        {1, 1000, 300}, {5, 77, 129}, {200, 1100, 260}, {97, 48, 3}, {8, 2000, 64}};
    vi_pool *pools[5] = {NULL};
    vi_error err = {{0}};
    for (int t = 1; t <= 4; t++) {
        pools[t] = vi_pool_create(t, &err);
        assert_non_null(pools[t]);
    }
    char what[128];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *w = rand_vec(&rng, N * K, -1.0f, 1.0f);
        float *x = rand_vec(&rng, M * K, -1.0f, 1.0f);
        float *bias = rand_vec(&rng, N, -1.0f, 1.0f);
        float *want = gbuf_alloc(M * N);
        vi_cpu_linear *lw = prepare_ok(w, N, K, 1, bias);
        vi_cpu_linear_run(lw, x, M, want, VI_ISA_SCALAR, NULL);
        for (int i = 0; i < N_ISAS; i++) {
            if (!vi_isa_supported(ISAS[i]))
                continue;
            for (int t = 1; t <= 4; t++) {
                float *y = gbuf_alloc(M * N);
                vi_cpu_linear_run(lw, x, M, y, ISAS[i], pools[t]);
                snprintf(what, sizeof what, "%s threads=%d M=%lld N=%lld K=%lld",
                         vi_isa_name(ISAS[i]), t, (long long)M, (long long)N, (long long)K);
                gbuf_check(y, M * N, what);
                assert_same_bits(y, want, M, N, what);
                gbuf_free(y);
            }
        }
        vi_cpu_linear_free(lw);
        gbuf_free(want);
        free(w);
        free(x);
        free(bias);
    }
    for (int t = 1; t <= 4; t++)
        vi_pool_destroy(pools[t]);
}

/* ==== special values ==== */

/* A NaN (from a NaN input or from inf * 0) is always written as the canonical
 * quiet NaN, on every path; a zero result is +0. */
static void test_nan_canonical_and_zero_sign(void **state)
{
    (void)state;
    const int64_t N = 50, K = 140, M = 3;
    float *w = calloc((size_t)(N * K), sizeof(float));
    float *x = calloc((size_t)(M * K), sizeof(float));
    float *bias = malloc((size_t)N * sizeof(float));
    for (int64_t i = 0; i < N * K; i++)
        w[i] = -1.0f;
    for (int64_t n = 0; n < N; n++)
        bias[n] = -0.0f;
    /* row 0: all zero -> +0 + (-0 bias) = +0; row 1: a NaN with a payload and a
     * negative NaN; row 2: inf at k=130 times w = 0 at column 7 -> NaN there */
    x[1 * K + 3] = vi_bits_f32(0x7fc12345u);
    x[1 * K + 135] = vi_bits_f32(0xffc00001u);
    x[2 * K + 130] = __builtin_inff();
    for (int64_t k = 0; k < K; k++)
        w[7 * K + k] = 0.0f;
    vi_cpu_linear *lw = prepare_ok(w, N, K, 1, bias);
    for (int i = 0; i < N_ISAS; i++) {
        if (!vi_isa_supported(ISAS[i]))
            continue;
        float *y = gbuf_alloc(M * N);
        vi_cpu_linear_run(lw, x, M, y, ISAS[i], NULL);
        gbuf_check(y, M * N, vi_isa_name(ISAS[i]));
        for (int64_t n = 0; n < N; n++) {
            if (vi_f32_bits(y[n]) != 0u)
                fail_msg("%s: zero row y[0, %lld] = 0x%08x, expected +0", vi_isa_name(ISAS[i]),
                         (long long)n, vi_f32_bits(y[n]));
            if (vi_f32_bits(y[N + n]) != VI_CANON_NAN_BITS)
                fail_msg("%s: NaN row y[1, %lld] = 0x%08x, expected 0x%08x", vi_isa_name(ISAS[i]),
                         (long long)n, vi_f32_bits(y[N + n]), VI_CANON_NAN_BITS);
            uint32_t want2 = n == 7 ? VI_CANON_NAN_BITS : 0xff800000u; /* -inf elsewhere */
            if (vi_f32_bits(y[2 * N + n]) != want2)
                fail_msg("%s: inf row y[2, %lld] = 0x%08x, expected 0x%08x", vi_isa_name(ISAS[i]),
                         (long long)n, vi_f32_bits(y[2 * N + n]), want2);
        }
        gbuf_free(y);
    }
    vi_cpu_linear_free(lw);
    free(w);
    free(x);
    free(bias);
}

/* ==== bad input ==== */

static void expect_prepare_fail(const float *w, int64_t N, int64_t K, vi_status want,
                                const char *part)
{
    vi_cpu_linear *lw = (vi_cpu_linear *)&lw; /* must be reset to NULL */
    vi_error err = {{0}};
    vi_status st = vi_cpu_linear_prepare(w, N, K, 1, NULL, &lw, &err);
    assert_int_equal(st, want);
    assert_null(lw);
    if (!strstr(err.msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", err.msg, part);
}

static void test_prepare_bad_input(void **state)
{
    (void)state;
    float w[4] = {1, 2, 3, 4};
    expect_prepare_fail(w, 0, 4, VI_ERR_INVALID, "N=0 K=4 must have N >= 1");
    expect_prepare_fail(w, 4, 0, VI_ERR_INVALID, "N=4 K=0 must have N >= 1 and K >= 1");
    expect_prepare_fail(w, -3, 2, VI_ERR_INVALID, "N=-3");
    expect_prepare_fail(NULL, 2, 2, VI_ERR_INVALID, "weight pointer is NULL");
    expect_prepare_fail(w, INT64_MAX, 2, VI_ERR_LIMIT, "is too large");
    expect_prepare_fail(w, (int64_t)1 << 40, (int64_t)1 << 40, VI_ERR_LIMIT,
                        "does not fit in memory addressing");
    vi_error err = {{0}};
    assert_int_equal(vi_cpu_linear_prepare(w, 2, 2, 1, NULL, NULL, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no output pointer"));
    vi_cpu_linear *lw = prepare_ok(w, 2, 2, 0, NULL);
    assert_int_equal(vi_cpu_linear_n(lw), 2);
    assert_int_equal(vi_cpu_linear_k(lw), 2);
    vi_cpu_linear_free(lw);
    vi_cpu_linear_free(NULL);
}

/* ==== matmul ==== */

static void matmul_dot_ref(const float *a, const float *b, int64_t batch, int64_t M, int64_t K,
                           int64_t N, float *y)
{
    for (int64_t i = 0; i < batch; i++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++)
                y[(i * M + m) * N + n] =
                    vi_dot_ref(a + (i * M + m) * K, 1, b + i * K * N + n, N, K);
}

/* Every ISA at 1..4 threads equals vi_dot_ref over a's rows and b's columns. */
static void test_matmul_paths(void **state)
{
    (void)state;
    vt_rng rng = {606};
    vi_error err = {{0}};
    vi_pool *pools[5] = {NULL};
    for (int t = 2; t <= 4; t++) {
        pools[t] = vi_pool_create(t, &err);
        assert_non_null(pools[t]);
    }
    char what[160];
    for (int iter = 0; iter < 40; iter++) {
        int64_t batch = vt_range(&rng, 1, 3), M = vt_range(&rng, 1, 70);
        int64_t N = vt_range(&rng, 1, 300), K = vt_range(&rng, 1, 600);
        if (iter == 0)
            K = 1;
        if (iter == 1)
            N = 1;
        float *a = rand_vec(&rng, batch * M * K, -1.0f, 1.0f);
        float *b = rand_vec(&rng, batch * K * N, -1.0f, 1.0f);
        float *want = malloc((size_t)(batch * M * N) * sizeof(float));
        matmul_dot_ref(a, b, batch, M, K, N, want);
        for (int i = 0; i < N_ISAS; i++) {
            if (!vi_isa_supported(ISAS[i]))
                continue;
            for (int t = 1; t <= 4; t++) {
                float *y = gbuf_alloc(batch * M * N);
                vi_cpu_matmul_run(a, b, batch, M, K, N, y, ISAS[i], pools[t]);
                snprintf(what, sizeof what, "matmul %s threads=%d batch=%lld M=%lld N=%lld K=%lld",
                         vi_isa_name(ISAS[i]), t, (long long)batch, (long long)M, (long long)N,
                         (long long)K);
                gbuf_check(y, batch * M * N, what);
                assert_same_bits(y, want, batch * M, N, what);
                gbuf_free(y);
            }
        }
        free(want);
        free(a);
        free(b);
    }
    for (int t = 2; t <= 4; t++)
        vi_pool_destroy(pools[t]);
}

/* The bound of test_accuracy_vs_float64, for matmul (no bias). */
static void test_matmul_accuracy_vs_float64(void **state)
{
    (void)state;
    vt_rng rng = {808};
    static const int64_t shapes[][4] = {{2, 3, 5, 1}, {1, 17, 70, 129}, {3, 9, 33, 1000}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t batch = shapes[s][0], M = shapes[s][1], N = shapes[s][2], K = shapes[s][3];
        float *a = rand_vec(&rng, batch * M * K, -2.0f, 2.0f);
        float *b = rand_vec(&rng, batch * K * N, -1.0f, 1.0f);
        float *y = gbuf_alloc(batch * M * N);
        vi_cpu_matmul_run(a, b, batch, M, K, N, y, vi_isa_detect(), NULL);
        gbuf_check(y, batch * M * N, "matmul accuracy");
        for (int64_t i = 0; i < batch; i++)
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++) {
                    double ref = 0.0, mag = 0.0;
                    for (int64_t k = 0; k < K; k++) {
                        double t = (double)a[(i * M + m) * K + k] * (double)b[(i * K + k) * N + n];
                        ref += t;
                        mag += fabs(t);
                    }
                    double bound = (double)(K + 1) * ldexp(1.0, -23) * mag;
                    double got = y[(i * M + m) * N + n];
                    if (!(fabs(got - ref) <= bound))
                        fail_msg("matmul batch=%lld M=%lld N=%lld K=%lld: y[%lld, %lld, %lld] = "
                                 "%.9g, float64 %.17g, bound %.3g",
                                 (long long)batch, (long long)M, (long long)N, (long long)K,
                                 (long long)i, (long long)m, (long long)n, got, ref, bound);
                }
        gbuf_free(y);
        free(a);
        free(b);
    }
}

/* A row of a alone (M = 1) equals the same row at every position of M = 1..64. */
static void test_matmul_batch_invariance(void **state)
{
    (void)state;
    vt_rng rng = {707};
    const int64_t N = 71, K = 200;
    float *b = rand_vec(&rng, K * N, -1.0f, 1.0f);
    float *probe = rand_vec(&rng, K, -1.0f, 1.0f);
    float *a = malloc((size_t)(64 * K) * sizeof(float));
    char what[128];
    for (int i = 0; i < N_ISAS; i++) {
        if (!vi_isa_supported(ISAS[i]))
            continue;
        float *solo = gbuf_alloc(N);
        float *y = gbuf_alloc(64 * N);
        vi_cpu_matmul_run(probe, b, 1, 1, K, N, solo, ISAS[i], NULL);
        for (int64_t M = 1; M <= 64; M++) {
            int64_t pos = vt_range(&rng, 0, M - 1);
            for (int64_t r = 0; r < M; r++)
                for (int64_t k = 0; k < K; k++)
                    a[r * K + k] = r == pos ? probe[k] : vt_uniform(&rng, -1.0f, 1.0f);
            vi_cpu_matmul_run(a, b, 1, M, K, N, y, ISAS[i], NULL);
            snprintf(what, sizeof what, "matmul %s M=%lld probe at row %lld", vi_isa_name(ISAS[i]),
                     (long long)M, (long long)pos);
            gbuf_check(y, 64 * N, what);
            assert_same_bits(y + pos * N, solo, 1, N, what);
            for (int64_t r = 0; r < M; r++)
                memcpy(a + r * K, probe, (size_t)K * sizeof(float));
            vi_cpu_matmul_run(a, b, 1, M, K, N, y, ISAS[i], NULL);
            for (int64_t r = 0; r < M; r++) {
                snprintf(what, sizeof what, "matmul %s M=%lld (all probe) row %lld",
                         vi_isa_name(ISAS[i]), (long long)M, (long long)r);
                assert_same_bits(y + r * N, solo, 1, N, what);
            }
        }
        gbuf_free(solo);
        gbuf_free(y);
    }
    free(a);
    free(probe);
    free(b);
}

/* K = 0 gives +0 everywhere; batch/M/N = 0 write nothing. */
static void test_matmul_degenerate(void **state)
{
    (void)state;
    float a[1] = {1.0f}, b[1] = {1.0f};
    float *y = gbuf_alloc(6);
    vi_cpu_matmul_run(a, b, 2, 3, 0, 1, y, VI_ISA_SCALAR, NULL);
    for (int i = 0; i < 6; i++)
        assert_int_equal(vi_f32_bits(y[i]), 0u);
    gbuf_check(y, 6, "K=0");
    float *z = gbuf_alloc(0);
    vi_cpu_matmul_run(a, b, 0, 3, 1, 2, z, VI_ISA_SCALAR, NULL);
    vi_cpu_matmul_run(a, b, 1, 0, 1, 2, z, VI_ISA_SCALAR, NULL);
    vi_cpu_matmul_run(a, b, 1, 3, 1, 0, z, VI_ISA_SCALAR, NULL);
    gbuf_check(z, 0, "empty");
    gbuf_free(z);
    gbuf_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy_vs_float64),
        cmocka_unit_test(test_scalar_equals_dot_ref),
        cmocka_unit_test(test_isa_paths_equal_scalar),
        cmocka_unit_test(test_batch_invariance),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_nan_canonical_and_zero_sign),
        cmocka_unit_test(test_prepare_bad_input),
        cmocka_unit_test(test_matmul_paths),
        cmocka_unit_test(test_matmul_accuracy_vs_float64),
        cmocka_unit_test(test_matmul_batch_invariance),
        cmocka_unit_test(test_matmul_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
