/* tests/server/test_json_number.c — the JSON number reader (server/json_float.c)
 * against strtod and strtoll, bit for bit: every float of millions of random
 * bit patterns printed with %.9g, %.17g and the shortest round trip; random
 * decimals of 1..25 digits with exponents -350..350; decimals at, just below
 * and just above the midpoints between neighbouring binary64 values; fixed
 * hard cases (ties, subnormals, the binary32 limits seen through binary64,
 * overflow); the fast paths on their own; malformed tokens and their
 * messages; the power-of-five table against its generator; and the request
 * decoder's answers and error messages for such numbers. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/json_float.h"
#include "server/json_num.h"
#include "server/kserve.h"
#include "server/pow5_table.h"
#include "test_util.h"

/* Sanitized builds run a tenth of the random cases (-DSCALE=1: all of them). */
#ifndef SCALE
#if defined(__SANITIZE_ADDRESS__)
#define SCALE 10
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALE 10
#endif
#endif
#endif
#ifndef SCALE
#define SCALE 1
#endif

static uint64_t bits64(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static long n_checked, n_overflow;

/* Reads txt with vi_json_read_number and with strtoll / strtod and fails
 * unless both give the same bits, or both refuse (same reason). */
static void check_text(const char *txt)
{
    size_t n = strlen(txt);
    vi_json_num v;
    vi_error e = {{0}};
    vi_status st = vi_json_read_number(txt, n, &v, &e);
    int is_int = strpbrk(txt, ".eE") == NULL;
    char *endp;
    errno = 0;
    if (is_int) {
        long long ll = strtoll(txt, &endp, 10);
        if (endp != txt + n)
            fail_msg("reference did not read all of '%s'", txt);
        if (errno == ERANGE) {
            if (st != VI_ERR_INVALID || !strstr(e.msg, "outside the range of a 64-bit integer"))
                fail_msg("'%s': expected out of range, got %d '%s'", txt, st, e.msg);
            n_overflow++;
        } else if (st != VI_OK || !v.is_int || v.i != ll || v.len != n ||
                   bits64(v.d) != bits64((double)ll)) {
            fail_msg("'%s': got %d '%s' is_int %d i %lld d %a len %zu, expected %lld", txt, st,
                     e.msg, v.is_int, v.i, v.d, v.len, ll);
        }
    } else {
        double d = strtod(txt, &endp);
        if (endp != txt + n)
            fail_msg("reference did not read all of '%s'", txt);
        if (isinf(d)) {
            if (st != VI_ERR_INVALID || !strstr(e.msg, "overflows binary64"))
                fail_msg("'%s': expected overflow, got %d '%s'", txt, st, e.msg);
            n_overflow++;
        } else if (st != VI_OK || v.is_int || v.len != n || bits64(v.d) != bits64(d)) {
            fail_msg("'%s': got %d '%s' d %a (0x%016" PRIx64 ") len %zu, strtod %a (0x%016" PRIx64
                     ")",
                     txt, st, e.msg, v.d, bits64(v.d), v.len, d, bits64(d));
        }
    }
    n_checked++;
}

/* ==== (a) floats as the clients print them ==== */

static void test_printed_floats(void **state)
{
    (void)state;
    vt_rng rng = {0x5eed0001u};
    long before = n_checked;
    for (int i = 0; i < 2000000 / SCALE; i++) {
        uint32_t u = (uint32_t)vt_next(&rng);
        if (((u >> 23) & 0xffu) == 0xffu)
            continue; /* NaN and Infinity are no JSON numbers */
        float f;
        memcpy(&f, &u, sizeof f);
        char txt[64];
        snprintf(txt, sizeof txt, "%.9g", (double)f);
        check_text(txt);
        snprintf(txt, sizeof txt, "%.17g", (double)f);
        check_text(txt);
        vi_fmt_f32(f, txt);
        check_text(txt);
        /* and read back to binary32 through binary64, as the decoder narrows */
        vi_json_num v;
        assert_int_equal(vi_json_read_number(txt, strlen(txt), &v, NULL), VI_OK);
        float back = (float)v.d;
        if (memcmp(&back, &f, sizeof f) != 0)
            fail_msg("'%s' does not read back as 0x%08x", txt, (unsigned)u);
    }
    print_message("printed floats: %ld texts matched strtod/strtoll\n", n_checked - before);
}

/* ==== (b) random decimals ==== */

/* Writes a random JSON number with 1..25 significant digits and an exponent
 * part (if any) in -350..350. */
static void random_decimal(vt_rng *rng, char *out)
{
    char *o = out;
    if (vt_next(rng) % 2)
        *o++ = '-';
    int nd = 1 + (int)(vt_next(rng) % 25);
    char dig[32];
    for (int i = 0; i < nd; i++)
        dig[i] = (char)('0' + vt_next(rng) % 10);
    if (dig[0] == '0')
        dig[0] = (char)('1' + vt_next(rng) % 9);
    /* runs of 9s and 0s: carries and ties */
    if (vt_next(rng) % 4 == 0) {
        char c = vt_next(rng) % 2 ? '9' : '0';
        for (int i = 1 + (int)(vt_next(rng) % (unsigned)nd); i < nd; i++)
            dig[i] = c;
    }
    int form = (int)(vt_next(rng) % 3);
    if (form == 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int z = (int)(vt_next(rng) % 4); z > 0; z--)
            *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    } else { /* ddd.ddd or ddd */
        int ip = 1 + (int)(vt_next(rng) % (unsigned)nd);
        memcpy(o, dig, (size_t)ip);
        o += ip;
        if (ip < nd) {
            *o++ = '.';
            memcpy(o, dig + ip, (size_t)(nd - ip));
            o += nd - ip;
        }
    }
    if (form != 2 || vt_next(rng) % 8) {
        *o++ = vt_next(rng) % 4 ? 'e' : 'E';
        int ex = (int)vt_range(rng, -350, 350);
        uint64_t sign = vt_next(rng) % 3;
        o += sprintf(o, "%s%d", ex >= 0 && sign == 0 ? "+" : "", ex);
    }
    *o = '\0';
}

