/* tests/cpu/test_ops.c — the CPU op kernels (cpu/ops.h): accuracy against a
 * float64 reference, exact results on special values, row lengths 1, 15, 16,
 * 17 and 1000, argmax ties and NaN, in-place use, and every ISA's row
 * reductions bit for bit against core/order.h.
 *
 * Error bounds (u = 2^-24; derived from the rounding steps of each formula in
 * core/order.h, see docs/ops.md). They rest on these accuracies of
 * core/vmath.h, which the bounds take as given:
 *     vi_expf relative error <= EXP_REL = 4u
 *     vi_tanhf absolute error <= TANH_ABS = 4u
 *     vi_erff absolute error <= ERF_ABS = 16u
 * and, per op, for an input x and the float64 value ref of the same formula:
 *     relu, add, mul     exact: bits of (float)ref
 *     sigmoid            |y - ref| <= (EXP_REL + 3u) |ref|
 *     tanh               |y - ref| <= TANH_ABS
 *     gelu (erf)         |y - ref| <= 0.5|x| (ERF_ABS + 3u) + 2u |ref|
 *     gelu (tanh)        |y - ref| <= 0.5|x| (TANH_ABS + 7u) + 2u |ref|
 *     softmax            |y_i - ref_i| <= (2 (EXP_REL + R u) + (L + 5) u) ref_i
 *                        with R = max_j |x_j - max x|, L = ceil(D / 16)
 *     layer_norm         |y_i - ref_i| <= r |g_i| (dmu + |x_i - mu| (er + 3u)) + u |ref_i|
 *                        with dmu = (L + 5) u mean|x|, er = (L / 2 + 7) u
 *     rms_norm           |y_i - ref_i| <= ((L + 7) / 2 u + 5u) |ref_i|
 *     argmax, embedding  exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/ops.h"
#include "test_util.h"

#define U 0x1p-24
#define EXP_REL (4 * U)
#define TANH_ABS (4 * U)
#define ERF_ABS (16 * U)

static const uint32_t CANON = VI_CANON_NAN_BITS;
static const vi_isa ISAS[] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};
#define N_ISAS 3
static const int64_t ROW_LENS[] = {1, 15, 16, 17, 1000};
#define N_ROW_LENS 5

static float nanp(uint32_t payload_bits)
{
    return vi_bits_f32(payload_bits);
}

static uint32_t bits(float f)
{
    return vi_f32_bits(f);
}

static float *fvec(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static void fill(vt_rng *r, float *v, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        v[i] = vt_uniform(r, lo, hi);
}

/* ==== reductions: every ISA against order.h ==== */

static void check_reductions(const float *v, int64_t n)
{
    float mean = n > 0 ? v[0] * 0.5f : 0.0f;
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        const vi_cpu_kern *kk = vi_cpu_kern_for(ISAS[k]);
        float got[4] = {kk->rowsum(v, n), kk->rowsumsq(v, n), kk->rowsumsqdev(v, n, mean),
                        n > 0 ? kk->rowmax(v, n) : 0.0f};
        float want[4] = {vi_rowsum_ref(v, n), vi_rowsumsq_ref(v, n), vi_rowsumsqdev_ref(v, n, mean),
                         n > 0 ? vi_rowmax_ref(v, n) : 0.0f};
        for (int j = 0; j < 4; j++) {
            if (want[j] != want[j] && j < 3) {
                /* which NaN a sum carries is not specified (ops canonicalise) */
                if (got[j] == got[j])
                    fail_msg("isa %s reduction %d n=%lld: want NaN", vi_isa_name(ISAS[k]), j,
                             (long long)n);
                continue;
            }
            if (bits(got[j]) != bits(want[j]))
                fail_msg("isa %s reduction %d n=%lld: %08x != %08x", vi_isa_name(ISAS[k]), j,
                         (long long)n, bits(got[j]), bits(want[j]));
        }
    }
}

