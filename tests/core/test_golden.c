/* tests/core/test_golden.c — golden digests: fixed-seed generated models and
 * their fixed example requests must give these exact model and output
 * digests on every machine, compiler, ISA and thread count. A change of the
 * canonical order, of the own math, of the generator or of an encoding makes
 * this test fail; such a change needs a new order version (docs/determinism.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hex.h"
#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "server/infer.h"
#include "test_util.h"

typedef struct {
    const char *what;
    vi_gen_preset preset;
    vi_dtype dtype;
    const char *model_digest;
    const char *output_digest;
} golden;

static const golden GOLDEN[] = {
    {"mlp seed 1 F32", VI_GEN_MLP, VI_DT_FP32, "?", "?"},
    {"mlp seed 1 BF16", VI_GEN_MLP, VI_DT_BF16, "?", "?"},
    {"all-ops seed 1 F32", VI_GEN_ALL_OPS, VI_DT_FP32, "?", "?"},
    {"all-ops seed 1 F16", VI_GEN_ALL_OPS, VI_DT_FP16, "?", "?"},
};

static void check_golden(const golden *gd)
{
    char dir[512], req_path[600];
    vt_tmpdir("golden", dir, sizeof dir);
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.preset = gd->preset;
    opt.weight_dtype = gd->dtype;
    opt.seed = 1;
    vi_error err = {{0}};
    assert_int_equal(vi_gen_model(&opt, dir, &err), VI_OK);
    vi_model m;
    if (vi_model_load(&m, dir, &err) != VI_OK)
        fail_msg("%s: %s", gd->what, err.msg);
    snprintf(req_path, sizeof req_path, "%s/example-request.json", dir);
    size_t len = 0;
    char *json = vt_read_file(req_path, &len);
    vi_kserve_request req;
    assert_int_equal(vi_kserve_parse_request(json, len, NULL, 0, NULL, &req, &err), VI_OK);

    static const vi_isa ISAS[] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};
    for (size_t i = 0; i < 3; i++) {
        if (!vi_isa_supported(ISAS[i]))
            continue;
        for (int threads = 1; threads <= 2; threads++) {
            vi_backend *b = vi_cpu_backend_create(threads, ISAS[i], &err);
            vi_engine e;
            vi_infer_model im;
            vi_infer_result res;
            assert_int_equal(vi_engine_init(&e, &m, b, &err), VI_OK);
            assert_int_equal(vi_infer_model_init(&im, &m, &e, &err), VI_OK);
            if (vi_infer_run(&im, &req, NULL, 0, &res, &err) != VI_OK)
                fail_msg("%s: %s", gd->what, err.msg);
            char md[65], od[65];
            vi_hex_encode(im.model_digest, 32, md);
            vi_hex_encode(res.receipt.output_digest, 32, od);
            if (strcmp(md, gd->model_digest) != 0 || strcmp(od, gd->output_digest) != 0)
                fail_msg("%s (isa %s, %d threads): model digest %s output digest %s", gd->what,
                         vi_isa_name(ISAS[i]), threads, md, od);
            vi_infer_result_free(&res);
            vi_engine_free(&e);
            b->destroy(b);
        }
    }
    vi_kserve_request_free(&req);
    free(json);
    vi_model_free(&m);
}

static void test_golden_digests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++)
        check_golden(&GOLDEN[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden_digests)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
