/* bench/bench_qlinear.c — speed of the quantised linear kernels
 * (cpu/qlinear.h) on the weight shapes of SmolLM2-135M: Q4_1 576x576 (q, o),
 * 192x576 (k, v), 1536x576 (gate, up), 576x1536 (down) and the Q8_0 output
 * head 49152x576; M = 1 (decode) and M = 16 (prefill), 1 and 2 threads,
 * each ISA the CPU has (AVX-512, AVX2; scalar with --scalar).
 *
 * Every configuration is validated first (rows 0 and M-1 bit-equal to
 * vi_qdot_ref), then timed: repeated calls for at least --min-ms per sample,
 * best and median of --samples samples. The table gives microseconds per
 * call, GFLOP/s (2 M N K per call) and GB/s of weight bytes streamed (the
 * GGUF size of the weight; the repacked panels have the same size). Then
 * q+k+v and gate+up of one block as one vi_qlinear_run_multi call each. A
 * summary adds up one token's linear layers (30 blocks x 7 weights + the
 * head) into ms per token and tokens per second, with and without grouping.
 *
 * Usage: bench_qlinear [--quick] [--scalar] [--samples S] [--min-ms T] [--cputime]
 *   --cputime  time with the calling thread's CPU clock and run 1 thread only:
 *              steadier on a busy machine */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/quant.h"
#include "cpu/isa.h"
#include "cpu/qlinear.h"
#include "cpu/threadpool.h"

#define MAX_SAMPLES 64
#define N_LAYERS 30

typedef struct shape {
    const char *what;
    vi_ggml_type t;
    int64_t N, K;
    int per_token; /* weights of this shape in one token's pass */
} shape;

static const shape SHAPES[] = {
    {"q,o  576x576", VI_GGML_Q4_1, 576, 576, 2 * N_LAYERS},
    {"k,v  192x576", VI_GGML_Q4_1, 192, 576, 2 * N_LAYERS},
    {"gate,up 1536x576", VI_GGML_Q4_1, 1536, 576, 2 * N_LAYERS},
    {"down 576x1536", VI_GGML_Q4_1, 576, 1536, N_LAYERS},
    {"head 49152x576", VI_GGML_Q8_0, 49152, 576, 1},
};
#define N_SHAPES (sizeof SHAPES / sizeof SHAPES[0])

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

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random quants with small normal f16 scales (as a real model has). */
static uint8_t *make_weights(vi_ggml_type t, int64_t N, int64_t K, uint64_t *s)
{
    size_t bb = vi_ggml_type_block_bytes(t);
    size_t nb = (size_t)(N * (K / (int64_t)vi_ggml_type_block_size(t)));
    uint8_t *w = malloc(nb * bb);
    if (!w)
        return NULL;
    for (size_t i = 0; i < nb * bb; i++)
        w[i] = (uint8_t)splitmix(s);
    for (size_t b = 0; b < nb; b++) {
        uint16_t d = (uint16_t)(0x2000 + splitmix(s) % 0x1000);
        uint16_t m = (uint16_t)(0xa000 + splitmix(s) % 0x1000);
        w[b * bb] = (uint8_t)d, w[b * bb + 1] = (uint8_t)(d >> 8);
        if (t == VI_GGML_Q4_1)
            w[b * bb + 2] = (uint8_t)m, w[b * bb + 3] = (uint8_t)(m >> 8);
    }
    return w;
}

/* One timed call: a single weight or a group over the same x. */
typedef struct call {
    const vi_qlinear *const *qs;
    float *const *ys;
    int n;
    const float *x;
    int64_t M;
    vi_isa isa;
    vi_pool *pool;
} call;

static void do_call(const call *c)
{
    if (c->n == 1)
        vi_qlinear_run(c->qs[0], c->x, c->M, c->ys[0], c->isa, c->pool);
    else
        (void)vi_qlinear_run_multi(c->qs, c->ys, c->n, c->x, c->M, c->isa, c->pool, NULL);
}

/* Best and median seconds per call over `samples` samples of >= min_ms each. */
static void time_call(const call *c, int samples, double min_ms, double *best, double *med)
{
    double t[MAX_SAMPLES];
    for (int s = 0; s < samples; s++) {
        long reps = 0;
        double t0 = now_s(), t1;
        do {
            do_call(c);
            reps++;
            t1 = now_s();
        } while ((t1 - t0) * 1e3 < min_ms);
        t[s] = (t1 - t0) / (double)reps;
    }
    qsort(t, (size_t)samples, sizeof t[0], cmp_double);
    *best = t[0];
    *med = t[samples / 2];
}

