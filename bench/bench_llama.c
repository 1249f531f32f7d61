/* bench/bench_llama.c — llama forward throughput on a GGUF model (default:
 * the SmolLM2-135M-Instruct Q4_1 file): prefill tok/s of a 128-token prompt
 * (logits of the last row only) and batch-1 greedy decode tok/s, for 1 and
 * 2 threads (or the counts given). Before timing it checks that decoding
 * token by token gives the bits of the prefill.
 *
 * usage: bench_llama [MODEL.gguf] [--threads 1,2] [--isa NAME] [--decode N] [--reps R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/llama.h"

#define PROMPT 128

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int argmax(const float *v, int32_t n)
{
    int b = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[b])
            b = (int)i;
    return b;
}

static int die(const char *what, const vi_error *err)
{
    fprintf(stderr, "bench_llama: %s: %s\n", what, err->msg);
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = "models/local/SmolLM2-135M-Instruct.Q4_1.gguf";
    int threads[8] = {1, 2}, n_thr = 2, n_dec = 64, reps = 3;
    vi_isa isa = VI_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n_thr = 0;
            for (char *s = strtok(argv[++i], ","); s && n_thr < 8; s = strtok(NULL, ","))
                threads[n_thr++] = atoi(s);
        } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            if (vi_isa_parse(argv[++i], &isa) != 0)
                return fprintf(stderr, "bench_llama: unknown isa '%s'\n", argv[i]), 2;
        } else if (strcmp(argv[i], "--decode") == 0 && i + 1 < argc) {
            n_dec = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            path = argv[i];
        }
    }
    if (n_dec < 1 || reps < 1)
        return fprintf(stderr, "bench_llama: --decode and --reps must be >= 1\n"), 2;
    vi_error err = {{0}};
    vi_llama *m;
    double t0 = now_s();
    if (vi_llama_load(&m, path, &err) != VI_OK)
        return die("load", &err);
    double t_load = now_s() - t0;
    const vi_llama_hparams *hp = vi_llama_hparams_of(m);
    int32_t V = hp->n_vocab, n_ctx = PROMPT + n_dec;
    int32_t *tok = malloc((size_t)n_ctx * sizeof *tok);
    float *lg = malloc((size_t)V * 2 * sizeof(float));
    vi_kv_cache **cs = malloc((size_t)n_ctx * sizeof *cs);
    uint8_t *want = calloc((size_t)PROMPT, 1);
    want[PROMPT - 1] = 1;
    for (int i = 0; i < PROMPT; i++)
        tok[i] = (int32_t)((i * 7919 + 13) % V);
    printf("model %s: %d layers, n_embd %d, vocab %d (loaded in %.2f s)\n", path, hp->n_layer,
           hp->n_embd, V, t_load);
    printf("%-8s %-7s %12s %12s %12s\n", "threads", "isa", "prefill t/s", "decode t/s",
           "decode ms/t");
    for (int ti = 0; ti < n_thr; ti++) {
        vi_llama_ctx *c;
        vi_kv_cache *kc;
        if (vi_llama_ctx_new(&c, m, threads[ti], isa, &err) != VI_OK)
            return die("ctx", &err);
        if (vi_kv_cache_new(&kc, m, n_ctx, &err) != VI_OK)
            return die("cache", &err);
        for (int i = 0; i < n_ctx; i++)
            cs[i] = kc;
        /* validate: 8 tokens prefilled == the same 8 decoded one by one */
        if (vi_llama_forward(c, cs, tok, 8, want + PROMPT - 8, lg, &err) != VI_OK)
            return die("forward", &err);
        vi_kv_cache_truncate(kc, 0);
        for (int i = 0; i < 8; i++)
            if (vi_llama_forward(c, cs, tok + i, 1, NULL, lg + V, &err) != VI_OK)
                return die("forward", &err);
        if (memcmp(lg, lg + V, (size_t)V * sizeof(float)) != 0) {
            fprintf(stderr, "bench_llama: decode and prefill logits differ\n");
            return 1;
        }
        double best_p = 1e30, best_d = 1e30;
        for (int r = 0; r < reps; r++) {
            vi_kv_cache_truncate(kc, 0);
            double a = now_s();
            if (vi_llama_forward(c, cs, tok, PROMPT, want, lg, &err) != VI_OK)
                return die("prefill", &err);
            double b = now_s();
            for (int i = 0; i < n_dec; i++) {
                int32_t next = argmax(lg, V);
                if (vi_llama_forward(c, cs, &next, 1, NULL, lg, &err) != VI_OK)
                    return die("decode", &err);
            }
            double d = now_s();
            if (b - a < best_p)
                best_p = b - a;
            if (d - b < best_d)
                best_d = d - b;
        }
        printf("%-8d %-7s %12.1f %12.1f %12.2f\n", threads[ti], vi_isa_name(vi_llama_ctx_isa(c)),
               PROMPT / best_p, n_dec / best_d, 1e3 * best_d / n_dec);
        vi_kv_cache_free(kc);
        vi_llama_ctx_free(c);
    }
    free(tok), free(lg), free(cs), free(want);
    vi_llama_free(m);
    return 0;
}
