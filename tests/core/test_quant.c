/* tests/core/test_quant.c — the canonical dequantisation (core/quant.h):
 * the format table, every format's values bit for bit against vectors made
 * by gguf-py's numpy dequantisers (tests/core/quant_vectors.h: edge blocks
 * and SHA-256 digests of random sweeps), exact F16 / BF16 widening of every
 * 16-bit pattern, and vi_qdot_ref against vi_dot_ref over the dequantised row. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hex.h"
#include "core/quant.h"
#include "core/sha256.h"
#include "quant_vectors.h"
#include "test_util.h"

#define GUARD 16
#define SENTINEL 0xA5A5A5A5u

static const vi_ggml_type ALL_TYPES[] = {VI_GGML_F32,  VI_GGML_F16,  VI_GGML_Q4_0, VI_GGML_Q4_1,
                                         VI_GGML_Q8_0, VI_GGML_Q4_K, VI_GGML_Q6_K, VI_GGML_BF16};
#define N_TYPES (sizeof ALL_TYPES / sizeof ALL_TYPES[0])

/* n floats between GUARD sentinel words on each side, the n set to sentinel too. */
static float *gbuf_alloc(int64_t n)
{
    uint32_t *base = malloc(((size_t)n + 2 * GUARD) * sizeof(uint32_t));
    assert_non_null(base);
    for (int64_t i = 0; i < n + 2 * GUARD; i++)
        base[i] = SENTINEL;
    return (float *)(base + GUARD);
}

static void gbuf_check_guards(const float *p, int64_t n, const char *what)
{
    const uint32_t *base = (const uint32_t *)p - GUARD;
    for (int64_t i = 0; i < GUARD; i++)
        if (base[i] != SENTINEL || base[GUARD + n + i] != SENTINEL)
            fail_msg("%s: a guard word around the output was overwritten", what);
}

static void gbuf_free(float *p)
{
    if (p)
        free((uint32_t *)p - GUARD);
}

/* n bytes from the generator: successive vt_next values, little-endian. */
static uint8_t *rng_bytes(uint64_t seed, size_t n)
{
    vt_rng r = {seed};
    uint8_t *b = malloc(n + 8);
    assert_non_null(b);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = vt_next(&r);
        for (int j = 0; j < 8; j++)
            b[i + (size_t)j] = (uint8_t)(v >> (8 * j));
    }
    return b;
}

/* SHA-256 (hex) of the little-endian bits of v[0..n). */
static void digest_floats(const float *v, int64_t n, char hex[2 * VI_SHA256_LEN + 1])
{
    uint8_t *le = malloc((size_t)n * 4 + 1);
    assert_non_null(le);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = vi_f32_bits(v[i]);
        for (int j = 0; j < 4; j++)
            le[4 * i + j] = (uint8_t)(u >> (8 * j));
    }
    uint8_t d[VI_SHA256_LEN];
    vi_error err;
    assert_int_equal(vi_sha256_once(le, (size_t)n * 4, d, &err), VI_OK);
    vi_hex_encode(d, VI_SHA256_LEN, hex);
    free(le);
}

/* ==== the format table ==== */

static void test_type_table(void **state)
{
    (void)state;
    static const struct {
        vi_ggml_type t;
        const char *name;
        size_t bs, bytes;
    } want[] = {{VI_GGML_F32, "F32", 1, 4},       {VI_GGML_F16, "F16", 1, 2},
                {VI_GGML_Q4_0, "Q4_0", 32, 18},   {VI_GGML_Q4_1, "Q4_1", 32, 20},
                {VI_GGML_Q8_0, "Q8_0", 32, 34},   {VI_GGML_Q4_K, "Q4_K", 256, 144},
                {VI_GGML_Q6_K, "Q6_K", 256, 210}, {VI_GGML_BF16, "BF16", 1, 2}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(vi_ggml_type_block_size(want[i].t), want[i].bs);
        assert_int_equal(vi_ggml_type_block_bytes(want[i].t), want[i].bytes);
        assert_string_equal(vi_ggml_type_name(want[i].t), want[i].name);
        assert_int_equal(vi_ggml_type_supported((uint32_t)want[i].t), 1);
    }
    /* Q5_0 (6), Q5_K (13), IQ types and garbage are not read */
    static const uint32_t unsupported[] = {4, 5, 6, 7, 9, 10, 11, 13, 15, 16, 29, 31, 1000};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        vi_ggml_type t = (vi_ggml_type)unsupported[i];
        assert_int_equal(vi_ggml_type_supported(unsupported[i]), 0);
        assert_int_equal(vi_ggml_type_block_size(t), 0);
        assert_int_equal(vi_ggml_type_block_bytes(t), 0);
        assert_null(vi_ggml_type_name(t));
    }
}

/* ==== values against gguf-py ==== */

