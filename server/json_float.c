/* server/json_float.c — JSON number tokens to binary64 (see json_float.h):
 * the token scanned once into a 19-digit significand and a decimal exponent,
 * then Clinger's fast path, the Eisel-Lemire algorithm, or strtod on a copy
 * of the token when neither can decide.
 *
 * Why the result is strtod's, bit for bit: strtod (glibc, round to nearest)
 * returns the binary64 nearest to the decimal, ties to even. Clinger: when
 * w <= 2^53 and |q| <= 22, w and 10^|q| are exact binary64 values, so one
 * IEEE multiply or divide rounds the exact product or quotient once.
 * Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per Second", 2021):
 * a 64x128-bit product with the table of 5^q gives the top bits of w * 10^q
 * with a known one-sided error; where that error could change the rounding,
 * or the value could be a tie, it gives up. A significand cut at 19 digits
 * lies between w and w + 1: when both round to the same binary64, so does
 * every value between them. */
#include "json_float.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pow5_table.h"

/* ==== Decimal to binary64 ==== */

static const double POW10_EXACT[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* floor(q * log2(10)): 217706 / 2^16 is close enough to log2(10) for every
 * |q| < 643 (checked with exact integers), beyond the table's -342..308. */
static int64_t floor_log2_pow10(int64_t q)
{
    int64_t t = q * 217706;
    return t >= 0 ? t / 65536 : -((-t + 65535) / 65536);
}

static int eisel_lemire(uint64_t w, int64_t q, uint64_t *bits)
{
    if (q < VI_POW5_Q_MIN || q > VI_POW5_Q_MAX)
        return 0;
    const uint64_t *t = vi_pow5_128[q - VI_POW5_Q_MIN];
    int lz = __builtin_clzll(w);
    w <<= lz;
    unsigned __int128 p = (unsigned __int128)w * t[0];
    uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
    /* The table's truncation is worth less than w in lo: only when adding
     * up to w to lo could carry into the bits that decide the rounding is the
     * low half of the table needed. */
    if ((hi & 0x1ff) == 0x1ff && lo + w < lo) {
        unsigned __int128 p2 = (unsigned __int128)w * t[1];
        uint64_t hi2 = (uint64_t)(p2 >> 64), lo2 = (uint64_t)p2;
        uint64_t mid = lo + hi2;
        if (mid < lo)
            hi++;
        if ((hi & 0x1ff) == 0x1ff && mid + 1 == 0 && lo2 + w < lo2)
            return 0;
        lo = mid;
    }
    uint64_t top = hi >> 63;
    uint64_t m = hi >> (top + 9); /* 54 bits: the significand and one more */
    if (lo == 0 && (hi & 0x1ff) == 0 && (m & 3) == 1)
        return 0; /* maybe exactly half way between two binary64 values */
    int64_t e = floor_log2_pow10(q) + 1086 + (int64_t)top - lz;
    m = (m + (m & 1)) >> 1;
    if (m >> 53) {
        m >>= 1;
        e++;
    }
    if (e <= 0 || e >= 0x7ff)
        return 0; /* subnormal or infinite: strtod decides */
    *bits = ((uint64_t)e << 52) | (m & 0xfffffffffffffull);
    return 1;
}

int vi_dec_to_f64(uint64_t w, int64_t q, int neg, double *out)
{
    double d;
    if (w == 0) {
        d = 0.0;
    } else if (w <= (1ull << 53) && q >= -22 && q <= 22) {
        d = (double)w;
        d = q >= 0 ? d * POW10_EXACT[q] : d / POW10_EXACT[-q];
    } else {
        uint64_t bits;
        if (!eisel_lemire(w, q, &bits))
            return 0;
        memcpy(&d, &bits, sizeof d);
    }
    *out = neg ? -d : d;
    return 1;
}

/* ==== JSON number tokens ==== */

#define W_FULL 1000000000000000000ull /* w >= 10^18: 19 significant digits, no room for more */
#define SIG_DIGITS 19
#define EXP_CAP 100000 /* exponent digits past this are not added up: "very large" */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight ASCII digits at once: x holds 8 bytes of text, the first in its low byte. */
static int eight_digits(uint64_t x)
{
    return ((x & 0xf0f0f0f0f0f0f0f0ull) |
            (((x + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) >> 4)) == 0x3333333333333333ull;
}

/* Their value: pairs, then pairs of pairs combined by one multiply each. */
static uint64_t eight_value(uint64_t x)
{
    x -= 0x3030303030303030ull;
    x = x * 10 + (x >> 8); /* bytes 0, 2, 4, 6: two-digit numbers */
    const uint64_t m = 0x000000ff000000ffull;
    return ((x & m) * (100 + (1000000ull << 32)) + ((x >> 16) & m) * (1 + (10000ull << 32))) >> 32;
}
#endif

/* Reads the run of digits at p, adding them to *w while it holds fewer than
 * 19 significant digits (a zero w takes leading zeros without using room);
 * *added counts the digits added, *trunc notes a non-zero digit left out.
 * Returns the end of the run. */
static const char *digit_run(const char *p, const char *end, uint64_t *w, int64_t *added,
                             int *trunc)
{
    uint64_t v = *w;
    const char *b = p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8 && v < 100000000000ull) { /* v * 10^8 + 8 digits < 10^19 */
        uint64_t x;
        memcpy(&x, p, 8);
        if (!eight_digits(x))
            break;
        v = v * 100000000 + eight_value(x);
        p += 8;
    }
#endif
    for (; p < end && is_digit(*p) && v < W_FULL; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    *added = p - b;
    for (; p < end && is_digit(*p); p++)
        *trunc |= *p != '0';
    *w = v;
    return p;
}

/* Fails with the token so far (at most 40 bytes, and the byte that stopped
 * it when printable) quoted in the message. */
static vi_status bad_token(vi_error *err, const char *s, const char *p, const char *end,
                           const char *why)
{
    size_t n = (size_t)(p - s);
    if (p < end && (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f)
        n++;
    if (n == 0)
        return vi_fail(err, VI_ERR_INVALID, "expected a JSON number, found %s",
                       p < end ? "a control or non-ASCII byte" : "the end of the text");
    return vi_fail(err, VI_ERR_INVALID, "'%.*s%s' is not a JSON number: %s", n > 40 ? 40 : (int)n,
                   s, n > 40 ? "..." : "", why);
}

/* strtod on a NUL-terminated copy of the n-byte token. */
static vi_status strtod_copy(const char *s, size_t n, double *out, vi_error *err)
{
    char small[64], *tok = small;
    if (n >= sizeof small) {
        tok = malloc(n + 1);
        if (!tok)
            return vi_fail(err, VI_ERR_NOMEM, "out of memory copying a %zu-byte JSON number", n);
    }
    memcpy(tok, s, n);
    tok[n] = '\0';
    *out = strtod(tok, NULL);
    if (tok != small)
        free(tok);
    return VI_OK;
}

vi_status vi_json_read_number(const char *s, size_t n, vi_json_num *out, vi_error *err)
{
    const char *p = s, *end = s + n, *run;
    int neg = 0, trunc = 0, is_int = 1, huge_exp = 0;
    uint64_t w = 0;   /* the first 19 significant digits */
    int64_t q = 0;    /* value = w * 10^q (+ what trunc says was left out) */
    int64_t added;    /* digits of a run that went into w */
    size_t n_int = 1; /* digits before any '.' */
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || !is_digit(*p))
        return bad_token(err, s, p, end,
                         neg ? "a digit must follow '-'" : "it must start with '-' or a digit");
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p))
            return bad_token(err, s, p, end, "a number cannot start with 0 followed by a digit");
    } else {
        run = p;
        p = digit_run(p, end, &w, &added, &trunc);
        n_int = (size_t)(p - run);
        q += (int64_t)n_int - added;
    }
    if (p < end && *p == '.') {
        is_int = 0;
        p++;
        if (p >= end || !is_digit(*p))
            return bad_token(err, s, p, end, "a digit must follow '.'");
        p = digit_run(p, end, &w, &added, &trunc);
        q -= added;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_int = 0;
        p++;
        int eneg = 0;
        int64_t ev = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || !is_digit(*p))
            return bad_token(err, s, p, end, "the exponent has no digits");
        for (; p < end && is_digit(*p); p++) {
            if (ev < EXP_CAP)
                ev = ev * 10 + (*p - '0');
            else
                huge_exp = 1;
        }
        q += eneg ? -ev : ev;
    }
    size_t len = (size_t)(p - s);
    if (is_int) {
        /* strtoll: at most 19 digits, |value| <= 2^63 - 1, or 2^63 when negative */
        if (n_int > SIG_DIGITS || w > (uint64_t)INT64_MAX + (uint64_t)neg)
            return vi_fail(err, VI_ERR_INVALID,
                           "JSON integer %.*s%s is outside the range of a 64-bit integer",
                           len > 40 ? 40 : (int)len, s, len > 40 ? "..." : "");
        out->is_int = 1;
        out->i = !neg ? (long long)w : w == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)w;
        out->d = (double)out->i;
        out->len = len;
        return VI_OK;
    }
    double d, d1;
    /* a capped exponent is only known to be large: strtod reads the real one */
    if (huge_exp || !vi_dec_to_f64(w, q, neg, &d) ||
        (trunc && (!vi_dec_to_f64(w + 1, q, neg, &d1) || memcmp(&d, &d1, sizeof d) != 0))) {
        vi_status st = strtod_copy(s, len, &d, err);
        if (st != VI_OK)
            return st;
    }
    if (isinf(d))
        return vi_fail(err, VI_ERR_INVALID, "JSON number %.*s%s overflows binary64",
                       len > 40 ? 40 : (int)len, s, len > 40 ? "..." : "");
    out->is_int = 0;
    out->i = 0;
    out->d = d;
    out->len = len;
    return VI_OK;
}
