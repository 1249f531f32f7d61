/* bench/bench_linear.c — GFLOP/s of the canonical-order linear kernel against
 * OpenBLAS cblas_sgemm, side by side, at M in {1, 8, 64, 512}, N = K in
 * {1024, 4096}, 1 and 2 threads; also whether row 0 keeps its bits between
 * the M = 1 run and the larger-M run (ours by design, OpenBLAS by chance).
 *
 * Both compute y = x W^T with W stored [N, K] (the PyTorch layout; ours packs
 * it once at prepare time, which is not timed). Every configuration is
 * validated (rows 0 and M-1 bit-equal to the scalar reference, OpenBLAS close
 * to ours) before it is timed.
 *
 * Usage: bench_linear [--quick] [--threads T] [--isa scalar|avx2|avx512] [--reps R]
 *                     [--m M] [--size N]   (only that M / that N = K)
 *                     [--cputime]  (time with the calling thread's CPU clock: steadier on
 *                                   a busy machine; meaningful with --threads 1 only)
 *
 * OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE force an older OpenBLAS kernel; when
 * either is set the program clears both and re-executes itself, because
 * OpenBLAS reads them while the library loads, before main runs. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu/isa.h"
#include "cpu/linear.h"
#include "cpu/threadpool.h"

#ifdef VI_HAVE_OPENBLAS
#include <cblas.h>
#endif

static clockid_t g_clock = CLOCK_MONOTONIC;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* splitmix64 -> uniform [-1, 1) */
static float rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

typedef void (*run_fn)(void *ctx, int64_t M, float *y);

typedef struct {
    const vi_cpu_linear *lw;
    const float *x;
    vi_isa isa;
    vi_pool *pool;
} ours_ctx;

static void run_ours(void *ctx, int64_t M, float *y)
{
    ours_ctx *c = ctx;
    vi_cpu_linear_run(c->lw, c->x, M, y, c->isa, c->pool);
}

#ifdef VI_HAVE_OPENBLAS
typedef struct {
    const float *w, *x;
    int64_t N, K;
} blas_ctx;

static void run_blas(void *ctx, int64_t M, float *y)
{
    blas_ctx *c = ctx;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)M, (blasint)c->N,
                (blasint)c->K, 1.0f, c->x, (blasint)c->K, c->w, (blasint)c->K, 0.0f, y,
                (blasint)c->N);
}
#endif

/* Warm-up, then `reps` timed runs (at least 0.25 s in all); returns the best
 * time and stores the median in *median. */
