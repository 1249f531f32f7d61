/* cli/cmd_generate.c — `verinfer generate MODEL.gguf --prompt TEXT`:
 * tokenises the prompt (optionally through the model's chat template),
 * prefills it in one forward call, then decodes token by token with the
 * seeded sampler, streaming each token's bytes to stdout; a one-line
 * summary goes to stderr. The same options give the same bytes anywhere. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cpu/threadpool.h"
#include "models/llama.h"
#include "models/sampler.h"
#include "models/tokenizer.h"

#define GEN_DEFAULT_MAX_TOKENS 128

typedef struct {
    const char *model, *prompt;
    long max_tokens;
    int threads;
    vi_isa isa;
    int chat, raw;
    vi_sampling sp;
} gen_opts;

static void generate_usage(FILE *f)
{
    fprintf(f,
            "usage: verinfer generate MODEL.gguf --prompt TEXT [options]\n\n"
            "Generates text with a llama-architecture GGUF model. Every token is\n"
            "bit-reproducible: the same model, prompt and options give the same output on\n"
            "any machine, thread count or SIMD path.\n\n"
            "options:\n"
            "  --prompt TEXT       the prompt (required)\n"
            "  --max-tokens N      tokens to generate at most (default %d)\n"
            "  --temperature T     0 = greedy (default 0)\n"
            "  --top-k K           keep the K most likely tokens (default 0 = off)\n"
            "  --top-p P           nucleus cut, 0 < P <= 1 (default 1 = off)\n"
            "  --seed S            sampling seed, a non-negative integer (default 0)\n"
            "  --threads N         worker threads (default: the online CPUs, at most 64)\n"
            "  --isa NAME          auto (default), scalar, avx2 or avx512\n"
            "  --chat              wrap the prompt as a user message in the model's chat\n"
            "                      template, with the assistant prompt appended\n"
            "  --raw               tokenise the prompt as plain text: no BOS, no special\n"
            "                      tokens parsed from it\n"
            "  -h, --help          this text\n\n"
            "Generated text streams to stdout; stops at an end-of-generation token, after\n"
            "--max-tokens, or when the model's context is full. A summary line goes to stderr.\n",
            GEN_DEFAULT_MAX_TOKENS);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Parses a float option in [lo, hi]; prints an error naming opt on failure. */
static int parse_float(const char *opt, const char *v, double lo, double hi, int lo_open,
                       float *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d != d || d > hi || d < lo || (lo_open && d == lo)) {
        fprintf(stderr, "verinfer generate: %s needs a number in %s%g, %g] (got '%s')\n", opt,
                lo_open ? "(" : "[", lo, hi, v);
        return -1;
    }
    *out = (float)d;
    return 0;
}

/* Returns CLI_OK, or CLI_USAGE after printing why (or the help, with *help set). */
static int parse_args(int argc, char **argv, gen_opts *o, int *help)
{
    memset(o, 0, sizeof *o);
    o->max_tokens = GEN_DEFAULT_MAX_TOKENS;
    o->isa = VI_ISA_AUTO;
    o->sp.temperature = 0.0f;
    o->sp.top_k = 0;
    o->sp.top_p = 1.0f;
    o->sp.seed = 0;
    *help = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            *help = 1;
            return CLI_OK;
        }
        if (strcmp(a, "--chat") == 0) {
            o->chat = 1;
            continue;
        }
        if (strcmp(a, "--raw") == 0) {
            o->raw = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o->model) {
                fprintf(stderr, "verinfer generate: unexpected argument '%s'\n", a);
                return CLI_USAGE;
            }
            o->model = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "verinfer generate: %s needs a value\n", a);
            return CLI_USAGE;
        }
        const char *v = argv[++i];
        long n;
        if (strcmp(a, "--prompt") == 0) {
            o->prompt = v;
        } else if (strcmp(a, "--max-tokens") == 0) {
            if (cli_parse_int(a, v, 0, 1 << 24, &o->max_tokens) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--temperature") == 0) {
            if (parse_float(a, v, 0.0, 1e6, 0, &o->sp.temperature) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--top-k") == 0) {
            if (cli_parse_int(a, v, 0, INT32_MAX, &n) != 0)
                return CLI_USAGE;
            o->sp.top_k = (int32_t)n;
        } else if (strcmp(a, "--top-p") == 0) {
            if (parse_float(a, v, 0.0, 1.0, 1, &o->sp.top_p) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || *v == '\0' || *end || *v == '-') {
                fprintf(stderr,
                        "verinfer generate: --seed needs a non-negative integer (got '%s')\n", v);
                return CLI_USAGE;
            }
            o->sp.seed = (uint64_t)s;
        } else if (strcmp(a, "--threads") == 0) {
            if (cli_parse_int(a, v, 1, 1024, &n) != 0)
                return CLI_USAGE;
            o->threads = (int)n;
        } else if (strcmp(a, "--isa") == 0) {
            if (vi_isa_parse(v, &o->isa) != 0) {
                fprintf(stderr,
                        "verinfer generate: --isa must be auto, scalar, avx2 or avx512 "
                        "(got '%s')\n",
                        v);
                return CLI_USAGE;
            }
        } else {
            fprintf(stderr, "verinfer generate: unknown option '%s'\n", a);
            return CLI_USAGE;
        }
    }
    if (!o->model || !o->prompt) {
        fprintf(stderr, "verinfer generate: %s\n",
                !o->model ? "MODEL.gguf is required" : "--prompt is required");
        return CLI_USAGE;
    }
    if (o->chat && o->raw) {
        fprintf(stderr, "verinfer generate: --chat and --raw exclude each other\n");
        return CLI_USAGE;
    }
    if (o->threads == 0)
        o->threads = vi_pool_default_threads();
    return CLI_OK;
}

