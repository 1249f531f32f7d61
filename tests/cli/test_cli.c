/* tests/cli/test_cli.c — the verinfer command as users script it: help and
 * usage errors, gen-model determinism, digest, keygen, run + verify, and
 * verify naming the exact part that differs when one bit of a weight, an
 * input, an output, a receipt field or the signature is changed. Fast mode:
 * run --mode fast (or the request's parameter, or model.json's "mode")
 * gives a receipt with mode "fast" and its tolerance, which verify checks
 * within that tolerance and says so; signed claims outside it, or with
 * outputs that do not match the digest, fail naming what is wrong, and an
 * exact claim one ulp off fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/digest.h"
#include "core/keys.h"
#include "server/kserve.h"
#include "server/receipt_json.h"
#include "test_util.h"

/* Runs `verinfer ARGS`, returns the exit status; out/err captured (freed by caller). */
static int vi(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int vi(char **out, char **err, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", vt_bin(), args);
    return vt_run(cmd, out, err);
}

typedef struct {
    char dir[512];
    char model[600];
    char key[600];
    char req[700];
    char resp[600];
} world;

static world W;

static int setup(void **state)
{
    (void)state;
    vt_tmpdir("cli", W.dir, sizeof W.dir);
    snprintf(W.model, sizeof W.model, "%s/mlp", W.dir);
    snprintf(W.key, sizeof W.key, "%s/node.key", W.dir);
    snprintf(W.req, sizeof W.req, "%s/example-request.json", W.model);
    snprintf(W.resp, sizeof W.resp, "%s/response.json", W.dir);
    if (vi(NULL, NULL, "gen-model --seed 1 '%s'", W.model) != 0)
        return -1;
    if (vi(NULL, NULL, "keygen '%s'", W.key) != 0)
        return -1;
    return vi(NULL, NULL, "run '%s' '%s' --key '%s' -o '%s'", W.model, W.req, W.key, W.resp);
}

static void expect(int rc_want, int rc, const char *text, const char *needle)
{
    if (rc != rc_want || !text || !strstr(text, needle))
        fail_msg("exit %d (want %d); looked for \"%s\" in:\n%s", rc, rc_want, needle,
                 text ? text : "(nothing)");
}

static void test_help_and_usage(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    {
        int rc_ = vi(&out, &err, "--help");
        expect(0, rc_, out, "usage: verinfer <command>");
    }
    free(out), free(err);
    static const char *const CMDS[] = {"gen-model", "digest", "keygen", "run", "verify"};
    for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "usage: verinfer %s", CMDS[i]);
        {
            int rc_ = vi(&out, &err, "%s --help", CMDS[i]);
            expect(0, rc_, out, want);
        }
        free(out), free(err);
        {
            int rc_ = vi(&out, &err, "%s", CMDS[i]);
            expect(2, rc_, err, want);
        } /* missing arguments */
        free(out), free(err);
    }
    {
        int rc_ = vi(&out, &err, "frobnicate");
        expect(2, rc_, err, "unknown command 'frobnicate'");
    }
    free(out), free(err);
    {
        int rc_ = vi(&out, &err, "run a b --threads 0");
        expect(2, rc_, err, "--threads needs an integer");
    }
    free(out), free(err);
    {
        int rc_ = vi(&out, &err, "run a b --isa sse9");
        expect(2, rc_, err, "--isa must be");
    }
    free(out), free(err);
}

static void test_gen_model_and_digest_are_deterministic(void **state)
{
    (void)state;
    char a[700], b[700], c[700];
    snprintf(a, sizeof a, "%s/a", W.dir);
    snprintf(b, sizeof b, "%s/b", W.dir);
    snprintf(c, sizeof c, "%s/c", W.dir);
    assert_int_equal(vi(NULL, NULL, "gen-model --seed 42 --hidden 8,8 '%s'", a), 0);
    assert_int_equal(vi(NULL, NULL, "gen-model --seed 42 --hidden 8,8 '%s'", b), 0);
    assert_int_equal(vi(NULL, NULL, "gen-model --seed 43 --hidden 8,8 '%s'", c), 0);
    char *da = NULL, *db = NULL, *dc = NULL;
    assert_int_equal(vi(&da, NULL, "digest '%s'", a), 0);
    assert_int_equal(vi(&db, NULL, "digest '%s'", b), 0);
    assert_int_equal(vi(&dc, NULL, "digest '%s'", c), 0);
    assert_int_equal(strlen(da), 65);
    assert_string_equal(da, db);
    assert_string_not_equal(da, dc);
    free(da), free(db), free(dc);
    char *err = NULL;
    /* refuses to overwrite */
    {
        int rc_ = vi(NULL, &err, "gen-model --seed 42 '%s'", a);
        expect(1, rc_, err, "exist");
    }
    free(err);
    {
        int rc_ = vi(NULL, &err, "gen-model --activation swish '%s'", c);
        expect(2, rc_, err, "swish");
    }
    free(err);
}

