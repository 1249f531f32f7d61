/* models/tokenizer_piece.c — token ids back to bytes, as llama.cpp's
 * llama_token_to_piece and llama_detokenize do: the per-token piece cache
 * (byte-level characters decoded for BPE, U+2581 unescaped for SPM, <0xXX>
 * byte tokens as their byte, control text only on request), the removal of
 * the leading space an SPM tokenizer prepended, and the "clean up
 * tokenization spaces" passes of the models that ask for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "tokenizer_impl.h"

/* ==== Building the cache ==== */

/* Bounds on what the cache may hold. A byte-level BPE token's characters
 * outside the byte table each repeat the whole token text (as llama.cpp
 * renders them), so a crafted vocabulary could ask for the square of its
 * size; real vocabularies need a few bytes per token. */
#define PIECE_MAX ((size_t)64 << 10)  /* one token's piece */
#define CACHE_MAX ((size_t)256 << 20) /* all pieces */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

/* 0, -1 out of memory, -2 over CACHE_MAX. */
static int sbuf_put(sbuf *b, const void *s, size_t n)
{
    if (n > CACHE_MAX - b->n)
        return -2;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

/* A byte-level BPE token's bytes: each character is one byte; a character
 * outside the table becomes "[UNK_BYTE_0x<its UTF-8 in hex><token text>]".
 * -3 when such a marker would take the piece past PIECE_MAX; else as
 * sbuf_put. */
static int decode_bpe(sbuf *b, const char *text, uint32_t len, uint32_t *cpts)
{
    size_t n = vi_utf8_decode(text, len, cpts), start = b->n;
    int rc;
    for (size_t i = 0; i < n; i++) {
        int byte = vi_unicode_to_byte(cpts[i]);
        if (byte >= 0) {
            char c = (char)byte;
            if ((rc = sbuf_put(b, &c, 1)) != 0)
                return rc;
            continue;
        }
        char u[4], hex[9];
        int m = vi_utf8_encode(cpts[i], u);
        if (b->n - start + 12 + 2 * (size_t)m + len + 1 > PIECE_MAX)
            return -3; /* the marker repeats the whole token */
        if ((rc = sbuf_put(b, "[UNK_BYTE_0x", 12)) != 0)
            return rc;
        vi_hex_encode((const uint8_t *)u, (size_t)m, hex);
        if ((rc = sbuf_put(b, hex, 2 * (size_t)m)) != 0 || (rc = sbuf_put(b, text, len)) != 0 ||
            (rc = sbuf_put(b, "]", 1)) != 0)
            return rc;
    }
    return 0;
}

/* An SPM token's text with every U+2581 turned back into a space. */
static int decode_spm(sbuf *b, const char *text, uint32_t len)
{
    int rc;
    for (uint32_t i = 0; i < len;) {
        if (i + 3 <= len && memcmp(text + i, "\xe2\x96\x81", 3) == 0) {
            if ((rc = sbuf_put(b, " ", 1)) != 0)
                return rc;
            i += 3;
        } else {
            if ((rc = sbuf_put(b, text + i, 1)) != 0)
                return rc;
            i++;
        }
    }
    return 0;
}

/* <0xXX>: the two characters after "<0x" read as hex (strtol-like: stops at
 * the first non-hex character). */
static char byte_of_token(const char *text, uint32_t len)
{
    unsigned v = 0;
    for (uint32_t i = 3; i < len && i < 5; i++) {
        char c = text[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        v = v * 16 + (unsigned)d;
    }
    return (char)(uint8_t)v;
}

vi_status vi_tokenizer_build_pieces(vi_tokenizer *t, vi_error *err)
{
    sbuf b = {0};
    uint32_t max_len = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (t->strs.len[id] > max_len)
            max_len = t->strs.len[id];
    uint32_t *cpts = malloc(((size_t)max_len + 1) * sizeof *cpts);
    t->piece_off = malloc(((size_t)t->n_vocab + 1) * sizeof *t->piece_off);
    if (!cpts || !t->piece_off)
        goto nomem;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        uint32_t len;
        const char *text = vi_tok_text(t, id, &len);
        uint8_t a = t->attr[id];
        int rc = 0;
        t->piece_off[id] = b.n;
        if (a & (VI_TATTR_UNKNOWN | VI_TATTR_CONTROL | VI_TATTR_USER_DEFINED)) {
            rc = sbuf_put(&b, text, len);
        } else if (a & VI_TATTR_NORMAL) {
            rc =
                t->kind == VI_TOK_BPE ? decode_bpe(&b, text, len, cpts) : decode_spm(&b, text, len);
        } else if (a & VI_TATTR_BYTE) {
            char c = byte_of_token(text, len);
            rc = sbuf_put(&b, &c, 1);
        } /* other attributes (unused, undefined) render as nothing */
        if (rc == -3 || rc == -2) {
            free(b.p);
            free(cpts);
            if (rc == -3)
                return vi_fail(err, VI_ERR_LIMIT,
                               "tokenizer: token %d (%u bytes) renders as more than %zu bytes", id,
                               len, PIECE_MAX);
            return vi_fail(err, VI_ERR_LIMIT,
                           "tokenizer: the rendered pieces of the %d tokens exceed %zu bytes "
                           "(at token %d)",
                           t->n_vocab, CACHE_MAX, id);
        }
        if (rc)
            goto nomem;
    }
    t->piece_off[t->n_vocab] = b.n;
    int rc = sbuf_put(&b, "", 1); /* never leave pieces NULL */
    if (rc == -2) {
        free(b.p);
        free(cpts);
        return vi_fail(err, VI_ERR_LIMIT,
                       "tokenizer: the rendered pieces of the %d tokens exceed %zu bytes",
                       t->n_vocab, CACHE_MAX);
    }
    if (rc)
        goto nomem;
    t->pieces = b.p;
    free(cpts);
    return VI_OK;
nomem:
    free(b.p);
    free(cpts);
    return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory building the %d token pieces",
                   t->n_vocab);
}

