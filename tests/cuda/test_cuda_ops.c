/* tests/cuda/test_cuda_ops.c — the CUDA backend's kernels, executed from
 * their own source by the host emulation (cuda/compat.h), against the scalar
 * CPU reference: every op on odd and even shapes (tests/cuda/cross_check.h),
 * linear/matmul through each kernel (split-K, 64 and 128 tiles, auto), and
 * whole generated models through the engine, all compared with memcmp and
 * guard bytes. Also the backend's error paths: no device, a bad device
 * index, a bad id, failed device allocations, no leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu_backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/emu/emu_control.h"
#include "test_util.h"
#include "cross_check.h"

/* Prints each differing case (and every case with VERBOSE set). */
static void report(void *user, const xc_result *r)
{
    (void)user;
    if (!r->equal || getenv("VERBOSE"))
        print_message("%-20s %-60s %s first_diff=%lld %s\n", r->op, r->shape,
                      r->equal ? "equal" : "DIFFERENT", (long long)r->first_diff, r->note);
}

static vi_backend *cpu_ref(void)
{
    vi_error err = {{0}};
    vi_backend *b = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    if (!b)
        fail_msg("cpu backend: %s", err.msg);
    return b;
}

static vi_backend *cuda_dut(void)
{
    vi_error err = {{0}};
    vi_backend *b = vi_cuda_backend_create(0, &err);
    if (!b)
        fail_msg("cuda backend: %s", err.msg);
    return b;
}

static void test_backend_identity(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    assert_string_equal(b->name, "cuda");
    assert_true(strncmp(b->detail, "verinfer CUDA emulator sm=", 26) == 0);
    assert_non_null(strstr(b->detail, " driver="));
    assert_non_null(strstr(b->detail, " runtime="));
    b->destroy(b);
}

static void test_ops_match_cpu(void **state)
{
    (void)state;
    xc_ctx c = {cpu_ref(), cuda_dut(), report, NULL, 0, 0, 0x5eed0001u, NULL};
    xc_run_op_cases(&c);
    print_message("ops: %d cases, %d different\n", c.n_cases, c.n_diff);
    assert_int_equal(c.n_cases, 148);
    assert_int_equal(c.n_diff, 0);
    c.ref->destroy(c.ref);
    c.dut->destroy(c.dut);
}

/* Linear and matmul through each kernel, so every kernel sees every shape. */
static void test_linear_every_kernel_matches_cpu(void **state)
{
    (void)state;
    static const vi_cuda_lin_path PATHS[] = {VI_CUDA_LIN_AUTO, VI_CUDA_LIN_SPLITK,
                                             VI_CUDA_LIN_TILE64, VI_CUDA_LIN_TILE128};
    static const char *NAMES[] = {"[auto]", "[split-k]", "[tile64]", "[tile128]"};
    xc_ctx c = {cpu_ref(), cuda_dut(), report, NULL, 0, 0, 0x5eed0002u, NULL};
    vi_error err = {{0}};
    for (size_t p = 0; p < sizeof PATHS / sizeof PATHS[0]; p++) {
        assert_int_equal(vi_cuda_backend_set_linear_path(c.dut, PATHS[p], &err), VI_OK);
        c.label = NAMES[p];
        xc_linear_cases(&c, 0);
        xc_matmul_cases(&c);
    }
    print_message("linear/matmul: %d cases, %d different\n", c.n_cases, c.n_diff);
    assert_int_equal(c.n_cases, 4 * (16 + 6));
    assert_int_equal(c.n_diff, 0);
    c.ref->destroy(c.ref);
    c.dut->destroy(c.dut);
}

static void test_models_match_cpu(void **state)
{
    (void)state;
    char dir[512];
    vt_tmpdir("cuda-models", dir, sizeof dir);
    xc_ctx c = {cpu_ref(), cuda_dut(), report, NULL, 0, 0, 0x5eed0003u, NULL};
    xc_run_models(&c, dir, 64);
    print_message("models: %d outputs compared, %d different\n", c.n_cases, c.n_diff);
    assert_true(c.n_cases >= 6 * 5);
    assert_int_equal(c.n_diff, 0);
    c.ref->destroy(c.ref);
    c.dut->destroy(c.dut);
}

/* ==== the checks can fail ==== */

/* The wide test data is sensitive to the summation order: a plain sequential
 * fma chain (no 128-chunks) gives other bits than vi_dot_ref, so a kernel
 * that reordered would be caught. */
static void test_wide_data_detects_reordering(void **state)
{
    (void)state;
    xc_ctx c = {NULL, NULL, NULL, NULL, 0, 0, 0x5eed0004u, NULL};
    const int64_t K = 300, N = 64;
    float *x = xc_floats(&c, K, XC_WIDE);
    float *w = xc_floats(&c, N * K, XC_WIDE);
    int differ = 0;
    for (int64_t n = 0; n < N; n++) {
        float canon = vi_dot_ref(x, 1, w + n * K, 1, K);
        float seq = 0.0f;
        for (int64_t k = 0; k < K; k++)
            seq = __builtin_fmaf(x[k], w[n * K + k], seq);
        differ += vi_f32_bits(canon) != vi_f32_bits(seq);
    }
    assert_true(differ > N / 4);
    free(x);
    free(w);
}

