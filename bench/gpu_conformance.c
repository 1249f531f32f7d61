/* bench/gpu_conformance.c — the GPU conformance suite: on a machine with a
 * CUDA GPU, runs every op (tests/cuda/cross_check.h: odd and even shapes,
 * linear through each kernel, decode/prefill-sized layers), verinfer's own
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

#include "cpu/cpu_backend.h"
#include "tests/cuda/cross_check.h"

#ifdef VERINFER_HAVE_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/fast_cublas.h"
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