static void test_random_decimals(void **state)
{
    (void)state;
    vt_rng rng = {0x5eed0002u};
    long before = n_checked, ovf = n_overflow;
    for (int i = 0; i < 1500000 / SCALE; i++) {
        char txt[64];
        random_decimal(&rng, txt);
        check_text(txt);
    }
    /* exponents near where the results leave binary64 at either end */
    for (int i = 0; i < 200000 / SCALE; i++) {
        char txt[64];
        int nd = 1 + (int)(vt_next(&rng) % 19);
        uint64_t w = 1 + vt_next(&rng) % 9;
        for (int k = 1; k < nd; k++)
            w = w * 10 + vt_next(&rng) % 10;
        int ex = vt_next(&rng) % 2 ? (int)vt_range(&rng, -345, -300) - nd
                                   : (int)vt_range(&rng, 290, 310) - nd;
        snprintf(txt, sizeof txt, "%" PRIu64 "e%d", w, ex);
        check_text(txt);
    }
    print_message("random decimals: %ld matched strtod/strtoll (%ld out of range)\n",
                  n_checked - before, n_overflow - ovf);
    assert_true(n_overflow - ovf > 1000);
}

/* ==== midpoints between neighbouring binary64 values ==== */

/* Exact decimal digits of the long double x > 0 (printf prints them
 * exactly): dig (no point, no trailing zeros) and the exponent of dig[0]. */
static int exact_digits(long double x, char *dig, size_t cap, int *x10)
{
    char buf[1000];
    snprintf(buf, sizeof buf, "%.800Le", x);
    char *e = strchr(buf, 'e');
    *x10 = atoi(e + 1);
    size_t n = 0;
    for (char *p = buf; p < e && n + 1 < cap; p++)
        if (*p >= '0' && *p <= '9')
            dig[n++] = *p;
    while (n > 1 && dig[n - 1] == '0')
        n--;
    dig[n] = '\0';
    return (int)n;
}

