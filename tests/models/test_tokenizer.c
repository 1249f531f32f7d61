/* tests/models/test_tokenizer.c — the tokenizer against llama.cpp: golden
 * ids, detokenised texts and chat renders from tokenizer_cases.h (made by
 * scripts/gen_tokenizer_golden.py) over tiny SPM and byte-level BPE
 * vocabularies built here with core/gguf's writer (always run), and over
 * SmolLM2-135M-Instruct when models/local has it (skipped otherwise);
 * hand-made checks of merge order, byte fallback, space prefix, special
 * tokens, space clean-up, codepoint classes, UTF-8 decoding and every error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/gguf.h"
#include "core/sha256.h"
#include "models/tokenizer.h"
#include "models/tokenizer_impl.h"
#include "models/unicode_tables.h"
#include "test_util.h"
#include "tokenizer_cases.h"

#define REAL_MODEL "models/local/SmolLM2-135M-Instruct.Q4_1.gguf"

/* ==== Building tokenizers from metadata ==== */

static void ok(vi_status st, const vi_error *err, const char *what)
{
    if (st != VI_OK)
        print_error("%s: %s (%s)\n", what, vi_status_str(st), err->msg);
    assert_int_equal(st, VI_OK);
}

/* Opens the writer's image and builds a tokenizer; returns the status and
 * leaves the message in err (the image is freed: the tokenizer copies). */
static vi_status build(vi_gguf_writer *w, vi_tokenizer **t, vi_error *err)
{
    uint8_t *buf;
    size_t size;
    vi_gguf *g;
    ok(vi_gguf_writer_to_memory(w, &buf, &size, err), err, "to_memory");
    ok(vi_gguf_open_memory(&g, buf, size, err), err, "open_memory");
    vi_status st = vi_tokenizer_from_gguf(t, g, err);
    vi_gguf_close(g);
    free(buf);
    vi_gguf_writer_free(w);
    return st;
}

static vi_gguf_writer *tiny_writer(const vt_tiny_vocab *v)
{
    vi_error err = {{0}};
    vi_gguf_writer *w;
    ok(vi_gguf_writer_new(&w, &err), &err, "writer");
    ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.model", v->model, &err), &err, "model");
    if (v->pre)
        ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.pre", v->pre, &err), &err, "pre");
    if (v->add_space_prefix >= 0)
        ok(vi_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", v->add_space_prefix, &err),
           &err, "asp");
    ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", v->tokens, (uint64_t)v->n_tokens,
                                    &err),
       &err, "tokens");
    if (v->scores)
        ok(vi_gguf_writer_set_f32_array(w, "tokenizer.ggml.scores", v->scores,
                                        (uint64_t)v->n_tokens, &err),
           &err, "scores");
    ok(vi_gguf_writer_set_i32_array(w, "tokenizer.ggml.token_type", v->types, (uint64_t)v->n_tokens,
                                    &err),
       &err, "types");
    if (v->merges)
        ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", v->merges,
                                        (uint64_t)v->n_merges, &err),
           &err, "merges");
    if (v->bos >= 0)
        ok(vi_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)v->bos, &err), &err,
           "bos");
    if (v->eos >= 0)
        ok(vi_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)v->eos, &err), &err,
           "eos");
    if (v->unk >= 0)
        ok(vi_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)v->unk, &err),
           &err, "unk");
    if (v->chat_template)
        ok(vi_gguf_writer_set_str(w, "tokenizer.chat_template", v->chat_template, &err), &err,
           "template");
    return w;
}

static vi_tokenizer *tiny(int index)
{
    vi_error err = {{0}};
    vi_tokenizer *t = NULL;
    ok(build(tiny_writer(&vt_tiny_vocabs[index]), &t, &err), &err, vt_tiny_vocabs[index].name);
    return t;
}

/* ==== Checking cases ==== */

static void print_bytes(const char *label, const char *s, size_t n)
{
    fprintf(stderr, "%s \"", label);
    for (size_t i = 0; i < n && i < 120; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "%s\"\n", n > 120 ? "..." : "");
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "%s [", label);
    for (size_t i = 0; i < n && i < 40; i++)
        fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
    fprintf(stderr, "%s] (%zu)\n", n > 40 ? " ..." : "", n);
}

