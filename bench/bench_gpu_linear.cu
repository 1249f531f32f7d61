/* bench/bench_gpu_linear.cu — how fast is the fixed-order linear on a GPU?
 * The exact CUDA backend's linear (each kernel, and the automatic choice)
 * against cuBLAS SGEMM in plain FP32 (TF32 off: CUBLAS_DEFAULT_MATH) and in
 * TF32, y [M, N] = x [M, K] W^T, M in {1, 16, 256, 4096}, N = K in {4096,
 * 8192}. Validates first (rows 0 and M-1 of the exact result against the
 * host's vi_dot_ref, bit for bit; cuBLAS's largest relative deviation is
 * shown), then times with CUDA events after warm-up and prints a table of
 * milliseconds, TFLOP/s and ratios to cuBLAS. Built only with nvcc.
 *
 * usage: bench_gpu_linear [--device N] [--quick]  (exits 77 without a GPU) */
#include "cuda/compat.h"

#include <cublas_v2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_backend.h"
#include "core/order.h"

#define WARMUP 3
#define MIN_TIMED_MS 200.0f

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_gpu_linear: %s: %s\n", what, detail);
    exit(2);
}

static void check(cudaError_t rc, const char *what)
{
    if (rc != cudaSuccess)
        die(what, cudaGetErrorString(rc));
}

static void check_blas(cublasStatus_t s, const char *what)
{
    if (s != CUBLAS_STATUS_SUCCESS)
        die(what, cublasGetStatusString(s));
}

static uint64_t rng_state = 0x6a09e667f3bcc909ull;

static float rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) * 0x1p-23f - 1.0f;
}

typedef void (*run_fn)(void *arg);

/* Milliseconds per call of fn after WARMUP calls, timed over enough calls
 * to last MIN_TIMED_MS, with events on the legacy default stream (which
 * orders itself after every blocking stream, the backend's included). */