/* A backend whose softmax writes one float past its output, and whose
 * rms_norm flips the low bit of element 5: the comparison must report both. */
static vi_status (*real_softmax)(vi_backend *, const float *, int64_t, int64_t, float *);
static vi_status (*real_rms)(vi_backend *, const float *, int64_t, int64_t, const float *, float,
                             float *);

static vi_status bad_softmax(vi_backend *b, const float *x, int64_t rows, int64_t D, float *y)
{
    vi_status st = real_softmax(b, x, rows, D, y);
    y[rows * D] = 0.0f;
    return st;
}

static vi_status bad_rms(vi_backend *b, const float *x, int64_t rows, int64_t D, const float *g,
                         float eps, float *y)
{
    vi_status st = real_rms(b, x, rows, D, g, eps, y);
    if (rows * D > 5)
        y[5] = vi_bits_f32(vi_f32_bits(y[5]) ^ 1u);
    return st;
}

static int n_guard, n_bits;

static void count_report(void *user, const xc_result *r)
{
    (void)user;
    if (r->equal)
        return;
    if (strstr(r->note, "guard bytes around the output were overwritten (backend under test)"))
        n_guard++;
    if (strcmp(r->op, "rms_norm") == 0 && r->first_diff == 5)
        n_bits++;
}

static void test_comparison_catches_bad_backend(void **state)
{
    (void)state;
    vi_backend *bad = cpu_ref();
    real_softmax = bad->softmax;
    real_rms = bad->rms_norm;
    bad->softmax = bad_softmax;
    bad->rms_norm = bad_rms;
    xc_ctx c = {cpu_ref(), bad, count_report, NULL, 0, 0, 0x5eed0005u, NULL};
    n_guard = n_bits = 0;
    xc_row_cases(&c);
    /* every softmax case writes past its end; every rms_norm with > 5 elements flips
     * bit 0 of element 5 */
    assert_true(n_guard >= 15);
    assert_true(n_bits >= 8);
    c.ref->destroy(c.ref);
    bad->destroy(bad);
}

/* ==== errors ==== */

static void test_no_device_is_a_clear_error(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_emu_set_device_count(0);
    vi_backend *b = vi_cuda_backend_create(0, &err);
    vi_emu_set_device_count(1);
    assert_null(b);
    assert_non_null(strstr(err.msg, "no CUDA device: "));
}

static void test_bad_device_index(void **state)
{
    (void)state;
    vi_error err = {{0}};
    assert_null(vi_cuda_backend_create(3, &err));
    assert_string_equal(err.msg, "CUDA device 3 does not exist (1 device: 0..0)");
    assert_null(vi_cuda_backend_create(-1, &err));
    assert_string_equal(err.msg, "CUDA device -1 does not exist (1 device: 0..0)");
}

