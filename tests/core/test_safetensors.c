/* tests/core/test_safetensors.c — the safetensors writer's exact bytes, the
 * round trip through the reader, and every rejection of a malformed file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safetensors.h"
#include "test_util.h"

/* A file image: 8-byte length of hdr (exactly as given), hdr, then dlen data bytes. */
static unsigned char *image(const char *hdr, size_t dlen, size_t *len)
{
    size_t hlen = strlen(hdr);
    unsigned char *b = malloc(8 + hlen + dlen + 1);
    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, hdr, hlen);
    for (size_t i = 0; i < dlen; i++)
        b[8 + hlen + i] = (unsigned char)(i * 7 + 1);
    *len = 8 + hlen + dlen;
    return b;
}

static void expect_fail_buf(const unsigned char *b, size_t len, vi_status want, const char *frag)
{
    vi_safetensors st;
    vi_error err = {{0}};
    vi_status rc = vi_safetensors_parse(&st, b, len, &err);
    if (rc != want || !strstr(err.msg, frag))
        fail_msg("want status %d with \"%s\", got %d: \"%s\"", want, frag, rc, err.msg);
    assert_int_equal(st.n_tensors, 0);
    assert_null(st.tensors);
}

static void expect_fail(const char *hdr, size_t dlen, vi_status want, const char *frag)
{
    size_t len;
    unsigned char *b = image(hdr, dlen, &len);
    expect_fail_buf(b, len, want, frag);
    free(b);
}

/* ==== writer + reader ==== */

static const float W[6] = {1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-30f};
static const uint16_t B16[3] = {0x3c00, 0xc000, 0x0001};
static const int64_t IDS = -7;
static const uint8_t U8[2] = {0xab, 0xcd};
static const int64_t SH_W[2] = {2, 3}, SH_B[1] = {3}, SH_E[2] = {0, 4}, SH_Q[1] = {2};

static const vi_st_write WRITES[5] = {
    {"weight", VI_DT_FP32, 2, SH_W, W},  {"b", VI_DT_FP16, 1, SH_B, B16},
    {"ids", VI_DT_INT64, 0, NULL, &IDS}, {"empty", VI_DT_BF16, 2, SH_E, NULL},
    {"q\"\\", VI_DT_UINT8, 1, SH_Q, U8},
};

static const char EXPECTED_HEADER[] =
    "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]},"
    "\"ids\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[30,38]},"
    "\"empty\":{\"dtype\":\"BF16\",\"shape\":[0,4],\"data_offsets\":[38,38]},"
    "\"q\\\"\\\\\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[38,40]}}";

