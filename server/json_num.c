/* server/json_num.c — the growable string buffer and number formatting used to
 * write tensor data as JSON text (see json_num.h). */
#include "json_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== String buffer ==== */

void vi_sb_init(vi_sb *sb)
{
    memset(sb, 0, sizeof *sb);
}

void vi_sb_free(vi_sb *sb)
{
    if (!sb)
        return;
    free(sb->buf);
    memset(sb, 0, sizeof *sb);
}

int vi_sb_reserve(vi_sb *sb, size_t extra)
{
    if (sb->failed)
        return -1;
    if (extra > SIZE_MAX - 1 - sb->len) {
        sb->failed = 1;
        return -1;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *nb = realloc(sb->buf, cap);
    if (!nb) {
        sb->failed = 1;
        return -1;
    }
    sb->buf = nb;
    sb->cap = cap;
    return 0;
}

void vi_sb_putn(vi_sb *sb, const char *s, size_t n)
{
    if (vi_sb_reserve(sb, n) != 0)
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void vi_sb_puts(vi_sb *sb, const char *s)
{
    vi_sb_putn(sb, s, strlen(s));
}

void vi_sb_putc(vi_sb *sb, char c)
{
    vi_sb_putn(sb, &c, 1);
}

void vi_sb_put_u64(vi_sb *sb, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    vi_sb_putn(sb, tmp + sizeof tmp - n, (size_t)n);
}

void vi_sb_put_i64(vi_sb *sb, int64_t v)
{
    if (v < 0) {
        vi_sb_putc(sb, '-');
        vi_sb_put_u64(sb, 0 - (uint64_t)v); /* also right for INT64_MIN */
    } else {
        vi_sb_put_u64(sb, (uint64_t)v);
    }
}

static void put_num_or_string(vi_sb *sb, const char *txt, int n, int finite)
{
    if (!finite)
        vi_sb_putc(sb, '"');
    vi_sb_putn(sb, txt, (size_t)n);
    if (!finite)
        vi_sb_putc(sb, '"');
}

void vi_sb_put_f32(vi_sb *sb, float f)
{
    char txt[VI_FMT_NUM_MAX];
    int n = vi_fmt_f32(f, txt);
    put_num_or_string(sb, txt, n, isfinite(f));
}

void vi_sb_put_f64(vi_sb *sb, double d)
{
    char txt[VI_FMT_NUM_MAX];
    int n = vi_fmt_f64(d, txt);
    put_num_or_string(sb, txt, n, isfinite(d));
}

/* Length of the UTF-8 sequence at s[0..n), or 0 if it is not one (overlong,
 * surrogate, above U+10FFFF, truncated): the rules of json_string(). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0) {
        k = 2;
        cp = c & 0x1fu;
    } else if (c < 0xf0) {
        k = 3;
        cp = c & 0x0fu;
    } else if (c < 0xf5) {
        k = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp > 0x10ffff)
        return 0;
    return k;
}

int vi_sb_put_jstr(vi_sb *sb, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(u + i, n - i);
        if (!k)
            return -1;
        i += k;
    }
    vi_sb_putc(sb, '"');
    size_t run = 0; /* start of the bytes not yet appended */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        vi_sb_putn(sb, s + run, i - run);
        run = i + 1;
        char esc[8] = {'\\', 0};
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default: {
            static const char HEX[] = "0123456789ABCDEF";
            memcpy(esc + 1, "u00", 3);
            esc[4] = HEX[c >> 4];
            esc[5] = HEX[c & 15u];
            vi_sb_putn(sb, esc, 6);
            continue;
        }
        }
        vi_sb_putn(sb, esc, 2);
    }
    vi_sb_putn(sb, s + run, n - run);
    vi_sb_putc(sb, '"');
    return 0;
}

char *vi_sb_take(vi_sb *sb, size_t *len)
{
    if (!sb->failed && vi_sb_reserve(sb, 0) != 0)
        sb->failed = 1;
    if (sb->failed) {
        vi_sb_free(sb);
        return NULL;
    }
    char *out = sb->buf;
    out[sb->len] = '\0';
    if (len)
        *len = sb->len;
    memset(sb, 0, sizeof *sb);
    return out;
}