static void test_keygen_mode_and_no_overwrite(void **state)
{
    (void)state;
    struct stat sb;
    assert_int_equal(stat(W.key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *err = NULL, *out = NULL;
    {
        int rc_ = vi(NULL, &err, "keygen '%s'", W.key);
        expect(1, rc_, err, "exists");
    }
    free(err);
    char k2[700];
    snprintf(k2, sizeof k2, "%s/open.key", W.dir);
    assert_int_equal(vi(&out, NULL, "keygen '%s'", k2), 0);
    assert_int_equal(strlen(out), 65); /* 64 hex + newline */
    free(out);
    chmod(k2, 0644);
    {
        int rc_ = vi(NULL, &err, "run '%s' '%s' --key '%s'", W.model, W.req, k2);
        expect(1, rc_, err, "readable by others");
    }
    free(err);
}

static void test_run_then_verify(void **state)
{
    (void)state;
    char *out = NULL;
    {
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s'", W.model, W.req, W.resp);
        expect(0, rc_, out, "verified");
    }
    assert_non_null(strstr(out, "weights      ok"));
    assert_non_null(strstr(out, "signature    ok"));
    free(out);
    /* the same request gives the same outputs with any ISA and thread count */
    char *resp = vt_read_file(W.resp, NULL);
    json_t *r1 = json_loads(resp, 0, NULL);
    const char *isas[] = {"scalar", "auto"};
    for (int i = 0; i < 2; i++) {
        char *o2 = NULL;
        assert_int_equal(
            vi(&o2, NULL, "run '%s' '%s' --isa %s --threads %d", W.model, W.req, isas[i], i + 1),
            0);
        json_t *r2 = json_loads(o2, 0, NULL);
        assert_true(json_equal(json_object_get(r1, "outputs"), json_object_get(r2, "outputs")));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(r1, "receipt"), "output_digest")),
            json_string_value(json_object_get(json_object_get(r2, "receipt"), "output_digest")));
        json_decref(r2);
        free(o2);
    }
    json_decref(r1);
    free(resp);
}

/* Writes a modified copy of the response and expects verify to name `part`. */
static void verify_tampered_response(json_t *resp, const char *part)
{
    char path[700], *out = NULL;
    snprintf(path, sizeof path, "%s/tampered.json", W.dir);
    assert_int_equal(json_dump_file(resp, path, JSON_COMPACT), 0);
    char want[64];
    snprintf(want, sizeof want, "%-12s MISMATCH", part);
    {
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s'", W.model, W.req, path);
        expect(1, rc_, out, want);
    }
    assert_non_null(strstr(out, "NOT VERIFIED"));
    free(out);
}

/* Flips the lowest bit of the last hex digit of a receipt string field. */
static void flip_hex_field(json_t *receipt, const char *field)
{
    const char *s = json_string_value(json_object_get(receipt, field));
    assert_non_null(s);
    char *c = strdup(s);
    size_t n = strlen(c);
    c[n - 1] = c[n - 1] == '0' ? '1' : '0';
    json_object_set_new(receipt, field, json_string(c));
    free(c);
}