/* 1 if t reproduces c's ids and detokenised text, else 0 (and a report). */
static int case_passes(const vi_tokenizer *t, const vt_tok_case *c, const char *set, size_t index)
{
    vi_error err = {{0}};
    int32_t *ids = NULL;
    size_t n = 0;
    vi_status st =
        vi_tokenize(t, c->text, c->len, c->flags & 1, (c->flags >> 1) & 1, &ids, &n, &err);
    int pass = st == VI_OK && n == c->n_ids && memcmp(ids, c->ids, n * sizeof *ids) == 0;
    char *text = NULL;
    size_t tl = 0;
    if (pass) {
        st = vi_detokenize(t, ids, n, (c->flags >> 1) & 1, &text, &tl, &err);
        pass = st == VI_OK && tl == c->detok_len && memcmp(text, c->detok, tl) == 0 &&
               text[tl] == '\0';
    }
    if (!pass) {
        fprintf(stderr, "%s case %zu (vocab %d, flags %d) differs from llama.cpp: %s\n", set, index,
                c->vocab, c->flags, st == VI_OK ? "" : err.msg);
        print_bytes("  text    ", c->text, c->len);
        print_ids("  expected", c->ids, c->n_ids);
        if (ids)
            print_ids("  got     ", ids, n);
        if (text) {
            print_bytes("  detok expected", c->detok, c->detok_len);
            print_bytes("  detok got     ", text, tl);
        }
    }
    free(ids);
    free(text);
    return pass;
}

static void check_chats(const vi_tokenizer *t, const vt_chat_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vi_chat_msg msgs[8];
        for (int k = 0; k < cases[i].n_msgs; k++)
            msgs[k] = (vi_chat_msg){cases[i].roles[k], cases[i].contents[k]};
        vi_error err = {{0}};
        char *out = NULL;
        ok(vi_chat_apply(t, msgs, (size_t)cases[i].n_msgs, cases[i].add_generation_prompt, &out,
                         &err),
           &err, "chat");
        if (strcmp(out, cases[i].expected) != 0) {
            fprintf(stderr, "chat case %zu differs from the Jinja render\n", i);
            print_bytes("  expected", cases[i].expected, strlen(cases[i].expected));
            print_bytes("  got     ", out, strlen(out));
        }
        assert_string_equal(out, cases[i].expected);
        free(out);
    }
}

static int32_t *tokenize_ok(const vi_tokenizer *t, const char *s, int add, int parse, size_t *n)
{
    vi_error err = {{0}};
    int32_t *ids = NULL;
    ok(vi_tokenize(t, s, strlen(s), add, parse, &ids, n, &err), &err, s);
    assert_non_null(ids);
    return ids;
}

/* Asserts that s tokenises to exactly the given ids. */
static void expect_ids(const vi_tokenizer *t, const char *s, int add, int parse, size_t n_exp,
                       const int32_t *exp)
{
    size_t n;
    int32_t *ids = tokenize_ok(t, s, add, parse, &n);
    if (n != n_exp || memcmp(ids, exp, n * sizeof *ids) != 0) {
        print_bytes("text", s, strlen(s));
        print_ids("expected", exp, n_exp);
        print_ids("got", ids, n);
    }
    assert_int_equal(n, n_exp);
    assert_memory_equal(ids, exp, n * sizeof *ids);
    free(ids);
}

static char *detok_ok(const vi_tokenizer *t, const int32_t *ids, size_t n, int special)
{
    vi_error err = {{0}};
    char *s;
    size_t len;
    ok(vi_detokenize(t, ids, n, special, &s, &len, &err), &err, "detokenize");
    assert_int_equal(strlen(s), len);
    return s;
}

/* ==== Golden cases over the tiny vocabularies ==== */

static void test_tiny_vocab_cases(void **state)
{
    (void)state;
    vi_tokenizer *t[VT_N_TINY_VOCABS];
    for (int i = 0; i < VT_N_TINY_VOCABS; i++)
        t[i] = tiny(i);
    size_t n = sizeof vt_tiny_cases / sizeof vt_tiny_cases[0], passed = 0;
    size_t per[VT_N_TINY_VOCABS] = {0}, per_pass[VT_N_TINY_VOCABS] = {0};
    for (size_t i = 0; i < n; i++) {
        int v = vt_tiny_cases[i].vocab;
        int p = case_passes(t[v], &vt_tiny_cases[i], "tiny", i);
        per[v]++;
        per_pass[v] += (size_t)p;
        passed += (size_t)p;
    }
    for (int i = 0; i < VT_N_TINY_VOCABS; i++)
        print_message("tiny vocabulary %-12s: %zu / %zu cases match llama.cpp\n",
                      vt_tiny_vocabs[i].name, per_pass[i], per[i]);
    assert_int_equal(passed, n);
    assert_true(n > 500);
    check_chats(t[2], vt_chatml_chats, sizeof vt_chatml_chats / sizeof vt_chatml_chats[0]);
    for (int i = 0; i < VT_N_TINY_VOCABS; i++)
        vi_tokenizer_free(t[i]);
}