static void test_write_exact_bytes_and_round_trip(void **state)
{
    (void)state;
    char dir[512], path[600], tmp[610];
    vt_tmpdir("st", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    vi_error err = {{0}};
    assert_int_equal(vi_safetensors_write(path, WRITES, 5, &err), VI_OK);
    struct stat sb;
    assert_int_not_equal(stat(tmp, &sb), 0); /* renamed away */

    size_t len;
    unsigned char *file = (unsigned char *)vt_read_file(path, &len);
    assert_non_null(file);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | file[i];
    size_t jlen = strlen(EXPECTED_HEADER);
    assert_int_equal(hlen % 8, 0);
    assert_true(hlen >= jlen && hlen < jlen + 8);
    assert_memory_equal(file + 8, EXPECTED_HEADER, jlen);
    for (size_t i = jlen; i < hlen; i++)
        assert_int_equal(file[8 + i], ' ');
    assert_int_equal(len, 8 + hlen + 40);
    const unsigned char *d = file + 8 + hlen;
    assert_memory_equal(d, W, 24);
    assert_memory_equal(d + 24, B16, 6);
    assert_memory_equal(d + 30, &IDS, 8);
    assert_memory_equal(d + 38, U8, 2);

    /* the in-memory serializer produces the same bytes */
    void *img;
    size_t img_len;
    assert_int_equal(vi_safetensors_serialize(WRITES, 5, &img, &img_len, &err), VI_OK);
    assert_int_equal(img_len, len);
    assert_memory_equal(img, file, len);

    vi_safetensors st;
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_OK);
    assert_int_equal(st.mapped, 1);
    assert_int_equal(st.map_size, len);
    assert_int_equal(st.n_tensors, 5);
    const char *sorted[5] = {"b", "empty", "ids", "q\"\\", "weight"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(st.tensors[i].name, sorted[i]);
    const vi_st_tensor *t = vi_safetensors_find(&st, "weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, VI_DT_FP32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->begin, 0);
    assert_int_equal(t->end, 24);
    assert_int_equal((uintptr_t)t->data % 8, 0); /* data section is 8-byte aligned */
    assert_memory_equal(t->data, W, 24);
    t = vi_safetensors_find(&st, "b");
    assert_int_equal(t->dtype, VI_DT_FP16);
    assert_int_equal(t->ndim, 1);
    assert_int_equal(t->shape[0], 3);
    assert_memory_equal(t->data, B16, 6);
    t = vi_safetensors_find(&st, "ids");
    assert_int_equal(t->dtype, VI_DT_INT64);
    assert_int_equal(t->ndim, 0);
    assert_memory_equal(t->data, &IDS, 8);
    t = vi_safetensors_find(&st, "empty");
    assert_int_equal(t->dtype, VI_DT_BF16);
    assert_int_equal(t->shape[0], 0);
    assert_int_equal(t->shape[1], 4);
    assert_int_equal(t->begin, 38);
    assert_int_equal(t->end, 38);
    t = vi_safetensors_find(&st, "q\"\\");
    assert_int_equal(t->dtype, VI_DT_UINT8);
    assert_memory_equal(t->data, U8, 2);
    assert_null(vi_safetensors_find(&st, "nope"));
    assert_null(vi_safetensors_find(&st, "weigh"));
    vi_safetensors_close(&st);
    assert_null(st.map);
    vi_safetensors_close(&st); /* a zeroed struct is fine */
    vi_safetensors_close(NULL);

    /* in-memory parse of the same image */
    assert_int_equal(vi_safetensors_parse(&st, img, img_len, &err), VI_OK);
    assert_int_equal(st.mapped, 0);
    assert_ptr_equal(st.map, img);
    assert_ptr_equal(vi_safetensors_find(&st, "weight")->data, (unsigned char *)img + 8 + hlen);
    vi_safetensors_close(&st);

    /* overwrite: the new content replaces the old */
    assert_int_equal(vi_safetensors_write(path, WRITES + 2, 1, &err), VI_OK);
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_OK);
    assert_int_equal(st.n_tensors, 1);
    assert_string_equal(st.tensors[0].name, "ids");
    vi_safetensors_close(&st);
    free(img);
    free(file);
    unlink(path);
    rmdir(dir);
}

static void test_empty_file_and_metadata(void **state)
{
    (void)state;
    vi_error err = {{0}};
    void *img;
    size_t len;
    assert_int_equal(vi_safetensors_serialize(NULL, 0, &img, &len, &err), VI_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(img, "\x08\0\0\0\0\0\0\0{}      ", 16);
    vi_safetensors st;
    assert_int_equal(vi_safetensors_parse(&st, img, len, &err), VI_OK);
    assert_int_equal(st.n_tensors, 0);
    vi_safetensors_close(&st);
    free(img);

    unsigned char *b =
        image("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"I8\",\"shape\":"
              "[3],\"data_offsets\":[0,3]}}",
              3, &len);
    assert_int_equal(vi_safetensors_parse(&st, b, len, &err), VI_OK);
    assert_int_equal(st.n_tensors, 1);
    assert_string_equal(st.tensors[0].name, "a");
    assert_int_equal(st.tensors[0].dtype, VI_DT_INT8);
    vi_safetensors_close(&st);
    free(b);
}

/* ==== rejections ==== */

static void test_reject_framing(void **state)
{
    (void)state;
    unsigned char b[16] = {0};
    expect_fail_buf(b, 5, VI_ERR_INVALID, "file is 5 bytes, shorter than the 8-byte header length");
    expect_fail_buf(b, 16, VI_ERR_INVALID, "header length is 0");
    b[0] = 100;
    memcpy(b + 8, "{}      ", 8);
    expect_fail_buf(b, 16, VI_ERR_INVALID,
                    "header length 100 runs past the end of the file (16 bytes)");
    uint64_t big = (uint64_t)VI_ST_MAX_HEADER + 1;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(big >> (8 * i));
    expect_fail_buf(b, 16, VI_ERR_LIMIT, "header length 67108865 exceeds the limit");
    memset(b, 0xff, 8);
    expect_fail_buf(b, 16, VI_ERR_LIMIT, "exceeds the limit of 67108864 bytes");
    expect_fail("[]", 0, VI_ERR_INVALID, "header does not start with '{' (byte 0x5b)");
    expect_fail(" {}", 0, VI_ERR_INVALID, "does not start with '{'");
    expect_fail("{\"a\xff\":1}", 0, VI_ERR_INVALID, "header is not valid UTF-8 (byte 3 ");
    expect_fail("{\"\xc0\xaf\":1}", 0, VI_ERR_INVALID, "not valid UTF-8 (byte 2 "); /* overlong */
    expect_fail("{\"\xed\xa0\x80\":1}", 0, VI_ERR_INVALID, "not valid UTF-8");      /* surrogate */
    expect_fail("{\"a\":", 0, VI_ERR_INVALID, "header is not valid JSON");
    expect_fail("{} x", 0, VI_ERR_INVALID, "header is not valid JSON");
    expect_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                2, VI_ERR_INVALID, "(duplicate tensor name)");
}

typedef struct {
    const char *hdr;
    size_t dlen;
    vi_status st;
    const char *frag;
} reject_case;

#define E(name, dt, shape, offs)                                                                   \
    "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

static const reject_case ENTRY_CASES[] = {
    {"{" E("a", "F33", "[1]", "[0,4]") "}", 4, VI_ERR_INVALID,
     "tensor 'a': unknown dtype 'F33' (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, "
     "BOOL)"},
    {"{" E("a", "U32", "[1]", "[0,4]") "}", 4, VI_ERR_UNSUPPORTED,
     "tensor 'a': unsupported dtype 'U32'"},
    {"{" E("a", "f32", "[1]", "[0,4]") "}", 4, VI_ERR_INVALID, "unknown dtype 'f32'"},
    {"{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, VI_ERR_INVALID,
     "tensor 'a': \"dtype\" must be a string"},
    {"{" E("a", "F32", "[-1]", "[0,4]") "}", 4, VI_ERR_INVALID,
     "tensor 'a': shape[0] is negative (-1)"},
    {"{" E("a", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, VI_ERR_LIMIT,
     "tensor 'a': shape has 9 dimensions (at most 8)"},
    {"{" E("a", "F32", "[1.0]", "[0,4]") "}", 4, VI_ERR_INVALID,
     "tensor 'a': shape[0] is not an integer"},
    {"{" E("a", "F32", "{}", "[0,4]") "}", 4, VI_ERR_INVALID,
     "tensor 'a': \"shape\" must be an array"},
    {"{" E("a", "F64", "[4294967296,4294967296,4]", "[0,8]") "}", 8, VI_ERR_LIMIT,
     "tensor 'a': element count overflows 64 bits"},
    {"{" E("a", "F32", "[4611686018427387904]", "[0,8]") "}", 8, VI_ERR_LIMIT,
     "tensor 'a': byte size overflows 63 bits"},
    {"{" E("a", "F32", "[100]", "[0,400]") "}", 16, VI_ERR_INVALID,
     "tensor 'a': data_offsets [0, 400] extend past the end of the data section (16 bytes)"},
    {"{" E("a", "F32", "[1]", "[8,4]") "}", 16, VI_ERR_INVALID,
     "tensor 'a': data_offsets [8, 4] end before they begin"},
    {"{" E("a", "F32", "[1]", "[0]") "}", 4, VI_ERR_INVALID,
     "tensor 'a': \"data_offsets\" must be an array [begin, end]"},
    {"{" E("a", "F32", "[1]", "[-4,0]") "}", 4, VI_ERR_INVALID,
     "tensor 'a': data_offsets[0] is not a non-negative integer"},
    {"{" E("a", "F32", "[1]", "[0,99999999999999999999]") "}", 4, VI_ERR_INVALID,
     "header is not valid JSON"},
    {"{" E("a", "F32", "[3]", "[0,8]") "}", 8, VI_ERR_INVALID,
     "tensor 'a': data_offsets [0, 8] hold 8 bytes but F32 [3] needs 12"},
    {"{" E("a", "F32", "[4]", "[0,16]") "," E("b", "F32", "[2]", "[8,16]") "}", 16, VI_ERR_INVALID,
     "tensors 'a' [0, 16) and 'b' [8, 16) overlap in the data section"},
    {"{" E("b", "F32", "[2]", "[0,8]") "," E("a", "F32", "[2]", "[4,12]") "}", 12, VI_ERR_INVALID,
     "tensors 'b' [0, 8) and 'a' [4, 12) overlap"},
    {"{" E("a", "F32", "[2]", "[0,8]") "," E("b", "F32", "[2]", "[16,24]") "}", 24, VI_ERR_INVALID,
     "data section has a hole: bytes [8, 16) before tensor 'b' belong to no tensor"},
    {"{" E("a", "F32", "[2]", "[4,12]") "}", 12, VI_ERR_INVALID,
     "hole: bytes [0, 4) before tensor 'a'"},
    {"{" E("a", "F32", "[2]", "[0,8]") "}", 12, VI_ERR_INVALID,
     "data section has 4 trailing bytes: bytes [8, 12) belong to no tensor"},
    {"{}", 3, VI_ERR_INVALID, "data section has 3 trailing bytes"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4,
     VI_ERR_INVALID, "tensor 'a': unknown key 'extra' (allowed: dtype, shape, data_offsets)"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, VI_ERR_INVALID,
     "tensor 'a': missing \"data_offsets\""},
    {"{\"a\":3}", 0, VI_ERR_INVALID, "tensor 'a': entry is not an object"},
    {"{" E("", "F32", "[1]", "[0,4]") "}", 4, VI_ERR_INVALID, "header: a tensor has an empty name"},
    {"{" E(
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "F32", "[1]", "[0,4]") "}",
     4, VI_ERR_LIMIT, "name is 128 bytes (at most 127)"},
    {"{\"__metadata__\":{\"k\":1}}", 0, VI_ERR_INVALID,
     "header: \"__metadata__\" value of 'k' is not a string"},
    {"{\"__metadata__\":[]}", 0, VI_ERR_INVALID,
     "header: \"__metadata__\" must be an object of strings"},
};

static void test_reject_entries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ENTRY_CASES / sizeof ENTRY_CASES[0]; i++) {
        const reject_case *c = &ENTRY_CASES[i];
        expect_fail(c->hdr, c->dlen, c->st, c->frag);
    }
}