static void test_reductions_match_order(void **state)
{
    (void)state;
    vt_rng r = {11};
    float *v = fvec(1000);
    for (int64_t n = 0; n <= 1000; n = n < 40 ? n + 1 : n + 137) {
        fill(&r, v, n, -3.0f, 3.0f);
        check_reductions(v, n);
        /* wide magnitudes make the order visible in the sums */
        for (int64_t i = 0; i < n; i++)
            v[i] = ldexpf(v[i], (int)vt_range(&r, -20, 20));
        check_reductions(v, n);
    }
    /* special values at every position of a 33-element row */
    static const uint32_t SPECIAL[] = {0x7f800000u, 0xff800000u, 0x80000000u,
                                       0x00000000u, 0x7fc12345u, 0xffa00001u};
    for (size_t s = 0; s < sizeof SPECIAL / sizeof SPECIAL[0]; s++)
        for (int64_t at = 0; at < 33; at++) {
            fill(&r, v, 33, -1.0f, 1.0f);
            v[at] = nanp(SPECIAL[s]);
            check_reductions(v, 33);
            check_reductions(v, at + 1);
        }
    /* max: -0/+0 order and all -inf */
    float z[17];
    for (int i = 0; i < 17; i++)
        z[i] = (i & 1) ? 0.0f : -0.0f;
    check_reductions(z, 17);
    for (int i = 0; i < 17; i++)
        z[i] = -INFINITY;
    check_reductions(z, 17);
    free(v);
}

/* ==== elementwise ==== */

static float unary1(vi_op op, int gelu_tanh, float x, vi_isa isa)
{
    float y = 0.0f;
    vi_cpu_unary(op, gelu_tanh, &x, &y, 0, 1, isa);
    return y;
}