/* ==== Hand-made vocabularies ==== */

/* A byte-level BPE vocabulary: the 256 byte characters (ids 0..255 in byte
 * order), then extra tokens, with the given merges and pre-tokenizer. */
static vi_tokenizer *byte_bpe(const char *pre, const char *const *extra, int n_extra,
                              const char *const *merges, int n_merges)
{
    const char *toks[300];
    char chars[256][3];
    for (int b = 0; b < 256; b++) {
        int n;
        vi_byte_to_unicode((uint8_t)b, chars[b], &n);
        chars[b][n] = '\0';
        toks[b] = chars[b];
    }
    for (int i = 0; i < n_extra; i++)
        toks[256 + i] = extra[i];
    vi_error err = {{0}};
    vi_gguf_writer *w;
    ok(vi_gguf_writer_new(&w, &err), &err, "writer");
    ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &err), &err, "model");
    ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, &err), &err, "pre");
    ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, (uint64_t)(256 + n_extra),
                                    &err),
       &err, "tokens");
    ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, (uint64_t)n_merges, &err),
       &err, "merges");
    vi_tokenizer *t = NULL;
    ok(build(w, &t, &err), &err, "byte_bpe");
    return t;
}

static void test_bpe_merge_order(void **state)
{
    (void)state;
    /* Lower rank first. */
    const char *ex1[] = {"ab", "bc", "abc"};
    const char *m1[] = {"a b", "b c"};
    vi_tokenizer *t = byte_bpe("smollm", ex1, 3, m1, 2);
    expect_ids(t, "abc", 0, 0, 2, (int32_t[]){256, 'c'});
    vi_tokenizer_free(t);
    const char *m2[] = {"b c", "a b"};
    t = byte_bpe("smollm", ex1, 3, m2, 2);
    expect_ids(t, "abc", 0, 0, 2, (int32_t[]){'a', 257});
    vi_tokenizer_free(t);
    const char *m3[] = {"a b", "b c", "ab c"};
    t = byte_bpe("smollm", ex1, 3, m3, 3);
    expect_ids(t, "abc", 0, 0, 1, (int32_t[]){258});
    vi_tokenizer_free(t);

    /* Equal ranks: the leftmost pair first. */
    const char *ex2[] = {"aa", "aaa"};
    const char *m4[] = {"a a"};
    t = byte_bpe("smollm", ex2, 2, m4, 1);
    expect_ids(t, "aaaa", 0, 0, 2, (int32_t[]){256, 256});
    expect_ids(t, "aaa", 0, 0, 2, (int32_t[]){256, 'a'});
    vi_tokenizer_free(t);

    /* A merge whose result is not a token is spelled with byte tokens. */
    const char *ex3[] = {"yz"};
    const char *m5[] = {"x y", "y z"};
    t = byte_bpe("smollm", ex3, 1, m5, 2);
    expect_ids(t, "xyz", 0, 0, 3, (int32_t[]){'x', 'y', 'z'});
    expect_ids(t, "yz", 0, 0, 1, (int32_t[]){256});
    /* A space is its byte-level character U+0120 (id 32) and starts a word. */
    expect_ids(t, "yz yz", 0, 0, 3, (int32_t[]){256, ' ', 256});
    /* smollm: every digit alone. */
    expect_ids(t, "12", 0, 0, 2, (int32_t[]){'1', '2'});
    vi_tokenizer_free(t);
}

