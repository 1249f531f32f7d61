/* tests/core/test_model.c — loading model directories: weights bound in place
 * or widened exactly (F16, BF16, unaligned F32), the manifest kept verbatim,
 * in-memory loading, and failures that name the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/model.h"
#include "test_util.h"

/* F16 inputs and the float32 bits they must widen to (normal, subnormal,
 * signed zero, infinity, extremes). */
static const uint16_t W16[12] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0x3555,
                                 0x7c00, 0x0400, 0x03ff, 0xfbff, 0x3800, 0x4248};
static const uint32_t W16_F32[12] = {0x3f800000, 0xc0000000, 0x33800000, 0x477fe000,
                                     0x80000000, 0x3eaaa000, 0x7f800000, 0x38800000,
                                     0x387fc000, 0xc77fe000, 0x3f000000, 0x40490000};
static const uint16_t B16[3] = {0x3f80, 0xff80, 0x0001};
static const uint32_t B16_F32[3] = {0x3f800000, 0xff800000, 0x00010000};
static const float AL[3] = {0.5f, -1.5f, 2.25f};
static const float OFF[3] = {1e-3f, -7.0f, 3.0e38f};
static const int64_t S_AL[1] = {3}, S_W[2] = {3, 4}, S_B[1] = {3};

/* "al" (F32) at offset 0 is aligned; "off" (F32) lands at offset 42 and is not. */
static const vi_st_write WEIGHTS[4] = {
    {"al", VI_DT_FP32, 1, S_AL, AL},
    {"w16", VI_DT_FP16, 2, S_W, W16},
    {"b16", VI_DT_BF16, 1, S_B, B16},
    {"off", VI_DT_FP32, 1, S_AL, OFF},
};

static const char MANIFEST[] =
    "{\"format\": \"verinfer-model\", \"format_version\": 1, \"name\": \"tiny\", \"version\": "
    "\"2\",\n"
    " \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1, 4]}],\n"
    " \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP32\", \"shape\": [-1, 3]}],\n"
    " \"graph\": [\n"
    "  {\"op\": \"linear\", \"name\": \"fc\", \"inputs\": [\"x\"], \"outputs\": [\"h\"],\n"
    "   \"weights\": {\"weight\": \"w16\", \"bias\": \"b16\"}},\n"
    "  {\"op\": \"add\", \"inputs\": [\"h\"], \"weights\": {\"other\": \"al\"}, \"outputs\": "
    "[\"h2\"]},\n"
    "  {\"op\": \"mul\", \"inputs\": [\"h2\"], \"weights\": {\"other\": \"off\"}, \"outputs\": "
    "[\"y\"]}\n"
    " ]}\n";

static void write_model(const char *dir, const char *manifest, int with_weights)
{
    char path[700];
    snprintf(path, sizeof path, "%s/model.json", dir);
    if (manifest)
        assert_int_equal(vt_write_file(path, manifest, strlen(manifest)), 0);
    if (with_weights) {
        vi_error err = {{0}};
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        assert_int_equal(vi_safetensors_write(path, WEIGHTS, 4, &err), VI_OK);
    }
}

static void remove_model(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/model.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    rmdir(dir);
}

static void expect_bits(const float *got, const uint32_t *want, int n, const char *what)
{
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &got[i], sizeof u);
        if (u != want[i])
            fail_msg("%s[%d] is 0x%08x, want 0x%08x", what, i, u, want[i]);
    }
}

static void check_bound(const vi_model *m)
{
    const vi_graph *g = &m->graph;
    int al = vi_graph_find_value(g, "al"), w16 = vi_graph_find_value(g, "w16");
    int b16 = vi_graph_find_value(g, "b16"), off = vi_graph_find_value(g, "off");
    int x = vi_graph_find_value(g, "x"), h = vi_graph_find_value(g, "h");
    assert_true(al >= 0 && w16 >= 0 && b16 >= 0 && off >= 0 && x >= 0 && h >= 0);

    /* aligned F32: a view into the mapping, nothing allocated */
    const unsigned char *map = m->st.map;
    const unsigned char *p = (const unsigned char *)m->weight_f32[al];
    assert_true(p >= map && p + sizeof AL <= map + m->st.map_size);
    assert_ptr_equal(p, vi_safetensors_find(&m->st, "al")->data);
    assert_null(m->weight_owned[al]);
    assert_memory_equal(m->weight_f32[al], AL, sizeof AL);

    /* F16 and BF16: exact widening into owned buffers */
    assert_non_null(m->weight_owned[w16]);
    assert_ptr_equal(m->weight_f32[w16], m->weight_owned[w16]);
    expect_bits(m->weight_f32[w16], W16_F32, 12, "w16");
    assert_non_null(m->weight_owned[b16]);
    expect_bits(m->weight_f32[b16], B16_F32, 3, "b16");

    /* unaligned F32: an aligned copy with the same bits */
    assert_int_equal((uintptr_t)vi_safetensors_find(&m->st, "off")->data % 4, 2);
    assert_non_null(m->weight_owned[off]);
    assert_int_equal((uintptr_t)m->weight_f32[off] % 4, 0);
    assert_memory_equal(m->weight_f32[off], OFF, sizeof OFF);

    /* activations have no weight view */
    assert_null(m->weight_f32[x]);
    assert_null(m->weight_f32[h]);
    assert_null(m->weight_owned[x]);
}

