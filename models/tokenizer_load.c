/* models/tokenizer_load.c — reading a tokenizer out of GGUF metadata with
 * llama.cpp's rules: vocabulary model and pre-tokenizer name -> flags,
 * tokens / scores / token types, BPE merges, byte symbols, special token ids
 * (explicit keys, then detection by text), the end-of-generation set and the
 * list of tokens split out of the text before tokenising. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

/* ==== Metadata helpers ==== */

/* Optional string: *present = 0 when absent; other failures pass through. */
static vi_status opt_str(const vi_gguf *g, const char *key, vi_gguf_str *s, int *present,
                         vi_error *err)
{
    vi_status st = vi_gguf_get_str(g, key, s, err);
    *present = (st == VI_OK);
    return st == VI_ERR_NOT_FOUND ? VI_OK : st;
}

static vi_status opt_bool(const vi_gguf *g, const char *key, int *v, vi_error *err)
{
    int b;
    vi_status st = vi_gguf_get_bool(g, key, &b, err);
    if (st == VI_OK)
        *v = b != 0;
    return st == VI_ERR_NOT_FOUND ? VI_OK : st;
}

/* Optional token id: an id outside the vocabulary keeps *id (llama.cpp warns). */
static vi_status opt_id(const vi_gguf *g, const char *key, int32_t n_vocab, int32_t *id,
                        vi_error *err)
{
    uint32_t v;
    vi_status st = vi_gguf_get_u32(g, key, &v, err);
    if (st == VI_ERR_NOT_FOUND)
        return VI_OK;
    if (st != VI_OK)
        return st;
    if (v < (uint32_t)n_vocab)
        *id = (int32_t)v;
    return VI_OK;
}

/* Copies a gguf string into a NUL-terminated buffer, truncated to fit. */
static const char *cstr(vi_gguf_str s, char *buf, size_t cap)
{
    size_t n = s.len < cap - 1 ? (size_t)s.len : cap - 1;
    memcpy(buf, s.ptr, n);
    buf[n] = '\0';
    return buf;
}

/* ==== Model and pre-tokenizer names ==== */

typedef struct pre_name {
    const char *name;
    vi_pre_kind pre;
    int clean_spaces, ignore_merges, add_bos;
} pre_name;

/* The names llama.cpp maps to the four regex families supported here, with
 * the flags it sets for each ("gpt2" is accepted as an alias of "gpt-2"). */
static const pre_name PRE_NAMES[] = {
    {"default", VI_PRE_DEFAULT, 1, 0, 0},
    {"llama3", VI_PRE_LLAMA3, 1, 1, 1},
    {"llama-v3", VI_PRE_LLAMA3, 1, 1, 1},
    {"llama-bpe", VI_PRE_LLAMA3, 1, 1, 1},
    {"falcon3", VI_PRE_LLAMA3, 1, 1, 1},
    {"falcon-h1", VI_PRE_LLAMA3, 1, 1, 1},
    {"pixtral", VI_PRE_LLAMA3, 1, 1, 1},
    {"midm-2.0", VI_PRE_LLAMA3, 1, 1, 1},
    {"lfm2", VI_PRE_LLAMA3, 1, 1, 1},
    {"dbrx", VI_PRE_LLAMA3, 1, 0, 0},
    {"smaug-bpe", VI_PRE_LLAMA3, 1, 0, 0},
    {"gpt-2", VI_PRE_GPT2, 1, 0, 0},
    {"gpt2", VI_PRE_GPT2, 1, 0, 0},
    {"phi-2", VI_PRE_GPT2, 1, 0, 0},
    {"jina-es", VI_PRE_GPT2, 1, 0, 0},
    {"jina-de", VI_PRE_GPT2, 1, 0, 0},
    {"gigachat", VI_PRE_GPT2, 1, 0, 0},
    {"jina-v2-es", VI_PRE_GPT2, 1, 0, 0},
    {"jina-v2-de", VI_PRE_GPT2, 1, 0, 0},
    {"mpt", VI_PRE_GPT2, 1, 0, 0},
    {"olmo", VI_PRE_GPT2, 1, 0, 0},
    {"jais", VI_PRE_GPT2, 1, 0, 0},
    {"exaone4", VI_PRE_GPT2, 1, 0, 0},
    {"trillion", VI_PRE_GPT2, 0, 0, 0},
    {"granite-docling", VI_PRE_GPT2, 0, 0, 0},
    {"starcoder", VI_PRE_STARCODER, 1, 0, 0},
    {"refact", VI_PRE_STARCODER, 1, 0, 0},
    {"codeshell", VI_PRE_STARCODER, 1, 0, 0},
    {"exaone", VI_PRE_STARCODER, 1, 0, 0},
    {"minerva-7b", VI_PRE_STARCODER, 1, 0, 0},
    {"command-r", VI_PRE_STARCODER, 0, 0, 0},
    {"smollm", VI_PRE_STARCODER, 0, 0, 0},
};

