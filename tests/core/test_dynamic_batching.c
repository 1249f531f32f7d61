/* tests/core/test_dynamic_batching.c — the optional "dynamic_batching"
 * object of model.json: parsed values, defaults, and every refusal with its
 * exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/manifest.h"

/* A weightless model (relu) with `extra` spliced in as top-level keys. */
static vi_status parse(const char *extra, vi_graph *g, vi_error *err)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "{\"format\":\"verinfer-model\",\"format_version\":1,\"name\":\"t\",%s"
                     "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],"
                     "\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],"
                     "\"graph\":[{\"op\":\"relu\",\"inputs\":[\"x\"],\"outputs\":[\"y\"]}]}",
                     extra);
    return vi_manifest_parse(text, (size_t)n, NULL, g, err);
}

static void test_absent_is_zero(void **state)
{
    (void)state;
    vi_graph g;
    vi_error err = {{0}};
    assert_int_equal(parse("", &g, &err), VI_OK);
    assert_int_equal(g.dynamic_batching.present, 0);
    assert_int_equal(g.dynamic_batching.max_queue_delay_us, 0);
    assert_int_equal(g.dynamic_batching.n_preferred, 0);
    assert_int_equal(g.dynamic_batching.max_queue_size, 0);
    vi_graph_free(&g);
}

static void test_values(void **state)
{
    (void)state;
    vi_graph g;
    vi_error err = {{0}};
    assert_int_equal(parse("\"max_batch_size\":16,\"dynamic_batching\":{\"max_queue_delay_us\":"
                           "3600000000,\"preferred_batch_size\":[1,4,16],\"max_queue_size\":"
                           "2147483647},",
                           &g, &err),
                     VI_OK);
    assert_int_equal(g.max_batch_size, 16);
    assert_int_equal(g.dynamic_batching.present, 1);
    assert_int_equal(g.dynamic_batching.max_queue_delay_us, 3600000000ll);
    assert_int_equal(g.dynamic_batching.n_preferred, 3);
    assert_int_equal(g.dynamic_batching.preferred[0], 1);
    assert_int_equal(g.dynamic_batching.preferred[1], 4);
    assert_int_equal(g.dynamic_batching.preferred[2], 16);
    assert_int_equal(g.dynamic_batching.max_queue_size, 2147483647);
    vi_graph_free(&g);

    assert_int_equal(parse("\"dynamic_batching\":{},", &g, &err), VI_OK);
    assert_int_equal(g.dynamic_batching.present, 1);
    assert_int_equal(g.dynamic_batching.n_preferred, 0);
    vi_graph_free(&g);
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *msg;
    } CASES[] = {
        {"\"dynamic_batching\":[],", "\"dynamic_batching\" must be an object"},
        {"\"dynamic_batching\":{\"delay\":1},",
         "\"dynamic_batching\": unknown key 'delay' (allowed: max_queue_delay_us, "
         "preferred_batch_size, max_queue_size)"},
        {"\"dynamic_batching\":{\"max_queue_delay_us\":-1},",
         "\"dynamic_batching\".\"max_queue_delay_us\" must be an integer from 0 to 3600000000"},
        {"\"dynamic_batching\":{\"max_queue_delay_us\":3600000001},",
         "\"dynamic_batching\".\"max_queue_delay_us\" must be an integer from 0 to 3600000000"},
        {"\"dynamic_batching\":{\"max_queue_size\":1.5},",
         "\"dynamic_batching\".\"max_queue_size\" must be an integer from 0 to 2147483647"},
        {"\"dynamic_batching\":{\"preferred_batch_size\":4},",
         "\"dynamic_batching\".\"preferred_batch_size\" must be an array of at most 8 integers"},
        {"\"dynamic_batching\":{\"preferred_batch_size\":[1,2,3,4,5,6,7,8,9]},",
         "\"dynamic_batching\".\"preferred_batch_size\" must be an array of at most 8 integers"},
        {"\"dynamic_batching\":{\"preferred_batch_size\":[0]},",
         "\"dynamic_batching\".\"preferred_batch_size\"[0] must be an integer from 1 to "
         "2147483647, greater than the one before it"},
        {"\"dynamic_batching\":{\"preferred_batch_size\":[4,4]},",
         "\"dynamic_batching\".\"preferred_batch_size\"[1] must be an integer from 5 to "
         "2147483647, greater than the one before it"},
        {"\"dynamic_batching\":{\"preferred_batch_size\":[2,\"8\"]},",
         "\"dynamic_batching\".\"preferred_batch_size\"[1] must be an integer from 3 to "
         "2147483647, greater than the one before it"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        vi_graph g;
        vi_error err = {{0}};
        assert_int_equal(parse(CASES[i].extra, &g, &err), VI_ERR_INVALID);
        assert_string_equal(err.msg, CASES[i].msg);
        assert_null(g.nodes); /* left zeroed */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_is_zero),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
