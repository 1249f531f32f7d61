/* tests/server/test_metrics.c — the Prometheus text of the per-model
 * counters: exact rendering of a two-model fixture, label escaping, the
 * cumulative batch-size histogram and the request/pending accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/metrics.h"

static const char EXPECTED[] =
    "# HELP verinfer_inference_request_success Inference requests answered successfully\n"
    "# TYPE verinfer_inference_request_success counter\n"
    "verinfer_inference_request_success{model=\"mlp\",version=\"1\"} 2\n"
    "verinfer_inference_request_success{model=\"wide\",version=\"\"} 0\n"
    "# HELP verinfer_inference_request_failure Inference requests that failed, by reason\n"
    "# TYPE verinfer_inference_request_failure counter\n"
    "verinfer_inference_request_failure{model=\"mlp\",version=\"1\",reason=\"REJECTED\"} 1\n"
    "verinfer_inference_request_failure{model=\"mlp\",version=\"1\",reason=\"CANCELED\"} 0\n"
    "verinfer_inference_request_failure{model=\"mlp\",version=\"1\",reason=\"BACKEND\"} 0\n"
    "verinfer_inference_request_failure{model=\"mlp\",version=\"1\",reason=\"OTHER\"} 2\n"
    "verinfer_inference_request_failure{model=\"wide\",version=\"\",reason=\"REJECTED\"} 0\n"
    "verinfer_inference_request_failure{model=\"wide\",version=\"\",reason=\"CANCELED\"} 0\n"
    "verinfer_inference_request_failure{model=\"wide\",version=\"\",reason=\"BACKEND\"} 1\n"
    "verinfer_inference_request_failure{model=\"wide\",version=\"\",reason=\"OTHER\"} 0\n"
    "# HELP verinfer_inference_count Rows inferred (a request of n batch rows counts n)\n"
    "# TYPE verinfer_inference_count counter\n"
    "verinfer_inference_count{model=\"mlp\",version=\"1\"} 7\n"
    "verinfer_inference_count{model=\"wide\",version=\"\"} 600\n"
    "# HELP verinfer_inference_exec_count Engine executions (one per batch, however many "
    "requests it merged)\n"
    "# TYPE verinfer_inference_exec_count counter\n"
    "verinfer_inference_exec_count{model=\"mlp\",version=\"1\"} 2\n"
    "verinfer_inference_exec_count{model=\"wide\",version=\"\"} 1\n"
    "# HELP verinfer_inference_pending_request_count Requests received and not yet answered\n"
    "# TYPE verinfer_inference_pending_request_count gauge\n"
    "verinfer_inference_pending_request_count{model=\"mlp\",version=\"1\"} 1\n"
    "verinfer_inference_pending_request_count{model=\"wide\",version=\"\"} 0\n"
    "# HELP verinfer_inference_request_duration_us Cumulative end-to-end duration of "
    "successful requests in microseconds\n"
    "# TYPE verinfer_inference_request_duration_us counter\n"
    "verinfer_inference_request_duration_us{model=\"mlp\",version=\"1\"} 350\n"
    "verinfer_inference_request_duration_us{model=\"wide\",version=\"\"} 0\n"
    "# HELP verinfer_inference_queue_duration_us Cumulative time requests waited in the batch "
    "queue in microseconds\n"
    "# TYPE verinfer_inference_queue_duration_us counter\n"
    "verinfer_inference_queue_duration_us{model=\"mlp\",version=\"1\"} 30\n"
    "verinfer_inference_queue_duration_us{model=\"wide\",version=\"\"} 5\n"
    "# HELP verinfer_inference_compute_input_duration_us Cumulative input gathering time in "
    "microseconds (included in compute_infer, so 0)\n"
    "# TYPE verinfer_inference_compute_input_duration_us counter\n"
    "verinfer_inference_compute_input_duration_us{model=\"mlp\",version=\"1\"} 3\n"
    "verinfer_inference_compute_input_duration_us{model=\"wide\",version=\"\"} 6\n"
    "# HELP verinfer_inference_compute_infer_duration_us Cumulative batch execution time in "
    "microseconds, counted once per execution\n"
    "# TYPE verinfer_inference_compute_infer_duration_us counter\n"
    "verinfer_inference_compute_infer_duration_us{model=\"mlp\",version=\"1\"} 300\n"
    "verinfer_inference_compute_infer_duration_us{model=\"wide\",version=\"\"} 7\n"
    "# HELP verinfer_inference_compute_output_duration_us Cumulative output splitting time in "
    "microseconds (included in compute_infer, so 0)\n"
    "# TYPE verinfer_inference_compute_output_duration_us counter\n"
    "verinfer_inference_compute_output_duration_us{model=\"mlp\",version=\"1\"} 3000\n"
    "verinfer_inference_compute_output_duration_us{model=\"wide\",version=\"\"} 8\n"
    "# HELP verinfer_inference_batch_size Rows per engine execution\n"
    "# TYPE verinfer_inference_batch_size histogram\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"1\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"2\"} 1\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"4\"} 1\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"8\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"16\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"32\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"64\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"128\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"256\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"512\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"mlp\",version=\"1\",le=\"+Inf\"} 2\n"
    "verinfer_inference_batch_size_sum{model=\"mlp\",version=\"1\"} 7\n"
    "verinfer_inference_batch_size_count{model=\"mlp\",version=\"1\"} 2\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"1\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"2\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"4\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"8\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"16\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"32\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"64\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"128\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"256\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"512\"} 0\n"
    "verinfer_inference_batch_size_bucket{model=\"wide\",version=\"\",le=\"+Inf\"} 1\n"
    "verinfer_inference_batch_size_sum{model=\"wide\",version=\"\"} 600\n"
    "verinfer_inference_batch_size_count{model=\"wide\",version=\"\"} 1\n";

static void test_render_two_models_exactly(void **state)
{
    (void)state;
    vi_model_metrics a, b;
    vi_metrics_init(&a);
    vi_metrics_init(&b);
    for (int i = 0; i < 6; i++)
        vi_metrics_request_received(&a);
    vi_metrics_request_done(&a, 1, VI_FAIL_OTHER, 100);
    vi_metrics_request_done(&a, 1, VI_FAIL_REJECTED, 250); /* reason ignored when ok */
    vi_metrics_request_done(&a, 0, VI_FAIL_REJECTED, 999); /* duration ignored when failed */
    vi_metrics_request_done(&a, 0, VI_FAIL_OTHER, 1);
    vi_metrics_request_done(&a, 0, (vi_fail_reason)42, 1); /* out of range: OTHER */
    vi_metrics_execution(&a, 2, 1, 10, 1, 100, 1000);
    vi_metrics_execution(&a, 5, 3, 20, 2, 200, 2000);
    vi_metrics_request_received(&b);
    vi_metrics_request_done(&b, 0, VI_FAIL_BACKEND, 5);
    vi_metrics_execution(&b, 600, 9, 5, 6, 7, 8);

    const vi_model_metrics *models[] = {&a, &b};
    const char *names[] = {"mlp", "wide"};
    const char *versions[] = {"1", ""};
    char *text = vi_metrics_render(models, names, versions, 2);
    assert_non_null(text);
    assert_string_equal(text, EXPECTED);
    free(text);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    vi_model_metrics m;
    vi_metrics_init(&m);
    vi_metrics_request_done(&m, 1, VI_FAIL_OTHER, 3);
    const vi_model_metrics *models[] = {&m};
    const char *names[] = {"a\\b\"c\nd"};
    const char *versions[] = {"v\"2"};
    char *text = vi_metrics_render(models, names, versions, 1);
    assert_non_null(text);
    assert_non_null(strstr(text, "verinfer_inference_request_success{model=\"a\\\\b\\\"c\\nd\","
                                 "version=\"v\\\"2\"} 1\n"));
    /* no raw newline may appear inside a sample line: every line is a
     * comment or starts with the series prefix */
    for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
        assert_true(line[0] == '#' || strncmp(line, "verinfer_inference_", 19) == 0);
        assert_non_null(strchr(line, '\n'));
    }
    free(text);
}

