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

int vi_fmt_f32(float f, char buf[VI_FMT_NUM_MAX])
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t ex = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    if (ex == 0xffu)
        return nonfinite_text(man != 0, (int)(u >> 31), buf);
    if (u == 0x80000000u)
        return negative_zero_text(buf);
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