/* The per-block function of type t, or NULL for the one-element types. */
typedef void (*block_fn)(const uint8_t *, float *);
static block_fn block_function(int t)
{
    switch (t) {
    case VI_GGML_Q4_0:
        return vi_dequant_block_q4_0;
    case VI_GGML_Q4_1:
        return vi_dequant_block_q4_1;
    case VI_GGML_Q8_0:
        return vi_dequant_block_q8_0;
    case VI_GGML_Q4_K:
        return vi_dequant_block_q4_k;
    case VI_GGML_Q6_K:
        return vi_dequant_block_q6_k;
    default:
        return NULL;
    }
}

static void expect_bits(const float *got, const uint32_t *want, size_t n, const char *via,
                        const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (vi_f32_bits(got[i]) != want[i])
            fail_msg("%s (%s): element %zu is %a (0x%08x), gguf-py says 0x%08x", what, via, i,
                     (double)got[i], vi_f32_bits(got[i]), want[i]);
}

static void test_edge_vectors(void **state)
{
    (void)state;
    int seen[64] = {0};
    for (size_t c = 0; c < sizeof QV_EDGES / sizeof QV_EDGES[0]; c++) {
        const qv_edge *e = &QV_EDGES[c];
        vi_ggml_type t = (vi_ggml_type)e->type;
        size_t bs = vi_ggml_type_block_size(t), bb = vi_ggml_type_block_bytes(t);
        assert_int_equal(e->n_bytes % bb, 0);
        assert_int_equal(e->n_expect, e->n_bytes / bb * bs);
        float *out = gbuf_alloc((int64_t)e->n_expect);
        vi_dequant_row(t, e->bytes, out, (int64_t)e->n_expect);
        gbuf_check_guards(out, (int64_t)e->n_expect, e->what);
        expect_bits(out, e->expect, e->n_expect, "vi_dequant_row", e->what);
        block_fn fn = block_function(e->type);
        if (fn) {
            float blk[VI_QUANT_MAX_BLOCK];
            fn(e->bytes, blk);
            expect_bits(blk, e->expect, bs, "block function", e->what);
        }
        seen[e->type & 63] = 1;
        gbuf_free(out);
    }
    /* every format with a formula has edge vectors */
    assert_true(seen[VI_GGML_Q4_0] && seen[VI_GGML_Q4_1] && seen[VI_GGML_Q8_0] &&
                seen[VI_GGML_Q4_K] && seen[VI_GGML_Q6_K] && seen[VI_GGML_F16] &&
                seen[VI_GGML_BF16]);
}

/* A few of the rules written out, so that a wrong vector file cannot hide them. */
static void test_rules_by_hand(void **state)
{
    (void)state;
    float out[32];
    uint8_t q41[20] = {0x00, 0x80, 0x00, 0x80}; /* d = -0, m = -0, q = 0 */
    vi_dequant_block_q4_1(q41, out);
    assert_int_equal(vi_f32_bits(out[0]), 0x80000000u); /* -0 * 0 + -0 = -0 */
    q41[3] = 0x00;                                      /* m = +0 */
    vi_dequant_block_q4_1(q41, out);
    assert_int_equal(vi_f32_bits(out[0]), 0x00000000u);
    /* d = +inf and q = 8: inf * 0 is NaN, written canonical */
    uint8_t q40[18] = {0x00, 0x7c, 0x08};
    vi_dequant_block_q4_0(q40, out);
    assert_int_equal(vi_f32_bits(out[0]), VI_CANON_NAN_BITS);
    assert_int_equal(vi_f32_bits(out[16]), 0xff800000u); /* inf * (0 - 8) */
    /* Q4_1 rounding in the add: d = 1024, m = 2^-24, q = 1: 1024 + 2^-24 -> 1024 */
    uint8_t r41[20] = {0x00, 0x64, 0x01, 0x00, 0x01};
    vi_dequant_block_q4_1(r41, out);
    assert_int_equal(vi_f32_bits(out[0]), 0x44800000u);
    assert_int_equal(vi_f32_bits(out[16]), 0x33800000u); /* q = 0: just m */
    /* widenings keep signalling NaNs and payloads; subnormal halves become normal */
    assert_int_equal(vi_f32_bits(vi_f16_to_f32(0x7c01)), 0x7f802000u);
    assert_int_equal(vi_f32_bits(vi_f16_to_f32(0xfe55)), 0xffcaa000u);
    assert_int_equal(vi_f32_bits(vi_f16_to_f32(0x0001)), 0x33800000u);
    assert_int_equal(vi_f32_bits(vi_f16_to_f32(0x83ff)), 0xb87fc000u);
    assert_int_equal(vi_f32_bits(vi_bf16_to_f32(0x7f81)), 0x7f810000u);
    assert_int_equal(vi_f32_bits(vi_bf16_to_f32(0x8001)), 0x80010000u);
}