static void test_load_dir(void **state)
{
    (void)state;
    char dir[512];
    vt_tmpdir("model", dir, sizeof dir);
    write_model(dir, MANIFEST, 1);
    vi_model m;
    vi_error err = {{0}};
    vi_status rc = vi_model_load(&m, dir, &err);
    if (rc)
        fail_msg("load: %s", err.msg);
    assert_string_equal(m.dir, dir);
    assert_int_equal(m.manifest_len, strlen(MANIFEST));
    assert_memory_equal(m.manifest, MANIFEST, sizeof MANIFEST); /* with the NUL */
    assert_int_equal(m.st.mapped, 1);
    assert_string_equal(m.graph.name, "tiny");
    assert_string_equal(m.graph.version, "2");
    assert_int_equal(m.graph.n_nodes, 3);
    check_bound(&m);
    vi_model_free(&m);
    assert_null(m.manifest);
    assert_null(m.weight_f32);
    assert_int_equal(m.graph.n_values, 0);
    vi_model_free(&m);
    vi_model_free(NULL);
    remove_model(dir);
}

static void test_load_parts(void **state)
{
    (void)state;
    void *img;
    size_t len;
    vi_error err = {{0}};
    vi_safetensors st;
    vi_model m;
    assert_int_equal(vi_safetensors_serialize(WEIGHTS, 4, &img, &len, &err), VI_OK);
    assert_int_equal(vi_safetensors_parse(&st, img, len, &err), VI_OK);
    vi_status rc = vi_model_load_parts(&m, MANIFEST, strlen(MANIFEST), &st, &err);
    if (rc)
        fail_msg("load_parts: %s", err.msg);
    assert_null(st.tensors); /* moved into m */
    assert_ptr_equal(m.st.map, img);
    assert_string_equal(m.dir, "");
    assert_string_equal(m.manifest, MANIFEST);
    check_bound(&m);
    vi_model_free(&m);

    /* on failure the safetensors is closed and m is zeroed */
    assert_int_equal(vi_safetensors_parse(&st, img, len, &err), VI_OK);
    const char *bad = "{\"format\": \"verinfer-model\"";
    assert_int_equal(vi_model_load_parts(&m, bad, strlen(bad), &st, &err), VI_ERR_INVALID);
    assert_memory_equal(err.msg, "model.json: not valid JSON", 26);
    assert_null(st.tensors);
    assert_null(m.manifest);
    assert_null(m.graph.values);
    assert_null(m.st.tensors);
    free(img);
}

static void test_load_errors(void **state)
{
    (void)state;
    char dir[512], want[1200];
    vi_model m;
    vi_error err = {{0}};
    vt_tmpdir("model", dir, sizeof dir);

    /* no model.json */
    assert_int_equal(vi_model_load(&m, dir, &err), VI_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "%s/model.json: cannot open: No such file or directory", dir);
    assert_string_equal(err.msg, want);

    /* model.json but no model.safetensors */
    write_model(dir, MANIFEST, 0);
    assert_int_equal(vi_model_load(&m, dir, &err), VI_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "%s/model.safetensors: cannot open: No such file or directory",
             dir);
    assert_string_equal(err.msg, want);

    /* a manifest naming a weight the file lacks */
    write_model(dir, MANIFEST, 1);
    char *bad = strdup(MANIFEST);
    memcpy(strstr(bad, "\"w16\""), "\"w99\"", 5);
    write_model(dir, bad, 0);
    free(bad);
    assert_int_equal(vi_model_load(&m, dir, &err), VI_ERR_NOT_FOUND);
    snprintf(want, sizeof want,
             "%s/model.json: node 'fc' (linear): weight 'w99' is not in model.safetensors", dir);
    assert_string_equal(err.msg, want);
    assert_null(m.manifest);
    assert_null(m.graph.values);
    assert_null(m.st.map);

    /* a corrupt weights file is named */
    char path[700];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "xx", 2), 2);
    close(fd);
    write_model(dir, MANIFEST, 0);
    assert_int_equal(vi_model_load(&m, dir, &err), VI_ERR_INVALID);
    snprintf(want, sizeof want, "%s/model.safetensors: data section has 2 trailing bytes", dir);
    assert_memory_equal(err.msg, want, strlen(want));

    /* a manifest over the size limit is refused before it is read */
    snprintf(path, sizeof path, "%s/model.json", dir);
    assert_int_equal(truncate(path, (off_t)VI_MAX_MANIFEST_BYTES + 1), 0);
    assert_int_equal(vi_model_load(&m, dir, &err), VI_ERR_LIMIT);
    snprintf(want, sizeof want, "%s/model.json: 16777217 bytes exceeds the limit of 16777216 bytes",
             dir);
    assert_string_equal(err.msg, want);

    /* model.json is a directory */
    unlink(path);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(vi_model_load(&m, dir, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "model.json: not a regular file"));
    rmdir(path);

    assert_int_equal(vi_model_load(&m, "", &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "model directory path is empty");
    char longdir[5000];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = '\0';
    assert_int_equal(vi_model_load(&m, longdir, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "model directory path is 4999 bytes (at most 4095)");
    remove_model(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_parts),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
