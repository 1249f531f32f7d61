/* bench/bench_linear.c — GFLOP/s of the canonical-order linear kernel against
 * OpenBLAS cblas_sgemm, side by side, at M in {1, 8, 64, 512}, N = K in
 * {1024, 4096}, 1 and 2 threads; also whether row 0 keeps its bits between
 * the M = 1 run and the larger-M run (ours by design, OpenBLAS by chance).
 *
 * Both compute y = x W^T with W stored [N, K] (the PyTorch layout; ours packs
 * it once at prepare time, which is not timed). Every configuration is
 * validated (rows 0 and M-1 bit-equal to the plain reference, OpenBLAS close
 * to ours) before it is timed. Timing alternates blocks of ours and OpenBLAS
 * runs over several rounds (so both see the same machine) and reports the
 * best time and the median.
 *
 * Usage: bench_linear [--quick] [--threads T] [--isa scalar|avx2|avx512]
 *                     [--reps R] [--rounds R] [--m M] [--size N] [--cputime]
 *   --quick     N = K = 1024 only, fewer repetitions
 *   --m, --size only that M (M = 1 still runs for the row-0 check) / N = K
 *   --cputime   time with the calling thread's CPU clock: steadier on a busy
 *               machine, meaningful with --threads 1 only
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

#define MAX_SAMPLES 1024

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

/* ==== the two contestants ==== */

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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)M, (blasint)c->N, (blasint)c->K,
                1.0f, c->x, (blasint)c->K, c->w, (blasint)c->K, 0.0f, y, (blasint)c->N);
}
#endif

/* ==== timing ==== */

typedef struct {
    double t[MAX_SAMPLES];
    int n;
} samples;

/* One block: a warm-up run, then at least `reps` timed runs and 0.1 s. */
static void time_block(run_fn fn, void *ctx, int64_t M, float *y, int reps, samples *s)
{
    fn(ctx, M, y);
    double start = now_s();
    for (int i = 0; s->n < MAX_SAMPLES && (i < reps || now_s() - start < 0.1); i++) {
        double t0 = now_s();
        fn(ctx, M, y);
        s->t[s->n++] = now_s() - t0;
    }
}

/* Best and median GFLOP/s of the samples. */
static void rates(samples *s, double flop, double *best, double *median)
{
    qsort(s->t, (size_t)s->n, sizeof s->t[0], cmp_double);
    *best = flop / s->t[0] * 1e-9;
    *median = flop / s->t[s->n / 2] * 1e-9;
}

/* ==== setup ==== */

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
                    "[--reps R] [--rounds R] [--m M] [--size N] [--cputime]\n");
    exit(2);
}

typedef struct {
    int quick, threads, reps, rounds;
    long long m, size;
    vi_isa isa;
} options;

static options parse_args(int argc, char **argv)
{
    options o = {0, 0, 5, 3, 0, 0, vi_isa_detect()};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            o.quick = 1;
        else if (strcmp(a, "--cputime") == 0)
            g_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (!v)
            usage();
        else if (strcmp(a, "--threads") == 0)
            o.threads = atoi(argv[++i]);
        else if (strcmp(a, "--reps") == 0)
            o.reps = atoi(argv[++i]);
        else if (strcmp(a, "--rounds") == 0)
            o.rounds = atoi(argv[++i]);
        else if (strcmp(a, "--m") == 0)
            o.m = atoll(argv[++i]);
        else if (strcmp(a, "--size") == 0)
            o.size = atoll(argv[++i]);
        else if (strcmp(a, "--isa") == 0) {
            if (vi_isa_parse(argv[++i], &o.isa) != 0 || o.isa == VI_ISA_AUTO) {
                fprintf(stderr, "bench_linear: unknown isa '%s'\n", v);
                exit(2);
            }
            if (!vi_isa_supported(o.isa)) {
                fprintf(stderr, "bench_linear: this CPU cannot run isa '%s'\n", v);
                exit(2);
            }
        } else
            usage();
    }
    if (o.threads < 0 || o.threads > 64 || o.reps < 1 || o.reps > 100 || o.rounds < 1 ||
        o.rounds > 10 || o.m < 0 || o.m > 512 || o.size < 0 || o.size > 16384)
        usage();
    if (o.quick) {
        o.reps = 3;
        o.rounds = 2;
    }
    return o;
}

/* ==== one size ==== */

/* Benchmarks N = K = n at every M and thread count; returns 0, or 1 when a
 * result failed validation. */