static void test_random_sweeps(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof QV_SWEEPS / sizeof QV_SWEEPS[0]; s++) {
        const qv_sweep *sw = &QV_SWEEPS[s];
        vi_ggml_type t = (vi_ggml_type)sw->type;
        int64_t n = sw->n_blocks * (int64_t)vi_ggml_type_block_size(t);
        uint8_t *in = rng_bytes(sw->seed, (size_t)sw->n_blocks * vi_ggml_type_block_bytes(t));
        float *out = gbuf_alloc(n);
        vi_dequant_row(t, in, out, n);
        gbuf_check_guards(out, n, vi_ggml_type_name(t));
        char hex[2 * VI_SHA256_LEN + 1];
        digest_floats(out, n, hex);
        if (strcmp(hex, sw->sha256) != 0)
            fail_msg("%s random sweep (%lld blocks, seed 0x%llx): digest %s, gguf-py says %s",
                     vi_ggml_type_name(t), (long long)sw->n_blocks, (unsigned long long)sw->seed,
                     hex, sw->sha256);
        gbuf_free(out);
        free(in);
    }
}

static void test_every_half(void **state)
{
    (void)state;
    uint8_t in[65536 * 2];
    for (uint32_t i = 0; i < 65536; i++) {
        in[2 * i] = (uint8_t)i;
        in[2 * i + 1] = (uint8_t)(i >> 8);
    }
    float *out = gbuf_alloc(65536);
    char hex[2 * VI_SHA256_LEN + 1];
    vi_dequant_row(VI_GGML_F16, in, out, 65536);
    digest_floats(out, 65536, hex);
    assert_string_equal(hex, QV_F16_ALL_SHA256);
    /* the value, independently: (-1)^s x mant x 2^-24 for subnormals,
     * (-1)^s x (1024 + mant) x 2^(e - 25) for normals, infinities, NaNs */
    for (uint32_t i = 0; i < 65536; i++) {
        uint32_t e = (i >> 10) & 31, mant = i & 0x3ff;
        double sign = (i & 0x8000) ? -1.0 : 1.0, v = (double)out[i];
        int ok;
        if (e == 31)
            ok = mant ? v != v : v == sign * INFINITY;
        else if (e == 0)
            ok = v == sign * ldexp((double)mant, -24) && signbit(v) == signbit(sign);
        else
            ok = v == sign * ldexp((double)(1024 + mant), (int)e - 25);
        if (!ok)
            fail_msg("F16 0x%04x widened to %a (0x%08x)", i, v, vi_f32_bits(out[i]));
    }
    vi_dequant_row(VI_GGML_BF16, in, out, 65536);
    digest_floats(out, 65536, hex);
    assert_string_equal(hex, QV_BF16_ALL_SHA256);
    gbuf_check_guards(out, 65536, "every half");
    gbuf_free(out);
}

/* ==== the reference dot product ==== */

/* A row of K elements of type t with finite, model-like scales: random bytes
 * with every f16 scale field replaced by a small normal half. */
static uint8_t *make_row(vi_ggml_type t, int64_t K, vt_rng *r)
{
    size_t bb = vi_ggml_type_block_bytes(t);
    int64_t nb = K / (int64_t)vi_ggml_type_block_size(t);
    uint8_t *row = malloc((size_t)nb * bb + 8);
    assert_non_null(row);
    for (size_t i = 0; i < (size_t)nb * bb; i++)
        row[i] = (uint8_t)vt_next(r);
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *blk = row + (size_t)b * bb;
        uint16_t h1 = (uint16_t)(0x2000 + vt_range(r, 0, 0x0fff)); /* ~2^-7 .. 2^-4 */
        uint16_t h2 = (uint16_t)(vt_range(r, 0, 1) << 15 | (0x2000 + vt_range(r, 0, 0x0fff)));
        switch (t) {
        case VI_GGML_F16:
            blk[0] = (uint8_t)h2, blk[1] = (uint8_t)(h2 >> 8);
            break;
        case VI_GGML_BF16:
            blk[1] = (uint8_t)(0x3c | (blk[1] & 0x80)); /* |w| in [2^-7, 2^-6) */
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
    return row;
}

static void test_qdot_is_dot_of_dequant(void **state)
{
    (void)state;
    static const int64_t Ks[] = {32, 64, 96, 128, 160, 256, 288, 512, 576, 768, 1536};
    vt_rng r = {0x9d07};
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        vi_ggml_type t = ALL_TYPES[ti];
        int64_t bs = (int64_t)vi_ggml_type_block_size(t);
        for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++) {
            int64_t K = Ks[ki];
            if (K % bs)
                continue;
            for (int rep = 0; rep < 4; rep++) {
                uint8_t *row = make_row(t, K, &r);
                float *x = malloc((size_t)K * sizeof(float));
                float *w = malloc((size_t)K * sizeof(float));
                assert_non_null(x);
                assert_non_null(w);
                for (int64_t k = 0; k < K; k++)
                    x[k] = vt_uniform(&r, -2.0f, 2.0f);
                vi_dequant_row(t, row, w, K);
                float want = vi_canon_nan(vi_dot_ref(x, 1, w, 1, K));
                float got = vi_qdot_ref(t, row, x, K);
                if (vi_f32_bits(got) != vi_f32_bits(want))
                    fail_msg("%s K=%lld rep %d: vi_qdot_ref %a, vi_dot_ref of the dequantised row "
                             "%a",
                             vi_ggml_type_name(t), (long long)K, rep, (double)got, (double)want);
                /* model-like data: the check is about real numbers, not NaN = NaN */
                assert_true(got == got && got - got == 0.0f);
                free(row);
                free(x);
                free(w);
            }
        }
    }
}

