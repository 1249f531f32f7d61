/* tests/server/test_json_fast.c — the direct JSON writers give the bytes of
 * the routes they replace: vi_fmt_f32 against the snprintf/strtod search (all
 * special cases, every power of two, dense ranges and millions of random bit
 * patterns), vi_sb_put_jstr against jansson's json_dumps of json_string, and
 * vi_receipt_put_json against json_dumps(vi_receipt_to_json) on random
 * receipts (including invalid UTF-8 and repeated parameter keys), and the
 * jansson-free request decoder against the full route on generated and
 * mutated requests, with JSON and with binary tensor data (same status,
 * message and decoded request). The number
 * reader itself is tested in test_json_number.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/json_num.h"
#include "server/kserve.h"
#include "server/kserve_data.h"
#include "server/receipt_json.h"
#include "test_util.h"

/* ==== The reference: shortest "%.<p>g" found with snprintf + strtod ==== */

static int ref_ok(float f, int p, char *buf)
{
    snprintf(buf, VI_FMT_NUM_MAX, "%.*g", p, (double)f);
    float back = (float)strtod(buf, NULL);
    return memcmp(&back, &f, sizeof f) == 0;
}

static int ref_fmt_f32(float f, char *out)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t ex = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    if (ex == 0xffu) {
        strcpy(out, man ? "NaN" : (u >> 31) ? "-Infinity" : "Infinity");
        return (int)strlen(out);
    }
    if (u == 0x80000000u) {
        strcpy(out, "-0.0");
        return 4;
    }
    char tmp[VI_FMT_NUM_MAX];
    int lo = 1, hi = 9, have = 0;
    if (man == 0 && ex > 1) {
        while (lo < hi && !ref_ok(f, lo, out))
            lo++;
        if (lo == hi)
            ref_ok(f, hi, out);
        return (int)strlen(out);
    }
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ref_ok(f, mid, tmp)) {
            hi = mid;
            memcpy(out, tmp, sizeof tmp);
            have = mid;
        } else {
            lo = mid + 1;
        }
    }
    if (have != hi)
        ref_ok(f, hi, out);
    return (int)strlen(out);
}

static int n_checked;

static void check_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    char a[VI_FMT_NUM_MAX], b[VI_FMT_NUM_MAX];
    int na = vi_fmt_f32(f, a);
    int nb = ref_fmt_f32(f, b);
    if (na != nb || strcmp(a, b) != 0)
        fail_msg("bits 0x%08x: got \"%s\" (%d), expected \"%s\" (%d)", (unsigned)u, a, na, b, nb);
    n_checked++;
}

static void test_f32_special_and_powers(void **state)
{
    (void)state;
    static const uint32_t SPECIAL[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u,
                                       0x007fffffu, 0x00800000u, 0x7f7fffffu, 0xff7fffffu,
                                       0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
                                       0x3f800000u, 0xbf800000u, 0x3dcccccdu, 0x4b000001u};
    for (size_t i = 0; i < sizeof SPECIAL / sizeof SPECIAL[0]; i++)
        check_bits(SPECIAL[i]);
    for (uint32_t ex = 0; ex < 256; ex++)
        for (uint32_t d = 0; d < 3; d++)
            for (uint32_t s = 0; s < 2; s++) {
                uint32_t u = (s << 31) | (ex << 23);
                check_bits(u + d);
                check_bits(u - d);
                check_bits(u | 0x7fffffu);
            }
    /* exactly representable integers, halves and eighths: decimal ties */
    for (int i = -5000; i <= 5000; i++) {
        float vals[3] = {(float)i, (float)i + 0.5f, (float)i / 8.0f};
        for (int k = 0; k < 3; k++) {
            uint32_t u;
            memcpy(&u, &vals[k], sizeof u);
            check_bits(u);
        }
    }
    /* decimals people write: d * 10^e with up to 4 digits */
    for (int e = -45; e <= 38; e++)
        for (int d = 1; d < 10000; d += 7) {
            char txt[32];
            snprintf(txt, sizeof txt, "%de%d", d, e);
            float f = strtof(txt, NULL);
            uint32_t u;
            memcpy(&u, &f, sizeof u);
            check_bits(u);
        }
}

