/* tests/core/test_receipt.c — receipts: the canonical encoding rebuilt by
 * hand and hashed with OpenSSL, golden digest and signature (RFC 8032 test
 * key, checked with Python's cryptography), sealing and checking, every
 * single-bit change of every field caught with the right reason, unsigned
 * receipts, trusted keys, field validation, JSON round trip and strict JSON
 * parsing, batch-signed receipts ("ed25519-merkle": batches of 1..17 against
 * a tree and message built by hand, golden batch values, every bit of the
 * batch fields, proofs moved between leaves and batches, strict JSON), and
 * key files (mode 0600, no overwrite, permission and type checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/hex.h"
#include "core/keys.h"
#include "core/merkle.h"
#include "core/receipt.h"
#include "server/receipt_json.h"
#include "test_util.h"

/* RFC 8032 section 7.1, TEST 1: secret key and the public key it must give. */
static const char RFC8032_SEED[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char RFC8032_PUB[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/* The golden receipt's digests (the golden values of test_digest.c). */
static const char MODEL_DIGEST[] =
    "3fc5bcd124e74e81e658ed557a01faeda238d767b57e6b28cd04bb262eb7412a";
static const char INPUT_DIGEST[] =
    "ec4aa817a975a0f79fe401ae845e15509133992ac3e40118bee68a3f3e812b8e";
static const char OUTPUT_DIGEST[] =
    "848466fdbeef5d91360cb2571d0256597664f4c1ebf7d6cab0c2afef18326759";
static const char ENGINE_ID[] = "verinfer/0.1.0 order/1 backend/cpu isa/avx512";

#define GOLDEN_RECEIPT_DIGEST "77f5e3516bdfeca42df0ede38a095f3fc4b9cba5b517a7786a9fad2842e05a37"
#define GOLDEN_SIGNATURE                                                                           \
    "33ce38e50b71496a6d88c33b42165278b33defea1fd3cc045a07e6df41e5ce54"                             \
    "9ca2d832ffc1cbcdfca40cd0e31d7bb996de1f9c9c8d55001549f426d4d9890f"

/* ==== helpers ==== */

static EVP_PKEY *rfc_key(void)
{
    uint8_t seed[32];
    vi_error err;
    EVP_PKEY *key = NULL;
    assert_int_equal(vi_hex_decode(RFC8032_SEED, seed, 32, "seed", &err), VI_OK);
    assert_int_equal(vi_key_from_seed(seed, &key, &err), VI_OK);
    return key;
}

/* The golden receipt, fields set but not sealed. */
static void sample(vi_receipt *r)
{
    vi_error err;
    vi_receipt_init(r);
    assert_int_equal(vi_receipt_set_string(r, "model_name", "tiny", &err), VI_OK);
    assert_int_equal(vi_receipt_set_string(r, "model_version", "1", &err), VI_OK);
    assert_int_equal(vi_receipt_set_string(r, "engine_id", ENGINE_ID, &err), VI_OK);
    assert_int_equal(vi_receipt_set_string(r, "request_id", "req-42", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(r, "outputs", "logits", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(r, "binary_data", "false", &err), VI_OK);
    assert_int_equal(vi_receipt_set_created(r, 1795600800, &err), VI_OK);
    assert_int_equal(vi_hex_decode(MODEL_DIGEST, r->model_digest, 32, "m", &err), VI_OK);
    assert_int_equal(vi_hex_decode(INPUT_DIGEST, r->input_digest, 32, "i", &err), VI_OK);
    assert_int_equal(vi_hex_decode(OUTPUT_DIGEST, r->output_digest, 32, "o", &err), VI_OK);
}

static void signed_sample(vi_receipt *r)
{
    vi_error err;
    EVP_PKEY *key = rfc_key();
    sample(r);
    assert_int_equal(vi_receipt_seal(r, key, &err), VI_OK);
    vi_key_free(key);
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
    char got[2 * 64 + 1];
    vi_hex_encode(p, n, got);
    assert_string_equal(got, want);
}

typedef struct {
    uint8_t p[4096];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_u32(bytes *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_str(bytes *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

static void put_hex(bytes *b, const char *hex)
{
    uint8_t x[32];
    vi_error err;
    assert_int_equal(vi_hex_decode(hex, x, 32, "hex", &err), VI_OK);
    put(b, x, 32);
}

/* ==== encoding, golden values, sealing ==== */

static void test_encoding_by_hand(void **state)
{
    (void)state;
    bytes b = {.n = 0};
    put_str(&b, "verinfer.receipt.v1");
    put_u32(&b, 1);
    put_str(&b, "tiny");
    put_str(&b, "1");
    put_hex(&b, MODEL_DIGEST);
    put_hex(&b, INPUT_DIGEST);
    put_hex(&b, OUTPUT_DIGEST);
    put_str(&b, ENGINE_ID);
    put_u32(&b, 1);
    put_str(&b, "exact");
    put_str(&b, "req-42");
    put_u32(&b, 2);
    put_str(&b, "binary_data"); /* sorted by key */
    put_str(&b, "false");
    put_str(&b, "outputs");
    put_str(&b, "logits");
    put_str(&b, "2026-11-25T10:00:00Z");
    uint8_t want[32];
    unsigned len;
    assert_int_equal(EVP_Digest(b.p, b.n, want, &len, EVP_sha256(), NULL), 1);

    vi_receipt r;
    signed_sample(&r);
    assert_memory_equal(r.receipt_digest, want, 32);
    assert_hex(r.receipt_digest, 32, GOLDEN_RECEIPT_DIGEST);
    assert_int_equal(r.signature_algorithm, VI_SIG_ED25519);
    assert_hex(r.public_key, 32, RFC8032_PUB);
    assert_hex(r.signature, 64, GOLDEN_SIGNATURE);

    /* the signature verifies, by OpenSSL directly, over tag || digest */
    bytes m = {.n = 0};
    put_str(&m, "verinfer.receipt.sig.v1");
    put(&m, want, 32);
    EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, r.public_key, 32);
    assert_non_null(pub);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub), 1);
    assert_int_equal(EVP_DigestVerify(ctx, r.signature, 64, m.p, m.n), 1);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);

    vi_receipt_verdict v = VI_RECEIPT_UNSIGNED;
    vi_error err;
    assert_int_equal(vi_receipt_check(&r, NULL, &v, &err), VI_OK);
    assert_int_equal(v, VI_RECEIPT_SIGNED);
    assert_string_equal(err.msg, "signed");
}

/* ==== every bit of every field ==== */

static void flip_all_bits(const vi_receipt *good, size_t offset, size_t len, const char *field,
                          vi_status want_st, const char *want_msg)
{
    for (size_t byte = 0; byte < len; byte++)
        for (int bit = 0; bit < 8; bit++) {
            vi_receipt r = *good;
            ((uint8_t *)&r)[offset + byte] ^= (uint8_t)(1u << bit);
            vi_error err = {{0}};
            vi_receipt_verdict v;
            vi_status st = vi_receipt_check(&r, NULL, &v, &err);
            if (st != want_st || !strstr(err.msg, want_msg))
                fail_msg("%s byte %zu bit %d: got %d \"%s\", want %d \"%s\"", field, byte, bit, st,
                         err.msg, want_st, want_msg);
        }
}

static void test_every_bit_flip_is_caught(void **state)
{
    (void)state;
    vi_receipt r;
    signed_sample(&r);
    const char *const DIGEST = "receipt_digest does not match its fields";
    const char *const SIG = "signature does not verify";
#define FLIP(field, len, st, msg)                                                                  \
    flip_all_bits(&r, offsetof(vi_receipt, field), len, #field, st, msg)
#define FLIP_STR(field) FLIP(field, strlen(r.field), VI_ERR_VERIFY, DIGEST)
    FLIP(format_version, 4, VI_ERR_UNSUPPORTED, "unsupported receipt format_version");
    FLIP(order_version, 4, VI_ERR_VERIFY, DIGEST);
    FLIP_STR(model_name);
    FLIP_STR(model_version);
    FLIP(model_digest, 32, VI_ERR_VERIFY, DIGEST);
    FLIP(input_digest, 32, VI_ERR_VERIFY, DIGEST);
    FLIP(output_digest, 32, VI_ERR_VERIFY, DIGEST);
    FLIP_STR(engine_id);
    FLIP_STR(mode);
    FLIP_STR(request_id);
    FLIP_STR(params[0].key);
    FLIP_STR(params[0].value);
    FLIP_STR(params[1].key);
    FLIP_STR(params[1].value);
    FLIP_STR(created);
    FLIP(receipt_digest, 32, VI_ERR_VERIFY, DIGEST);
    FLIP(signature, 64, VI_ERR_VERIFY, SIG);
    FLIP(public_key, 32, VI_ERR_VERIFY, SIG);
#undef FLIP_STR
#undef FLIP
    /* n_params: 2 -> 3, 0, 6, 10 change the encoding; larger counts are refused */
    for (int bit = 0; bit < 32; bit++) {
        vi_receipt t = r;
        t.n_params ^= (int32_t)(1u << bit);
        vi_error err;
        vi_status st = vi_receipt_check(&t, NULL, NULL, &err);
        if (bit < 4) {
            assert_int_equal(st, VI_ERR_VERIFY);
            assert_string_equal(err.msg, DIGEST);
        } else {
            assert_int_equal(st, VI_ERR_INVALID);
            assert_non_null(strstr(err.msg, " parameters (at most 16)"));
        }
    }
    /* signature_algorithm: ed25519 -> none, or an unknown value */
    for (int bit = 0; bit < 32; bit++) {
        vi_receipt t = r;
        t.signature_algorithm ^= (int32_t)(1u << bit);
        vi_error err;
        assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
        if (bit == 0)
            assert_string_equal(err.msg,
                                "receipt is marked unsigned but carries a signature or public key");
        else
            assert_non_null(strstr(err.msg, "unknown signature_algorithm "));
    }
}

/* ==== unsigned receipts and trusted keys ==== */

static void test_unsigned_receipt(void **state)
{
    (void)state;
    vi_receipt r;
    vi_error err;
    sample(&r);
    assert_int_equal(vi_receipt_seal(&r, NULL, &err), VI_OK);
    assert_hex(r.receipt_digest, 32, GOLDEN_RECEIPT_DIGEST); /* the key is not part of the digest */
    assert_int_equal(r.signature_algorithm, VI_SIG_NONE);
    vi_receipt_verdict v = VI_RECEIPT_SIGNED;
    assert_int_equal(vi_receipt_check(&r, NULL, &v, &err), VI_OK);
    assert_int_equal(v, VI_RECEIPT_UNSIGNED);
    assert_string_equal(err.msg, "unsigned");
    uint8_t pub[32];
    assert_int_equal(vi_hex_decode(RFC8032_PUB, pub, 32, "pub", &err), VI_OK);
    assert_int_equal(vi_receipt_check(&r, pub, &v, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg,
                        "receipt is unsigned, but a signature by the trusted key is required");
    r.output_digest[0] ^= 1;
    assert_int_equal(vi_receipt_check(&r, NULL, &v, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "receipt_digest does not match its fields");
    r.output_digest[0] ^= 1;
    r.public_key[31] = 1;
    assert_int_equal(vi_receipt_check(&r, NULL, &v, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg,
                        "receipt is marked unsigned but carries a signature or public key");
}

static void test_trusted_key(void **state)
{
    (void)state;
    vi_receipt r;
    vi_error err;
    signed_sample(&r);
    uint8_t pub[32], other[32];
    assert_int_equal(vi_hex_decode(RFC8032_PUB, pub, 32, "pub", &err), VI_OK);
    assert_int_equal(vi_receipt_check(&r, pub, NULL, &err), VI_OK);
    /* a receipt re-signed by another key is intact but not trusted */
    uint8_t seed[32] = {1};
    EVP_PKEY *key = NULL;
    assert_int_equal(vi_key_from_seed(seed, &key, &err), VI_OK);
    assert_int_equal(vi_key_public_raw(key, other, &err), VI_OK);
    assert_int_equal(vi_receipt_seal(&r, key, &err), VI_OK);
    vi_key_free(key);
    assert_int_equal(vi_receipt_check(&r, NULL, NULL, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&r, other, NULL, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&r, pub, NULL, &err), VI_ERR_VERIFY);
    char want[200], hex[65];
    vi_hex_encode(other, 32, hex);
    snprintf(want, sizeof want, "signature verifies, but public_key %s is not the trusted key",
             hex);
    assert_string_equal(err.msg, want);
}

/* ==== setters and validation ==== */

static void test_setters(void **state)
{
    (void)state;
    vi_receipt r;
    vi_error err;
    vi_receipt_init(&r);
    assert_int_equal(r.format_version, 1);
    assert_int_equal(r.order_version, 1);
    assert_string_equal(r.mode, "exact");
    assert_int_equal(vi_receipt_set_param(&r, "m", "1", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&r, "z", "2", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&r, "a", "3", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&r, "m", "4", &err), VI_OK); /* replaces */
    assert_int_equal(r.n_params, 3);
    assert_string_equal(r.params[0].key, "a");
    assert_string_equal(r.params[1].key, "m");
    assert_string_equal(r.params[1].value, "4");
    assert_string_equal(r.params[2].key, "z");
    for (int i = 3; i < VI_RECEIPT_MAX_PARAMS; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%02d", i);
        assert_int_equal(vi_receipt_set_param(&r, k, "", &err), VI_OK);
    }
    assert_int_equal(vi_receipt_set_param(&r, "k99", "x", &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "receipt already has 16 parameters; cannot add 'k99'");
    assert_int_equal(vi_receipt_set_param(&r, "a", "still replaceable", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&r, "", "x", &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt parameter key is empty");
    char big[300];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(vi_receipt_set_param(&r, "a", big, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "receipt parameter 'a' value is 299 bytes long (at most 255)");
    assert_int_equal(vi_receipt_set_string(&r, "request_id", big, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "receipt field 'request_id' is 299 bytes long (at most 255)");
    assert_int_equal(vi_receipt_set_string(&r, "receipt_digest", "x", &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt has no string field 'receipt_digest'");

    assert_int_equal(vi_receipt_set_created(&r, 0, &err), VI_OK);
    assert_string_equal(r.created, "1970-01-01T00:00:00Z");
    assert_int_equal(vi_receipt_set_created(&r, -1, &err), VI_OK);
    assert_string_equal(r.created, "1969-12-31T23:59:59Z");
    assert_int_equal(vi_receipt_set_created(&r, 951782400, &err), VI_OK);
    assert_string_equal(r.created, "2000-02-29T00:00:00Z");
    assert_int_equal(vi_receipt_set_created(&r, 253402300800LL, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "time 253402300800 is outside years 0000..9999");
    assert_int_equal(vi_receipt_set_created(&r, 253402300799LL, &err), VI_OK);
    assert_string_equal(r.created, "9999-12-31T23:59:59Z");
    assert_int_equal(vi_receipt_set_created(&r, -62167219200LL, &err), VI_OK);
    assert_string_equal(r.created, "0000-01-01T00:00:00Z");
    /* random instants of years 0000..9999 against strftime */
    uint64_t seed = 0x7e57c0de;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int64_t t = -62167219200LL + (int64_t)((seed >> 11) % (253402300800ull + 62167219200ull));
        time_t tt = (time_t)t;
        struct tm tm;
        char want[64];
        assert_non_null(gmtime_r(&tt, &tm));
        assert_true(strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
        if (tm.tm_year + 1900 < 1000) { /* %Y does not pad to four digits */
            char padded[64];
            snprintf(padded, sizeof padded, "%04d%s", tm.tm_year + 1900, strchr(want, '-'));
            strcpy(want, padded);
        }
        assert_int_equal(vi_receipt_set_created(&r, t, &err), VI_OK);
        assert_string_equal(r.created, want);
    }

    char id[64];
    assert_int_equal(vi_engine_id(id, sizeof id, "cpu", "avx512", &err), VI_OK);
    assert_string_equal(id, "verinfer/" VERINFER_VERSION " order/1 backend/cpu isa/avx512");
    assert_int_equal(vi_engine_id(id, sizeof id, "cuda", NULL, &err), VI_OK);
    assert_string_equal(id, "verinfer/" VERINFER_VERSION " order/1 backend/cuda");
    assert_int_equal(vi_engine_id(id, 10, "cpu", "avx2", &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "engine id does not fit in 10 bytes");
}

static void expect_seal_fails(const vi_receipt *r, vi_status want_st, const char *want_msg)
{
    vi_receipt t = *r;
    vi_error err;
    assert_int_equal(vi_receipt_seal(&t, NULL, &err), want_st);
    assert_string_equal(err.msg, want_msg);
}

static void test_validation(void **state)
{
    (void)state;
    vi_receipt r, t;
    vi_error err;
    sample(&r);
    t = r;
    t.model_name[0] = '\0';
    expect_seal_fails(&t, VI_ERR_INVALID, "receipt field 'model_name' is empty");
    t = r;
    t.format_version = 2;
    expect_seal_fails(&t, VI_ERR_UNSUPPORTED,
                      "unsupported receipt format_version 2 (this build handles version 1)");
    t = r;
    t.order_version = 0;
    expect_seal_fails(&t, VI_ERR_INVALID, "receipt order_version is 0");
    static const char *const BAD_TIMES[] = {
        "2026-02-29T00:00:00Z",      "2026-11-25 10:00:00Z",
        "2026-11-25T10:00:00+00:00", "2026-13-01T00:00:00Z",
        "2026-11-25T24:00:00Z",      "2026-11-25T10:00:00.5Z",
        "2026-11-25t10:00:00z",      "",
    };
    for (size_t i = 0; i < sizeof BAD_TIMES / sizeof BAD_TIMES[0]; i++) {
        t = r;
        assert_int_equal(vi_receipt_set_string(&t, "created", BAD_TIMES[i], &err), VI_OK);
        char want[160];
        if (BAD_TIMES[i][0])
            snprintf(want, sizeof want,
                     "receipt field 'created' is \"%s\"; expected UTC time as YYYY-MM-DDTHH:MM:SSZ",
                     BAD_TIMES[i]);
        else
            snprintf(want, sizeof want, "receipt field 'created' is empty");
        expect_seal_fails(&t, VI_ERR_INVALID, want);
    }
    t = r;
    assert_int_equal(vi_receipt_set_string(&t, "created", "2024-02-29T23:59:60Z", &err), VI_OK);
    assert_int_equal(vi_receipt_seal(&t, NULL, &err), VI_OK);

    static const struct {
        const char *s;
        size_t bad;
    } UTF8[] = {
        {"\xff", 0},       {"ok\xc0\xaf", 2},       {"\xed\xa0\x80", 0},
        {"ab\xe2\x82", 2}, {"\xf4\x90\x80\x80", 0}, {"x\x80", 1},
    };
    for (size_t i = 0; i < sizeof UTF8 / sizeof UTF8[0]; i++) {
        t = r;
        assert_int_equal(vi_receipt_set_string(&t, "request_id", UTF8[i].s, &err), VI_OK);
        char want[120];
        snprintf(want, sizeof want, "receipt field 'request_id' is not valid UTF-8 (byte %zu)",
                 UTF8[i].bad);
        expect_seal_fails(&t, VI_ERR_INVALID, want);
    }
    t = r;
    assert_int_equal(
        vi_receipt_set_string(&t, "request_id", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", &err),
        VI_OK);
    assert_int_equal(vi_receipt_seal(&t, NULL, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_OK);

    t = r;
    vi_receipt_param p = t.params[0];
    t.params[0] = t.params[1];
    t.params[1] = p;
    expect_seal_fails(
        &t, VI_ERR_INVALID,
        "receipt parameters are not sorted and unique: 'binary_data' follows 'outputs'");
    t = r;
    memset(t.engine_id, 'e', sizeof t.engine_id);
    expect_seal_fails(&t, VI_ERR_INVALID, "receipt field 'engine_id' is not NUL-terminated");

    /* a receipt whose digest matches but whose fields are malformed */
    t = r;
    assert_int_equal(vi_receipt_set_string(&t, "created", "yesterday", &err), VI_OK);
    assert_int_equal(vi_receipt_compute_digest(&t, t.receipt_digest, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt is sealed but malformed: receipt field 'created' is "
                                 "\"yesterday\"; expected UTC time as YYYY-MM-DDTHH:MM:SSZ");

    /* sealing with a key that is not Ed25519 */
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ec);
    t = r;
    assert_int_equal(vi_receipt_seal(&t, ec, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipts are signed with Ed25519 keys only (got EC)");
    EVP_PKEY_free(ec);
}

/* ==== JSON ==== */

/* The golden receipt as JSON (JSON_COMPACT), field order as written. */
#define GOLDEN_JSON                                                                                \
    "{\"format_version\":1,"                                                                       \
    "\"model_name\":\"tiny\","                                                                     \
    "\"model_version\":\"1\","                                                                     \
    "\"model_digest\":\"3fc5bcd124e74e81e658ed557a01faeda238d767b57e6b28cd04bb262eb7412a\","       \
    "\"input_digest\":\"ec4aa817a975a0f79fe401ae845e15509133992ac3e40118bee68a3f3e812b8e\","       \
    "\"output_digest\":\"848466fdbeef5d91360cb2571d0256597664f4c1ebf7d6cab0c2afef18326759\","      \
    "\"engine_id\":\"verinfer/0.1.0 order/1 backend/cpu isa/avx512\","                             \
    "\"order_version\":1,"                                                                         \
    "\"mode\":\"exact\","                                                                          \
    "\"request_id\":\"req-42\","                                                                   \
    "\"parameters\":{\"binary_data\":\"false\","                                                   \
    "\"outputs\":\"logits\"},"                                                                     \
    "\"created\":\"2026-11-25T10:00:00Z\","                                                        \
    "\"receipt_digest\":\"77f5e3516bdfeca42df0ede38a095f3fc4b9cba5b517a7786a9fad2842e05a37\","     \
    "\"signature\":"                                                                               \
    "\"33ce38e50b71496a6d88c33b42165278b33defea1fd3cc045a07e6df41e5ce549ca2d832ffc1cbcdfca40cd0e3" \
    "1d7bb996de1f9c9c8d55001549f426d4d9890f\","                                                    \
    "\"public_key\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\","         \
    "\"signature_algorithm\":\"ed25519\"}"

static char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

static void test_json_round_trip(void **state)
{
    (void)state;
    vi_receipt r, back;
    vi_error err;
    signed_sample(&r);
    json_t *j = vi_receipt_to_json(&r);
    assert_non_null(j);
    char *text = dump(j);
    assert_string_equal(text, GOLDEN_JSON);
    json_error_t jerr;
    json_t *parsed = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(parsed);
    assert_int_equal(vi_receipt_from_json(parsed, &back, &err), VI_OK);
    assert_memory_equal(&back, &r, sizeof r);
    assert_int_equal(vi_receipt_check(&back, NULL, NULL, &err), VI_OK);
    json_t *again = vi_receipt_to_json(&back);
    char *text2 = dump(again);
    assert_string_equal(text2, text);
    free(text);
    free(text2);
    json_decref(j);
    json_decref(parsed);
    json_decref(again);

    /* unsigned, empty optional fields */
    sample(&r);
    assert_int_equal(vi_receipt_set_string(&r, "model_version", "", &err), VI_OK);
    assert_int_equal(vi_receipt_set_string(&r, "request_id", "", &err), VI_OK);
    r.n_params = 0;
    memset(r.params, 0, sizeof r.params);
    assert_int_equal(vi_receipt_seal(&r, NULL, &err), VI_OK);
    j = vi_receipt_to_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "signature")), "");
    assert_string_equal(json_string_value(json_object_get(j, "public_key")), "");
    assert_string_equal(json_string_value(json_object_get(j, "signature_algorithm")), "none");
    assert_int_equal(json_object_size(json_object_get(j, "parameters")), 0);
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_OK);
    assert_memory_equal(&back, &r, sizeof r);
    vi_receipt_verdict v;
    assert_int_equal(vi_receipt_check(&back, NULL, &v, &err), VI_OK);
    assert_int_equal(v, VI_RECEIPT_UNSIGNED);
    json_decref(j);

    /* invalid UTF-8 cannot be put in JSON */
    sample(&r);
    r.request_id[0] = (char)0xff;
    assert_null(vi_receipt_to_json(&r));
}

static void test_json_tampered_text_fails_check(void **state)
{
    (void)state;
    vi_receipt r, back;
    vi_error err;
    signed_sample(&r);
    json_t *j = vi_receipt_to_json(&r);
    json_object_set_new(j, "output_digest", json_string(INPUT_DIGEST));
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&back, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "receipt_digest does not match its fields");
    json_decref(j);
}

typedef struct {
    const char *key;   /* field to change (NULL: none) */
    const char *value; /* JSON text of the new value; NULL deletes the field */
    vi_status st;
    const char *msg;
} json_case;

static void test_json_strict(void **state)
{
    (void)state;
    static const json_case CASES[] = {
        {"created", NULL, VI_ERR_INVALID, "receipt field 'created' is missing"},
        {"signature_algorithm", NULL, VI_ERR_INVALID,
         "receipt field 'signature_algorithm' is missing"},
        {"extra", "1", VI_ERR_INVALID, "receipt has an unknown field 'extra'"},
        {"format_version", "\"1\"", VI_ERR_INVALID,
         "receipt field 'format_version' must be an integer (got string)"},
        {"format_version", "-1", VI_ERR_INVALID,
         "receipt field 'format_version' is -1, outside [0, 4294967295]"},
        {"order_version", "1.0", VI_ERR_INVALID,
         "receipt field 'order_version' must be an integer (got number)"},
        {"model_name", "null", VI_ERR_INVALID,
         "receipt field 'model_name' must be a string (got null)"},
        {"mode", "5", VI_ERR_INVALID, "receipt field 'mode' must be a string (got integer)"},
        {"created", "true", VI_ERR_INVALID,
         "receipt field 'created' must be a string (got boolean)"},
        {"model_name", "\"a\\u0000b\"", VI_ERR_INVALID,
         "receipt field 'model_name' contains a NUL character"},
        {"model_digest", "\"3fc5bcd124e74e81e658ed557a01faeda238d767b57e6b28cd04bb262eb7412\"",
         VI_ERR_INVALID,
         "receipt field 'model_digest' must be 64 lowercase hex characters (got 63 characters)"},
        {"input_digest", "\"EC4aa817a975a0f79fe401ae845e15509133992ac3e40118bee68a3f3e812b8e\"",
         VI_ERR_INVALID,
         "receipt field 'input_digest' must be lowercase hex: character 0 is 'E' (0x45)"},
        {"receipt_digest", "[]", VI_ERR_INVALID,
         "receipt field 'receipt_digest' must be a string (got array)"},
        {"parameters", "[]", VI_ERR_INVALID,
         "receipt field 'parameters' must be an object (got array)"},
        {"parameters", "{\"outputs\":3}", VI_ERR_INVALID,
         "receipt parameter 'outputs' must be a string (got integer)"},
        {"parameters", "{\"\":\"x\"}", VI_ERR_INVALID, "receipt parameter key is empty"},
        {"parameters",
         "{\"a\":\"\",\"b\":\"\",\"c\":\"\",\"d\":\"\",\"e\":\"\",\"f\":\"\",\"g\":\"\",\"h\":\"\","
         "\"i\":\"\","
         "\"j\":\"\",\"k\":\"\",\"l\":\"\",\"m\":\"\",\"n\":\"\",\"o\":\"\",\"p\":\"\",\"q\":\"\"}",
         VI_ERR_INVALID, "receipt field 'parameters' has 17 entries (at most 16)"},
        {"signature_algorithm", "\"rsa\"", VI_ERR_INVALID,
         "receipt field 'signature_algorithm' must be \"ed25519\", \"ed25519-merkle\" or \"none\" "
         "(got \"rsa\")"},
        {"batch", "{}", VI_ERR_INVALID,
         "receipt has signature_algorithm \"ed25519\" but a field 'batch' (only \"ed25519-merkle\" "
         "receipts have one)"},
        {"signature_algorithm", "\"ed25519-merkle\"", VI_ERR_INVALID,
         "receipt has signature_algorithm \"ed25519-merkle\" but no field 'batch'"},
        {"signature", "\"00\"", VI_ERR_INVALID,
         "receipt field 'signature' must be 128 lowercase hex characters (got 2 characters)"},
        {"public_key", "\"\"", VI_ERR_INVALID,
         "receipt field 'public_key' must be 64 lowercase hex characters (got 0 characters)"},
        {"signature_algorithm", "\"none\"", VI_ERR_INVALID,
         "receipt has signature_algorithm \"none\" but a non-empty signature"},
    };
    vi_receipt r, back;
    vi_error err;
    signed_sample(&r);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const json_case *c = &CASES[i];
        json_t *j = vi_receipt_to_json(&r);
        assert_non_null(j);
        if (c->value) {
            json_error_t jerr;
            json_t *v = json_loads(c->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (!v)
                fail_msg("case %zu: bad test JSON %s: %s", i, c->value, jerr.text);
            json_object_set_new(j, c->key, v);
        } else {
            json_object_del(j, c->key);
        }
        memset(&err, 0, sizeof err);
        vi_status st = vi_receipt_from_json(j, &back, &err);
        if (st != c->st || strcmp(err.msg, c->msg) != 0)
            fail_msg("case %zu (%s): got %d \"%s\", want %d \"%s\"", i, c->key, st, err.msg, c->st,
                     c->msg);
        json_decref(j);
    }
    /* a string longer than its field */
    char big[VI_RECEIPT_ENGINE_MAX + 1];
    memset(big, 'e', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_t *j = vi_receipt_to_json(&r);
    json_object_set_new(j, "engine_id", json_string(big));
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "receipt field 'engine_id' is 256 bytes long (at most 255)");
    json_decref(j);
    json_t *arr = json_array();
    assert_int_equal(vi_receipt_from_json(arr, &back, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt must be a JSON object (got array)");
    json_decref(arr);
    assert_int_equal(vi_receipt_from_json(NULL, &back, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt must be a JSON object (got nothing)");
}

/* ==== batch-signed receipts ==== */

#define BATCH_MAX 17

/* n receipts like the golden one with request ids "req-42", "req-43", ...,
 * sealed unsigned; ptrs[i] = &rs[i]. */
static void unsigned_batch(vi_receipt *rs, vi_receipt **ptrs, int n, const char *created)
{
    vi_error err;
    for (int i = 0; i < n; i++) {
        char id[32];
        sample(&rs[i]);
        snprintf(id, sizeof id, "req-%d", 42 + i);
        assert_int_equal(vi_receipt_set_string(&rs[i], "request_id", id, &err), VI_OK);
        if (created)
            assert_int_equal(vi_receipt_set_string(&rs[i], "created", created, &err), VI_OK);
        assert_int_equal(vi_receipt_seal(&rs[i], NULL, &err), VI_OK);
        ptrs[i] = &rs[i];
    }
}

static void sha256_of(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
}

/* SHA256(0x00 || receipt_digest), by hand. */
static void hand_leaf(const uint8_t digest[32], uint8_t out[32])
{
    uint8_t b[33] = {0x00};
    memcpy(b + 1, digest, 32);
    sha256_of(b, sizeof b, out);
}

/* The RFC 6962 Merkle Tree Hash over n leaf hashes, by hand. */
static void hand_root(const uint8_t (*leaf)[32], int n, uint8_t out[32])
{
    if (n == 1) {
        memcpy(out, leaf[0], 32);
        return;
    }
    int k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t b[65] = {0x01};
    hand_root(leaf, k, b + 1);
    hand_root(leaf + k, n - k, b + 33);
    sha256_of(b, sizeof b, out);
}

/* str("verinfer.receipt.batch.sig.v1") || u64(n) || root, by hand. */
static void hand_batch_message(int n, const uint8_t root[32], bytes *m)
{
    m->n = 0;
    put_str(m, "verinfer.receipt.batch.sig.v1");
    put_u32(m, (uint32_t)n);
    put_u32(m, 0);
    put(m, root, 32);
}

static int ossl_verifies(const uint8_t pub[32], const uint8_t sig[64], const bytes *m)
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    assert_non_null(k);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k), 1);
    int ok = EVP_DigestVerify(ctx, sig, 64, m->p, m->n) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
}

/* The JSON object and the direct text writer agree, and the text reads back
 * into the same receipt. */
static void assert_json_round_trip(const vi_receipt *r)
{
    json_t *j = vi_receipt_to_json(r);
    assert_non_null(j);
    char *text = dump(j);
    vi_sb sb;
    vi_sb_init(&sb);
    assert_int_equal(vi_receipt_put_json(&sb, r), 0);
    assert_string_equal(sb.buf, text);
    vi_sb_free(&sb);
    json_error_t jerr;
    json_t *parsed = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(parsed);
    vi_receipt back;
    vi_error err;
    if (vi_receipt_from_json(parsed, &back, &err) != VI_OK)
        fail_msg("%s: %s", text, err.msg);
    assert_memory_equal(&back, r, sizeof back);
    free(text);
    json_decref(j);
    json_decref(parsed);
}

/* Batches of 1..17: a batch of one is exactly the plain seal; larger ones
 * carry the root, index, size and the audit path that the recursive
 * vi_merkle_proof gives over leaves hashed by hand, one signature that
 * OpenSSL verifies over the message built by hand, and every leaf checks. */
static void test_batch_sign_and_check(void **state)
{
    (void)state;
    EVP_PKEY *key = rfc_key();
    uint8_t pub[32], other[32] = {0};
    vi_error err;
    assert_int_equal(vi_hex_decode(RFC8032_PUB, pub, 32, "pub", &err), VI_OK);
    other[0] = 1;
    for (int n = 1; n <= BATCH_MAX; n++) {
        vi_receipt rs[BATCH_MAX], before[BATCH_MAX], *ptrs[BATCH_MAX];
        unsigned_batch(rs, ptrs, n, NULL);
        memcpy(before, rs, sizeof rs);
        assert_int_equal(vi_receipt_seal_batch(ptrs, n, key, &err), VI_OK);
        if (n == 1) {
            vi_receipt want = before[0];
            assert_int_equal(vi_receipt_seal(&want, key, &err), VI_OK);
            assert_memory_equal(&rs[0], &want, sizeof want);
            assert_int_equal(rs[0].signature_algorithm, VI_SIG_ED25519);
            assert_int_equal(vi_receipt_check(&rs[0], pub, NULL, &err), VI_OK);
            assert_string_equal(err.msg, "signed");
            continue;
        }
        uint8_t leaves[BATCH_MAX][32], root[32];
        for (int i = 0; i < n; i++)
            hand_leaf(rs[i].receipt_digest, leaves[i]);
        hand_root((const uint8_t(*)[32])leaves, n, root);
        bytes m;
        hand_batch_message(n, root, &m);
        assert_int_equal(m.n, 73);
        for (int i = 0; i < n; i++) {
            vi_receipt *r = &rs[i];
            /* the signed fields and the digest are untouched */
            assert_memory_equal(r, &before[i], offsetof(vi_receipt, signature_algorithm));
            assert_int_equal(r->signature_algorithm, VI_SIG_ED25519_MERKLE);
            assert_int_equal(r->batch_index, i);
            assert_int_equal(r->batch_size, n);
            assert_memory_equal(r->batch_root, root, 32);
            assert_memory_equal(r->public_key, pub, 32);
            assert_memory_equal(r->signature, rs[0].signature, 64);
            assert_true(ossl_verifies(r->public_key, r->signature, &m));
            uint8_t path[VI_MERKLE_MAX_PATH][32];
            int len = -1;
            assert_int_equal(vi_merkle_proof((const uint8_t(*)[32])leaves, (uint64_t)n, (uint64_t)i,
                                             path, &len, &err),
                             VI_OK);
            assert_int_equal(r->batch_proof_len, len);
            assert_int_equal(vi_merkle_path_len((uint64_t)i, (uint64_t)n), len);
            assert_memory_equal(r->batch_proof, path, (size_t)len * 32);
            uint8_t zero[VI_RECEIPT_BATCH_MAX_PROOF * 32] = {0};
            assert_memory_equal(r->batch_proof[len], zero, (size_t)(32 - len) * 32);

            vi_receipt_verdict v = VI_RECEIPT_UNSIGNED;
            assert_int_equal(vi_receipt_check(r, NULL, &v, &err), VI_OK);
            assert_int_equal(v, VI_RECEIPT_SIGNED);
            char want[200];
            snprintf(want, sizeof want, "signed (batch of %d, leaf %d)", n, i);
            assert_string_equal(err.msg, want);
            assert_int_equal(vi_receipt_check(r, pub, &v, &err), VI_OK);
            assert_int_equal(vi_receipt_check(r, other, &v, &err), VI_ERR_VERIFY);
            snprintf(want, sizeof want,
                     "signature verifies, but public_key %s is not the trusted key", RFC8032_PUB);
            assert_string_equal(err.msg, want);
            assert_json_round_trip(r);
        }
    }
    vi_key_free(key);
}

/* Golden values of docs/receipts.md: the golden receipt (req-42) and two
 * more (req-43, req-44) signed as one batch with the RFC 8032 test key. */
#define GOLDEN_BATCH_LEAF0 "22075d4894cd8dd59f2062ccf0d21b8e308805b45fb67d034fad25ca6c2fd87c"
#define GOLDEN_BATCH_LEAF1 "2e86fa2f2124fb2b7fa5b05333deb62adb51ef65c6cd4a732491897a90864f21"
#define GOLDEN_BATCH_LEAF2 "43e48d8ec100393eb9d3c3b8ef24dcc8adb6570061a1ff4a51f77963f451fb55"
#define GOLDEN_BATCH_NODE01 "c92a3fb5ad396d6a393168bd83e05393bf5c03b3b9d79315b2d1b4c3f19430e8"
#define GOLDEN_BATCH_ROOT "33459a89b9cef084caf3a51bdb39ac1b21c96f42b634c18158dd9aa2801469d2"
#define GOLDEN_BATCH_SIGNATURE                                                                     \
    "45708125c75b5410630e62a16d68c71cfb367a98eff2015ba7f9057ddd98f432"                             \
    "3f6bf036df0e858c3a9e14b9f7cd2527392e60944ade195b169a5b9432398b08"
#define GOLDEN_BATCH_JSON_TAIL                                                                     \
    "\"signature\":\"" GOLDEN_BATCH_SIGNATURE "\","                                                \
    "\"public_key\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\","         \
    "\"signature_algorithm\":\"ed25519-merkle\","                                                  \
    "\"batch\":{\"root\":\"" GOLDEN_BATCH_ROOT "\",\"index\":0,\"size\":3,"                        \
    "\"proof\":[\"" GOLDEN_BATCH_LEAF1 "\",\"" GOLDEN_BATCH_LEAF2 "\"]}}"

static void test_batch_golden(void **state)
{
    (void)state;
    EVP_PKEY *key = rfc_key();
    vi_receipt rs[3], *ptrs[3];
    vi_error err;
    unsigned_batch(rs, ptrs, 3, NULL);
    assert_hex(rs[0].receipt_digest, 32, GOLDEN_RECEIPT_DIGEST);
    assert_int_equal(vi_receipt_seal_batch(ptrs, 3, key, &err), VI_OK);
    vi_key_free(key);
    uint8_t leaf[32];
    static const char *const LEAVES[] = {GOLDEN_BATCH_LEAF0, GOLDEN_BATCH_LEAF1,
                                         GOLDEN_BATCH_LEAF2};
    for (int i = 0; i < 3; i++) {
        hand_leaf(rs[i].receipt_digest, leaf);
        assert_hex(leaf, 32, LEAVES[i]);
    }
    assert_hex(rs[0].batch_root, 32, GOLDEN_BATCH_ROOT);
    assert_hex(rs[0].signature, 64, GOLDEN_BATCH_SIGNATURE);
    /* leaf 0: leaf 1, leaf 2; leaf 2: node(0, 1) */
    assert_int_equal(rs[0].batch_proof_len, 2);
    assert_hex(rs[0].batch_proof[0], 32, GOLDEN_BATCH_LEAF1);
    assert_hex(rs[0].batch_proof[1], 32, GOLDEN_BATCH_LEAF2);
    assert_int_equal(rs[2].batch_proof_len, 1);
    assert_hex(rs[2].batch_proof[0], 32, GOLDEN_BATCH_NODE01);
    json_t *j = vi_receipt_to_json(&rs[0]);
    char *text = dump(j);
    const char *tail = strstr(text, "\"signature\":");
    assert_non_null(tail);
    assert_string_equal(tail, GOLDEN_BATCH_JSON_TAIL);
    free(text);
    json_decref(j);
}

/* Flips every bit of r at [offset, offset + len) and wants, for each, the
 * status and message that want() gives for the changed receipt. */
typedef void (*want_fn)(const vi_receipt *changed, vi_status *st, char *msg, size_t cap);

static void flip_bits_want(const vi_receipt *good, size_t offset, size_t len, const char *field,
                           want_fn want)
{
    for (size_t byte = 0; byte < len; byte++)
        for (int bit = 0; bit < 8; bit++) {
            vi_receipt r = *good;
            ((uint8_t *)&r)[offset + byte] ^= (uint8_t)(1u << bit);
            vi_status want_st;
            char want_msg[VI_ERROR_MSG_MAX];
            want(&r, &want_st, want_msg, sizeof want_msg);
            vi_error err = {{0}};
            vi_receipt_verdict v;
            vi_status st = vi_receipt_check(&r, NULL, &v, &err);
            if (st != want_st || strcmp(err.msg, want_msg) != 0)
                fail_msg("%s byte %zu bit %d: got %d \"%s\", want %d \"%s\"", field, byte, bit, st,
                         err.msg, want_st, want_msg);
        }
}

#define TAMPER_N 13
#define TAMPER_LEAF 4

static void want_not_root(const vi_receipt *r, vi_status *st, char *msg, size_t cap)
{
    *st = VI_ERR_VERIFY;
    snprintf(msg, cap, "inclusion proof of leaf %u of %u does not lead to the root",
             (unsigned)r->batch_index, (unsigned)r->batch_size);
}

static void want_bad_signature(const vi_receipt *r, vi_status *st, char *msg, size_t cap)
{
    (void)r;
    *st = VI_ERR_VERIFY;
    snprintf(msg, cap, "batch signature does not verify");
}

static void want_bad_digest(const vi_receipt *r, vi_status *st, char *msg, size_t cap)
{
    (void)r;
    *st = VI_ERR_VERIFY;
    snprintf(msg, cap, "receipt_digest does not match its fields");
}

static void want_stray_proof_bytes(const vi_receipt *r, vi_status *st, char *msg, size_t cap)
{
    *st = VI_ERR_INVALID;
    snprintf(msg, cap, "receipt batch proof has non-zero bytes after its %d hashes",
             (int)r->batch_proof_len);
}

/* The shape of the audit path of leaf i in a tree of n leaves, worked out
 * level by level (a last node without a partner moves up): bit k of the
 * result is 1 when the k-th path hash is the left sibling. Sets *len. */
static uint64_t path_shape(uint64_t i, uint64_t n, int *len)
{
    uint64_t shape = 0;
    *len = 0;
    for (; n > 1; n = (n + 1) / 2, i /= 2)
        if ((i ^ 1) < n)
            shape |= (uint64_t)(i & 1) << (*len)++;
    return shape;
}

/* A changed index or size: out of range, a path of the wrong length for it
 * (lengths also from the recursive vi_merkle_proof where the tree is small),
 * or a path that no longer leads to the root. Where leaf i of the new size
 * has a path of the same shape as leaf 4 of 13 (13 -> 12, 13 -> 15), the
 * proof still leads to the root and only the signature, which covers the
 * size, catches it. */
static void want_moved(const vi_receipt *r, vi_status *st, char *msg, size_t cap)
{
    unsigned i = r->batch_index, n = r->batch_size;
    *st = VI_ERR_VERIFY;
    if (n == 0) {
        *st = VI_ERR_INVALID;
        snprintf(msg, cap, "receipt batch_size is 0");
        return;
    }
    if (i >= n) {
        *st = VI_ERR_INVALID;
        snprintf(msg, cap, "receipt batch_index %u is not below batch_size %u", i, n);
        return;
    }
    int need = vi_merkle_path_len(i, n);
    if (n <= 64) {
        uint8_t leaves[64][32] = {{0}}, path[VI_MERKLE_MAX_PATH][32];
        int len = -1;
        vi_error err;
        assert_int_equal(vi_merkle_proof((const uint8_t(*)[32])leaves, n, i, path, &len, &err),
                         VI_OK);
        assert_int_equal(need, len);
    }
    if (need < r->batch_proof_len)
        snprintf(msg, cap, "inclusion proof is too long: %d hashes for leaf %u of %u",
                 (int)r->batch_proof_len, i, n);
    else if (need > r->batch_proof_len)
        snprintf(msg, cap, "inclusion proof is too short: %d hashes for leaf %u of %u",
                 (int)r->batch_proof_len, i, n);
    else {
        int len0, len1;
        if (path_shape(i, n, &len1) == path_shape(TAMPER_LEAF, TAMPER_N, &len0))
            snprintf(msg, cap, "batch signature does not verify");
        else
            want_not_root(r, st, msg, cap);
    }
}

static void want_proof_len(const vi_receipt *r, vi_status *st, char *msg, size_t cap)
{
    int len = r->batch_proof_len;
    if (len < 0 || len > 32) {
        *st = VI_ERR_INVALID;
        snprintf(msg, cap, "receipt batch proof has %d hashes (0 to 32 allowed)", len);
    } else if (len < 4) {
        want_stray_proof_bytes(r, st, msg, cap);
    } else {
        *st = VI_ERR_VERIFY;
        snprintf(msg, cap, "inclusion proof is too long: %d hashes for leaf %d of %d", len,
                 TAMPER_LEAF, TAMPER_N);
    }
}

/* One signed batch of 13; its leaf 4 (audit path of 4 hashes). */
static void tamper_batch(vi_receipt rs[TAMPER_N], const char *created)
{
    EVP_PKEY *key = rfc_key();
    vi_receipt *ptrs[TAMPER_N];
    vi_error err;
    unsigned_batch(rs, ptrs, TAMPER_N, created);
    assert_int_equal(vi_receipt_seal_batch(ptrs, TAMPER_N, key, &err), VI_OK);
    vi_key_free(key);
    assert_int_equal(rs[TAMPER_LEAF].batch_proof_len, 4);
}

static void test_batch_every_bit_flip_is_caught(void **state)
{
    (void)state;
    vi_receipt rs[TAMPER_N];
    tamper_batch(rs, NULL);
    const vi_receipt *r = &rs[TAMPER_LEAF];
    vi_error err;
    assert_int_equal(vi_receipt_check(r, NULL, NULL, &err), VI_OK);
#define FLIP(field, len, want) flip_bits_want(r, offsetof(vi_receipt, field), len, #field, want)
    FLIP(batch_root, 32, want_not_root);
    FLIP(batch_proof[0], 4 * 32, want_not_root);
    FLIP(batch_proof[4], 28 * 32, want_stray_proof_bytes);
    FLIP(batch_index, 4, want_moved);
    FLIP(batch_size, 4, want_moved);
    FLIP(batch_proof_len, 4, want_proof_len);
    FLIP(signature, 64, want_bad_signature);
    FLIP(public_key, 32, want_bad_signature);
    FLIP(receipt_digest, 32, want_bad_digest);
    FLIP(output_digest, 32, want_bad_digest);
    FLIP(request_id, strlen(r->request_id), want_bad_digest);
    FLIP(created, strlen(r->created), want_bad_digest);
#undef FLIP
    /* signature_algorithm: ed25519-merkle (2) -> 3, 0 (none), 6, ... */
    for (int bit = 0; bit < 32; bit++) {
        vi_receipt t = *r;
        t.signature_algorithm ^= (int32_t)(1u << bit);
        assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
        if (bit == 1) {
            assert_string_equal(err.msg,
                                "receipt is marked unsigned but carries a signature or public key");
        } else {
            char want[64];
            snprintf(want, sizeof want, "unknown signature_algorithm %d",
                     (int)t.signature_algorithm);
            assert_string_equal(err.msg, want);
        }
    }
}

/* Proofs and signatures do not travel between leaves, batches or forms. */
static void test_batch_proofs_do_not_move(void **state)
{
    (void)state;
    vi_receipt a[TAMPER_N], b[TAMPER_N], t;
    vi_error err;
    tamper_batch(a, NULL);
    tamper_batch(b, "2026-11-25T10:00:01Z");
    const int I = TAMPER_LEAF, J = TAMPER_LEAF + 1; /* both have 4-hash paths */

    /* leaf 4 with the proof of leaf 5, under either index */
    t = a[I];
    memcpy(t.batch_proof, a[J].batch_proof, sizeof t.batch_proof);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof of leaf 4 of 13 does not lead to the root");
    t.batch_index = (uint32_t)J;
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof of leaf 5 of 13 does not lead to the root");
    t = a[I];
    t.batch_index = (uint32_t)J;
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof of leaf 5 of 13 does not lead to the root");

    /* a receipt of batch b under batch a's root and signature, and under its
     * own root with a's signature */
    assert_int_equal(vi_receipt_check(&b[I], NULL, NULL, &err), VI_OK);
    t = b[I];
    memcpy(t.batch_root, a[I].batch_root, 32);
    memcpy(t.signature, a[I].signature, 64);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "inclusion proof of leaf 4 of 13 does not lead to the root");
    t = b[I];
    memcpy(t.signature, a[I].signature, 64);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "batch signature does not verify");

    /* the batch signature is not a plain one, with or without the batch fields */
    t = a[I];
    t.signature_algorithm = VI_SIG_ED25519;
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "receipt is signed \"ed25519\" but carries batch fields (only "
                                 "\"ed25519-merkle\" has them)");
    t.batch_index = t.batch_size = 0;
    t.batch_proof_len = 0;
    memset(t.batch_root, 0, sizeof t.batch_root);
    memset(t.batch_proof, 0, sizeof t.batch_proof);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "signature does not verify");
    /* nor a plain signature a batch one */
    signed_sample(&t);
    t.signature_algorithm = VI_SIG_ED25519_MERKLE;
    t.batch_size = 1;
    assert_hex(t.receipt_digest, 32, GOLDEN_RECEIPT_DIGEST);
    hand_leaf(t.receipt_digest, t.batch_root);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "batch signature does not verify");
    /* a batch of one in the merkle form is valid when signed that way */
    uint8_t m_root[32];
    memcpy(m_root, t.batch_root, 32);
    bytes m;
    hand_batch_message(1, m_root, &m);
    EVP_PKEY *key = rfc_key();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = 64;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, t.signature, &sig_len, m.p, m.n), 1);
    EVP_MD_CTX_free(ctx);
    vi_key_free(key);
    assert_int_equal(vi_receipt_check(&t, NULL, NULL, &err), VI_OK);
    assert_string_equal(err.msg, "signed (batch of 1, leaf 0)");

    /* unsigned receipts stay as they were */
    sample(&t);
    assert_int_equal(vi_receipt_seal(&t, NULL, &err), VI_OK);
    vi_receipt_verdict v;
    assert_int_equal(vi_receipt_check(&t, NULL, &v, &err), VI_OK);
    assert_int_equal(v, VI_RECEIPT_UNSIGNED);
    t.batch_size = 1;
    assert_int_equal(vi_receipt_check(&t, NULL, &v, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "receipt is marked unsigned but carries batch fields");
}

static void test_batch_seal_errors(void **state)
{
    (void)state;
    vi_receipt rs[3], before[3], *ptrs[3];
    vi_error err;
    EVP_PKEY *key = rfc_key();
    unsigned_batch(rs, ptrs, 3, NULL);
    memcpy(before, rs, sizeof rs);
    assert_int_equal(vi_receipt_seal_batch(ptrs, 0, key, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "a batch to sign needs at least one receipt (got 0)");
    assert_int_equal(vi_receipt_seal_batch(ptrs, 3, NULL, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "signing a batch of receipts needs a key");
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ec);
    assert_int_equal(vi_receipt_seal_batch(ptrs, 3, ec, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipts are signed with Ed25519 keys only (got EC)");
    EVP_PKEY_free(ec);
    assert_memory_equal(rs, before, sizeof rs);
    /* a receipt that is already signed, in either form */
    assert_int_equal(vi_receipt_seal(&rs[1], key, &err), VI_OK);
    memcpy(before, rs, sizeof rs);
    assert_int_equal(vi_receipt_seal_batch(ptrs, 3, key, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt 1 of the batch is not sealed unsigned; seal it with no "
                                 "key before signing the batch");
    assert_memory_equal(rs, before, sizeof rs);
    assert_int_equal(vi_receipt_seal(&rs[1], NULL, &err), VI_OK);
    assert_int_equal(vi_receipt_seal_batch(ptrs, 2, key, &err), VI_OK);
    assert_int_equal(vi_receipt_seal_batch(ptrs + 1, 2, key, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt 0 of the batch is not sealed unsigned; seal it with no "
                                 "key before signing the batch");
    /* sealing again starts over: the batch fields go */
    assert_int_equal(vi_receipt_seal(&rs[0], NULL, &err), VI_OK);
    assert_int_equal(rs[0].batch_size, 0);
    assert_int_equal(vi_receipt_check(&rs[0], NULL, NULL, &err), VI_OK);
    assert_string_equal(err.msg, "unsigned");
    vi_key_free(key);
}

typedef struct {
    const char *key;   /* field of "batch" to change; NULL: replace "batch" itself */
    const char *value; /* JSON text of the new value; NULL deletes */
    const char *msg;   /* VI_ERR_INVALID with this message */
} batch_case;

static void test_batch_json_strict(void **state)
{
    (void)state;
    static const batch_case CASES[] = {
        {NULL, "[]", "receipt field 'batch' must be an object (got array)"},
        {NULL, NULL, "receipt has signature_algorithm \"ed25519-merkle\" but no field 'batch'"},
        {"depth", "1", "receipt field 'batch' has an unknown field 'depth'"},
        {"root", NULL, "receipt field 'batch.root' is missing"},
        {"proof", NULL, "receipt field 'batch.proof' is missing"},
        {"root", "\"00\"",
         "receipt field 'batch.root' must be 64 lowercase hex characters (got 2 characters)"},
        {"root", "7", "receipt field 'batch.root' must be a string (got integer)"},
        {"size", "0", "receipt field 'batch.size' is 0, outside [1, 4294967295]"},
        {"size", "4294967296", "receipt field 'batch.size' is 4294967296, outside [1, 4294967295]"},
        {"size", "\"13\"", "receipt field 'batch.size' must be an integer (got string)"},
        {"index", "-1", "receipt field 'batch.index' is -1, outside [0, 4294967295]"},
        {"index", "13", "receipt field 'batch.index' is 13, not below batch.size 13"},
        {"index", "4.0", "receipt field 'batch.index' must be an integer (got number)"},
        {"proof", "\"\"", "receipt field 'batch.proof' must be an array (got string)"},
        {"proof", "[]",
         "receipt field 'batch.proof' has 0 hashes, but leaf 4 of a batch of 13 has an audit path "
         "of 4"},
        {"index", "12",
         "receipt field 'batch.proof' has 4 hashes, but leaf 12 of a batch of 13 has an audit path "
         "of 2"},
        {"size", "4294967295",
         "receipt field 'batch.proof' has 4 hashes, but leaf 4 of a batch of 4294967295 has an "
         "audit path of 32"},
    };
    vi_receipt rs[TAMPER_N], back;
    vi_error err;
    tamper_batch(rs, NULL);
    const vi_receipt *r = &rs[TAMPER_LEAF];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const batch_case *c = &CASES[i];
        json_t *j = vi_receipt_to_json(r);
        assert_non_null(j);
        json_t *target = c->key ? json_object_get(j, "batch") : j;
        const char *key = c->key ? c->key : "batch";
        if (c->value) {
            json_error_t jerr;
            json_t *v = json_loads(c->value, JSON_DECODE_ANY, &jerr);
            if (!v)
                fail_msg("case %zu: bad test JSON %s: %s", i, c->value, jerr.text);
            json_object_set_new(target, key, v);
        } else {
            json_object_del(target, key);
        }
        memset(&err, 0, sizeof err);
        vi_status st = vi_receipt_from_json(j, &back, &err);
        if (st != VI_ERR_INVALID || strcmp(err.msg, c->msg) != 0)
            fail_msg("case %zu (%s): got %d \"%s\", want %d \"%s\"", i, key, st, err.msg,
                     VI_ERR_INVALID, c->msg);
        json_decref(j);
    }
    /* one proof hash of the wrong type or spelling */
    json_t *j = vi_receipt_to_json(r);
    json_t *proof = json_object_get(json_object_get(j, "batch"), "proof");
    assert_int_equal(json_array_size(proof), 4);
    json_array_set_new(proof, 2, json_integer(5));
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "receipt field 'batch.proof[2]' must be a string (got integer)");
    char upper[65];
    vi_hex_encode(r->batch_proof[0], 32, upper);
    upper[0] = 'A';
    json_array_set_new(proof, 2, json_string(upper));
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_ERR_INVALID);
    assert_string_equal(
        err.msg, "receipt field 'batch.proof[2]' must be lowercase hex: character 0 is 'A' (0x41)");
    json_decref(j);
    /* a batch-signed receipt without a signature */
    j = vi_receipt_to_json(r);
    json_object_set_new(j, "signature", json_string(""));
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_ERR_INVALID);
    assert_string_equal(
        err.msg,
        "receipt field 'signature' must be 128 lowercase hex characters (got 0 characters)");
    json_decref(j);
    /* a size that parses (leaf 4 of 12 has a 4-hash path too) is caught by the signature */
    j = vi_receipt_to_json(r);
    json_object_set_new(json_object_get(j, "batch"), "size", json_integer(12));
    assert_int_equal(vi_receipt_from_json(j, &back, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&back, NULL, NULL, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "batch signature does not verify");
    json_decref(j);
    /* receipts that cannot be written */
    vi_receipt t = *r;
    t.batch_proof_len = 3;
    assert_null(vi_receipt_to_json(&t));
    vi_sb sb;
    vi_sb_init(&sb);
    assert_int_equal(vi_receipt_put_json(&sb, &t), -1);
    vi_sb_free(&sb);
}

/* ==== key files ==== */

static void test_key_generate_and_load(void **state)
{
    (void)state;
    char dir[512], path[600];
    vt_tmpdir("keys", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/server.key", dir);
    vi_error err;
    assert_int_equal(vi_key_generate(path, &err), VI_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    size_t len;
    char *pem = vt_read_file(path, &len);
    assert_non_null(pem);
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));

    /* never overwritten */
    assert_int_equal(vi_key_generate(path, &err), VI_ERR_IO);
    char want[1400];
    snprintf(want, sizeof want, "key file '%s' already exists; refusing to overwrite it", path);
    assert_string_equal(err.msg, want);
    char *pem2 = vt_read_file(path, NULL);
    assert_string_equal(pem2, pem);
    free(pem2);

    EVP_PKEY *key = NULL;
    assert_int_equal(vi_key_load(path, &key, &err), VI_OK);
    char hex[65];
    assert_int_equal(vi_key_public_hex(key, hex, &err), VI_OK);
    assert_int_equal(strlen(hex), 64);
    vi_receipt r;
    sample(&r);
    assert_int_equal(vi_receipt_seal(&r, key, &err), VI_OK);
    assert_hex(r.public_key, 32, hex);
    uint8_t pub[32];
    assert_int_equal(vi_key_public_raw(key, pub, &err), VI_OK);
    assert_int_equal(vi_receipt_check(&r, pub, NULL, &err), VI_OK);
    vi_key_free(key);

    /* any access for group or others is refused */
    static const mode_t MODES[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601};
    for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++) {
        assert_int_equal(chmod(path, MODES[i]), 0);
        key = NULL;
        assert_int_equal(vi_key_load(path, &key, &err), VI_ERR_INVALID);
        assert_null(key);
        snprintf(want, sizeof want,
                 "key file '%s' is readable by others (mode %04o); run: chmod 600 %s", path,
                 (unsigned)MODES[i], path);
        assert_string_equal(err.msg, want);
    }
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(vi_key_load(path, &key, &err), VI_OK);
    vi_key_free(key);
    unlink(path);
    free(pem);
    (void)len;

    snprintf(path, sizeof path, "%s/missing.key", dir);
    assert_int_equal(vi_key_load(path, &key, &err), VI_ERR_IO);
    snprintf(want, sizeof want, "cannot open key file '%s': No such file or directory", path);
    assert_string_equal(err.msg, want);
    rmdir(dir);
}

/* Writes key as PEM with mode 0600 (cipher: NULL for none). */
static void write_key(const char *path, EVP_PKEY *key, const EVP_CIPHER *cipher)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(
        PEM_write_PrivateKey(f, key, cipher, (unsigned char *)"secret", cipher ? 6 : 0, NULL, NULL),
        1);
    assert_int_equal(fclose(f), 0);
}

static void test_key_rejects_bad_files(void **state)
{
    (void)state;
    char dir[512], path[600], want[1400];
    vt_tmpdir("badkeys", dir, sizeof dir);
    vi_error err;
    EVP_PKEY *key = NULL;

    snprintf(path, sizeof path, "%s/ec.key", dir);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ec);
    write_key(path, ec, NULL);
    assert_int_equal(vi_key_load(path, &key, &err), VI_ERR_INVALID);
    assert_null(key);
    snprintf(
        want, sizeof want,
        "key file '%s' holds a EC key; receipts are signed with Ed25519 only (generate one with: "
        "verinfer keygen)",
        path);
    assert_string_equal(err.msg, want);
    unlink(path);
    EVP_PKEY_free(ec);

    /* an encrypted key is refused, not prompted for */
    snprintf(path, sizeof path, "%s/enc.key", dir);
    EVP_PKEY *ed = rfc_key();
    write_key(path, ed, EVP_aes_256_cbc());
    assert_int_equal(vi_key_load(path, &key, &err), VI_ERR_INVALID);
    snprintf(want, sizeof want, "key file '%s' holds no unencrypted PEM private key (", path);
    assert_memory_equal(err.msg, want, strlen(want));
    unlink(path);
    EVP_PKEY_free(ed);

    snprintf(path, sizeof path, "%s/junk.key", dir);
    assert_int_equal(vt_write_file(path, "not a key\n", 10), 0);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(vi_key_load(path, &key, &err), VI_ERR_INVALID);
    snprintf(want, sizeof want, "key file '%s' holds no unencrypted PEM private key (", path);
    assert_memory_equal(err.msg, want, strlen(want));
    unlink(path);

    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(vi_key_load(dir, &key, &err), VI_ERR_INVALID);
    snprintf(want, sizeof want, "key file '%s' is not a regular file", dir);
    assert_string_equal(err.msg, want);
    rmdir(dir);
}

static void test_key_from_seed_matches_rfc8032(void **state)
{
    (void)state;
    EVP_PKEY *key = rfc_key();
    char hex[65];
    vi_error err;
    assert_int_equal(vi_key_public_hex(key, hex, &err), VI_OK);
    assert_string_equal(hex, RFC8032_PUB);
    vi_key_free(key);
    vi_key_free(NULL);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_int_equal(vi_key_public_hex(ec, hex, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "not an Ed25519 key");
    assert_string_equal(hex, "");
    EVP_PKEY_free(ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_by_hand),
        cmocka_unit_test(test_every_bit_flip_is_caught),
        cmocka_unit_test(test_unsigned_receipt),
        cmocka_unit_test(test_trusted_key),
        cmocka_unit_test(test_setters),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_tampered_text_fails_check),
        cmocka_unit_test(test_json_strict),
        cmocka_unit_test(test_batch_sign_and_check),
        cmocka_unit_test(test_batch_golden),
        cmocka_unit_test(test_batch_every_bit_flip_is_caught),
        cmocka_unit_test(test_batch_proofs_do_not_move),
        cmocka_unit_test(test_batch_seal_errors),
        cmocka_unit_test(test_batch_json_strict),
        cmocka_unit_test(test_key_generate_and_load),
        cmocka_unit_test(test_key_rejects_bad_files),
        cmocka_unit_test(test_key_from_seed_matches_rfc8032),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
