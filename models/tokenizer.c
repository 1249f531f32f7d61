/* models/tokenizer.c — the tokenizer object and vi_tokenize: special tokens
 * are split out of the text first (longest first, every occurrence, as
 * llama.cpp's tokenizer_st_partition), then each remaining text fragment is
 * pre-tokenized and merged (byte-level BPE) or space-escaped and merged
 * (SPM), with BOS / EOS added as the model asks. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

/* ==== Object ==== */

vi_status vi_tokenizer_from_gguf(vi_tokenizer **out, const vi_gguf *g, vi_error *err)
{
    if (!out || !g)
        return vi_fail(err, VI_ERR_INVALID, "vi_tokenizer_from_gguf: NULL argument");
    *out = NULL;
    vi_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory");
    t->bos = t->eos = t->unk = -1;
    vi_status st = vi_tokenizer_load(t, g, err);
    if (st == VI_OK)
        st = vi_tokenizer_build_pieces(t, err);
    if (st != VI_OK) {
        vi_tokenizer_free(t);
        return st;
    }
    *out = t;
    return VI_OK;
}

void vi_tokenizer_free(vi_tokenizer *t)
{
    if (!t)
        return;
    vi_strtab_free(&t->strs);
    vi_pairtab_free(&t->pairs);
    free(t->scores);
    free(t->attr);
    free(t->eog);
    free(t->special);
    free(t->pieces);
    free(t->piece_off);
    free(t->chat_template);
    free(t);
}

int32_t vi_tokenizer_n_vocab(const vi_tokenizer *t)
{
    return t->n_vocab;
}

int32_t vi_tokenizer_bos(const vi_tokenizer *t)
{
    return t->bos;
}

int32_t vi_tokenizer_eos(const vi_tokenizer *t)
{
    return t->eos;
}

int vi_tokenizer_is_eog(const vi_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->n_vocab && t->eog[id];
}

int vi_tokenizer_add_bos(const vi_tokenizer *t)
{
    return t->add_bos;
}

/* ==== Special-token partition ==== */

/* A piece of the input: a token (tok >= 0) or raw text [off, off + len). */
typedef struct frag {
    int32_t tok;
    size_t off, len;
} frag;

typedef struct fvec {
    frag *v;
    size_t n, cap;
} fvec;

static vi_status fpush(fvec *a, frag f, vi_error *err)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        frag *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %zu text fragments",
                           cap);
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = f;
    return VI_OK;
}

/* Cuts every occurrence of special token id out of the raw fragments of in. */
static vi_status split_on(const vi_tokenizer *t, const char *text, int32_t id, const fvec *in,
                          fvec *out, vi_error *err)
{
    uint32_t slen;
    const char *s = vi_tok_text(t, id, &slen);
    vi_status st = VI_OK;
    out->n = 0;
    for (size_t i = 0; i < in->n && st == VI_OK; i++) {
        frag f = in->v[i];
        if (f.tok >= 0) {
            st = fpush(out, f, err);
            continue;
        }
        size_t p = f.off, end = f.off + f.len;
        while (st == VI_OK && end - p >= slen) {
            const char *m = memmem(text + p, end - p, s, slen);
            if (!m)
                break;
            size_t at = (size_t)(m - text);
            if (at > p)
                st = fpush(out, (frag){-1, p, at - p}, err);
            if (st == VI_OK)
                st = fpush(out, (frag){id, 0, 0}, err);
            p = at + slen;
        }
        if (st == VI_OK && p < end)
            st = fpush(out, (frag){-1, p, end - p}, err);
    }
    return st;
}

static vi_status partition(const vi_tokenizer *t, const char *text, size_t len, int parse_special,
                           fvec *cur, vi_error *err)
{
    fvec tmp = {0};
    vi_status st = VI_OK;
    cur->n = 0;
    if (len == 0)
        return VI_OK;
    if ((st = fpush(cur, (frag){-1, 0, len}, err)) != VI_OK)
        return st;
    for (int32_t k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        if (!parse_special && (t->attr[id] & (VI_TATTR_CONTROL | VI_TATTR_UNKNOWN)))
            continue; /* only user-defined tokens are split without parse_special */
        if ((st = split_on(t, text, id, cur, &tmp, err)) != VI_OK)
            break;
        fvec swap = *cur;
        *cur = tmp;
        tmp = swap;
    }
    free(tmp.v);
    return st;
}

/* ==== Fragments ==== */

