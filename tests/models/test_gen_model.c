/* tests/models/test_gen_model.c — the seeded model generator: 16-bit
 * conversions, the documented weight recipe, byte-identical output for a
 * seed, file structure, every op in all-ops, loading and running the
 * generated models with their example requests, overwrite protection and
 * option errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/engine.h"
#include "core/half.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "core/sha256.h"
#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "models/gen_plan.h"
#include "server/kserve.h"
#include "test_util.h"

/* ==== Helpers ==== */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void gen_ok(const vi_gen_options *o, const char *dir)
{
    vi_error err = {{0}};
    vi_status st = vi_gen_model(o, dir, &err);
    if (st != VI_OK)
        print_error("gen-model into %s: %s\n", dir, err.msg);
    assert_int_equal(st, VI_OK);
}

static char *read_in(const char *dir, const char *file, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *s = vt_read_file(path, len);
    if (!s)
        print_error("cannot read %s\n", path);
    assert_non_null(s);
    return s;
}

static int same_file(const char *a, const char *b, const char *file)
{
    size_t la, lb;
    char *x = read_in(a, file, &la), *y = read_in(b, file, &lb);
    int same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void sha_hex(const void *p, size_t n, char hex[65])
{
    uint8_t d[VI_SHA256_LEN];
    vi_error err;
    assert_int_equal(vi_sha256_once(p, n, d, &err), VI_OK);
    for (int i = 0; i < VI_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static json_t *load_json(const char *dir, const char *file)
{
    size_t len;
    char *s = read_in(dir, file, &len);
    json_error_t je;
    json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        print_error("%s/%s: %s\n", dir, file, je.text);
    assert_non_null(j);
    free(s);
    return j;
}

/* ==== 16-bit conversions ==== */

static void test_fp16_conversion(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = vi_f16_to_f32((uint16_t)h);
        uint16_t back = vi_f32_to_fp16(f);
        if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu)) { /* NaN: stays a quiet NaN, sign kept */
            assert_int_equal(back & 0xfe00u, (h & 0x8000u) | 0x7e00u);
            continue;
        }
        assert_int_equal(back, h);
        if ((h & 0x7fffu) >= 0x7c00u - 1u)
            continue;
        /* halfway to the next half (away from zero): ties go to the even one */
        float g = vi_f16_to_f32((uint16_t)(h + 1));
        float mid = f + (g - f) * 0.5f; /* exact: halves have 11 significant bits */
        uint16_t even = (h & 1u) ? (uint16_t)(h + 1) : (uint16_t)h;
        assert_int_equal(vi_f32_to_fp16(mid), even);
        assert_int_equal(vi_f32_to_fp16(nextafterf(mid, f)), h);
        assert_int_equal(vi_f32_to_fp16(nextafterf(mid, g)), h + 1);
    }
    assert_int_equal(vi_f32_to_fp16(65504.0f), 0x7bff);
    assert_int_equal(vi_f32_to_fp16(65519.996f), 0x7bff);
    assert_int_equal(vi_f32_to_fp16(65520.0f), 0x7c00); /* the tie rounds to even: infinity */
    assert_int_equal(vi_f32_to_fp16(-1e10f), 0xfc00);
    assert_int_equal(vi_f32_to_fp16(ldexpf(1, -24)), 0x0001);
    assert_int_equal(vi_f32_to_fp16(ldexpf(1, -25)), 0x0000);
    assert_int_equal(vi_f32_to_fp16(-ldexpf(1, -25)), 0x8000);
    assert_int_equal(vi_f32_to_fp16(nextafterf(ldexpf(1, -25), 1)), 0x0001);
    assert_int_equal(vi_f32_to_fp16(ldexpf(3, -26)), 0x0001);
    assert_int_equal(vi_f32_to_fp16(bits_f32(0x00000001u)), 0x0000);
    assert_int_equal(vi_f32_to_fp16(bits_f32(0x7f800001u)), 0x7e00);
    assert_int_equal(vi_f32_to_fp16(bits_f32(0xffc00000u)), 0xfe00);
}