static void put_decimal(char *out, const char *dig, int nd, int x10)
{
    sprintf(out, "%c.%.*se%d", dig[0], nd - 1, dig + 1, x10);
    if (nd == 1)
        sprintf(out, "%ce%d", dig[0], x10);
}

static void test_midpoints(void **state)
{
    (void)state;
    vt_rng rng = {0x5eed0003u};
    long before = n_checked;
    for (int i = 0; i < 60000 / SCALE; i++) {
        uint64_t u = vt_next(&rng) & 0x7fffffffffffffffull;
        if (i % 3 == 0) { /* binary32 values and the binary32 subnormal range */
            double m = (double)(vt_next(&rng) % 0x1000000);
            int ex = -149 + (int)(vt_next(&rng) % 300);
            u = bits64((double)(float)ldexp(m, ex));
        }
        double d, d2;
        memcpy(&d, &u, sizeof d);
        d2 = nextafter(d, INFINITY);
        if (!isfinite(d) || !isfinite(d2) || d == 0)
            continue;
        long double mid = ((long double)d + (long double)d2) / 2;
        char dig[900], txt[1000];
        int x10, nd = exact_digits(mid, dig, sizeof dig, &x10);
        put_decimal(txt, dig, nd, x10); /* the tie itself */
        check_text(txt);
        for (int k = 17; k <= 25 && k < nd; k++) {
            char cut[32];
            memcpy(cut, dig, (size_t)k); /* just below the tie */
            put_decimal(txt, cut, k, x10);
            check_text(txt);
            int j = k - 1; /* just above */
            while (j >= 0 && cut[j] == '9')
                cut[j--] = '0';
            if (j < 0)
                continue;
            cut[j]++;
            put_decimal(txt, cut, k, x10);
            check_text(txt);
        }
    }
    print_message("midpoints: %ld decimals matched strtod\n", n_checked - before);
}

/* ==== (c) hard cases ==== */

static void expect_bits(const char *txt, uint64_t want)
{
    vi_json_num v;
    vi_error e = {{0}};
    vi_status st = vi_json_read_number(txt, strlen(txt), &v, &e);
    if (st != VI_OK || bits64(v.d) != want)
        fail_msg("'%s': got %d '%s' 0x%016" PRIx64 ", expected 0x%016" PRIx64, txt, st, e.msg,
                 bits64(v.d), want);
    check_text(txt);
}

static void expect_f32(const char *txt, uint32_t want)
{
    vi_json_num v;
    assert_int_equal(vi_json_read_number(txt, strlen(txt), &v, NULL), VI_OK);
    float f = (float)v.d;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if (u != want)
        fail_msg("'%s' as FP32: got 0x%08x, expected 0x%08x", txt, (unsigned)u, (unsigned)want);
}