static double ref_gelu_erf(double x)
{
    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

static double ref_gelu_tanh(double x)
{
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

static void test_unary_accuracy(void **state)
{
    (void)state;
    vt_rng r = {21};
    const int64_t n = 20000;
    float *x = fvec(n), *y = fvec(n);
    fill(&r, x, n, -12.0f, 12.0f);
    for (int64_t i = 0; i < 200; i++)
        x[i] = ldexpf(x[i], -(int)vt_range(&r, 4, 30)); /* small arguments */
    double worst[5] = {0};
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        vi_cpu_unary(VI_OP_RELU, 0, x, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(bits(y[i]), bits(x[i] > 0 ? x[i] : 0.0f));

        vi_cpu_unary(VI_OP_SIGMOID, 0, x, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++) {
            double ref = 1.0 / (1.0 + exp(-(double)x[i]));
            double e = fabs(y[i] - ref) / ((EXP_REL + 3 * U) * ref);
            if (e > 1.0)
                fail_msg("sigmoid(%a) = %a, ref %a", x[i], y[i], ref);
            worst[0] = fmax(worst[0], e);
        }
        vi_cpu_unary(VI_OP_TANH, 0, x, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++) {
            double e = fabs(y[i] - tanh((double)x[i])) / TANH_ABS;
            if (e > 1.0)
                fail_msg("tanh(%a) = %a", x[i], y[i]);
            worst[1] = fmax(worst[1], e);
        }
        vi_cpu_unary(VI_OP_GELU, 0, x, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++) {
            double ref = ref_gelu_erf(x[i]);
            double e =
                fabs(y[i] - ref) / (0.5 * fabs(x[i]) * (ERF_ABS + 3 * U) + 2 * U * fabs(ref));
            if (e > 1.0)
                fail_msg("gelu(%a) = %a, ref %a", x[i], y[i], ref);
            worst[2] = fmax(worst[2], e);
        }
        vi_cpu_unary(VI_OP_GELU, 1, x, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++) {
            double ref = ref_gelu_tanh(x[i]);
            double e =
                fabs(y[i] - ref) / (0.5 * fabs(x[i]) * (TANH_ABS + 7 * U) + 2 * U * fabs(ref));
            if (e > 1.0)
                fail_msg("gelu_tanh(%a) = %a, ref %a", x[i], y[i], ref);
            worst[3] = fmax(worst[3], e);
        }
    }
    print_message("worst error / bound: sigmoid %.3f tanh %.3f gelu %.3f gelu_tanh %.3f\n",
                  worst[0], worst[1], worst[2], worst[3]);
    free(x);
    free(y);
}

static void test_binary_exact(void **state)
{
    (void)state;
    vt_rng r = {31};
    const int64_t n = 4096, nb = 64;
    float *a = fvec(n), *b = fvec(n), *y = fvec(n);
    fill(&r, a, n, -8.0f, 8.0f);
    fill(&r, b, n, -8.0f, 8.0f);
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        /* same shape; sums of floats this close are exact in double */
        vi_cpu_binary(VI_OP_ADD, a, b, n, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(bits(y[i]), bits((float)((double)a[i] + (double)b[i])));
        vi_cpu_binary(VI_OP_MUL, a, b, n, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(bits(y[i]), bits((float)((double)a[i] * (double)b[i])));
        /* broadcast of a 64-element suffix, computed over an odd sub-range */
        memset(y, 0, (size_t)n * sizeof *y);
        vi_cpu_binary(VI_OP_MUL, a, b, nb, y, 37, n - 5, ISAS[k]);
        for (int64_t i = 0; i < n; i++) {
            float want = (i >= 37 && i < n - 5) ? (float)((double)a[i] * (double)b[i % nb]) : 0.0f;
            assert_int_equal(bits(y[i]), bits(want));
        }
        vi_cpu_binary(VI_OP_ADD, a, b, 1, y, 0, n, ISAS[k]);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(bits(y[i]), bits((float)((double)a[i] + (double)b[0])));
    }
    free(a);
    free(b);
    free(y);
}

typedef struct {
    uint32_t x, want;
} special;

static void check_unary_specials(vi_op op, int gelu_tanh, const special *s, size_t n,
                                 const char *what)
{
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        for (size_t i = 0; i < n; i++) {
            float y = unary1(op, gelu_tanh, vi_bits_f32(s[i].x), ISAS[k]);
            if (bits(y) != s[i].want)
                fail_msg("%s(%08x) = %08x, want %08x (isa %s)", what, s[i].x, bits(y), s[i].want,
                         vi_isa_name(ISAS[k]));
        }
    }
}

static void test_unary_specials(void **state)
{
    (void)state;
    const uint32_t B_PZ = 0x00000000u, B_NZ = 0x80000000u;
    const uint32_t B_PINF = 0x7f800000u, B_NINF = 0xff800000u;
    const uint32_t B_NAN1 = 0xffc12345u, B_SNAN = 0x7f800001u, B_ONE = 0x3f800000u;
    const uint32_t B_MONE = 0xbf800000u, B_HALF = 0x3f000000u, B_TEN = 0x41200000u;
    const uint32_t B_MTEN = 0xc1200000u, B_DEN = 0x00000001u, B_MDEN = 0x80000001u;

    const special relu[] = {{B_PZ, B_PZ},     {B_NZ, B_PZ},   {B_ONE, B_ONE},  {B_MONE, B_PZ},
                            {B_PINF, B_PINF}, {B_NINF, B_PZ}, {B_NAN1, CANON}, {B_SNAN, CANON},
                            {B_DEN, B_DEN},   {B_MDEN, B_PZ}};
    check_unary_specials(VI_OP_RELU, 0, relu, sizeof relu / sizeof relu[0], "relu");

    const special sig[] = {{B_PZ, B_HALF},
                           {B_NZ, B_HALF},
                           {B_PINF, B_ONE},
                           {B_NINF, B_PZ},
                           {B_NAN1, CANON},
                           {B_SNAN, CANON},
                           {0x43480000u /* 200 */, B_ONE},
                           {0xc3480000u /* -200 */, B_PZ}};
    check_unary_specials(VI_OP_SIGMOID, 0, sig, sizeof sig / sizeof sig[0], "sigmoid");

    const special th[] = {{B_PZ, B_PZ},
                          {B_PINF, B_ONE},
                          {B_NINF, B_MONE},
                          {B_NAN1, CANON},
                          {B_SNAN, CANON},
                          {0x41a00000u /* 20 */, B_ONE},
                          {0xc1a00000u /* -20 */, B_MONE}};
    check_unary_specials(VI_OP_TANH, 0, th, sizeof th / sizeof th[0], "tanh");
    /* the sign of tanh(-0) is vi_tanhf's (core/vmath.h); the op adds nothing */
    assert_int_equal(bits(unary1(VI_OP_TANH, 0, -0.0f, VI_ISA_SCALAR)), bits(vi_tanhf(-0.0f)));
    assert_true(unary1(VI_OP_TANH, 0, -0.0f, VI_ISA_SCALAR) == 0.0f);

    /* gelu: +-0 keep their sign (0.5 x is +-0), -inf is -inf * 0 = NaN */
    const special ge[] = {{B_PZ, B_PZ},    {B_NZ, B_NZ},    {B_PINF, B_PINF}, {B_NINF, CANON},
                          {B_NAN1, CANON}, {B_SNAN, CANON}, {B_TEN, B_TEN},   {B_MTEN, B_NZ}};
    check_unary_specials(VI_OP_GELU, 0, ge, sizeof ge / sizeof ge[0], "gelu");
    check_unary_specials(VI_OP_GELU, 1, ge, sizeof ge / sizeof ge[0], "gelu_tanh");
}

static void test_binary_specials(void **state)
{
    (void)state;
    const float a[] = {INFINITY, -0.0f, -0.0f, nanp(0xffc12345u), 3e38f, 0.0f, -2.0f, 1.0f};
    const float b[] = {-INFINITY, -0.0f, 0.0f, 1.0f, 3e38f, INFINITY, INFINITY, nanp(0x7f800001u)};
    const uint32_t add[] = {CANON,       0x80000000u, 0x00000000u, CANON,
                            0x7f800000u, 0x7f800000u, 0x7f800000u, CANON};
    const uint32_t mul[] = {0xff800000u, 0x00000000u, 0x80000000u, CANON,
                            0x7f800000u, CANON,       0xff800000u, CANON};
    float y[8];
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        vi_cpu_binary(VI_OP_ADD, a, b, 8, y, 0, 8, ISAS[k]);
        for (int i = 0; i < 8; i++)
            assert_int_equal(bits(y[i]), add[i]);
        vi_cpu_binary(VI_OP_MUL, a, b, 8, y, 0, 8, ISAS[k]);
        for (int i = 0; i < 8; i++)
            assert_int_equal(bits(y[i]), mul[i]);
    }
}

/* ==== softmax ==== */

static void test_softmax_accuracy(void **state)
{
    (void)state;
    vt_rng r = {41};
    double worst = 0;
    for (int li = 0; li < N_ROW_LENS; li++) {
        int64_t D = ROW_LENS[li], rows = 3;
        float *x = fvec(rows * D), *y = fvec(rows * D);
        fill(&r, x, rows * D, -10.0f, 10.0f);
        for (int k = 0; k < N_ISAS; k++) {
            if (!vi_isa_supported(ISAS[k]))
                continue;
            vi_cpu_softmax(x, D, y, 0, rows, ISAS[k]);
            for (int64_t row = 0; row < rows; row++) {
                const float *xr = x + row * D;
                double m = -INFINITY, s = 0, range = 0;
                for (int64_t i = 0; i < D; i++)
                    m = fmax(m, xr[i]);
                for (int64_t i = 0; i < D; i++) {
                    s += exp(xr[i] - m);
                    range = fmax(range, m - xr[i]);
                }
                double L = (double)((D + 15) / 16);
                double rel = 2 * (EXP_REL + range * U) + (L + 5) * U;
                for (int64_t i = 0; i < D; i++) {
                    double ref = exp(xr[i] - m) / s;
                    double e = fabs(y[row * D + i] - ref) / (rel * ref);
                    if (e > 1.0)
                        fail_msg("softmax D=%lld [%lld]: %a vs %a", (long long)D, (long long)i,
                                 y[row * D + i], ref);
                    worst = fmax(worst, e);
                }
            }
        }
        free(x);
        free(y);
    }
    print_message("softmax worst error / bound %.3f\n", worst);
}

static void softmax_row(const float *x, int64_t D, float *y)
{
    vi_cpu_softmax(x, D, y, 0, 1, VI_ISA_SCALAR);
}

static void test_softmax_specials(void **state)
{
    (void)state;
    float y[4];
    const float zeros[4] = {0, -0.0f, 0, 0};
    softmax_row(zeros, 4, y);
    for (int i = 0; i < 4; i++)
        assert_int_equal(bits(y[i]), bits(0.25f));

    const float one[1] = {-123.5f};
    softmax_row(one, 1, y);
    assert_int_equal(bits(y[0]), bits(1.0f));

    const float big[2] = {1000.0f, 1000.0f}; /* no overflow: shifted by the max */
    softmax_row(big, 2, y);
    assert_int_equal(bits(y[0]), bits(0.5f));
    assert_int_equal(bits(y[1]), bits(0.5f));

    const float minf[3] = {-INFINITY, 2.0f, -INFINITY}; /* masked entries are exactly 0 */
    softmax_row(minf, 3, y);
    assert_int_equal(bits(y[0]), 0u);
    assert_int_equal(bits(y[1]), bits(1.0f));
    assert_int_equal(bits(y[2]), 0u);

    /* rows giving NaN everywhere: a NaN, a +inf, only -inf */
    const float bad[4][3] = {{1.0f, nanp(0xffc00001u), 2.0f},
                             {1.0f, INFINITY, 2.0f},
                             {-INFINITY, -INFINITY, -INFINITY},
                             {INFINITY, INFINITY, 0.0f}};
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        for (int row = 0; row < 4; row++) {
            vi_cpu_softmax(bad[row], 3, y, 0, 1, ISAS[k]);
            for (int i = 0; i < 3; i++)
                assert_int_equal(bits(y[i]), CANON);
        }
    }
}

