/* tests/server/test_infer.c — batched inference as the server runs it:
 * random requests (random row counts) merged into one engine call in random
 * groupings must each get exactly the outputs and output digest of running
 * that request alone; a bad request is rejected before it joins a batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "server/infer.h"
#include "test_util.h"

#define N_REQ 24

static char *random_request(vt_rng *rng, int n_features, int rows, int id)
{
    size_t cap = 64 + (size_t)rows * (size_t)n_features * 24;
    char *s = malloc(cap);
    size_t u = (size_t)snprintf(s, cap,
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_batches_equal_solo_runs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
