/* tests/core/test_gguf.c — the GGUF reader and writer: the writer's exact
 * bytes, a round trip of every value type and tensor type, the typed
 * getters' conversion rules, every truncation of a small file, a table of
 * hand-made malformed files each with its message, and (when it has been
 * fetched) the real SmolLM2-135M-Instruct Q4_1 file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/gguf.h"
#include "test_util.h"

/* ==== A raw GGUF byte builder, independent of the writer ==== */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} tb;

static void tb_put(tb *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void tb_u8(tb *b, uint8_t v)
{
    tb_put(b, &v, 1);
}

static void tb_u32(tb *b, uint32_t v)
{
    tb_put(b, &v, 4);
}

static void tb_u64(tb *b, uint64_t v)
{
    tb_put(b, &v, 8);
}

static void tb_str(tb *b, const char *s)
{
    tb_u64(b, strlen(s));
    tb_put(b, s, strlen(s));
}

static void tb_zeros(tb *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tb_u8(b, 0);
}

static void tb_pad(tb *b, size_t align)
{
    while (b->len % align)
        tb_u8(b, 0);
}

static void tb_header(tb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    tb_put(b, "GGUF", 4);
    tb_u32(b, version);
    tb_u64(b, n_tensors);
    tb_u64(b, n_kv);
}

static void tb_kv_u32(tb *b, const char *key, uint32_t v)
{
    tb_str(b, key);
    tb_u32(b, VI_GGUF_U32);
    tb_u32(b, v);
}

/* A tensor info with up to 4 dims (ne beyond n_dims ignored). */
static void tb_tinfo(tb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                     uint64_t offset)
{
    tb_str(b, name);
    tb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++)
        tb_u64(b, ne[d]);
    tb_u32(b, type);
    tb_u64(b, offset);
}

/* Opens an exact-size heap copy (so ASan sees any read past its end). */
static vi_status open_copy(const uint8_t *p, size_t n, vi_gguf **g, vi_error *err, uint8_t **copy)
{
    *copy = malloc(n ? n : 1);
    assert_non_null(*copy);
    if (n)
        memcpy(*copy, p, n);
    return vi_gguf_open_memory(g, *copy, n, err);
}

static void expect_fail(const char *label, const uint8_t *p, size_t n, vi_status want,
                        const char *frag)
{
    uint8_t *copy;
    vi_gguf *g = NULL;
    vi_error err = {{0}};
    vi_status rc = open_copy(p, n, &g, &err, &copy);
    if (rc != want || !strstr(err.msg, frag))
        fail_msg("%s: want status %d with \"%s\", got %d: \"%s\"", label, want, frag, rc, err.msg);
    assert_null(g);
    free(copy);
}

/* ==== Writer: exact bytes ==== */

