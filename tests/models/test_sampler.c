/* tests/models/test_sampler.c — models/sampler.h: the counter-based uniform
 * generator (first values pinned for seeds 0 and 42), greedy argmax (ties to
 * the lowest id, NaN as the argmax op), golden token sequences for fixed
 * seeds, empirical frequencies against the softmax probabilities, top-k and
 * top-p boundaries, ties, NaN / -inf / +inf logits, agreement of the heap
 * (small top_k) and radix-sort paths with a plain qsort reference of the
 * documented algorithm, and every parameter error with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vmath.h"
#include "models/sampler.h"
#include "test_util.h"

#define NEG_INF (-__builtin_inff())
#define POS_INF (__builtin_inff())

/* Samples one token, failing the test on an error. */
static int32_t sample1(const vi_sampling *p, const float *logits, int32_t n, uint64_t pos)
{
    void *scratch = malloc(vi_sample_scratch_bytes(n));
    assert_non_null(scratch);
    vi_error err = {{0}};
    int32_t tok = -1;
    vi_status st = vi_sample(p, logits, n, pos, scratch, &tok, &err);
    if (st != VI_OK)
        fail_msg("vi_sample: %s", err.msg);
    free(scratch);
    return tok;
}

/* Counts of each token over positions [0, n_pos). */
static void histogram(const vi_sampling *p, const float *logits, int32_t n, int64_t n_pos,
                      int64_t *count)
{
    void *scratch = malloc(vi_sample_scratch_bytes(n));
    assert_non_null(scratch);
    memset(count, 0, (size_t)n * sizeof *count);
    for (int64_t pos = 0; pos < n_pos; pos++) {
        vi_error err = {{0}};
        int32_t tok = -1;
        if (vi_sample(p, logits, n, (uint64_t)pos, scratch, &tok, &err) != VI_OK)
            fail_msg("vi_sample at position %lld: %s", (long long)pos, err.msg);
        assert_true(tok >= 0 && tok < n);
        count[tok]++;
    }
    free(scratch);
}

/* ==== Uniform generator ==== */

static void test_uniform_first_values(void **state)
{
    (void)state;
    /* top 24 bits of splitmix64's first outputs for seeds 0 and 42 (the seed-0
     * stream starts 0xe220a8397b1dcdaf, the published reference value) */
    static const uint32_t SEED0[] = {0xe220a8u, 0x6e789eu, 0x06c45du, 0xf88bb8u,
                                     0x1b3989u, 0x53cb9fu, 0x2c829au, 0xc58413u};
    static const uint32_t SEED42[] = {0xbdd732u, 0x28efe3u, 0x475267u, 0x581ce1u,
                                      0x09bc58u, 0xde4431u, 0x37e967u, 0xccf635u};
    for (uint64_t pos = 0; pos < 8; pos++) {
        float a = vi_sample_uniform(0, pos), b = vi_sample_uniform(42, pos);
        assert_int_equal(vi_f32_bits(a), vi_f32_bits((float)SEED0[pos] * 0x1p-24f));
        assert_int_equal(vi_f32_bits(b), vi_f32_bits((float)SEED42[pos] * 0x1p-24f));
    }
    /* wrap-around of seed + golden * (position + 1) */
    assert_int_equal(vi_f32_bits(vi_sample_uniform(UINT64_MAX, UINT64_MAX)),
                     vi_f32_bits((float)11849813u * 0x1p-24f));
}

static void test_uniform_range_and_mean(void **state)
{
    (void)state;
    double sum = 0.0;
    const int64_t n = 1000000;
    for (int64_t i = 0; i < n; i++) {
        float u = vi_sample_uniform(7, (uint64_t)i);
        assert_true(u >= 0.0f && u < 1.0f);
        float s = u * 0x1p24f;
        assert_true(s == (float)(int32_t)s); /* a multiple of 2^-24 */
        sum += u;
    }
    double mean = sum / (double)n;
    /* sd of the mean: 1/sqrt(12 n) = 2.9e-4 */
    assert_true(fabs(mean - 0.5) < 1.5e-3);
}