static void test_f32_dense_ranges(void **state)
{
    (void)state;
    /* every float around 1, 0.1, 1e-7, 1e7, 3e38 and the subnormal limit */
    static const uint32_t START[] = {
        0x3f800000u - 100000u, 0x3dcccccdu - 100000u, 0x33d6bf95u - 50000u, 0x4b189680u - 50000u,
        0x7f000000u,           0x00000000u,           0x2f800000u - 50000u, 0x6b800000u - 50000u};
    for (size_t i = 0; i < sizeof START / sizeof START[0]; i++)
        for (uint32_t k = 0; k < 200000u; k++)
            check_bits(START[i] + k);
}

static void test_f32_random(void **state)
{
    (void)state;
    vt_rng rng = {0x1234abcdu};
    for (int i = 0; i < 3000000; i++)
        check_bits((uint32_t)vt_next(&rng));
    print_message("vi_fmt_f32 matched the reference on %d bit patterns\n", n_checked);
}

/* ==== JSON strings ==== */

static void random_bytes(vt_rng *rng, char *s, size_t n, int mode)
{
    /* mode 0: printable ASCII with escapes, 1: valid UTF-8, 2: any bytes */
    static const char *const PIECES[] = {"a",
                                         "Z",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\b",
                                         "\f",
                                         "\n",
                                         "\r",
                                         "\t",
                                         "\x01",
                                         "\x1f",
                                         "\x7f",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xef\xbf\xbf",
                                         " "};
    size_t at = 0;
    while (at + 4 < n) {
        if (mode == 2) {
            s[at++] = (char)(1 + vt_next(rng) % 255);
            continue;
        }
        size_t np = mode == 0 ? 13 : sizeof PIECES / sizeof PIECES[0];
        const char *p = PIECES[vt_next(rng) % np];
        size_t k = strlen(p);
        memcpy(s + at, p, k);
        at += k;
        if (vt_next(rng) % 4 == 0)
            break;
    }
    s[at] = '\0';
}

/* What jansson writes for string s, or NULL when it refuses s. */
static char *jansson_string(const char *s)
{
    json_t *j = json_string(s);
    char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return txt;
}

static void test_jstr_matches_jansson(void **state)
{
    (void)state;
    vt_rng rng = {77};
    int refused = 0;
    for (int i = 0; i < 200000; i++) {
        char s[64];
        random_bytes(&rng, s, 1 + vt_next(&rng) % sizeof s, i % 3);
        char *want = jansson_string(s);
        vi_sb sb;
        vi_sb_init(&sb);
        vi_sb_putc(&sb, 'x');
        int rc = vi_sb_put_jstr(&sb, s, strlen(s));
        if (!want) {
            assert_int_equal(rc, -1);
            assert_int_equal(sb.len, 1); /* nothing appended */
            refused++;
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(sb.buf + 1, want);
        }
        free(want);
        vi_sb_free(&sb);
    }
    assert_true(refused > 1000);
    /* the exact escapes */
    vi_sb sb;
    vi_sb_init(&sb);
    assert_int_equal(vi_sb_put_jstr(&sb, "a\"b\\c/\x01\x1f\t\n\x7f", 11), 0);
    assert_string_equal(sb.buf, "\"a\\\"b\\\\c/\\u0001\\u001F\\t\\n\x7f\"");
    assert_int_equal(vi_sb_put_jstr(&sb, "\xed\xa0\x80", 3), -1); /* a surrogate */
    assert_int_equal(vi_sb_put_jstr(&sb, "\xc0\x80", 2), -1);     /* overlong */
    vi_sb_free(&sb);
}

/* ==== Receipts ==== */

static void random_field(vt_rng *rng, char *dst, size_t cap, int allow_bad)
{
    int mode = (int)(vt_next(rng) % 8);
    if (mode == 7 && !allow_bad)
        mode = 1;
    size_t n = 1 + vt_next(rng) % (cap - 1);
    if (vt_next(rng) % 5 == 0)
        n = 1;
    random_bytes(rng, dst, n, mode == 7 ? 2 : mode % 2);
}