static void test_hard_cases(void **state)
{
    (void)state;
    expect_bits("9007199254740993", 0x4340000000000000ull); /* 2^53 + 1: tie, to even */
    expect_bits("9007199254740993.0", 0x4340000000000000ull);
    expect_bits("9007199254740995", 0x4340000000000002ull);
    expect_bits("9007199254740993.000000000000000001", 0x4340000000000001ull);
    expect_bits("1e23", 0x44b52d02c7e14af6ull);
    expect_bits("0.1", 0x3fb999999999999aull);
    expect_bits("-0.0", 0x8000000000000000ull);
    expect_bits("-0", 0x0000000000000000ull); /* an integer: strtoll's 0 */
    expect_bits("0e-99999999999999999999", 0);
    expect_bits("-1e-400", 0x8000000000000000ull);
    expect_bits("1.00000000000000011102230246251565404236316680908203125",
                0x3ff0000000000000ull); /* 1 + 2^-53 exactly: tie, to even */
    expect_bits("1.00000000000000011102230246251565404236316680908203126", 0x3ff0000000000001ull);
    expect_bits("1.00000000000000033306690738754696212708950042724609375",
                0x3ff0000000000002ull); /* 1 + 3 * 2^-53: tie, to even (up) */
    expect_bits("2.2250738585072011e-308", 0x000fffffffffffffull);
    expect_bits("2.2250738585072012e-308", 0x0010000000000000ull);
    expect_bits("2.2250738585072014e-308", 0x0010000000000000ull);
    expect_bits("4.9406564584124654e-324", 0x0000000000000001ull);
    expect_bits("2.4703282292062327e-324", 0); /* below half the least subnormal */
    expect_bits("2.4703282292062328e-324", 0x0000000000000001ull);
    expect_bits("1.7976931348623157e308", 0x7fefffffffffffffull);
    expect_bits("1.7976931348623158e308", 0x7fefffffffffffffull);
    expect_bits("179769313486231570814527423731704356798070567525844996598917476803157260780028538"
                "760589558632766878171540458953514382464234321326889464182768467546703537516986049"
                "910576551282076245490090389328944075868508455133942304583236903222948165808559332"
                "123348274797826204144723168738177180919299881250404026184124858368.0",
                0x7fefffffffffffffull);
    expect_bits("123456789012345678901234567890e-30", 0x3fbf9add3746f65full);
    expect_bits("1"
                "00000000000000000000000000000000000000000000000000000000000000000000000000"
                "e-74",
                0x3ff0000000000000ull); /* long token, copied for strtod if need be */

    /* binary32 through binary64 (the decoder narrows strtod's value) */
    expect_f32("1.40129846432481707092e-45", 0x00000001u); /* 2^-149 */
    expect_f32("7.00649232162408535461e-46", 0x00000000u); /* 2^-150: tie, to even (0) */
    expect_f32("7.006492321624086e-46", 0x00000000u); /* above 2^-150, but its binary64 is 2^-150 */
    expect_f32("7.006492321624087e-46", 0x00000001u); /* its binary64 is above 2^-150 */
    expect_f32("2.1019476964872256e-45", 0x00000002u); /* 1.5 * 2^-149: tie, to even */
    expect_f32("1.1754942106924411e-38", 0x007fffffu); /* the largest subnormal */
    expect_f32("1.1754942807573643e-38", 0x00800000u); /* 2^-126 - 2^-150: tie, to even (up) */
    expect_f32("1.0000000596046447763", 0x3f800000u);  /* docs/kserve.md: two roundings */
    expect_f32("16777217", 0x4b800000u);               /* 2^24 + 1: tie, to even */
    expect_f32("16777219", 0x4b800002u);
    expect_f32("3.4028234663852886e38", 0x7f7fffffu); /* FLT_MAX */
    expect_f32("3.4028235677973362e38", 0x7f7fffffu); /* just below the tie with 2^128 */
    expect_f32("3.4028235677973366e38", 0x7f800000u); /* the tie: infinity */
    expect_f32("0.30000001192092896", 0x3e99999au);

    static const char *const REFUSED[][2] = {
        {"1.7976931348623159e308", "JSON number 1.7976931348623159e308 overflows binary64"},
        {"-1e309", "JSON number -1e309 overflows binary64"},
        {"1e99999999999999999999", "JSON number 1e99999999999999999999 overflows binary64"},
        {"9223372036854775808",
         "JSON integer 9223372036854775808 is outside the range of a 64-bit integer"},
        {"-9223372036854775809",
         "JSON integer -9223372036854775809 is outside the range of a 64-bit integer"},
        {"123456789012345678901234567890123456789012345678901234567890",
         "JSON integer 1234567890123456789012345678901234567890... is outside the range of a "
         "64-bit integer"},
    };
    for (size_t i = 0; i < sizeof REFUSED / sizeof REFUSED[0]; i++) {
        vi_json_num v;
        vi_error e = {{0}};
        assert_int_equal(vi_json_read_number(REFUSED[i][0], strlen(REFUSED[i][0]), &v, &e),
                         VI_ERR_INVALID);
        assert_string_equal(e.msg, REFUSED[i][1]);
        check_text(REFUSED[i][0]);
    }
    static const char *const INTS[] = {"0",
                                       "-0",
                                       "7",
                                       "-9223372036854775808",
                                       "9223372036854775807",
                                       "9007199254740993",
                                       "-9007199254740993",
                                       "18014398509481985"};
    for (size_t i = 0; i < sizeof INTS / sizeof INTS[0]; i++)
        check_text(INTS[i]);
    /* every power of ten the table covers, and its neighbours */
    for (int q = -350; q <= 320; q++) {
        char txt[64];
        snprintf(txt, sizeof txt, "1e%d", q);
        check_text(txt);
        snprintf(txt, sizeof txt, "9999999999999999999e%d", q);
        check_text(txt);
        snprintf(txt, sizeof txt, "1000000000000000001e%d", q);
        check_text(txt);
    }
}

