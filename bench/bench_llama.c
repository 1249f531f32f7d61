/* bench/bench_llama.c — llama forward throughput on a GGUF model (default:
 * the SmolLM2-135M-Instruct Q4_1 file), printed as one table per thread
 * count:
 *   - prompt tok/s: a 128-token prompt in one call (logits of the last row);
 *   - decode tok/s at batch 1: --decode tokens (default 128) after that
 *     prompt, greedy, one vi_llama_forward call per token;
 *   - aggregate decode tok/s with 4 and 16 concurrent sequences: each one
 *     prefilled with the same 128-token prompt shifted by its index, then
 *     one vi_llama_forward call per step over every sequence's next token;
 *   - llama.cpp's prompt and batch-1 decode tok/s on the same thread count,
 *     from scripts/bench_llama_ref.py run with the reference interpreter
 *     (build/llmref/bin/python) when it is installed.
 * Every figure is the best of --reps repetitions; with --rounds R the whole
 * measurement (verinfer, then llama.cpp) is repeated R times, interleaved,
 * and the best and the median of the rounds are printed. Before timing it
 * checks that decoding token by token gives the bits of the prefill.
 *
 * usage: bench_llama [MODEL.gguf] [--threads 1,2] [--isa NAME] [--decode N]
 *                    [--reps R] [--rounds R] [--batches 4,16] [--no-ref]
 *                    [--ref-python PATH] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "models/llama.h"

#define PROMPT 128
#define MAX_THR 8
#define MAX_BATCHES 4
#define MAX_ROUNDS 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int32_t argmax(const float *v, int32_t n)
{
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[b])
            b = i;
    return b;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parses "1,2,4" into at most max positive ints; returns the count (0 on error). */
static int parse_list(char *s, int *out, int max)
{
    int n = 0;
    for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
        if (n == max || atoi(t) < 1)
            return 0;
        out[n++] = atoi(t);
    }
    return n;
}

/* tok/s figures of one round, per thread count */
typedef struct figures {
    double prompt, decode, batch[MAX_BATCHES]; /* verinfer */
    double ref_prompt, ref_decode;             /* llama.cpp; 0 when not measured */
} figures;

typedef struct bench {
    vi_llama *m;
    int32_t V, n_dec;
    int reps;
    int32_t *prompt; /* [PROMPT + MAX sequences] */
    float *logits;   /* [16 + 1][V] */
    float *saved;    /* [16][V]: logits after the prefill */
    vi_error err;
} bench;

/* Prefills B sequences (prompt shifted by the sequence index) in one call. */
static int prefill(bench *b, vi_llama_ctx *c, vi_kv_cache **kc, int B, float *lg)
{
    int n = B * PROMPT;
    vi_kv_cache **cs = malloc((size_t)n * sizeof *cs);
    int32_t *tok = malloc((size_t)n * sizeof *tok);
    uint8_t *want = calloc((size_t)n, 1);
    int ok = cs && tok && want;
    for (int s = 0; ok && s < B; s++) {
        vi_kv_cache_truncate(kc[s], 0);
        for (int i = 0; i < PROMPT; i++) {
            cs[s * PROMPT + i] = kc[s];
            tok[s * PROMPT + i] = b->prompt[i + s];
        }
        want[s * PROMPT + PROMPT - 1] = 1;
    }
    ok = ok && vi_llama_forward(c, cs, tok, n, want, lg, &b->err) == VI_OK;
    free(cs), free(tok), free(want);
    return ok;
}

/* Best-of-reps seconds of n_dec decode steps over B sequences after their
 * prefill (done once: each repetition truncates the caches back to the
 * prompt and restores its logits). */
static int decode_steps(bench *b, vi_llama_ctx *c, vi_kv_cache **kc, int B, double *best)
{
    int32_t next[16];
    size_t lg_bytes = (size_t)B * (size_t)b->V * sizeof(float);
    *best = 1e30;
    if (!prefill(b, c, kc, B, b->saved))
        return 0;
    for (int r = 0; r < b->reps; r++) {
        for (int s = 0; s < B; s++)
            vi_kv_cache_truncate(kc[s], PROMPT);
        memcpy(b->logits, b->saved, lg_bytes);
        double t0 = now_s();
        for (int i = 0; i < b->n_dec; i++) {
            for (int s = 0; s < B; s++)
                next[s] = argmax(b->logits + (size_t)s * b->V, b->V);
            if (vi_llama_forward(c, kc, next, B, NULL, b->logits, &b->err) != VI_OK)
                return 0;
        }
        double t = now_s() - t0;
        *best = t < *best ? t : *best;
    }
    return 1;
}

