/* tests/cuda/test_cuda_repo.c — the server's model repository on the CUDA
 * backend (host emulation), as `verinfer serve` builds it: every instance
 * gets a fast worker and a verification worker sharing its weights, each on
 * its own stream. A fast-mode request is answered by cuBLAS (emulated TF32:
 * outputs really differ from exact), its receipt names backend/cuda-fast
 * and its tolerance, and the repository's verification passes it within
 * that tolerance while the exact bits would not; an exact request verifies
 * bit for bit; a tampered fast output is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/digest.h"
#include "cuda/cuda_backend.h"
#include "cuda/emu/emu_control.h"
#include "cuda/fast_cublas.h"
#include "models/gen_model.h"
#include "server/receipt_json.h"
#include "server/repo.h"
#include "test_util.h"

static vi_backend *make_backend(void *arg, vi_error *err)
{
    (void)arg;
    return vi_cuda_backend_create(0, err);
}

static vi_status make_worker(void *arg, vi_backend *main, int fast, vi_backend **out, vi_error *err)
{
    (void)arg;
    *out = fast ? vi_cuda_backend_create_fast_worker(main, err)
                : vi_cuda_backend_create_worker(main, err);
    return *out ? VI_OK : VI_ERR_UNSUPPORTED;
}

/* Runs req on the instance and verifies the answer through the repository. */
static vi_verify_report answer_and_verify(vi_repo *r, vi_repo_model *m,
                                          const vi_kserve_request *req, vi_infer_result *res,
                                          float tamper)
{
    vi_error err = {{0}};
    assert_int_equal(vi_infer_run(&m->im, req, NULL, 0, res, &err), VI_OK);
    if (tamper != 0.0f) { /* a claim of other outputs, committed to */
        ((float *)res->outputs[0].data)[0] += tamper;
        assert_int_equal(vi_tensors_digest("outputs", res->outputs, res->n_outputs,
                                           res->receipt.output_digest, &err),
                         VI_OK);
        assert_int_equal(vi_receipt_seal(&res->receipt, NULL, &err), VI_OK);
    }
    vi_kserve_response resp;
    memset(&resp, 0, sizeof resp);
    resp.outputs = res->outputs;
    resp.n_outputs = res->n_outputs;
    resp.receipt = vi_receipt_to_json(&res->receipt);
    vi_verify_report rep;
    assert_int_equal(vi_repo_verify(r, m, req, &resp, NULL, 1, &rep, &err), VI_OK);
    json_decref(resp.receipt);
    return rep;
}

static void test_repository_fast_and_exact(void **state)
{
    (void)state;
    long live0 = vi_emu_live_allocations();
    char dir[512], mdir[600];
    vt_tmpdir("cuda-repo", dir, sizeof dir);
    snprintf(mdir, sizeof mdir, "%s/mlp", dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.n_inputs = 96;
    opt.hidden[0] = 200;
    opt.hidden[1] = 50;
    vi_error err = {{0}};
    assert_int_equal(vi_gen_model(&opt, mdir, &err), VI_OK);
    vi_repo_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dir = dir;
    cfg.make_backend = make_backend;
    cfg.make_worker = make_worker;
    cfg.batch.max_batch_size = -1;
    cfg.batch.max_queue_delay_us = -1;
    cfg.batch.n_preferred = -1;
    cfg.batch.max_queue_size = -1;
    vi_repo *r = NULL;
    assert_int_equal(vi_repo_open(&r, &cfg, &err), VI_OK);
    vi_repo_model *m = NULL;
    assert_int_equal(vi_repo_acquire(r, "mlp", &m, &err), VI_OK);
    assert_non_null(m->fast_backend);
    assert_string_equal(m->fast_backend->name, "cuda-fast");
    assert_ptr_equal(m->fast_backend->weights_domain, m->backend->weights_domain);
    assert_ptr_not_equal(vi_cuda_backend_stream(m->fast_backend),
                         vi_cuda_backend_stream(m->backend));
    assert_non_null(strstr(m->im.fast_engine_id, " backend/cuda-fast isa/verinfer CUDA emulator"));
    assert_non_null(strstr(m->im.engine_id, " backend/cuda isa/verinfer CUDA emulator"));

    char reqtext[8192];
    size_t u =
        (size_t)snprintf(reqtext, sizeof reqtext,
                         "{\"parameters\":{\"verinfer_mode\":\"fast\"},\"inputs\":[{\"name\":"
                         "\"input\",\"datatype\":\"FP32\",\"shape\":[3,96],\"data\":[");
    vt_rng rng = {31337};
    for (int i = 0; i < 3 * 96; i++)
        u += (size_t)snprintf(reqtext + u, sizeof reqtext - u, "%s%.9g", i ? "," : "",
                              (double)vt_uniform(&rng, -3.0f, 3.0f));
    snprintf(reqtext + u, sizeof reqtext - u, "]}]}");
    vi_kserve_request req;
    assert_int_equal(vi_kserve_parse_request(reqtext, strlen(reqtext), NULL, 0, NULL, &req, &err),
                     VI_OK);

    /* fast: cuBLAS, other bits than exact, verified within the tolerance */
    vi_infer_result fast, exact;
    vi_verify_report rep = answer_and_verify(r, m, &req, &fast, 0.0f);
    assert_string_equal(fast.receipt.mode, "fast");
    assert_string_equal(fast.receipt.engine_id, m->im.fast_engine_id);
    if (!rep.verified)
        fail_msg("fast: %s / %s", rep.detail[VI_CHECK_OUTPUT], rep.detail[VI_CHECK_OUTPUT_DATA]);
    assert_int_equal(rep.mode, VI_MODE_FAST);
    static const char PREFIX[] = "fast mode: outputs within rtol=0.0234375 atol=0.0234375 of "
                                 "exact re-execution, max abs diff ";
    assert_true(strncmp(rep.detail[VI_CHECK_OUTPUT], PREFIX, sizeof PREFIX - 1) == 0);
    assert_null(strstr(rep.detail[VI_CHECK_OUTPUT], "max abs diff 0,")); /* TF32 did change bits */
    print_message("%s\n", rep.detail[VI_CHECK_OUTPUT]);

    /* exact: bit for bit, and not the fast answer's bits */
    req.mode = VI_MODE_EXACT;
    rep = answer_and_verify(r, m, &req, &exact, 0.0f);
    assert_true(rep.verified);
    assert_string_equal(exact.receipt.mode, "exact");
    assert_string_equal(exact.receipt.engine_id, m->im.engine_id);
    assert_memory_not_equal(exact.receipt.output_digest, fast.receipt.output_digest, 32);
    vi_infer_result_free(&exact);
    vi_infer_result_free(&fast);

    /* a fast claim moved beyond the tolerance is named */
    req.mode = VI_MODE_FAST;
    rep = answer_and_verify(r, m, &req, &fast, 0.25f);
    assert_false(rep.verified);
    assert_true(rep.ok[VI_CHECK_OUTPUT_DATA]);
    assert_non_null(strstr(rep.detail[VI_CHECK_OUTPUT],
                           "fast mode (rtol=0.0234375 atol=0.0234375): output 'probabilities' "
                           "element [0, 0] is "));
    vi_infer_result_free(&fast);

    vi_kserve_request_free(&req);
    vi_repo_release(r, m);
    vi_repo_stop(r);
    vi_repo_close(r);
    assert_int_equal(vi_emu_live_allocations(), live0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_repository_fast_and_exact)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
