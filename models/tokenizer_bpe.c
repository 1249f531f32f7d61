/* models/tokenizer_bpe.c — byte-level BPE of one pre-tokenized word, as
 * llama.cpp does it: each byte starts as its own symbol (its byte-level
 * character), then the adjacent pair with the lowest merge rank is merged,
 * the leftmost pair first among equal ranks, until no pair has a rank.
 * Symbols whose text is not a token are spelled with single-byte tokens
 * (bytes without one are dropped, as in llama.cpp). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct bsym {
    int32_t prev, next;
    uint32_t start, n; /* bytes of the word */
    int32_t id;        /* string id of the symbol's text, -1 if it has none */
} bsym;

/* Queues the pair (left, right) if the merges know it. */
static vi_status add_pair(const vi_tokenizer *t, vi_merge_scratch *s, int32_t left, int32_t right,
                          vi_error *err)
{
    if (left < 0 || right < 0)
        return VI_OK;
    const bsym *sym = s->sym;
    if (sym[left].id < 0 || sym[right].id < 0)
        return VI_OK;
    const vi_pair_entry *e = vi_pairtab_get(&t->pairs, sym[left].id, sym[right].id);
    if (!e)
        return VI_OK;
    /* ranks are below 2^24, so -rank is exact in a float */
    vi_merge_pair p = {-(float)e->rank, left, right, sym[left].n + sym[right].n, e->merged};
    return vi_merge_heap_push(s, p, err);
}

/* The byte-level text of word[0..n) into s->buf; returns its length or -1. */
static long encode_bytes(vi_merge_scratch *s, const uint8_t *word, size_t n)
{
    if (s->buf_cap < 2 * n) {
        char *b = realloc(s->buf, 2 * n);
        if (!b)
            return -1;
        s->buf = b;
        s->buf_cap = 2 * n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int m;
        vi_byte_to_unicode(word[i], s->buf + k, &m);
        k += (size_t)m;
    }
    return (long)k;
}

/* Emits a final symbol: its token, or its byte-level text spelled bytewise. */
static vi_status emit_symbol(const vi_tokenizer *t, vi_merge_scratch *s, const uint8_t *word,
                             const bsym *y, vi_ivec *out, vi_error *err)
{
    if (y->id >= 0 && y->id < t->n_vocab)
        return vi_ivec_push(out, y->id, err);
    long k = encode_bytes(s, word + y->start, y->n);
    if (k < 0)
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory spelling a %u-byte symbol",
                       y->n);
    for (long i = 0; i < k; i++) {
        int32_t id = vi_strtab_find(&t->strs, s->buf + i, 1);
        if (id >= 0 && id < t->n_vocab) {
            vi_status st = vi_ivec_push(out, id, err);
            if (st != VI_OK)
                return st;
        }
    }
    return VI_OK;
}

vi_status vi_bpe_word(const vi_tokenizer *t, const uint8_t *word, size_t n, vi_merge_scratch *s,
                      vi_ivec *out, vi_error *err)
{
    vi_status st = VI_OK;
    if (n == 0)
        return VI_OK;
    if (n > INT32_MAX / 2)
        return vi_fail(err, VI_ERR_LIMIT, "tokenizer: a %zu-byte word is too long", n);
    if (t->ignore_merges) {
        long k = encode_bytes(s, word, n);
        if (k < 0)
            return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for a %zu-byte word", n);
        int32_t id = vi_strtab_find(&t->strs, s->buf, (size_t)k);
        if (id >= 0 && id < t->n_vocab)
            return vi_ivec_push(out, id, err);
    }
    if ((st = vi_scratch_reserve(&s->sym, &s->sym_bytes, n * sizeof(bsym), err)) != VI_OK)
        return st;
    bsym *sym = s->sym;
    for (size_t i = 0; i < n; i++) {
        sym[i].prev = (int32_t)i - 1;
        sym[i].next = (i + 1 == n) ? -1 : (int32_t)i + 1;
        sym[i].start = (uint32_t)i;
        sym[i].n = 1;
        sym[i].id = t->byte_sym[word[i]];
    }
    s->heap_n = 0;
    for (size_t i = 1; i < n; i++)
        if ((st = add_pair(t, s, (int32_t)i - 1, (int32_t)i, err)) != VI_OK)
            return st;

    while (s->heap_n > 0) {
        vi_merge_pair p = vi_merge_heap_pop(s);
        bsym *l = &sym[p.left], *r = &sym[p.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != p.size)
            continue; /* one side changed since it was queued */
        l->n += r->n;
        r->n = 0;
        l->id = p.merged;
        l->next = r->next;
        if (r->next >= 0)
            sym[r->next].prev = p.left;
        if ((st = add_pair(t, s, l->prev, p.left, err)) != VI_OK ||
            (st = add_pair(t, s, p.left, l->next, err)) != VI_OK)
            return st;
    }
    for (int32_t i = 0; i != -1; i = sym[i].next)
        if ((st = emit_symbol(t, s, word, &sym[i], out, err)) != VI_OK)
            return st;
    return VI_OK;
}

/* ==== The merge queue shared with the SPM tokenizer ==== */

static int pair_before(const vi_merge_pair *a, const vi_merge_pair *b)
{
    return a->priority > b->priority || (a->priority == b->priority && a->left < b->left);
}

vi_status vi_merge_heap_push(vi_merge_scratch *s, vi_merge_pair x, vi_error *err)
{
    vi_status st = vi_scratch_reserve(&s->heap, &s->heap_bytes, (s->heap_n + 1) * sizeof x, err);
    if (st != VI_OK)
        return st;
    vi_merge_pair *h = s->heap;
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pair_before(&x, &h[up]))
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = x;
    return VI_OK;
}

vi_merge_pair vi_merge_heap_pop(vi_merge_scratch *s)
{
    vi_merge_pair *h = s->heap;
    vi_merge_pair top = h[0];
    vi_merge_pair last = h[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && pair_before(&h[c + 1], &h[c]))
            c++;
        if (!pair_before(&h[c], &last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (n > 0)
        h[i] = last;
    return top;
}

vi_status vi_scratch_reserve(void **p, size_t *have, size_t need, vi_error *err)
{
    if (*have >= need)
        return VI_OK;
    size_t cap = *have ? *have : 4096;
    while (cap < need)
        cap *= 2;
    void *q = realloc(*p, cap);
    if (!q)
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %zu bytes of scratch", cap);
    *p = q;
    *have = cap;
    return VI_OK;
}

void vi_merge_scratch_free(vi_merge_scratch *s)
{
    if (!s)
        return;
    free(s->sym);
    free(s->heap);
    free(s->buf);
    memset(s, 0, sizeof *s);
}
