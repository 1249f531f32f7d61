/* models/tokenizer_spm.c — SentencePiece BPE ("llama" vocabularies) of one
 * text fragment, as llama.cpp does it: the fragment (spaces already escaped
 * to U+2581) starts as one symbol per UTF-8 character; the adjacent pair
 * whose concatenation is the token with the highest score is merged, the
 * leftmost first among equal scores, until no concatenation is a token.
 * A symbol that is not a token is spelled with byte tokens (<0xXX>, else the
 * raw one-byte token). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct ssym {
    int32_t prev, next;
    uint32_t start, n;
} ssym;

/* The token whose text is text[0..n), or -1. */
static int32_t vocab_find(const vi_tokenizer *t, const char *text, size_t n)
{
    int32_t id = vi_strtab_find(&t->strs, text, n);
    return (id >= 0 && id < t->n_vocab) ? id : -1;
}

/* Queues (left, right) if their concatenation is a token. */
static vi_status add_pair(const vi_tokenizer *t, vi_merge_scratch *s, const char *text,
                          int32_t left, int32_t right, vi_error *err)
{
    if (left < 0 || right < 0)
        return VI_OK;
    const ssym *sym = s->sym;
    uint32_t size = sym[left].n + sym[right].n;
    int32_t id = vocab_find(t, text + sym[left].start, size);
    if (id < 0)
        return VI_OK;
    vi_merge_pair p = {t->scores[id], left, right, size, -1};
    return vi_merge_heap_push(s, p, err);
}

/* Length of the UTF-8 character that starts with byte b (1 for a stray
 * continuation byte), as llama.cpp's lead-byte table gives it. */
static uint32_t utf8_len(uint8_t b)
{
    static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len[b >> 4];
}

vi_status vi_spm_fragment(const vi_tokenizer *t, const char *text, size_t n, vi_merge_scratch *s,
                          vi_ivec *out, vi_error *err)
{
    vi_status st = VI_OK;
    if (n == 0)
        return VI_OK;
    if (n > INT32_MAX / 2)
        return vi_fail(err, VI_ERR_LIMIT, "tokenizer: a %zu-byte fragment is too long", n);
    if ((st = vi_scratch_reserve(&s->sym, &s->sym_bytes, n * sizeof(ssym), err)) != VI_OK)
        return st;
    ssym *sym = s->sym;
    int32_t count = 0;
    for (size_t off = 0; off < n;) {
        uint32_t len = utf8_len((uint8_t)text[off]);
        if (len > n - off)
            len = (uint32_t)(n - off);
        sym[count].prev = count - 1;
        sym[count].start = (uint32_t)off;
        sym[count].n = len;
        off += len;
        sym[count].next = (off == n) ? -1 : count + 1;
        count++;
    }
    s->heap_n = 0;
    for (int32_t i = 1; i < count; i++)
        if ((st = add_pair(t, s, text, i - 1, i, err)) != VI_OK)
            return st;

    while (s->heap_n > 0) {
        vi_merge_pair p = vi_merge_heap_pop(s);
        ssym *l = &sym[p.left], *r = &sym[p.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != p.size)
            continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            sym[r->next].prev = p.left;
        if ((st = add_pair(t, s, text, l->prev, p.left, err)) != VI_OK ||
            (st = add_pair(t, s, text, p.left, l->next, err)) != VI_OK)
            return st;
    }

    for (int32_t i = 0; i != -1; i = sym[i].next) {
        int32_t id = vocab_find(t, text + sym[i].start, sym[i].n);
        if (id >= 0) {
            if ((st = vi_ivec_push(out, id, err)) != VI_OK)
                return st;
            continue;
        }
        for (uint32_t j = 0; j < sym[i].n; j++) {
            uint8_t b = (uint8_t)text[sym[i].start + j];
            if (t->byte_tok[b] < 0)
                return vi_fail(err, VI_ERR_INVALID,
                               "tokenizer: the vocabulary has no token for byte 0x%02X "
                               "(neither <0x%02X> nor the raw byte)",
                               b, b);
            if ((st = vi_ivec_push(out, t->byte_tok[b], err)) != VI_OK)
                return st;
        }
    }
    return VI_OK;
}