static void random_receipt(vt_rng *rng, vi_receipt *r)
{
    memset(r, 0, sizeof *r);
    r->format_version = (uint32_t)vt_next(rng);
    r->order_version = (uint32_t)(vt_next(rng) % 3);
    int bad = vt_next(rng) % 10 == 0;
    random_field(rng, r->model_name, sizeof r->model_name, bad);
    random_field(rng, r->model_version, sizeof r->model_version, bad);
    random_field(rng, r->engine_id, sizeof r->engine_id, bad);
    random_field(rng, r->mode, sizeof r->mode, bad);
    random_field(rng, r->request_id, sizeof r->request_id, bad);
    random_field(rng, r->created, sizeof r->created, bad);
    r->n_params = (int32_t)(vt_next(rng) % (VI_RECEIPT_MAX_PARAMS + 1));
    for (int i = 0; i < r->n_params; i++) {
        random_field(rng, r->params[i].key, 8, bad);
        random_field(rng, r->params[i].value, sizeof r->params[i].value, bad);
    }
    if (r->n_params > 1 && vt_next(rng) % 8 == 0)
        strcpy(r->params[r->n_params - 1].key, r->params[0].key);
    for (size_t i = 0; i < VI_SHA256_LEN; i++) {
        r->model_digest[i] = (uint8_t)vt_next(rng);
        r->input_digest[i] = (uint8_t)vt_next(rng);
        r->output_digest[i] = (uint8_t)vt_next(rng);
        r->receipt_digest[i] = (uint8_t)vt_next(rng);
    }
    r->signature_algorithm = (int32_t)(vt_next(rng) % 2);
    if (vt_next(rng) % 50 == 0)
        r->signature_algorithm = 7;
    if (vt_next(rng) % 50 == 0)
        r->n_params = VI_RECEIPT_MAX_PARAMS + 1;
    for (size_t i = 0; i < sizeof r->signature; i++)
        r->signature[i] = (uint8_t)vt_next(rng);
    for (size_t i = 0; i < sizeof r->public_key; i++)
        r->public_key[i] = (uint8_t)vt_next(rng);
}

static void test_receipt_text_matches_object(void **state)
{
    (void)state;
    vt_rng rng = {4242};
    int ok = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        vi_receipt r;
        random_receipt(&rng, &r);
        json_t *o = vi_receipt_to_json(&r);
        char *want = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        vi_sb sb;
        vi_sb_init(&sb);
        int rc = vi_receipt_put_json(&sb, &r);
        if (!want) {
            assert_int_equal(rc, -1);
            refused++;
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(sb.buf, want);
            ok++;
        }
        free(want);
        vi_sb_free(&sb);
    }
    assert_true(ok > 5000);
    assert_true(refused > 500);
}

/* ==== Requests ==== */

static const char *const NUMS[] = {
    "0", "-0", "1", "-1.5", "3.25e2", "1E-3", "0.1", "16777217", "1e38", "3.5e38", "-3.5e38",
    "1e-46", "1e400", "01", "1.", ".5", "-", "1e", "2.5E+1", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "123456789012345678901234567890", "NaN",
    "\"NaN\"", "true", "null", "[1]", "1.17549435e-38", "0.30000001192092896", "7e-45", "-0.0",
    /* longer than 64 bytes: read in place, strtod on a copy when needed */
    "0.000000000000000000000000000000000000000000000000000000000000000000000000000001e70",
    "1.00000000000000011102230246251565404236316680908203125000000000000000000001"};

static void put_ws(vi_sb *sb, vt_rng *rng)
{
    static const char *const WS[] = {"", "", "", " ", "\n", "\t ", "\r\n"};
    vi_sb_puts(sb, WS[vt_next(rng) % 7]);
}