/* ==== Greedy ==== */

static void test_greedy(void **state)
{
    (void)state;
    vi_sampling g = {0.0f, 3, 0.5f, 99}; /* top_k, top_p, seed ignored */
    const float a[] = {1.0f, 3.0f, -2.0f, 3.0f, 2.5f};
    assert_int_equal(sample1(&g, a, 5, 0), 1);     /* tie: lowest id */
    assert_int_equal(sample1(&g, a, 5, 12345), 1); /* no randomness */
    const float z[] = {-0.0f, 0.0f, -1.0f};
    assert_int_equal(sample1(&g, z, 3, 0), 0); /* -0 == +0 */
    const float ninf[] = {NEG_INF, NEG_INF, -5.0f};
    assert_int_equal(sample1(&g, ninf, 3, 0), 2);
    const float allninf[] = {NEG_INF, NEG_INF};
    assert_int_equal(sample1(&g, allninf, 2, 0), 0);
    /* as the argmax op (core/order.h): the first NaN wins */
    const float nan[] = {1.0f, NAN, 5.0f, NAN};
    assert_int_equal(sample1(&g, nan, 4, 0), 1);
    /* greedy needs no scratch */
    int32_t tok = -1;
    vi_error err = {{0}};
    assert_int_equal(vi_sample(&g, a, 5, 0, NULL, &tok, &err), VI_OK);
    assert_int_equal(tok, 1);
}

/* ==== Parameter errors ==== */

static void expect_invalid(const vi_sampling *p, const float *logits, int32_t n, void *scratch,
                           int32_t *tok, const char *msg)
{
    vi_error err = {{0}};
    vi_status st = vi_sample(p, logits, n, 0, scratch, tok, &err);
    if (st != VI_ERR_INVALID || strcmp(err.msg, msg) != 0)
        fail_msg("status %d message \"%s\", expected VI_ERR_INVALID \"%s\"", (int)st, err.msg, msg);
}

static void test_bad_params(void **state)
{
    (void)state;
    const float l[] = {0.0f, 1.0f};
    char scratch[64];
    int32_t tok;
    vi_sampling p = {1.0f, 0, 1.0f, 0};
    vi_sampling q = p;
    q.temperature = -0.5f;
    expect_invalid(&q, l, 2, scratch, &tok,
                   "sampling: temperature must be a finite number >= 0, got -0.5");
    q.temperature = NAN;
    expect_invalid(&q, l, 2, scratch, &tok,
                   "sampling: temperature must be a finite number >= 0, got nan");
    q.temperature = POS_INF;
    expect_invalid(&q, l, 2, scratch, &tok,
                   "sampling: temperature must be a finite number >= 0, got inf");
    q = p;
    q.top_k = -1;
    expect_invalid(&q, l, 2, scratch, &tok, "sampling: top_k must be >= 0, got -1");
    q = p;
    q.top_p = 0.0f;
    expect_invalid(&q, l, 2, scratch, &tok, "sampling: top_p must be in (0, 1], got 0");
    q.top_p = 1.5f;
    expect_invalid(&q, l, 2, scratch, &tok, "sampling: top_p must be in (0, 1], got 1.5");
    q.top_p = -0.25f;
    expect_invalid(&q, l, 2, scratch, &tok, "sampling: top_p must be in (0, 1], got -0.25");
    q.top_p = NAN;
    expect_invalid(&q, l, 2, scratch, &tok, "sampling: top_p must be in (0, 1], got nan");
    expect_invalid(&p, l, 0, scratch, &tok, "sampling: n_vocab must be >= 1, got 0");
    expect_invalid(&p, l, -3, scratch, &tok, "sampling: n_vocab must be >= 1, got -3");
    expect_invalid(NULL, l, 2, scratch, &tok, "sampling: the parameters are NULL");
    expect_invalid(&p, NULL, 2, scratch, &tok, "sampling: logits is NULL");
    expect_invalid(&p, l, 2, scratch, NULL, "sampling: token is NULL");
    expect_invalid(
        &p, l, 2, NULL, &tok,
        "sampling: scratch is NULL (temperature 1 needs vi_sample_scratch_bytes(2) bytes)");
    const float bad[] = {NAN, NEG_INF, NAN};
    expect_invalid(&p, bad, 3, scratch, &tok,
                   "sampling: no candidate token: all 3 logits are NaN or -inf");
    assert_int_equal(vi_sample_scratch_bytes(0), 0);
    assert_int_equal(vi_sample_scratch_bytes(-1), 0);
    assert_int_equal(vi_sample_scratch_bytes(49152), (size_t)49152 * 20);
}

