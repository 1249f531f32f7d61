/* tests/server/test_infer.c — batched inference as the server runs it:
 * random requests (random row counts) merged into one engine call in random
 * groupings must each get exactly the outputs and output digest of running
 * that request alone; a bad request is rejected before it joins a batch.
 * Fast mode: exact and fast requests of one batch run as separate engine
 * calls on their own engines, with receipts saying which mode and engine and
 * which tolerance; verification checks a fast receipt within its tolerance
 * (naming the first element outside it) and an exact one bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/digest.h"
#include "core/hex.h"
#include "core/order.h"
#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "server/infer.h"
#include "server/receipt_json.h"
#include "test_util.h"

#define N_REQ 24

static char *random_request(vt_rng *rng, int n_features, int rows, int id)
{
    size_t cap = 64 + (size_t)rows * (size_t)n_features * 24;
    char *s = malloc(cap);
    size_t u =
        (size_t)snprintf(s, cap,
                         "{\"id\":\"r%d\",\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\","
                         "\"shape\":[%d,%d],\"data\":[",
                         id, rows, n_features);
    for (int i = 0; i < rows * n_features; i++)
        u += (size_t)snprintf(s + u, cap - u, "%s%.9g", i ? "," : "", vt_uniform(rng, -4, 4));
    snprintf(s + u, cap - u, "]}]}");
    return s;
}

static void test_batches_equal_solo_runs(void **state)
{
    (void)state;
    char dir[512];
    vt_tmpdir("infer", dir, sizeof dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.n_inputs = 37;
    opt.hidden[0] = 129;
    opt.hidden[1] = 300;
    opt.n_classes = 7;
    opt.activation = VI_GEN_ACT_GELU;
    vi_error err = {{0}};
    assert_int_equal(vi_gen_model(&opt, dir, &err), VI_OK);
    vi_model m;
    assert_int_equal(vi_model_load(&m, dir, &err), VI_OK);
    vi_backend *b = vi_cpu_backend_create(2, VI_ISA_AUTO, &err);
    vi_engine e;
    vi_infer_model im;
    assert_int_equal(vi_engine_init(&e, &m, b, &err), VI_OK);
    assert_int_equal(vi_infer_model_init(&im, &m, &e, &err), VI_OK);

    vt_rng rng = {77};
    vi_kserve_request req[N_REQ];
    vi_infer_result solo[N_REQ];
    for (int r = 0; r < N_REQ; r++) {
        char *json = random_request(&rng, 37, (int)vt_range(&rng, 1, 9), r);
        assert_int_equal(vi_kserve_parse_request(json, strlen(json), NULL, 0, NULL, &req[r], &err),
                         VI_OK);
        free(json);
        assert_int_equal(vi_infer_run(&im, &req[r], NULL, 0, &solo[r], &err), VI_OK);
    }
    for (int round = 0; round < 6; round++) {
        /* random grouping of all requests into batches */
        int order[N_REQ];
        for (int r = 0; r < N_REQ; r++)
            order[r] = r;
        for (int r = N_REQ - 1; r > 0; r--) {
            int k = (int)vt_range(&rng, 0, r), t = order[r];
            order[r] = order[k];
            order[k] = t;
        }
        for (int start = 0; start < N_REQ;) {
            int n = (int)vt_range(&rng, 1, 8);
            if (start + n > N_REQ)
                n = N_REQ - start;
            vi_infer_job jobs[8];
            vi_infer_job *ptrs[8];
            for (int j = 0; j < n; j++) {
                assert_int_equal(vi_infer_prepare(&im, &req[order[start + j]], &jobs[j], &err),
                                 VI_OK);
                ptrs[j] = &jobs[j];
            }
            assert_int_equal(vi_infer_run_batch(&im, ptrs, n, NULL, 0, &err), VI_OK);
            for (int j = 0; j < n; j++) {
                const vi_infer_result *a = &jobs[j].res, *s = &solo[order[start + j]];
                assert_int_equal(jobs[j].status, VI_OK);
                assert_int_equal(a->n_outputs, s->n_outputs);
                for (int o = 0; o < a->n_outputs; o++) {
                    size_t bytes = (size_t)vi_tensor_numel(&s->outputs[o]) *
                                   vi_dtype_size(s->outputs[o].dtype);
                    assert_int_equal(a->outputs[o].shape[0], s->outputs[o].shape[0]);
                    assert_memory_equal(a->outputs[o].data, s->outputs[o].data, bytes);
                }
                assert_memory_equal(a->receipt.output_digest, s->receipt.output_digest, 32);
                assert_memory_equal(a->receipt.input_digest, s->receipt.input_digest, 32);
                vi_infer_job_free(&jobs[j]);
            }
            start += n;
        }
    }
    /* a request with the wrong shape fails in prepare, alone */
    const char *bad = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3],"
                      "\"data\":[1,2,3]}]}";
    vi_kserve_request breq;
    assert_int_equal(vi_kserve_parse_request(bad, strlen(bad), NULL, 0, NULL, &breq, &err), VI_OK);
    vi_infer_job bj;
    assert_int_equal(vi_infer_prepare(&im, &breq, &bj, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "input"));
    vi_kserve_request_free(&breq);

    for (int r = 0; r < N_REQ; r++) {
        vi_infer_result_free(&solo[r]);
        vi_kserve_request_free(&req[r]);
    }
    vi_engine_free(&e);
    b->destroy(b);
    vi_model_free(&m);
}