static void test_reject_too_many_tensors(void **state)
{
    (void)state;
    size_t cap = (size_t)(VI_ST_MAX_TENSORS + 1) * 64 + 16, at = 0;
    char *h = malloc(cap);
    assert_non_null(h);
    h[at++] = '{';
    for (int i = 0; i <= VI_ST_MAX_TENSORS; i++)
        at += (size_t)snprintf(h + at, cap - at,
                               "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                               i ? "," : "", i);
    h[at++] = '}';
    h[at] = '\0';
    expect_fail(h, 0, VI_ERR_LIMIT, "header lists 65537 tensors (at most 65536)");
    free(h);
}

static void test_open_errors(void **state)
{
    (void)state;
    char dir[512], path[600];
    vi_error err = {{0}};
    vi_safetensors st;
    vt_tmpdir("st", dir, sizeof dir);

    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, ": cannot open: No such file"));

    assert_int_equal(vi_safetensors_open(&st, dir, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a regular file"));

    snprintf(path, sizeof path, "%s/short.safetensors", dir);
    assert_int_equal(vt_write_file(path, "abc", 3), 0);
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_ERR_INVALID);
    char want[700];
    snprintf(want, sizeof want, "%s: file is 3 bytes, shorter than the 8-byte header length", path);
    assert_string_equal(err.msg, want);
    unlink(path);

    /* a validation error names the file */
    size_t len;
    unsigned char *b = image("{" E("a", "F32", "[1]", "[0,4]") "}", 6, &len);
    snprintf(path, sizeof path, "%s/trailing.safetensors", dir);
    assert_int_equal(vt_write_file(path, b, len), 0);
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_ERR_INVALID);
    snprintf(want, sizeof want, "%s: data section has 2 trailing bytes", path);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_null(st.map);
    free(b);
    unlink(path);
    rmdir(dir);
}