/* A request in sb; inputs sent as binary data append their bytes to bin. */
static void gen_request(vt_rng *rng, vi_sb *sb, vi_sb *bin)
{
    int weird = vt_next(rng) % 4 == 0;
    int n_in = 1 + (int)(vt_next(rng) % 2), cols = (int)(vt_next(rng) % 5);
    vi_sb_putc(sb, '{');
    put_ws(sb, rng);
    if (vt_next(rng) % 3) {
        vi_sb_puts(sb, vt_next(rng) % 10 ? "\"id\":\"req-7\"," : "\"id\":\"a\\n\",");
        put_ws(sb, rng);
    }
    if (vt_next(rng) % 3 == 0) {
        static const char *const PARAMS[] = {
            "{\"binary_data_output\":false}", "{ \"binary_data_output\" : true }", "{}",
            /* weird ones */
            "{\"binary_data_output\":1}", "{\"verinfer_mode\":\"exact\"}", "[]",
            "{\"binary_data_output\":true,\"binary_data_output\":false}",
            "{\"binary_data_output\":true,\"x\":2}"};
        vi_sb_puts(sb, "\"parameters\":");
        vi_sb_puts(sb, PARAMS[vt_next(rng) % (weird ? 8 : 3)]);
        vi_sb_putc(sb, ',');
    }
    vi_sb_puts(sb, "\"inputs\":");
    put_ws(sb, rng);
    vi_sb_putc(sb, '[');
    for (int i = 0; i < n_in; i++) {
        if (i)
            vi_sb_putc(sb, ',');
        int rows = 1 + (int)(vt_next(rng) % 2), n = rows * cols;
        if (weird && vt_next(rng) % 4 == 0)
            n++;
        char head[160];
        int order = (int)(vt_next(rng) % 3);
        snprintf(head, sizeof head, "\"name\":\"%s\",%s\"datatype\":\"%s\"",
                 i && !(weird && vt_next(rng) % 3 == 0) ? "in1" : "in0",
                 weird && vt_next(rng) % 5 == 0 ? "\"x\":1," : "",
                 weird && vt_next(rng) % 5 == 0 ? "FP64" : "FP32");
        char shape[64];
        if (weird && vt_next(rng) % 6 == 0)
            snprintf(shape, sizeof shape, "\"shape\":[%d, -1]", rows);
        else if (weird && vt_next(rng) % 6 == 0)
            snprintf(shape, sizeof shape, "\"shape\":[%d.0,%d]", rows, cols);
        else
            snprintf(shape, sizeof shape, "\"shape\":[ %d ,%d]", rows, cols);
        vi_sb_putc(sb, '{');
        if (order == 1) {
            vi_sb_puts(sb, shape);
            vi_sb_putc(sb, ',');
        }
        vi_sb_puts(sb, head);
        if (order != 1) {
            vi_sb_putc(sb, ',');
            vi_sb_puts(sb, shape);
        }
        if (vt_next(rng) % 3 == 0) { /* binary data */
            long long size = (long long)n * 4;
            if (weird && vt_next(rng) % 4 == 0)
                size += vt_next(rng) % 2 ? 4 : -4;
            char p[128];
            snprintf(p, sizeof p, ",\"parameters\":{%s\"binary_data_size\":%s%lld}%s",
                     weird && vt_next(rng) % 6 == 0 ? "\"x\":0," : "",
                     weird && vt_next(rng) % 6 == 0 ? "1" : "", size,
                     weird && vt_next(rng) % 6 == 0 ? ",\"data\":[]" : "");
            vi_sb_puts(sb, p);
            vi_sb_putc(sb, '}');
            for (int k = 0; k < n * 4; k++)
                vi_sb_putc(bin, (char)vt_next(rng));
            continue;
        }
        vi_sb_puts(sb, ",\"data\":");
        put_ws(sb, rng);
        vi_sb_putc(sb, '[');
        int nested = weird && vt_next(rng) % 5 == 0;
        for (int k = 0; k < n; k++) {
            if (k)
                vi_sb_putc(sb, ',');
            put_ws(sb, rng);
            if (nested && k % (cols ? cols : 1) == 0)
                vi_sb_putc(sb, '[');
            size_t nn = sizeof NUMS / sizeof NUMS[0];
            uint64_t pick = vt_next(rng) % (weird ? nn : 9);
            if (pick == 0 && !weird) {
                char num[40];
                float f;
                uint32_t u = (uint32_t)vt_next(rng) & 0xbf7fffffu;
                memcpy(&f, &u, 4);
                vi_fmt_f32(f, num);
                vi_sb_puts(sb, num);
            } else {
                vi_sb_puts(sb, NUMS[pick]);
            }
            if (nested && (k + 1) % (cols ? cols : 1) == 0)
                vi_sb_putc(sb, ']');
        }
        vi_sb_puts(sb, "]}");
    }
    vi_sb_putc(sb, ']');
    if (vt_next(rng) % 3 == 0) {
        vi_sb_puts(sb, ",\"outputs\":[{\"name\":\"out\"");
        uint64_t v = vt_next(rng) % 5;
        vi_sb_puts(sb, v == 0            ? ",\"parameters\":{\"binary_data\":true}"
                       : v == 1          ? ",\"parameters\":{ \"binary_data\" : false }"
                       : v == 2          ? ",\"parameters\":{}"
                       : v == 3 && weird ? ",\"parameters\":{\"classification\":0}"
                                         : "");
        vi_sb_puts(sb, "}");
        if (vt_next(rng) % 3 == 0)
            vi_sb_puts(sb, weird ? ",{\"name\":\"out\"}" : ",{\"name\":\"o2\"}");
        vi_sb_putc(sb, ']');
    }
    if (weird && vt_next(rng) % 6 == 0)
        vi_sb_puts(sb, ",\"inputs\":[]");
    if (weird && vt_next(rng) % 6 == 0)
        vi_sb_puts(bin, "tail"); /* bytes no input claims */
    put_ws(sb, rng);
    vi_sb_putc(sb, '}');
    put_ws(sb, rng);
}

