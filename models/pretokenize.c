/* models/pretokenize.c — llama.cpp-compatible UTF-8 decoding, the GPT-2
 * byte-level character mapping, and the BPE pre-tokenizers: the text is cut
 * into words by a sequence of regex stages, each refining the pieces of the
 * previous one (a stage never joins pieces). The gpt-2 and llama3 stages are
 * hand-written matchers of their regexes with llama.cpp's exact tie-breaks;
 * the class stages reproduce its std::regex fallbacks. docs/tokenizer.md
 * spells out every stage. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "unicode_tables.h"

/* ==== UTF-8 ==== */

size_t vi_utf8_decode(const char *text, size_t len, uint32_t *cpts)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t n = 0, i = 0;
    while (i < len) {
        uint8_t b = s[i];
        uint32_t cpt = 0xFFFDu;
        size_t need = 0;
        if (b < 0x80) {
            cpt = b;
            need = 1;
        } else if ((b & 0x40) == 0) {
            need = 0; /* a continuation byte cannot start a character */
        } else if ((b & 0x20) == 0) {
            if (i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
                cpt = ((uint32_t)(b & 0x1F) << 6) | (s[i + 1] & 0x3Fu);
                need = 2;
            }
        } else if ((b & 0x10) == 0) {
            if (i + 2 < len && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80) {
                cpt = ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
                      (s[i + 2] & 0x3Fu);
                need = 3;
            }
        } else if ((b & 0x08) == 0) {
            if (i + 3 < len && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80 &&
                (s[i + 3] & 0xC0) == 0x80) {
                cpt = ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                      ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3Fu);
                need = 4;
                if (cpt > 0x10FFFFu) { /* llama.cpp cannot re-encode these: see docs */
                    cpt = 0xFFFDu;
                    need = 0;
                }
            }
        }
        if (need == 0) {
            cpt = 0xFFFDu;
            need = 1;
        }
        cpts[n++] = cpt;
        i += need;
    }
    return n;
}