static vi_status read_kind(vi_tokenizer *t, const vi_gguf *g, vi_error *err)
{
    char buf[96];
    vi_gguf_str model;
    int present;
    vi_status st = opt_str(g, "tokenizer.ggml.model", &model, &present, err);
    if (st != VI_OK)
        return st;
    if (!present)
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: the model has no tokenizer.ggml.model");
    if (vi_gguf_str_eq(model, "gpt2")) {
        t->kind = VI_TOK_BPE;
        t->pre = VI_PRE_DEFAULT;
        t->clean_spaces = 1;
        vi_gguf_str pre;
        if ((st = opt_str(g, "tokenizer.ggml.pre", &pre, &present, err)) != VI_OK)
            return st;
        if (present) {
            size_t i = 0, n = sizeof PRE_NAMES / sizeof PRE_NAMES[0];
            while (i < n && !vi_gguf_str_eq(pre, PRE_NAMES[i].name))
                i++;
            if (i == n)
                return vi_fail(err, VI_ERR_UNSUPPORTED,
                               "tokenizer: tokenizer.ggml.pre '%s' is not supported (supported: "
                               "default, gpt-2, smollm/starcoder, llama3 families; see "
                               "docs/tokenizer.md)",
                               cstr(pre, buf, sizeof buf));
            t->pre = PRE_NAMES[i].pre;
            t->clean_spaces = PRE_NAMES[i].clean_spaces;
            t->ignore_merges = PRE_NAMES[i].ignore_merges;
            t->add_bos = PRE_NAMES[i].add_bos;
        }
    } else if (vi_gguf_str_eq(model, "llama")) {
        t->kind = VI_TOK_SPM;
        t->add_space_prefix = 1;
        t->add_bos = 1;
    } else {
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "tokenizer: tokenizer.ggml.model '%s' is not supported (gpt2, llama)",
                       cstr(model, buf, sizeof buf));
    }
    return opt_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix, err);
}

/* ==== Vocabulary ==== */

static uint8_t attr_of_type(int32_t type)
{
    switch (type) {
    case 1:
        return VI_TATTR_NORMAL;
    case 2:
        return VI_TATTR_UNKNOWN;
    case 3:
        return VI_TATTR_CONTROL;
    case 4:
        return VI_TATTR_USER_DEFINED;
    case 5:
        return VI_TATTR_UNUSED;
    case 6:
        return VI_TATTR_BYTE;
    default:
        return 0; /* undefined */
    }
}

/* Packed numeric array of at least n elements of one of the allowed types. */
static vi_status numeric_array(const vi_gguf *g, const char *key, uint64_t n, int allow_f32,
                               vi_gguf_vtype *et, const void **data, int *present, vi_error *err)
{
    uint64_t count;
    vi_status st = vi_gguf_array_data(g, key, et, &count, data, err);
    *present = st == VI_OK;
    if (st == VI_ERR_NOT_FOUND)
        return VI_OK;
    if (st != VI_OK)
        return st;
    if (*et != VI_GGUF_I32 && !(allow_f32 && *et == VI_GGUF_F32))
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: %s has elements of type %d, expected %s",
                       key, (int)*et, allow_f32 ? "i32 or f32" : "i32");
    if (count < n)
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: %s has %llu elements for %llu tokens", key,
                       (unsigned long long)count, (unsigned long long)n);
    return VI_OK;
}