static void assert_same_request(const vi_kserve_request *a, const vi_kserve_request *b)
{
    if (a->id || b->id) {
        assert_non_null(a->id);
        assert_non_null(b->id);
        assert_string_equal(a->id, b->id);
    }
    assert_int_equal(a->n_inputs, b->n_inputs);
    for (int i = 0; i < a->n_inputs; i++) {
        const vi_tensor *x = &a->inputs[i], *y = &b->inputs[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->ndim, y->ndim);
        int64_t n = 1;
        for (int d = 0; d < x->ndim; d++) {
            assert_int_equal(x->shape[d], y->shape[d]);
            n *= x->shape[d];
        }
        assert_memory_equal(x->data, y->data, (size_t)n * vi_dtype_size(x->dtype));
    }
    assert_int_equal(a->n_outputs, b->n_outputs);
    for (int i = 0; i < a->n_outputs; i++) {
        assert_string_equal(a->outputs[i].name, b->outputs[i].name);
        assert_int_equal(a->outputs[i].binary_data, b->outputs[i].binary_data);
    }
    assert_int_equal(a->binary_data_output, b->binary_data_output);
    assert_int_equal(a->parameters != NULL, b->parameters != NULL);
    if (a->parameters)
        assert_true(json_equal(a->parameters, b->parameters));
}

static void test_request_fast_matches_full(void **state)
{
    static const char MUT[] = "{}[],:\" 0-eE.\\x";
    (void)state;
    vt_rng rng = {99};
    vi_kserve_limits lim;
    vi_kserve_limits_default(&lim);
    int fast = 0, failed = 0, fast_binary = 0;
    for (int i = 0; i < 40000; i++) {
        vi_sb sb, bin;
        vi_sb_init(&sb);
        vi_sb_init(&bin);
        gen_request(&rng, &sb, &bin);
        const uint8_t *bp = (const uint8_t *)bin.buf;
        if (i % 4 == 3) { /* one byte changed, dropped or the text cut short */
            size_t at = (size_t)(vt_next(&rng) % sb.len);
            uint64_t how = vt_next(&rng) % 3;
            if (how == 0)
                sb.buf[at] = MUT[vt_next(&rng) % (sizeof MUT - 1)];
            else if (how == 1)
                memmove(sb.buf + at, sb.buf + at + 1, sb.len - at), sb.len--;
            else
                sb.len = at;
        }
        vi_kserve_request a, b, c;
        vi_error ea = {{0}}, eb = {{0}};
        vi_status sa = vi_kserve_parse_request(sb.buf, sb.len, bp, bin.len, &lim, &a, &ea);
        vi_status sb_ = vi_ks_parse_request_full(sb.buf, sb.len, bp, bin.len, &lim, &b, &eb);
        if (sa != sb_ || strcmp(ea.msg, eb.msg) != 0)
            fail_msg("request %d '%.*s': %d '%s' vs full route %d '%s'", i, (int)sb.len, sb.buf, sa,
                     ea.msg, sb_, eb.msg);
        if (sa == VI_OK)
            assert_same_request(&a, &b);
        else
            failed++;
        if (vi_ks_fast_request(sb.buf, sb.len, bp, bin.len, &lim, &c)) {
            assert_int_equal(sb_, VI_OK);
            assert_same_request(&c, &b);
            fast++;
            fast_binary += bin.len > 0;
        }
        vi_kserve_request_free(&a);
        vi_kserve_request_free(&b);
        vi_kserve_request_free(&c);
        vi_sb_free(&sb);
        vi_sb_free(&bin);
    }
    print_message("requests: %d decoded without jansson (%d with binary data), %d refused\n", fast,
                  fast_binary, failed);
    assert_true(fast > 10000);
    assert_true(fast_binary > 3000);
    assert_true(failed > 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_special_and_powers),
        cmocka_unit_test(test_f32_dense_ranges),
        cmocka_unit_test(test_f32_random),
        cmocka_unit_test(test_jstr_matches_jansson),
        cmocka_unit_test(test_receipt_text_matches_object),
        cmocka_unit_test(test_request_fast_matches_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