/* ==== fast mode ==== */

/* Two views of one CPU backend with their own names, recording the rows of
 * every linear call, so a test sees which engine ran which rows. */
typedef struct {
    vi_backend b;     /* a copy of the CPU backend's table, renamed */
    int64_t rows[64]; /* M of each linear call */
    int n;
} spy_backend;

static vi_status (*cpu_linear)(vi_backend *, const void *, const float *, int64_t, float *);
static spy_backend SPY[2];

static vi_status spy_linear(vi_backend *b, const void *prep, const float *x, int64_t M, float *y)
{
    spy_backend *s = (spy_backend *)b;
    if (s->n < 64)
        s->rows[s->n++] = M;
    return cpu_linear(b, prep, x, M, y);
}

typedef struct {
    char dir[512];
    vi_model m;
    vi_backend *cpu;
    vi_engine exact, fast;
    vi_infer_model im;
} fast_fixture;

static fast_fixture FF;

static int fast_setup(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vt_tmpdir("infer-fast", FF.dir, sizeof FF.dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt); /* mlp 16-64-64-4: three linears */
    if (vi_gen_model(&opt, FF.dir, &err) != VI_OK || vi_model_load(&FF.m, FF.dir, &err) != VI_OK)
        return -1;
    FF.cpu = vi_cpu_backend_create(1, VI_ISA_AUTO, &err);
    if (!FF.cpu)
        return -1;
    cpu_linear = FF.cpu->linear;
    static const char *const NAMES[2] = {"cpu", "test-fast"};
    for (int i = 0; i < 2; i++) {
        SPY[i].b = *FF.cpu;
        SPY[i].b.name = NAMES[i];
        SPY[i].b.linear = spy_linear;
    }
    if (vi_engine_init(&FF.exact, &FF.m, &SPY[0].b, &err) != VI_OK ||
        vi_engine_init(&FF.fast, &FF.m, &SPY[1].b, &err) != VI_OK ||
        vi_infer_model_init(&FF.im, &FF.m, &FF.exact, &err) != VI_OK)
        return -1;
    vi_infer_model_set_fast(&FF.im, &FF.fast);
    return 0;
}

static int fast_teardown(void **state)
{
    (void)state;
    vi_engine_free(&FF.fast);
    vi_engine_free(&FF.exact);
    FF.cpu->destroy(FF.cpu);
    vi_model_free(&FF.m);
    return 0;
}