static void test_bf16_conversion(void **state)
{
    (void)state;
    for (uint32_t b = 0; b < 0x10000u; b++) {
        float f = vi_bf16_to_f32((uint16_t)b);
        uint16_t back = vi_f32_to_bf16(f);
        if ((b & 0x7f80u) == 0x7f80u && (b & 0x7fu)) {
            assert_int_equal(back, b | 0x40u);
            continue;
        }
        assert_int_equal(back, b);
        if ((b & 0x7fffu) >= 0x7f7fu)
            continue;
        uint32_t mid = (b << 16) | 0x8000u; /* halfway to b + 1 */
        uint16_t even = (b & 1u) ? (uint16_t)(b + 1) : (uint16_t)b;
        assert_int_equal(vi_f32_to_bf16(bits_f32(mid)), even);
        assert_int_equal(vi_f32_to_bf16(bits_f32(mid - 1)), b);
        assert_int_equal(vi_f32_to_bf16(bits_f32(mid + 1)), b + 1);
    }
    assert_int_equal(vi_f32_to_bf16(bits_f32(0x7f7fffffu)), 0x7f80); /* FLT_MAX rounds to inf */
    assert_int_equal(vi_f32_to_bf16(bits_f32(0x7f800001u)), 0x7fc0);
    assert_int_equal(vi_f32_to_bf16(bits_f32(0xff800001u)), 0xffc0);
}

/* ==== The weight recipe, recomputed from its description ==== */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
    return h;
}

static void test_weight_recipe(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(vi_gen_next(&s) == 0xe220a8397b1dcdafull); /* splitmix64 reference value */
    s = vi_gen_stream(1, "fc0.weight");
    assert_true(s == (1ull ^ fnv1a("fc0.weight")));

    /* weight i = unit(stream) * bound, unit = ((r >> 40) - 2^23) * 2^-23 */
    vi_gen_weight w = {
        .name = "fc0.weight", .ndim = 2, .shape = {3, 5}, .near_one = 0, .bound = 0.25f};
    size_t nbytes = 0;
    uint8_t *data = vi_gen_weight_data(&w, 1, VI_DT_FP32, &nbytes);
    assert_int_equal(nbytes, 60);
    vt_rng r = {1ull ^ fnv1a("fc0.weight")};
    for (int i = 0; i < 15; i++) {
        int32_t k = (int32_t)(vt_next(&r) >> 40) - (1 << 23);
        float want = (float)ldexp((double)k, -23) * 0.25f;
        uint32_t got = (uint32_t)data[4 * i] | (uint32_t)data[4 * i + 1] << 8 |
                       (uint32_t)data[4 * i + 2] << 16 | (uint32_t)data[4 * i + 3] << 24;
        assert_int_equal(got, f32_bits(want));
        assert_true(fabsf(want) <= 0.25f);
    }
    free(data);

    /* norm scales: 1 + unit / 8, in [0.875, 1.125) */
    vi_gen_weight g = {.name = "ln.weight", .ndim = 1, .shape = {1000}, .near_one = 1};
    data = vi_gen_weight_data(&g, 9, VI_DT_FP32, &nbytes);
    r.s = 9ull ^ fnv1a("ln.weight");
    for (int i = 0; i < 1000; i++) {
        float v;
        memcpy(&v, data + 4 * i, 4);
        float u = (float)((int32_t)(vt_next(&r) >> 40) - (1 << 23)) / 8388608.0f;
        assert_int_equal(f32_bits(v), f32_bits(1.0f + u / 8.0f));
        assert_true(v >= 0.875f && v < 1.125f);
    }
    free(data);
}

/* ==== Files ==== */

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    char a[512], b[512], c[512];
    vt_tmpdir("gen-a", a, sizeof a);
    vt_tmpdir("gen-b", b, sizeof b);
    vt_tmpdir("gen-c", c, sizeof c);
    vi_gen_options o;
    vi_gen_options_default(&o);
    gen_ok(&o, a);
    gen_ok(&o, b);
    o.seed = 2;
    gen_ok(&o, c);
    assert_true(same_file(a, b, "model.json"));
    assert_true(same_file(a, b, "model.safetensors"));
    assert_true(same_file(a, b, "example-request.json"));
    assert_true(same_file(a, c, "model.json")); /* the seed is not part of the manifest */
    assert_false(same_file(a, c, "model.safetensors"));
    assert_false(same_file(a, c, "example-request.json"));

    /* nothing else (no temporary files) is left in the directory */
    DIR *d = opendir(a);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    assert_int_equal(n, 3);
}

/* Pinned bytes of the default model: any change to the generator (or to the
 * number formatting of the machine) shows up here. */