int vi_utf8_encode(uint32_t cpt, char out[4])
{
    if (cpt < 0x80) {
        out[0] = (char)cpt;
        return 1;
    }
    if (cpt < 0x800) {
        out[0] = (char)(0xC0 | (cpt >> 6));
        out[1] = (char)(0x80 | (cpt & 0x3F));
        return 2;
    }
    if (cpt < 0x10000) {
        out[0] = (char)(0xE0 | (cpt >> 12));
        out[1] = (char)(0x80 | ((cpt >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cpt & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cpt >> 18));
    out[1] = (char)(0x80 | ((cpt >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cpt >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cpt & 0x3F));
    return 4;
}

/* ==== Byte-level characters ==== */

/* GPT-2's table: the printable bytes ! .. ~, ¡ .. ¬ and ® .. ÿ stand for
 * themselves; the other 68 bytes, in increasing order, get U+0100 onwards. */
static uint32_t byte_char(uint8_t b)
{
    if (b <= 0x20)
        return 0x100u + b;
    if (b >= 0x7F && b <= 0xA0)
        return 0x100u + 33u + (uint32_t)(b - 0x7F);
    if (b == 0xAD)
        return 0x100u + 67u;
    return b;
}

void vi_byte_to_unicode(uint8_t b, char out[2], int *n)
{
    char tmp[4];
    *n = vi_utf8_encode(byte_char(b), tmp);
    memcpy(out, tmp, (size_t)*n);
}

int vi_unicode_to_byte(uint32_t cpt)
{
    if ((cpt >= 0x21 && cpt <= 0x7E) || (cpt >= 0xA1 && cpt <= 0xAC) ||
        (cpt >= 0xAE && cpt <= 0xFF))
        return (int)cpt;
    if (cpt >= 0x100 && cpt <= 0x120)
        return (int)(cpt - 0x100);
    if (cpt >= 0x121 && cpt <= 0x142)
        return (int)(0x7F + (cpt - 0x121));
    if (cpt == 0x143)
        return 0xAD;
    return -1;
}

/* ==== Splitting machinery ==== */

#define OUT_OF_RANGE 0xFFFFFFFFu

/* One piece being refined: codepoints [ini, end) of the text. */
typedef struct piece {
    const uint32_t *cpt;
    const uint16_t *fl;
    size_t ini, end;
    size_t prev_end;
    vi_zvec *out;
    vi_status st;
    vi_error *err;
} piece;

static uint32_t cpt_at(const piece *p, size_t pos)
{
    return (pos >= p->ini && pos < p->end) ? p->cpt[pos] : OUT_OF_RANGE;
}

/* Class bits at pos; 0 outside the piece (so "non-zero" means "inside"). */
static uint16_t fl_at(const piece *p, size_t pos)
{
    return (pos >= p->ini && pos < p->end) ? p->fl[pos] : 0;
}

/* Emits the word [prev_end, end) if non-empty; returns its length. */
static size_t emit(piece *p, size_t end)
{
    size_t n = end - p->prev_end;
    if (n > 0 && p->st == VI_OK)
        p->st = vi_zvec_push(p->out, n, p->err);
    p->prev_end = end;
    return n;
}

#define WS VI_UC_WHITESPACE
#define LET VI_UC_LETTER
#define NUM VI_UC_NUMBER

static int is_rn(uint32_t c)
{
    return c == '\r' || c == '\n';
}

/* ASCII-only lower-casing is exact here: no other codepoint's simple
 * lowercase mapping is one of the ASCII letters the contractions test. */
static uint32_t lower_ascii(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d at pos (case-insensitive if ci): its length, or 0. */
static size_t contraction(const piece *p, size_t pos, int ci)
{
    if (cpt_at(p, pos) != '\'' || pos + 1 >= p->end)
        return 0;
    uint32_t a = cpt_at(p, pos + 1);
    if (ci)
        a = lower_ascii(a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (pos + 2 < p->end) {
        uint32_t b = cpt_at(p, pos + 2);
        if (ci)
            b = lower_ascii(b);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

/* Whitespace run at pos: its length, and the end of its last \r or \n (0 if none). */
static size_t ws_run(const piece *p, size_t pos, size_t *last_rn_end)
{
    size_t n = 0;
    *last_rn_end = 0;
    while (fl_at(p, pos + n) & WS) {
        if (is_rn(cpt_at(p, pos + n)))
            *last_rn_end = pos + n + 1;
        n++;
    }
    return n;
}

/* \s+(?!\S) then \s+ (the ending of both regexes): returns the new pos. */
static size_t whitespace_tail(piece *p, size_t pos, size_t nws)
{
    if (nws > 1 && cpt_at(p, pos + nws) != OUT_OF_RANGE)
        pos += nws - 1; /* leave the last space to prefix the next word */
    else if (nws > 0)
        pos += nws;
    else
        pos += 1; /* nothing matched: one codepoint alone */
    emit(p, pos);
    return pos;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static void split_gpt2(piece *p)
{
    size_t pos = p->ini;
    while (pos < p->end) {
        uint32_t c = cpt_at(p, pos);
        size_t k = contraction(p, pos, 0);
        if (k) {
            pos += emit(p, pos + k);
            continue;
        }
        uint16_t f2 = (c == ' ') ? fl_at(p, pos + 1) : fl_at(p, pos);
        if (f2 & LET) {
            pos += (c == ' ');
            while (fl_at(p, pos) & LET)
                pos++;
            emit(p, pos);
            continue;
        }
        if (f2 & NUM) {
            pos += (c == ' ');
            while (fl_at(p, pos) & NUM)
                pos++;
            emit(p, pos);
            continue;
        }
        if (!(f2 & (WS | LET | NUM)) && f2) {
            pos += (c == ' ');
            for (;;) {
                uint16_t f = fl_at(p, pos);
                if ((f & (WS | LET | NUM)) || !f)
                    break;
                pos++;
            }
            emit(p, pos);
            continue;
        }
        size_t last_rn;
        pos = whitespace_tail(p, pos, ws_run(p, pos, &last_rn));
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(piece *p)
{
    size_t pos = p->ini;
    while (pos < p->end) {
        uint32_t c = cpt_at(p, pos);
        uint16_t f = fl_at(p, pos);
        size_t k = contraction(p, pos, 1);
        if (k) {
            pos += emit(p, pos + k);
            continue;
        }
        if (!(is_rn(c) || (f & NUM)) && ((f & LET) || (fl_at(p, pos + 1) & LET))) {
            pos++;
            while (fl_at(p, pos) & LET)
                pos++;
            emit(p, pos);
            continue;
        }
        if (f & NUM) {
            size_t ini = pos;
            while (fl_at(p, pos) & NUM) {
                if (++pos - ini >= 3) {
                    emit(p, pos);
                    ini = pos;
                }
            }
            emit(p, pos);
            continue;
        }
        /* llama.cpp tests the first class on the current codepoint's flags
         * (always non-zero inside the piece), the loop on the next ones. */
        uint16_t f2 = (c == ' ') ? fl_at(p, pos + 1) : f;
        if (!(f2 & (WS | LET | NUM)) && f) {
            pos += (c == ' ');
            for (;;) {
                uint16_t g = fl_at(p, pos);
                if ((g & (WS | LET | NUM)) || !g)
                    break;
                pos++;
            }
            while (is_rn(cpt_at(p, pos)))
                pos++;
            emit(p, pos);
            continue;
        }
        size_t last_rn;
        size_t nws = ws_run(p, pos, &last_rn);
        if (last_rn > 0) {
            pos = last_rn;
            emit(p, pos);
            continue;
        }
        pos = whitespace_tail(p, pos, nws);
    }
}

typedef int (*cpt_pred)(uint32_t c, uint16_t f);

static int pred_number(uint32_t c, uint16_t f)
{
    (void)c;
    return (f & NUM) != 0;
}

/* [\p{P}\$\+<=>\^~\|] */
static int pred_punct(uint32_t c, uint16_t f)
{
    if (f & VI_UC_PUNCTUATION)
        return 1;
    return c < 0x80 && c != 0 && strchr("$+<=>^~|", (int)c) != NULL;
}

/* The class regex X (runs = 0) or X+ (runs = 1): every match is a word, and
 * so is every gap between matches. */
static void split_class(piece *p, cpt_pred pred, int runs)
{
    size_t pos = p->ini;
    while (pos < p->end) {
        if (pred(p->cpt[pos], p->fl[pos])) {
            emit(p, pos); /* the gap before, if any */
            pos++;
            while (runs && pos < p->end && pred(p->cpt[pos], p->fl[pos]))
                pos++;
            emit(p, pos);
        } else {
            pos++;
        }
    }
    emit(p, p->end);
}

static int ascii_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* [0-9][0-9][0-9]: leftmost non-overlapping triples of ASCII digits. */
static void split_digit3(piece *p)
{
    size_t pos = p->ini;
    while (pos < p->end) {
        if (pos + 3 <= p->end && ascii_digit(p->cpt[pos]) && ascii_digit(p->cpt[pos + 1]) &&
            ascii_digit(p->cpt[pos + 2])) {
            emit(p, pos);
            pos += 3;
            emit(p, pos);
        } else {
            pos++;
        }
    }
    emit(p, p->end);
}

typedef enum { ST_GPT2, ST_LLAMA3, ST_NUMBER_EACH, ST_NUMBER_RUNS, ST_PUNCT_RUNS, ST_DIGIT3 } stage;

/* Applies one stage to every piece of in, writing the refined pieces to out. */
static vi_status run_stage(stage s, const uint32_t *cpt, const uint16_t *fl, const vi_zvec *in,
                           vi_zvec *out, vi_error *err)
{
    out->n = 0;
    size_t start = 0;
    for (size_t i = 0; i < in->n; i++) {
        piece p = {cpt, fl, start, start + in->v[i], start, out, VI_OK, err};
        switch (s) {
        case ST_GPT2:
            split_gpt2(&p);
            break;
        case ST_LLAMA3:
            split_llama3(&p);
            break;
        case ST_NUMBER_EACH:
            split_class(&p, pred_number, 0);
            break;
        case ST_NUMBER_RUNS:
            split_class(&p, pred_number, 1);
            break;
        case ST_PUNCT_RUNS:
            split_class(&p, pred_punct, 1);
            break;
        case ST_DIGIT3:
            split_digit3(&p);
            break;
        }
        if (p.st != VI_OK)
            return p.st;
        start += in->v[i];
    }
    return VI_OK;
}

vi_status vi_pretokenize(vi_pre_kind pre, const uint32_t *cpts, size_t n, vi_zvec *bounds,
                         vi_error *err)
{
    static const stage st_default[] = {ST_PUNCT_RUNS, ST_GPT2, ST_NUMBER_RUNS, ST_DIGIT3};
    static const stage st_gpt2[] = {ST_GPT2};
    static const stage st_starcoder[] = {ST_NUMBER_EACH, ST_GPT2};
    static const stage st_llama3[] = {ST_LLAMA3};
    const stage *stages = st_gpt2;
    size_t n_stages = 1;
    switch (pre) {
    case VI_PRE_DEFAULT:
        stages = st_default;
        n_stages = 4;
        break;
    case VI_PRE_GPT2:
        stages = st_gpt2;
        n_stages = 1;
        break;
    case VI_PRE_STARCODER:
        stages = st_starcoder;
        n_stages = 2;
        break;
    case VI_PRE_LLAMA3:
        stages = st_llama3;
        n_stages = 1;
        break;
    }
    bounds->n = 0;
    if (n == 0)
        return VI_OK;

    vi_status st = VI_OK;
    vi_zvec tmp = {0};
    uint16_t *fl = malloc(n * sizeof *fl);
    if (!fl) {
        st = vi_fail(err, VI_ERR_NOMEM, "tokenizer: out of memory for %zu codepoint classes", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        fl[i] = vi_unicode_flags(cpts[i]);

    /* Ping-pong between bounds and tmp so the result ends in bounds. */
    vi_zvec *cur = (n_stages % 2) ? &tmp : bounds;
    vi_zvec *next = (n_stages % 2) ? bounds : &tmp;
    cur->n = 0;
    if ((st = vi_zvec_push(cur, n, err)) != VI_OK)
        goto done;
    for (size_t s = 0; s < n_stages; s++) {
        if ((st = run_stage(stages[s], cpts, fl, cur, next, err)) != VI_OK)
            goto done;
        vi_zvec *t = cur;
        cur = next;
        next = t;
    }
done:
    free(fl);
    free(tmp.v);
    return st;
}