/* A tiny SPM vocabulary: <unk> <s> </s>, byte tokens (all but 0xFF), pieces. */
static vi_tokenizer *spm(int add_space_prefix, int with_ff)
{
    const char *toks[300];
    int32_t types[300];
    float scores[300];
    char hex[256][8];
    int n = 0;
    const char *head[] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < 3; i++) {
        toks[n] = head[i];
        types[n] = i == 0 ? 2 : 3;
        scores[n++] = 0.0f;
    }
    for (int b = 0; b < (with_ff ? 256 : 255); b++) {
        snprintf(hex[b], sizeof hex[b], "<0x%02X>", b);
        toks[n] = hex[b];
        types[n] = 6;
        scores[n++] = 0.0f;
    }
    const char *pieces[] = {"\xe2\x96\x81",
                            "h",
                            "e",
                            "l",
                            "o",
                            "\xe2\x96\x81h",
                            "he",
                            "ll",
                            "\xe2\x96\x81he",
                            "llo",
                            "\xe2\x96\x81hello",
                            "hello"};
    const float sc[] = {-1, -5, -5, -5, -5, -2, -2, -2, -3, -3, -1, -4};
    for (int i = 0; i < 12; i++) {
        toks[n] = pieces[i];
        types[n] = 1;
        scores[n++] = sc[i];
    }
    vi_error err = {{0}};
    vi_gguf_writer *w;
    ok(vi_gguf_writer_new(&w, &err), &err, "writer");
    ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", &err), &err, "model");
    ok(vi_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", add_space_prefix, &err), &err,
       "asp");
    ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, (uint64_t)n, &err), &err,
       "tokens");
    ok(vi_gguf_writer_set_f32_array(w, "tokenizer.ggml.scores", scores, (uint64_t)n, &err), &err,
       "scores");
    ok(vi_gguf_writer_set_i32_array(w, "tokenizer.ggml.token_type", types, (uint64_t)n, &err), &err,
       "types");
    vi_tokenizer *t = NULL;
    ok(build(w, &t, &err), &err, "spm");
    return t;
}

enum { SPM_BYTE0 = 3, SPM_SPACE = 3 + 256 };

