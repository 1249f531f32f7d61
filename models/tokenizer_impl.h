/* models/tokenizer_impl.h — internals shared by the tokenizer files of
 * models/ only: the vi_tokenizer structure, the string and pair hash tables
 * (models/tokenizer_strtab.c), llama.cpp-compatible UTF-8 decoding and
 * pre-tokenization (models/pretokenize.c), and the two merge algorithms
 * (models/tokenizer_bpe.c, models/tokenizer_spm.c). */
#ifndef VI_TOKENIZER_IMPL_H
#define VI_TOKENIZER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tokenizer.h"

/* ==== Token attributes (llama.cpp's llama_token_attr bits) ==== */

#define VI_TATTR_UNKNOWN 0x01u
#define VI_TATTR_UNUSED 0x02u
#define VI_TATTR_NORMAL 0x04u
#define VI_TATTR_CONTROL 0x08u
#define VI_TATTR_USER_DEFINED 0x10u
#define VI_TATTR_BYTE 0x20u

typedef enum { VI_TOK_BPE = 1, VI_TOK_SPM = 2 } vi_tok_kind;

/* Pre-tokenizer regex families (docs/tokenizer.md lists the names of each). */
typedef enum {
    VI_PRE_DEFAULT = 0, /* punctuation runs, gpt-2, \p{N}+, [0-9]{3} */
    VI_PRE_GPT2,        /* the gpt-2 regex alone */
    VI_PRE_STARCODER,   /* every \p{N} isolated, then the gpt-2 regex (smollm) */
    VI_PRE_LLAMA3       /* the llama3 regex */
} vi_pre_kind;

/* ==== Growable vectors ==== */

typedef struct vi_ivec {
    int32_t *v;
    size_t n, cap;
} vi_ivec;

typedef struct vi_zvec {
    size_t *v;
    size_t n, cap;
} vi_zvec;

/* Append one element; VI_ERR_NOMEM on allocation failure. */
vi_status vi_ivec_push(vi_ivec *a, int32_t x, vi_error *err);
vi_status vi_zvec_push(vi_zvec *a, size_t x, vi_error *err);

/* ==== Interned byte strings: text -> dense id ==== */

typedef struct vi_strtab {
    char *pool;
    uint64_t pool_len, pool_cap;
    uint64_t *off; /* [n] start of string i in pool */
    uint32_t *len; /* [n] */
    int32_t n, cap;
    uint32_t *slot; /* open addressing: id + 1, 0 empty */
    uint64_t slot_mask;
} vi_strtab;

/* 64-bit hash of n bytes. */
uint64_t vi_tok_hash(const void *p, size_t n);
/* Id of the string s[0..n), or -1. */
int32_t vi_strtab_find(const vi_strtab *t, const char *s, size_t n);
/* Interns s[0..n): *id gets the new id, or the existing one with *added = 0. */
vi_status vi_strtab_add(vi_strtab *t, const char *s, size_t n, int32_t *id, int *added,
                        vi_error *err);
void vi_strtab_free(vi_strtab *t);

/* ==== BPE merge pairs: (left id, right id) -> (rank, merged id) ==== */

typedef struct vi_pair_entry {
    uint64_t key; /* left << 32 | right; UINT64_MAX empty */
    int32_t rank;
    int32_t merged;
} vi_pair_entry;

typedef struct vi_pairtab {
    vi_pair_entry *e;
    uint64_t mask;
    uint64_t n;
} vi_pairtab;

vi_status vi_pairtab_init(vi_pairtab *p, uint64_t expected, vi_error *err);
/* Inserts unless the pair is present (the first, lowest rank wins). */
void vi_pairtab_put(vi_pairtab *p, int32_t left, int32_t right, int32_t rank, int32_t merged);
/* The entry of (left, right), or NULL. */
const vi_pair_entry *vi_pairtab_get(const vi_pairtab *p, int32_t left, int32_t right);
void vi_pairtab_free(vi_pairtab *p);

/* ==== The tokenizer ==== */