static int bench_size(const options *o, int64_t n, const int64_t *ms, int n_ms, const int *threads,
                      int n_threads, uint64_t *seed)
{
    const int64_t N = n, K = n, MMAX = 512;
    int rc = 1;
    vi_cpu_linear *lw = NULL;
    vi_pool *pool = NULL;
    vi_error err;
    float *w = malloc((size_t)(N * K) * sizeof(float));
    float *x = malloc((size_t)(MMAX * K) * sizeof(float));
    float *y = malloc((size_t)(MMAX * N) * sizeof(float));
    float *yb = malloc((size_t)(MMAX * N) * sizeof(float));
    float *y1 = malloc((size_t)N * sizeof(float));
    float *yb1 = malloc((size_t)N * sizeof(float));
    float *ref = malloc((size_t)N * sizeof(float));
    if (!w || !x || !y || !yb || !y1 || !yb1 || !ref) {
        fprintf(stderr, "bench_linear: out of memory\n");
        goto done;
    }
    for (int64_t i = 0; i < N * K; i++)
        w[i] = rnd(seed);
    for (int64_t i = 0; i < MMAX * K; i++)
        x[i] = rnd(seed);
    if (vi_cpu_linear_prepare(w, N, K, 1, NULL, &lw, &err) != VI_OK) {
        fprintf(stderr, "bench_linear: %s\n", err.msg);
        goto done;
    }
    rc = 0;
    for (int ti = 0; ti < n_threads; ti++) {
        int T = threads[ti];
        pool = vi_pool_create(T, &err);
        if (!pool) {
            fprintf(stderr, "bench_linear: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        ours_ctx oc = {lw, x, o->isa, pool};
        run_ours(&oc, 1, y1);
#ifdef VI_HAVE_OPENBLAS
        openblas_set_num_threads(T);
        blas_ctx bc = {w, x, N, K};
        run_blas(&bc, 1, yb1);
#endif
        for (int mi = 0; mi < n_ms; mi++) {
            int64_t M = ms[mi];
            double flop = 2.0 * (double)M * (double)N * (double)K;
            /* validate: rows 0 and M-1 against the plain reference */
            run_ours(&oc, M, y);
            for (int64_t r = 0; r<M; r += M> 1 ? M - 1 : 1) {
                vi_cpu_linear_ref(w, N, K, 1, NULL, x + r * K, 1, ref);
                if (memcmp(ref, y + r * N, (size_t)N * sizeof(float)) != 0) {
                    fprintf(stderr,
                            "bench_linear: M=%lld N=K=%lld row %lld differs from the "
                            "reference\n",
                            (long long)M, (long long)N, (long long)r);
                    rc = 1;
                }
            }
            int same_ours = memcmp(y, y1, (size_t)N * sizeof(float)) == 0;
            samples *so = calloc(1, sizeof *so);
#ifdef VI_HAVE_OPENBLAS
            run_blas(&bc, M, yb);
            for (int64_t i = 0; i < M * N; i++)
                if (!(fabsf(yb[i] - y[i]) <= 1e-3f * (1.0f + fabsf(y[i])))) {
                    fprintf(stderr, "bench_linear: OpenBLAS y[%lld] = %g vs ours %g\n",
                            (long long)i, (double)yb[i], (double)y[i]);
                    rc = 1;
                    break;
                }
            int same_blas = memcmp(yb, yb1, (size_t)N * sizeof(float)) == 0;
            samples *sb = calloc(1, sizeof *sb);
            if (!so || !sb) {
                fprintf(stderr, "bench_linear: out of memory\n");
                exit(1);
            }
            for (int round = 0; round < o->rounds; round++) {
                time_block(run_ours, &oc, M, y, o->reps, so);
                time_block(run_blas, &bc, M, yb, o->reps, sb);
                /* OpenBLAS workers spin a while after a call: let them sleep */
                usleep(150000);
            }
            double go, gom, gb, gbm;
            rates(so, flop, &go, &gom);
            rates(sb, flop, &gb, &gbm);
            printf("%5lld %6lld %3d | %7.1f (%7.1f)  | %7.1f (%7.1f)  | %6.2f | %9s %9s\n",
                   (long long)M, (long long)N, T, go, gom, gb, gbm, go / gb,
                   same_ours ? "yes" : "no", same_blas ? "yes" : "no");
            free(sb);
#else
            if (!so) {
                fprintf(stderr, "bench_linear: out of memory\n");
                exit(1);
            }
            for (int round = 0; round < o->rounds; round++)
                time_block(run_ours, &oc, M, y, o->reps, so);
            double go, gom;
            rates(so, flop, &go, &gom);
            printf("%5lld %6lld %3d | %7.1f (%7.1f)  | %18s | %6s | %9s %9s\n", (long long)M,
                   (long long)N, T, go, gom, "n/a", "n/a", same_ours ? "yes" : "no", "n/a");
#endif
            free(so);
            fflush(stdout);
        }
        vi_pool_destroy(pool);
        pool = NULL;
    }

done:
    vi_pool_destroy(pool);
    vi_cpu_linear_free(lw);
    free(w);
    free(x);
    free(y);
    free(yb);
    free(y1);
    free(yb1);
    free(ref);
    return rc;
}

int main(int argc, char **argv)
{
    clean_openblas_env(argv);
    options o = parse_args(argc, argv);

    int64_t sizes[2] = {1024, 4096}, ms[4] = {1, 8, 64, 512};
    int n_sizes = o.quick ? 1 : 2, n_ms = 4;
    int threads[2] = {1, 2}, n_threads = 2;
    if (o.threads) {
        threads[0] = o.threads;
        n_threads = 1;
    }
    if (o.m) {
        ms[0] = o.m;
        n_ms = 1;
    }
    if (o.size) {
        sizes[0] = o.size;
        n_sizes = 1;
    }

    printf("bench_linear: ours isa=%s", vi_isa_name(o.isa));
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
    for (int si = 0; si < n_sizes; si++)
        rc |= bench_size(&o, sizes[si], ms, n_ms, threads, n_threads, &seed);
    return rc;
}
