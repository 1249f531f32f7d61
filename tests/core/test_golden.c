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
    {"mlp seed 1 F32", VI_GEN_MLP, VI_DT_FP32,
     "0adc9638f53114c902a3a9f3f4b7b5087a71347d9e6faf7aa671db3a25aa293a",
     "aaa82d2e097a2e2455a94bada7173150cae6280c81ab6a1afd55116c5ca118fc"},
    {"mlp seed 1 BF16", VI_GEN_MLP, VI_DT_BF16,
     "b8e62bcb2d5976471c822f2d2e10d75bb76df4a01641570417e476f8ed5d0dea",
     "fb898f9d174db9562f6bad12a6dc2e6d9f6392f384f7d32ddcaeae52cbc87199"},
    {"all-ops seed 1 F32", VI_GEN_ALL_OPS, VI_DT_FP32,
     "b9941579e14286ed1cf0db72437cc88d2e9c90cbd7afbd6e478e38bb2197920d",
     "b25176293059af0fe2aae9cd0a3ef3bd9d01c10237f51df6c7750655ccb28ff9"},
    {"all-ops seed 1 F16", VI_GEN_ALL_OPS, VI_DT_FP16,
     "46e5089618e91e6e02ee6514e1e2acc253bf22676cfd0481e6aace5497ee7297",
     "b1d93cc8b54c12641a1ba66f48e3bbde17e7fdc5842f68bfed5a0348c3df654c"},
};

/* Returns the number of mismatches (each printed). */
static int check_golden(const golden *gd)
{
    int bad = 0;
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
            if (strcmp(md, gd->model_digest) != 0 || strcmp(od, gd->output_digest) != 0) {
                print_error("%s (isa %s, %d threads): model digest %s output digest %s\n", gd->what,
                            vi_isa_name(ISAS[i]), threads, md, od);
                bad++;
            }
            vi_infer_result_free(&res);
            vi_engine_free(&e);
            b->destroy(b);
        }
    }
    vi_kserve_request_free(&req);
    free(json);
    vi_model_free(&m);
    return bad;
}

static void test_golden_digests(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++)
        bad += check_golden(&GOLDEN[i]);
    if (bad)
        fail_msg("%d golden digest mismatches (printed above)", bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden_digests)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