/* One round of verinfer figures for one thread count. */
static int measure(bench *b, int threads, vi_isa isa, const int *batches, int n_batches, figures *f,
                   vi_isa *used)
{
    vi_llama_ctx *c = NULL;
    vi_kv_cache *kc[16] = {0};
    int ok = vi_llama_ctx_new(&c, b->m, threads, isa, &b->err) == VI_OK;
    for (int s = 0; ok && s < 16; s++)
        ok = vi_kv_cache_new(&kc[s], b->m, PROMPT + b->n_dec, &b->err) == VI_OK;
    if (ok) {
        *used = vi_llama_ctx_isa(c);
        /* validate: 8 tokens prefilled == the same 8 decoded one by one */
        vi_kv_cache *cs[8] = {kc[0], kc[0], kc[0], kc[0], kc[0], kc[0], kc[0], kc[0]};
        uint8_t want[8] = {0, 0, 0, 0, 0, 0, 0, 1};
        float *lg = b->logits, *lg1 = b->logits + b->V;
        ok = vi_llama_forward(c, cs, b->prompt, 8, want, lg, &b->err) == VI_OK;
        vi_kv_cache_truncate(kc[0], 0);
        for (int i = 0; ok && i < 8; i++)
            ok = vi_llama_forward(c, cs, b->prompt + i, 1, NULL, lg1, &b->err) == VI_OK;
        if (ok && memcmp(lg, lg1, (size_t)b->V * sizeof(float)) != 0) {
            fprintf(stderr, "bench_llama: decode and prefill logits differ\n");
            ok = 0;
        }
    }
    double best_p = 1e30, best_d = 1e30;
    for (int r = 0; ok && r < b->reps; r++) {
        double t0 = now_s();
        ok = prefill(b, c, kc, 1, b->logits);
        double t = now_s() - t0;
        best_p = t < best_p ? t : best_p;
    }
    ok = ok && decode_steps(b, c, kc, 1, &best_d);
    if (ok) {
        f->prompt = PROMPT / best_p;
        f->decode = b->n_dec / best_d;
    }
    for (int i = 0; ok && i < n_batches; i++) {
        double t;
        ok = decode_steps(b, c, kc, batches[i], &t);
        f->batch[i] = (double)batches[i] * b->n_dec / t;
    }
    for (int s = 0; s < 16; s++)
        vi_kv_cache_free(kc[s]);
    vi_llama_ctx_free(c);
    return ok;
}

/* Runs the reference script for the thread counts; fills ref figures of
 * f[thread index]. Returns 0 when it could not run (message printed). */
static int measure_ref(const char *python, const char *model, const int *threads, int n_thr,
                       int n_dec, figures *f)
{
    char cmd[4096], list[64] = "";
    for (int i = 0; i < n_thr; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "", threads[i]);
    snprintf(cmd, sizeof cmd, "'%s' scripts/bench_llama_ref.py '%s' %s %d 2>&1", python, model,
             list, n_dec);
    FILE *p = popen(cmd, "r");
    if (!p) {
        printf("llama.cpp: could not run %s\n", cmd);
        return 0;
    }
    char line[512];
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        int th;
        double pr, de, ms;
        if (sscanf(line, "%d %lf %lf %lf", &th, &pr, &de, &ms) == 4) {
            for (int i = 0; i < n_thr; i++)
                if (threads[i] == th) {
                    f[i].ref_prompt = pr;
                    f[i].ref_decode = de;
                    got++;
                }
        } else if (strncmp(line, "threads", 7) != 0) {
            printf("llama.cpp: %s", line);
        }
    }
    int rc = pclose(p);
    if (rc != 0 || got != n_thr) {
        printf("llama.cpp: reference run failed (exit %d, %d of %d results)\n", rc, got, n_thr);
        return 0;
    }
    return 1;
}