/* ==== Golden sequences ==== */

/* 1000 logits with a spread like a language model's (a few large, many
 * small) and exact ties (values on a 1/64 grid). */
static void golden_logits(float *l, int32_t n)
{
    vt_rng rng = {0x5a3b1e5ull};
    for (int32_t i = 0; i < n; i++) {
        float v = vt_uniform(&rng, -8.0f, 4.0f);
        if (vt_range(&rng, 0, 49) == 0)
            v += 8.0f;
        l[i] = (float)(int32_t)(v * 64.0f) / 64.0f;
    }
}

#define GOLDEN_N 1000
#define GOLDEN_POS 16

typedef struct {
    vi_sampling p;
    int32_t ids[GOLDEN_POS];
} golden_case;

static const golden_case GOLDEN[] = {
    {{1.0f, 0, 1.0f, 0},
     {789, 463, 543, 542, 543, 463, 543, 837, 543, 789, 463, 837, 144, 144, 837, 144}},
    {{1.0f, 0, 1.0f, 42},
     {837, 543, 543, 463, 543, 837, 543, 837, 463, 144, 543, 463, 144, 144, 144, 543}},
    {{0.7f, 40, 0.95f, 42},
     {144, 543, 543, 543, 543, 837, 543, 837, 543, 144, 543, 463, 463, 463, 144, 543}},
    {{1.3f, 0, 0.9f, 1234567},
     {463, 543, 144, 543, 789, 463, 144, 463, 463, 837, 463, 463, 144, 543, 463, 543}},
    {{0.5f, 5, 1.0f, 7},
     {543, 543, 837, 463, 463, 543, 463, 543, 543, 463, 543, 837, 837, 837, 837, 463}},
    {{2.0f, 2000, 1.0f, 3},
     {463, 478, 760, 543, 144, 730, 463, 60, 432, 60, 893, 750, 711, 837, 329, 21}},
};

static void test_golden_sequences(void **state)
{
    (void)state;
    float l[GOLDEN_N];
    golden_logits(l, GOLDEN_N);
    int bad = 0;
    for (size_t c = 0; c < sizeof GOLDEN / sizeof GOLDEN[0]; c++) {
        const golden_case *g = &GOLDEN[c];
        int32_t got[GOLDEN_POS];
        for (int pos = 0; pos < GOLDEN_POS; pos++)
            got[pos] = sample1(&g->p, l, GOLDEN_N, (uint64_t)pos);
        if (memcmp(got, g->ids, sizeof got) != 0) {
            bad = 1;
            printf("case %zu: got {", c);
            for (int pos = 0; pos < GOLDEN_POS; pos++)
                printf("%s%d", pos ? ", " : "", (int)got[pos]);
            printf("}\n");
        }
    }
    assert_int_equal(bad, 0);
}

/* ==== Distribution ==== */