static void test_golden_hashes(void **state)
{
    (void)state;
    char dir[512], hex[65];
    vt_tmpdir("gen-golden", dir, sizeof dir);
    vi_gen_options o;
    vi_gen_options_default(&o);
    gen_ok(&o, dir);
    size_t len;
    char *s = read_in(dir, "model.json", &len);
    sha_hex(s, len, hex);
    assert_string_equal(hex, "4b0b4e8bc16baa4d26510d84c0aecc3c30cff191d020f46a0288206d36816109");
    free(s);
    s = read_in(dir, "example-request.json", &len);
    sha_hex(s, len, hex);
    assert_string_equal(hex, "c222fb790226cba287b383e6036597c92e7faccdf67782edd829a85870e758da");
    free(s);

    /* the weight bytes, tensor by tensor in name order (independent of the header layout) */
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    vi_safetensors st = {0};
    vi_error err = {{0}};
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_OK);
    assert_int_equal(st.n_tensors, 6);
    vi_sha256 h;
    assert_int_equal(vi_sha256_begin(&h, &err), VI_OK);
    for (int i = 0; i < st.n_tensors; i++) {
        vi_sha256_cstr(&h, st.tensors[i].name);
        vi_sha256_bytes(&h, st.tensors[i].data, st.tensors[i].end - st.tensors[i].begin);
    }
    uint8_t d[VI_SHA256_LEN];
    assert_int_equal(vi_sha256_final(&h, d, &err), VI_OK);
    for (int i = 0; i < VI_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, "79df5556bda4f91cc868826dc2ec048c7f575974d6d930c845aa2ae6f976ee15");
    vi_safetensors_close(&st);
}

static void test_mlp_structure(void **state)
{
    (void)state;
    char dir[512];
    vt_tmpdir("gen-mlp", dir, sizeof dir);
    vi_gen_options o;
    vi_gen_options_default(&o);
    o.weight_out_in = 0;
    o.activation = VI_GEN_ACT_GELU_TANH;
    snprintf(o.name, sizeof o.name, "tiny-mlp.v2");
    o.max_batch_size = 7;
    gen_ok(&o, dir);

    json_t *m = load_json(dir, "model.json");
    assert_string_equal(json_string_value(json_object_get(m, "format")), "verinfer-model");
    assert_int_equal(json_integer_value(json_object_get(m, "format_version")), 1);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "tiny-mlp.v2");
    assert_string_equal(json_string_value(json_object_get(m, "version")), "1");
    assert_int_equal(json_integer_value(json_object_get(m, "max_batch_size")), 7);
    json_t *want_io = json_loads(
        "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,16]}],"
        "\"outputs\":[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,4]},"
        "{\"name\":\"label\",\"datatype\":\"INT64\",\"shape\":[-1]}]}",
        0, NULL);
    assert_true(json_equal(json_object_get(m, "inputs"), json_object_get(want_io, "inputs")));
    assert_true(json_equal(json_object_get(m, "outputs"), json_object_get(want_io, "outputs")));
    json_decref(want_io);

    static const char *ops[] = {"linear", "gelu", "linear", "gelu", "linear", "softmax", "argmax"};
    json_t *graph = json_object_get(m, "graph");
    assert_int_equal(json_array_size(graph), 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(graph, i), "op")),
                            ops[i]);
    json_t *fc0 = json_array_get(graph, 0);
    json_t *want0 =
        json_loads("{\"op\":\"linear\",\"name\":\"fc0\",\"inputs\":[\"input\"],"
                   "\"weights\":{\"weight\":\"fc0.weight\",\"bias\":\"fc0.bias\"},"
                   "\"outputs\":[\"h0\"],\"attributes\":{\"weight_layout\":\"in_out\"}}",
                   0, NULL);
    assert_true(json_equal(fc0, want0));
    json_decref(want0);
    json_t *act = json_array_get(graph, 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(act, "attributes"), "approximate")),
        "tanh");
    json_decref(m);

    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    vi_safetensors st = {0};
    vi_error err = {{0}};
    assert_int_equal(vi_safetensors_open(&st, path, &err), VI_OK);
    const vi_st_tensor *w = vi_safetensors_find(&st, "fc0.weight");
    assert_non_null(w);
    assert_int_equal(w->dtype, VI_DT_FP32);
    assert_int_equal(w->ndim, 2);
    assert_int_equal(w->shape[0], 16); /* in_out: [K, N] */
    assert_int_equal(w->shape[1], 64);
    const vi_st_tensor *b = vi_safetensors_find(&st, "fc2.bias");
    assert_non_null(b);
    assert_int_equal(b->shape[0], 4);
    vi_safetensors_close(&st);

    /* the example request: 2 rows, nested, values k/64 */
    json_t *ex = load_json(dir, "example-request.json");
    assert_string_equal(json_string_value(json_object_get(ex, "id")), "example");
    json_t *in0 = json_array_get(json_object_get(ex, "inputs"), 0);
    assert_string_equal(json_string_value(json_object_get(in0, "name")), "input");
    json_t *shape = json_object_get(in0, "shape");
    assert_int_equal(json_integer_value(json_array_get(shape, 0)), 2);
    assert_int_equal(json_integer_value(json_array_get(shape, 1)), 16);
    json_t *rows = json_object_get(in0, "data");
    assert_int_equal(json_array_size(rows), 2);
    for (size_t r = 0; r < 2; r++) {
        json_t *row = json_array_get(rows, r);
        assert_int_equal(json_array_size(row), 16);
        for (size_t i = 0; i < 16; i++) {
            double v = json_number_value(json_array_get(row, i)) * 64.0;
            assert_true(v >= -64 && v <= 64 && v == (double)(long)v);
        }
    }
    json_decref(ex);
}