/* ==== layer_norm / rms_norm ==== */

static void test_norm_accuracy(void **state)
{
    (void)state;
    vt_rng r = {51};
    double worst_ln = 0, worst_rms = 0;
    for (int li = 0; li < N_ROW_LENS; li++) {
        int64_t D = ROW_LENS[li], rows = 3;
        float *x = fvec(rows * D), *y = fvec(rows * D), *g = fvec(D), *bta = fvec(D);
        fill(&r, x, rows * D, -4.0f, 6.0f);
        fill(&r, g, D, -2.0f, 2.0f);
        fill(&r, bta, D, -1.0f, 1.0f);
        const float eps = 1e-5f;
        double L = (double)((D + 15) / 16);
        for (int k = 0; k < N_ISAS; k++) {
            if (!vi_isa_supported(ISAS[k]))
                continue;
            for (int with_beta = 0; with_beta < 2; with_beta++) {
                vi_cpu_layer_norm(x, D, g, with_beta ? bta : NULL, eps, y, 0, rows, ISAS[k]);
                for (int64_t row = 0; row < rows; row++) {
                    const float *xr = x + row * D;
                    double mu = 0, mabs = 0, var = 0;
                    for (int64_t i = 0; i < D; i++) {
                        mu += xr[i];
                        mabs += fabs(xr[i]);
                    }
                    mu /= (double)D;
                    mabs /= (double)D;
                    for (int64_t i = 0; i < D; i++)
                        var += (xr[i] - mu) * (xr[i] - mu);
                    var /= (double)D;
                    double rs = 1.0 / sqrt(var + (double)eps);
                    double dmu = (L + 5) * U * mabs, er = (L / 2 + 7) * U;
                    for (int64_t i = 0; i < D; i++) {
                        double ref = (xr[i] - mu) * rs * g[i] + (with_beta ? bta[i] : 0.0);
                        double bound = rs * fabs(g[i]) * (dmu + fabs(xr[i] - mu) * (er + 3 * U)) +
                                       U * fabs(ref);
                        double e = fabs(y[row * D + i] - ref) / bound;
                        if (e > 1.0)
                            fail_msg("layer_norm D=%lld beta=%d [%lld]: %a vs %a", (long long)D,
                                     with_beta, (long long)i, y[row * D + i], ref);
                        worst_ln = fmax(worst_ln, e);
                    }
                }
            }
            vi_cpu_rms_norm(x, D, g, eps, y, 0, rows, ISAS[k]);
            for (int64_t row = 0; row < rows; row++) {
                const float *xr = x + row * D;
                double ms = 0;
                for (int64_t i = 0; i < D; i++)
                    ms += (double)xr[i] * xr[i];
                ms /= (double)D;
                double rs = 1.0 / sqrt(ms + (double)eps);
                for (int64_t i = 0; i < D; i++) {
                    double ref = xr[i] * rs * g[i];
                    double e = fabs(y[row * D + i] - ref) / (((L + 7) / 2 * U + 5 * U) * fabs(ref));
                    if (ref == 0.0)
                        e = y[row * D + i] == 0.0f ? 0.0 : 2.0;
                    if (e > 1.0)
                        fail_msg("rms_norm D=%lld [%lld]: %a vs %a", (long long)D, (long long)i,
                                 y[row * D + i], ref);
                    worst_rms = fmax(worst_rms, e);
                }
            }
        }
        free(x);
        free(y);
        free(g);
        free(bta);
    }
    print_message("worst error / bound: layer_norm %.3f rms_norm %.3f\n", worst_ln, worst_rms);
}

