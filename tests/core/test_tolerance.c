/* tests/core/test_tolerance.c — fast mode's claim (core/tolerance.c): mode
 * names and resolution, the depth rule on generated graphs and on
 * model.json's "mode" / "fast_tolerance" (with their errors), the receipt
 * text of a tolerance, and the element-wise comparison: the boundary, NaN,
 * infinities, integers, shapes and names, with the exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/manifest.h"
#include "core/model.h"
#include "core/order.h"
#include "core/tolerance.h"
#include "models/gen_model.h"
#include "test_util.h"

static void test_modes(void **state)
{
    (void)state;
    assert_string_equal(vi_mode_name(VI_MODE_EXACT), "exact");
    assert_string_equal(vi_mode_name(VI_MODE_FAST), "fast");
    assert_string_equal(vi_mode_name(VI_MODE_DEFAULT), "default");
    assert_int_equal(vi_mode_from_name("exact"), VI_MODE_EXACT);
    assert_int_equal(vi_mode_from_name("fast"), VI_MODE_FAST);
    assert_int_equal(vi_mode_from_name("Fast"), VI_MODE_DEFAULT);
    assert_int_equal(vi_mode_from_name(""), VI_MODE_DEFAULT);
    assert_int_equal(vi_mode_from_name(NULL), VI_MODE_DEFAULT);
    vi_graph g;
    memset(&g, 0, sizeof g);
    assert_int_equal(vi_mode_resolve(&g, VI_MODE_DEFAULT), VI_MODE_EXACT);
    assert_int_equal(vi_mode_resolve(&g, VI_MODE_FAST), VI_MODE_FAST);
    g.mode.fast = 1;
    assert_int_equal(vi_mode_resolve(&g, VI_MODE_DEFAULT), VI_MODE_FAST);
    assert_int_equal(vi_mode_resolve(&g, VI_MODE_EXACT), VI_MODE_EXACT);
}

/* Loads a generated model whose model.json gets `extra` top-level members. */
static vi_status load_with(const vi_gen_options *opt, const char *extra, vi_model *m, vi_error *err)
{
    char dir[512], path[700];
    vt_tmpdir("tolerance", dir, sizeof dir);
    if (vi_gen_model(opt, dir, err) != VI_OK)
        fail_msg("gen: %s", err->msg);
    snprintf(path, sizeof path, "%s/model.json", dir);
    char *mj = vt_read_file(path, NULL);
    assert_non_null(mj);
    size_t n = strlen(mj) + strlen(extra) + 8;
    char *nj = malloc(n);
    snprintf(nj, n, "{%s%s%s", extra, *extra ? "," : "", mj + 1);
    assert_int_equal(vt_write_file(path, nj, strlen(nj)), 0);
    free(nj);
    free(mj);
    return vi_model_load(m, dir, err);
}

static void test_depth_rule(void **state)
{
    (void)state;
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    vi_model m;
    vi_error err = {{0}};
    vi_tolerance t;
    static const int HIDDEN[] = {0, 1, 2, 5};
    for (size_t i = 0; i < sizeof HIDDEN / sizeof HIDDEN[0]; i++) {
        opt.n_hidden = HIDDEN[i];
        for (int k = 0; k < HIDDEN[i]; k++)
            opt.hidden[k] = 8 + k;
        assert_int_equal(load_with(&opt, "", &m, &err), VI_OK);
        assert_int_equal(vi_graph_gemm_depth(&m.graph), HIDDEN[i] + 1);
        vi_tolerance_of_model(&m.graph, &t);
        assert_true(t.rtol == (HIDDEN[i] + 1) * 0x1p-7 && t.atol == t.rtol);
        vi_model_free(&m);
    }
    /* all-ops: fc0 -> mm -> matmul(h10, h11) -> fc1 is the longest chain */
    vi_gen_options_default(&opt);
    opt.preset = VI_GEN_ALL_OPS;
    assert_int_equal(load_with(&opt, "", &m, &err), VI_OK);
    assert_int_equal(vi_graph_gemm_depth(&m.graph), 4);
    assert_int_equal(m.graph.mode.fast, 0);
    vi_model_free(&m);
    /* model.json overrides */
    vi_gen_options_default(&opt);
    assert_int_equal(load_with(&opt,
                               "\"mode\": \"fast\", \"fast_tolerance\": "
                               "{\"atol\": 0.5, \"rtol\": 1e-3}",
                               &m, &err),
                     VI_OK);
    assert_int_equal(m.graph.mode.fast, 1);
    vi_tolerance_of_model(&m.graph, &t);
    assert_true(t.rtol == 1e-3 && t.atol == 0.5);
    vi_model_free(&m);
    assert_int_equal(load_with(&opt, "\"mode\": \"exact\"", &m, &err), VI_OK);
    assert_int_equal(m.graph.mode.fast, 0);
    vi_model_free(&m);
    /* a graph without linear or matmul: fast mode is exact, tolerance 0 */
    vi_graph g;
    memset(&g, 0, sizeof g);
    vi_tolerance_of_model(&g, &t);
    assert_true(t.rtol == 0.0 && t.atol == 0.0);
}