static void test_all_ops_uses_every_op(void **state)
{
    (void)state;
    char dir[512];
    vt_tmpdir("gen-allops", dir, sizeof dir);
    vi_gen_options o;
    vi_gen_options_default(&o);
    o.preset = VI_GEN_ALL_OPS;
    gen_ok(&o, dir);
    json_t *m = load_json(dir, "model.json");
    assert_string_equal(json_string_value(json_object_get(m, "name")), "all-ops");
    json_t *graph = json_object_get(m, "graph");
    int seen[VI_OP_COUNT] = {0};
    int gelu_forms = 0, layouts = 0, lin_bias = 0, mm_forms = 0, add_forms = 0, mul_forms = 0,
        ln_forms = 0;
    for (size_t i = 0; i < json_array_size(graph); i++) {
        json_t *n = json_array_get(graph, i);
        vi_op op = vi_op_from_name(json_string_value(json_object_get(n, "op")));
        assert_true(op < VI_OP_COUNT);
        seen[op]++;
        json_t *w = json_object_get(n, "weights");
        json_t *attrs = json_object_get(n, "attributes");
        int n_in = (int)json_array_size(json_object_get(n, "inputs"));
        if (op == VI_OP_GELU)
            gelu_forms |=
                strcmp(json_string_value(json_object_get(attrs, "approximate")), "tanh") == 0 ? 2
                                                                                              : 1;
        if (op == VI_OP_LINEAR) {
            layouts |=
                strcmp(json_string_value(json_object_get(attrs, "weight_layout")), "out_in") == 0
                    ? 2
                    : 1;
            lin_bias |= json_object_get(w, "bias") ? 2 : 1;
        }
        if (op == VI_OP_MATMUL)
            mm_forms |= n_in == 2 ? 2 : 1;
        if (op == VI_OP_ADD)
            add_forms |= n_in == 2 ? 2 : 1;
        if (op == VI_OP_MUL)
            mul_forms |= n_in == 2 ? 2 : 1;
        if (op == VI_OP_LAYER_NORM)
            ln_forms |= json_object_get(w, "bias") ? 2 : 1;
    }
    for (int op = 0; op < VI_OP_COUNT; op++) {
        if (!seen[op])
            print_error("op %s is not used\n", vi_op_name((vi_op)op));
        assert_true(seen[op] > 0);
    }
    assert_int_equal(gelu_forms, 3);
    assert_int_equal(layouts, 3);
    assert_int_equal(lin_bias, 3);
    assert_int_equal(mm_forms, 3);
    assert_int_equal(add_forms, 3);
    assert_int_equal(mul_forms, 3);
    assert_int_equal(ln_forms, 3);
    assert_int_equal(json_array_size(json_object_get(m, "inputs")), 2);
    assert_int_equal(json_array_size(json_object_get(m, "outputs")), 4);
    json_decref(m);

    json_t *ex = load_json(dir, "example-request.json");
    json_t *ids = json_array_get(json_object_get(ex, "inputs"), 1);
    assert_string_equal(json_string_value(json_object_get(ids, "datatype")), "INT64");
    json_t *rows = json_object_get(ids, "data");
    for (size_t r = 0; r < 2; r++)
        for (size_t t = 0; t < 4; t++) {
            json_int_t id = json_integer_value(json_array_get(json_array_get(rows, r), t));
            assert_true(id >= 0 && id < 16);
        }
    json_decref(ex);
}

