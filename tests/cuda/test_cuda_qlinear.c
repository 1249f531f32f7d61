/* tests/cuda/test_cuda_qlinear.c — the CUDA quantised linear
 * (cuda/qlinear.cu), executed from its own source by the host emulation,
 * against vi_qdot_ref (core/quant.h): every GGUF type, M 1..5 (and row
 * counts spanning several prefill groups), odd N, K multiples of the block
 * that are and are not multiples of 128, both kernels, compared with memcmp
 * inside guard bytes; NaN/inf scales and inputs; a worker sharing the
 * weights; the device-pointer entry; bad arguments; no leaked pool blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/quant.h"
#include "cpu/cpu_backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_pool.h"
#include "cuda/qlinear_cuda.h"
#include "test_util.h"

#define GUARD 64
#define GUARD_BYTE 0xa5

static const vi_ggml_type TYPES[] = {VI_GGML_F32,  VI_GGML_F16,  VI_GGML_BF16, VI_GGML_Q4_0,
                                     VI_GGML_Q4_1, VI_GGML_Q8_0, VI_GGML_Q4_K, VI_GGML_Q6_K};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static vi_backend *gpu(void)
{
    vi_error err = {{0}};
    vi_backend *b = vi_cuda_backend_create(0, &err);
    if (!b)
        fail_msg("cuda backend: %s", err.msg);
    return b;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A finite f16 of random sign with exponent 2^-10 .. 2^5. */
static uint16_t rand_f16(uint64_t *s)
{
    uint64_t r = rng_next(s);
    return (uint16_t)(((r & 1) << 15) | ((5 + (r >> 1) % 16) << 10) | ((r >> 8) & 0x3ff));
}

/* A float of random sign over 2^-12 .. 2^12: reordering the sums shows. */
static float rand_wide(uint64_t *s)
{
    uint64_t r = rng_next(s);
    uint32_t bits = (uint32_t)((r & 1) << 31) | (uint32_t)((127 - 12 + (r >> 1) % 25) << 23) |
                    (uint32_t)((r >> 8) & 0x7fffff);
    return vi_bits_f32(bits);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* N rows of K elements of type t: random quants, finite random scales
 * (special: raw random 16-bit values and scales, NaN and inf included). */
static uint8_t *make_weight(vi_ggml_type t, int64_t N, int64_t K, int special, uint64_t *s,
                            size_t *bytes)
{
    size_t bs = vi_ggml_type_block_size(t), bb = vi_ggml_type_block_bytes(t);
    size_t nblk = (size_t)(N * K) / bs;
    *bytes = nblk * bb;
    uint8_t *w = malloc(*bytes);
    assert_non_null(w);
    for (size_t i = 0; i < *bytes; i++)
        w[i] = (uint8_t)rng_next(s);
    for (size_t b = 0; b < nblk; b++) {
        uint8_t *p = w + b * bb;
        if (t == VI_GGML_F32) {
            float f = rand_wide(s);
            memcpy(p, &f, 4);
            continue;
        }
        if (special && rng_next(s) % 8 != 0)
            continue; /* keep the raw bytes: any f16/bf16, any scale */
        static const uint16_t SPECIAL[] = {0x7c00, 0xfc00, 0x7e00, 0x0001, 0x8000, 0x0000};
        uint16_t h = special ? SPECIAL[rng_next(s) % 6] : rand_f16(s);
        switch (t) {
        case VI_GGML_F16:
            put16(p, h);
            break;
        case VI_GGML_BF16: /* a finite bf16 of the same scale */
            put16(p, special ? (uint16_t)((h & 0x8000) | (h == 0x7c00 || h == 0xfc00 ? 0x7f80 : h))
                             : (uint16_t)((vi_f32_bits(vi_f16_to_f32(h)) >> 16)));
            break;
        case VI_GGML_Q4_0:
        case VI_GGML_Q8_0:
            put16(p, h);
            break;
        case VI_GGML_Q4_1:
        case VI_GGML_Q4_K:
            put16(p, h);
            put16(p + 2, special ? h : rand_f16(s));
            break;
        case VI_GGML_Q6_K:
            put16(p + 208, h);
            break;
        default:
            break;
        }
    }
    return w;
}

/* The expected y [M, N] from vi_qdot_ref. */
static float *reference(vi_ggml_type t, const uint8_t *w, int64_t N, int64_t K, const float *x,
                        int64_t M)
{
    size_t row_bytes = (size_t)K / vi_ggml_type_block_size(t) * vi_ggml_type_block_bytes(t);
    float *y = malloc((size_t)(M * N) * sizeof *y);
    assert_non_null(y);
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++)
            y[m * N + n] = vi_qdot_ref(t, w + (size_t)n * row_bytes, x + m * K, K);
    return y;
}