static void test_manifest_mode_errors(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *msg;
    } CASES[] = {
        {"\"mode\": \"turbo\"", "\"mode\" must be \"exact\" or \"fast\""},
        {"\"mode\": 1", "\"mode\" must be \"exact\" or \"fast\""},
        {"\"fast_tolerance\": 0.1",
         "\"fast_tolerance\" must be an object {\"rtol\": ..., \"atol\": ...}"},
        {"\"fast_tolerance\": {\"rtol\": 0.1}", "\"fast_tolerance\".\"atol\" must be a finite "
                                                "number >= 0"},
        {"\"fast_tolerance\": {\"rtol\": -0.1, \"atol\": 0}",
         "\"fast_tolerance\".\"rtol\" must be a finite number >= 0"},
        {"\"fast_tolerance\": {\"rtol\": \"1\", \"atol\": 0}",
         "\"fast_tolerance\".\"rtol\" must be a finite number >= 0"},
        {"\"fast_tolerance\": {\"rtol\": 0, \"atol\": 0, \"ulps\": 2}",
         "\"fast_tolerance\": unknown key 'ulps' (allowed: rtol, atol)"},
    };
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        vi_model m;
        vi_error err = {{0}};
        vi_status st = load_with(&opt, CASES[i].extra, &m, &err);
        if (st != VI_ERR_INVALID || !strstr(err.msg, CASES[i].msg))
            fail_msg("case %zu: status %d, message '%s'", i, st, err.msg);
    }
}

static void test_text_form(void **state)
{
    (void)state;
    char buf[VI_TOL_TEXT_MAX];
    static const struct {
        double v;
        const char *text;
    } F[] = {{0.0, "0"},   {3 * 0x1p-7, "0.0234375"},         {1e-3, "0.001"},
             {0.1, "0.1"}, {1.0 / 3.0, "0.3333333333333333"}, {1e-30, "1e-30"},
             {5.0, "5"}};
    for (size_t i = 0; i < sizeof F / sizeof F[0]; i++) {
        vi_tolerance_format(F[i].v, buf);
        assert_string_equal(buf, F[i].text);
        double back = -1.0;
        vi_error err = {{0}};
        assert_int_equal(vi_tolerance_parse("k", buf, &back, &err), VI_OK);
        assert_true(back == F[i].v);
    }
    static const char *const BAD[] = {"", "-1", "nan", "inf", "1e999", "0.1x", " 1", "+1", "x"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        double v;
        vi_error err = {{0}};
        assert_int_equal(vi_tolerance_parse("tolerance_atol", BAD[i], &v, &err), VI_ERR_INVALID);
        char want[200];
        snprintf(want, sizeof want,
                 "receipt parameter 'tolerance_atol' must be a finite decimal number >= 0 "
                 "(got '%s')",
                 BAD[i]);
        assert_string_equal(err.msg, want);
    }
}

/* ==== comparison ==== */

static vi_tensor f32(const char *name, float *v, int64_t rows, int64_t cols)
{
    vi_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.dtype = VI_DT_FP32;
    t.ndim = 2;
    t.shape[0] = rows;
    t.shape[1] = cols;
    t.data = v;
    return t;
}

