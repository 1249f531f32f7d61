/* bench/gpu_conformance.c — the GPU conformance suite: on a machine with a
 * CUDA GPU, runs every op (tests/cuda/cross_check.h: odd and even shapes,
 * linear through each kernel, decode/prefill-sized layers), the quantised
 * linear of every GGUF type (cuda/qlinear.cu against vi_qdot_ref), verinfer's own
 * math (core/vmath.h) and every generated test model on the GPU backend and
 * on the scalar CPU backend, and compares the bits; then runs every model in
 * fast mode (cuBLAS, TF32, on a worker sharing the weights) and checks each
 * output within the model's fast-mode tolerance (rows "fast", always printed
 * with the largest deviations). Prints a table
 *     op | shape | equal/different (fast: within/OUTSIDE) | first differing index
 * and exits 1 on any difference, 0 when all are equal, and 77 (ctest's skip
 * code) with "skipped: no CUDA device ..." when there is no GPU or driver or
 * the program was built without CUDA.
 *
 * usage: gpu_conformance [--device N] [--verbose]  (failures are always printed) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* first: core/tensor.h's plain declaration of vi_bf16_to_f32 must follow
 * quant.h's inline definition */
#include "core/quant.h"
#include "cpu/cpu_backend.h"
#include "tests/cuda/cross_check.h"

#ifdef VERINFER_HAVE_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/fast_cublas.h"
#include "cuda/qlinear_cuda.h"
#include "cuda/vmath_eval.h"
#endif

typedef struct table {
    int verbose;
} table;

static void print_row(void *user, const xc_result *r)
{
    const table *t = user;
    int fast = strcmp(r->op, "fast") == 0;
    if (r->equal && !t->verbose && !fast)
        return;
    char first[32] = "-";
    if (r->first_diff >= 0)
        snprintf(first, sizeof first, "%lld", (long long)r->first_diff);
    const char *verdict =
        fast ? (r->equal ? "within" : "OUTSIDE") : (r->equal ? "equal" : "DIFFERENT");
    printf("%-20s | %-66s | %-9s | %s\n", r->op, r->shape, verdict, first);
    if ((!r->equal || fast) && r->note[0])
        printf("%-20s   %s\n", "", r->note);
    fflush(stdout);
}

#ifdef VERINFER_HAVE_CUDA
/* Evaluates each function of core/vmath.h on the GPU for about 2^20 inputs
 * spread over all float bit patterns (stride 4099 from 0) and compares them
 * with the host evaluation of the same source. */
static void vmath_cases(xc_ctx *c)
{
    static const char *NAMES[] = {"vi_expf",   "vi_expm1f", "vi_tanhf", "vi_erff", "vi_sigmoidf",
                                  "vi_rsqrtf", "vi_sqrtf",  "vi_logf",  "vi_sinf", "vi_cosf"};
    const long long n = (long long)((1ull << 32) / 4099) + 1;
    float *x = malloc((size_t)n * sizeof *x), *yg = malloc((size_t)n * sizeof *yg);
    if (!x || !yg) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (long long i = 0; i < n; i++)
        x[i] = vi_bits_f32((uint32_t)((uint64_t)i * 4099u));
    for (int fn = VI_CUDA_FN_EXP; fn <= VI_CUDA_FN_COS; fn++) {
        xc_result r;
        memset(&r, 0, sizeof r);
        r.op = NAMES[fn];
        r.first_diff = -1;
        r.equal = 1;
        snprintf(r.shape, sizeof r.shape, "n=%lld bit patterns, stride 4099", n);
        char err[256] = "";
        if (vi_cuda_vmath_eval(fn, x, yg, n, err, sizeof err) != 0) {
            r.equal = 0;
            snprintf(r.note, sizeof r.note, "%s", err);
        }
        for (long long i = 0; r.equal && i < n; i++) {
            float h;
            switch (fn) {
            case VI_CUDA_FN_EXP:
                h = vi_expf(x[i]);
                break;
            case VI_CUDA_FN_EXPM1:
                h = vi_expm1f(x[i]);
                break;
            case VI_CUDA_FN_TANH:
                h = vi_tanhf(x[i]);
                break;
            case VI_CUDA_FN_ERF:
                h = vi_erff(x[i]);
                break;
            case VI_CUDA_FN_SIGMOID:
                h = vi_sigmoidf(x[i]);
                break;
            case VI_CUDA_FN_RSQRT:
                h = vi_rsqrtf(x[i]);
                break;
            case VI_CUDA_FN_LOG:
                h = vi_logf(x[i]);
                break;
            case VI_CUDA_FN_SIN:
                h = vi_sinf(x[i]);
                break;
            case VI_CUDA_FN_COS:
                h = vi_cosf(x[i]);
                break;
            default:
                h = vi_sqrtf(x[i]);
                break;
            }
            /* NaNs compare as NaN: devices differ in payloads (order.h) */
            int same = (h != h && yg[i] != yg[i]) || vi_f32_bits(h) == vi_f32_bits(yg[i]);
            if (!same) {
                r.equal = 0;
                r.first_diff = i;
                snprintf(r.note, sizeof r.note, "x=%a: host %a, gpu %a", (double)x[i], (double)h,
                         (double)yg[i]);
            }
        }
        c->n_cases++;
        c->n_diff += !r.equal;
        print_row(c->user, &r);
    }
    free(x);
    free(yg);
}