/* Runs q on x [M, K] through the host entry into a guarded buffer and
 * compares with want; returns 1 when identical with intact guards. */
static int run_and_compare(const vi_cuda_qlinear *q, vi_backend *b, vi_ggml_type t, int64_t N,
                           int64_t K, const float *x, int64_t M, const float *want,
                           const char *label)
{
    size_t yb = (size_t)(M * N) * sizeof(float);
    uint8_t *buf = malloc(yb + 2 * GUARD);
    assert_non_null(buf);
    memset(buf, GUARD_BYTE, yb + 2 * GUARD);
    vi_error err = {{0}};
    vi_status st = vi_cuda_qlinear_run_host(q, b, x, M, (float *)(void *)(buf + GUARD), &err);
    if (st != VI_OK)
        fail_msg("%s %s N=%lld K=%lld M=%lld: %s", vi_ggml_type_name(t), label, (long long)N,
                 (long long)K, (long long)M, err.msg);
    int ok = 1;
    for (int i = 0; i < GUARD; i++)
        if (buf[i] != GUARD_BYTE || buf[GUARD + yb + (size_t)i] != GUARD_BYTE)
            ok = 0;
    if (!ok)
        print_message("%s %s N=%lld K=%lld M=%lld: guard bytes overwritten\n",
                      vi_ggml_type_name(t), label, (long long)N, (long long)K, (long long)M);
    if (ok && memcmp(buf + GUARD, want, yb) != 0) {
        ok = 0;
        const uint32_t *g = (const uint32_t *)(void *)(buf + GUARD);
        for (int64_t i = 0; i < M * N; i++)
            if (g[i] != vi_f32_bits(want[i])) {
                print_message("%s %s N=%lld K=%lld M=%lld: first difference at m=%lld n=%lld: "
                              "got %08x want %08x\n",
                              vi_ggml_type_name(t), label, (long long)N, (long long)K,
                              (long long)M, (long long)(i / N), (long long)(i % N), g[i],
                              vi_f32_bits(want[i]));
                break;
            }
    }
    free(buf);
    return ok;
}

static const char *KERNEL_LABEL[] = {"auto", "decode", "prefill"};

/* One weight of (t, N, K): every M in ms, each kernel; returns the number of
 * differing runs. */
static int check_shape(vi_backend *b, vi_ggml_type t, int64_t N, int64_t K, const int64_t *ms,
                       int n_ms, int special, uint64_t *s)
{
    size_t bytes;
    uint8_t *w = make_weight(t, N, K, special, s, &bytes);
    vi_error err = {{0}};
    vi_cuda_qlinear *q = NULL;
    if (vi_cuda_qlinear_prepare(&q, b, t, w, N, K, &err) != VI_OK)
        fail_msg("prepare %s N=%lld K=%lld: %s", vi_ggml_type_name(t), (long long)N,
                 (long long)K, err.msg);
    int bad = 0;
    for (int i = 0; i < n_ms; i++) {
        int64_t M = ms[i];
        float *x = malloc((size_t)(M * K) * sizeof *x);
        assert_non_null(x);
        for (int64_t j = 0; j < M * K; j++) {
            x[j] = rand_wide(s);
            if (special && rng_next(s) % 97 == 0)
                x[j] = vi_bits_f32(rng_next(s) % 2 ? 0x7fc00000u : 0xff800000u);
        }
        float *want = reference(t, w, N, K, x, M);
        for (int k = VI_CUDA_QLIN_AUTO; k <= VI_CUDA_QLIN_PREFILL; k++) {
            assert_int_equal(vi_cuda_qlinear_set_kernel(q, k, &err), VI_OK);
            bad += !run_and_compare(q, b, t, N, K, x, M, want, KERNEL_LABEL[k]);
        }
        free(want);
        free(x);
    }
    vi_cuda_qlinear_free(q);
    free(w);
    return bad;
}