static float time_ms(run_fn fn, void *arg)
{
    for (int i = 0; i < WARMUP; i++)
        fn(arg);
    check(cudaDeviceSynchronize(), "warm-up");
    cudaEvent_t e0, e1;
    check(cudaEventCreate(&e0), "event");
    check(cudaEventCreate(&e1), "event");
    int iters = 1;
    float ms = 0.0f;
    for (;;) {
        check(cudaEventRecord(e0, 0), "event record");
        for (int i = 0; i < iters; i++)
            fn(arg);
        check(cudaEventRecord(e1, 0), "event record");
        check(cudaEventSynchronize(e1), "event sync");
        check(cudaEventElapsedTime(&ms, e0, e1), "elapsed");
        if (ms >= MIN_TIMED_MS || iters >= 1 << 16)
            break;
        iters *= ms > 0.0f && MIN_TIMED_MS / ms < 8.0f ? 2 : 8;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return ms / (float)iters;
}

typedef struct job {
    vi_backend *b;
    void *prep;
    cublasHandle_t h;
    const float *x, *w;
    float *y;
    int64_t M, N, K;
} job;

static void run_exact(void *arg)
{
    job *j = (job *)arg;
    if (j->b->linear(j->b, j->prep, j->x, j->M, j->y) != VI_OK)
        die("exact linear", "failed");
}

/* y [M, N] row-major = column-major [N, M] = W^T-op(W [N, K] row-major) x. */
static void run_cublas(void *arg)
{
    job *j = (job *)arg;
    const float one = 1.0f, zero = 0.0f;
    check_blas(cublasSgemm(j->h, CUBLAS_OP_T, CUBLAS_OP_N, (int)j->N, (int)j->M, (int)j->K, &one,
                           j->w, (int)j->K, j->x, (int)j->K, &zero, j->y, (int)j->N),
               "cublasSgemm");
}

int main(int argc, char **argv)
{
    int device = 0, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else {
            fprintf(stderr, "usage: %s [--device N] [--quick]\n", argv[0]);
            return 2;
        }
    }
    vi_error err = {{0}};
    vi_backend *b = vi_cuda_backend_create(device, &err);
    if (!b) {
        printf("skipped: %s\n", err.msg);
        return 77;
    }
    cublasHandle_t h;
    check_blas(cublasCreate(&h), "cublasCreate");
    printf("bench_gpu_linear on %s: y[M,N] = x[M,K] W^T, FP32 data; ms per call, TFLOP/s\n",
           b->detail);
    printf("%5s %5s %5s | %-16s | %-16s | %-16s | %-16s | %-16s | %-16s | %9s %9s | %s\n", "M", "N",
           "K", "exact auto", "exact split-k", "exact tile64", "exact tile128", "cuBLAS FP32",
           "cuBLAS TF32", "auto/FP32", "auto/TF32", "check");

    static const int64_t MS[] = {1, 16, 256, 4096};
    static const int64_t NS[] = {4096, 8192};
    for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
        for (size_t mi = 0; mi < sizeof MS / sizeof MS[0]; mi++) {
            const int64_t M = MS[mi], N = NS[ni], K = NS[ni];
            if (quick && (M > 256 || N > 4096))
                continue;
            float *hx = (float *)malloc((size_t)(M * K) * sizeof(float));
            float *hw = (float *)malloc((size_t)(N * K) * sizeof(float));
            float *hy = (float *)malloc((size_t)(M * N) * sizeof(float));
            float *hc = (float *)malloc((size_t)(M * N) * sizeof(float));
            if (!hx || !hw || !hy || !hc)
                die("host memory", "out of memory");
            for (int64_t i = 0; i < M * K; i++)
                hx[i] = rnd();
            for (int64_t i = 0; i < N * K; i++)
                hw[i] = rnd();
            job j = {b, NULL, h, NULL, NULL, NULL, M, N, K};
            if (b->linear_prepare(b, hw, N, K, 1, NULL, &j.prep, &err) != VI_OK)
                die("linear_prepare", err.msg);
            float *dx, *dw, *dy;
            check(cudaMalloc((void **)&dx, (size_t)(M * K) * sizeof(float)), "cudaMalloc x");
            check(cudaMalloc((void **)&dw, (size_t)(N * K) * sizeof(float)), "cudaMalloc w");
            check(cudaMalloc((void **)&dy, (size_t)(M * N) * sizeof(float)), "cudaMalloc y");
            check(cudaMemcpy(dx, hx, (size_t)(M * K) * sizeof(float), cudaMemcpyHostToDevice), "x");
            check(cudaMemcpy(dw, hw, (size_t)(N * K) * sizeof(float), cudaMemcpyHostToDevice), "w");
            j.x = dx;
            j.w = dw;
            j.y = dy;

            /* validate: exact rows 0 and M-1 against vi_dot_ref, bit for bit */
            vi_cuda_backend_set_linear_path(b, VI_CUDA_LIN_AUTO, &err);
            run_exact(&j);
            check(cudaDeviceSynchronize(), "exact");
            check(cudaMemcpy(hy, dy, (size_t)(M * N) * sizeof(float), cudaMemcpyDeviceToHost), "y");
            int64_t bad = 0;
            double maxrel = 0.0;
            for (int64_t r = 0; r < M; r += (M > 1 ? M - 1 : 1))
                for (int64_t n = 0; n < N; n++) {
                    float ref = vi_canon_nan(vi_dot_ref(hx + r * K, 1, hw + n * K, 1, K));
                    bad += vi_f32_bits(ref) != vi_f32_bits(hy[r * N + n]);
                }
            cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
            run_cublas(&j);
            check(cudaDeviceSynchronize(), "cublas");
            check(cudaMemcpy(hc, dy, (size_t)(M * N) * sizeof(float), cudaMemcpyDeviceToHost), "y");
            for (int64_t i = 0; i < M * N; i++) {
                double d = fabs((double)hc[i] - (double)hy[i]) / (fabs((double)hy[i]) + 1e-30);
                maxrel = d > maxrel ? d : maxrel;
            }

            float t[6];
            static const vi_cuda_lin_path PATHS[] = {VI_CUDA_LIN_AUTO, VI_CUDA_LIN_SPLITK,
                                                     VI_CUDA_LIN_TILE64, VI_CUDA_LIN_TILE128};
            for (int p = 0; p < 4; p++) {
                t[p] = -1.0f;
                /* split-K's workspace is K/128 * M * N floats: skip it for big M */
                if (PATHS[p] == VI_CUDA_LIN_SPLITK && M > 256)
                    continue;
                vi_cuda_backend_set_linear_path(b, PATHS[p], &err);
                t[p] = time_ms(run_exact, &j);
            }
            vi_cuda_backend_set_linear_path(b, VI_CUDA_LIN_AUTO, &err);
            cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
            t[4] = time_ms(run_cublas, &j);
            cublasSetMathMode(h, CUBLAS_TF32_TENSOR_OP_MATH);
            t[5] = time_ms(run_cublas, &j);

            const double flops = 2.0 * (double)M * (double)N * (double)K;
            printf("%5lld %5lld %5lld", (long long)M, (long long)N, (long long)K);
            for (int p = 0; p < 6; p++) {
                if (t[p] < 0.0f)
                    printf(" | %-16s", "-");
                else
                    printf(" | %7.3f %6.1fTF", (double)t[p], flops / ((double)t[p] * 1e-3) / 1e12);
            }
            printf(" | %8.2fx %8.2fx | %s, cuBLAS FP32 max rel dev %.1e\n", (double)(t[4] / t[0]),
                   (double)(t[5] / t[0]), bad ? "EXACT MISMATCH" : "exact rows bit-identical",
                   maxrel);
            fflush(stdout);

            b->linear_release(b, j.prep);
            cudaFree(dx);
            cudaFree(dw);
            cudaFree(dy);
            free(hx);
            free(hw);
            free(hy);
            free(hc);
        }
    printf("ratios are cuBLAS time / exact time: above 1 means the exact kernel is faster\n");
    cublasDestroy(h);
    b->destroy(b);
    return 0;
}