static void test_norm_specials(void **state)
{
    (void)state;
    const float g[4] = {1.0f, -2.0f, 0.5f, 3.0f}, b[4] = {0.25f, -1.0f, 0.0f, -0.0f};
    float y[4];
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        vi_isa isa = ISAS[k];
        /* a constant row: var = 0, x - mean = +0, so y = +0 * g (+ beta) */
        const float c[4] = {3.0f, 3.0f, 3.0f, 3.0f};
        vi_cpu_layer_norm(c, 4, g, NULL, 1e-5f, y, 0, 1, isa);
        const uint32_t want_nob[4] = {0x00000000u, 0x80000000u, 0x00000000u, 0x00000000u};
        for (int i = 0; i < 4; i++)
            assert_int_equal(bits(y[i]), want_nob[i]);
        vi_cpu_layer_norm(c, 4, g, b, 1e-5f, y, 0, 1, isa);
        const uint32_t want_b[4] = {bits(0.25f), bits(-1.0f), 0x00000000u, 0x00000000u};
        for (int i = 0; i < 4; i++)
            assert_int_equal(bits(y[i]), want_b[i]);
        /* ... and with eps = 0: r = 1/sqrt(0) = inf, 0 * inf = NaN */
        vi_cpu_layer_norm(c, 4, g, b, 0.0f, y, 0, 1, isa);
        for (int i = 0; i < 4; i++)
            assert_int_equal(bits(y[i]), CANON);
        /* a NaN anywhere poisons the whole row, and so does an inf for layer_norm
         * (x - mean is NaN or the variance inf); for rms_norm an inf gives
         * r = 1/sqrt(inf) = +0: the inf becomes inf * 0 = NaN, the rest (x * +0) * g */
        const float bad[2][4] = {{1.0f, nanp(0x7f800001u), 2.0f, 3.0f},
                                 {1.0f, 2.0f, -INFINITY, 3.0f}};
        const uint32_t want_rms_inf[4] = {0x00000000u, 0x80000000u, CANON, 0x00000000u};
        for (int row = 0; row < 2; row++) {
            vi_cpu_layer_norm(bad[row], 4, g, b, 1e-5f, y, 0, 1, isa);
            for (int i = 0; i < 4; i++)
                assert_int_equal(bits(y[i]), CANON);
            vi_cpu_rms_norm(bad[row], 4, g, 1e-5f, y, 0, 1, isa);
            for (int i = 0; i < 4; i++)
                assert_int_equal(bits(y[i]), row == 0 ? CANON : want_rms_inf[i]);
        }
        /* rms_norm of zeros: +0 * g keeps the sign of g; with eps = 0 it is NaN */
        const float z[4] = {0.0f, 0.0f, -0.0f, 0.0f};
        vi_cpu_rms_norm(z, 4, g, 1e-6f, y, 0, 1, isa);
        const uint32_t want_z[4] = {0x00000000u, 0x80000000u, 0x80000000u, 0x00000000u};
        for (int i = 0; i < 4; i++)
            assert_int_equal(bits(y[i]), want_z[i]);
        vi_cpu_rms_norm(z, 4, g, 0.0f, y, 0, 1, isa);
        for (int i = 0; i < 4; i++)
            assert_int_equal(bits(y[i]), CANON);
        /* one element, eps = 0: 3 * fl(1/3) rounds to exactly 1 */
        const float three = 3.0f;
        vi_cpu_rms_norm(&three, 1, g + 1, 0.0f, y, 0, 1, isa);
        assert_int_equal(bits(y[0]), bits(-2.0f));
    }
}