static void test_spm_space_prefix_and_bytes(void **state)
{
    (void)state;
    vi_tokenizer *t = spm(1, 1);
    int32_t hello = SPM_SPACE + 10, hello_plain = SPM_SPACE + 11;
    assert_int_equal(vi_tokenizer_add_bos(t), 1);
    assert_int_equal(vi_tokenizer_bos(t), 1);
    expect_ids(t, "hello", 0, 0, 1, (int32_t[]){hello});
    expect_ids(t, "hello", 1, 0, 2, (int32_t[]){1, hello});
    expect_ids(t, "", 1, 0, 1, (int32_t[]){1});
    /* "<s>" is control: text unless parse_special; the fragment after it gets a space too. */
    expect_ids(t, "<s>hello", 0, 1, 2, (int32_t[]){1, hello});
    /* Not in the vocabulary: spelled with <0xXX> tokens (UTF-8 of U+65E5). */
    expect_ids(t, "\xe6\x97\xa5", 0, 0, 4,
               (int32_t[]){SPM_SPACE, SPM_BYTE0 + 0xE6, SPM_BYTE0 + 0x97, SPM_BYTE0 + 0xA5});
    /* A leading BOS takes the one-space removal (remove_special is off). */
    char *s = detok_ok(t, (int32_t[]){1, hello, hello}, 3, 0);
    assert_string_equal(s, " hello hello");
    free(s);
    s = detok_ok(t, (int32_t[]){hello, hello}, 2, 0);
    assert_string_equal(s, "hello hello"); /* the prepended space is removed */
    free(s);
    s = detok_ok(t, (int32_t[]){1, SPM_BYTE0 + 'A', 2}, 3, 1);
    assert_string_equal(s, "<s>A</s>");
    free(s);
    vi_tokenizer_free(t);

    t = spm(0, 1);
    expect_ids(t, "hello", 0, 0, 1, (int32_t[]){hello_plain});
    s = detok_ok(t, (int32_t[]){hello, hello}, 2, 0);
    assert_string_equal(s, " hello hello");
    free(s);
    vi_tokenizer_free(t);

    /* No token for byte 0xFF at all. */
    t = spm(0, 0);
    vi_error err = {{0}};
    int32_t *ids = NULL;
    size_t n;
    assert_int_equal(vi_tokenize(t, "\xff", 1, 0, 0, &ids, &n, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no token for byte 0xFF"));
    assert_null(ids);
    vi_tokenizer_free(t);
}

static void test_special_tokens(void **state)
{
    (void)state;
    vi_tokenizer *t = tiny(2); /* bpe-smollm: 0..2 control, 3 "<tool>" user-defined */
    size_t n;
    int32_t *ids = tokenize_ok(t, "<|im_start|>", 0, 1, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 1);
    free(ids);
    ids = tokenize_ok(t, "<|im_start|>", 0, 0, &n);
    assert_true(n > 1); /* plain text without parse_special */
    free(ids);
    ids = tokenize_ok(t, "<tool>", 0, 0, &n); /* user-defined: always split */
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 3);
    free(ids);
    /* Pieces: control text only when rendering special tokens. */
    vi_error err = {{0}};
    const char *p;
    size_t len;
    ok(vi_token_to_piece(t, 2, 1, &p, &len, &err), &err, "piece");
    assert_int_equal(len, 10);
    assert_memory_equal(p, "<|im_end|>", 10);
    ok(vi_token_to_piece(t, 2, 0, &p, &len, &err), &err, "piece");
    assert_int_equal(len, 0);
    ok(vi_token_to_piece(t, 3, 0, &p, &len, &err), &err, "piece");
    assert_int_equal(len, 6);
    assert_int_equal(vi_tokenizer_is_eog(t, 0), 1); /* <|endoftext|> */
    assert_int_equal(vi_tokenizer_is_eog(t, 2), 1); /* eos <|im_end|> */
    assert_int_equal(vi_tokenizer_is_eog(t, 1), 0);
    assert_int_equal(vi_tokenizer_is_eog(t, -1), 0);
    assert_int_equal(vi_tokenizer_is_eog(t, vi_tokenizer_n_vocab(t)), 0);
    vi_tokenizer_free(t);
}

static void test_clean_spaces(void **state)
{
    (void)state;
    const char *extra[] = {"xx"};
    const char *merges[] = {"x x"};
    /* gpt-2 cleans " ," " 's" " ' " on detokenisation; smollm does not. */
    vi_tokenizer *g = byte_bpe("gpt-2", extra, 1, merges, 1);
    vi_tokenizer *s = byte_bpe("smollm", extra, 1, merges, 1);
    const char *text = "a , b . c ' d 's e 't f 're g 'll";
    size_t n;
    int32_t *ids = tokenize_ok(g, text, 0, 0, &n);
    char *out = detok_ok(g, ids, n, 0);
    assert_string_equal(out, "a, b. c'd's e 't f're g 'll");
    free(out);
    free(ids);
    ids = tokenize_ok(s, text, 0, 0, &n);
    out = detok_ok(s, ids, n, 0);
    assert_string_equal(out, text);
    free(out);
    free(ids);
    vi_tokenizer_free(g);
    vi_tokenizer_free(s);
}

/* ==== Codepoint classes and UTF-8 ==== */

static void test_unicode_classes(void **state)
{
    (void)state;
    assert_string_equal(vi_unicode_version, "14.0.0");
    struct {
        uint32_t cpt;
        uint16_t flags;
    } c[] = {
        {'a', VI_UC_LETTER},
        {'Z', VI_UC_LETTER},
        {'7', VI_UC_NUMBER},
        {' ', VI_UC_SEPARATOR | VI_UC_WHITESPACE},
        {'\n', VI_UC_CONTROL | VI_UC_WHITESPACE},
        {'\x0b', VI_UC_CONTROL | VI_UC_WHITESPACE},
        {'!', VI_UC_PUNCTUATION},
        {'$', VI_UC_SYMBOL},
        {'`', VI_UC_SYMBOL},
        {0x00, VI_UC_CONTROL},
        {0x85, VI_UC_CONTROL | VI_UC_WHITESPACE},
        {0xA0, VI_UC_SEPARATOR | VI_UC_WHITESPACE},
        {0xE9, VI_UC_LETTER},
        {0x0301, VI_UC_MARK},
        {0x0378, VI_UC_UNDEFINED},
        {0x0663, VI_UC_NUMBER},
        {0x2028, VI_UC_SEPARATOR | VI_UC_WHITESPACE},
        {0x200B, VI_UC_CONTROL},
        {0x3000, VI_UC_SEPARATOR | VI_UC_WHITESPACE},
        {0x65E5, VI_UC_LETTER},
        {0xD800, VI_UC_CONTROL},
        {0xE000, VI_UC_CONTROL},
        {0xFFFD, VI_UC_SYMBOL},
        {0x1F600, VI_UC_SYMBOL},
        {0x10FFFF, VI_UC_UNDEFINED},
        {0x110000, VI_UC_UNDEFINED},
        {0xFFFFFFFF, VI_UC_UNDEFINED},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        if (vi_unicode_flags(c[i].cpt) != c[i].flags)
            print_error("U+%04X: flags 0x%x, expected 0x%x\n", c[i].cpt, vi_unicode_flags(c[i].cpt),
                        c[i].flags);
        assert_int_equal(vi_unicode_flags(c[i].cpt), c[i].flags);
    }
}

static void test_utf8_decode(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t n_cpts;
        uint32_t cpts[8];
    } c[] = {
        {"a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 4, {'a', 0xE9, 0x65E5, 0x1F600}},
        {"\xc0\x80", 1, {0}},                                      /* overlong: accepted */
        {"\xed\xa0\x80", 1, {0xD800}},                             /* surrogate: accepted */
        {"\xe2\x82", 2, {0xFFFD, 0xFFFD}},                         /* truncated */
        {"\x80z", 2, {0xFFFD, 'z'}},                               /* stray continuation */
        {"\xf8\xff", 2, {0xFFFD, 0xFFFD}},                         /* invalid lead bytes */
        {"\xf4\x90\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}}, /* above U+10FFFF */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint32_t out[16];
        size_t n = vi_utf8_decode(c[i].s, strlen(c[i].s), out);
        assert_int_equal(n, c[i].n_cpts);
        assert_memory_equal(out, c[i].cpts, n * sizeof *out);
    }
    for (int b = 0; b < 256; b++) {
        char u[2];
        int n;
        vi_byte_to_unicode((uint8_t)b, u, &n);
        uint32_t cpt;
        assert_int_equal(vi_utf8_decode(u, (size_t)n, &cpt), 1);
        assert_int_equal(vi_unicode_to_byte(cpt), b);
    }
    assert_int_equal(vi_unicode_to_byte(0x144), -1);
    assert_int_equal(vi_unicode_to_byte(' '), -1);
}

/* ==== Errors ==== */

/* A writer holding a valid byte-level BPE vocabulary, minus what the test changes. */
static vi_gguf_writer *base_writer(const char *model, const char *pre, int with_tokens,
                                   int with_merges)
{
    static const char *const toks[] = {"a", "b", "ab", "<s>"};
    static const char *const merges[] = {"a b"};
    vi_error err = {{0}};
    vi_gguf_writer *w;
    ok(vi_gguf_writer_new(&w, &err), &err, "writer");
    if (model)
        ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.model", model, &err), &err, "model");
    if (pre)
        ok(vi_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, &err), &err, "pre");
    if (with_tokens)
        ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, 4, &err), &err, "toks");
    if (with_merges)
        ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, 1, &err), &err, "m");
    return w;
}