/* Loads a generated model, decodes its example request, binds it and runs it
 * on the CPU backend: probabilities sum to about 1 and label is their argmax. */
static void load_and_run(const vi_gen_options *o, const char *tag)
{
    char dir[512];
    vt_tmpdir(tag, dir, sizeof dir);
    gen_ok(o, dir);
    vi_model m;
    vi_error err = {{0}};
    vi_status st = vi_model_load(&m, dir, &err);
    if (st != VI_OK)
        print_error("%s: load: %s\n", tag, err.msg);
    assert_int_equal(st, VI_OK);

    size_t len;
    char *req_json = read_in(dir, "example-request.json", &len);
    vi_kserve_request req;
    st = vi_kserve_parse_request(req_json, len, NULL, 0, NULL, &req, &err);
    if (st != VI_OK)
        print_error("%s: example request: %s\n", tag, err.msg);
    assert_int_equal(st, VI_OK);
    free(req_json);
    const vi_tensor *ordered[VI_GEN_MAX_IO];
    int64_t rows = 0;
    st = vi_kserve_bind(&req, &m.graph, ordered, &rows, &err);
    if (st != VI_OK)
        print_error("%s: bind: %s\n", tag, err.msg);
    assert_int_equal(st, VI_OK);
    assert_int_equal(rows, VI_GEN_EXAMPLE_ROWS);

    vi_backend *b = vi_cpu_backend_create(1, VI_ISA_AUTO, &err);
    assert_non_null(b);
    vi_engine e;
    st = vi_engine_init(&e, &m, b, &err);
    if (st != VI_OK)
        print_error("%s: engine: %s\n", tag, err.msg);
    assert_int_equal(st, VI_OK);
    vi_tensor outs[VI_GEN_MAX_IO];
    memset(outs, 0, sizeof outs);
    st = vi_engine_run(&e, ordered, rows, outs, &err);
    if (st != VI_OK)
        print_error("%s: run: %s\n", tag, err.msg);
    assert_int_equal(st, VI_OK);
    assert_string_equal(outs[0].name, "probabilities");
    assert_string_equal(outs[1].name, "label");
    int64_t c = outs[0].shape[1];
    for (int64_t r = 0; r < rows; r++) {
        const float *p = (const float *)outs[0].data + r * c;
        float sum = 0;
        int64_t best = 0;
        for (int64_t k = 0; k < c; k++) {
            assert_true(p[k] >= 0 && p[k] <= 1);
            sum += p[k];
            if (p[k] > p[best])
                best = k;
        }
        assert_true(fabsf(sum - 1.0f) < 1e-5f);
        assert_int_equal(((const int64_t *)outs[1].data)[r], best);
    }
    vi_engine_outputs_free(outs, m.graph.n_outputs);
    vi_engine_free(&e);
    b->destroy(b);
    vi_kserve_request_free(&req);
    vi_model_free(&m);
}

static void test_generated_models_load_and_run(void **state)
{
    (void)state;
    vi_gen_options o;
    vi_gen_options_default(&o);
    load_and_run(&o, "run-mlp");
    for (int a = 0; a < VI_GEN_ACT_COUNT; a++) {
        vi_gen_options_default(&o);
        o.activation = (vi_gen_act)a;
        o.weight_out_in = a % 2;
        o.weight_dtype = a == 1 ? VI_DT_FP16 : a == 2 ? VI_DT_BF16 : VI_DT_FP32;
        o.hidden[0] = 8 + a;
        o.n_hidden = a == 4 ? 0 : 1;
        o.n_inputs = 3 + a;
        o.n_classes = 2 + a;
        o.seed = 100 + (uint64_t)a;
        load_and_run(&o, "run-mlp-var");
    }
    vi_gen_options_default(&o);
    o.preset = VI_GEN_ALL_OPS;
    load_and_run(&o, "run-allops");
    o.weight_dtype = VI_DT_BF16;
    load_and_run(&o, "run-allops-bf16");
}