/* ==== the formulas, restated here step by step ====
 * An independent transcription of docs/ops.md: every kernel on every ISA
 * must give exactly these bits (accuracy bounds alone would not notice a
 * changed association). Plain C compiled with -ffp-contract=off. */

static float canon(float y)
{
    return y != y ? vi_bits_f32(VI_CANON_NAN_BITS) : y;
}

static float lanes16(float s[16], int is_max)
{
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            s[l] = is_max ? vi_max_nan(s[l], s[l + w]) : s[l] + s[l + w];
    return s[0];
}

static float spec_sum(const float *v, int64_t n, int kind, float mean)
{
    float s[16];
    for (int l = 0; l < 16; l++)
        s[l] = kind == 3 ? -INFINITY : 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float d = v[i] - mean;
        float *a = &s[i % 16];
        switch (kind) {
        case 0:
            *a = *a + v[i];
            break;
        case 1:
            *a = fmaf(v[i], v[i], *a);
            break;
        case 2:
            *a = fmaf(d, d, *a);
            break;
        default:
            *a = vi_max_nan(*a, v[i]);
            break;
        }
    }
    return lanes16(s, kind == 3);
}

static void test_formulas_exact(void **state)
{
    (void)state;
    vt_rng r = {91};
    const int64_t D = 45, n = 3 * D;
    float *x = fvec(n), *y = fvec(n), *w = fvec(n), *g = fvec(D), *b = fvec(D);
    fill(&r, x, n, -6.0f, 6.0f);
    fill(&r, g, D, -2.0f, 2.0f);
    fill(&r, b, D, -1.0f, 1.0f);
    x[5] = -0.0f;
    x[7] = 0.0f;
    const float eps = 1e-5f;
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        vi_isa isa = ISAS[k];
        for (int op = 0; op < 9; op++) {
            switch (op) {
            case 0:
                vi_cpu_unary(VI_OP_RELU, 0, x, y, 0, n, isa);
                break;
            case 1:
                vi_cpu_unary(VI_OP_GELU, 0, x, y, 0, n, isa);
                break;
            case 2:
                vi_cpu_unary(VI_OP_GELU, 1, x, y, 0, n, isa);
                break;
            case 3:
                vi_cpu_unary(VI_OP_TANH, 0, x, y, 0, n, isa);
                break;
            case 4:
                vi_cpu_unary(VI_OP_SIGMOID, 0, x, y, 0, n, isa);
                break;
            case 5:
                vi_cpu_softmax(x, D, y, 0, 3, isa);
                break;
            case 6:
                vi_cpu_layer_norm(x, D, g, NULL, eps, y, 0, 3, isa);
                break;
            case 7:
                vi_cpu_layer_norm(x, D, g, b, eps, y, 0, 3, isa);
                break;
            default:
                vi_cpu_rms_norm(x, D, g, eps, y, 0, 3, isa);
                break;
            }
            for (int64_t row = 0; row < 3; row++) {
                const float *xr = x + row * D;
                float *wr = w + row * D;
                float m = spec_sum(xr, D, 3, 0), s, mean, var, rs;
                switch (op) {
                case 5:
                    for (int64_t i = 0; i < D; i++)
                        wr[i] = vi_expf(xr[i] - m);
                    s = spec_sum(wr, D, 0, 0);
                    for (int64_t i = 0; i < D; i++)
                        wr[i] = canon(wr[i] / s);
                    break;
                case 6:
                case 7:
                    mean = spec_sum(xr, D, 0, 0) / (float)D;
                    var = spec_sum(xr, D, 2, mean) / (float)D;
                    rs = 1.0f / sqrtf(var + eps);
                    for (int64_t i = 0; i < D; i++) {
                        float t = (xr[i] - mean) * rs;
                        t = t * g[i];
                        wr[i] = canon(op == 7 ? t + b[i] : t);
                    }
                    break;
                case 8:
                    rs = 1.0f / sqrtf(spec_sum(xr, D, 1, 0) / (float)D + eps);
                    for (int64_t i = 0; i < D; i++)
                        wr[i] = canon((xr[i] * rs) * g[i]);
                    break;
                default:
                    for (int64_t i = 0; i < D; i++) {
                        float v = xr[i], h = 0.5f * v, t;
                        switch (op) {
                        case 0:
                            t = v > 0.0f ? v : 0.0f;
                            break;
                        case 1:
                            t = h * (1.0f + vi_erff(v * 0.70710678118654752440f));
                            break;
                        case 2: {
                            float a = 0.044715f * v, q = v * v;
                            float u = fmaf(a, q, v);
                            t = h * (1.0f + vi_tanhf(0.7978845608028654f * u));
                            break;
                        }
                        case 3:
                            t = vi_tanhf(v);
                            break;
                        default:
                            t = vi_sigmoidf(v);
                            break; /* its algorithm: docs/math.md */
                        }
                        wr[i] = canon(t);
                    }
                    break;
                }
            }
            for (int64_t i = 0; i < n; i++)
                if (bits(y[i]) != bits(w[i]))
                    fail_msg("formula %d isa %s [%lld]: %08x, spec %08x", op, vi_isa_name(isa),
                             (long long)i, bits(y[i]), bits(w[i]));
        }
    }
    free(x);
    free(y);
    free(w);
    free(g);
    free(b);
}