/* ==== the fast paths on their own ==== */

static void test_fast_paths_decide(void **state)
{
    (void)state;
    vt_rng rng = {0x5eed0004u};
    long tries = 0, decided = 0, normal_tries = 0, normal_decided = 0;
    for (int i = 0; i < 1000000 / SCALE; i++) {
        int nd = 1 + (int)(vt_next(&rng) % 19);
        uint64_t w = 1 + vt_next(&rng) % 9;
        for (int k = 1; k < nd; k++)
            w = w * 10 + vt_next(&rng) % 10;
        int64_t q = vt_range(&rng, -360, 330);
        char txt[64];
        snprintf(txt, sizeof txt, "%" PRIu64 "e%" PRId64, w, q);
        double want = strtod(txt, NULL), got = -1.0;
        int neg = (int)(vt_next(&rng) % 2);
        tries++;
        int normal = fabs(want) >= 0x1p-1022 && !isinf(want);
        normal_tries += normal;
        if (vi_dec_to_f64(w, q, neg, &got)) {
            decided++;
            normal_decided += normal;
            if (bits64(got) != bits64(neg ? -want : want))
                fail_msg("%s%s: fast path %a, strtod %a", neg ? "-" : "", txt, got, want);
        } else {
            assert_true(got == -1.0); /* left untouched */
        }
    }
    print_message("fast paths: decided %ld of %ld (%ld of %ld normal results)\n", decided, tries,
                  normal_decided, normal_tries);
    /* falling back to strtod must stay rare for normal results */
    assert_true(normal_decided * 1000 >= normal_tries * 999);
    /* Clinger's path by itself: exact operands, one rounding */
    double d = 0;
    assert_int_equal(vi_dec_to_f64(9007199254740992ull, 22, 0, &d), 1);
    assert_true(d == 9007199254740992.0 * 1e22);
    assert_int_equal(vi_dec_to_f64(123, -22, 1, &d), 1);
    assert_true(d == -(123.0 / 1e22));
    assert_int_equal(vi_dec_to_f64(0, 5000, 1, &d), 1);
    assert_int_equal(bits64(d), 0x8000000000000000ull);
    /* undecidable: out of the table, subnormal, infinite */
    assert_int_equal(vi_dec_to_f64(1, 309, 0, &d), 0);
    assert_int_equal(vi_dec_to_f64(1, -343, 0, &d), 0);
    assert_int_equal(vi_dec_to_f64(1, -320, 0, &d), 0);
    assert_int_equal(vi_dec_to_f64(2, 308, 0, &d), 0);
}

/* ==== (d) malformed tokens ==== */