static vi_status read_vocab(vi_tokenizer *t, const vi_gguf *g, vi_error *err)
{
    const char *key = "tokenizer.ggml.tokens";
    vi_gguf_vtype et;
    uint64_t n;
    vi_status st = vi_gguf_get_array(g, key, &et, &n, err);
    if (st == VI_ERR_NOT_FOUND)
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: the model has no %s", key);
    if (st != VI_OK)
        return st;
    if (et != VI_GGUF_STRING)
        return vi_fail(err, VI_ERR_INVALID,
                       "tokenizer: %s has elements of type %d, expected string", key, (int)et);
    if (n == 0 || n > (uint64_t)INT32_MAX / 2)
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: %s has %llu tokens (1 .. %d allowed)", key,
                       (unsigned long long)n, INT32_MAX / 2);
    t->n_vocab = (int32_t)n;
    t->scores = calloc(n, sizeof *t->scores);
    t->attr = calloc(n, 1);
    t->eog = calloc(n, 1);
    if (!t->scores || !t->attr || !t->eog)
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %llu tokens",
                       (unsigned long long)n);

    for (uint64_t i = 0; i < n; i++) {
        vi_gguf_str s;
        if ((st = vi_gguf_array_str(g, key, i, &s, err)) != VI_OK)
            return st;
        char empty[32];
        if (s.len == 0) { /* llama.cpp renames empty tokens */
            int k = snprintf(empty, sizeof empty, "[EMPTY_%llu]", (unsigned long long)i);
            s.ptr = empty;
            s.len = (uint64_t)k;
        }
        int32_t id;
        int added;
        if ((st = vi_strtab_add(&t->strs, s.ptr, (size_t)s.len, &id, &added, err)) != VI_OK)
            return st;
        if (!added) {
            char buf[64];
            return vi_fail(err, VI_ERR_INVALID,
                           "tokenizer: duplicate token in vocabulary: '%s' has ids %d and %llu",
                           cstr(s, buf, sizeof buf), id, (unsigned long long)i);
        }
        t->attr[i] = VI_TATTR_NORMAL;
    }

    const void *data;
    int present;
    if ((st = numeric_array(g, "tokenizer.ggml.scores", n, 1, &et, &data, &present, err)) != VI_OK)
        return st;
    for (uint64_t i = 0; present && i < n; i++) {
        if (et == VI_GGUF_F32) {
            memcpy(&t->scores[i], (const char *)data + 4 * i, 4);
        } else {
            int32_t v;
            memcpy(&v, (const char *)data + 4 * i, 4);
            t->scores[i] = (float)v;
        }
    }
    if ((st = numeric_array(g, "tokenizer.ggml.token_type", n, 0, &et, &data, &present, err)) !=
        VI_OK)
        return st;
    for (uint64_t i = 0; present && i < n; i++) {
        int32_t v;
        memcpy(&v, (const char *)data + 4 * i, 4);
        t->attr[i] = attr_of_type(v);
    }
    return VI_OK;
}