static void test_verify_names_what_was_tampered(void **state)
{
    (void)state;
    json_t *orig = json_load_file(W.resp, 0, NULL);
    assert_non_null(orig);

    /* an output value: one bit of the first float */
    json_t *r = json_deep_copy(orig);
    json_t *data = json_object_get(json_array_get(json_object_get(r, "outputs"), 0), "data");
    double v = json_number_value(json_array_get(data, 0));
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    u ^= 1;
    memcpy(&f, &u, 4);
    json_array_set_new(data, 0, json_real((double)f));
    verify_tampered_response(r, "output-data");
    json_decref(r);

    /* every receipt field that is a digest, the signature and the public key */
    static const char *const HEX_FIELDS[] = {"model_digest",   "input_digest", "output_digest",
                                             "receipt_digest", "signature",    "public_key"};
    for (size_t i = 0; i < sizeof HEX_FIELDS / sizeof HEX_FIELDS[0]; i++) {
        r = json_deep_copy(orig);
        flip_hex_field(json_object_get(r, "receipt"), HEX_FIELDS[i]);
        verify_tampered_response(r, "signature");
        json_decref(r);
    }
    /* string fields covered by the receipt digest */
    static const char *const STR_FIELDS[] = {"engine_id", "created", "mode"};
    for (size_t i = 0; i < sizeof STR_FIELDS / sizeof STR_FIELDS[0]; i++) {
        r = json_deep_copy(orig);
        json_t *rc = json_object_get(r, "receipt");
        const char *s = json_string_value(json_object_get(rc, STR_FIELDS[i]));
        char buf[512];
        snprintf(buf, sizeof buf, "%s", s);
        buf[0] ^= 1;
        json_object_set_new(rc, STR_FIELDS[i], json_string(buf));
        char path[700], *out = NULL;
        snprintf(path, sizeof path, "%s/tampered.json", W.dir);
        json_dump_file(r, path, JSON_COMPACT);
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s'", W.model, W.req, path);
        /* either the receipt no longer parses (exit 2) or the signature check fails */
        if (rc_ != 2)
            expect(1, rc_, out, "signature    MISMATCH");
        free(out);
        json_decref(r);
    }
    json_decref(orig);
}

static void test_verify_detects_changed_input_and_weights(void **state)
{
    (void)state;
    /* input: change one input value of the request */
    json_t *req = json_load_file(W.req, 0, NULL);
    json_t *data = json_object_get(json_array_get(json_object_get(req, "inputs"), 0), "data");
    json_t *first = json_array_get(data, 0);
    while (json_is_array(first)) {
        data = first;
        first = json_array_get(data, 0);
    }
    json_array_set_new(data, 0, json_real(json_number_value(first) + 0.25));
    char path[700], *out = NULL;
    snprintf(path, sizeof path, "%s/other-request.json", W.dir);
    json_dump_file(req, path, JSON_COMPACT);
    json_decref(req);
    {
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s'", W.model, path, W.resp);
        expect(1, rc_, out, "input        MISMATCH");
    }
    free(out);

    /* weights: flip one bit of the last byte of model.safetensors in a copy */
    char copy[700], cmd[2048];
    snprintf(copy, sizeof copy, "%s/mlp-copy", W.dir);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", W.model, copy);
    assert_int_equal(system(cmd), 0);
    char st[800];
    snprintf(st, sizeof st, "%s/model.safetensors", copy);
    size_t len = 0;
    char *bytes = vt_read_file(st, &len);
    bytes[len - 1] ^= 1;
    assert_int_equal(vt_write_file(st, bytes, len), 0);
    free(bytes);
    {
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s'", copy, W.req, W.resp);
        expect(1, rc_, out, "weights      MISMATCH");
    }
    free(out);
}

static void test_bad_requests_are_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *msg;
    } CASES[] = {
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]"
         "}",
         "input"},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1,2,3,"
         "4,5,6,7,8,9,10,11,12,13,14,15,16]}]}",
         "INT32"},
        {"{\"inputs\":[{\"name\":\"nope\",\"shape\":[1,1],\"datatype\":\"FP32\",\"data\":[1]}]}",
         "nope"},
        {"{\"inputs\":[]}", "inputs must be a non-empty array"},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,16],\"datatype\":\"FP32\",\"data\":[NaN]}]"
         "}",
         ""},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[99999999999,99999999999],\"datatype\":"
         "\"FP32\",\"data\":[1]}]}",
         ""},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,-16],\"datatype\":\"FP32\",\"data\":[1]}]}",
         "shape"},
        {"{\"inputs\": [", ""},
        {"[]", ""},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char path[700], *err = NULL;
        snprintf(path, sizeof path, "%s/bad-%zu.json", W.dir, i);
        vt_write_file(path, CASES[i].json, strlen(CASES[i].json));
        int rc = vi(NULL, &err, "run '%s' '%s'", W.model, path);
        if (rc != 1 || !strstr(err, "verinfer run:") || !strstr(err, CASES[i].msg))
            fail_msg("case %zu: exit %d, stderr: %s", i, rc, err);
        free(err);
    }
    char *err = NULL;
    {
        int rc_ = vi(NULL, &err, "run '%s/none' '%s'", W.dir, W.req);
        expect(1, rc_, err, "verinfer run:");
    }
    free(err);
    {
        int rc_ = vi(NULL, &err, "verify '%s' '%s' '%s/none.json'", W.model, W.req, W.dir);
        expect(2, rc_, err, "cannot open");
    }
    free(err);
}