/* The quantised linear (cuda/qlinear.cu) of every GGUF type against
 * vi_qdot_ref on the host: random quants, finite random scales, inputs of
 * wide range; the shapes of SmolLM2-135M's layers (decode M = 1, prefill
 * M = 7) and an odd one, through both kernels. */
static void qlinear_cases(xc_ctx *c, vi_backend *gpu)
{
    static const vi_ggml_type TYPES[] = {VI_GGML_F32,  VI_GGML_F16,  VI_GGML_BF16,
                                         VI_GGML_Q4_0, VI_GGML_Q4_1, VI_GGML_Q8_0,
                                         VI_GGML_Q4_K, VI_GGML_Q6_K};
    static const struct {
        int64_t N, K, M;
    } SHAPES[] = {{576, 576, 1}, {1536, 576, 1}, {576, 1536, 1}, {576, 1536, 7}, {100, 4352, 5}};
    static const char *KLABEL[] = {"auto", "decode", "prefill"};
    for (size_t ti = 0; ti < sizeof TYPES / sizeof TYPES[0]; ti++) {
        vi_ggml_type t = TYPES[ti];
        size_t bs = vi_ggml_type_block_size(t), bb = vi_ggml_type_block_bytes(t);
        for (size_t si = 0; si < sizeof SHAPES / sizeof SHAPES[0]; si++) {
            int64_t N = SHAPES[si].N, K = SHAPES[si].K, M = SHAPES[si].M;
            if ((size_t)K % bs != 0)
                continue;
            size_t row_bytes = (size_t)K / bs * bb, wbytes = (size_t)N * row_bytes;
            uint8_t *w = malloc(wbytes);
            float *x = malloc((size_t)(M * K) * sizeof *x);
            float *want = malloc((size_t)(M * N) * sizeof *want);
            float *got = malloc((size_t)(M * N) * sizeof *got);
            if (!w || !x || !want || !got) {
                fprintf(stderr, "out of memory\n");
                exit(2);
            }
            for (size_t i = 0; i < wbytes; i++)
                w[i] = (uint8_t)xc_next(c);
            for (size_t b = 0; b < wbytes / bb; b++) {
                uint8_t *p = w + b * bb;
                /* finite scales / values: f16 exponent 2^-10 .. 2^5 */
                uint16_t h = (uint16_t)(((xc_next(c) & 1) << 15) | ((5 + xc_next(c) % 16) << 10) |
                                        (xc_next(c) & 0x3ff));
                if (t == VI_GGML_F32) {
                    float f = xc_value(c, XC_WIDE);
                    memcpy(p, &f, 4);
                } else if (t == VI_GGML_BF16) {
                    uint16_t v = (uint16_t)(vi_f32_bits(vi_f16_to_f32(h)) >> 16);
                    p[0] = (uint8_t)v;
                    p[1] = (uint8_t)(v >> 8);
                } else {
                    size_t at = t == VI_GGML_Q6_K ? 208 : 0;
                    p[at] = (uint8_t)h;
                    p[at + 1] = (uint8_t)(h >> 8);
                    if (t == VI_GGML_Q4_1 || t == VI_GGML_Q4_K) {
                        p[2] = (uint8_t)(h ^ 0x15);
                        p[3] = (uint8_t)(h >> 8);
                    }
                }
            }
            for (int64_t i = 0; i < M * K; i++)
                x[i] = xc_value(c, XC_WIDE);
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++)
                    want[m * N + n] = vi_qdot_ref(t, w + (size_t)n * row_bytes, x + m * K, K);
            vi_error err = {{0}};
            vi_cuda_qlinear *q = NULL;
            vi_status pst = vi_cuda_qlinear_prepare(&q, gpu, t, w, N, K, &err);
            for (int k = VI_CUDA_QLIN_AUTO; k <= VI_CUDA_QLIN_PREFILL; k++) {
                xc_result r;
                memset(&r, 0, sizeof r);
                r.op = "qlinear";
                r.first_diff = -1;
                r.equal = 1;
                snprintf(r.shape, sizeof r.shape, "%s N=%lld K=%lld M=%lld [%s]",
                         vi_ggml_type_name(t), (long long)N, (long long)K, (long long)M,
                         KLABEL[k]);
                memset(got, 0xa5, (size_t)(M * N) * sizeof *got);
                vi_status st = pst;
                if (st == VI_OK)
                    st = vi_cuda_qlinear_set_kernel(q, k, &err);
                if (st == VI_OK)
                    st = vi_cuda_qlinear_run_host(q, gpu, x, M, got, &err);
                if (st != VI_OK) {
                    r.equal = 0;
                    snprintf(r.note, sizeof r.note, "%.200s", err.msg);
                } else if (memcmp(got, want, (size_t)(M * N) * sizeof *got) != 0) {
                    r.equal = 0;
                    for (int64_t i = 0; i < M * N; i++)
                        if (vi_f32_bits(got[i]) != vi_f32_bits(want[i])) {
                            r.first_diff = i;
                            snprintf(r.note, sizeof r.note, "gpu %08x, cpu %08x",
                                     (unsigned)vi_f32_bits(got[i]), (unsigned)vi_f32_bits(want[i]));
                            break;
                        }
                }
                c->n_cases++;
                c->n_diff += !r.equal;
                print_row(c->user, &r);
            }
            vi_cuda_qlinear_free(q);
            free(w);
            free(x);
            free(want);
            free(got);
        }
    }
}
#endif