/* Rows 0 and M-1 of y against vi_qdot_ref; returns 0 when equal. */
static int validate(const shape *sh, const uint8_t *w, const float *x, int64_t M, const float *y)
{
    size_t row_bytes =
        (size_t)(sh->K / (int64_t)vi_ggml_type_block_size(sh->t)) * vi_ggml_type_block_bytes(sh->t);
    int64_t rows[2] = {0, M - 1};
    for (int i = 0; i < 2; i++)
        for (int64_t n = 0; n < sh->N; n++) {
            float want = vi_qdot_ref(sh->t, w + (size_t)n * row_bytes, x + rows[i] * sh->K, sh->K);
            float got = y[rows[i] * sh->N + n];
            if (memcmp(&want, &got, sizeof want) != 0) {
                fprintf(stderr, "MISMATCH %s M=%lld: y[%lld, %lld] = %a, vi_qdot_ref %a\n",
                        sh->what, (long long)M, (long long)rows[i], (long long)n, (double)got,
                        (double)want);
                return -1;
            }
        }
    return 0;
}

int main(int argc, char **argv)
{
    int quick = 0, scalar = 0, samples = 7;
    double min_ms = 30.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--cputime"))
            g_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (!strcmp(argv[i], "--scalar"))
            scalar = 1;
        else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
            samples = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc)
            min_ms = atof(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--quick] [--scalar] [--samples S] [--min-ms T] [--cputime]\n",
                    argv[0]);
            return 2;
        }
    }
    if (quick) {
        samples = 3;
        min_ms = 10.0;
    }
    if (samples < 1)
        samples = 1;
    if (samples > MAX_SAMPLES)
        samples = MAX_SAMPLES;

    vi_isa isas[3];
    int n_isas = 0;
    if (vi_isa_supported(VI_ISA_AVX512))
        isas[n_isas++] = VI_ISA_AVX512;
    if (vi_isa_supported(VI_ISA_AVX2))
        isas[n_isas++] = VI_ISA_AVX2;
    if (scalar || n_isas == 0)
        isas[n_isas++] = VI_ISA_SCALAR;
    static const int Ms[] = {1, 16};
    static const int THREADS[] = {1, 2};
    int n_threads = g_clock == CLOCK_MONOTONIC ? 2 : 1;
    vi_error err;
    vi_pool *pool2 = vi_pool_create(2, &err);
    if (!pool2) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return 1;
    }
    /* per-token time: [isa][M index][thread index] */
    double token_s[3][2][2] = {{{0}}};
    double shape_s[N_SHAPES][3][2][2] = {{{{0}}}}; /* best time per call */

    printf("%-18s %-5s %3s %3s %-7s %10s %10s %8s %8s\n", "weight", "type", "M", "thr", "isa",
           "best us", "median us", "GFLOP/s", "GB/s");
    uint64_t seed = 0x51a11;
    int status = 0;
    for (size_t si = 0; si < N_SHAPES; si++) {
        const shape *sh = &SHAPES[si];
        uint8_t *w = make_weights(sh->t, sh->N, sh->K, &seed);
        vi_qlinear *q = NULL;
        if (!w || vi_qlinear_prepare(&q, sh->t, w, sh->N, sh->K, &err) != VI_OK) {
            fprintf(stderr, "prepare %s: %s\n", sh->what, w ? err.msg : "out of memory");
            return 1;
        }
        double wbytes = (double)vi_qlinear_bytes(q);
        float *x = malloc((size_t)(16 * sh->K) * sizeof(float));
        float *y = malloc((size_t)(16 * sh->N) * sizeof(float));
        if (!x || !y)
            return 1;
        for (int64_t i = 0; i < 16 * sh->K; i++)
            x[i] = (float)((int64_t)(splitmix(&seed) >> 40) - (1 << 23)) * 0x1p-23f;
        for (int ii = 0; ii < n_isas; ii++)
            for (int mi = 0; mi < 2; mi++)
                for (int ti = 0; ti < n_threads; ti++) {
                    int64_t M = Ms[mi];
                    vi_pool *pool = THREADS[ti] == 2 ? pool2 : NULL;
                    vi_qlinear_run(q, x, M, y, isas[ii], pool);
                    if (validate(sh, w, x, M, y) != 0) {
                        status = 1;
                        continue;
                    }
                    call c = {(const vi_qlinear *const *)&q, &y, 1, x, M, isas[ii], pool};
                    double best, med;
                    time_call(&c, samples, min_ms, &best, &med);
                    printf("%-18s %-5s %3lld %3d %-7s %10.1f %10.1f %8.1f %8.2f\n", sh->what,
                           vi_ggml_type_name(sh->t), (long long)M, THREADS[ti],
                           vi_isa_name(isas[ii]), best * 1e6, med * 1e6,
                           2.0 * (double)M * (double)sh->N * (double)sh->K / best * 1e-9,
                           wbytes / best * 1e-9);
                    token_s[ii][mi][ti] += best * sh->per_token;
                    shape_s[si][ii][mi][ti] = best;
                }
        vi_qlinear_free(q);
        free(x);
        free(y);
        free(w);
    }
    /* q,k,v and gate,up of one block as one call each (vi_qlinear_run_multi) */
    static const int GROUP_N[2][3] = {{576, 192, 192}, {1536, 1536, 0}};
    static const char *const GROUP_NAME[2] = {"q+k+v 960x576", "gate+up 3072x576"};
    double group_s[2][3][2][2] = {{{{0}}}};
    printf("\n%-18s %-5s %3s %3s %-7s %10s %10s %8s\n", "one call", "type", "M", "thr", "isa",
           "best us", "median us", "GFLOP/s");
    for (int g = 0; g < 2; g++) {
        int n = g == 0 ? 3 : 2;
        vi_qlinear *qs[3] = {NULL, NULL, NULL};
        float *ys[3] = {NULL, NULL, NULL};
        uint8_t *ws[3] = {NULL, NULL, NULL};
        int64_t rows = 0;
        for (int i = 0; i < n; i++) {
            ws[i] = make_weights(VI_GGML_Q4_1, GROUP_N[g][i], 576, &seed);
            ys[i] = malloc((size_t)(16 * GROUP_N[g][i]) * sizeof(float));
            if (!ws[i] || !ys[i] ||
                vi_qlinear_prepare(&qs[i], VI_GGML_Q4_1, ws[i], GROUP_N[g][i], 576, &err) != VI_OK)
                return 1;
            rows += GROUP_N[g][i];
        }
        float *x = malloc((size_t)(16 * 576) * sizeof(float));
        if (!x)
            return 1;
        for (int64_t i = 0; i < 16 * 576; i++)
            x[i] = (float)((int64_t)(splitmix(&seed) >> 40) - (1 << 23)) * 0x1p-23f;
        for (int ii = 0; ii < n_isas; ii++)
            for (int mi = 0; mi < 2; mi++)
                for (int ti = 0; ti < n_threads; ti++) {
                    vi_pool *pool = THREADS[ti] == 2 ? pool2 : NULL;
                    call c = {(const vi_qlinear *const *)qs, ys, n, x, Ms[mi], isas[ii], pool};
                    do_call(&c);
                    for (int i = 0; i < n; i++) {
                        shape sh = {GROUP_NAME[g], VI_GGML_Q4_1, GROUP_N[g][i], 576, 0};
                        if (validate(&sh, ws[i], x, Ms[mi], ys[i]) != 0)
                            status = 1;
                    }
                    double best, med;
                    time_call(&c, samples, min_ms, &best, &med);
                    printf("%-18s %-5s %3d %3d %-7s %10.1f %10.1f %8.1f\n", GROUP_NAME[g], "Q4_1",
                           Ms[mi], THREADS[ti], vi_isa_name(isas[ii]), best * 1e6, med * 1e6,
                           2.0 * Ms[mi] * (double)rows * 576.0 / best * 1e-9);
                    group_s[g][ii][mi][ti] = best;
                }
        for (int i = 0; i < n; i++) {
            vi_qlinear_free(qs[i]);
            free(ys[i]);
            free(ws[i]);
        }
        free(x);
    }

    printf("\nOne token's linear layers (%d blocks x q,k,v,o,gate,up,down + head), best times;\n"
           "grouped: q+k+v and gate+up as one call each:\n",
           N_LAYERS);
    printf("%-7s %3s %3s %12s %12s %14s %14s\n", "isa", "M", "thr", "ms per call", "tokens/s",
           "grouped ms", "grouped tok/s");
    for (int ii = 0; ii < n_isas; ii++)
        for (int mi = 0; mi < 2; mi++)
            for (int ti = 0; ti < n_threads; ti++) {
                double grouped = N_LAYERS * (group_s[0][ii][mi][ti] + shape_s[0][ii][mi][ti] +
                                             group_s[1][ii][mi][ti] + shape_s[3][ii][mi][ti]) +
                                 shape_s[4][ii][mi][ti];
                printf("%-7s %3d %3d %12.2f %12.1f %14.2f %14.1f\n", vi_isa_name(isas[ii]), Ms[mi],
                       THREADS[ti], token_s[ii][mi][ti] * 1e3, (double)Ms[mi] / token_s[ii][mi][ti],
                       grouped * 1e3, (double)Ms[mi] / grouped);
            }
    vi_pool_destroy(pool2);
    return status;
}