/* Every type, M 1..5, N 1/7/33/100, K the block multiples in 32..640 (and
 * 768 for the 256-blocks), both kernels. */
static void test_all_types_shapes(void **state)
{
    (void)state;
    vi_backend *b = gpu();
    static const int64_t NS[] = {1, 7, 33, 100};
    static const int64_t KS[] = {32, 64, 96, 128, 160, 256, 384, 416, 512, 640, 768};
    static const int64_t MS[] = {1, 2, 3, 4, 5};
    uint64_t s = 0x51ab1e5eedull;
    int bad = 0, cases = 0;
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        vi_ggml_type t = TYPES[ti];
        int64_t bs = (int64_t)vi_ggml_type_block_size(t);
        for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
            for (size_t ki = 0; ki < sizeof KS / sizeof KS[0]; ki++) {
                int64_t K = KS[ki];
                if (K % bs != 0 || (K == 768 && bs != VI_QK_K))
                    continue;
                bad += check_shape(b, t, NS[ni], K, MS, 5, 0, &s);
                cases += 5 * 3;
            }
    }
    print_message("qlinear: %d runs, %d different\n", cases, bad);
    assert_int_equal(bad, 0);
    b->destroy(b);
}

/* Row counts over several prefill groups of 8 (and the last one partial). */
static void test_many_rows(void **state)
{
    (void)state;
    vi_backend *b = gpu();
    static const int64_t MS[] = {8, 9, 17, 31};
    uint64_t s = 0x0dd5eedull;
    int bad = check_shape(b, VI_GGML_Q4_1, 33, 576, MS, 4, 0, &s);
    bad += check_shape(b, VI_GGML_Q8_0, 7, 1536, MS, 4, 0, &s);
    bad += check_shape(b, VI_GGML_Q6_K, 5, 4352, MS, 2, 0, &s); /* 34 chunks: two rounds */
    assert_int_equal(bad, 0);
    b->destroy(b);
}

/* NaN / inf / zero / subnormal scales and raw 16-bit values, NaN and -inf in
 * x: the canonical NaN everywhere the reference writes it. */
static void test_special_values(void **state)
{
    (void)state;
    vi_backend *b = gpu();
    static const int64_t MS[] = {1, 3};
    uint64_t s = 0xbadf00dull;
    int bad = 0;
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        int64_t K = vi_ggml_type_block_size(TYPES[ti]) == VI_QK_K ? 512 : 160;
        bad += check_shape(b, TYPES[ti], 33, K, MS, 2, 1, &s);
    }
    assert_int_equal(bad, 0);
    b->destroy(b);
}

/* A worker sharing the weights runs them; the device-pointer entry; M == 0. */
static void test_worker_and_device_entry(void **state)
{
    (void)state;
    vi_backend *b = gpu();
    vi_error err = {{0}};
    vi_backend *wk = vi_cuda_backend_create_worker(b, &err);
    assert_non_null(wk);
    uint64_t s = 42;
    const int64_t N = 33, K = 192, M = 3;
    size_t bytes;
    uint8_t *w = make_weight(VI_GGML_Q4_1, N, K, 0, &s, &bytes);
    float x[3 * 192];
    for (int i = 0; i < M * K; i++)
        x[i] = rand_wide(&s);
    float *want = reference(VI_GGML_Q4_1, w, N, K, x, M);
    vi_cuda_qlinear *q = NULL;
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_Q4_1, w, N, K, &err), VI_OK);
    assert_true(run_and_compare(q, wk, VI_GGML_Q4_1, N, K, x, M, want, "worker"));

    float *dx = wk->alloc(wk, sizeof x), *dy = wk->alloc(wk, (size_t)(M * N) * sizeof(float));
    assert_non_null(dx);
    assert_non_null(dy);
    assert_int_equal(wk->upload(wk, dx, x, sizeof x), VI_OK);
    assert_int_equal(vi_cuda_qlinear_run(q, wk, dx, M, dy, &err), VI_OK);
    float got[3 * 33];
    assert_int_equal(wk->download(wk, got, dy, sizeof got), VI_OK);
    assert_memory_equal(got, want, sizeof got);
    assert_int_equal(vi_cuda_qlinear_run(q, wk, NULL, 0, NULL, &err), VI_OK);
    assert_int_equal(vi_cuda_qlinear_run_host(q, wk, NULL, 0, NULL, &err), VI_OK);
    wk->free(wk, dx);
    wk->free(wk, dy);

    vi_cuda_qlinear_free(q);
    vi_cuda_qlinear_free(NULL);
    free(want);
    free(w);
    wk->destroy(wk);
    b->destroy(b);
}