/* F16/BF16 weights are the float weights rounded to nearest even. */
static void test_half_weights(void **state)
{
    (void)state;
    char d32[512], d16[512], dbf[512], path[600];
    vt_tmpdir("gen-w32", d32, sizeof d32);
    vt_tmpdir("gen-w16", d16, sizeof d16);
    vt_tmpdir("gen-wbf", dbf, sizeof dbf);
    vi_gen_options o;
    vi_gen_options_default(&o);
    o.preset = VI_GEN_ALL_OPS;
    gen_ok(&o, d32);
    o.weight_dtype = VI_DT_FP16;
    gen_ok(&o, d16);
    o.weight_dtype = VI_DT_BF16;
    gen_ok(&o, dbf);
    vi_safetensors s32 = {0}, s16 = {0}, sbf = {0};
    vi_error err = {{0}};
    snprintf(path, sizeof path, "%s/model.safetensors", d32);
    assert_int_equal(vi_safetensors_open(&s32, path, &err), VI_OK);
    snprintf(path, sizeof path, "%s/model.safetensors", d16);
    assert_int_equal(vi_safetensors_open(&s16, path, &err), VI_OK);
    snprintf(path, sizeof path, "%s/model.safetensors", dbf);
    assert_int_equal(vi_safetensors_open(&sbf, path, &err), VI_OK);
    assert_int_equal(s32.n_tensors, s16.n_tensors);
    int64_t checked = 0;
    for (int i = 0; i < s32.n_tensors; i++) {
        const vi_st_tensor *a = &s32.tensors[i];
        const vi_st_tensor *h = vi_safetensors_find(&s16, a->name);
        const vi_st_tensor *bb = vi_safetensors_find(&sbf, a->name);
        assert_non_null(h);
        assert_non_null(bb);
        assert_int_equal(h->dtype, VI_DT_FP16);
        assert_int_equal(bb->dtype, VI_DT_BF16);
        uint64_t n = (a->end - a->begin) / 4;
        assert_int_equal(h->end - h->begin, 2 * n);
        for (uint64_t k = 0; k < n; k++) {
            float f;
            uint16_t x, y;
            memcpy(&f, (const uint8_t *)a->data + 4 * k, 4);
            memcpy(&x, (const uint8_t *)h->data + 2 * k, 2);
            memcpy(&y, (const uint8_t *)bb->data + 2 * k, 2);
            assert_int_equal(x, vi_f32_to_fp16(f));
            assert_int_equal(y, vi_f32_to_bf16(f));
            checked++;
        }
    }
    assert_true(checked > 500);
    vi_safetensors_close(&s32);
    vi_safetensors_close(&s16);
    vi_safetensors_close(&sbf);
}

static void test_overwrite_protection(void **state)
{
    (void)state;
    char base[512], dir[700];
    vt_tmpdir("gen-force", base, sizeof base);
    snprintf(dir, sizeof dir, "%s/a/b/c", base); /* parents are created */
    vi_gen_options o;
    vi_gen_options_default(&o);
    gen_ok(&o, dir);
    vi_error err = {{0}};
    o.seed = 5;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_IO);
    char want[1024];
    snprintf(
        want, sizeof want,
        "refusing to overwrite %s/model.safetensors: it already exists (use --force to replace it)",
        dir);
    assert_string_equal(err.msg, want);
    o.force = 1;
    gen_ok(&o, dir);
    char other[512];
    vt_tmpdir("gen-force-ref", other, sizeof other);
    gen_ok(&o, other);
    assert_true(same_file(dir, other, "model.safetensors")); /* really replaced */

    /* only the manifest left over: still refused */
    char path[800];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, "%s/example-request.json", dir);
    assert_int_equal(unlink(path), 0);
    o.force = 0;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_IO);
    assert_non_null(strstr(err.msg, "model.json: it already exists"));

    /* a file where the directory should be */
    snprintf(path, sizeof path, "%s/plain", base);
    assert_int_equal(vt_write_file(path, "x", 1), 0);
    snprintf(dir, sizeof dir, "%s/plain/sub", base);
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot create directory"));
}