/* A request of `rows` rows of the 16-input mlp; mode NULL: no parameter. */
static void make_request(vt_rng *rng, int rows, const char *mode, vi_kserve_request *req)
{
    char params[96] = "";
    if (mode)
        snprintf(params, sizeof params, "\"parameters\":{\"verinfer_mode\":\"%s\"},", mode);
    char *body = random_request(rng, 16, rows, rows);
    size_t n = strlen(body) + sizeof params;
    char *full = malloc(n);
    snprintf(full, n, "{%s%s", params, body + 1);
    vi_error err = {{0}};
    vi_status st = vi_kserve_parse_request(full, strlen(full), NULL, 0, NULL, req, &err);
    if (st != VI_OK)
        fail_msg("%s: %s", full, err.msg);
    free(full);
    free(body);
}

static const char *param(const vi_receipt *r, const char *key)
{
    for (int i = 0; i < r->n_params; i++)
        if (strcmp(r->params[i].key, key) == 0)
            return r->params[i].value;
    return NULL;
}

static void test_modes_run_apart(void **state)
{
    (void)state;
    vt_rng rng = {991};
    static const char *const MODES[4] = {NULL, "fast", "exact", "fast"};
    static const int ROWS[4] = {2, 3, 1, 4};
    vi_kserve_request req[4];
    vi_infer_job jobs[4];
    vi_infer_job *ptrs[4];
    vi_error err = {{0}};
    for (int i = 0; i < 4; i++) {
        make_request(&rng, ROWS[i], MODES[i], &req[i]);
        assert_int_equal(vi_infer_prepare(&FF.im, &req[i], &jobs[i], &err), VI_OK);
        assert_int_equal(jobs[i].mode,
                         MODES[i] && !strcmp(MODES[i], "fast") ? VI_MODE_FAST : VI_MODE_EXACT);
        ptrs[i] = &jobs[i];
    }
    SPY[0].n = SPY[1].n = 0;
    assert_int_equal(vi_infer_run_batch(&FF.im, ptrs, 4, NULL, 0, &err), VI_OK);
    /* one execution per mode: 3 exact rows on the exact engine, 7 fast rows on the fast one */
    assert_int_equal(SPY[0].n, 3);
    assert_int_equal(SPY[1].n, 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(SPY[0].rows[k], 3);
        assert_int_equal(SPY[1].rows[k], 7);
    }
    for (int i = 0; i < 4; i++) {
        const vi_receipt *r = &jobs[i].res.receipt;
        int fast = i % 2;
        assert_int_equal(jobs[i].status, VI_OK);
        assert_string_equal(r->mode, fast ? "fast" : "exact");
        assert_non_null(strstr(r->engine_id, fast ? " backend/test-fast" : " backend/cpu"));
        if (fast) {
            assert_string_equal(param(r, "tolerance_rtol"), "0.0234375");
            assert_string_equal(param(r, "tolerance_atol"), "0.0234375");
        } else {
            assert_null(param(r, "tolerance_rtol"));
            assert_int_equal(r->n_params, 0);
        }
        /* both engines run the exact CPU kernels here: the same bits as alone */
        vi_infer_result solo;
        assert_int_equal(vi_infer_run(&FF.im, &req[i], NULL, 0, &solo, &err), VI_OK);
        assert_memory_equal(solo.receipt.output_digest, r->output_digest, 32);
        assert_string_equal(solo.receipt.mode, r->mode);
        vi_infer_result_free(&solo);
        vi_infer_job_free(&jobs[i]);
        vi_kserve_request_free(&req[i]);
    }
    /* model.json "mode": "fast" makes fast the default; a request may still ask for exact */
    FF.m.graph.mode.fast = 1;
    make_request(&rng, 1, NULL, &req[0]);
    make_request(&rng, 1, "exact", &req[1]);
    assert_int_equal(vi_infer_prepare(&FF.im, &req[0], &jobs[0], &err), VI_OK);
    assert_int_equal(vi_infer_prepare(&FF.im, &req[1], &jobs[1], &err), VI_OK);
    assert_int_equal(jobs[0].mode, VI_MODE_FAST);
    assert_int_equal(jobs[1].mode, VI_MODE_EXACT);
    FF.m.graph.mode.fast = 0;
    for (int i = 0; i < 2; i++) {
        vi_infer_job_free(&jobs[i]);
        vi_kserve_request_free(&req[i]);
    }
    /* a bad mode is the request's error */
    const char *bad = "{\"parameters\":{\"verinfer_mode\":\"turbo\"},\"inputs\":[]}";
    assert_int_equal(vi_kserve_parse_request(bad, strlen(bad), NULL, 0, NULL, &req[0], &err),
                     VI_ERR_INVALID);
    assert_string_equal(err.msg, "parameters.verinfer_mode must be \"exact\" or \"fast\" (got "
                                 "\"turbo\")");
    bad = "{\"parameters\":{\"verinfer_mode\":1},\"inputs\":[]}";
    assert_int_equal(vi_kserve_parse_request(bad, strlen(bad), NULL, 0, NULL, &req[0], &err),
                     VI_ERR_INVALID);
    assert_string_equal(err.msg, "parameters.verinfer_mode must be \"exact\" or \"fast\"");
}