/* ==== argmax ==== */

static int64_t argmax_row(const float *x, int64_t D, vi_isa isa)
{
    int64_t y = -1;
    vi_cpu_argmax(x, D, &y, 0, 1, isa);
    return y;
}

static void test_argmax(void **state)
{
    (void)state;
    const float q = nanp(0x7fc00000u), sq = nanp(0xff800001u);
    const struct {
        float x[5];
        int64_t D, want;
    } cases[] = {
        {{1, 3, 3, 2}, 4, 1},  /* tie: first wins */
        {{q, 5, 7}, 3, 0},     /* NaN is the largest */
        {{1, sq, q, 9}, 4, 1}, /* the first NaN wins */
        {{-0.0f, 0.0f}, 2, 0}, /* -0 == +0: first wins */
        {{0.0f, -0.0f}, 2, 0},
        {{-INFINITY, -INFINITY}, 2, 0},
        {{-INFINITY}, 1, 0},
        {{1, INFINITY, INFINITY, q}, 4, 3},
        {{-5, -4, -3, -4, -3}, 5, 2},
    };
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            if (argmax_row(cases[c].x, cases[c].D, ISAS[k]) != cases[c].want)
                fail_msg("argmax case %zu: %lld, want %lld", c,
                         (long long)argmax_row(cases[c].x, cases[c].D, ISAS[k]),
                         (long long)cases[c].want);
    }
    /* long rows: random, then the max duplicated at lane-crossing positions,
     * then NaNs after and before it */
    vt_rng r = {61};
    for (int li = 0; li < N_ROW_LENS; li++) {
        int64_t D = ROW_LENS[li];
        float *x = fvec(D);
        fill(&r, x, D, -1.0f, 1.0f);
        int64_t want = 0;
        for (int64_t i = 1; i < D; i++)
            if (x[i] > x[want])
                want = i;
        assert_int_equal(argmax_row(x, D, VI_ISA_SCALAR), want);
        int64_t a = D / 3, b = D - 1;
        x[a] = 2.0f;
        x[b] = 2.0f;
        assert_int_equal(argmax_row(x, D, VI_ISA_SCALAR), a);
        x[b] = q;
        assert_int_equal(argmax_row(x, D, VI_ISA_SCALAR), b);
        if (a > 0) {
            x[a - 1] = sq;
            assert_int_equal(argmax_row(x, D, VI_ISA_SCALAR), a - 1);
        }
        free(x);
    }
}