static void test_malformed(void **state)
{
    (void)state;
    static const char *const BAD[][2] = {
        {"", "expected a JSON number, found the end of the text"},
        {"\x01", "expected a JSON number, found a control or non-ASCII byte"},
        {"x1", "'x' is not a JSON number: it must start with '-' or a digit"},
        {".5", "'.' is not a JSON number: it must start with '-' or a digit"},
        {"+1", "'+' is not a JSON number: it must start with '-' or a digit"},
        {"-", "'-' is not a JSON number: a digit must follow '-'"},
        {"-a", "'-a' is not a JSON number: a digit must follow '-'"},
        {"- 1", "'-' is not a JSON number: a digit must follow '-'"},
        {"01", "'01' is not a JSON number: a number cannot start with 0 followed by a digit"},
        {"-00", "'-00' is not a JSON number: a number cannot start with 0 followed by a digit"},
        {"1.", "'1.' is not a JSON number: a digit must follow '.'"},
        {"1.e5", "'1.e' is not a JSON number: a digit must follow '.'"},
        {"1e", "'1e' is not a JSON number: the exponent has no digits"},
        {"1E+", "'1E+' is not a JSON number: the exponent has no digits"},
        {"2.5e-x", "'2.5e-x' is not a JSON number: the exponent has no digits"},
        {"123456789012345678901234567890123456789012345.e1",
         "'1234567890123456789012345678901234567890...' is not a JSON number: a digit must "
         "follow '.'"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        vi_json_num v;
        vi_error e = {{0}};
        vi_status st = vi_json_read_number(BAD[i][0], strlen(BAD[i][0]), &v, &e);
        if (st != VI_ERR_INVALID || strcmp(e.msg, BAD[i][1]) != 0)
            fail_msg("'%s': got %d '%s', expected '%s'", BAD[i][0], st, e.msg, BAD[i][1]);
    }
    /* the token ends where the grammar does; the rest is the caller's */
    static const struct {
        const char *txt;
        size_t len;
    } PREFIX[] = {{"1,2", 1}, {"-3.5]", 4}, {"1e5e5", 3}, {"0x10", 1}, {"12 ", 2}, {"7.0.1", 3}};
    for (size_t i = 0; i < sizeof PREFIX / sizeof PREFIX[0]; i++) {
        vi_json_num v;
        assert_int_equal(vi_json_read_number(PREFIX[i].txt, strlen(PREFIX[i].txt), &v, NULL),
                         VI_OK);
        assert_int_equal(v.len, PREFIX[i].len);
    }
    /* n bounds the text: a token cut short is read as far as it goes */
    vi_json_num v;
    assert_int_equal(vi_json_read_number("1.25e3", 4, &v, NULL), VI_OK);
    assert_true(v.d == 1.25 && v.len == 4 && !v.is_int);
    assert_int_equal(vi_json_read_number("1.25e3", 2, &v, NULL), VI_ERR_INVALID);
}

/* The request decoder: numbers like the above in "data" give the full
 * route's answer and its exact error message. */
static void test_request_numbers(void **state)
{
    (void)state;
    static const char *const CASES[][3] = {
        /* data, status ("0" ok), message */
        {"01", "-1", "invalid request JSON: invalid token near '0' (line 1, column 62)"},
        {"1.", "-1", "invalid request JSON: invalid token near '1.' (line 1, column 63)"},
        {"-", "-1", "invalid request JSON: invalid token near '-' (line 1, column 62)"},
        {"--1", "-1", "invalid request JSON: invalid token near '-' (line 1, column 62)"},
        {"1e", "-1", "invalid request JSON: invalid token near '1e' (line 1, column 63)"},
        {"1e+", "-1", "invalid request JSON: invalid token near '1e+' (line 1, column 64)"},
        {"1.5e-", "-1", "invalid request JSON: invalid token near '1.5e-' (line 1, column 66)"},
        {".5", "-1", "invalid request JSON: invalid token near '.' (line 1, column 62)"},
        {"1e400", "-1",
         "invalid request JSON: real number overflow near '1e400' (line 1, column 66)"},
        {"-1e309", "-1",
         "invalid request JSON: real number overflow near '-1e309' (line 1, column 67)"},
        {"1e99999999999999999999", "-1",
         "invalid request JSON: real number overflow (line 1, column 83)"},
        {"9223372036854775808", "-1",
         "invalid request JSON: too big integer near '9223372036854775808' (line 1, column 80)"},
        {"-9223372036854775809", "-1",
         "invalid request JSON: too big negative integer near '-9223372036854775809' (line 1, "
         "column 81)"},
        {"3.5e38", "-1",
         "inputs[0].data[0] must be a number within the FP32 range (|x| < 3.4028235677973366e38) "
         "(got 3.5e+38)"},
        {"3.4028235677973366e38", "-1",
         "inputs[0].data[0] must be a number within the FP32 range (|x| < 3.4028235677973366e38) "
         "(got 3.4028235677973366e+38)"},
        {"3.4028235677973362e38", "0", ""},
        {"7.00649232162408535461e-46", "0", ""},
        {"-0", "0", ""},
        {"1e-400", "0", ""},
        {"9007199254740993", "0", ""},
        {"0.0000000000000000000000000000000000000000000000000000000000000000000000000001e30", "0",
         ""},
    };
    vi_kserve_limits lim;
    vi_kserve_limits_default(&lim);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char body[512];
        snprintf(
            body, sizeof body,
            "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[%s]}]}",
            CASES[i][0]);
        vi_kserve_request req;
        vi_error e = {{0}};
        vi_status st = vi_kserve_parse_request(body, strlen(body), NULL, 0, &lim, &req, &e);
        if (st != atoi(CASES[i][1]) || strcmp(e.msg, CASES[i][2]) != 0)
            fail_msg("data [%s]: got %d '%s', expected %s '%s'", CASES[i][0], st, e.msg,
                     CASES[i][1], CASES[i][2]);
        if (st == VI_OK) {
            vi_json_num v;
            assert_int_equal(vi_json_read_number(CASES[i][0], strlen(CASES[i][0]), &v, NULL),
                             VI_OK);
            float f = (float)v.d;
            assert_memory_equal(req.inputs[0].data, &f, 4); /* little-endian host */
        }
        vi_kserve_request_free(&req);
    }
}