/* Every backend gives the same output digest; --backend cuda without a usable
 * GPU (or without a CUDA build) fails with a clear message instead. */
static void test_backends_agree_or_explain(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    {
        int rc_ = vi(NULL, &err, "run '%s' '%s' --backend gpu", W.model, W.req);
        expect(2, rc_, err, "--backend must be auto, cpu or cuda");
    }
    free(err);
    char *ref = vt_read_file(W.resp, NULL);
    json_t *r0 = json_loads(ref, 0, NULL);
    const char *want =
        json_string_value(json_object_get(json_object_get(r0, "receipt"), "output_digest"));
    static const char *const KINDS[] = {"cpu", "auto", "cuda"};
    for (int k = 0; k < 3; k++) {
        int rc = vi(&out, &err, "run '%s' '%s' --backend %s", W.model, W.req, KINDS[k]);
        if (rc == 0) {
            json_t *r = json_loads(out, 0, NULL);
            assert_non_null(r);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(r, "receipt"), "output_digest")),
                want);
            json_decref(r);
        } else {
            /* only an explicit CUDA request may fail, and it must say why */
            assert_string_equal(KINDS[k], "cuda");
            expect(1, rc, err, "--backend cuda:");
        }
        free(out);
        free(err);
        out = err = NULL;
    }
    json_decref(r0);
    free(ref);
}

/* ==== fast mode ==== */

static json_t *run_json(const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = vi(&out, &err, "run '%s' '%s' --key '%s' %s", W.model, W.req, W.key, args);
    if (rc != 0)
        fail_msg("run %s: exit %d: %s", args, rc, err ? err : "");
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    free(out);
    free(err);
    return j;
}

static const char *rfield(json_t *resp, const char *key)
{
    return json_string_value(json_object_get(json_object_get(resp, "receipt"), key));
}

/* Runs verify on a response document; returns the exit status, *out the text. */
static int verify_doc(json_t *resp, char **out)
{
    char path[700];
    snprintf(path, sizeof path, "%s/fast-response.json", W.dir);
    assert_int_equal(json_dump_file(resp, path, JSON_COMPACT), 0);
    return vi(out, NULL, "verify '%s' '%s' '%s'", W.model, W.req, path);
}

/* Makes the receipt commit to the response's current outputs and signs it
 * again with the node key: a claim its signer really made. */
static void recommit(json_t *resp)
{
    char *text = json_dumps(resp, JSON_COMPACT);
    vi_kserve_response kr;
    vi_receipt r;
    vi_error err = {{0}};
    EVP_PKEY *key = NULL;
    assert_int_equal(vi_kserve_parse_response(text, strlen(text), NULL, 0, &kr, &err), VI_OK);
    assert_int_equal(vi_receipt_from_json(kr.receipt, &r, &err), VI_OK);
    assert_int_equal(vi_tensors_digest("outputs", kr.outputs, kr.n_outputs, r.output_digest, &err),
                     VI_OK);
    assert_int_equal(vi_key_load(W.key, &key, &err), VI_OK);
    assert_int_equal(vi_receipt_seal(&r, key, &err), VI_OK);
    json_object_set_new(resp, "receipt", vi_receipt_to_json(&r));
    vi_key_free(key);
    vi_kserve_response_free(&kr);
    free(text);
}