/* ==== Shortest round-trip decimals ==== */

/* Why a binary search is exact: the decimals that read back as x form an
 * interval around x. When it is symmetric (x not a power of two, or a power
 * of two whose lower neighbour has the same spacing), the nearest p+1 digit
 * decimal is never farther from x than the p digit one, so "p digits round
 * trip" is monotone in p. Only at powers of two is the interval below x half
 * as wide, and there the digits are tried in increasing order. */

static int nonfinite_text(int is_nan, int neg, char *buf)
{
    const char *s = is_nan ? "NaN" : (neg ? "-Infinity" : "Infinity");
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return (int)n;
}

static int f32_round_trips(const void *x, int p, char *buf)
{
    float f = *(const float *)x;
    snprintf(buf, VI_FMT_NUM_MAX, "%.*g", p, (double)f);
    float back = (float)strtod(buf, NULL);
    return memcmp(&back, &f, sizeof f) == 0;
}

static int f64_round_trips(const void *x, int p, char *buf)
{
    double d = *(const double *)x;
    snprintf(buf, VI_FMT_NUM_MAX, "%.*g", p, d);
    double back = strtod(buf, NULL);
    return memcmp(&back, &d, sizeof d) == 0;
}

/* Writes into out the text of the smallest p in [1, maxp] with ok(x, p);
 * ok(x, maxp) is known to hold. */
static int shortest(const void *x, int maxp, int asym, int (*ok)(const void *, int, char *),
                    char *out)
{
    char tmp[VI_FMT_NUM_MAX];
    int lo = 1, hi = maxp, have = 0; /* have: the p whose text is in out */
    if (asym) {
        while (lo < hi && !ok(x, lo, out))
            lo++;
        if (lo == hi)
            ok(x, hi, out);
        return (int)strlen(out);
    }
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ok(x, mid, tmp)) {
            hi = mid;
            memcpy(out, tmp, sizeof tmp);
            have = mid;
        } else {
            lo = mid + 1;
        }
    }
    if (have != hi)
        ok(x, hi, out);
    return (int)strlen(out);
}

/* JSON parsers read "-0" as the integer 0 and lose the sign: negative zero
 * is written "-0.0", which they read as a real. */
static int negative_zero_text(char *buf)
{
    memcpy(buf, "-0.0", 5);
    return 4;
}

/* ---- binary32 without snprintf/strtod ----
 * The same search as above with a predicate that gives the same answer and
 * the same text: the exact decimal digits of |f| are found once with 128-bit
 * integers, "%.<p>g" is done by rounding them half to even (as glibc's printf
 * does), and a p-digit decimal d * 10^q with |q| <= 22 is read back by one
 * correctly rounded multiply or divide (d and 10^|q| are exact doubles), the
 * result strtod gives. Floats outside that reach take the route above. */

typedef struct f32_exact {
    float f;
    int neg;
    int nd;       /* number of digits */
    int x0;       /* decimal exponent of dig[0] */
    char dig[40]; /* exact decimal digits of |f|, dig[0] != '0' */
} f32_exact;

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Fills e with the digits of f (finite, not zero); 0 if f is out of reach. */
static int f32_exact_digits(float f, f32_exact *e)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t ex = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    uint32_t m = ex ? (man | 0x800000u) : man;
    int e2 = ex ? (int)ex - 150 : -149, scale = 0;
    if (m == 0 || e2 > 103 || e2 < -44)
        return 0;
    unsigned __int128 n = m;
    if (e2 >= 0) {
        n <<= e2;
    } else {
        for (int i = 0; i < -e2; i++)
            n *= 5u;
        scale = -e2; /* |f| = n / 10^scale */
    }
    char tmp[48];
    int len = 0;
    while (n >= ((unsigned __int128)1 << 64)) {
        uint64_t chunk = (uint64_t)(n % 10000000000000000000u);
        n /= 10000000000000000000u;
        for (int i = 0; i < 19; i++, chunk /= 10)
            tmp[len++] = (char)('0' + chunk % 10);
    }
    for (uint64_t v = (uint64_t)n; v; v /= 10)
        tmp[len++] = (char)('0' + v % 10);
    for (int i = 0; i < len; i++)
        e->dig[i] = tmp[len - 1 - i];
    e->nd = len;
    e->x0 = len - 1 - scale;
    e->f = f;
    e->neg = (int)(u >> 31);
    return 1;
}