/* ==== verification of fast and exact receipts ==== */

typedef struct {
    vi_kserve_request req;
    vi_infer_result res; /* the claimed answer: outputs and receipt */
} claim;

static void claim_make(claim *c, const char *mode)
{
    vt_rng rng = {4711};
    vi_error err = {{0}};
    make_request(&rng, 2, mode, &c->req);
    assert_int_equal(vi_infer_run(&FF.im, &c->req, NULL, 0, &c->res, &err), VI_OK);
    assert_string_equal(c->res.receipt.mode, mode);
}

static void claim_free(claim *c)
{
    vi_infer_result_free(&c->res);
    vi_kserve_request_free(&c->req);
}

/* Recommits the receipt to the (changed) outputs and reseals it unsigned. */
static void reseal(claim *c)
{
    vi_error err = {{0}};
    assert_int_equal(vi_tensors_digest("outputs", c->res.outputs, c->res.n_outputs,
                                       c->res.receipt.output_digest, &err),
                     VI_OK);
    assert_int_equal(vi_receipt_seal(&c->res.receipt, NULL, &err), VI_OK);
}

/* Verifies the claim (with_outputs 0: the receipt alone). */
static vi_verify_report verify(claim *c, int with_outputs)
{
    vi_kserve_response resp;
    memset(&resp, 0, sizeof resp);
    resp.outputs = with_outputs ? c->res.outputs : NULL;
    resp.n_outputs = with_outputs ? c->res.n_outputs : 0;
    resp.receipt = vi_receipt_to_json(&c->res.receipt);
    assert_non_null(resp.receipt);
    vi_verify_report rep;
    vi_error err = {{0}};
    assert_int_equal(vi_infer_verify(&FF.im, &c->req, &resp, NULL, 1, &rep, &err), VI_OK);
    json_decref(resp.receipt);
    return rep;
}

static float *probs(claim *c)
{
    assert_string_equal(c->res.outputs[0].name, "probabilities");
    return c->res.outputs[0].data;
}