static void test_compare(void **state)
{
    (void)state;
    const vi_tolerance tol = {0.5, 0.25};
    vi_tol_report rep;
    vi_error err = {{0}};
    float inf = vi_bits_f32(0x7f800000u), nan = vi_bits_f32(0x7fc00000u);
    float ex[6] = {1.0f, -2.0f, 0.0f, inf, nan, 4.0f};
    /* 1 + 0.75 is the boundary |diff| = 0.25 + 0.5 * 1: inside */
    float cl[6] = {1.75f, -2.5f, 0.125f, inf, nan, 4.0f};
    vi_tensor c = f32("y", cl, 2, 3), x = f32("y", ex, 2, 3);
    assert_int_equal(vi_tolerance_compare(&tol, &c, 1, &x, 1, &rep, &err), VI_OK);
    assert_int_equal(rep.elements, 6);
    assert_true(rep.max_abs == 0.75);
    assert_true(rep.max_rel == 0.75);

    cl[0] = 1.75000012f; /* one ulp beyond */
    assert_int_equal(vi_tolerance_compare(&tol, &c, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "output 'y' element [0, 0] is 1.75000012 but exact re-execution "
                                 "gives 1: |diff| 0.750000119 > atol + rtol * |exact| = 0.75");
    cl[0] = 1.0f;
    cl[3] = -inf;
    assert_int_equal(vi_tolerance_compare(&tol, &c, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "output 'y' element [1, 0] is -inf but exact re-execution gives "
                                 "inf (NaN and infinities must match exactly)");
    cl[3] = 1e30f;
    assert_int_equal(vi_tolerance_compare(&tol, &c, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    cl[3] = inf;
    cl[4] = 0.0f;
    assert_int_equal(vi_tolerance_compare(&tol, &c, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "output 'y' element [1, 1] is 0 but exact re-execution gives "
                                 "nan (NaN and infinities must match exactly)");
    cl[4] = nan;
    ex[2] = nan;
    assert_int_equal(vi_tolerance_compare(&tol, &c, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "output 'y' element [0, 2] is 0.125 but exact re-execution "
                                 "gives nan (NaN and infinities must match exactly)");
    ex[2] = 0.0f;

    /* zero tolerance: equal values pass (-0 == +0), anything else fails */
    const vi_tolerance zero = {0.0, 0.0};
    memcpy(cl, ex, sizeof cl);
    cl[2] = -0.0f;
    assert_int_equal(vi_tolerance_compare(&zero, &c, 1, &x, 1, &rep, &err), VI_OK);
    assert_true(rep.max_abs == 0.0);

    /* integers: bit for bit */
    int64_t li[2] = {3, 1}, le[2] = {3, 2};
    vi_tensor ci = f32("label", NULL, 2, 1), xi = f32("label", NULL, 2, 1);
    ci.dtype = xi.dtype = VI_DT_INT64;
    ci.ndim = xi.ndim = 1;
    ci.data = li;
    xi.data = le;
    vi_tensor cs[2] = {c, ci}, xs[2] = {xi, x}; /* matched by name, in any order */
    assert_int_equal(vi_tolerance_compare(&tol, cs, 2, xs, 2, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "output 'label' element [1] is 1 but exact re-execution gives 2 "
                                 "(INT64 outputs must match exactly)");
    li[1] = 2;
    assert_int_equal(vi_tolerance_compare(&tol, cs, 2, xs, 2, &rep, &err), VI_OK);
    assert_int_equal(rep.elements, 8);

    /* structure */
    assert_int_equal(vi_tolerance_compare(&tol, cs, 1, xs, 2, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg, "the response has 1 output but exact re-execution gives 2");
    vi_tensor other = f32("z", cl, 2, 3);
    assert_int_equal(vi_tolerance_compare(&tol, &other, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg,
                        "output 'z' of the response is not an output of exact re-execution");
    vi_tensor wide = f32("y", cl, 3, 2);
    assert_int_equal(vi_tolerance_compare(&tol, &wide, 1, &x, 1, &rep, &err), VI_ERR_VERIFY);
    assert_string_equal(err.msg,
                        "output 'y' is FP32 [3, 2] in the response but FP32 [2, 3] in exact "
                        "re-execution");
    assert_int_equal(vi_tolerance_compare(NULL, &c, 1, &x, 1, &rep, &err), VI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_depth_rule),
        cmocka_unit_test(test_manifest_mode_errors),
        cmocka_unit_test(test_text_form),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