/* best (max) and median of n figures picked by get */
static void stats(const figures *f, int n, double (*get)(const figures *), double *best,
                  double *med)
{
    double v[MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        v[i] = get(&f[i]);
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    *best = v[n - 1];
    *med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double g_prompt(const figures *f)
{
    return f->prompt;
}
static double g_decode(const figures *f)
{
    return f->decode;
}
static double g_ref_prompt(const figures *f)
{
    return f->ref_prompt;
}
static double g_ref_decode(const figures *f)
{
    return f->ref_decode;
}
static double g_b0(const figures *f)
{
    return f->batch[0];
}
static double g_b1(const figures *f)
{
    return f->batch[1];
}
static double g_b2(const figures *f)
{
    return f->batch[2];
}
static double g_b3(const figures *f)
{
    return f->batch[3];
}

static void row(const char *what, const figures *f, int n, double (*get)(const figures *))
{
    double best, med;
    stats(f, n, get, &best, &med);
    if (n > 1)
        printf("  %-38s %9.1f  (median %.1f)\n", what, best, med);
    else
        printf("  %-38s %9.1f\n", what, best);
}

int main(int argc, char **argv)
{
    const char *path = "models/local/SmolLM2-135M-Instruct.Q4_1.gguf";
    const char *python = "build/llmref/bin/python";
    int threads[MAX_THR] = {1, 2}, n_thr = 2, batches[MAX_BATCHES] = {4, 16}, n_batches = 2;
    int n_dec = 128, reps = 3, rounds = 1, use_ref = 1;
    vi_isa isa = VI_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!(n_thr = parse_list(argv[++i], threads, MAX_THR)))
                return fprintf(stderr, "bench_llama: bad --threads\n"), 2;
        } else if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc) {
            if (!(n_batches = parse_list(argv[++i], batches, MAX_BATCHES)))
                return fprintf(stderr, "bench_llama: bad --batches\n"), 2;
        } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            if (vi_isa_parse(argv[++i], &isa) != 0)
                return fprintf(stderr, "bench_llama: unknown isa '%s'\n", argv[i]), 2;
        } else if (strcmp(argv[i], "--decode") == 0 && i + 1 < argc) {
            n_dec = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--no-ref") == 0) {
            use_ref = 0;
        } else if (strcmp(argv[i], "--ref-python") == 0 && i + 1 < argc) {
            python = argv[++i];
        } else {
            path = argv[i];
        }
    }
    if (n_dec < 1 || reps < 1 || rounds < 1 || rounds > MAX_ROUNDS)
        return fprintf(stderr, "bench_llama: --decode, --reps >= 1, --rounds 1..%d\n", MAX_ROUNDS),
               2;
    for (int i = 0; i < n_batches; i++)
        if (batches[i] > 16)
            return fprintf(stderr, "bench_llama: --batches at most 16 sequences\n"), 2;
    bench b = {0};
    double t0 = now_s();
    if (vi_llama_load(&b.m, path, &b.err) != VI_OK)
        return fprintf(stderr, "bench_llama: load: %s\n", b.err.msg), 1;
    double t_load = now_s() - t0;
    const vi_llama_hparams *hp = vi_llama_hparams_of(b.m);
    b.V = hp->n_vocab;
    b.n_dec = n_dec;
    b.reps = reps;
    b.prompt = malloc((PROMPT + 16) * sizeof *b.prompt);
    b.logits = malloc((size_t)b.V * 17 * sizeof(float));
    b.saved = malloc((size_t)b.V * 16 * sizeof(float));
    static figures f[MAX_THR][MAX_ROUNDS];
    if (!b.prompt || !b.logits || !b.saved)
        return fprintf(stderr, "bench_llama: out of memory\n"), 1;
    for (int i = 0; i < PROMPT + 16; i++)
        b.prompt[i] = (int32_t)((i * 7919 + 13) % b.V);
    int ref_installed = use_ref && access(python, X_OK) == 0, have_ref = ref_installed;
    printf("model %s: %d layers, n_embd %d, vocab %d (loaded in %.2f s)\n", path, hp->n_layer,
           hp->n_embd, b.V, t_load);
    vi_isa used = VI_ISA_AUTO;
    for (int r = 0; r < rounds; r++) {
        for (int ti = 0; ti < n_thr; ti++)
            if (!measure(&b, threads[ti], isa, batches, n_batches, &f[ti][r], &used))
                return fprintf(stderr, "bench_llama: %s\n", b.err.msg), 1;
        if (have_ref) {
            figures rf[MAX_THR] = {{0}};
            have_ref = measure_ref(python, path, threads, n_thr, n_dec, rf);
            for (int ti = 0; ti < n_thr; ti++) {
                f[ti][r].ref_prompt = rf[ti].ref_prompt;
                f[ti][r].ref_decode = rf[ti].ref_decode;
            }
        }
    }
    printf("prompt %d tokens, decode %d tokens; tok/s, best of %d%s (isa %s)\n", PROMPT, n_dec,
           reps, rounds > 1 ? " per round, best and median of the rounds" : "", vi_isa_name(used));
    double (*const gb[MAX_BATCHES])(const figures *) = {g_b0, g_b1, g_b2, g_b3};
    for (int ti = 0; ti < n_thr; ti++) {
        figures *ft = f[ti];
        char what[64];
        printf("threads %d\n", threads[ti]);
        row("verinfer  prompt", ft, rounds, g_prompt);
        row("verinfer  decode, batch 1", ft, rounds, g_decode);
        if (have_ref) {
            row("llama.cpp prompt", ft, rounds, g_ref_prompt);
            row("llama.cpp decode, batch 1", ft, rounds, g_ref_decode);
            double bv, mv, br, mr;
            stats(ft, rounds, g_decode, &bv, &mv);
            stats(ft, rounds, g_ref_decode, &br, &mr);
            printf("  %-38s %9.2fx (medians %.2fx)\n", "decode verinfer / llama.cpp", bv / br,
                   mv / mr);
            stats(ft, rounds, g_prompt, &bv, &mv);
            stats(ft, rounds, g_ref_prompt, &br, &mr);
            printf("  %-38s %9.2fx (medians %.2fx)\n", "prompt verinfer / llama.cpp", bv / br,
                   mv / mr);
        }
        for (int i = 0; i < n_batches; i++) {
            snprintf(what, sizeof what, "verinfer  decode, %d sequences (aggr.)", batches[i]);
            row(what, ft, rounds, gb[i]);
        }
    }
    if (use_ref && !ref_installed)
        printf("llama.cpp: not installed (scripts/llm-reference-env.sh)\n");
    free(b.prompt), free(b.logits), free(b.saved);
    vi_llama_free(b.m);
    return 0;
}