static void test_writer_exact_bytes(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gguf_writer *w = NULL;
    const float data[2] = {1.0f, 2.0f};
    const int64_t ne[1] = {2};
    assert_int_equal(vi_gguf_writer_new(&w, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_u32(w, "a", 7, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_add_tensor(w, "w", VI_GGML_F32, 1, ne, data, 8, &err), VI_OK);
    uint8_t *buf = NULL;
    size_t size = 0;
    assert_int_equal(vi_gguf_writer_to_memory(w, &buf, &size, &err), VI_OK);

    tb want = {0};
    const uint64_t wne[1] = {2};
    tb_header(&want, 3, 1, 1);
    tb_kv_u32(&want, "a", 7);
    tb_tinfo(&want, "w", 1, wne, VI_GGML_F32, 0);
    assert_int_equal(want.len, 74);
    tb_pad(&want, 32);
    tb_put(&want, data, 8);
    tb_zeros(&want, 24);
    assert_int_equal(size, 128);
    assert_memory_equal(buf, want.p, 128);

    /* write_file produces the same bytes */
    char dir[512], path[600];
    vt_tmpdir("gguf", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/exact.gguf", dir);
    assert_int_equal(vi_gguf_writer_write_file(w, path, &err), VI_OK);
    size_t flen = 0;
    char *file = vt_read_file(path, &flen);
    assert_non_null(file);
    assert_int_equal(flen, 128);
    assert_memory_equal(file, want.p, 128);

    vi_gguf *g = NULL;
    if (vi_gguf_open(&g, path, &err))
        fail_msg("open: %s", err.msg);
    assert_int_equal(vi_gguf_data_offset(g), 96);
    const vi_gguf_tensor *t = vi_gguf_find_tensor(g, "w");
    assert_non_null(t);
    assert_memory_equal(t->data, data, 8);
    vi_gguf_close(g);
    free(file);
    free(want.p);
    free(buf);
    vi_gguf_writer_free(w);
}

/* ==== Round trip: every value type and tensor type ==== */

static const uint8_t A_U8[3] = {0, 1, 255};
static const int8_t A_I8[3] = {-128, 0, 127};
static const uint16_t A_U16[3] = {0, 1, 65535};
static const int16_t A_I16[3] = {-32768, -1, 32767};
static const uint32_t A_U32[3] = {0, 2147483647u, 4294967295u};
static const int32_t A_I32[3] = {INT32_MIN, -7, INT32_MAX};
static const float A_F32[3] = {-0.0f, 1e-45f, 3.5f};
static const uint8_t A_BOOL[3] = {1, 0, 1};
static const uint64_t A_U64[3] = {0, 1, UINT64_MAX};
static const int64_t A_I64[3] = {INT64_MIN, -1, INT64_MAX};
static const double A_F64[3] = {0.1, -2.0, 1e300};
static const char *const A_STR[3] = {"a", "", "\xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e"};

typedef struct {
    vi_gguf_vtype type;
    const void *vals;
} arr_case;

static const arr_case ARRAYS[] = {
    {VI_GGUF_U8, A_U8},   {VI_GGUF_I8, A_I8},   {VI_GGUF_U16, A_U16}, {VI_GGUF_I16, A_I16},
    {VI_GGUF_U32, A_U32}, {VI_GGUF_I32, A_I32}, {VI_GGUF_F32, A_F32}, {VI_GGUF_BOOL, A_BOOL},
    {VI_GGUF_U64, A_U64}, {VI_GGUF_I64, A_I64}, {VI_GGUF_F64, A_F64}, {VI_GGUF_STRING, A_STR},
};
#define N_ARRAYS (sizeof ARRAYS / sizeof ARRAYS[0])
static const size_t ELEM_SIZE[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

typedef struct {
    const char *name;
    vi_ggml_type type;
    int n_dims;
    int64_t ne[4];
    uint64_t nbytes;
} tensor_case;

static const tensor_case TENSORS[] = {
    {"f32", VI_GGML_F32, 2, {8, 3, 1, 1}, 96},
    {"f16", VI_GGML_F16, 1, {5, 1, 1, 1}, 10},
    {"bf16", VI_GGML_BF16, 4, {2, 3, 2, 2}, 48},
    {"q4_0", VI_GGML_Q4_0, 2, {64, 2, 1, 1}, 72},
    {"q4_1", VI_GGML_Q4_1, 3, {32, 3, 2, 1}, 120},
    {"q8_0", VI_GGML_Q8_0, 1, {32, 1, 1, 1}, 34},
    {"q4_k", VI_GGML_Q4_K, 2, {256, 2, 1, 1}, 288},
    {"q6_k", VI_GGML_Q6_K, 1, {512, 1, 1, 1}, 420},
    {"blk.0.\xce\xb1", VI_GGML_F32, 1, {1, 1, 1, 1}, 4},
};
#define N_TENSORS (sizeof TENSORS / sizeof TENSORS[0])

static uint8_t *random_bytes(uint64_t seed, size_t n)
{
    vt_rng r = {seed};
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)vt_next(&r);
    return p;
}

static uint8_t *build_every_type(size_t *size)
{
    vi_error err = {{0}};
    vi_gguf_writer *w = NULL;
    assert_int_equal(vi_gguf_writer_new(&w, &err), VI_OK);
    const uint8_t u8 = 200;
    const int8_t i8 = -100;
    const uint16_t u16 = 65000;
    const int16_t i16 = -30000;
    const uint64_t u64 = 0xfedcba9876543210ull;
    const int64_t i64 = INT64_MIN;
    const double f64 = 0.1;
    const uint32_t nan_bits = 0x7fc00001u;
    float nan;
    memcpy(&nan, &nan_bits, 4);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.u8", VI_GGUF_U8, &u8, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.i8", VI_GGUF_I8, &i8, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.u16", VI_GGUF_U16, &u16, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.i16", VI_GGUF_I16, &i16, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_u32(w, "t.u32", 4000000000u, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_i32(w, "t.i32", -2000000000, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_f32(w, "t.f32", nan, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_bool(w, "t.bool", 5, &err), VI_OK); /* stored as 1 */
    assert_int_equal(vi_gguf_writer_set_str(w, "t.str", "h\xc3\xa9llo\n", &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.u64", VI_GGUF_U64, &u64, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.i64", VI_GGUF_I64, &i64, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_scalar(w, "t.f64", VI_GGUF_F64, &f64, &err), VI_OK);
    for (size_t i = 0; i < N_ARRAYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "a.%zu", i);
        if (vi_gguf_writer_set_array(w, key, ARRAYS[i].type, ARRAYS[i].vals, 3, &err))
            fail_msg("%s: %s", key, err.msg);
    }
    assert_int_equal(vi_gguf_writer_set_i32_array(w, "a.empty", NULL, 0, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_str_array(w, "a.strs", A_STR, 3, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_f32_array(w, "a.f32", A_F32, 3, &err), VI_OK);
    for (size_t i = 0; i < N_TENSORS; i++) {
        const tensor_case *c = &TENSORS[i];
        uint8_t *d = random_bytes(100 + i, (size_t)c->nbytes);
        if (vi_gguf_writer_add_tensor(w, c->name, c->type, c->n_dims, c->ne, d, c->nbytes, &err))
            fail_msg("%s: %s", c->name, err.msg);
        free(d);
    }
    uint8_t *buf = NULL;
    assert_int_equal(vi_gguf_writer_to_memory(w, &buf, size, &err), VI_OK);
    vi_gguf_writer_free(w);
    return buf;
}

static void check_scalars(const vi_gguf *g)
{
    vi_error err = {{0}};
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    float f32;
    double f64;
    int b;
    vi_gguf_str s;
    assert_int_equal(vi_gguf_get_u32(g, "t.u8", &u32, &err), VI_OK);
    assert_int_equal(u32, 200);
    assert_int_equal(vi_gguf_get_i32(g, "t.i8", &i32, &err), VI_OK);
    assert_int_equal(i32, -100);
    assert_int_equal(vi_gguf_get_u32(g, "t.u16", &u32, &err), VI_OK);
    assert_int_equal(u32, 65000);
    assert_int_equal(vi_gguf_get_i64(g, "t.i16", &i64, &err), VI_OK);
    assert_int_equal(i64, -30000);
    assert_int_equal(vi_gguf_get_u32(g, "t.u32", &u32, &err), VI_OK);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(vi_gguf_get_i32(g, "t.i32", &i32, &err), VI_OK);
    assert_int_equal(i32, -2000000000);
    assert_int_equal(vi_gguf_get_f32(g, "t.f32", &f32, &err), VI_OK);
    uint32_t bits;
    memcpy(&bits, &f32, 4);
    assert_int_equal(bits, 0x7fc00001u); /* NaN payload kept */
    assert_int_equal(vi_gguf_get_bool(g, "t.bool", &b, &err), VI_OK);
    assert_int_equal(b, 1);
    assert_int_equal(vi_gguf_get_str(g, "t.str", &s, &err), VI_OK);
    assert_int_equal(s.len, 7);
    assert_memory_equal(s.ptr, "h\xc3\xa9llo\n", 7);
    assert_true(vi_gguf_str_eq(s, "h\xc3\xa9llo\n"));
    assert_false(vi_gguf_str_eq(s, "h\xc3\xa9llo"));
    assert_int_equal(vi_gguf_get_u64(g, "t.u64", &u64, &err), VI_OK);
    assert_true(u64 == 0xfedcba9876543210ull);
    assert_int_equal(vi_gguf_get_i64(g, "t.i64", &i64, &err), VI_OK);
    assert_true(i64 == INT64_MIN);
    assert_int_equal(vi_gguf_get_f64(g, "t.f64", &f64, &err), VI_OK);
    assert_memory_equal(&f64, &(double){0.1}, 8);
}

static void check_arrays(const vi_gguf *g)
{
    vi_error err = {{0}};
    for (size_t i = 0; i < N_ARRAYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "a.%zu", i);
        vi_gguf_vtype et;
        uint64_t n;
        assert_int_equal(vi_gguf_get_array(g, key, &et, &n, &err), VI_OK);
        assert_int_equal(et, ARRAYS[i].type);
        assert_int_equal(n, 3);
        if (et == VI_GGUF_STRING) {
            for (uint64_t k = 0; k < 3; k++) {
                vi_gguf_str s;
                assert_int_equal(vi_gguf_array_str(g, key, k, &s, &err), VI_OK);
                assert_true(vi_gguf_str_eq(s, A_STR[k]));
            }
            continue;
        }
        const void *data;
        assert_int_equal(vi_gguf_array_data(g, key, &et, &n, &data, &err), VI_OK);
        assert_memory_equal(data, ARRAYS[i].vals, 3 * ELEM_SIZE[et]);
    }
    int32_t v;
    assert_int_equal(vi_gguf_array_i32(g, "a.0", 2, &v, &err), VI_OK); /* U8 255 */
    assert_int_equal(v, 255);
    assert_int_equal(vi_gguf_array_i32(g, "a.3", 0, &v, &err), VI_OK); /* I16 -32768 */
    assert_int_equal(v, -32768);
    assert_int_equal(vi_gguf_array_i32(g, "a.5", 2, &v, &err), VI_OK); /* I32 max */
    assert_int_equal(v, INT32_MAX);
    assert_int_equal(vi_gguf_array_i32(g, "a.4", 1, &v, &err), VI_OK); /* U32 2^31 - 1 fits */
    assert_int_equal(v, INT32_MAX);
    float f;
    assert_int_equal(vi_gguf_array_f32(g, "a.f32", 1, &f, &err), VI_OK);
    assert_memory_equal(&f, &A_F32[1], 4);
    assert_int_equal(vi_gguf_array_f32(g, "a.10", 1, &f, &err), VI_OK); /* F64 -2.0 is exact */
    assert_true(f == -2.0f);
    vi_gguf_vtype et;
    uint64_t n = 99;
    assert_int_equal(vi_gguf_get_array(g, "a.empty", &et, &n, &err), VI_OK);
    assert_int_equal(et, VI_GGUF_I32);
    assert_int_equal(n, 0);
    vi_gguf_str s;
    assert_int_equal(vi_gguf_array_str(g, "a.strs", 2, &s, &err), VI_OK);
    assert_int_equal(s.len, 9);
}

static void check_tensors(const vi_gguf *g, const uint8_t *file)
{
    assert_int_equal(vi_gguf_n_tensors(g), N_TENSORS);
    uint64_t off = 0;
    for (size_t i = 0; i < N_TENSORS; i++) {
        const tensor_case *c = &TENSORS[i];
        const vi_gguf_tensor *t = vi_gguf_tensor_at(g, (int64_t)i);
        assert_non_null(t);
        assert_ptr_equal(vi_gguf_find_tensor(g, c->name), t);
        assert_true(vi_gguf_str_eq(t->name, c->name));
        assert_int_equal(t->type, c->type);
        assert_int_equal(t->n_dims, c->n_dims);
        for (int d = 0; d < 4; d++)
            assert_int_equal(t->ne[d], c->ne[d]);
        assert_int_equal(t->nbytes, c->nbytes);
        assert_int_equal(t->offset, off);
        assert_ptr_equal(t->data, file + vi_gguf_data_offset(g) + off);
        assert_int_equal((uintptr_t)(t->data - file) % 32, 0);
        uint8_t *want = random_bytes(100 + i, (size_t)c->nbytes);
        assert_memory_equal(t->data, want, (size_t)c->nbytes);
        free(want);
        off += (c->nbytes + 31) / 32 * 32;
    }
    assert_null(vi_gguf_tensor_at(g, (int64_t)N_TENSORS));
    assert_null(vi_gguf_tensor_at(g, -1));
    assert_null(vi_gguf_find_tensor(g, "f3"));
    assert_null(vi_gguf_find_tensor(g, "f32 "));
}

static void test_round_trip_every_type(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = build_every_type(&size);
    vi_gguf *g = NULL;
    vi_error err = {{0}};
    if (vi_gguf_open_memory(&g, buf, size, &err))
        fail_msg("open: %s", err.msg);
    assert_int_equal(vi_gguf_version(g), 3);
    assert_int_equal(vi_gguf_alignment(g), 32);
    assert_int_equal(vi_gguf_data_offset(g) % 32, 0);
    /* keys in insertion order, with their types */
    assert_int_equal(vi_gguf_n_kv(g), 12 + N_ARRAYS + 3);
    static const char *const FIRST[12] = {"t.u8",  "t.i8",   "t.u16", "t.i16", "t.u32", "t.i32",
                                          "t.f32", "t.bool", "t.str", "t.u64", "t.i64", "t.f64"};
    for (int i = 0; i < 12; i++) {
        vi_gguf_str key;
        vi_gguf_vtype type, et;
        assert_int_equal(vi_gguf_kv_at(g, i, &key, &type, &et, &err), VI_OK);
        assert_true(vi_gguf_str_eq(key, FIRST[i]));
        assert_int_equal(type, (vi_gguf_vtype)(i < 9 ? i : i + 1));
        assert_int_equal(et, type);
    }
    vi_gguf_str key;
    vi_gguf_vtype type, et;
    assert_int_equal(vi_gguf_kv_at(g, 12 + 11, &key, &type, &et, &err), VI_OK);
    assert_true(vi_gguf_str_eq(key, "a.11"));
    assert_int_equal(type, VI_GGUF_ARRAY);
    assert_int_equal(et, VI_GGUF_STRING);
    assert_int_equal(vi_gguf_kv_at(g, vi_gguf_n_kv(g), &key, &type, &et, &err), VI_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_true(vi_gguf_has_key(g, "t.f64"));
    assert_false(vi_gguf_has_key(g, "t.f6"));
    check_scalars(g);
    check_arrays(g);
    check_tensors(g, buf);
    vi_gguf_close(g);

    /* the same bytes as version 2 are read the same way */
    buf[4] = 2;
    assert_int_equal(vi_gguf_open_memory(&g, buf, size, &err), VI_OK);
    assert_int_equal(vi_gguf_version(g), 2);
    check_tensors(g, buf);
    vi_gguf_close(g);
    vi_gguf_close(NULL);
    free(buf);
}

/* ==== Getter rules ==== */

static void expect_get(vi_status got, vi_status want, const vi_error *err, const char *frag)
{
    if (got != want || !strstr(err->msg, frag))
        fail_msg("want status %d with \"%s\", got %d: \"%s\"", want, frag, got, err->msg);
}

static void test_getter_type_rules(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = build_every_type(&size);
    vi_gguf *g = NULL;
    vi_error err = {{0}};
    assert_int_equal(vi_gguf_open_memory(&g, buf, size, &err), VI_OK);
    uint32_t u32 = 77;
    int32_t i32;
    uint64_t u64;
    float f;
    int b;
    vi_gguf_str s;
    expect_get(vi_gguf_get_u32(g, "nope", &u32, &err), VI_ERR_NOT_FOUND, &err,
               "metadata key 'nope' is absent");
    assert_int_equal(u32, 77);
    expect_get(vi_gguf_get_u32(g, "t.i32", &u32, &err), VI_ERR_INVALID, &err,
               "key 't.i32': value -2000000000 (I32) does not fit in u32");
    expect_get(vi_gguf_get_i32(g, "t.u32", &i32, &err), VI_ERR_INVALID, &err,
               "key 't.u32': value 4000000000 (U32) does not fit in i32");
    expect_get(vi_gguf_get_u64(g, "t.i8", &u64, &err), VI_ERR_INVALID, &err,
               "value -100 (I8) does not fit in u64");
    expect_get(vi_gguf_get_u32(g, "t.u64", &u32, &err), VI_ERR_INVALID, &err,
               "value 18364758544493064720 (U64) does not fit in u32");
    expect_get(vi_gguf_get_u32(g, "t.str", &u32, &err), VI_ERR_INVALID, &err,
               "key 't.str' has type STRING, expected an integer (u32)");
    expect_get(vi_gguf_get_u32(g, "t.bool", &u32, &err), VI_ERR_INVALID, &err,
               "has type BOOL, expected an integer (u32)");
    expect_get(vi_gguf_get_u32(g, "t.f32", &u32, &err), VI_ERR_INVALID, &err,
               "has type F32, expected an integer (u32)");
    expect_get(vi_gguf_get_f32(g, "t.u32", &f, &err), VI_ERR_INVALID, &err,
               "key 't.u32' has type U32, expected F32");
    expect_get(vi_gguf_get_f32(g, "t.f64", &f, &err), VI_ERR_INVALID, &err,
               "key 't.f64': F64 value 0.10000000000000001 does not convert to f32 exactly");
    expect_get(vi_gguf_get_bool(g, "t.u8", &b, &err), VI_ERR_INVALID, &err,
               "key 't.u8' has type U8, expected BOOL");
    expect_get(vi_gguf_get_str(g, "a.11", &s, &err), VI_ERR_INVALID, &err,
               "key 'a.11' has type ARRAY of STRING, expected STRING");
    expect_get(vi_gguf_get_array(g, "t.str", NULL, NULL, &err), VI_ERR_INVALID, &err,
               "key 't.str' has type STRING, expected ARRAY");
    expect_get(vi_gguf_array_str(g, "a.5", 0, &s, &err), VI_ERR_INVALID, &err,
               "key 'a.5' has type ARRAY of I32, expected ARRAY of STRING");
    expect_get(vi_gguf_array_str(g, "a.strs", 3, &s, &err), VI_ERR_INVALID, &err,
               "key 'a.strs': index 3 is out of range (3 elements)");
    expect_get(vi_gguf_array_i32(g, "a.4", 2, &i32, &err), VI_ERR_INVALID, &err,
               "key 'a.4' element 2: value 4294967295 (U32) does not fit in i32");
    expect_get(vi_gguf_array_i32(g, "a.6", 0, &i32, &err), VI_ERR_INVALID, &err,
               "key 'a.6' has type ARRAY of F32, expected ARRAY of an integer type");
    expect_get(vi_gguf_array_f32(g, "a.10", 0, &f, &err), VI_ERR_INVALID, &err,
               "key 'a.10' element 0: F64 value 0.10000000000000001 does not convert");
    expect_get(vi_gguf_array_f32(g, "a.10", 2, &f, &err), VI_ERR_INVALID, &err,
               "key 'a.10' element 2: F64 value 1.0000000000000001e+300 does not convert");
    expect_get(vi_gguf_array_f32(g, "a.5", 0, &f, &err), VI_ERR_INVALID, &err,
               "expected ARRAY of F32");
    expect_get(vi_gguf_array_data(g, "a.strs", NULL, NULL, NULL, &err), VI_ERR_INVALID, &err,
               "key 'a.strs' has type ARRAY of STRING, expected ARRAY of a fixed-size type");
    expect_get(vi_gguf_array_i32(g, "missing", 0, &i32, &err), VI_ERR_NOT_FOUND, &err,
               "metadata key 'missing' is absent");
    double d;
    assert_int_equal(vi_gguf_get_f64(g, "t.f32", &d, &err), VI_OK); /* widening is exact */
    assert_true(d != d);
    vi_gguf_close(g);
    free(buf);
}

/* ==== Alignment, layouts the reader accepts ==== */

static void test_alignment_and_accepted_layouts(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gguf_writer *w = NULL;
    const uint8_t data[40] = {1, 2, 3};
    const int64_t ne5[1] = {5}, ne10[1] = {10};
    assert_int_equal(vi_gguf_writer_new(&w, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_u32(w, "general.alignment", 64, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_add_tensor(w, "a", VI_GGML_F32, 1, ne5, data, 20, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_add_tensor(w, "b", VI_GGML_F32, 1, ne10, data, 40, &err),
                     VI_OK);
    uint8_t *buf;
    size_t size;
    assert_int_equal(vi_gguf_writer_to_memory(w, &buf, &size, &err), VI_OK);
    vi_gguf *g = NULL;
    assert_int_equal(vi_gguf_open_memory(&g, buf, size, &err), VI_OK);
    assert_int_equal(vi_gguf_alignment(g), 64);
    assert_int_equal(vi_gguf_data_offset(g) % 64, 0);
    assert_int_equal(vi_gguf_find_tensor(g, "b")->offset, 64);
    assert_int_equal(size, vi_gguf_data_offset(g) + 128);
    vi_gguf_close(g);
    free(buf);
    vi_gguf_writer_free(w);

    /* header only: no keys, no tensors, no data section */
    tb b = {0};
    tb_header(&b, 3, 0, 0);
    assert_int_equal(vi_gguf_open_memory(&g, b.p, b.len, &err), VI_OK);
    assert_int_equal(vi_gguf_n_tensors(g), 0);
    assert_int_equal(vi_gguf_n_kv(g), 0);
    vi_gguf_close(g);

    /* tensors out of file order with a gap between them, trailing bytes after
     * the last one, a multi-byte UTF-8 key: all accepted */
    b.len = 0;
    const uint64_t ne8[1] = {8};
    tb_header(&b, 3, 2, 1);
    tb_kv_u32(&b, "\xe6\x97\xa5.n", 1);
    tb_tinfo(&b, "late", 1, ne8, VI_GGML_F32, 96);
    tb_tinfo(&b, "early", 1, ne8, VI_GGML_F32, 0);
    tb_pad(&b, 32);
    tb_zeros(&b, 96 + 32 + 5);
    assert_int_equal(vi_gguf_open_memory(&g, b.p, b.len, &err), VI_OK);
    assert_int_equal(vi_gguf_find_tensor(g, "late")->offset, 96);
    assert_true(vi_gguf_has_key(g, "\xe6\x97\xa5.n"));
    vi_gguf_close(g);
    free(b.p);
}

/* ==== Every truncation of a small file ==== */

static void test_every_truncation_fails(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gguf_writer *w = NULL;
    const char *const toks[3] = {"x", "yz", ""};
    const int32_t ids[2] = {5, -6};
    const uint8_t q4[20] = {9};
    const float f[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int64_t ne_q[1] = {32}, ne_f[1] = {8};
    assert_int_equal(vi_gguf_writer_new(&w, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_str(w, "general.architecture", "llama", &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_bool(w, "b", 1, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_str_array(w, "toks", toks, 3, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_i32_array(w, "ids", ids, 2, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_add_tensor(w, "q", VI_GGML_Q4_1, 1, ne_q, q4, 20, &err), VI_OK);
    /* the last tensor is 32 bytes: the file ends exactly where its data ends */
    assert_int_equal(vi_gguf_writer_add_tensor(w, "f", VI_GGML_F32, 1, ne_f, f, 32, &err), VI_OK);
    uint8_t *buf;
    size_t size;
    assert_int_equal(vi_gguf_writer_to_memory(w, &buf, &size, &err), VI_OK);
    vi_gguf_writer_free(w);
    assert_int_equal(size, 320); /* infos end at 239, data at 256: q [0, 20), f [32, 64) */
    uint8_t *copy;
    vi_gguf *g = NULL;
    assert_int_equal(open_copy(buf, size, &g, &err, &copy), VI_OK);
    vi_gguf_close(g);
    free(copy);
    for (size_t n = 0; n < size; n++) {
        g = NULL;
        err.msg[0] = '\0';
        vi_status rc = open_copy(buf, n, &g, &err, &copy);
        if (rc == VI_OK || g != NULL || err.msg[0] == '\0')
            fail_msg("prefix of %zu of %zu bytes: status %d, \"%s\"", n, size, rc, err.msg);
        free(copy);
    }
    expect_fail("prefix 3", buf, 3, VI_ERR_INVALID, "file is 3 bytes, too small for a GGUF file");
    expect_fail("prefix 100", buf, 100, VI_ERR_INVALID,
                "header: 4 key-value pairs and 2 tensor infos need at least 122 bytes but only "
                "76 follow the header");
    expect_fail("prefix 150", buf, 150, VI_ERR_INVALID,
                "kv 3 'ids': value type at byte 149 needs 4 bytes but only 1 remain (file is 150 "
                "bytes; truncated?)");
    expect_fail("prefix 160", buf, 160, VI_ERR_INVALID,
                "kv 3 'ids': array count at byte 157 needs 8 bytes but only 3 remain");
    expect_fail("prefix 170", buf, 170, VI_ERR_INVALID,
                "kv 3 'ids': array count 2 is absurd: 2 I32 elements of at least 4 bytes each "
                "cannot fit in the 5 bytes that remain");
    expect_fail("prefix 220", buf, 220, VI_ERR_INVALID,
                "tensor 1 'f': ne at byte 219 needs 8 bytes but only 1 remain");
    expect_fail("last byte", buf, size - 1, VI_ERR_INVALID,
                "tensor 1 'f': data [32, 64) lies beyond the end of the file");
    free(buf);
}

/* ==== Malformed files ==== */

static const uint64_t NE1[1] = {8};

static void c_empty(tb *b)
{
    (void)b;
}
static void c_three(tb *b)
{
    tb_put(b, "GGU", 3);
}
static void c_magic(tb *b)
{
    tb_put(b, "GGML", 4);
    tb_zeros(b, 20);
}
static void c_short(tb *b)
{
    tb_put(b, "GGUF", 4);
    tb_zeros(b, 6);
}
static void c_v1(tb *b)
{
    tb_header(b, 1, 0, 0);
}
static void c_v4(tb *b)
{
    tb_header(b, 4, 0, 0);
}
static void c_big_endian(tb *b)
{
    tb_header(b, 0x03000000u, 0, 0);
}
static void c_kv_limit(tb *b)
{
    tb_header(b, 3, 0, (1ull << 20) + 1);
}
static void c_tensor_limit(tb *b)
{
    tb_header(b, 3, 1ull << 40, 0);
}
static void c_kv_absurd(tb *b)
{
    tb_header(b, 3, 0, 1000);
    tb_kv_u32(b, "a", 1);
}
static void c_tensor_absurd(tb *b)
{
    tb_header(b, 3, 100, 0);
    tb_tinfo(b, "w", 1, NE1, 0, 0);
}
static void c_counts_together(tb *b)
{
    tb_header(b, 3, 1, 2);
    tb_kv_u32(b, "a", 1);
    tb_zeros(b, 20);
}
static void c_key_past_end(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_u64(b, 1000);
    tb_put(b, "abcdefghijklmnop", 16);
}
static void c_key_too_long(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_u64(b, 70000);
    tb_zeros(b, 20);
}
static void c_key_empty(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "");
    tb_u32(b, VI_GGUF_U32);
    tb_u32(b, 1);
    tb_zeros(b, 8);
}
static void c_key_utf8(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_kv_u32(b,
              "a\xff"
              "b",
              1);
}
static void c_key_overlong(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_kv_u32(b, "x\xc0\x80", 1);
}
static void c_key_surrogate(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_kv_u32(b, "\xed\xa0\x80", 1);
}
/* The key ends inside a 2-byte sequence; the byte after it in the file
 * (the value type's low byte, 0x80) must not be taken as its continuation. */
static void c_key_cut_sequence(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "a\xc3");
    tb_u32(b, 0x80);
    tb_zeros(b, 8);
}
static void c_vtype(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "a");
    tb_u32(b, 13);
    tb_zeros(b, 8);
}
static void c_nested(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "arr");
    tb_u32(b, VI_GGUF_ARRAY);
    tb_u32(b, VI_GGUF_ARRAY);
    tb_u64(b, 0);
}
static void c_elem_type(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "arr");
    tb_u32(b, VI_GGUF_ARRAY);
    tb_u32(b, 20);
    tb_u64(b, 0);
}
static void c_array_absurd(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "arr");
    tb_u32(b, VI_GGUF_ARRAY);
    tb_u32(b, VI_GGUF_STRING);
    tb_u64(b, 1000000);
    tb_zeros(b, 16);
}
static void c_string_limit(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "s");
    tb_u32(b, VI_GGUF_STRING);
    tb_u64(b, (1ull << 30) + 1);
    tb_zeros(b, 8);
}
static void c_string_past_end(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "s");
    tb_u32(b, VI_GGUF_STRING);
    tb_u64(b, 100);
    tb_put(b, "short", 5);
}
static void c_array_string_past_end(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "toks");
    tb_u32(b, VI_GGUF_ARRAY);
    tb_u32(b, VI_GGUF_STRING);
    tb_u64(b, 2);
    tb_str(b, "ok");
    tb_u64(b, 50);
    tb_put(b, "abc", 3);
}
static void c_bool(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "flag");
    tb_u32(b, VI_GGUF_BOOL);
    tb_u8(b, 2);
    tb_zeros(b, 8);
}
static void c_bool_array(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "flags");
    tb_u32(b, VI_GGUF_ARRAY);
    tb_u32(b, VI_GGUF_BOOL);
    tb_u64(b, 3);
    tb_u8(b, 1);
    tb_u8(b, 0);
    tb_u8(b, 7);
}
static void c_dup_key(tb *b)
{
    tb_header(b, 3, 0, 3);
    tb_kv_u32(b, "a", 1);
    tb_kv_u32(b, "bb", 2);
    tb_kv_u32(b, "bb", 3);
}
static void c_align_type(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_str(b, "general.alignment");
    tb_u32(b, VI_GGUF_I32);
    tb_u32(b, 32);
}
static void c_align_pow2(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_kv_u32(b, "general.alignment", 48);
}
static void c_align_zero(tb *b)
{
    tb_header(b, 3, 0, 1);
    tb_kv_u32(b, "general.alignment", 0);
}
/* One tensor info with the given fields, then room for its data. */
static void one_tensor(tb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                       uint64_t offset)
{
    tb_header(b, 3, 1, 0);
    tb_tinfo(b, name, n_dims, ne, type, offset);
    tb_pad(b, 32);
    tb_zeros(b, 64);
}
static void c_ndims0(tb *b)
{
    one_tensor(b, "w", 0, NE1, VI_GGML_F32, 0);
    tb_zeros(b, 8);
}
static void c_ndims5(tb *b)
{
    static const uint64_t ne[5] = {1, 1, 1, 1, 1};
    one_tensor(b, "w", 5, ne, VI_GGML_F32, 0);
}
static void c_ne_zero(tb *b)
{
    static const uint64_t ne[2] = {8, 0};
    one_tensor(b, "w", 2, ne, VI_GGML_F32, 0);
}
static void c_ne_negative(tb *b)
{
    static const uint64_t ne[1] = {UINT64_MAX};
    one_tensor(b, "w", 1, ne, VI_GGML_F32, 0);
}
static void c_numel_overflow(tb *b)
{
    static const uint64_t ne[3] = {1ull << 32, 1ull << 30, 2};
    one_tensor(b, "w", 3, ne, VI_GGML_F32, 0);
}
static void c_bytes_overflow(tb *b)
{
    static const uint64_t ne[1] = {1ull << 62};
    one_tensor(b, "w", 1, ne, VI_GGML_F32, 0);
}
static void c_type_unknown(tb *b)
{
    one_tensor(b, "w", 1, NE1, 77, 0);
}
static void c_type_unsupported(tb *b)
{
    static const uint64_t ne[1] = {256};
    one_tensor(b, "w", 1, ne, 13, 0);
}
static void c_block(tb *b)
{
    static const uint64_t ne[2] = {33, 2};
    one_tensor(b, "blk.0.attn_q.weight", 2, ne, VI_GGML_Q4_0, 0);
}
static void c_misaligned(tb *b)
{
    one_tensor(b, "w", 1, NE1, VI_GGML_F32, 4);
}
static void c_past_end(tb *b)
{
    static const uint64_t ne[1] = {16};
    one_tensor(b, "w", 1, ne, VI_GGML_F32, 32);
}
static void c_overlap(tb *b)
{
    static const uint64_t n16[1] = {16};
    tb_header(b, 3, 3, 0);
    tb_tinfo(b, "a", 1, NE1, VI_GGML_F32, 0);
    tb_tinfo(b, "b", 1, n16, VI_GGML_F32, 64);
    tb_tinfo(b, "c", 1, NE1, VI_GGML_F32, 96);
    tb_pad(b, 32);
    tb_zeros(b, 160);
}
static void c_dup_tensor(tb *b)
{
    tb_header(b, 3, 2, 0);
    tb_tinfo(b, "w", 1, NE1, VI_GGML_F32, 0);
    tb_tinfo(b, "w", 1, NE1, VI_GGML_F32, 32);
    tb_pad(b, 32);
    tb_zeros(b, 64);
}
static void c_tensor_name_empty(tb *b)
{
    one_tensor(b, "", 1, NE1, VI_GGML_F32, 0);
}
static void c_tensor_name_utf8(tb *b)
{
    one_tensor(b, "w\x80", 1, NE1, VI_GGML_F32, 0);
}
static void c_tensor_name_long(tb *b)
{
    tb_header(b, 3, 1, 0);
    tb_u64(b, 65536);
    tb_zeros(b, 65536 + 64);
}

typedef struct {
    const char *label;
    void (*build)(tb *b);
    vi_status want;
    const char *frag;
} bad_case;

static const bad_case BAD[] = {
    {"empty", c_empty, VI_ERR_INVALID, "file is 0 bytes, too small for a GGUF file"},
    {"3 bytes", c_three, VI_ERR_INVALID, "file is 3 bytes, too small"},
    {"magic", c_magic, VI_ERR_INVALID,
     "bad magic: the file starts with 47 47 4d 4c (\"GGML\"), not \"GGUF\""},
    {"short header", c_short, VI_ERR_INVALID, "file is 10 bytes, too small for a GGUF file"},
    {"version 1", c_v1, VI_ERR_UNSUPPORTED, "GGUF version 1 (32-bit counts) is not supported"},
    {"version 4", c_v4, VI_ERR_UNSUPPORTED, "unsupported GGUF version 4 (versions 2 and 3"},
    {"big-endian", c_big_endian, VI_ERR_UNSUPPORTED,
     "big-endian GGUF file (version field 0x03000000)"},
    {"kv limit", c_kv_limit, VI_ERR_LIMIT, "header: kv_count 1048577 exceeds the limit of 1048576"},
    {"tensor limit", c_tensor_limit, VI_ERR_LIMIT,
     "header: tensor_count 1099511627776 exceeds the limit"},
    {"kv absurd", c_kv_absurd, VI_ERR_INVALID,
     "header: kv_count 1000 is absurd for the file size: the 17 bytes after the header hold at "
     "most 1 key-value pairs"},
    {"tensor absurd", c_tensor_absurd, VI_ERR_INVALID,
     "header: tensor_count 100 is absurd for the file size: the 33 bytes"},
    {"counts together", c_counts_together, VI_ERR_INVALID,
     "header: 2 key-value pairs and 1 tensor infos need at least 61 bytes but only 37"},
    {"key past end", c_key_past_end, VI_ERR_INVALID,
     "kv 0: key of 1000 bytes at byte 32 runs past the end of the file (16 bytes remain"},
    {"key too long", c_key_too_long, VI_ERR_LIMIT,
     "kv 0: key at byte 24 is 70000 bytes long (at most 65535)"},
    {"key empty", c_key_empty, VI_ERR_INVALID, "kv 0: empty key at byte 24"},
    {"key utf8", c_key_utf8, VI_ERR_INVALID, "kv 0: key is not valid UTF-8 (byte 1 of 3 is 0xff)"},
    {"key overlong", c_key_overlong, VI_ERR_INVALID,
     "key is not valid UTF-8 (byte 1 of 3 is 0xc0)"},
    {"key surrogate", c_key_surrogate, VI_ERR_INVALID,
     "key is not valid UTF-8 (byte 0 of 3 is 0xed)"},
    {"key cut sequence", c_key_cut_sequence, VI_ERR_INVALID,
     "kv 0: key is not valid UTF-8 (byte 1 of 2 is 0xc3)"},
    {"value type", c_vtype, VI_ERR_INVALID, "kv 0 'a': invalid value type 13 at byte 33"},
    {"nested array", c_nested, VI_ERR_UNSUPPORTED,
     "kv 0 'arr': arrays of arrays are not supported"},
    {"element type", c_elem_type, VI_ERR_INVALID, "kv 0 'arr': invalid array element type 20"},
    {"array absurd", c_array_absurd, VI_ERR_INVALID,
     "kv 0 'arr': array count 1000000 is absurd: 1000000 STRING elements of at least 8 bytes"},
    {"string limit", c_string_limit, VI_ERR_LIMIT,
     "kv 0 's': string value at byte 37 is 1073741825 bytes long (at most 1073741824)"},
    {"string past end", c_string_past_end, VI_ERR_INVALID,
     "kv 0 's': string value of 100 bytes at byte 45 runs past the end of the file"},
    {"array string past end", c_array_string_past_end, VI_ERR_INVALID,
     "kv 0 'toks': string (element 1) of 50 bytes at byte 70 runs past the end"},
    {"bool", c_bool, VI_ERR_INVALID, "kv 0 'flag': bool value at byte 40 is 2 (must be 0 or 1)"},
    {"bool array", c_bool_array, VI_ERR_INVALID,
     "kv 0 'flags': bool element 2 at byte 55 is 7 (must be 0 or 1)"},
    {"duplicate key", c_dup_key, VI_ERR_INVALID, "kv 1 and kv 2 have the same key 'bb'"},
    {"alignment type", c_align_type, VI_ERR_INVALID,
     "general.alignment has type I32, expected U32"},
    {"alignment 48", c_align_pow2, VI_ERR_INVALID, "general.alignment is 48: not a power of two"},
    {"alignment 0", c_align_zero, VI_ERR_INVALID, "general.alignment is 0: not a power of two"},
    {"n_dims 0", c_ndims0, VI_ERR_INVALID, "tensor 0 'w': n_dims is 0 (1 to 4 allowed)"},
    {"n_dims 5", c_ndims5, VI_ERR_INVALID, "tensor 0 'w': n_dims is 5 (1 to 4 allowed)"},
    {"ne 0", c_ne_zero, VI_ERR_INVALID, "tensor 0 'w': ne[1] is 0 (every dimension must be >= 1)"},
    {"ne negative", c_ne_negative, VI_ERR_INVALID, "tensor 0 'w': ne[0] is -1"},
    {"numel overflow", c_numel_overflow, VI_ERR_INVALID,
     "tensor 0 'w': element count overflows 63 bits at ne[2] = 2"},
    {"bytes overflow", c_bytes_overflow, VI_ERR_INVALID,
     "tensor 0 'w': byte size overflows 63 bits"},
    {"type unknown", c_type_unknown, VI_ERR_UNSUPPORTED,
     "tensor 0 'w': ggml type 77 (unknown) is not supported (supported: F32, F16, BF16"},
    {"type unsupported", c_type_unsupported, VI_ERR_UNSUPPORTED,
     "tensor 0 'w': ggml type 13 (Q5_K) is not supported"},
    {"block", c_block, VI_ERR_INVALID,
     "tensor 0 'blk.0.attn_q.weight': ne[0] = 33 is not a multiple of the Q4_0 block size 32"},
    {"misaligned", c_misaligned, VI_ERR_INVALID,
     "tensor 0 'w': offset 4 is not a multiple of the alignment 32"},
    {"past end", c_past_end, VI_ERR_INVALID,
     "tensor 0 'w': data [32, 96) lies beyond the end of the file (the data section starts at "
     "byte 64 and holds 64 bytes"},
    {"overlap", c_overlap, VI_ERR_INVALID,
     "tensors 'b' [64, 128) and 'c' [96, 128) overlap in the data section"},
    {"duplicate tensor", c_dup_tensor, VI_ERR_INVALID,
     "tensor 0 and tensor 1 have the same name 'w'"},
    {"tensor name empty", c_tensor_name_empty, VI_ERR_INVALID, "tensor 0: empty name at byte 24"},
    {"tensor name utf8", c_tensor_name_utf8, VI_ERR_INVALID,
     "tensor 0: name is not valid UTF-8 (byte 1 of 2 is 0x80)"},
    {"tensor name long", c_tensor_name_long, VI_ERR_LIMIT,
     "tensor 0: name at byte 24 is 65536 bytes long (at most 65535)"},
};

static void test_malformed_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        tb b = {0};
        BAD[i].build(&b);
        expect_fail(BAD[i].label, b.p, b.len, BAD[i].want, BAD[i].frag);
        free(b.p);
    }
}

/* ==== Opening files ==== */

static void test_open_errors_name_the_file(void **state)
{
    (void)state;
    char dir[512], path[600];
    vt_tmpdir("gguf", dir, sizeof dir);
    vi_gguf *g = (vi_gguf *)&g;
    vi_error err = {{0}};
    snprintf(path, sizeof path, "%s/absent.gguf", dir);
    expect_get(vi_gguf_open(&g, path, &err), VI_ERR_NOT_FOUND, &err, "absent.gguf: cannot open");
    assert_null(g);
    expect_get(vi_gguf_open(&g, dir, &err), VI_ERR_INVALID, &err, "not a regular file");
    snprintf(path, sizeof path, "%s/empty.gguf", dir);
    assert_int_equal(vt_write_file(path, "", 0), 0);
    expect_get(vi_gguf_open(&g, path, &err), VI_ERR_INVALID, &err,
               "empty.gguf: file is 0 bytes, too small for a GGUF file");
    snprintf(path, sizeof path, "%s/v1.gguf", dir);
    tb b = {0};
    tb_header(&b, 1, 0, 0);
    assert_int_equal(vt_write_file(path, b.p, b.len), 0);
    expect_get(vi_gguf_open(&g, path, &err), VI_ERR_UNSUPPORTED, &err,
               "v1.gguf: GGUF version 1 (32-bit counts)");
    assert_null(g);
    free(b.p);
}

/* ==== Writer rejections ==== */

static void test_writer_rejections(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gguf_writer *w = NULL;
    const uint8_t data[64] = {0};
    const int64_t ne2[1] = {2}, ne33[1] = {33}, ne256[1] = {256}, ne5d[5] = {1, 1, 1, 1, 1};
    const char *const strs[2] = {"ok", NULL};
    const uint8_t two = 2;
    const uint32_t one = 1;
    assert_int_equal(vi_gguf_writer_new(&w, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_u32(w, "a", 1, &err), VI_OK);
    expect_get(vi_gguf_writer_set_i32(w, "a", 2, &err), VI_ERR_INVALID, &err,
               "metadata key 'a' is already set");
    expect_get(vi_gguf_writer_set_i32(w, "general.alignment", 64, &err), VI_ERR_INVALID, &err,
               "general.alignment must be U32, not I32");
    expect_get(vi_gguf_writer_set_str(w, "general.alignment", "64", &err), VI_ERR_INVALID, &err,
               "general.alignment must be U32, not STRING");
    expect_get(vi_gguf_writer_set_u32(w, "general.alignment", 48, &err), VI_ERR_INVALID, &err,
               "general.alignment is 48: not a power of two");
    expect_get(vi_gguf_writer_set_u32(w, "", 1, &err), VI_ERR_INVALID, &err,
               "metadata key is empty");
    expect_get(vi_gguf_writer_set_u32(w, "k\xff", 1, &err), VI_ERR_INVALID, &err,
               "metadata key is not valid UTF-8 (byte 1)");
    expect_get(vi_gguf_writer_set_scalar(w, "s", VI_GGUF_STRING, &one, &err), VI_ERR_INVALID, &err,
               "key 's': value type STRING (8) is not a fixed-size scalar type");
    expect_get(vi_gguf_writer_set_scalar(w, "t", VI_GGUF_BOOL, &two, &err), VI_ERR_INVALID, &err,
               "key 't': bool value 2 is neither 0 nor 1");
    expect_get(vi_gguf_writer_set_array(w, "n", VI_GGUF_ARRAY, &one, 1, &err), VI_ERR_UNSUPPORTED,
               &err, "key 'n': arrays of arrays are not supported");
    expect_get(vi_gguf_writer_set_str_array(w, "s", strs, 2, &err), VI_ERR_INVALID, &err,
               "key 's': string element 1 is NULL");
    expect_get(vi_gguf_writer_set_str(w, "s", NULL, &err), VI_ERR_INVALID, &err,
               "key 's': string value is NULL");
    assert_int_equal(vi_gguf_writer_add_tensor(w, "w", VI_GGML_F32, 1, ne2, data, 8, &err), VI_OK);
    expect_get(vi_gguf_writer_add_tensor(w, "w", VI_GGML_F32, 1, ne2, data, 8, &err),
               VI_ERR_INVALID, &err, "tensor 'w' is already added");
    expect_get(vi_gguf_writer_add_tensor(w, "w2", VI_GGML_F32, 1, ne2, data, 4, &err),
               VI_ERR_INVALID, &err, "tensor 'w2': 4 bytes given, its shape needs 8");
    expect_get(vi_gguf_writer_add_tensor(w, "q", VI_GGML_Q4_0, 1, ne33, data, 18, &err),
               VI_ERR_INVALID, &err,
               "tensor 'q': ne[0] = 33 is not a multiple of the Q4_0 block size 32");
    expect_get(vi_gguf_writer_add_tensor(w, "k", (vi_ggml_type)13, 1, ne256, data, 176, &err),
               VI_ERR_UNSUPPORTED, &err, "tensor 'k': ggml type 13 (Q5_K) is not supported");
    expect_get(vi_gguf_writer_add_tensor(w, "d", VI_GGML_F32, 5, ne5d, data, 4, &err),
               VI_ERR_INVALID, &err, "tensor 'd': n_dims is 5 (1 to 4 allowed)");
    expect_get(vi_gguf_writer_add_tensor(w, "", VI_GGML_F32, 1, ne2, data, 8, &err), VI_ERR_INVALID,
               &err, "tensor name is empty");
    expect_get(vi_gguf_writer_add_tensor(w, "n", VI_GGML_F32, 1, ne2, NULL, 8, &err),
               VI_ERR_INVALID, &err, "tensor 'n': data is NULL");
    /* the refused calls left nothing behind */
    uint8_t *buf;
    size_t size;
    assert_int_equal(vi_gguf_writer_to_memory(w, &buf, &size, &err), VI_OK);
    vi_gguf *g = NULL;
    assert_int_equal(vi_gguf_open_memory(&g, buf, size, &err), VI_OK);
    assert_int_equal(vi_gguf_n_kv(g), 1);
    assert_int_equal(vi_gguf_n_tensors(g), 1);
    assert_int_equal(vi_gguf_alignment(g), 32);
    vi_gguf_close(g);
    free(buf);
    vi_gguf_writer_free(w);
    vi_gguf_writer_free(NULL);
}

/* ==== The real model (only when fetched) ==== */

#define REAL_MODEL "models/local/SmolLM2-135M-Instruct.Q4_1.gguf"

static uint32_t get_u32_or_fail(const vi_gguf *g, const char *key)
{
    vi_error err = {{0}};
    uint32_t v = 0;
    if (vi_gguf_get_u32(g, key, &v, &err))
        fail_msg("%s", err.msg);
    return v;
}

static void test_real_model(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", vt_src(), REAL_MODEL);
    if (access(path, R_OK) != 0) {
        print_message("skipped: %s is absent (scripts/fetch-smollm2.sh fetches it)\n", path);
        skip();
    }
    vi_gguf *g = NULL;
    vi_error err = {{0}};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vi_status rc = vi_gguf_open(&g, path, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc)
        fail_msg("%s", err.msg);
    print_message("opened %s in %.2f ms\n", REAL_MODEL,
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_int_equal(vi_gguf_version(g), 3);
    assert_int_equal(vi_gguf_alignment(g), 32);
    assert_int_equal(vi_gguf_n_kv(g), 33);
    assert_int_equal(vi_gguf_n_tensors(g), 272);
    assert_int_equal(vi_gguf_data_offset(g), 1785664);
    vi_gguf_str s;
    assert_int_equal(vi_gguf_get_str(g, "general.architecture", &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "llama"));
    assert_int_equal(get_u32_or_fail(g, "llama.block_count"), 30);
    assert_int_equal(get_u32_or_fail(g, "llama.embedding_length"), 576);
    assert_int_equal(get_u32_or_fail(g, "llama.feed_forward_length"), 1536);
    assert_int_equal(get_u32_or_fail(g, "llama.attention.head_count"), 9);
    assert_int_equal(get_u32_or_fail(g, "llama.attention.head_count_kv"), 3);
    assert_int_equal(get_u32_or_fail(g, "llama.context_length"), 8192);
    assert_int_equal(get_u32_or_fail(g, "llama.rope.dimension_count"), 64);
    assert_int_equal(get_u32_or_fail(g, "tokenizer.ggml.bos_token_id"), 1);
    assert_int_equal(get_u32_or_fail(g, "tokenizer.ggml.eos_token_id"), 2);
    float f;
    assert_int_equal(vi_gguf_get_f32(g, "llama.rope.freq_base", &f, &err), VI_OK);
    assert_true(f == 100000.0f);
    assert_int_equal(vi_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f, &err), VI_OK);
    assert_true(f == 1e-5f);
    int add_bos = -1;
    assert_int_equal(vi_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos, &err), VI_OK);
    assert_int_equal(add_bos, 0);
    assert_int_equal(vi_gguf_get_str(g, "tokenizer.ggml.model", &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "gpt2"));
    assert_int_equal(vi_gguf_get_str(g, "tokenizer.ggml.pre", &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "smollm"));
    assert_int_equal(vi_gguf_get_str(g, "tokenizer.chat_template", &s, &err), VI_OK);
    assert_true(s.len > 0);

    vi_gguf_vtype et;
    uint64_t n;
    assert_int_equal(vi_gguf_get_array(g, "tokenizer.ggml.tokens", &et, &n, &err), VI_OK);
    assert_int_equal(et, VI_GGUF_STRING);
    assert_int_equal(n, 49152);
    assert_int_equal(vi_gguf_array_str(g, "tokenizer.ggml.tokens", 1, &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "<|im_start|>"));
    assert_int_equal(vi_gguf_array_str(g, "tokenizer.ggml.tokens", 49151, &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "ectable"));
    assert_int_equal(vi_gguf_get_array(g, "tokenizer.ggml.merges", &et, &n, &err), VI_OK);
    assert_int_equal(et, VI_GGUF_STRING);
    assert_int_equal(n, 48900);
    assert_int_equal(vi_gguf_array_str(g, "tokenizer.ggml.merges", 0, &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "\xc4\xa0 t"));
    assert_int_equal(vi_gguf_array_str(g, "tokenizer.ggml.merges", 48899, &s, &err), VI_OK);
    assert_true(vi_gguf_str_eq(s, "ect able"));
    int32_t tt;
    assert_int_equal(vi_gguf_array_i32(g, "tokenizer.ggml.token_type", 2, &tt, &err), VI_OK);
    assert_int_equal(tt, 3);

    int counts[3] = {0, 0, 0}; /* Q4_1, Q8_0, F32 */
    for (int64_t i = 0; i < vi_gguf_n_tensors(g); i++) {
        const vi_gguf_tensor *t = vi_gguf_tensor_at(g, i);
        if (t->type == VI_GGML_Q4_1)
            counts[0]++;
        else if (t->type == VI_GGML_Q8_0)
            counts[1]++;
        else if (t->type == VI_GGML_F32)
            counts[2]++;
        else
            fail_msg("tensor %.*s has type %d", (int)t->name.len, t->name.ptr, t->type);
    }
    assert_int_equal(counts[0], 210);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 61);
    const vi_gguf_tensor *e = vi_gguf_find_tensor(g, "token_embd.weight");
    assert_non_null(e);
    assert_int_equal(e->type, VI_GGML_Q8_0);
    assert_int_equal(e->ne[0], 576);
    assert_int_equal(e->ne[1], 49152);
    assert_int_equal(e->nbytes, 30081024);
    assert_null(vi_gguf_find_tensor(g, "output.weight"));
    const vi_gguf_tensor *d = vi_gguf_find_tensor(g, "blk.29.ffn_down.weight");
    assert_non_null(d);
    assert_int_equal(d->type, VI_GGML_Q4_1);
    assert_int_equal(d->ne[0], 1536);
    assert_int_equal(d->ne[1], 576);
    const vi_gguf_tensor *o = vi_gguf_find_tensor(g, "output_norm.weight");
    assert_non_null(o);
    assert_int_equal(vi_gguf_data_offset(g) + o->offset + o->nbytes, 98362432);
    vi_gguf_close(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_exact_bytes),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_getter_type_rules),
        cmocka_unit_test(test_alignment_and_accepted_layouts),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_open_errors_name_the_file),
        cmocka_unit_test(test_writer_rejections),
        cmocka_unit_test(test_real_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