/* Frequencies over n_pos positions against p_i (double): each within 5 sd. */
static void check_frequencies(const vi_sampling *p, const float *l, int32_t n, const double *prob,
                              int64_t n_pos)
{
    int64_t count[64];
    assert_true(n <= 64);
    histogram(p, l, n, n_pos, count);
    for (int32_t i = 0; i < n; i++) {
        double f = (double)count[i] / (double)n_pos;
        double sd = sqrt(prob[i] * (1.0 - prob[i]) / (double)n_pos);
        if (prob[i] == 0.0) {
            if (count[i] != 0)
                fail_msg("token %d has probability 0 but was drawn %lld times", (int)i,
                         (long long)count[i]);
        } else if (fabs(f - prob[i]) > 5.0 * sd + 1e-6) {
            fail_msg("token %d: frequency %.5f, probability %.5f (sd %.5f)", (int)i, f, prob[i],
                     sd);
        }
    }
}

/* softmax(l / t) in double over the first `keep` tokens of the order given by idx. */
static void softmax_ref(const float *l, const int32_t *idx, int32_t n, int32_t keep, double t,
                        double *prob)
{
    double sum = 0.0, mx = (double)l[idx[0]] / t;
    for (int32_t i = 0; i < n; i++)
        prob[i] = 0.0;
    for (int32_t k = 0; k < keep; k++)
        sum += exp((double)l[idx[k]] / t - mx);
    for (int32_t k = 0; k < keep; k++)
        prob[idx[k]] = exp((double)l[idx[k]] / t - mx) / sum;
}

static void test_distribution(void **state)
{
    (void)state;
    /* ids in descending-logit order: 3, 0, 5, 1, 4, 2 */
    const float l[] = {1.5f, 0.25f, -1.0f, 2.0f, -0.5f, 0.75f};
    const int32_t order[] = {3, 0, 5, 1, 4, 2};
    double prob[6];
    const int64_t n_pos = 300000;

    vi_sampling p = {0.8f, 0, 1.0f, 2024};
    softmax_ref(l, order, 6, 6, 0.8, prob);
    check_frequencies(&p, l, 6, prob, n_pos);

    p.temperature = 1.7f;
    p.seed = 5;
    softmax_ref(l, order, 6, 6, 1.7, prob);
    check_frequencies(&p, l, 6, prob, n_pos);

    /* top_k 3: renormalised over the three largest */
    p.top_k = 3;
    softmax_ref(l, order, 6, 3, 1.7, prob);
    check_frequencies(&p, l, 6, prob, n_pos);

    /* top_p 0.6 at T = 1: probabilities 0.455, 0.276, ... -> the first two
     * reach 0.731 >= 0.6 */
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 0.6f;
    softmax_ref(l, order, 6, 2, 1.0, prob);
    check_frequencies(&p, l, 6, prob, n_pos);
}

/* ==== top-k, top-p boundaries, ties, special logits ==== */

/* The set of tokens drawn over n_pos positions, as a bit mask. */
static uint64_t drawn_set(const vi_sampling *p, const float *l, int32_t n, int64_t n_pos)
{
    int64_t count[64];
    histogram(p, l, n, n_pos, count);
    uint64_t mask = 0;
    for (int32_t i = 0; i < n; i++)
        if (count[i])
            mask |= 1ull << i;
    return mask;
}

static void test_top_k_boundaries(void **state)
{
    (void)state;
    const float l[] = {0.5f, 2.0f, 1.0f, 2.0f, 1.5f, -3.0f};
    vi_sampling p = {1.0f, 1, 1.0f, 11};
    /* top_k 1: the first candidate, the lowest id among the tied maxima */
    assert_int_equal(drawn_set(&p, l, 6, 2000), 1ull << 1);
    p.top_k = 2; /* ids 1 and 3 (tie, id order) */
    assert_int_equal(drawn_set(&p, l, 6, 2000), (1ull << 1) | (1ull << 3));
    p.top_k = 3; /* then 4 */
    assert_int_equal(drawn_set(&p, l, 6, 2000), (1ull << 1) | (1ull << 3) | (1ull << 4));
    /* top_k >= the number of candidates is the same as no top_k, token for token */
    float big[3000];
    golden_logits(big, 3000);
    for (int k = 0; k < 4; k++) {
        static const int32_t K[] = {3000, 3001, 100000, 0};
        vi_sampling a = {1.0f, K[k], 1.0f, 77}, b = {1.0f, 0, 1.0f, 77};
        for (uint64_t pos = 0; pos < 200; pos++)
            assert_int_equal(sample1(&a, big, 3000, pos), sample1(&b, big, 3000, pos));
    }
}