/* The canonical order is visible: a row whose value depends on where the chunk
 * boundary falls. x = 1 everywhere; w: 2^24 at k = 0, then 1s. A single
 * running sum would give 2^24 (each +1 lost); chunked sums give 2^24 + 128 at
 * K = 256: chunk 0 = 2^24 (its 127 ones lost), chunk 1 = 128 exactly. */
static void test_qdot_order(void **state)
{
    (void)state;
    uint8_t row[256 * 4];
    float x[256];
    for (int k = 0; k < 256; k++) {
        float w = k == 0 ? 16777216.0f : 1.0f;
        memcpy(row + 4 * k, &w, 4);
        x[k] = 1.0f;
    }
    assert_int_equal(vi_f32_bits(vi_qdot_ref(VI_GGML_F32, row, x, 256)),
                     vi_f32_bits(16777216.0f + 128.0f));
    /* the same through Q8_0 weights (d = 1024): w[0] = 127 * 1024, x[0] = 2^17,
     * so the first product is about 2^34 and absorbs the small terms of chunk 0 */
    uint8_t q8[8 * 34];
    for (int b = 0; b < 8; b++) {
        q8[34 * b] = 0x00, q8[34 * b + 1] = 0x64;
        for (int j = 0; j < 32; j++)
            q8[34 * b + 2 + j] = 1;
    }
    q8[2] = 127;
    float x8[256];
    for (int k = 0; k < 256; k++)
        x8[k] = k == 0 ? 131072.0f : 1.0f;
    float w8[256];
    vi_dequant_row(VI_GGML_Q8_0, q8, w8, 256);
    assert_int_equal(vi_f32_bits(w8[0]), vi_f32_bits(130048.0f));
    assert_int_equal(vi_f32_bits(vi_qdot_ref(VI_GGML_Q8_0, q8, x8, 256)),
                     vi_f32_bits(vi_dot_ref(x8, 1, w8, 1, 256)));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint8_t row[256 * 4] = {0};
    float x[256] = {0};
    /* unsupported type, K not a multiple of the block, K < 1: canonical NaN */
    assert_int_equal(vi_f32_bits(vi_qdot_ref((vi_ggml_type)6, row, x, 32)), VI_CANON_NAN_BITS);
    assert_int_equal(vi_f32_bits(vi_qdot_ref(VI_GGML_Q4_1, row, x, 48)), VI_CANON_NAN_BITS);
    assert_int_equal(vi_f32_bits(vi_qdot_ref(VI_GGML_Q4_K, row, x, 128)), VI_CANON_NAN_BITS);
    assert_int_equal(vi_f32_bits(vi_qdot_ref(VI_GGML_F32, row, x, 0)), VI_CANON_NAN_BITS);
    assert_int_equal(vi_f32_bits(vi_qdot_ref(VI_GGML_F32, row, x, 1)), 0u);
    /* vi_dequant_row writes nothing for them */
    float *out = gbuf_alloc(64);
    vi_dequant_row((vi_ggml_type)6, row, out, 32);
    vi_dequant_row(VI_GGML_Q8_0, row, out, 40);
    vi_dequant_row(VI_GGML_Q6_K, row, out, 64);
    vi_dequant_row(VI_GGML_F16, row, out, -2);
    for (int i = 0; i < 64; i++)
        assert_int_equal(vi_f32_bits(out[i]), SENTINEL);
    gbuf_check_guards(out, 64, "bad dequant_row");
    gbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_table),    cmocka_unit_test(test_edge_vectors),
        cmocka_unit_test(test_rules_by_hand), cmocka_unit_test(test_random_sweeps),
        cmocka_unit_test(test_every_half),    cmocka_unit_test(test_qdot_is_dot_of_dequant),
        cmocka_unit_test(test_qdot_order),    cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