struct vi_tokenizer {
    vi_tok_kind kind;
    vi_pre_kind pre;
    int32_t n_vocab;
    int32_t bos, eos, unk; /* -1: none */
    int add_bos, add_eos, add_space_prefix, ignore_merges, clean_spaces;
    vi_strtab strs;   /* ids [0, n_vocab) are the tokens; merge-only strings follow */
    float *scores;    /* [n_vocab] */
    uint8_t *attr;    /* [n_vocab] VI_TATTR_* */
    uint8_t *eog;     /* [n_vocab] 0/1 */
    int32_t *special; /* control / user-defined / unknown ids, longest text first */
    int32_t n_special;
    /* BPE */
    vi_pairtab pairs;
    int32_t byte_sym[256]; /* string id of each byte's byte-level character, -1 */
    /* SPM */
    int32_t byte_tok[256]; /* <0xXX> (else the raw byte) token, -1 */
    /* token_to_piece cache, as rendered with render_special on */
    char *pieces;
    uint64_t *piece_off; /* [n_vocab + 1] */
    /* chat */
    char *chat_template; /* NUL-terminated copy, NULL if the model has none */
};

/* Text of string id (token or merge string). */
static inline const char *vi_tok_text(const vi_tokenizer *t, int32_t id, uint32_t *len)
{
    *len = t->strs.len[id];
    return t->strs.pool + t->strs.off[id];
}

/* ==== UTF-8 and byte-level mapping (models/pretokenize.c) ==== */

/* Decodes text into codepoints as llama.cpp does: lead bytes decide the
 * length without overlong or surrogate checks; an invalid or truncated
 * sequence, and a value above U+10FFFF, becomes U+FFFD and consumes one byte.
 * cpts must hold len entries; returns the count. */
size_t vi_utf8_decode(const char *text, size_t len, uint32_t *cpts);
/* Encodes cpt (<= 0x10FFFF) into out[0..4); returns the byte count. */
int vi_utf8_encode(uint32_t cpt, char out[4]);
/* The byte-level BPE character of each byte, as UTF-8 (1 or 2 bytes). */
void vi_byte_to_unicode(uint8_t b, char out[2], int *n);
/* Inverse: the byte whose character is cpt, or -1. */
int vi_unicode_to_byte(uint32_t cpt);

/* Splits cpts[0..n) into words with the regex family pre; bounds gets the
 * word lengths in codepoints (summing to n). */
vi_status vi_pretokenize(vi_pre_kind pre, const uint32_t *cpts, size_t n, vi_zvec *bounds,
                         vi_error *err);

/* ==== Merging (models/tokenizer_bpe.c, models/tokenizer_spm.c) ==== */

/* Scratch reused across words of one vi_tokenize call. */
typedef struct vi_merge_scratch {
    void *sym;
    size_t sym_bytes; /* allocated size of sym */
    void *heap;
    size_t heap_n;     /* entries queued */
    size_t heap_bytes; /* allocated size of heap */
    char *buf;
    size_t buf_cap;
} vi_merge_scratch;

/* A candidate merge of the adjacent symbols left and right, queued in the
 * scratch heap. The heap pops the highest priority first, the leftmost among
 * equal priorities (BPE: priority = -rank; SPM: priority = the merged
 * piece's score). size = left.n + right.n when queued: a changed sum marks
 * the entry stale. merged: the resulting token (BPE) or unused. */
typedef struct vi_merge_pair {
    float priority;
    int32_t left, right;
    uint32_t size;
    int32_t merged;
} vi_merge_pair;

/* Queues x in s's heap; VI_ERR_NOMEM. */
vi_status vi_merge_heap_push(vi_merge_scratch *s, vi_merge_pair x, vi_error *err);

/* Removes and returns the first pair (s->heap_n must be > 0). */
vi_merge_pair vi_merge_heap_pop(vi_merge_scratch *s);

/* Makes *p hold at least need bytes (growing by doubling); VI_ERR_NOMEM. */
vi_status vi_scratch_reserve(void **p, size_t *have, size_t need, vi_error *err);

void vi_merge_scratch_free(vi_merge_scratch *s);

/* Byte-level BPE of one pre-tokenized word (its UTF-8 bytes), appending ids. */
vi_status vi_bpe_word(const vi_tokenizer *t, const uint8_t *word, size_t n, vi_merge_scratch *s,
                      vi_ivec *out, vi_error *err);

/* SentencePiece BPE of one text fragment (already space-escaped), appending ids. */
vi_status vi_spm_fragment(const vi_tokenizer *t, const char *text, size_t n, vi_merge_scratch *s,
                          vi_ivec *out, vi_error *err);

/* ==== Loading (models/tokenizer_load.c, models/tokenizer_piece.c) ==== */

/* Fills the vocabulary, attributes, special ids and tables of t from g. */
vi_status vi_tokenizer_load(vi_tokenizer *t, const vi_gguf *g, vi_error *err);

/* Builds the token_to_piece cache (models/tokenizer_piece.c). */
vi_status vi_tokenizer_build_pieces(vi_tokenizer *t, vi_error *err);

#endif