static void test_top_p_boundaries(void **state)
{
    (void)state;
    /* four equal logits: e = 1 each, total 4, exact cumulative sums 1, 2, 3, 4 */
    const float l[] = {0.0f, 0.0f, 0.0f, 0.0f};
    vi_sampling p = {1.0f, 0, 0.5f, 3};
    /* 0.5 * 4 = 2 is reached exactly by the second: ids 0, 1 */
    assert_int_equal(drawn_set(&p, l, 4, 2000), 0x3u);
    p.top_p = 0.50000006f; /* just above: the third is needed */
    assert_int_equal(drawn_set(&p, l, 4, 2000), 0x7u);
    p.top_p = 0.25f; /* 1 = the first alone */
    assert_int_equal(drawn_set(&p, l, 4, 2000), 0x1u);
    p.top_p = 1e-30f; /* at least one */
    assert_int_equal(drawn_set(&p, l, 4, 2000), 0x1u);
    p.top_p = 0.99999994f;
    assert_int_equal(drawn_set(&p, l, 4, 2000), 0xfu);
    p.top_p = 1.0f;
    assert_int_equal(drawn_set(&p, l, 4, 2000), 0xfu);
    /* tokens whose e underflows to 0 are never drawn */
    const float wide[] = {0.0f, -200.0f, -1.0f};
    vi_sampling q = {1.0f, 0, 1.0f, 5};
    assert_int_equal(drawn_set(&q, wide, 3, 20000), 0x5u);
}

static void test_ties_are_uniform(void **state)
{
    (void)state;
    const float l[] = {3.0f, 3.0f, 3.0f, 3.0f, -50.0f};
    const double prob[] = {0.25, 0.25, 0.25, 0.25, 0.0};
    vi_sampling p = {1.0f, 0, 1.0f, 8};
    check_frequencies(&p, l, 5, prob, 200000);
    /* -0 and +0 are the same z: ordered by id */
    const float z[] = {-0.0f, 0.0f, -0.0f};
    vi_sampling k1 = {1.0f, 1, 1.0f, 1};
    assert_int_equal(drawn_set(&k1, z, 3, 500), 0x1u);
    k1.top_k = 2;
    assert_int_equal(drawn_set(&k1, z, 3, 500), 0x3u);
}

static void test_special_logits(void **state)
{
    (void)state;
    vi_sampling p = {1.0f, 0, 1.0f, 13};
    /* NaN and -inf are never drawn */
    const float a[] = {NAN, 0.0f, NEG_INF, 0.0f, NAN};
    const double pa[] = {0.0, 0.5, 0.0, 0.5, 0.0};
    check_frequencies(&p, a, 5, pa, 100000);
    /* a +inf logit takes everything; two share it */
    const float b[] = {1.0f, POS_INF, 1e30f};
    assert_int_equal(drawn_set(&p, b, 3, 2000), 0x2u);
    const float c[] = {POS_INF, 5.0f, POS_INF};
    const double pc[] = {0.5, 0.0, 0.5};
    check_frequencies(&p, c, 3, pc, 100000);
    /* one candidate among NaNs */
    const float d[] = {NAN, NAN, -7.0f};
    assert_int_equal(drawn_set(&p, d, 3, 500), 0x4u);
    /* a tiny temperature: every e but the maximum's underflows to 0 */
    vi_sampling t = {1e-38f, 0, 1.0f, 13};
    const float e[] = {-1.0f, 1.0f, 0.5f};
    assert_int_equal(drawn_set(&t, e, 3, 500), 0x2u);
}

/* ==== Both ordering paths against a plain reference ==== */

