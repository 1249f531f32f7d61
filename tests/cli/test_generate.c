/* tests/cli/test_generate.c — `verinfer generate` on a tiny generated llama
 * model: the streamed bytes equal a greedy decode done through the library,
 * the same for every thread count and ISA, seeded sampling repeatable, the
 * stop reasons, --chat, the summary line, and argument errors (exit 2) and
 * load errors (exit 1) with their messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"
#include "models/gen_llama.h"
#include "models/llama.h"
#include "models/tokenizer.h"
#include "test_util.h"

static char g_dir[512], g_model[600], g_small[600];

static int setup(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gen_llama_opts o;
    vt_tmpdir("generate", g_dir, sizeof g_dir);
    snprintf(g_model, sizeof g_model, "%s/tiny.gguf", g_dir);
    snprintf(g_small, sizeof g_small, "%s/small-ctx.gguf", g_dir);
    vi_gen_llama_defaults(&o);
    if (vi_gen_llama_write(&o, g_model, &err) != VI_OK)
        return -1;
    o.n_ctx = 16;
    return vi_gen_llama_write(&o, g_small, &err) == VI_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_model);
    unlink(g_small);
    rmdir(g_dir);
    return 0;
}

/* Runs `verinfer generate ARGS` with stdout into a file; returns the exit
 * status, the stdout bytes (*out, *out_len) and stderr (*err_text). */
static int gen(const char *args, char **out, size_t *out_len, char **err_text)
{
    char path[700], cmd[4096];
    snprintf(path, sizeof path, "%s/stdout.bin", g_dir);
    snprintf(cmd, sizeof cmd, "{ '%s' generate %s >'%s'; }", vt_bin(), args, path);
    int rc = vt_run(cmd, NULL, err_text);
    *out = vt_read_file(path, out_len);
    assert_non_null(*out);
    unlink(path);
    return rc;
}

/* The greedy continuation of prompt through the library: pieces of n tokens. */
static char *library_greedy(const char *prompt, int n, size_t *len)
{
    vi_error err = {{0}};
    vi_llama *m;
    vi_tokenizer *tk;
    vi_llama_ctx *c;
    vi_kv_cache *kc;
    assert_int_equal(vi_llama_load(&m, g_model, &err), VI_OK);
    assert_int_equal(vi_tokenizer_from_gguf(&tk, vi_llama_gguf(m), &err), VI_OK);
    assert_int_equal(vi_llama_ctx_new(&c, m, 1, VI_ISA_SCALAR, &err), VI_OK);
    int32_t *ids;
    size_t n_ids;
    assert_int_equal(vi_tokenize(tk, prompt, strlen(prompt), 1, 1, &ids, &n_ids, &err), VI_OK);
    assert_int_equal(vi_kv_cache_new(&kc, m, (int32_t)n_ids + n, &err), VI_OK);
    int32_t V = vi_llama_hparams_of(m)->n_vocab;
    float *lg = malloc((size_t)V * 4);
    vi_kv_cache *cs[256];
    uint8_t want[256] = {0};
    assert_true(n_ids <= 256);
    for (int i = 0; i < 256; i++)
        cs[i] = kc;
    want[n_ids - 1] = 1;
    assert_int_equal(vi_llama_forward(c, cs, ids, (int32_t)n_ids, want, lg, &err), VI_OK);
    char *text = malloc(64 * (size_t)n + 1);
    *len = 0;
    for (int s = 0; s < n; s++) {
        int32_t best = 0;
        for (int32_t i = 1; i < V; i++)
            if (lg[i] > lg[best])
                best = i;
        assert_false(vi_tokenizer_is_eog(tk, best)); /* the test expects n tokens */
        const char *b;
        size_t bl;
        assert_int_equal(vi_token_to_piece(tk, best, 0, &b, &bl, &err), VI_OK);
        memcpy(text + *len, b, bl);
        *len += bl;
        assert_int_equal(vi_llama_forward(c, cs, &best, 1, NULL, lg, &err), VI_OK);
    }
    free(lg);
    free(ids);
    vi_kv_cache_free(kc);
    vi_llama_ctx_free(c);
    vi_tokenizer_free(tk);
    vi_llama_free(m);
    return text;
}

static void test_greedy_matches_library(void **state)
{
    (void)state;
    size_t ref_len;
    char *ref = library_greedy("the cat sat on the mat", 20, &ref_len);
    static const char *const variants[] = {"--threads 1 --isa scalar", "--threads 2",
                                           "--threads 3 --isa avx2", "--isa avx512"};
    for (int v = 0; v < 4; v++) {
        if ((v == 2 && !vi_isa_supported(VI_ISA_AVX2)) ||
            (v == 3 && !vi_isa_supported(VI_ISA_AVX512)))
            continue;
        char args[1024];
        snprintf(args, sizeof args, "'%s' --prompt 'the cat sat on the mat' --max-tokens 20 %s",
                 g_model, variants[v]);
        char *out, *err;
        size_t len;
        int rc = gen(args, &out, &len, &err);
        if (rc != 0)
            fail_msg("%s: exit %d: %s", variants[v], rc, err);
        assert_int_equal(len, ref_len);
        assert_memory_equal(out, ref, len);
        assert_non_null(strstr(err, "verinfer generate: prompt "));
        assert_non_null(strstr(err, "generated 20 tokens (stop: max-tokens)"));
        assert_non_null(strstr(err, "seed 0, temperature 0"));
        free(out);
        free(err);
    }
    free(ref);
}