/* outputs[0] ("probabilities") data element i. */
static json_t *prob_data(json_t *resp)
{
    json_t *o = json_array_get(json_object_get(resp, "outputs"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "probabilities");
    return json_object_get(o, "data");
}

static void test_fast_mode_run_and_verify(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    {
        int rc_ = vi(&out, &err, "run --help");
        expect(0, rc_, out, "--mode M        exact (bit-exact) or fast");
    }
    free(out), free(err);
    {
        int rc_ = vi(&out, &err, "run '%s' '%s' --mode turbo", W.model, W.req);
        expect(2, rc_, err, "verinfer run: --mode must be exact or fast (got 'turbo')");
    }
    free(out), free(err);

    json_t *fast = run_json("--mode fast");
    assert_string_equal(rfield(fast, "mode"), "fast");
    assert_non_null(strstr(rfield(fast, "engine_id"), " backend/"));
    json_t *params = json_object_get(json_object_get(fast, "receipt"), "parameters");
    assert_string_equal(json_string_value(json_object_get(params, "tolerance_rtol")), "0.0234375");
    assert_string_equal(json_string_value(json_object_get(params, "tolerance_atol")), "0.0234375");
    assert_int_equal(verify_doc(fast, &out), 0);
    assert_non_null(strstr(out, "output       ok        fast mode: outputs within rtol=0.0234375 "
                                "atol=0.0234375 of exact re-execution, max abs diff "));
    assert_non_null(strstr(out, "\nverified (fast mode: outputs within rtol=0.0234375 "
                                "atol=0.0234375 of exact re-execution, max abs diff "));
    free(out);

    /* a signed fast claim with one output beyond the tolerance */
    json_t *t = json_deep_copy(fast);
    json_t *d = prob_data(t);
    double exact = (float)json_number_value(json_array_get(d, 1)); /* the float the server sent */
    float moved = (float)(exact + 0.5);
    json_array_set_new(d, 1, json_real((double)moved));
    recommit(t);
    char want[512];
    snprintf(want, sizeof want,
             "output       MISMATCH  fast mode (rtol=0.0234375 atol=0.0234375): output "
             "'probabilities' element [0, 1] is %.9g but exact re-execution gives %.9g: |diff| "
             "%.9g > atol + rtol * |exact| = %.9g\n",
             (double)moved, exact, (double)moved - exact, 0.0234375 + 0.0234375 * exact);
    {
        int rc_ = verify_doc(t, &out);
        expect(1, rc_, out, want);
    }
    assert_non_null(strstr(out, "output-data  ok "));
    assert_non_null(strstr(out, "signature    ok "));
    assert_non_null(strstr(out, "\nNOT VERIFIED\n"));
    free(out);
    json_decref(t);

    /* inside the tolerance but not what the receipt commits to: the digest fails */
    t = json_deep_copy(fast);
    d = prob_data(t);
    json_array_set_new(d, 1, json_real((double)(float)(exact + 0.001)));
    {
        int rc_ = verify_doc(t, &out);
        expect(1, rc_, out, "output-data  MISMATCH  receipt says ");
    }
    assert_non_null(strstr(out, "output       ok        fast mode: outputs within"));
    free(out);
    /* ... and once committed and signed, it is a valid fast claim */
    recommit(t);
    {
        int rc_ = verify_doc(t, &out);
        expect(0, rc_, out, "\nverified (fast mode: outputs within");
    }
    free(out);
    json_decref(t);

    /* an exact claim one ulp off, committed and signed: not bit-exact */
    json_t *ex = json_load_file(W.resp, 0, NULL);
    assert_string_equal(rfield(ex, "mode"), "exact");
    d = prob_data(ex);
    float f = (float)json_number_value(json_array_get(d, 1));
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 1;
    memcpy(&f, &u, 4);
    json_array_set_new(d, 1, json_real((double)f));
    recommit(ex);
    {
        int rc_ = verify_doc(ex, &out);
        expect(1, rc_, out, "output       MISMATCH  receipt says ");
    }
    assert_non_null(strstr(out, " but the re-executed output digest is "));
    assert_non_null(strstr(out, "output-data  ok "));
    assert_non_null(strstr(out, "\nNOT VERIFIED\n"));
    free(out);
    json_decref(ex);

    /* exact and fast give the same outputs on the CPU; the flag beats the request */
    json_t *plain = run_json("--mode exact");
    assert_string_equal(rfield(plain, "mode"), "exact");
    if (strstr(rfield(fast, "engine_id"), " backend/cpu"))
        assert_string_equal(rfield(plain, "output_digest"), rfield(fast, "output_digest"));
    json_decref(plain);
    json_decref(fast);
}

static void test_fast_mode_from_request_and_model(void **state)
{
    (void)state;
    /* the request's parameters.verinfer_mode */
    json_t *req = json_load_file(W.req, 0, NULL);
    json_object_set_new(req, "parameters", json_pack("{s:s}", "verinfer_mode", "fast"));
    char rp[700];
    snprintf(rp, sizeof rp, "%s/fast-request.json", W.dir);
    assert_int_equal(json_dump_file(req, rp, JSON_COMPACT), 0);
    char *out = NULL, *err = NULL;
    assert_int_equal(vi(&out, NULL, "run '%s' '%s'", W.model, rp), 0);
    json_t *r = json_loads(out, 0, NULL);
    assert_string_equal(rfield(r, "mode"), "fast");
    json_decref(r);
    free(out);
    assert_int_equal(vi(&out, NULL, "run '%s' '%s' --mode exact", W.model, rp), 0);
    r = json_loads(out, 0, NULL);
    assert_string_equal(rfield(r, "mode"), "exact");
    json_decref(r);
    free(out);
    json_object_set_new(req, "parameters", json_pack("{s:s}", "verinfer_mode", "quick"));
    assert_int_equal(json_dump_file(req, rp, JSON_COMPACT), 0);
    {
        int rc_ = vi(NULL, &err, "run '%s' '%s'", W.model, rp);
        expect(1, rc_, err,
               "parameters.verinfer_mode must be \"exact\" or \"fast\" (got \"quick\")");
    }
    free(err);
    json_decref(req);

    /* model.json "mode": "fast" with its own tolerance */
    char copy[700], cmd[2048], mj[800];
    snprintf(copy, sizeof copy, "%s/mlp-fast", W.dir);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", W.model, copy);
    assert_int_equal(system(cmd), 0);
    snprintf(mj, sizeof mj, "%s/model.json", copy);
    json_t *m = json_load_file(mj, JSON_PRESERVE_ORDER, NULL);
    json_object_set_new(m, "mode", json_string("fast"));
    json_object_set_new(m, "fast_tolerance",
                        json_pack("{s:f, s:f}", "rtol", 0.001, "atol", 0.0001));
    assert_int_equal(json_dump_file(m, mj, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(m);
    char rsp[700];
    snprintf(rsp, sizeof rsp, "%s/model-fast-response.json", W.dir);
    assert_int_equal(vi(NULL, NULL, "run '%s' '%s' -o '%s'", copy, W.req, rsp), 0);
    json_t *resp = json_load_file(rsp, 0, NULL);
    assert_string_equal(rfield(resp, "mode"), "fast");
    json_t *params = json_object_get(json_object_get(resp, "receipt"), "parameters");
    assert_string_equal(json_string_value(json_object_get(params, "tolerance_rtol")), "0.001");
    assert_string_equal(json_string_value(json_object_get(params, "tolerance_atol")), "0.0001");
    json_decref(resp);
    {
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s' --allow-unsigned", copy, W.req, rsp);
        expect(
            0, rc_, out,
            "\nverified (fast mode: outputs within rtol=0.001 atol=0.0001 of exact re-execution");
    }
    free(out);
    /* verified against the original model (tolerance 0.0234375) it is another model */
    {
        int rc_ = vi(&out, NULL, "verify '%s' '%s' '%s' --allow-unsigned", W.model, W.req, rsp);
        expect(1, rc_, out, "weights      MISMATCH");
    }
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_gen_model_and_digest_are_deterministic),
        cmocka_unit_test(test_keygen_mode_and_no_overwrite),
        cmocka_unit_test(test_run_then_verify),
        cmocka_unit_test(test_verify_names_what_was_tampered),
        cmocka_unit_test(test_verify_detects_changed_input_and_weights),
        cmocka_unit_test(test_bad_requests_are_rejected),
        cmocka_unit_test(test_backends_agree_or_explain),
        cmocka_unit_test(test_fast_mode_run_and_verify),
        cmocka_unit_test(test_fast_mode_from_request_and_model),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