static void test_option_parsing(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gen_options o;
    vi_gen_options_default(&o);
    vi_gen_preset p;
    assert_int_equal(vi_gen_parse_preset("all-ops", &p, &err), VI_OK);
    assert_int_equal(p, VI_GEN_ALL_OPS);
    assert_int_equal(vi_gen_parse_preset("cnn", &p, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "unknown preset 'cnn' (choose mlp or all-ops)");
    vi_gen_act a;
    assert_int_equal(vi_gen_parse_activation("gelu_tanh", &a, &err), VI_OK);
    assert_int_equal(a, VI_GEN_ACT_GELU_TANH);
    assert_int_equal(vi_gen_parse_activation("swish", &a, &err), VI_ERR_INVALID);
    assert_string_equal(
        err.msg, "unknown activation 'swish' (choose relu, gelu, gelu_tanh, tanh or sigmoid)");
    vi_dtype dt;
    assert_int_equal(vi_gen_parse_weight_dtype("BF16", &dt, &err), VI_OK);
    assert_int_equal(dt, VI_DT_BF16);
    assert_int_equal(vi_gen_parse_weight_dtype("F16", &dt, &err), VI_OK);
    assert_int_equal(dt, VI_DT_FP16);
    assert_int_equal(vi_gen_parse_weight_dtype("F8", &dt, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "unknown weight dtype 'F8' (choose F32, F16 or BF16)");
    int oi = 7;
    assert_int_equal(vi_gen_parse_layout("in_out", &oi, &err), VI_OK);
    assert_int_equal(oi, 0);
    assert_int_equal(vi_gen_parse_layout("nk", &oi, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "unknown weight layout 'nk' (choose out_in or in_out)");

    assert_int_equal(vi_gen_parse_hidden("128,32,8", &o, &err), VI_OK);
    assert_int_equal(o.n_hidden, 3);
    assert_int_equal(o.hidden[0], 128);
    assert_int_equal(o.hidden[2], 8);
    assert_int_equal(vi_gen_parse_hidden("none", &o, &err), VI_OK);
    assert_int_equal(o.n_hidden, 0);
    static const char *bad[] = {"64,,3", "0", "abc", "64,", "-3", "12x", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.n_hidden = 2;
        assert_int_equal(vi_gen_parse_hidden(bad[i], &o, &err), VI_ERR_INVALID);
        assert_non_null(strstr(
            err.msg, "hidden widths must be a comma-separated list of integers in 1..1048576"));
        assert_int_equal(o.n_hidden, 2); /* untouched on failure */
    }
    assert_int_equal(vi_gen_parse_hidden("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", &o, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at most 16 hidden layers"));
}

static void test_option_errors(void **state)
{
    (void)state;
    char dir[512];
    vt_tmpdir("gen-bad", dir, sizeof dir);
    vi_error err = {{0}};
    vi_gen_options o;

    vi_gen_options_default(&o);
    snprintf(o.name, sizeof o.name, "my model");
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "model name 'my model' may only use letters, digits"));
    snprintf(o.name, sizeof o.name, "-x");
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_INVALID);

    vi_gen_options_default(&o);
    o.n_classes = 0;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "n_classes must be in 1..1048576 (got 0)");

    vi_gen_options_default(&o);
    o.max_batch_size = 0;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "max_batch_size must be in 1..1048576 (got 0)");

    vi_gen_options_default(&o);
    o.weight_dtype = VI_DT_INT8;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "weight dtype must be F32, F16 or BF16");

    vi_gen_options_default(&o);
    o.n_inputs = 1 << 20;
    o.hidden[0] = 1 << 20;
    o.n_hidden = 1;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "the model would have more than 268435456 weight elements");

    vi_gen_options_default(&o);
    o.hidden[1] = -4;
    assert_int_equal(vi_gen_model(&o, dir, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "a hidden width must be in 1..1048576 (got -4)");

    /* nothing was written by the failures */
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp16_conversion),
        cmocka_unit_test(test_bf16_conversion),
        cmocka_unit_test(test_weight_recipe),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_golden_hashes),
        cmocka_unit_test(test_mlp_structure),
        cmocka_unit_test(test_all_ops_uses_every_op),
        cmocka_unit_test(test_generated_models_load_and_run),
        cmocka_unit_test(test_half_weights),
        cmocka_unit_test(test_overwrite_protection),
        cmocka_unit_test(test_option_parsing),
        cmocka_unit_test(test_option_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
