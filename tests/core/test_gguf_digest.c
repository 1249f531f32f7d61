/* tests/core/test_gguf_digest.c — vi_gguf_digest_file commits to the file
 * that was opened: its head comes from the open image, not from re-reading
 * the path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "core/gguf_digest.h"
#include "test_util.h"

/* A one-tensor GGUF whose "test.value" is v (the same size whatever v is). */
static void build(uint32_t v, uint8_t **buf, size_t *size)
{
    vi_error err = {0};
    vi_gguf_writer *w = NULL;
    float data[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    int64_t ne[1] = {4};
    assert_int_equal(vi_gguf_writer_new(&w, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_set_u32(w, "test.value", v, &err), VI_OK);
    assert_int_equal(vi_gguf_writer_add_tensor(w, "t", VI_GGML_F32, 1, ne, data, sizeof data, &err),
                     VI_OK);
    assert_int_equal(vi_gguf_writer_to_memory(w, buf, size, &err), VI_OK);
    vi_gguf_writer_free(w);
}

static void test_digest_file_uses_opened_image(void **state)
{
    (void)state;
    char dir[512], path[640], other[640];
    vt_tmpdir("gguf_digest", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.gguf", dir);
    snprintf(other, sizeof other, "%s/n.gguf", dir);
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    build(1, &a, &na);
    build(2, &b, &nb);
    assert_int_equal(na, nb);
    assert_memory_not_equal(a, b, na);
    assert_int_equal(vt_write_file(path, a, na), 0);
    assert_int_equal(vt_write_file(other, b, nb), 0);

    vi_error err = {0};
    vi_gguf *g = NULL, *gm = NULL;
    assert_int_equal(vi_gguf_open(&g, path, &err), VI_OK);
    assert_int_equal(vi_gguf_open_memory(&gm, a, na, &err), VI_OK);
    uint8_t want[VI_SHA256_LEN], got[VI_SHA256_LEN];
    assert_int_equal(vi_gguf_digest(gm, a, vi_gguf_data_offset(gm), want, &err), VI_OK);

    /* the path now names a different file of the same head length */
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(vi_gguf_digest_file(g, path, got, &err), VI_OK);
    assert_memory_equal(got, want, VI_SHA256_LEN);

    vi_gguf_close(gm);
    vi_gguf_close(g);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_file_uses_opened_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
