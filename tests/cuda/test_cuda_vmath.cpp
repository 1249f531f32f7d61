/* tests/cuda/test_cuda_vmath.cpp — verinfer's own math (core/vmath.h) as
 * kernel code: one kernel evaluates every function through the host
 * emulation (VI_LAUNCH, compiled as C++ exactly as cuda/<op>.cu are) over the
 * 2^22 bit patterns i * 0x9e3779b1 of tests/core/test_vmath.c, and each output
 * digest must equal the one pinned there for the C build. So the C and the
 * kernel compilation of the same source give the same bits, in every CI run;
 * bench/gpu_conformance.c compares a real GPU the same way. */
#include "cuda/compat.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/vmath.h"

extern "C" {
#include <cmocka.h>

#include "test_util.h"
}

#define N_INPUTS (1u << 22)

enum { FN_EXP, FN_EXPM1, FN_TANH, FN_ERF, FN_SIGMOID, FN_SQRT, FN_RSQRT, FN_LOG, FN_SIN, FN_COS };

/* y[i] = fn(float with bits i * 0x9e3779b1), grid-stride over [0, n). */
__global__ void vmath_digest_kernel(int fn, float *y, unsigned n)
{
    unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float x = vi_bits_f32(i * 0x9e3779b1u);
        float r;
        switch (fn) {
        case FN_EXP:
            r = vi_expf(x);
            break;
        case FN_EXPM1:
            r = vi_expm1f(x);
            break;
        case FN_TANH:
            r = vi_tanhf(x);
            break;
        case FN_ERF:
            r = vi_erff(x);
            break;
        case FN_SIGMOID:
            r = vi_sigmoidf(x);
            break;
        case FN_SQRT:
            r = vi_sqrtf(x);
            break;
        case FN_RSQRT:
            r = vi_rsqrtf(x);
            break;
        case FN_LOG:
            r = vi_logf(x);
            break;
        case FN_SIN:
            r = vi_sinf(x);
            break;
        default:
            r = vi_cosf(x);
            break;
        }
        y[i] = r;
    }
}

/* FNV-1a over the output bits in input order, NaN as 0x7fc00000 (as test_vmath.c). */
static uint64_t digest(const float *y, unsigned n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < n; i++) {
        uint32_t b = isnan(y[i]) ? 0x7fc00000u : vi_f32_bits(y[i]);
        for (int k = 0; k < 4; k++) {
            h ^= (b >> (8 * k)) & 0xffu;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

static void test_kernel_digests_match_c(void **state)
{
    (void)state;
    /* the digests of tests/core/test_vmath.c (test_output_digests) */
    static const struct {
        const char *name;
        int fn;
        uint64_t digest;
    } D[] = {
        {"exp", FN_EXP, 0x35816345e6f5385full},         {"expm1", FN_EXPM1, 0x05d3c0a3558ceb96ull},
        {"tanh", FN_TANH, 0x10e29c6da2bd6938ull},       {"erf", FN_ERF, 0xe52f5c8ebed71e7aull},
        {"sigmoid", FN_SIGMOID, 0x92db48a1beecea3bull}, {"sqrt", FN_SQRT, 0x5933331cdf0ad56full},
        {"rsqrt", FN_RSQRT, 0x35591b77451722b5ull},     {"log", FN_LOG, 0xcc53ac3d67eb6d2cull},
        {"sin", FN_SIN, 0xff8120d572bfb5fcull},         {"cos", FN_COS, 0x2992b5006efe1226ull},
    };
    float *dy = NULL;
    float *y = (float *)malloc(N_INPUTS * sizeof(float));
    assert_non_null(y);
    assert_int_equal(cudaMalloc(&dy, N_INPUTS * sizeof(float)), cudaSuccess);
    int bad = 0;
    for (size_t i = 0; i < sizeof D / sizeof D[0]; i++) {
        VI_LAUNCH(vmath_digest_kernel, 64u, 256u, 0, 0, D[i].fn, dy, N_INPUTS);
        assert_int_equal(cudaGetLastError(), cudaSuccess);
        assert_int_equal(cudaMemcpy(y, dy, N_INPUTS * sizeof(float), cudaMemcpyDeviceToHost),
                         cudaSuccess);
        uint64_t h = digest(y, N_INPUTS);
        if (h != D[i].digest) {
            print_message("%s: kernel output digest %016llx, the C build's %016llx\n", D[i].name,
                          (unsigned long long)h, (unsigned long long)D[i].digest);
            bad = 1;
        }
    }
    cudaFree(dy);
    free(y);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_digests_match_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