static void test_histogram_is_cumulative(void **state)
{
    (void)state;
    vi_model_metrics m;
    vi_metrics_init(&m);
    /* rows -> bucket: 1->le1, 2->le2, 3->le4, 4->le4, 9->le16, 512->le512, 513->+Inf */
    const int64_t rows[] = {1, 2, 3, 4, 9, 512, 513, 0};
    int64_t sum = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        vi_metrics_execution(&m, rows[i], 1, 0, 0, 0, 0);
        sum += rows[i];
    }
    assert_int_equal(atomic_load(&m.batch_rows_bucket[0]), 2); /* 0 and 1 */
    assert_int_equal(atomic_load(&m.batch_rows_bucket[2]), 2);
    assert_int_equal(atomic_load(&m.batch_rows_bucket[9]), 1);
    assert_int_equal(atomic_load(&m.batch_rows_bucket[10]), 1);
    assert_int_equal(atomic_load(&m.inference_count), (unsigned long long)sum);
    const vi_model_metrics *models[] = {&m};
    const char *names[] = {"h"};
    char *text = vi_metrics_render(models, names, NULL, 1);
    assert_non_null(text);
    static const char *const want[] = {
        "_bucket{model=\"h\",version=\"\",le=\"1\"} 2\n",
        "_bucket{model=\"h\",version=\"\",le=\"2\"} 3\n",
        "_bucket{model=\"h\",version=\"\",le=\"4\"} 5\n",
        "_bucket{model=\"h\",version=\"\",le=\"8\"} 5\n",
        "_bucket{model=\"h\",version=\"\",le=\"16\"} 6\n",
        "_bucket{model=\"h\",version=\"\",le=\"256\"} 6\n",
        "_bucket{model=\"h\",version=\"\",le=\"512\"} 7\n",
        "_bucket{model=\"h\",version=\"\",le=\"+Inf\"} 8\n",
        "_sum{model=\"h\",version=\"\"} 1044\n",
        "_count{model=\"h\",version=\"\"} 8\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[160];
        snprintf(line, sizeof line, "verinfer_inference_batch_size%s", want[i]);
        if (!strstr(text, line))
            fail_msg("missing line: %s", line);
    }
    free(text);
}

static void test_no_models_renders_headers_only(void **state)
{
    (void)state;
    char *text = vi_metrics_render(NULL, NULL, NULL, 0);
    assert_non_null(text);
    int lines = 0;
    for (const char *p = text; *p; p++)
        if (*p == '\n')
            lines++;
    assert_int_equal(lines, 2 * 11); /* HELP + TYPE of 11 series */
    assert_null(strstr(text, "{"));
    free(text);
}

/* The escape used for every label value, also the language models' names. */
static void test_label_escape_function(void **state)
{
    (void)state;
    char out[64];
    vi_metrics_label_escape("a\"b\\c\nd", out, sizeof out);
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
    vi_metrics_label_escape(NULL, out, sizeof out);
    assert_string_equal(out, "");
    vi_metrics_label_escape("\"\"\"", out, 5); /* room for two escapes, never half of one */
    assert_string_equal(out, "\\\"\\\"");
    vi_metrics_label_escape("abc", out, 3); /* stops where an escape could not fit */
    assert_string_equal(out, "a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_two_models_exactly),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_label_escape_function),
        cmocka_unit_test(test_histogram_is_cumulative),
        cmocka_unit_test(test_no_models_renders_headers_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