/* ==== embedding ==== */

static void test_embedding_bit_copy(void **state)
{
    (void)state;
    const int64_t V = 5, D = 17;
    float table[5 * 17];
    vt_rng r = {71};
    fill(&r, table, V * D, -1.0f, 1.0f);
    table[2 * D + 3] = nanp(0x7f800001u); /* a signalling NaN is copied as is */
    table[2 * D + 4] = -0.0f;
    const int64_t ids[6] = {2, 0, 4, 2, 1, 3};
    float y[6 * 17];
    memset(y, 0xab, sizeof y);
    vi_cpu_embedding(ids, table, D, y, 1, 5);
    for (int64_t i = 0; i < 6; i++) {
        if (i >= 1 && i < 5)
            assert_memory_equal(y + i * D, table + ids[i] * D, (size_t)D * sizeof(float));
        else
            for (int64_t j = 0; j < D; j++)
                assert_int_equal(bits(y[i * D + j]), 0xababababu);
    }
}

/* ==== in place ==== */

static void test_in_place(void **state)
{
    (void)state;
    vt_rng r = {81};
    const int64_t D = 37, rows = 4, n = D * rows;
    float *x = fvec(n), *y = fvec(n), *t = fvec(n), *g = fvec(D);
    fill(&r, x, n, -3.0f, 3.0f);
    fill(&r, g, D, -1.0f, 1.0f);
    for (int k = 0; k < N_ISAS; k++) {
        if (!vi_isa_supported(ISAS[k]))
            continue;
        vi_isa isa = ISAS[k];
        for (int op = 0; op < 6; op++) {
            memcpy(t, x, (size_t)n * sizeof *t);
            switch (op) {
            case 0:
                vi_cpu_unary(VI_OP_GELU, 1, x, y, 0, n, isa);
                vi_cpu_unary(VI_OP_GELU, 1, t, t, 0, n, isa);
                break;
            case 1:
                vi_cpu_binary(VI_OP_ADD, x, g, D, y, 0, n, isa);
                vi_cpu_binary(VI_OP_ADD, t, g, D, t, 0, n, isa);
                break;
            case 2:
                vi_cpu_softmax(x, D, y, 0, rows, isa);
                vi_cpu_softmax(t, D, t, 0, rows, isa);
                break;
            case 3:
                vi_cpu_layer_norm(x, D, g, g, 1e-5f, y, 0, rows, isa);
                vi_cpu_layer_norm(t, D, g, g, 1e-5f, t, 0, rows, isa);
                break;
            case 4:
                vi_cpu_rms_norm(x, D, g, 1e-5f, y, 0, rows, isa);
                vi_cpu_rms_norm(t, D, g, 1e-5f, t, 0, rows, isa);
                break;
            default:
                vi_cpu_unary(VI_OP_SIGMOID, 0, x, y, 0, n, isa);
                vi_cpu_unary(VI_OP_SIGMOID, 0, t, t, 0, n, isa);
                break;
            }
            assert_memory_equal(t, y, (size_t)n * sizeof *t);
        }
    }
    free(x);
    free(y);
    free(t);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reductions_match_order),
        cmocka_unit_test(test_unary_accuracy),
        cmocka_unit_test(test_binary_exact),
        cmocka_unit_test(test_unary_specials),
        cmocka_unit_test(test_binary_specials),
        cmocka_unit_test(test_softmax_accuracy),
        cmocka_unit_test(test_softmax_specials),
        cmocka_unit_test(test_norm_accuracy),
        cmocka_unit_test(test_norm_specials),
        cmocka_unit_test(test_formulas_exact),
        cmocka_unit_test(test_argmax),
        cmocka_unit_test(test_embedding_bit_copy),
        cmocka_unit_test(test_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