int main(int argc, char **argv)
{
    int device = 0;
    table t = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = atoi(argv[++i]);
        else if (strcmp(argv[i], "--verbose") == 0)
            t.verbose = 1;
        else {
            fprintf(stderr, "usage: %s [--device N] [--verbose]\n", argv[0]);
            return 2;
        }
    }
#ifndef VERINFER_HAVE_CUDA
    (void)device;
    (void)t;
    (void)print_row;
    printf("skipped: no CUDA device (built without the CUDA backend)\n");
    return 77;
#else
    vi_error err = {{0}};
    vi_backend *gpu = vi_cuda_backend_create(device, &err);
    if (!gpu) {
        printf("skipped: %s\n", err.msg);
        return 77;
    }
    vi_backend *cpu = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    if (!cpu) {
        fprintf(stderr, "cpu backend: %s\n", err.msg);
        gpu->destroy(gpu);
        return 2;
    }
    printf("verinfer GPU conformance: %s (device %d) against the scalar CPU reference\n",
           gpu->detail, device);
    printf("%-20s | %-66s | %-9s | %s\n", "op", "shape", "result", "first differing index");
    xc_ctx c = {cpu, gpu, print_row, &t, 0, 0, 0x5eedc0deu, NULL};

    vmath_cases(&c);
    xc_run_op_cases(&c);
    qlinear_cases(&c, gpu);
    static const vi_cuda_lin_path PATHS[] = {VI_CUDA_LIN_AUTO, VI_CUDA_LIN_SPLITK,
                                             VI_CUDA_LIN_TILE64, VI_CUDA_LIN_TILE128};
    static const char *LABELS[] = {"[auto]", "[split-k]", "[tile64]", "[tile128]"};
    for (size_t p = 0; p < sizeof PATHS / sizeof PATHS[0]; p++) {
        if (vi_cuda_backend_set_linear_path(gpu, PATHS[p], &err) != VI_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
        c.label = LABELS[p];
        xc_linear_cases(&c, 0);
        xc_matmul_cases(&c);
        xc_linear_big_cases(&c);
    }
    c.label = NULL;
    vi_cuda_backend_set_linear_path(gpu, VI_CUDA_LIN_AUTO, &err);

    const char *base = getenv("VERINFER_TMP");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/gpu-conformance-XXXXXX", base && *base ? base : "/tmp");
    if (base && *base)
        mkdir(base, 0700);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    xc_run_models(&c, dir, 64);
    int exact_cases = c.n_cases, exact_diff = c.n_diff;

    /* fast mode: a cuBLAS worker of the GPU backend, within each model's tolerance */
    vi_backend *fast = vi_cuda_backend_create_fast_worker(gpu, &err);
    if (!fast) {
        printf("%-20s | %-66s | %-9s | %s\n%-20s   %s\n", "fast", "cuBLAS worker", "OUTSIDE", "-",
               "", err.msg);
        c.n_cases++;
        c.n_diff++;
    } else {
        c.dut = fast;
        xc_run_models_mode(&c, dir, 64, 1);
        fast->destroy(fast);
    }

    printf("%d exact cases, %d different: %s\n", exact_cases, exact_diff,
           exact_diff ? "NOT CONFORMANT" : "all bit-identical");
    printf("%d fast-mode outputs, %d outside their tolerance\n", c.n_cases - exact_cases,
           c.n_diff - exact_diff);
    cpu->destroy(cpu);
    gpu->destroy(gpu);
    return c.n_diff ? 1 : 0;
#endif
}