/* "left right" strings: ranks in file order; the first of a repeated pair wins. */
static vi_status read_merges(vi_tokenizer *t, const vi_gguf *g, vi_error *err)
{
    const char *key = "tokenizer.ggml.merges";
    vi_gguf_vtype et;
    uint64_t n;
    char *cat = NULL;
    size_t cat_cap = 0;
    vi_status st = vi_gguf_get_array(g, key, &et, &n, err);
    if (st == VI_ERR_NOT_FOUND)
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: the BPE model has no %s", key);
    if (st != VI_OK)
        return st;
    if (et != VI_GGUF_STRING)
        return vi_fail(err, VI_ERR_INVALID,
                       "tokenizer: %s has elements of type %d, expected string", key, (int)et);
    if (n > (uint64_t)INT32_MAX)
        return vi_fail(err, VI_ERR_INVALID, "tokenizer: %s has %llu merges", key,
                       (unsigned long long)n);
    if ((st = vi_pairtab_init(&t->pairs, n, err)) != VI_OK)
        return st;
    for (uint64_t i = 0; i < n; i++) {
        vi_gguf_str s;
        if ((st = vi_gguf_array_str(g, key, i, &s, err)) != VI_OK)
            goto done;
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', (size_t)s.len - 1) : NULL;
        if (!sp)
            continue; /* llama.cpp keeps it as an empty pair, which never matches */
        size_t ln = (size_t)(sp - s.ptr), rn = (size_t)s.len - ln - 1;
        if (ln + rn > cat_cap) {
            char *c = realloc(cat, ln + rn);
            if (!c) {
                st = vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory reading merge %llu",
                             (unsigned long long)i);
                goto done;
            }
            cat = c;
            cat_cap = ln + rn;
        }
        memcpy(cat, s.ptr, ln);
        memcpy(cat + ln, sp + 1, rn);
        int32_t l, r, m;
        if ((st = vi_strtab_add(&t->strs, s.ptr, ln, &l, NULL, err)) != VI_OK ||
            (st = vi_strtab_add(&t->strs, sp + 1, rn, &r, NULL, err)) != VI_OK ||
            (st = vi_strtab_add(&t->strs, cat, ln + rn, &m, NULL, err)) != VI_OK)
            goto done;
        vi_pairtab_put(&t->pairs, l, r, (int32_t)i, m);
    }
done:
    free(cat);
    return st;
}

static void byte_tables(vi_tokenizer *t)
{
    for (int b = 0; b < 256; b++) {
        char c[2];
        int n;
        vi_byte_to_unicode((uint8_t)b, c, &n);
        t->byte_sym[b] = vi_strtab_find(&t->strs, c, (size_t)n);
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        int32_t id = vi_strtab_find(&t->strs, hex, 6);
        if (id < 0 || id >= t->n_vocab) {
            char raw = (char)b;
            id = vi_strtab_find(&t->strs, &raw, 1);
        }
        t->byte_tok[b] = (id >= 0 && id < t->n_vocab) ? id : -1;
    }
}

/* ==== Special tokens ==== */

static const char *const EOT_TEXTS[] = {"<|eot_id|>",
                                        "<|im_end|>",
                                        "<|end|>",
                                        "<end_of_turn>",
                                        "<|endoftext|>",
                                        "<|end_of_text|>",
                                        "<EOT>",
                                        "_<EOT>",
                                        "[EOT]",
                                        "<\xef\xbd\x9c"
                                        "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                        "<end_of_utterance>",
                                        NULL};
static const char *const EOM_TEXTS[] = {"<|eom_id|>", NULL};
static const char *const FIM_PRE_TEXTS[] = {"<|fim_prefix|>",
                                            "<fim-prefix>",
                                            "<fim_prefix>",
                                            "<\xef\xbd\x9c"
                                            "fim\xe2\x96\x81"
                                            "begin\xef\xbd\x9c>",
                                            "<PRE>",
                                            "\xe2\x96\x81<PRE>",
                                            "<|code_prefix|>",
                                            "<|prefix|>",
                                            NULL};
static const char *const FIM_SUF_TEXTS[] = {"<|fim_suffix|>",
                                            "<fim-suffix>",
                                            "<fim_suffix>",
                                            "<\xef\xbd\x9c"
                                            "fim\xe2\x96\x81hole\xef\xbd\x9c>",
                                            "<SUF>",
                                            "\xe2\x96\x81<SUF>",
                                            "<|code_suffix|>",
                                            "<|suffix|>",
                                            NULL};