static void expect_write_fail(const char *path, const vi_st_write *w, int n, vi_status want,
                              const char *frag)
{
    vi_error err = {{0}};
    void *img = (void *)1;
    size_t len = 1;
    vi_status rc = vi_safetensors_serialize(w, n, &img, &len, &err);
    if (rc != want || !strstr(err.msg, frag))
        fail_msg("serialize: want %d \"%s\", got %d \"%s\"", want, frag, rc, err.msg);
    assert_null(img);
    rc = vi_safetensors_write(path, w, n, &err);
    if (rc != want || !strstr(err.msg, frag))
        fail_msg("write: want %d \"%s\", got %d \"%s\"", want, frag, rc, err.msg);
}

static void test_writer_rejects(void **state)
{
    (void)state;
    char dir[512], path[600], tmp[610];
    vt_tmpdir("st", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    float f[4] = {0};
    int64_t s1[1] = {4}, neg[1] = {-2};
    vi_st_write dup[2] = {{"a", VI_DT_FP32, 1, s1, f}, {"a", VI_DT_FP32, 1, s1, f}};
    expect_write_fail(path, dup, 2, VI_ERR_INVALID, "tensor name 'a' appears twice");
    vi_st_write w = {"a", VI_DT_INVALID, 1, s1, f};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "tensor 'a': invalid dtype 0");
    w = (vi_st_write){"__metadata__", VI_DT_FP32, 1, s1, f};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "the name \"__metadata__\" is reserved");
    w = (vi_st_write){"a", VI_DT_FP32, 1, neg, f};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "tensor 'a': dimension 0 is negative (-2)");
    w = (vi_st_write){"a", VI_DT_FP32, 1, s1, NULL};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "tensor 'a': data is NULL");
    w = (vi_st_write){"", VI_DT_FP32, 1, s1, f};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "tensor 0 has no name");
    w = (vi_st_write){"a\xff", VI_DT_FP32, 1, s1, f};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "tensor 0: name is not valid UTF-8");
    w = (vi_st_write){"a", VI_DT_FP32, 9, s1, f};
    expect_write_fail(path, &w, 1, VI_ERR_INVALID, "tensor 'a': invalid shape (9 dimensions)");
    expect_write_fail(path, NULL, -1, VI_ERR_LIMIT, "cannot write -1 tensors");
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0); /* nothing was written */
    assert_int_not_equal(stat(tmp, &sb), 0);

    vi_error err = {{0}};
    char bad[700];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.safetensors", dir);
    w = (vi_st_write){"a", VI_DT_FP32, 1, s1, f};
    assert_int_equal(vi_safetensors_write(bad, &w, 1, &err), VI_ERR_IO);
    assert_non_null(strstr(err.msg, "x.safetensors.tmp: cannot create: No such file"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_exact_bytes_and_round_trip),
        cmocka_unit_test(test_empty_file_and_metadata),
        cmocka_unit_test(test_reject_framing),
        cmocka_unit_test(test_reject_entries),
        cmocka_unit_test(test_reject_too_many_tensors),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_writer_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