static void test_set_linear_path_checks(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_backend *cpu = cpu_ref();
    assert_int_equal(vi_cuda_backend_set_linear_path(cpu, VI_CUDA_LIN_TILE64, &err),
                     VI_ERR_INVALID);
    assert_string_equal(err.msg, "set_linear_path: backend 'cpu' is not a CUDA backend");
    cpu->destroy(cpu);
    vi_backend *b = cuda_dut();
    assert_int_equal(vi_cuda_backend_set_linear_path(b, 9, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "set_linear_path: unknown path 9");
    b->destroy(b);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    vi_error err = {{0}};
    void *prep = (void *)1;
    float w[4] = {1, 2, 3, 4};
    assert_int_equal(b->linear_prepare(b, w, 0, 4, 1, NULL, &prep, &err), VI_ERR_INVALID);
    assert_null(prep);
    assert_string_equal(err.msg, "linear prepare: N and K must be >= 1 (got N=0, K=4)");
    assert_int_equal(b->linear_prepare(b, NULL, 2, 2, 1, NULL, &prep, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "linear prepare: the weight [2, 2] has no data");
    assert_int_equal(b->linear_prepare(b, w, INT64_MAX - 3, 2, 1, NULL, &prep, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg,
                        "linear prepare: the weight [9223372036854775804, 2] is too large");
    const float *cp = NULL;
    assert_int_equal(b->const_prepare(b, NULL, 3, &cp, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "constant of 3 elements has no data");
    float *d = b->alloc(b, 64);
    assert_non_null(d);
    assert_int_equal(b->binary(b, VI_OP_ADD, d, 6, d, 4, d), VI_ERR_INVALID); /* 6 % 4 != 0 */
    assert_int_equal(b->unary(b, VI_OP_SOFTMAX, 0, d, 4, d), VI_ERR_INVALID);
    assert_int_equal(b->argmax(b, d, 2, 0, (int64_t *)(void *)d), VI_ERR_INVALID);
    assert_int_equal(b->softmax(b, d, INT64_MAX, 2, d), VI_ERR_LIMIT);
    assert_int_equal(b->matmul(b, d, d, 1, -1, 2, 2, d), VI_ERR_INVALID);
    b->free(b, d);
    b->destroy(b);
}

static void test_embedding_bad_id(void **state)
{
    (void)state;
    vi_backend *b = cuda_dut();
    float table[6] = {1, 2, 3, 4, 5, 6}; /* [3, 2] */
    int64_t ids[2] = {1, 3};
    float *dt = b->alloc(b, sizeof table);
    int64_t *di = b->alloc(b, sizeof ids);
    float *dy = b->alloc(b, 4 * sizeof(float));
    assert_int_equal(b->upload(b, dt, table, sizeof table), VI_OK);
    assert_int_equal(b->upload(b, di, ids, sizeof ids), VI_OK);
    assert_int_equal(b->embedding(b, di, 2, dt, 3, 2, dy), VI_ERR_INVALID);
    ids[1] = 2;
    assert_int_equal(b->upload(b, di, ids, sizeof ids), VI_OK);
    assert_int_equal(b->embedding(b, di, 2, dt, 3, 2, dy), VI_OK);
    float y[4];
    assert_int_equal(b->download(b, y, dy, sizeof y), VI_OK);
    assert_true(y[0] == 3.0f && y[1] == 4.0f && y[2] == 5.0f && y[3] == 6.0f);
    b->free(b, dt);
    b->free(b, di);
    b->free(b, dy);
    b->destroy(b);
}

static void test_device_allocation_failures(void **state)
{
    (void)state;
    long live0 = vi_emu_live_allocations();
    vi_backend *b = cuda_dut();
    vi_error err = {{0}};
    float w[6] = {1, 2, 3, 4, 5, 6}, bias[2] = {1, 2};
    void *prep = NULL;
    /* the weight itself, then the bias */
    for (long after = 0; after <= 1; after++) {
        vi_emu_fail_alloc_after(after);
        vi_status st = b->linear_prepare(b, w, 2, 3, 1, bias, &prep, &err);
        vi_emu_fail_alloc_after(-1);
        assert_int_equal(st, VI_ERR_NOMEM);
        assert_null(prep);
        assert_string_equal(err.msg, after == 0
                                         ? "linear prepare: out of device memory for the weight "
                                           "[2, 3] (1536 bytes)"
                                         : "linear prepare: out of device memory for the bias [2]");
    }
    const float *cp = NULL;
    vi_emu_fail_alloc_after(0);
    assert_int_equal(b->const_prepare(b, w, 6, &cp, &err), VI_ERR_NOMEM);
    assert_null(b->alloc(b, 16));
    vi_emu_fail_alloc_after(-1);
    assert_string_equal(err.msg, "out of device memory for a constant of 6 elements");
    /* the split-K workspace */
    assert_int_equal(b->linear_prepare(b, w, 2, 3, 1, bias, &prep, &err), VI_OK);
    float *dx = b->alloc(b, 3 * sizeof(float)), *dy = b->alloc(b, 2 * sizeof(float));
    assert_int_equal(vi_cuda_backend_set_linear_path(b, VI_CUDA_LIN_SPLITK, &err), VI_OK);
    vi_emu_fail_alloc_after(0);
    assert_int_equal(b->linear(b, prep, dx, 1, dy), VI_ERR_NOMEM);
    vi_emu_fail_alloc_after(-1);
    float x[3] = {1, 1, 1}, y[2];
    assert_int_equal(b->upload(b, dx, x, sizeof x), VI_OK);
    assert_int_equal(b->linear(b, prep, dx, 1, dy), VI_OK);
    assert_int_equal(b->download(b, y, dy, sizeof y), VI_OK);
    assert_true(y[0] == 7.0f && y[1] == 17.0f); /* 1+2+3 + 1, 4+5+6 + 2 */
    b->linear_release(b, prep);
    b->free(b, dx);
    b->free(b, dy);
    b->destroy(b);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_identity),
        cmocka_unit_test(test_wide_data_detects_reordering),
        cmocka_unit_test(test_comparison_catches_bad_backend),
        cmocka_unit_test(test_ops_match_cpu),
        cmocka_unit_test(test_linear_every_kernel_matches_cpu),
        cmocka_unit_test(test_models_match_cpu),
        cmocka_unit_test(test_no_device_is_a_clear_error),
        cmocka_unit_test(test_bad_device_index),
        cmocka_unit_test(test_set_linear_path_checks),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_embedding_bad_id),
        cmocka_unit_test(test_device_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