/* Writes "%.<p>g" of e's value into buf; 0 if it does not read back as e->f. */
static int f32_exact_round_trips(const void *x, int p, char *buf)
{
    const f32_exact *e = x;
    char r[40];
    int x10 = e->x0, nr = p < e->nd ? p : e->nd;
    memcpy(r, e->dig, (size_t)nr);
    if (p < e->nd) {
        int up = 0;
        char c = e->dig[p];
        if (c > '5') {
            up = 1;
        } else if (c == '5') {
            for (int i = p + 1; i < e->nd && !up; i++)
                up = e->dig[i] != '0';
            if (!up)
                up = (r[p - 1] - '0') & 1;
        }
        if (up) {
            int i = nr - 1;
            while (i >= 0 && r[i] == '9')
                r[i--] = '0';
            if (i >= 0) {
                r[i]++;
            } else {
                r[0] = '1';
                x10++;
            }
        }
    }
    while (nr > 1 && r[nr - 1] == '0')
        nr--;
    char *o = buf;
    if (e->neg)
        *o++ = '-';
    if (x10 < -4 || x10 >= p) {
        *o++ = r[0];
        if (nr > 1) {
            *o++ = '.';
            memcpy(o, r + 1, (size_t)nr - 1);
            o += nr - 1;
        }
        int ax = x10 < 0 ? -x10 : x10;
        *o++ = 'e';
        *o++ = x10 < 0 ? '-' : '+';
        *o++ = (char)('0' + ax / 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x10 >= 0) {
        int ni = x10 + 1; /* integer digits, all among r (x10 < p) */
        for (int i = 0; i < ni; i++)
            *o++ = i < nr ? r[i] : '0';
        if (nr > ni) {
            *o++ = '.';
            memcpy(o, r + ni, (size_t)(nr - ni));
            o += nr - ni;
        }
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -x10 - 1; i++)
            *o++ = '0';
        memcpy(o, r, (size_t)nr);
        o += nr;
    }
    *o = '\0';

    int q = x10 - (nr - 1);
    if (q > 22 || q < -22)
        return f32_round_trips(&e->f, p, buf);
    uint64_t d = 0;
    for (int i = 0; i < nr; i++)
        d = d * 10 + (uint64_t)(r[i] - '0');
    double v = q >= 0 ? (double)d * POW10[q] : (double)d / POW10[-q];
    float back = (float)(e->neg ? -v : v);
    return memcmp(&back, &e->f, sizeof back) == 0;
}

int vi_fmt_f32(float f, char buf[VI_FMT_NUM_MAX])
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t ex = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    if (ex == 0xffu)
        return nonfinite_text(man != 0, (int)(u >> 31), buf);
    if (u == 0x80000000u)
        return negative_zero_text(buf);
    f32_exact e;
    if (f32_exact_digits(f, &e))
        return shortest(&e, 9, man == 0 && ex > 1, f32_exact_round_trips, buf);
    return shortest(&f, 9, man == 0 && ex > 1, f32_round_trips, buf);
}

int vi_fmt_f64(double d, char buf[VI_FMT_NUM_MAX])
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    uint64_t ex = (u >> 52) & 0x7ffu, man = u & 0xfffffffffffffull;
    if (ex == 0x7ffu)
        return nonfinite_text(man != 0, (int)(u >> 63), buf);
    if (u == 0x8000000000000000ull)
        return negative_zero_text(buf);
    return shortest(&d, 17, man == 0 && ex > 1, f64_round_trips, buf);
}