/* The prompt's token ids (chat template applied with --chat). */
static vi_status prompt_tokens(const gen_opts *o, const vi_tokenizer *tk, int32_t **ids, size_t *n,
                               vi_error *err)
{
    if (!o->chat)
        return vi_tokenize(tk, o->prompt, strlen(o->prompt), !o->raw, !o->raw, ids, n, err);
    vi_chat_msg msg = {"user", o->prompt};
    char *text = NULL;
    vi_status st = vi_chat_apply(tk, &msg, 1, 1, &text, err);
    if (st != VI_OK)
        return st;
    st = vi_tokenize(tk, text, strlen(text), 1, 1, ids, n, err);
    free(text);
    return st;
}

int cmd_generate(int argc, char **argv)
{
    gen_opts o;
    int help;
    int rc = parse_args(argc, argv, &o, &help);
    if (help) {
        generate_usage(stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK) {
        fprintf(stderr, "'verinfer generate --help' lists the options\n");
        return rc;
    }
    vi_error err = {{0}};
    vi_llama *m = NULL;
    vi_tokenizer *tk = NULL;
    vi_llama_ctx *ctx = NULL;
    vi_kv_cache *kc = NULL, **rows = NULL;
    int32_t *ids = NULL;
    float *logits = NULL;
    void *scratch = NULL;
    uint8_t *want = NULL;
    size_t n_prompt = 0;
    int64_t n_gen = 0;
    const char *stop = "max-tokens";
    rc = CLI_FAIL;
    if (vi_llama_load(&m, o.model, &err) != VI_OK ||
        vi_tokenizer_from_gguf(&tk, vi_llama_gguf(m), &err) != VI_OK ||
        vi_llama_ctx_new(&ctx, m, o.threads, o.isa, &err) != VI_OK ||
        prompt_tokens(&o, tk, &ids, &n_prompt, &err) != VI_OK)
        goto fail;
    const vi_llama_hparams *hp = vi_llama_hparams_of(m);
    if (n_prompt == 0) {
        vi_fail(&err, VI_ERR_INVALID, "the prompt gives no tokens");
        goto fail;
    }
    if (n_prompt > (size_t)hp->n_ctx_train) {
        vi_fail(&err, VI_ERR_LIMIT, "the prompt has %zu tokens; the model's context is %d",
                n_prompt, (int)hp->n_ctx_train);
        goto fail;
    }
    int64_t n_ctx = (int64_t)n_prompt + o.max_tokens;
    if (n_ctx > hp->n_ctx_train)
        n_ctx = hp->n_ctx_train;
    if (vi_kv_cache_new(&kc, m, (int32_t)n_ctx, &err) != VI_OK)
        goto fail;
    rows = malloc(n_prompt * sizeof *rows);
    want = calloc(n_prompt, 1);
    logits = malloc((size_t)hp->n_vocab * sizeof(float));
    scratch = malloc(vi_sample_scratch_bytes(hp->n_vocab));
    if (!rows || !want || !logits || !scratch) {
        vi_fail(&err, VI_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n_prompt; i++)
        rows[i] = kc;
    want[n_prompt - 1] = 1;
    double t0 = now_s();
    if (vi_llama_forward(ctx, rows, ids, (int32_t)n_prompt, want, logits, &err) != VI_OK)
        goto fail;
    double t1 = now_s(), t_dec = 0.0;
    int64_t n_calls = 0;
    for (;;) {
        if (n_gen == o.max_tokens)
            break;
        int32_t tok;
        int64_t pos = (int64_t)n_prompt + n_gen; /* where the new token goes */
        if (vi_sample(&o.sp, logits, hp->n_vocab, (uint64_t)pos, scratch, &tok, &err) != VI_OK)
            goto fail;
        if (vi_tokenizer_is_eog(tk, tok)) {
            stop = "end-of-generation token";
            break;
        }
        const char *bytes;
        size_t len;
        if (vi_token_to_piece(tk, tok, 0, &bytes, &len, &err) != VI_OK)
            goto fail;
        fwrite(bytes, 1, len, stdout);
        fflush(stdout);
        if (++n_gen == o.max_tokens)
            break; /* no logits needed after the last token */
        if (pos >= n_ctx) {
            stop = "context full";
            break;
        }
        double a = now_s();
        if (vi_llama_forward(ctx, rows, &tok, 1, NULL, logits, &err) != VI_OK)
            goto fail;
        t_dec += now_s() - a;
        n_calls++;
    }
    fprintf(stderr,
            "%sverinfer generate: prompt %zu tokens, generated %lld tokens (stop: %s); prefill "
            "%.1f tok/s, decode %.1f tok/s; seed %llu, temperature %g, %d threads, %s\n",
            isatty(STDERR_FILENO) ? "\n" : "", n_prompt, (long long)n_gen, stop,
            (double)n_prompt / (t1 - t0), t_dec > 0 ? (double)n_calls / t_dec : 0.0,
            (unsigned long long)o.sp.seed, (double)o.sp.temperature, o.threads,
            vi_isa_name(vi_llama_ctx_isa(ctx)));
    rc = CLI_OK;
    goto done;
fail:
    fflush(stdout);
    fprintf(stderr, "verinfer generate: %s\n", err.msg);
done:
    free(ids);
    free(rows);
    free(want);
    free(logits);
    free(scratch);
    vi_kv_cache_free(kc);
    vi_llama_ctx_free(ctx);
    vi_tokenizer_free(tk);
    vi_llama_free(m);
    return rc;
}