static void test_verify_fast_within_tolerance(void **state)
{
    (void)state;
    claim c;
    claim_make(&c, "fast");
    vi_verify_report rep = verify(&c, 1);
    assert_true(rep.verified);
    assert_int_equal(rep.mode, VI_MODE_FAST);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "fast mode: outputs within rtol=0.0234375 atol=0.0234375 of exact "
                        "re-execution, max abs diff 0, max rel diff 0");
    /* the receipt alone: only the bits can be compared, and they are exact here */
    rep = verify(&c, 0);
    assert_true(rep.ok[VI_CHECK_OUTPUT]);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "fast mode: exact re-execution gives the committed outputs bit for bit");

    /* an output moved by 0.01 (inside atol 0.0234375) and committed: verified */
    float *p = probs(&c);
    float old = p[1];
    p[1] = old + 0.01f;
    reseal(&c);
    rep = verify(&c, 1);
    assert_true(rep.verified);
    char want[640];
    snprintf(want, sizeof want, "max abs diff %.3g, max rel diff %.3g", (double)p[1] - (double)old,
             ((double)p[1] - (double)old) / (double)old);
    assert_non_null(strstr(rep.detail[VI_CHECK_OUTPUT], want));
    /* the same outputs with the receipt alone cannot be checked within a tolerance */
    rep = verify(&c, 0);
    assert_false(rep.ok[VI_CHECK_OUTPUT]);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "fast mode: the committed outputs are not exact re-execution's bits, and "
                        "a receipt alone cannot be checked within a tolerance: give the response "
                        "with its outputs");

    /* within the tolerance but not what the receipt commits to: the digest check fails */
    p[1] = old + 0.005f;
    rep = verify(&c, 1);
    assert_false(rep.verified);
    assert_true(rep.ok[VI_CHECK_OUTPUT]);
    assert_false(rep.ok[VI_CHECK_OUTPUT_DATA]);
    assert_non_null(strstr(rep.detail[VI_CHECK_OUTPUT_DATA], "receipt says "));
    assert_non_null(
        strstr(rep.detail[VI_CHECK_OUTPUT_DATA], " but the digest of the response's outputs is "));
    claim_free(&c);
}

static void test_verify_fast_outside_tolerance(void **state)
{
    (void)state;
    claim c;
    claim_make(&c, "fast");
    float *p = probs(&c);
    double exact = p[4 + 2]; /* row 1, class 2 */
    p[4 + 2] = (float)(exact + 0.25);
    reseal(&c);
    vi_verify_report rep = verify(&c, 1);
    assert_false(rep.verified);
    assert_true(rep.ok[VI_CHECK_OUTPUT_DATA]); /* the receipt commits to these outputs */
    assert_false(rep.ok[VI_CHECK_OUTPUT]);
    char want[640];
    double claimed = p[4 + 2], diff = claimed - exact;
    snprintf(want, sizeof want,
             "fast mode (rtol=0.0234375 atol=0.0234375): output 'probabilities' element [1, 2] "
             "is %.9g but exact re-execution gives %.9g: |diff| %.9g > atol + rtol * |exact| = "
             "%.9g",
             claimed, exact, diff, 0.0234375 + 0.0234375 * exact);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT], want);
    p[4 + 2] = (float)exact;

    /* integer outputs must match exactly */
    int64_t *label = c.res.outputs[1].data;
    int64_t was = label[0];
    label[0] = (was + 1) % 4;
    reseal(&c);
    rep = verify(&c, 1);
    assert_false(rep.ok[VI_CHECK_OUTPUT]);
    snprintf(want, sizeof want,
             "fast mode (rtol=0.0234375 atol=0.0234375): output 'label' element [0] is %lld but "
             "exact re-execution gives %lld (INT64 outputs must match exactly)",
             (long long)label[0], (long long)was);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT], want);
    label[0] = was;

    /* NaN must match NaN */
    float keep = p[0];
    p[0] = vi_bits_f32(0x7fc00000u);
    reseal(&c);
    rep = verify(&c, 1);
    assert_false(rep.ok[VI_CHECK_OUTPUT]);
    assert_non_null(strstr(rep.detail[VI_CHECK_OUTPUT],
                           "output 'probabilities' element [0, 0] is nan but exact "
                           "re-execution gives "));
    assert_non_null(strstr(rep.detail[VI_CHECK_OUTPUT], "(NaN and infinities must match exactly)"));
    p[0] = keep;
    reseal(&c);
    assert_true(verify(&c, 1).verified);
    claim_free(&c);
}