static void test_sampling_repeatable(void **state)
{
    (void)state;
    char args[1024], *a, *b, *c, *ea, *eb, *ec;
    size_t la, lb, lc;
    snprintf(args, sizeof args,
             "'%s' --prompt 'in the' --max-tokens 24 --temperature 1.5 --top-k 50 --top-p 0.95 "
             "--seed 7 --threads 1",
             g_model);
    assert_int_equal(gen(args, &a, &la, &ea), 0);
    snprintf(args, sizeof args,
             "'%s' --prompt 'in the' --max-tokens 24 --temperature 1.5 --top-k 50 --top-p 0.95 "
             "--seed 7 --threads 2 --isa scalar",
             g_model);
    assert_int_equal(gen(args, &b, &lb, &eb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_non_null(strstr(ea, "seed 7, temperature 1.5"));
    snprintf(args, sizeof args,
             "'%s' --prompt 'in the' --max-tokens 24 --temperature 1.5 --top-k 50 --top-p 0.95 "
             "--seed 8",
             g_model);
    assert_int_equal(gen(args, &c, &lc, &ec), 0);
    assert_true(lc != la || memcmp(a, c, la) != 0);
    free(a), free(b), free(c), free(ea), free(eb), free(ec);
}

static void test_stops_and_chat(void **state)
{
    (void)state;
    char args[1024], *out, *err;
    size_t len;
    /* context 16: the token for position 16 is printed, then it stops */
    snprintf(args, sizeof args, "'%s' --prompt ' of the' --max-tokens 100 --raw", g_small);
    assert_int_equal(gen(args, &out, &len, &err), 0);
    assert_non_null(strstr(err, "prompt 2 tokens, generated 15 tokens (stop: context full)"));
    free(out), free(err);
    snprintf(args, sizeof args, "'%s' --prompt 'x' --max-tokens 0", g_model);
    assert_int_equal(gen(args, &out, &len, &err), 0);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err, "prompt 1 tokens, generated 0 tokens (stop: max-tokens)"));
    free(out), free(err);
    /* --chat: the ChatML text with the default system message, tokenised with
     * special tokens: count them through the library */
    vi_error e = {{0}};
    vi_gguf *g;
    vi_tokenizer *tk;
    assert_int_equal(vi_gguf_open(&g, g_model, &e), VI_OK);
    assert_int_equal(vi_tokenizer_from_gguf(&tk, g, &e), VI_OK);
    vi_chat_msg msg = {"user", "hi"};
    char *text;
    int32_t *ids;
    size_t n_ids;
    assert_int_equal(vi_chat_apply(tk, &msg, 1, 1, &text, &e), VI_OK);
    assert_int_equal(vi_tokenize(tk, text, strlen(text), 1, 1, &ids, &n_ids, &e), VI_OK);
    assert_int_equal(ids[0], 1); /* <|im_start|> */
    snprintf(args, sizeof args, "'%s' --prompt hi --chat --max-tokens 3", g_model);
    assert_int_equal(gen(args, &out, &len, &err), 0);
    char want[96];
    snprintf(want, sizeof want, "prompt %zu tokens, generated ", n_ids);
    assert_non_null(strstr(err, want));
    free(out), free(err), free(text), free(ids);
    vi_tokenizer_free(tk);
    vi_gguf_close(g);
}

static void expect_fail(const char *args, int code, const char *msg)
{
    char *out, *err;
    size_t len;
    int rc = gen(args, &out, &len, &err);
    if (rc != code || !err || !strstr(err, msg))
        fail_msg("generate %s: exit %d, stderr '%s'; expected %d with '%s'", args, rc,
                 err ? err : "", code, msg);
    free(out), free(err);
}

static void test_errors(void **state)
{
    (void)state;
    char *out, *err;
    size_t len;
    assert_int_equal(gen("--help", &out, &len, &err), 0);
    assert_non_null(strstr(out, "usage: verinfer generate MODEL.gguf --prompt TEXT"));
    free(out), free(err);
    char a[1024];
    expect_fail("--prompt hi", 2, "MODEL.gguf is required");
    snprintf(a, sizeof a, "'%s'", g_model);
    expect_fail(a, 2, "--prompt is required");
    snprintf(a, sizeof a, "'%s' --prompt hi --temperature -1", g_model);
    expect_fail(a, 2, "--temperature needs a number in [0, 1e+06] (got '-1')");
    snprintf(a, sizeof a, "'%s' --prompt hi --top-p 0", g_model);
    expect_fail(a, 2, "--top-p needs a number in (0, 1] (got '0')");
    snprintf(a, sizeof a, "'%s' --prompt hi --top-k -2", g_model);
    expect_fail(a, 2, "--top-k needs an integer between 0 and");
    snprintf(a, sizeof a, "'%s' --prompt hi --seed x1", g_model);
    expect_fail(a, 2, "--seed needs a non-negative integer (got 'x1')");
    snprintf(a, sizeof a, "'%s' --prompt hi --isa neon", g_model);
    expect_fail(a, 2, "--isa must be auto, scalar, avx2 or avx512 (got 'neon')");
    snprintf(a, sizeof a, "'%s' --prompt hi --chat --raw", g_model);
    expect_fail(a, 2, "--chat and --raw exclude each other");
    snprintf(a, sizeof a, "'%s' --prompt hi --bogus 1", g_model);
    expect_fail(a, 2, "unknown option '--bogus'");
    snprintf(a, sizeof a, "'%s' --prompt", g_model);
    expect_fail(a, 2, "--prompt needs a value");
    snprintf(a, sizeof a, "'%s' --prompt '' --raw", g_model);
    expect_fail(a, 1, "the prompt gives no tokens");
    snprintf(a, sizeof a, "'%s/absent.gguf' --prompt hi", g_dir);
    expect_fail(a, 1, "absent.gguf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_matches_library),
        cmocka_unit_test(test_sampling_repeatable),
        cmocka_unit_test(test_stops_and_chat),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