static void expect_fail(vi_gguf_writer *w, vi_status want, const char *needle)
{
    vi_error err = {{0}};
    static char sentinel;
    vi_tokenizer *t = (vi_tokenizer *)(void *)&sentinel; /* must be reset to NULL */
    vi_status st = build(w, &t, &err);
    if (st != want || !strstr(err.msg, needle))
        print_error("status %s, message \"%s\"; wanted %s with \"%s\"\n", vi_status_str(st),
                    err.msg, vi_status_str(want), needle);
    assert_int_equal(st, want);
    assert_non_null(strstr(err.msg, needle));
    assert_null(t);
}

static void test_load_errors(void **state)
{
    (void)state;
    vi_error err = {{0}};
    expect_fail(base_writer(NULL, NULL, 1, 1), VI_ERR_INVALID, "no tokenizer.ggml.model");
    expect_fail(base_writer("bert", NULL, 1, 1), VI_ERR_UNSUPPORTED,
                "tokenizer.ggml.model 'bert' is not supported");
    expect_fail(base_writer("gpt2", "qwen2", 1, 1), VI_ERR_UNSUPPORTED,
                "tokenizer.ggml.pre 'qwen2' is not supported");
    expect_fail(base_writer("gpt2", "smollm", 0, 1), VI_ERR_INVALID,
                "has no tokenizer.ggml.tokens");
    expect_fail(base_writer("gpt2", "smollm", 1, 0), VI_ERR_INVALID,
                "has no tokenizer.ggml.merges");

    vi_gguf_writer *w = base_writer("gpt2", NULL, 0, 1);
    const char *dup[] = {"a", "b", "a"};
    ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", dup, 3, &err), &err, "dup");
    expect_fail(w, VI_ERR_INVALID, "duplicate token in vocabulary: 'a' has ids 0 and 2");

    w = base_writer("gpt2", NULL, 1, 1);
    const float ft[] = {1, 1, 1, 1};
    ok(vi_gguf_writer_set_f32_array(w, "tokenizer.ggml.token_type", ft, 4, &err), &err, "tt");
    expect_fail(w, VI_ERR_INVALID, "tokenizer.ggml.token_type has elements of type 6");

    w = base_writer("llama", NULL, 1, 0);
    ok(vi_gguf_writer_set_f32_array(w, "tokenizer.ggml.scores", ft, 3, &err), &err, "sc");
    expect_fail(w, VI_ERR_INVALID, "tokenizer.ggml.scores has 3 elements for 4 tokens");

    w = base_writer("gpt2", NULL, 1, 1); /* default BOS id 11 is outside 4 tokens */
    ok(vi_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 1, &err), &err, "ab");
    expect_fail(w, VI_ERR_INVALID,
                "tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");

    w = base_writer("gpt2", NULL, 1, 1);
    ok(vi_gguf_writer_set_u32(w, "tokenizer.ggml.pre", 7, &err), &err, "pre u32");
    expect_fail(w, VI_ERR_INVALID, "tokenizer.ggml.pre");

    /* A byte-level token of characters outside the byte table renders each as a
     * marker that repeats the token: bounded, not the square of the file. */
    w = base_writer("gpt2", NULL, 0, 1);
    char *spaces = malloc(66001);
    assert_non_null(spaces);
    memset(spaces, ' ', 66000);
    spaces[66000] = '\0';
    const char *longtok[] = {"a", spaces, "c", "d"};
    ok(vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", longtok, 4, &err), &err, "long");
    free(spaces);
    expect_fail(w, VI_ERR_LIMIT, "token 1 (66000 bytes) renders as more than 65536 bytes");

    /* A good one: the missing pre means "default"; an out-of-range id keeps the default. */
    w = base_writer("gpt2", NULL, 1, 1);
    ok(vi_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 99, &err), &err, "eos");
    vi_tokenizer *t = NULL;
    ok(build(w, &t, &err), &err, "default");
    assert_int_equal(vi_tokenizer_eos(t), -1);
    assert_int_equal(vi_tokenizer_bos(t), -1);
    assert_int_equal(vi_tokenizer_n_vocab(t), 4);

    /* Bad calls. */
    int32_t *ids = NULL;
    size_t n = 7;
    const char *p;
    size_t len;
    char *text = NULL;
    assert_int_equal(vi_tokenize(t, NULL, 3, 0, 0, &ids, &n, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "NULL argument"));
    assert_int_equal(vi_token_to_piece(t, 4, 1, &p, &len, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "token id 4 is out of range (vocabulary of 4)");
    assert_int_equal(vi_token_to_piece(t, -1, 1, &p, &len, &err), VI_ERR_INVALID);
    assert_int_equal(vi_detokenize(t, (int32_t[]){0, 1, 9}, 3, 0, &text, &len, &err),
                     VI_ERR_INVALID);
    assert_string_equal(err.msg, "token 2: id 9 is out of range (vocabulary of 4)");
    assert_null(text);
    ok(vi_tokenize(t, "", 0, 1, 1, &ids, &n, &err), &err, "empty");
    assert_non_null(ids);
    assert_int_equal(n, 0);
    free(ids);

    /* Chat templates. */
    char *out = NULL;
    vi_chat_msg m = {"user", "hi"};
    assert_int_equal(vi_chat_apply(t, &m, 1, 1, &out, &err), VI_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "chat template: the model has no tokenizer.chat_template");
    vi_tokenizer_free(t);

    w = base_writer("gpt2", NULL, 1, 1);
    ok(vi_gguf_writer_set_str(
           w, "tokenizer.chat_template",
           "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}", &err),
       &err, "tmpl");
    ok(build(w, &t, &err), &err, "llama2 template");
    assert_int_equal(vi_chat_apply(t, &m, 1, 1, &out, &err), VI_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "chat template not supported (only ChatML without tools is): "
                                    "\"{% for m in messages %}[INST]"));
    assert_null(out);
    vi_tokenizer_free(t);

    t = tiny(2);
    vi_chat_msg bad[2] = {{"user", "hi"}, {"assistant", NULL}};
    assert_int_equal(vi_chat_apply(t, bad, 2, 1, &out, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "chat message 1 has a NULL content");
    vi_tokenizer_free(t);
    vi_tokenizer_free(NULL);
}