static void test_verify_fast_claims(void **state)
{
    (void)state;
    vi_error err = {{0}};
    claim c;
    claim_make(&c, "fast");
    /* a looser tolerance than the model's depth rule allows */
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_rtol", "0.5", &err), VI_OK);
    reseal(&c);
    vi_verify_report rep = verify(&c, 1);
    assert_false(rep.verified);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "fast mode: the receipt claims rtol=0.5 atol=0.0234375 but model 'mlp' "
                        "allows at most rtol=0.0234375 atol=0.0234375");
    /* a tighter one is checked as claimed */
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_rtol", "0", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_atol", "1e-30", &err), VI_OK);
    reseal(&c);
    rep = verify(&c, 1);
    assert_true(rep.verified);
    assert_non_null(strstr(rep.detail[VI_CHECK_OUTPUT], "within rtol=0 atol=1e-30 of exact"));
    /* not a number */
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_atol", "0x1p-7", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_rtol", "-1", &err), VI_OK);
    reseal(&c);
    rep = verify(&c, 1);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "fast mode: receipt parameter 'tolerance_rtol' must be a finite decimal "
                        "number >= 0 (got '-1')");
    /* no tolerance at all */
    c.res.receipt.n_params = 0;
    memset(c.res.receipt.params, 0, sizeof c.res.receipt.params);
    reseal(&c);
    rep = verify(&c, 1);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "fast mode: a fast-mode receipt must state its tolerance in the "
                        "parameters 'tolerance_rtol' and 'tolerance_atol'");
    /* a mode nobody knows */
    assert_int_equal(vi_receipt_set_string(&c.res.receipt, "mode", "turbo", &err), VI_OK);
    reseal(&c);
    rep = verify(&c, 1);
    assert_int_equal(rep.mode, VI_MODE_DEFAULT);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT],
                        "unknown receipt mode 'turbo' (exact or fast)");
    claim_free(&c);
}

static void test_verify_exact_is_bit_for_bit(void **state)
{
    (void)state;
    claim c;
    claim_make(&c, "exact");
    vi_verify_report rep = verify(&c, 1);
    assert_true(rep.verified);
    assert_int_equal(rep.mode, VI_MODE_EXACT);
    uint8_t exact_digest[32];
    memcpy(exact_digest, c.res.receipt.output_digest, 32);
    /* one output off by one ulp, committed and resealed: the exact claim fails */
    float *p = probs(&c);
    p[3] = vi_bits_f32(vi_f32_bits(p[3]) + 1);
    reseal(&c);
    rep = verify(&c, 1);
    assert_false(rep.verified);
    assert_true(rep.ok[VI_CHECK_OUTPUT_DATA]);
    assert_false(rep.ok[VI_CHECK_OUTPUT]);
    char hc[65], he[65], want[640];
    vi_hex_encode(c.res.receipt.output_digest, 32, hc);
    vi_hex_encode(exact_digest, 32, he);
    snprintf(want, sizeof want, "receipt says %s but the re-executed output digest is %s", hc, he);
    assert_string_equal(rep.detail[VI_CHECK_OUTPUT], want);
    /* the same outputs claimed in fast mode are within its tolerance */
    vi_error err = {{0}};
    assert_int_equal(vi_receipt_set_string(&c.res.receipt, "mode", "fast", &err), VI_OK);
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_rtol", "0.0234375", &err),
                     VI_OK);
    assert_int_equal(vi_receipt_set_param(&c.res.receipt, "tolerance_atol", "0.0234375", &err),
                     VI_OK);
    reseal(&c);
    assert_true(verify(&c, 1).verified);
    claim_free(&c);
}

int main(void)
{
    const struct CMUnitTest fast[] = {
        cmocka_unit_test(test_modes_run_apart),
        cmocka_unit_test(test_verify_fast_within_tolerance),
        cmocka_unit_test(test_verify_fast_outside_tolerance),
        cmocka_unit_test(test_verify_fast_claims),
        cmocka_unit_test(test_verify_exact_is_bit_for_bit),
    };
    int failed = cmocka_run_group_tests(fast, fast_setup, fast_teardown);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_batches_equal_solo_runs)};
    return failed + cmocka_run_group_tests(tests, NULL, NULL);
}
