/* models/tokenizer_strtab.c — the tokenizer's lookup structures: growable
 * vectors, the interned-string table (token text -> id, open addressing) and
 * the BPE pair table ((left id, right id) -> merge rank and merged id). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

/* ==== Vectors ==== */

vi_status vi_ivec_push(vi_ivec *a, int32_t x, vi_error *err)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory growing a list of %zu ids",
                           a->n);
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return VI_OK;
}

vi_status vi_zvec_push(vi_zvec *a, size_t x, vi_error *err)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        size_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return vi_fail(err, VI_ERR_NOMEM,
                           "tokenizer: out of memory growing a list of %zu words", a->n);
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return VI_OK;
}

/* ==== Hash ==== */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t vi_tok_hash(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)s[i] << (8 * i);
    return mix64(h ^ tail);
}

/* ==== String table ==== */

int32_t vi_strtab_find(const vi_strtab *t, const char *s, size_t n)
{
    if (!t->slot)
        return -1;
    uint64_t i = vi_tok_hash(s, n) & t->slot_mask;
    for (;;) {
        uint32_t v = t->slot[i];
        if (v == 0)
            return -1;
        int32_t id = (int32_t)(v - 1);
        if (t->len[id] == n && memcmp(t->pool + t->off[id], s, n) == 0)
            return id;
        i = (i + 1) & t->slot_mask;
    }
}

/* Doubles the slot array (kept at most half full) and re-inserts every id. */
static vi_status strtab_rehash(vi_strtab *t, vi_error *err)
{
    uint64_t cap = t->slot ? (t->slot_mask + 1) * 2 : 1024;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for a %llu-slot string table",
                       (unsigned long long)cap);
    for (int32_t id = 0; id < t->n; id++) {
        uint64_t i = vi_tok_hash(t->pool + t->off[id], t->len[id]) & (cap - 1);
        while (slot[i])
            i = (i + 1) & (cap - 1);
        slot[i] = (uint32_t)id + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->slot_mask = cap - 1;
    return VI_OK;
}

vi_status vi_strtab_add(vi_strtab *t, const char *s, size_t n, int32_t *id, int *added,
                        vi_error *err)
{
    int32_t found = vi_strtab_find(t, s, n);
    if (found >= 0) {
        *id = found;
        if (added)
            *added = 0;
        return VI_OK;
    }
    if (n > UINT32_MAX || t->n == INT32_MAX - 1)
        return vi_fail(err, VI_ERR_LIMIT, "tokenizer: string table full (%d strings, length %zu)",
                       t->n, n);
    if (t->n == t->cap) {
        int32_t cap = t->cap ? (t->cap > INT32_MAX / 2 ? INT32_MAX - 1 : t->cap * 2) : 1024;
        uint64_t *off = realloc(t->off, (size_t)cap * sizeof *off);
        if (off)
            t->off = off;
        uint32_t *len = realloc(t->len, (size_t)cap * sizeof *len);
        if (len)
            t->len = len;
        if (!off || !len)
            return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %d strings", cap);
        t->cap = cap;
    }
    if (t->pool_len + n > t->pool_cap) {
        uint64_t cap = t->pool_cap ? t->pool_cap : 4096;
        while (cap < t->pool_len + n)
            cap *= 2;
        char *pool = realloc(t->pool, cap);
        if (!pool)
            return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %llu bytes of text",
                           (unsigned long long)cap);
        t->pool = pool;
        t->pool_cap = cap;
    }
    if (!t->slot || (uint64_t)(t->n + 1) * 2 > t->slot_mask + 1) {
        vi_status st = strtab_rehash(t, err);
        if (st != VI_OK)
            return st;
    }
    if (n)
        memcpy(t->pool + t->pool_len, s, n);
    int32_t nid = t->n++;
    t->off[nid] = t->pool_len;
    t->len[nid] = (uint32_t)n;
    t->pool_len += n;
    uint64_t i = vi_tok_hash(s, n) & t->slot_mask;
    while (t->slot[i])
        i = (i + 1) & t->slot_mask;
    t->slot[i] = (uint32_t)nid + 1;
    *id = nid;
    if (added)
        *added = 1;
    return VI_OK;
}

void vi_strtab_free(vi_strtab *t)
{
    if (!t)
        return;
    free(t->pool);
    free(t->off);
    free(t->len);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* ==== Pair table ==== */

vi_status vi_pairtab_init(vi_pairtab *p, uint64_t expected, vi_error *err)
{
    uint64_t cap = 64;
    while (cap < expected * 2)
        cap *= 2;
    p->e = malloc(cap * sizeof *p->e);
    if (!p->e)
        return vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %llu merge slots",
                       (unsigned long long)cap);
    for (uint64_t i = 0; i < cap; i++)
        p->e[i].key = UINT64_MAX;
    p->mask = cap - 1;
    p->n = 0;
    return VI_OK;
}

static uint64_t pair_key(int32_t left, int32_t right)
{
    return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
}

void vi_pairtab_put(vi_pairtab *p, int32_t left, int32_t right, int32_t rank, int32_t merged)
{
    uint64_t key = pair_key(left, right);
    uint64_t i = mix64(key) & p->mask;
    while (p->e[i].key != UINT64_MAX) {
        if (p->e[i].key == key)
            return;
        i = (i + 1) & p->mask;
    }
    p->e[i].key = key;
    p->e[i].rank = rank;
    p->e[i].merged = merged;
    p->n++;
}

const vi_pair_entry *vi_pairtab_get(const vi_pairtab *p, int32_t left, int32_t right)
{
    if (!p->e)
        return NULL;
    uint64_t key = pair_key(left, right);
    uint64_t i = mix64(key) & p->mask;
    while (p->e[i].key != UINT64_MAX) {
        if (p->e[i].key == key)
            return &p->e[i];
        i = (i + 1) & p->mask;
    }
    return NULL;
}

void vi_pairtab_free(vi_pairtab *p)
{
    if (!p)
        return;
    free(p->e);
    memset(p, 0, sizeof *p);
}