/* ==== Queries ==== */

static void piece_of(const vi_tokenizer *t, int32_t id, int render_special, const char **p,
                     size_t *n)
{
    if (!render_special && (t->attr[id] & (VI_TATTR_UNKNOWN | VI_TATTR_CONTROL))) {
        *p = t->pieces + t->piece_off[t->n_vocab];
        *n = 0;
        return;
    }
    *p = t->pieces + t->piece_off[id];
    *n = (size_t)(t->piece_off[id + 1] - t->piece_off[id]);
}

vi_status vi_token_to_piece(const vi_tokenizer *t, int32_t id, int render_special,
                            const char **bytes, size_t *len, vi_error *err)
{
    if (!t || !bytes || !len)
        return vi_fail(err, VI_ERR_INVALID, "vi_token_to_piece: NULL argument");
    if (id < 0 || id >= t->n_vocab)
        return vi_fail(err, VI_ERR_INVALID, "token id %d is out of range (vocabulary of %d)", id,
                       t->n_vocab);
    piece_of(t, id, render_special, bytes, len);
    return VI_OK;
}

/* llama.cpp's clean_up_tokenization_spaces, three in-place passes:
 * " ?" " !" " ." " ," lose the space; " ' " loses both spaces; " 's" " 'm"
 * " 're" " 've" lose the space. Returns the new length. */
static size_t clean_spaces(char *x, size_t total)
{
    size_t t1 = total;
    total = t1 ? 1 : 0;
    for (size_t i = 1; i < t1; i++) {
        char c = x[i];
        if (x[i - 1] == ' ' && (c == '?' || c == '!' || c == '.' || c == ','))
            total--;
        x[total++] = c;
    }
    size_t t2 = total;
    total = t2 ? 1 : 0;
    for (size_t i = 1; i < t2; i++) {
        char c = x[i];
        if (c == '\'' && i + 1 < t2 && x[i - 1] == ' ' && x[i + 1] == ' ') {
            total--;
            x[++i] = '\0';
        }
        x[total++] = c;
    }
    size_t t3 = total;
    total = t3 ? 1 : 0;
    for (size_t i = 1; i < t3; i++) {
        char c = x[i];
        if (x[i - 1] == ' ' && c == '\'' && i + 1 < t3) {
            char c1 = x[i + 1];
            if (c1 == 's' || c1 == 'm')
                total--;
            else if (c1 != 't' && c1 != 'd' && i + 2 < t3) {
                char c2 = x[i + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e'))
                    total--;
            }
        }
        x[total++] = c;
    }
    return total;
}

vi_status vi_detokenize(const vi_tokenizer *t, const int32_t *ids, size_t n, int render_special,
                        char **text, size_t *len, vi_error *err)
{
    if (!t || (!ids && n) || !text || !len)
        return vi_fail(err, VI_ERR_INVALID, "vi_detokenize: NULL argument");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return vi_fail(err, VI_ERR_INVALID,
                           "token %zu: id %d is out of range (vocabulary of %d)", i, ids[i],
                           t->n_vocab);
        const char *p;
        size_t m;
        piece_of(t, ids[i], render_special, &p, &m);
        total += m;
    }
    char *out = malloc(total + 1);
    if (!out)
        return vi_fail(err, VI_ERR_NOMEM, "vi_detokenize: out of memory for %zu bytes", total + 1);
    size_t k = 0;
    int remove_space = t->add_space_prefix;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t m;
        piece_of(t, ids[i], render_special, &p, &m);
        if (remove_space && m > 0 && p[0] == ' ') {
            p++;
            m--;
        }
        remove_space = 0;
        memcpy(out + k, p, m);
        k += m;
    }
    if (t->clean_spaces)
        k = clean_spaces(out, k);
    out[k] = '\0';
    *text = out;
    *len = k;
    return VI_OK;
}