typedef struct work {
    vi_merge_scratch ms;
    uint32_t *cpts;
    size_t cpts_cap;
    char *bytes;
    size_t bytes_cap;
    vi_zvec words;
} work;

static vi_status bpe_fragment(const vi_tokenizer *t, const char *text, size_t len, work *w,
                              vi_ivec *out, vi_error *err)
{
    vi_status st;
    void *p = w->cpts;
    st = vi_scratch_reserve(&p, &w->cpts_cap, len * sizeof *w->cpts, err);
    w->cpts = p;
    if (st != VI_OK)
        return st;
    size_t n = vi_utf8_decode(text, len, w->cpts);
    if ((st = vi_pretokenize(t->pre, w->cpts, n, &w->words, err)) != VI_OK)
        return st;
    size_t at = 0;
    for (size_t i = 0; i < w->words.n; i++) {
        size_t wl = w->words.v[i];
        p = w->bytes;
        st = vi_scratch_reserve(&p, &w->bytes_cap, 4 * wl, err);
        w->bytes = p;
        if (st != VI_OK)
            return st;
        size_t k = 0;
        for (size_t j = 0; j < wl; j++)
            k += (size_t)vi_utf8_encode(w->cpts[at + j], w->bytes + k);
        at += wl;
        if ((st = vi_bpe_word(t, (const uint8_t *)w->bytes, k, &w->ms, out, err)) != VI_OK)
            return st;
    }
    return VI_OK;
}

/* SPM: optional leading space, then every ' ' becomes U+2581. */
static vi_status spm_fragment(const vi_tokenizer *t, const char *text, size_t len, int prefix,
                              work *w, vi_ivec *out, vi_error *err)
{
    void *p = w->bytes;
    vi_status st = vi_scratch_reserve(&p, &w->bytes_cap, 3 * (len + 1), err);
    w->bytes = p;
    if (st != VI_OK)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < len + (size_t)(prefix != 0); i++) {
        char c = (prefix && i == 0) ? ' ' : text[i - (size_t)(prefix != 0)];
        if (c == ' ') {
            memcpy(w->bytes + k, "\xe2\x96\x81", 3);
            k += 3;
        } else {
            w->bytes[k++] = c;
        }
    }
    return vi_spm_fragment(t, w->bytes, k, &w->ms, out, err);
}

vi_status vi_tokenize(const vi_tokenizer *t, const char *text, size_t len, int add_special,
                      int parse_special, int32_t **ids, size_t *n_ids, vi_error *err)
{
    if (!t || (!text && len) || !ids || !n_ids)
        return vi_fail(err, VI_ERR_INVALID, "vi_tokenize: NULL argument");
    *ids = NULL;
    *n_ids = 0;
    fvec frags = {0};
    vi_ivec out = {0};
    work w = {0};
    vi_status st = partition(t, text, len, parse_special, &frags, err);
    if (st == VI_OK && add_special && t->add_bos)
        st = vi_ivec_push(&out, t->bos, err);
    int prev_special = 1; /* SPM: a fragment at the start or after a token gets a space */
    for (size_t i = 0; i < frags.n && st == VI_OK; i++) {
        frag f = frags.v[i];
        if (f.tok >= 0) {
            st = vi_ivec_push(&out, f.tok, err);
            prev_special = 1;
        } else if (t->kind == VI_TOK_BPE) {
            st = bpe_fragment(t, text + f.off, f.len, &w, &out, err);
        } else {
            st = spm_fragment(t, text + f.off, f.len, t->add_space_prefix && prev_special, &w, &out,
                              err);
            prev_special = 0;
        }
    }
    if (st == VI_OK && add_special && t->add_eos)
        st = vi_ivec_push(&out, t->eos, err);
    if (st == VI_OK && out.n > (size_t)INT32_MAX)
        st = vi_fail(err, VI_ERR_LIMIT, "tokenizer: %zu tokens exceed the limit of %d", out.n,
                     INT32_MAX);
    if (st == VI_OK && !out.v) { /* a non-NULL empty result */
        st = vi_ivec_push(&out, 0, err);
        out.n = 0;
    }
    free(frags.v);
    free(w.cpts);
    free(w.bytes);
    free(w.words.v);
    vi_merge_scratch_free(&w.ms);
    if (st != VI_OK) {
        free(out.v);
        return st;
    }
    *ids = out.v;
    *n_ids = out.n;
    return VI_OK;
}