/* ==== the table ==== */

static void test_pow5_table(void **state)
{
    (void)state;
    /* 5^q, q = 0..55, fits in 128 bits: the entry is it shifted left exactly */
    unsigned __int128 p = 1;
    for (int q = 0; q <= 55; q++, p *= 5) {
        unsigned __int128 v = p;
        while (!(v >> 127))
            v <<= 1;
        assert_int_equal(vi_pow5_128[q - VI_POW5_Q_MIN][0], (uint64_t)(v >> 64));
        assert_int_equal(vi_pow5_128[q - VI_POW5_Q_MIN][1], (uint64_t)v);
    }
    for (int q = VI_POW5_Q_MIN; q <= VI_POW5_Q_MAX; q++)
        assert_true(vi_pow5_128[q - VI_POW5_Q_MIN][0] >> 63);
    /* the committed file is what the script writes */
    char cmd[2048], *out = NULL, *errtxt = NULL;
    snprintf(cmd, sizeof cmd,
             "(cd '%s' && test -f scripts/gen_pow5_table.py && command -v python3 >/dev/null || "
             "exit 77; python3 scripts/gen_pow5_table.py | cmp - server/pow5_table.c)",
             vt_src());
    int rc = vt_run(cmd, &out, &errtxt);
    if (rc == 77)
        print_message("python3 or the sources (VERINFER_SRC) not found: generator output not "
                      "compared\n");
    else if (rc != 0)
        fail_msg("server/pow5_table.c differs from scripts/gen_pow5_table.py's output: %s%s",
                 out ? out : "", errtxt ? errtxt : "");
    free(out);
    free(errtxt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hard_cases),        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_request_numbers),   cmocka_unit_test(test_pow5_table),
        cmocka_unit_test(test_fast_paths_decide), cmocka_unit_test(test_printed_floats),
        cmocka_unit_test(test_random_decimals),   cmocka_unit_test(test_midpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