static const char *const FIM_MID_TEXTS[] = {"<|fim_middle|>",
                                            "<fim-middle>",
                                            "<fim_middle>",
                                            "<\xef\xbd\x9c"
                                            "fim\xe2\x96\x81"
                                            "end\xef\xbd\x9c>",
                                            "<MID>",
                                            "\xe2\x96\x81<MID>",
                                            "<|code_middle|>",
                                            "<|middle|>",
                                            NULL};
static const char *const FIM_PAD_TEXTS[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>",
                                            "<PAD>",       "[PAD]",     NULL};
static const char *const FIM_REP_TEXTS[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                            "<REPO>",       "<reponame>",    NULL};
static const char *const FIM_SEP_TEXTS[] = {"<|file_sep|>", NULL};
static const char *const EOG_TEXTS[] = {"<|eot_id|>",
                                        "<|im_end|>",
                                        "<|end|>",
                                        "<|return|>",
                                        "<|call|>",
                                        "<|flush|>",
                                        "<|calls|>",
                                        "<end_of_turn>",
                                        "<|endoftext|>",
                                        "</s>",
                                        "<|eom_id|>",
                                        "<EOT>",
                                        "_<EOT>",
                                        "[EOT]",
                                        "[EOS]",
                                        "<|end_of_text|>",
                                        "<end_of_utterance>",
                                        "<eos>",
                                        "<turn|>",
                                        "<|tool_response>",
                                        "<\xef\xbd\x9c"
                                        "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                        "[e~[",
                                        NULL};

static int32_t find_text(const vi_tokenizer *t, const char *s)
{
    int32_t id = vi_strtab_find(&t->strs, s, strlen(s));
    return id < t->n_vocab ? id : -1;
}

/* When *id is unset: the lowest id whose text is in texts becomes it and is
 * marked CONTROL (llama.cpp takes the first in hash order; see docs). */
static void detect(vi_tokenizer *t, int32_t *id, const char *const *texts)
{
    if (*id >= 0)
        return;
    for (size_t i = 0; texts[i]; i++) {
        int32_t c = find_text(t, texts[i]);
        if (c >= 0 && (*id < 0 || c < *id))
            *id = c;
    }
    if (*id >= 0)
        t->attr[*id] |= VI_TATTR_CONTROL;
}

typedef struct special_key {
    uint32_t len;
    int32_t id;
} special_key;

/* Longest text first; equal lengths by increasing id. */
static int cmp_special(const void *a, const void *b)
{
    const special_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static vi_status read_specials(vi_tokenizer *t, const vi_gguf *g, vi_error *err)
{
    int32_t n = t->n_vocab;
    int32_t eot = -1, eom = -1, fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1,
            fim_rep = -1, fim_sep = -1;
    if (t->kind == VI_TOK_SPM) {
        t->bos = 1;
        t->eos = 2;
        t->unk = 0;
    } else {
        t->bos = 11;
        t->eos = 11;
        t->unk = -1;
    }
    if (t->bos >= n)
        t->bos = -1;
    if (t->eos >= n)
        t->eos = -1;
    if (t->unk >= n)
        t->unk = -1;
    struct {
        const char *key;
        int32_t *id;
    } keys[] = {
        {"tokenizer.ggml.bos_token_id", &t->bos},
        {"tokenizer.ggml.eos_token_id", &t->eos},
        {"tokenizer.ggml.eot_token_id", &eot},
        {"tokenizer.ggml.eom_token_id", &eom},
        {"tokenizer.ggml.unknown_token_id", &t->unk},
        {"tokenizer.ggml.fim_pre_token_id", &fim_pre},
        {"tokenizer.ggml.fim_suf_token_id", &fim_suf},
        {"tokenizer.ggml.fim_mid_token_id", &fim_mid},
        {"tokenizer.ggml.fim_pad_token_id", &fim_pad},
        {"tokenizer.ggml.fim_rep_token_id", &fim_rep},
        {"tokenizer.ggml.fim_sep_token_id", &fim_sep},
        {"tokenizer.ggml.prefix_token_id", &fim_pre},
        {"tokenizer.ggml.suffix_token_id", &fim_suf},
        {"tokenizer.ggml.middle_token_id", &fim_mid},
    };
    vi_status st;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if ((st = opt_id(g, keys[i].key, n, keys[i].id, err)) != VI_OK)
            return st;
    if ((st = opt_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos, err)) != VI_OK ||
        (st = opt_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos, err)) != VI_OK)
        return st;
    if (t->add_bos && t->bos < 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "tokenizer: tokenizer.ggml.add_bos_token is true, but "
                       "tokenizer.ggml.bos_token_id is not set");
    if (t->add_eos && t->eos < 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "tokenizer: tokenizer.ggml.add_eos_token is true, but "
                       "tokenizer.ggml.eos_token_id is not set");

    detect(t, &eot, EOT_TEXTS);
    detect(t, &eom, EOM_TEXTS);
    detect(t, &fim_pre, FIM_PRE_TEXTS);
    detect(t, &fim_suf, FIM_SUF_TEXTS);
    detect(t, &fim_mid, FIM_MID_TEXTS);
    detect(t, &fim_pad, FIM_PAD_TEXTS);
    detect(t, &fim_rep, FIM_REP_TEXTS);
    detect(t, &fim_sep, FIM_SEP_TEXTS);

    int32_t eog_ids[] = {fim_pad, fim_rep, fim_sep, t->eos, eot, eom};
    for (size_t i = 0; i < sizeof eog_ids / sizeof eog_ids[0]; i++)
        if (eog_ids[i] >= 0)
            t->eog[eog_ids[i]] = 1;
    for (size_t i = 0; EOG_TEXTS[i]; i++) {
        int32_t id = find_text(t, EOG_TEXTS[i]);
        if (id >= 0) {
            t->eog[id] = 1;
            t->attr[id] |= VI_TATTR_CONTROL;
        }
    }

    int32_t count = 0;
    for (int32_t id = 0; id < n; id++)
        count += (t->attr[id] & (VI_TATTR_CONTROL | VI_TATTR_USER_DEFINED | VI_TATTR_UNKNOWN)) != 0;
    size_t slots = (size_t)(count ? count : 1);
    special_key *keys_sorted = malloc(slots * sizeof *keys_sorted);
    t->special = malloc(slots * sizeof *t->special);
    if (!keys_sorted || !t->special) {
        free(keys_sorted);
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %d special tokens", count);
    }
    t->n_special = 0;
    for (int32_t id = 0; id < n; id++)
        if (t->attr[id] & (VI_TATTR_CONTROL | VI_TATTR_USER_DEFINED | VI_TATTR_UNKNOWN))
            keys_sorted[t->n_special++] = (special_key){t->strs.len[id], id};
    qsort(keys_sorted, (size_t)t->n_special, sizeof *keys_sorted, cmp_special);
    for (int32_t i = 0; i < t->n_special; i++)
        t->special[i] = keys_sorted[i].id;
    free(keys_sorted);
    return VI_OK;
}

/* ==== Entry point ==== */

vi_status vi_tokenizer_load(vi_tokenizer *t, const vi_gguf *g, vi_error *err)
{
    vi_status st;
    if ((st = read_kind(t, g, err)) != VI_OK || (st = read_vocab(t, g, err)) != VI_OK)
        return st;
    if (t->kind == VI_TOK_BPE && (st = read_merges(t, g, err)) != VI_OK)
        return st;
    byte_tables(t);
    if ((st = read_specials(t, g, err)) != VI_OK)
        return st;
    vi_gguf_str tmpl;
    int present;
    if ((st = opt_str(g, "tokenizer.chat_template", &tmpl, &present, err)) != VI_OK)
        return st;
    if (present) {
        t->chat_template = malloc((size_t)tmpl.len + 1);
        if (!t->chat_template)
            return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for the chat template");
        memcpy(t->chat_template, tmpl.ptr, (size_t)tmpl.len);
        t->chat_template[tmpl.len] = '\0';
    }
    return VI_OK;
}