typedef struct {
    float z;
    int32_t id;
} ref_cand;

static int ref_cmp(const void *pa, const void *pb)
{
    const ref_cand *a = pa, *b = pb;
    if (a->z > b->z)
        return -1;
    if (a->z < b->z)
        return 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

/* The documented algorithm, written plainly (qsort for the order). */
static int32_t ref_sample(const vi_sampling *p, const float *l, int32_t n, uint64_t pos)
{
    ref_cand *c = malloc((size_t)n * sizeof *c);
    float *e = malloc((size_t)n * sizeof *e);
    assert_non_null(c);
    assert_non_null(e);
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (l[i] == l[i] && l[i] != NEG_INF) {
            c[m].z = l[i] / p->temperature;
            c[m].id = i;
            m++;
        }
    qsort(c, (size_t)m, sizeof *c, ref_cmp);
    if (p->top_k > 0 && p->top_k < m)
        m = p->top_k;
    float total = 0.0f;
    for (int32_t i = 0; i < m; i++) {
        e[i] = c[i].z == c[0].z ? 1.0f : vi_expf(c[i].z - c[0].z);
        total = total + e[i];
    }
    int32_t kept = m;
    if (p->top_p < 1.0f) {
        float target = p->top_p * total, cum = 0.0f;
        for (int32_t i = 0; i < m; i++) {
            cum = cum + e[i];
            if (cum >= target) {
                kept = i + 1;
                total = cum;
                break;
            }
        }
    }
    float r = vi_sample_uniform(p->seed, pos) * total, cum = 0.0f;
    int32_t pick = 0;
    for (int32_t i = 0; i < kept; i++) {
        if (e[i] > 0.0f)
            pick = i;
        cum = cum + e[i];
        if (cum > r)
            break;
    }
    int32_t tok = c[pick].id;
    free(c);
    free(e);
    return tok;
}

static void test_paths_match_reference(void **state)
{
    (void)state;
    const int32_t n = 5000;
    float *l = malloc((size_t)n * sizeof *l);
    assert_non_null(l);
    vt_rng rng = {0x7e57ull};
    /* a 1/8 grid: many exact ties in z; some NaN and -inf */
    for (int32_t i = 0; i < n; i++) {
        float v = (float)(int32_t)vt_range(&rng, -40, 24) / 8.0f;
        int64_t s = vt_range(&rng, 0, 199);
        l[i] = s == 0 ? NAN : s == 1 ? NEG_INF : s == 2 ? -0.0f : v;
    }
    static const int32_t K[] = {0, 1, 2, 7, 64, 255, 256, 257, 1024, 4999, 5000};
    static const float T[] = {0.3f, 1.0f, 2.5f};
    static const float P[] = {1.0f, 0.9f, 0.3f};
    int64_t checked = 0;
    for (size_t k = 0; k < sizeof K / sizeof K[0]; k++)
        for (size_t t = 0; t < sizeof T / sizeof T[0]; t++)
            for (size_t q = 0; q < sizeof P / sizeof P[0]; q++) {
                vi_sampling p = {T[t], K[k], P[q], 1000 + k};
                for (uint64_t pos = 0; pos < 12; pos++) {
                    int32_t a = sample1(&p, l, n, pos), b = ref_sample(&p, l, n, pos);
                    if (a != b)
                        fail_msg("top_k %d T %g top_p %g position %llu: %d, reference %d",
                                 (int)K[k], (double)T[t], (double)P[q], (unsigned long long)pos,
                                 (int)a, (int)b);
                    checked++;
                }
            }
    assert_int_equal(checked, 11 * 3 * 3 * 12);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_first_values),
        cmocka_unit_test(test_uniform_range_and_mean),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_golden_sequences),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_top_k_boundaries),
        cmocka_unit_test(test_top_p_boundaries),
        cmocka_unit_test(test_ties_are_uniform),
        cmocka_unit_test(test_special_logits),
        cmocka_unit_test(test_paths_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