static double time_runs(run_fn fn, void *ctx, int64_t M, float *y, int reps, double *median)
{
    double t[256];
    fn(ctx, M, y);
    fn(ctx, M, y);
    int n = 0;
    double start = now_s();
    while (n < 256 && (n < reps || now_s() - start < 0.25)) {
        double t0 = now_s();
        fn(ctx, M, y);
        t[n++] = now_s() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    *median = t[n / 2];
    return t[0];
}

static void clean_openblas_env(char **argv)
{
    if (!getenv("OPENBLAS_CORETYPE") && !getenv("OPENBLAS_L2_SIZE"))
        return;
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("OPENBLAS_L2_SIZE");
    execv("/proc/self/exe", argv);
    perror("bench_linear: re-exec without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE failed");
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_linear [--quick] [--threads T] [--isa scalar|avx2|avx512] "
                    "[--reps R] [--m M] [--size N] [--cputime]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    clean_openblas_env(argv);

    int quick = 0, only_threads = 0, reps = 5;
    long long only_m = 0, only_size = 0;
    vi_isa isa = vi_isa_detect();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            only_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cputime") == 0)
            g_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (strcmp(argv[i], "--m") == 0 && i + 1 < argc)
            only_m = atoll(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            only_size = atoll(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            if (vi_isa_parse(argv[++i], &isa) != 0 || isa == VI_ISA_AUTO) {
                fprintf(stderr, "bench_linear: unknown isa '%s'\n", argv[i]);
                return 2;
            }
            if (!vi_isa_supported(isa)) {
                fprintf(stderr, "bench_linear: this CPU cannot run isa '%s'\n", argv[i]);
                return 2;
            }
        } else
            usage();
    }
    if (only_threads < 0 || only_threads > 64 || reps < 1 || reps > 256 || only_m < 0 ||
        only_m > 512 || only_size < 0 || only_size > 16384)
        usage();

    int64_t SIZES[] = {1024, 4096};
    int64_t MS[] = {1, 8, 64, 512};
    int n_ms = 4;
    int threads_list[2] = {1, 2}, n_threads = 2;
    if (only_threads) {
        threads_list[0] = only_threads;
        n_threads = 1;
    }
    int n_sizes = quick ? 1 : 2;
    if (only_m > 1) {
        MS[1] = only_m;
        n_ms = 2;
    }
    if (only_size) {
        SIZES[0] = only_size;
        n_sizes = 1;
    }
    if (quick)
        reps = 3;

    printf("bench_linear: ours isa=%s", vi_isa_name(isa));
#ifdef VI_HAVE_OPENBLAS
    printf("; OpenBLAS core=%s config=\"%s\"\n", openblas_get_corename(), openblas_get_config());
#else
    printf("; OpenBLAS not found at build time (ours only)\n");
#endif
    printf("y = x W^T, W [N,K] (ours packed at prepare, untimed); GFLOP/s = 2*M*N*K / best "
           "time (median in parentheses)\n");
    printf("row0 same = row 0 bit-identical between the M=1 run and this run\n\n");
    printf("%5s %6s %3s | %18s | %18s | %6s | %9s %9s\n", "M", "N=K", "thr", "ours GFLOP/s",
           "OpenBLAS GFLOP/s", "ratio", "row0 ours", "row0 blas");

    int rc = 0;
    uint64_t seed = 12345;
    for (int si = 0; si < n_sizes; si++) {
        int64_t N = SIZES[si], K = N, Mmax = 512;
        float *w = malloc((size_t)(N * K) * sizeof(float));
        float *x = malloc((size_t)(Mmax * K) * sizeof(float));
        float *y = malloc((size_t)(Mmax * N) * sizeof(float));
        float *y1 = malloc((size_t)N * sizeof(float));
        float *yb = malloc((size_t)(Mmax * N) * sizeof(float));
        float *yb1 = malloc((size_t)N * sizeof(float));
        float *ref = malloc((size_t)N * sizeof(float));
        if (!w || !x || !y || !y1 || !yb || !yb1 || !ref) {
            fprintf(stderr, "bench_linear: out of memory\n");
            return 1;
        }
        for (int64_t i = 0; i < N * K; i++)
            w[i] = rnd(&seed);
        for (int64_t i = 0; i < Mmax * K; i++)
            x[i] = rnd(&seed);
        vi_cpu_linear *lw = NULL;
        vi_error err;
        if (vi_cpu_linear_prepare(w, N, K, 1, NULL, &lw, &err) != VI_OK) {
            fprintf(stderr, "bench_linear: %s\n", err.msg);
            return 1;
        }
        for (int ti = 0; ti < n_threads; ti++) {
            int T = threads_list[ti];
            vi_pool *pool = vi_pool_create(T, &err);
            if (!pool) {
                fprintf(stderr, "bench_linear: %s\n", err.msg);
                return 1;
            }
            ours_ctx oc = {lw, x, isa, pool};
#ifdef VI_HAVE_OPENBLAS
            openblas_set_num_threads(T);
            blas_ctx bc = {w, x, N, K};
#endif
            for (int mi = 0; mi < n_ms; mi++) {
                int64_t M = MS[mi];
                /* M = 1 always runs: it gives the row-0 bits the others are compared with */
                int timed = !only_m || only_m == M;
                if (!timed && M != 1)
                    continue;
                /* validate: rows 0 and M-1 against the plain reference */
                run_ours(&oc, M, y);
                if (M == 1)
                    memcpy(y1, y, (size_t)N * sizeof(float));
                for (int64_t r = 0; r < M; r += M - 1 > 0 ? M - 1 : 1) {
                    vi_cpu_linear_ref(w, N, K, 1, NULL, x + r * K, 1, ref);
                    if (memcmp(ref, y + r * N, (size_t)N * sizeof(float)) != 0) {
                        fprintf(stderr, "bench_linear: M=%lld N=K=%lld row %lld differs from "
                                        "the reference\n",
                                (long long)M, (long long)N, (long long)r);
                        rc = 1;
                    }
                }
                int same_ours = memcmp(y, y1, (size_t)N * sizeof(float)) == 0;
#ifdef VI_HAVE_OPENBLAS
                if (M == 1) {
                    run_blas(&bc, M, yb1);
                }
#endif
                if (!timed)
                    continue;
                double med_o, best_o = time_runs(run_ours, &oc, M, y, reps, &med_o);
                double flop = 2.0 * (double)M * (double)N * (double)K;
                double go = flop / best_o * 1e-9, gom = flop / med_o * 1e-9;
#ifdef VI_HAVE_OPENBLAS
                run_blas(&bc, M, yb);
                if (M == 1)
                    memcpy(yb1, yb, (size_t)N * sizeof(float));
                for (int64_t i = 0; i < N; i++)
                    if (!(fabsf(yb[i] - y[i]) <= 1e-3f * (1.0f + fabsf(y[i])))) {
                        fprintf(stderr, "bench_linear: OpenBLAS y[0, %lld] = %g vs ours %g\n",
                                (long long)i, (double)yb[i], (double)y[i]);
                        rc = 1;
                        break;
                    }
                int same_blas = memcmp(yb, yb1, (size_t)N * sizeof(float)) == 0;
                double med_b, best_b = time_runs(run_blas, &bc, M, yb, reps, &med_b);
                double gb = flop / best_b * 1e-9, gbm = flop / med_b * 1e-9;
                printf("%5lld %6lld %3d | %7.1f (%7.1f)  | %7.1f (%7.1f)  | %6.2f | %9s %9s\n",
                       (long long)M, (long long)N, T, go, gom, gb, gbm, go / gb,
                       same_ours ? "yes" : "no", same_blas ? "yes" : "no");
                /* let OpenBLAS's spinning workers go idle before ours runs again */
                usleep(200000);
#else
                printf("%5lld %6lld %3d | %7.1f (%7.1f)  | %18s | %6s | %9s %9s\n",
                       (long long)M, (long long)N, T, go, gom, "n/a", "n/a",
                       same_ours ? "yes" : "no", "n/a");
#endif
                fflush(stdout);
            }
            vi_pool_destroy(pool);
        }
        vi_cpu_linear_free(lw);
        free(w);
        free(x);
        free(y);
        free(y1);
        free(yb);
        free(yb1);
        free(ref);
    }
    return rc;
}