/* Bad arguments: exact status and the distinctive part of the message. */
static void test_bad_arguments(void **state)
{
    (void)state;
    vi_backend *b = gpu(), *other = gpu();
    vi_error err = {{0}};
    vi_backend *cpu = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    assert_non_null(cpu);
    uint8_t w[20 * 4] = {0};
    vi_cuda_qlinear *q = (vi_cuda_qlinear *)(uintptr_t)1;

    assert_int_equal(vi_cuda_qlinear_prepare(&q, cpu, VI_GGML_Q4_1, w, 2, 64, &err),
                     VI_ERR_INVALID);
    assert_null(q);
    assert_non_null(strstr(err.msg, "backend 'cpu' is not a CUDA backend"));
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, (vi_ggml_type)7, w, 2, 64, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "unsupported weight type 7"));
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_Q4_1, w, 2, 48, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "K = 48 is not a positive multiple of the Q4_1 block (32)"));
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_Q4_K, w, 1, 0, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "K = 0 is not a positive multiple of the Q4_K block (256)"));
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_Q8_0, w, 0, 32, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "N = 0, need at least 1 row"));
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_F32, w, INT64_MAX / 2, 32, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "F32 weight is too large"));
    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_Q4_1, NULL, 2, 64, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "weight data is NULL"));

    assert_int_equal(vi_cuda_qlinear_prepare(&q, b, VI_GGML_Q4_1, w, 2, 64, &err), VI_OK);
    float x[64] = {0}, y[2];
    assert_int_equal(vi_cuda_qlinear_set_kernel(q, 9, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "unknown kernel 9"));
    assert_int_equal(vi_cuda_qlinear_run_host(q, other, x, 1, y, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "does not share the weights"));
    assert_int_equal(vi_cuda_qlinear_run_host(q, cpu, x, 1, y, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "backend 'cpu' does not share"));
    assert_int_equal(vi_cuda_qlinear_run_host(q, b, x, -1, y, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "M = -1 is negative"));
    assert_int_equal(vi_cuda_qlinear_run_host(q, b, x, INT64_MAX / 8, y, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "rows overflow the buffer sizes"));
    assert_int_equal(vi_cuda_qlinear_run_host(q, b, NULL, 1, y, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "qlinear_run_host: x is NULL"));
    assert_int_equal(vi_cuda_qlinear_run(q, b, x, 1, NULL, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "qlinear_run: y is NULL"));
    assert_int_equal(vi_cuda_qlinear_run_host(NULL, b, x, 1, y, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "weight is NULL"));
    /* zero weights and inputs: +0 */
    assert_int_equal(vi_cuda_qlinear_run_host(q, b, x, 1, y, &err), VI_OK);
    assert_int_equal(vi_f32_bits(y[0]), 0u);
    assert_int_equal(vi_f32_bits(y[1]), 0u);
    vi_cuda_qlinear_free(q);

    /* every pool block given back */
    vi_cuda_pool_stats st;
    assert_int_equal(vi_cuda_backend_pool_stats(b, &st, &err), VI_OK);
    assert_int_equal(st.in_use_blocks, 0);
    cpu->destroy(cpu);
    other->destroy(other);
    b->destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_worker_and_device_entry),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_all_types_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