/* ==== The real model ==== */

static vi_tokenizer *real_model(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/" REAL_MODEL, vt_src());
    if (access(path, R_OK) != 0) {
        print_message("SKIP: %s is absent (scripts/fetch-smollm2.sh fetches it)\n", path);
        return NULL;
    }
    vi_error err = {{0}};
    vi_gguf *g;
    ok(vi_gguf_open(&g, path, &err), &err, path);
    vi_tokenizer *t = NULL;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ok(vi_tokenizer_from_gguf(&t, g, &err), &err, "tokenizer");
    clock_gettime(CLOCK_MONOTONIC, &b);
    vi_gguf_close(g);
    print_message("SmolLM2 tokenizer built in %.1f ms\n",
                  1e3 * (double)(b.tv_sec - a.tv_sec) + 1e-6 * (double)(b.tv_nsec - a.tv_nsec));
    return t;
}

static void pieces_sha256(const vi_tokenizer *t, int special, char hex[65])
{
    vi_error err = {{0}};
    vi_sha256 h;
    ok(vi_sha256_begin(&h, &err), &err, "sha");
    for (int32_t id = 0; id < vi_tokenizer_n_vocab(t); id++) {
        const char *p;
        size_t len;
        ok(vi_token_to_piece(t, id, special, &p, &len, &err), &err, "piece");
        vi_sha256_u32(&h, (uint32_t)len);
        vi_sha256_bytes(&h, p, len);
    }
    uint8_t d[VI_SHA256_LEN];
    ok(vi_sha256_final(&h, d, &err), &err, "sha final");
    for (int i = 0; i < VI_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void test_real_model(void **state)
{
    (void)state;
    vi_tokenizer *t = real_model();
    if (!t) {
        skip();
        return;
    }
    assert_int_equal(vi_tokenizer_n_vocab(t), VT_REAL_N_VOCAB);
    assert_int_equal(vi_tokenizer_bos(t), VT_REAL_BOS);
    assert_int_equal(vi_tokenizer_eos(t), VT_REAL_EOS);
    assert_int_equal(vi_tokenizer_add_bos(t), VT_REAL_ADD_BOS);
    size_t n_eog = sizeof vt_real_eog / sizeof vt_real_eog[0], k = 0;
    for (int32_t id = 0; id < VT_REAL_N_VOCAB; id++) {
        int want = k < n_eog && vt_real_eog[k] == id;
        k += (size_t)want;
        if (vi_tokenizer_is_eog(t, id) != want)
            print_error("token %d: is_eog %d, llama.cpp says %d\n", id, !want, want);
        assert_int_equal(vi_tokenizer_is_eog(t, id), want);
    }
    char hex[65];
    pieces_sha256(t, 1, hex);
    assert_string_equal(hex, VT_REAL_PIECES_SHA256_SPECIAL);
    pieces_sha256(t, 0, hex);
    assert_string_equal(hex, VT_REAL_PIECES_SHA256_PLAIN);

    size_t n = sizeof vt_real_cases / sizeof vt_real_cases[0], passed = 0;
    for (size_t i = 0; i < n; i++)
        passed += (size_t)case_passes(t, &vt_real_cases[i], "real", i);
    print_message("SmolLM2: %zu / %zu cases match llama.cpp (ids and detokenised text)\n", passed,
                  n);
    assert_int_equal(passed, n);
    check_chats(t, vt_real_chats, sizeof vt_real_chats / sizeof vt_real_chats[0]);
    vi_tokenizer_free(t);
}

/* Tokenises 1 MiB made of the golden texts and reports the speed; every
 * chunk must give the same ids as its text alone when cut at special tokens. */
static void test_real_model_speed(void **state)
{
    (void)state;
    vi_tokenizer *t = real_model();
    if (!t) {
        skip();
        return;
    }
    size_t cap = 1u << 20, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; len < cap; i = (i + 1) % (sizeof vt_real_cases / sizeof vt_real_cases[0])) {
        size_t m = vt_real_cases[i].len < cap - len ? vt_real_cases[i].len : cap - len;
        memcpy(text + len, vt_real_cases[i].text, m);
        len += m;
    }
    vi_error err = {{0}};
    int32_t *ids = NULL;
    size_t n = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ok(vi_tokenize(t, text, len, 0, 1, &ids, &n, &err), &err, "1 MiB");
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    print_message("SmolLM2: tokenised %zu bytes into %zu tokens in %.1f ms (%.1f MB/s)\n", len, n,
                  1e3 * s, (double)len / s / 1e6);
    assert_true(n > len / 8);
    assert_true(s < 10.0); /* generous: sanitizer builds included */
    char *back;
    size_t bl;
    ok(vi_detokenize(t, ids, n, 1, &back, &bl, &err), &err, "detok 1 MiB");
    assert_true(bl > len / 2);
    free(back);
    free(ids);
    free(text);
    vi_tokenizer_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unicode_classes), cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_bpe_merge_order), cmocka_unit_test(test_spm_space_prefix_and_bytes),
        cmocka_unit_test(test_special_tokens),  cmocka_unit_test(test_clean_spaces),
        cmocka_unit_test(test_load_errors),     cmocka_unit_test(test_tiny_vocab_cases),
        cmocka_unit_test(test_real_model),      cmocka_unit_test(test_real_model_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
