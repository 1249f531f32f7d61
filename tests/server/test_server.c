/* tests/server/test_server.c — `verinfer serve` end to end: the real binary
 * on a free loopback port, a repository generated with `verinfer gen-model`
 * (mlp, all-ops, a model with dynamic_batching in its model.json, and a
 * broken one), a signing key. Health, metadata, config, infer (JSON and
 * binary) compared bit for bit with `verinfer run`, verification, the
 * repository extension, metrics, keep-alive, every bad-request status,
 * the body limit, fast-mode requests (receipt, verification, bad modes) and
 * SIGTERM. The server is stopped by the group teardown even when an
 * assertion fails, and dies with this process. */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "server/kserve.h"
#include "test_util.h"

static struct {
    char dir[512];
    char repo[600];
    char key[600];
    char log[600];
    char pubkey[80];
    char mlp_digest[80];
    int pid;
    int port;
} S;

/* ==== helpers ==== */

typedef struct {
    int status;
    char *headers;
    char *body;
    size_t len;
} reply;

static void reply_free(reply *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static reply req(const char *method, const char *path, const char *headers, const void *body,
                 size_t len)
{
    reply r = {0};
    assert_int_equal(
        vt_http(S.port, method, path, headers, body, len, &r.status, &r.headers, &r.body, &r.len),
        0);
    return r;
}

static reply get(const char *path)
{
    return req("GET", path, NULL, NULL, 0);
}

static reply post(const char *path, const char *body)
{
    return req("POST", path, NULL, body, strlen(body));
}

static json_t *json_of(const reply *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->len, 0, &e);
    if (!j)
        fprintf(stderr, "not JSON (%s): %.*s\n", e.text, (int)r->len, r->body);
    assert_non_null(j);
    return j;
}

/* Asserts status, application/json and {"error": "...<part>..."}. */
static void assert_error(const reply *r, int status, const char *part)
{
    if (r->status != status)
        fprintf(stderr, "expected %d, got %d: %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
    char ct[128];
    assert_non_null(vt_http_header(r->headers, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/json");
    json_t *j = json_of(r);
    assert_int_equal(json_object_size(j), 1);
    const char *msg = json_string_value(json_object_get(j, "error"));
    assert_non_null(msg);
    if (!strstr(msg, part))
        fprintf(stderr, "error '%s' does not contain '%s'\n", msg, part);
    assert_non_null(strstr(msg, part));
    json_decref(j);
}

static char *path_in(const char *a, const char *b, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", a, b);
    return out;
}

static char *read_model_file(const char *model, const char *file)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s/%s", S.repo, model, file);
    char *t = vt_read_file(p, NULL);
    assert_non_null(t);
    return t;
}

/* A string field of a receipt object. */
static const char *receipt_field(json_t *receipt, const char *key)
{
    const char *v = json_string_value(json_object_get(receipt, key));
    assert_non_null(v);
    return v;
}

/* Parses a response (JSON part + binary part) with the library's codec. */
static void parse_resp(const char *json, size_t json_len, const uint8_t *bin, size_t bin_len,
                       vi_kserve_response *out)
{
    vi_error err = {{0}};
    vi_status st = vi_kserve_parse_response(json, json_len, bin, bin_len, out, &err);
    if (st != VI_OK)
        fprintf(stderr, "parse_response: %s\n", err.msg);
    assert_int_equal(st, VI_OK);
}

/* Every output identical: names, datatypes, shapes and bytes. */
static void assert_same_outputs(const vi_kserve_response *a, const vi_kserve_response *b)
{
    assert_int_equal(a->n_outputs, b->n_outputs);
    for (int i = 0; i < a->n_outputs; i++) {
        const vi_tensor *x = &a->outputs[i], *y = &b->outputs[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->ndim, y->ndim);
        assert_memory_equal(x->shape, y->shape, sizeof x->shape[0] * (size_t)x->ndim);
        size_t bytes = (size_t)vi_tensor_numel(x) * vi_dtype_size(x->dtype);
        assert_memory_equal(x->data, y->data, bytes);
    }
}

static void assert_same_digests(json_t *a, json_t *b)
{
    assert_string_equal(receipt_field(a, "input_digest"), receipt_field(b, "input_digest"));
    assert_string_equal(receipt_field(a, "output_digest"), receipt_field(b, "output_digest"));
    assert_string_equal(receipt_field(a, "model_digest"), receipt_field(b, "model_digest"));
}

/* `verinfer run` of a request file; returns the response text. */
static char *cli_run(const char *model, const char *req_path)
{
    char out[1024], cmd[4096];
    snprintf(out, sizeof out, "%s/run-%s.json", S.dir, model);
    snprintf(cmd, sizeof cmd, "'%s' run '%s/%s' '%s' --key '%s' -o '%s'", vt_bin(), S.repo, model,
             req_path, S.key, out);
    char *o = NULL, *e = NULL;
    int rc = vt_run(cmd, &o, &e);
    if (rc != 0)
        fprintf(stderr, "%s\n%s", cmd, e ? e : "");
    free(o);
    free(e);
    assert_int_equal(rc, 0);
    char *t = vt_read_file(out, NULL);
    assert_non_null(t);
    return t;
}

/* ==== group setup / teardown ==== */

static int group_setup(void **state)
{
    (void)state;
    char p[1024];
    vt_tmpdir("server", S.dir, sizeof S.dir);
    path_in(S.dir, "repo", S.repo, sizeof S.repo);
    path_in(S.dir, "key", S.key, sizeof S.key);
    path_in(S.dir, "server.log", S.log, sizeof S.log);
    const char *b = vt_bin();
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "'%s' gen-model '%s/mlp' && '%s' gen-model --preset all-ops '%s/all-ops' && "
             "'%s' gen-model --name batched --max-batch-size 8 '%s/batched' && "
             "mkdir '%s/broken' && echo '{\"format\": 1}' > '%s/broken/model.json' && "
             "mkdir '%s/.hidden' '%s/empty'",
             b, S.repo, b, S.repo, b, S.repo, S.repo, S.repo, S.repo, S.repo);
    if (vt_run(cmd, NULL, NULL) != 0)
        return -1;
    /* the batched model declares its batching in model.json */
    snprintf(p, sizeof p, "%s/batched/model.json", S.repo);
    char *mj = vt_read_file(p, NULL);
    if (!mj || mj[0] != '{')
        return -1;
    size_t n = strlen(mj);
    char *nj = malloc(n + 256);
    int w = snprintf(nj, n + 256,
                     "{\"dynamic_batching\": {\"max_queue_delay_us\": 250, "
                     "\"preferred_batch_size\": [2, 4], \"max_queue_size\": 100},%s",
                     mj + 1);
    int rc = vt_write_file(p, nj, (size_t)w);
    free(nj);
    free(mj);
    if (rc != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "'%s' keygen '%s'", b, S.key);
    if (vt_run(cmd, &out, NULL) != 0 || !out)
        return -1;
    snprintf(S.pubkey, sizeof S.pubkey, "%.64s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' digest '%s/mlp'", b, S.repo);
    if (vt_run(cmd, &out, NULL) != 0 || !out)
        return -1;
    snprintf(S.mlp_digest, sizeof S.mlp_digest, "%.64s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "--model-repo '%s' --key '%s' --threads 1 --http-threads 2 2>'%s'",
             S.repo, S.key, S.log);
    return vt_server_start(cmd, &S.pid, &S.port);
}

static int group_teardown(void **state)
{
    (void)state;
    if (S.pid > 0)
        vt_server_stop(S.pid);
    S.pid = 0;
    return 0;
}

/* ==== health and metadata ==== */

static void test_health_and_server_metadata(void **state)
{
    (void)state;
    reply r = get("/v2/health/live");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    reply_free(&r);

    /* strict readiness: the broken model keeps the server not ready */
    r = get("/v2/health/ready");
    assert_error(&r, 400, "model 'broken' is not ready: model 'broken': ");
    reply_free(&r);

    r = get("/v2");
    assert_int_equal(r.status, 200);
    json_t *j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "verinfer");
    json_t *ext = json_object_get(j, "extensions");
    assert_int_equal(json_array_size(ext), 4);
    assert_string_equal(json_string_value(json_array_get(ext, 0)), "binary_tensor_data");
    assert_string_equal(json_string_value(json_array_get(ext, 3)), "verinfer");
    json_t *vi = json_object_get(j, "verinfer");
    assert_string_equal(json_string_value(json_object_get(vi, "public_key")), S.pubkey);
    assert_int_equal(json_integer_value(json_object_get(vi, "order_version")), 1);
    assert_non_null(strstr(json_string_value(json_object_get(vi, "engine_id")), "backend/cpu"));
    json_decref(j);
    reply_free(&r);
}

static void test_model_metadata_and_config(void **state)
{
    (void)state;
    reply m = get("/v2");
    json_t *meta = json_of(&m);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"name\":\"mlp\",\"versions\":[\"1\"],\"platform\":\"verinfer\",\"inputs\":[{"
             "\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,16]}],\"outputs\":[{"
             "\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,4]},{\"name\":"
             "\"label\",\"datatype\":\"INT64\",\"shape\":[-1]}],\"verinfer\":{\"model_digest\":"
             "\"%s\",\"engine_id\":\"%s\"}}",
             S.mlp_digest,
             json_string_value(json_object_get(json_object_get(meta, "verinfer"), "engine_id")));
    json_decref(meta);
    reply_free(&m);
    const char *paths[] = {"/v2/models/mlp", "/v2/models/mlp/versions/1"};
    for (int i = 0; i < 2; i++) {
        reply r = get(paths[i]);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, want);
        reply_free(&r);
    }
    reply r = get("/v2/models/mlp/versions/2");
    assert_error(&r, 404, "model 'mlp' has no version '2' (it has version '1')");
    reply_free(&r);
    r = get("/v2/models/mlp/ready");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = get("/v2/models/mlp/versions/1/ready");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = get("/v2/models/broken/ready");
    assert_error(&r, 400, "model 'broken' is not available: model 'broken': ");
    reply_free(&r);
    r = get("/v2/models/broken");
    assert_error(&r, 503, "model 'broken' is not available");
    reply_free(&r);

    r = get("/v2/models/mlp/config");
    assert_int_equal(r.status, 200);
    json_t *j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "mlp");
    assert_int_equal(json_integer_value(json_object_get(j, "max_batch_size")), 64);
    json_t *in0 = json_array_get(json_object_get(j, "input"), 0);
    assert_string_equal(json_string_value(json_object_get(in0, "data_type")), "TYPE_FP32");
    assert_int_equal(json_array_size(json_object_get(in0, "dims")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(in0, "dims"), 0)), 16);
    json_t *out1 = json_array_get(json_object_get(j, "output"), 1);
    assert_string_equal(json_string_value(json_object_get(out1, "data_type")), "TYPE_INT64");
    assert_int_equal(json_array_size(json_object_get(out1, "dims")), 0);
    json_decref(j);
    reply_free(&r);

    /* dynamic_batching comes from model.json */
    r = get("/v2/models/batched/versions/1/config");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"max_batch_size\":8,"));
    assert_non_null(strstr(r.body, "\"dynamic_batching\":{\"preferred_batch_size\":[2,4],"
                                   "\"max_queue_delay_microseconds\":250,"
                                   "\"default_queue_policy\":{\"max_queue_size\":100}}"));
    reply_free(&r);
}

/* ==== inference ==== */

static void check_json_infer(const char *model)
{
    char path[256], reqp[1024];
    snprintf(path, sizeof path, "/v2/models/%s/infer", model);
    snprintf(reqp, sizeof reqp, "%s/%s/example-request.json", S.repo, model);
    char *body = read_model_file(model, "example-request.json");
    reply r = post(path, body);
    assert_int_equal(r.status, 200);
    char ct[64];
    assert_string_equal(vt_http_header(r.headers, "Content-Type", ct, sizeof ct),
                        "application/json");
    assert_null(vt_http_header(r.headers, "Inference-Header-Content-Length", ct, sizeof ct));
    char *cli = cli_run(model, reqp);
    vi_kserve_response a = {0}, b = {0};
    parse_resp(r.body, r.len, NULL, 0, &a);
    parse_resp(cli, strlen(cli), NULL, 0, &b);
    assert_same_outputs(&a, &b);
    assert_same_digests(a.receipt, b.receipt);
    assert_string_equal(receipt_field(a.receipt, "public_key"), S.pubkey);
    assert_string_equal(receipt_field(a.receipt, "request_id"), "example");
    vi_kserve_response_free(&a);
    vi_kserve_response_free(&b);
    free(cli);
    free(body);
    reply_free(&r);
}

static void test_infer_json_matches_run(void **state)
{
    (void)state;
    check_json_infer("mlp");
    check_json_infer("all-ops");
}

/* Rows of k/64 values, exact in binary32 and in JSON. */
static void fill_rows(float *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = (float)((i * 37) % 129 - 64) / 64.0f;
}

static char *json_request(const float *x, int rows, const char *params)
{
    size_t cap = 64 + (size_t)rows * 16 * 24 + 256;
    char *s = malloc(cap);
    size_t u = (size_t)snprintf(s, cap,
                                "{\"id\":\"b\",%s\"inputs\":[{\"name\":\"input\",\"datatype\":"
                                "\"FP32\",\"shape\":[%d,16],\"data\":[",
                                params, rows);
    for (int i = 0; i < rows * 16; i++)
        u += (size_t)snprintf(s + u, cap - u, "%s%.9g", i ? "," : "", (double)x[i]);
    snprintf(s + u, cap - u, "]}]}");
    return s;
}

static void test_infer_binary(void **state)
{
    (void)state;
    enum { ROWS = 3 };
    float x[ROWS * 16];
    fill_rows(x, ROWS * 16);

    /* the same request as JSON, for reference */
    char *jreq = json_request(x, ROWS, "");
    reply ref = post("/v2/models/mlp/infer", jreq);
    assert_int_equal(ref.status, 200);
    vi_kserve_response want = {0};
    parse_resp(ref.body, ref.len, NULL, 0, &want);

    /* binary in, binary out (request-level binary_data_output) */
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "{\"id\":\"b\",\"parameters\":{\"binary_data_output\":true},\"inputs\":[{"
                      "\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[%d,16],"
                      "\"parameters\":{\"binary_data_size\":%zu}}]}",
                      ROWS, sizeof x);
    size_t blen = (size_t)hl + sizeof x;
    char *body = malloc(sizeof head + sizeof x);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, x, sizeof x);
    char hdr[128], v[64];
    snprintf(hdr, sizeof hdr, "Inference-Header-Content-Length: %d\r\n", hl);
    reply r = req("POST", "/v2/models/mlp/infer", hdr, body, blen);
    assert_int_equal(r.status, 200);
    assert_string_equal(vt_http_header(r.headers, "Content-Type", v, sizeof v),
                        "application/octet-stream");
    assert_non_null(vt_http_header(r.headers, "Inference-Header-Content-Length", v, sizeof v));
    size_t jl = (size_t)atol(v);
    assert_true(jl < r.len);
    /* probabilities [3,4] FP32 + label [3] INT64 */
    assert_int_equal(r.len - jl, ROWS * 4 * 4 + ROWS * 8);
    assert_non_null(memmem(r.body, jl, "\"parameters\":{\"binary_data_size\":48}", 36));
    assert_null(memmem(r.body, jl, "\"data\"", 6));
    vi_kserve_response got = {0};
    parse_resp(r.body, jl, (const uint8_t *)r.body + jl, r.len - jl, &got);
    assert_same_outputs(&want, &got);
    assert_same_digests(want.receipt, got.receipt);
    vi_kserve_response_free(&got);
    reply_free(&r);

    /* per-output choice overrides the request's: label binary, probabilities JSON */
    hl =
        snprintf(head, sizeof head,
                 "{\"id\":\"b\",\"parameters\":{\"binary_data_output\":true},\"inputs\":[{"
                 "\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[%d,16],"
                 "\"parameters\":{\"binary_data_size\":%zu}}],\"outputs\":[{\"name\":"
                 "\"probabilities\",\"parameters\":{\"binary_data\":false}},{\"name\":\"label\"}]}",
                 ROWS, sizeof x);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, x, sizeof x);
    snprintf(hdr, sizeof hdr, "Inference-Header-Content-Length: %d\r\n", hl);
    r = req("POST", "/v2/models/mlp/infer", hdr, body, (size_t)hl + sizeof x);
    assert_int_equal(r.status, 200);
    assert_non_null(vt_http_header(r.headers, "Inference-Header-Content-Length", v, sizeof v));
    jl = (size_t)atol(v);
    assert_int_equal(r.len - jl, ROWS * 8);
    parse_resp(r.body, jl, (const uint8_t *)r.body + jl, r.len - jl, &got);
    assert_same_outputs(&want, &got);
    /* naming the outputs is part of what the receipt commits to; the bits are the same */
    assert_string_equal(receipt_field(got.receipt, "output_digest"),
                        receipt_field(want.receipt, "output_digest"));
    vi_kserve_response_free(&got);
    reply_free(&r);

    /* binary in, JSON out: the same response text as the JSON request, but the receipt's time */
    hl = snprintf(head, sizeof head,
                  "{\"id\":\"b\",\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":"
                  "[%d,16],\"parameters\":{\"binary_data_size\":%zu}}]}",
                  ROWS, sizeof x);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, x, sizeof x);
    snprintf(hdr, sizeof hdr, "Inference-Header-Content-Length: %d\r\n", hl);
    r = req("POST", "/v2/models/mlp/infer", hdr, body, (size_t)hl + sizeof x);
    assert_int_equal(r.status, 200);
    assert_string_equal(vt_http_header(r.headers, "Content-Type", v, sizeof v), "application/json");
    parse_resp(r.body, r.len, NULL, 0, &got);
    assert_same_outputs(&want, &got);
    assert_same_digests(want.receipt, got.receipt);
    vi_kserve_response_free(&got);
    reply_free(&r);

    /* raw binary: Inference-Header-Content-Length 0, the body is one row of the only input */
    r = req("POST", "/v2/models/mlp/infer", "Inference-Header-Content-Length: 0\r\n", x,
            16 * sizeof(float));
    assert_int_equal(r.status, 200);
    assert_non_null(vt_http_header(r.headers, "Inference-Header-Content-Length", v, sizeof v));
    jl = (size_t)atol(v);
    parse_resp(r.body, jl, (const uint8_t *)r.body + jl, r.len - jl, &got);
    assert_int_equal(got.n_outputs, 2);
    assert_int_equal(got.outputs[0].shape[0], 1);
    assert_memory_equal(got.outputs[0].data, want.outputs[0].data, 4 * sizeof(float));
    assert_memory_equal(got.outputs[1].data, want.outputs[1].data, sizeof(int64_t));
    vi_kserve_response_free(&got);
    reply_free(&r);

    vi_kserve_response_free(&want);
    reply_free(&ref);
    free(jreq);
    free(body);
}

/* ==== verification ==== */

static void test_verify(void **state)
{
    (void)state;
    char *reqtext = read_model_file("mlp", "example-request.json");
    reply r = post("/v2/models/mlp/infer", reqtext);
    assert_int_equal(r.status, 200);

    /* through the endpoint */
    size_t cap = strlen(reqtext) + r.len + 256;
    char *vb = malloc(cap);
    snprintf(vb, cap, "{\"request\":%s,\"response\":%s}", reqtext, r.body);
    reply v = post("/v2/models/mlp/verify", vb);
    assert_int_equal(v.status, 200);
    json_t *j = json_of(&v);
    assert_true(json_is_true(json_object_get(j, "verified")));
    const char *names[] = {"signature", "weights", "input", "output-data", "output"};
    for (int i = 0; i < 5; i++) {
        json_t *c = json_object_get(json_object_get(j, "checks"), names[i]);
        assert_true(json_is_true(json_object_get(c, "ok")));
    }
    assert_non_null(
        strstr(json_string_value(json_object_get(
                   json_object_get(json_object_get(j, "checks"), "signature"), "detail")),
               S.pubkey));
    json_decref(j);
    reply_free(&v);

    /* a tampered output fails output-data only */
    json_t *resp = json_of(&r);
    json_t *data = json_object_get(json_array_get(json_object_get(resp, "outputs"), 1), "data");
    json_array_set_new(data, 0, json_integer(json_integer_value(json_array_get(data, 0)) ^ 1));
    char *tampered = json_dumps(resp, JSON_COMPACT);
    snprintf(vb, cap, "{\"request\":%s,\"response\":%s}", reqtext, tampered);
    v = post("/v2/models/mlp/versions/1/verify", vb);
    assert_int_equal(v.status, 200);
    j = json_of(&v);
    assert_true(json_is_false(json_object_get(j, "verified")));
    json_t *checks = json_object_get(j, "checks");
    assert_true(json_is_false(json_object_get(json_object_get(checks, "output-data"), "ok")));
    assert_true(json_is_true(json_object_get(json_object_get(checks, "output"), "ok")));
    assert_true(json_is_true(json_object_get(json_object_get(checks, "signature"), "ok")));
    json_decref(j);
    reply_free(&v);

    /* the receipt alone: output-data cannot be checked, the rest is */
    char *receipt = json_dumps(json_object_get(resp, "receipt"), JSON_COMPACT);
    snprintf(vb, cap, "{\"request\":%s,\"receipt\":%s,\"public_key\":\"%s\"}", reqtext, receipt,
             S.pubkey);
    v = post("/v2/models/mlp/verify", vb);
    assert_int_equal(v.status, 200);
    j = json_of(&v);
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(j, "checks"), "output-data"), "detail")),
        "not checked: only a receipt was given, no outputs");
    json_decref(j);
    reply_free(&v);

    /* bad verify bodies */
    v = post("/v2/models/mlp/verify", "{\"request\":{}}");
    assert_error(&v, 400, "give exactly one of \"response\"");
    reply_free(&v);
    v = post("/v2/models/mlp/verify", "[1]");
    assert_error(&v, 400, "the verify body must be a JSON object");
    reply_free(&v);
    snprintf(vb, cap, "{\"request\":%s,\"response\":{\"model_name\":\"mlp\",\"outputs\":[]}}",
             reqtext);
    v = post("/v2/models/mlp/verify", vb);
    assert_error(&v, 400, "the response has no \"receipt\" object");
    reply_free(&v);

    /* and through `verinfer verify` */
    char rp[1024], cmd[4096];
    snprintf(rp, sizeof rp, "%s/server-response.json", S.dir);
    assert_int_equal(vt_write_file(rp, r.body, r.len), 0);
    snprintf(cmd, sizeof cmd,
             "'%s' verify '%s/mlp' '%s/mlp/example-request.json' '%s' --public-key %s", vt_bin(),
             S.repo, S.repo, rp, S.pubkey);
    char *out = NULL;
    assert_int_equal(vt_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "\nverified\n"));
    free(out);

    free(receipt);
    free(tampered);
    json_decref(resp);
    free(vb);
    reply_free(&r);
    free(reqtext);
}

/* ==== fast mode ==== */

/* A request may ask for fast mode; its receipt says so with its tolerance,
 * the verify endpoint checks it within that tolerance, and a bad mode is a
 * 400 naming the parameter. */
static void test_fast_mode(void **state)
{
    (void)state;
    char *reqtext = read_model_file("mlp", "example-request.json");
    size_t n = strlen(reqtext) + 128;
    char *fast = malloc(n);
    snprintf(fast, n, "{\"parameters\":{\"verinfer_mode\":\"fast\"},%s", reqtext + 1);
    reply r = post("/v2/models/mlp/infer", fast);
    assert_int_equal(r.status, 200);
    json_t *resp = json_of(&r);
    json_t *rc = json_object_get(resp, "receipt");
    assert_string_equal(receipt_field(rc, "mode"), "fast");
    assert_non_null(strstr(receipt_field(rc, "engine_id"), " backend/"));
    json_t *params = json_object_get(rc, "parameters");
    assert_string_equal(json_string_value(json_object_get(params, "tolerance_rtol")), "0.0234375");
    assert_string_equal(json_string_value(json_object_get(params, "tolerance_atol")), "0.0234375");
    assert_string_equal(receipt_field(rc, "signature_algorithm"), "ed25519");

    /* verified within the tolerance it states */
    size_t cap = strlen(fast) + r.len + 256;
    char *vb = malloc(cap);
    snprintf(vb, cap, "{\"request\":%s,\"response\":%s,\"public_key\":\"%s\"}", fast, r.body,
             S.pubkey);
    reply v = post("/v2/models/mlp/verify", vb);
    assert_int_equal(v.status, 200);
    json_t *j = json_of(&v);
    assert_true(json_is_true(json_object_get(j, "verified")));
    const char *detail = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "checks"), "output"), "detail"));
    assert_non_null(detail);
    static const char PREFIX[] = "fast mode: outputs within rtol=0.0234375 atol=0.0234375 of "
                                 "exact re-execution, max abs diff ";
    if (strncmp(detail, PREFIX, sizeof PREFIX - 1) != 0)
        fail_msg("output detail: %s", detail);
    json_decref(j);
    reply_free(&v);

    /* the same answer in exact mode: the same outputs here only if the server's fast
     * engine is the exact one (a CPU server); the receipt says exact either way */
    reply e = post("/v2/models/mlp/infer", reqtext);
    assert_int_equal(e.status, 200);
    json_t *ej = json_of(&e);
    assert_string_equal(receipt_field(json_object_get(ej, "receipt"), "mode"), "exact");
    if (strstr(receipt_field(rc, "engine_id"), " backend/cpu"))
        assert_string_equal(receipt_field(json_object_get(ej, "receipt"), "output_digest"),
                            receipt_field(rc, "output_digest"));
    json_decref(ej);
    reply_free(&e);

    /* bad modes (sent to all-ops: test_metrics counts mlp's failures) */
    snprintf(fast, n, "{\"parameters\":{\"verinfer_mode\":\"turbo\"},%s", reqtext + 1);
    reply b = post("/v2/models/all-ops/infer", fast);
    assert_error(&b, 400, "parameters.verinfer_mode must be \"exact\" or \"fast\" (got \"turbo\")");
    reply_free(&b);
    snprintf(fast, n, "{\"parameters\":{\"verinfer_mode\":true},%s", reqtext + 1);
    b = post("/v2/models/all-ops/infer", fast);
    assert_error(&b, 400, "parameters.verinfer_mode must be \"exact\" or \"fast\"");
    reply_free(&b);

    free(vb);
    json_decref(resp);
    reply_free(&r);
    free(fast);
    free(reqtext);
}

/* ==== repository ==== */

typedef struct {
    int ok, total;
    char digest[80];
    atomic_int done;
} hammer_result;

/* Infers on mlp over one keep-alive connection while the main thread reloads it. */
static void *hammer(void *arg)
{
    hammer_result *h = arg;
    char *body = read_model_file("mlp", "example-request.json");
    int fd = vt_http_connect(S.port);
    for (int i = 0; i < 40 && fd >= 0; i++) {
        int status = 0;
        char *rb = NULL;
        size_t len = 0;
        if (vt_http_on(fd, "POST", "/v2/models/mlp/infer", NULL, body, strlen(body), &status, NULL,
                       &rb, &len) != 0)
            break;
        h->total++;
        json_t *j = json_loadb(rb, len, 0, NULL);
        const char *d =
            json_string_value(json_object_get(json_object_get(j, "receipt"), "output_digest"));
        if (status == 200 && d && (!h->digest[0] || strcmp(d, h->digest) == 0)) {
            snprintf(h->digest, sizeof h->digest, "%s", d);
            h->ok++;
        }
        json_decref(j);
        free(rb);
    }
    if (fd >= 0)
        close(fd);
    free(body);
    atomic_store(&h->done, 1);
    return NULL;
}

static void test_repository(void **state)
{
    (void)state;
    reply r = post("/v2/repository/index", "");
    assert_int_equal(r.status, 200);
    json_t *j = json_of(&r);
    assert_int_equal(json_array_size(j), 4);
    const char *names[] = {"all-ops", "batched", "broken", "mlp"};
    for (int i = 0; i < 4; i++) {
        json_t *e = json_array_get(j, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(e, "name")), names[i]);
        assert_string_equal(json_string_value(json_object_get(e, "state")),
                            i == 2 ? "UNAVAILABLE" : "READY");
    }
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(j, 2), "reason")),
                           "model 'broken': "));
    json_decref(j);
    reply_free(&r);
    r = post("/v2/repository/index", "{\"ready\":true}");
    j = json_of(&r);
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    reply_free(&r);
    r = post("/v2/repository/index", "{\"ready\":1}");
    assert_error(&r, 400, "\"ready\" must be a boolean");
    reply_free(&r);

    /* unload: unavailable, 503 on infer, 400 on ready */
    r = post("/v2/repository/models/all-ops/unload", "");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = post("/v2/repository/index", "{}");
    assert_non_null(strstr(r.body, "{\"name\":\"all-ops\",\"version\":\"1\",\"state\":"
                                   "\"UNAVAILABLE\",\"reason\":\"unloaded\"}"));
    reply_free(&r);
    char *body = read_model_file("all-ops", "example-request.json");
    r = post("/v2/models/all-ops/infer", body);
    assert_error(&r, 503, "model 'all-ops' is not available: unloaded");
    reply_free(&r);
    r = get("/v2/models/all-ops/ready");
    assert_error(&r, 400, "model 'all-ops' is not available: unloaded");
    reply_free(&r);

    /* load again: the digest is recomputed, inference works */
    r = post("/v2/repository/models/all-ops/load", "");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = post("/v2/models/all-ops/infer", body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    free(body);

    r = post("/v2/repository/models/nope/load", "");
    assert_error(&r, 404, "there is no model directory 'nope' with a model.json in ");
    reply_free(&r);
    r = post("/v2/repository/models/.hidden/load", "");
    assert_error(&r, 400, "'.hidden' is not a model name");
    reply_free(&r);
    r = post("/v2/repository/models/broken/load", "");
    assert_error(&r, 400, "model 'broken': ");
    reply_free(&r);
    r = post("/v2/repository/models/nope/unload", "");
    assert_error(&r, 404, "unknown model 'nope'");
    reply_free(&r);

    /* unloading the broken model makes the server ready */
    r = post("/v2/repository/models/broken/unload", "");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = get("/v2/health/ready");
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* reloads while requests run: every request answered, all identical */
    hammer_result h = {0};
    pthread_t t;
    atomic_init(&h.done, 0);
    assert_int_equal(pthread_create(&t, NULL, hammer, &h), 0);
    int reloads = 0;
    while (!atomic_load(&h.done) || reloads < 2) {
        r = post("/v2/repository/models/mlp/load", "");
        assert_int_equal(r.status, 200);
        reply_free(&r);
        reloads++;
    }
    pthread_join(t, NULL);
    assert_int_equal(h.total, 40);
    assert_int_equal(h.ok, 40);
}

/* ==== metrics ==== */

static long long metric(const char *text, const char *series)
{
    const char *p = strstr(text, series);
    if (!p)
        fprintf(stderr, "metrics lack %s\n", series);
    assert_non_null(p);
    return atoll(p + strlen(series));
}

static void test_metrics(void **state)
{
    (void)state;
    reply r = get("/metrics");
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_string_equal(vt_http_header(r.headers, "Content-Type", ct, sizeof ct),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_true(
        metric(r.body, "verinfer_inference_request_success{model=\"mlp\",version=\"1\"} ") >= 40);
    assert_true(metric(r.body, "verinfer_inference_count{model=\"mlp\",version=\"1\"} ") >= 80);
    assert_true(metric(r.body, "verinfer_inference_exec_count{model=\"mlp\",version=\"1\"} ") >= 1);
    assert_int_equal(
        metric(r.body, "verinfer_inference_pending_request_count{model=\"mlp\",version=\"1\"} "),
        0);
    assert_int_equal(metric(r.body, "verinfer_inference_request_failure{model=\"all-ops\","
                                    "version=\"1\",reason=\"REJECTED\"} "),
                     0);
    assert_int_equal(metric(r.body, "verinfer_inference_request_failure{model=\"mlp\","
                                    "version=\"1\",reason=\"OTHER\"} "),
                     0);
    assert_non_null(strstr(r.body, "verinfer_inference_request_success{model=\"batched\","));
    assert_null(strstr(r.body, "model=\"broken\""));
    reply_free(&r);
}

/* ==== keep-alive ==== */

static void test_keep_alive(void **state)
{
    (void)state;
    int fd = vt_http_connect(S.port);
    assert_true(fd >= 0);
    char *body = read_model_file("mlp", "example-request.json");
    for (int i = 0; i < 3; i++) {
        int status = 0;
        char *hdr = NULL, *rb = NULL;
        size_t len = 0;
        if (i == 1)
            assert_int_equal(vt_http_on(fd, "POST", "/v2/models/mlp/infer", NULL, body,
                                        strlen(body), &status, &hdr, &rb, &len),
                             0);
        else
            assert_int_equal(
                vt_http_on(fd, "GET", "/v2/health/live", NULL, NULL, 0, &status, &hdr, &rb, &len),
                0);
        assert_int_equal(status, 200);
        char v[32];
        assert_null(vt_http_header(hdr, "Connection", v, sizeof v)); /* not closing */
        free(hdr);
        free(rb);
    }
    close(fd);
    free(body);
}

/* ==== bad requests ==== */

/* With bin set, the body is json + bin and Inference-Header-Content-Length
 * is strlen(json); otherwise the body is json (NULL: no body). */
typedef struct {
    const char *method, *path, *headers, *json, *bin;
    int status;
    const char *error;
} bad_case;

static void test_bad_requests(void **state)
{
    (void)state;
    static const bad_case CASES[] = {
        {"POST", "/v2/models/mlp/infer", NULL, "{\"inputs\": [", NULL, 400, "invalid request JSON"},
        {"POST", "/v2/models/mlp/infer", NULL, "", NULL, 400, "invalid request JSON"},
        {"POST", "/v2/models/mlp/infer", NULL,
         "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"INT32\",\"shape\":[1,16],\"data\":[0,0,"
         "0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}",
         NULL, 400, "input 'input' has datatype INT32 but the model expects FP32"},
        {"POST", "/v2/models/mlp/infer", NULL,
         "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,5],\"data\":[0,0,0,0,"
         "0]}]}",
         NULL, 400, "input 'input' has shape [1, 5] but the model expects [-1, 16]"},
        {"POST", "/v2/models/mlp/infer", NULL,
         "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}]"
         "}",
         NULL, 501, "BYTES"},
        {"POST", "/v2/models/nope/infer", NULL, "{}", NULL, 404, "unknown model 'nope'"},
        {"GET", "/v2/models/nope", NULL, NULL, NULL, 404, "unknown model 'nope'"},
        {"POST", "/v2/models/mlp/versions/7/infer", NULL, "{}", NULL, 404,
         "model 'mlp' has no version '7' (it has version '1')"},
        {"GET", "/v2/models/mlp/infer", NULL, NULL, NULL, 405,
         "method GET is not allowed on /v2/models/mlp/infer (allowed: POST)"},
        {"DELETE", "/v2/health/live", NULL, NULL, NULL, 405, "(allowed: GET)"},
        {"GET", "/v3/whatever", NULL, NULL, NULL, 404, "no such endpoint: GET /v3/whatever"},
        /* binary: 64 bytes announced, 60 sent */
        {"POST", "/v2/models/mlp/infer", NULL,
         "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,16],\"parameters\":{"
         "\"binary_data_size\":64}}]}",
         "012345678901234567890123456789012345678901234567890123456789", 400,
         "inputs[0] needs bytes 0..64 of the binary data but only 60 bytes were sent"},
        {"POST", "/v2/models/mlp/infer", NULL,
         "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,16],\"parameters\":{"
         "\"binary_data_size\":-64}}]}",
         "0123456789012345678901234567890123456789012345678901234567890123", 400,
         "inputs[0].parameters.binary_data_size must be a non-negative integer (got -64)"},
        /* binary bytes left over */
        {"POST", "/v2/models/mlp/infer", NULL,
         "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,16],\"data\":[0,"
         "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}",
         "xyz", 400, "(3 bytes left over)"},
        {"POST", "/v2/models/mlp/infer", "Inference-Header-Content-Length: 999\r\n", "{}", NULL,
         400,
         "the Inference-Header-Content-Length header says 999 bytes of JSON but the body has only "
         "2 bytes"},
        {"POST", "/v2/models/mlp/infer", "Inference-Header-Content-Length: abc\r\n", "{}", NULL,
         400,
         "the Inference-Header-Content-Length header must be a non-negative integer (got 'abc')"},
        {"POST", "/v2/models/mlp/infer", "Inference-Header-Content-Length: -2\r\n", "{}", NULL, 400,
         "must be a non-negative integer (got '-2')"},
        {"POST", "/v2/models/all-ops/infer", "Inference-Header-Content-Length: 0\r\n", "abcd", NULL,
         400,
         "a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input; "
         "'all-ops' has 2"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const bad_case *c = &CASES[i];
        char hdr[128], body[512];
        size_t len = c->json ? strlen(c->json) : 0;
        memcpy(body, c->json ? c->json : "", len);
        if (c->bin) {
            snprintf(hdr, sizeof hdr, "Inference-Header-Content-Length: %zu\r\n", len);
            memcpy(body + len, c->bin, strlen(c->bin));
            len += strlen(c->bin);
        }
        reply r = req(c->method, c->path, c->bin ? hdr : c->headers, c->json ? body : NULL, len);
        assert_error(&r, c->status, c->error);
        if (c->status == 405) {
            char allow[64];
            assert_non_null(vt_http_header(r.headers, "Allow", allow, sizeof allow));
        }
        reply_free(&r);
    }
    /* too deep, too many elements */
    char deep[300];
    int n = snprintf(deep, sizeof deep, "{\"inputs\":");
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    reply r = post("/v2/models/mlp/infer", deep);
    assert_error(&r, 400, "request JSON is nested deeper than 64 levels (line 1, column 74)");
    reply_free(&r);
    r = post("/v2/models/mlp/infer",
             "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[4097,4096],"
             "\"data\":[1]}]}");
    assert_error(&r, 400, "inputs[0] has 16781312 elements (limit 16777216)");
    reply_free(&r);

    r = get("/v2/health/live");
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* every bad request that reached the model counted as a failure OTHER
     * (13: all the mlp infer cases but the unknown version), none as BACKEND */
    r = get("/metrics");
    assert_int_equal(metric(r.body, "verinfer_inference_request_failure{model=\"mlp\","
                                    "version=\"1\",reason=\"OTHER\"} "),
                     13);
    assert_int_equal(metric(r.body, "verinfer_inference_request_failure{model=\"mlp\","
                                    "version=\"1\",reason=\"BACKEND\"} "),
                     0);
    assert_int_equal(
        metric(r.body, "verinfer_inference_pending_request_count{model=\"mlp\",version=\"1\"} "),
        0);
    reply_free(&r);
}

/* ==== body limit and a full queue (a second server) ==== */

typedef struct {
    int port, status;
} slow_req;

/* One mlp request that will wait in the queue (1 s delay). */
static void *slow_infer(void *arg)
{
    slow_req *q = arg;
    char *body = read_model_file("mlp", "example-request.json");
    vt_http(q->port, "POST", "/v2/models/mlp/infer", NULL, body, strlen(body), &q->status, NULL,
            NULL, NULL);
    free(body);
    return NULL;
}

static void test_limits(void **state)
{
    (void)state;
    char args[2048], log[700];
    snprintf(log, sizeof log, "%s/small.log", S.dir);
    snprintf(args, sizeof args,
             "--model-repo '%s' --threads 1 --http-threads 2 --max-body-bytes 1024 "
             "--connection-timeout 5 --max-queue-size 1 --max-queue-delay-us 1000000 2>'%s'",
             S.repo, log);
    int pid = 0, port = 0;
    assert_int_equal(vt_server_start(args, &pid, &port), 0);

    /* one request waits for 1 s in the queue of size 1: the next is refused at once */
    slow_req q = {port, 0};
    pthread_t t;
    pthread_create(&t, NULL, slow_infer, &q);
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    char *small = read_model_file("mlp", "example-request.json");
    reply busy = {0};
    int busy_ok = vt_http(port, "POST", "/v2/models/mlp/infer", NULL, small, strlen(small),
                          &busy.status, &busy.headers, &busy.body, &busy.len);
    free(small);
    pthread_join(t, NULL);

    char *big = malloc(2000);
    memset(big, ' ', 2000);
    big[0] = '{';
    big[1999] = '}';
    reply r = {0};
    int ok = vt_http(port, "POST", "/v2/models/mlp/infer", NULL, big, 2000, &r.status, &r.headers,
                     &r.body, &r.len);
    /* a body over the limit, sent in chunks without a Content-Length */
    int fd = vt_http_connect(port);
    char raw[4096];
    int rl = snprintf(raw, sizeof raw,
                      "POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                      "chunked\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 3; i++)
        rl += snprintf(raw + rl, sizeof raw - (size_t)rl, "200\r\n%.512s\r\n", big);
    rl += snprintf(raw + rl, sizeof raw - (size_t)rl, "0\r\n\r\n");
    ssize_t sent = fd >= 0 ? send(fd, raw, (size_t)rl, MSG_NOSIGNAL) : -1;
    char got[2048];
    size_t gl = 0;
    ssize_t k;
    while (fd >= 0 && gl < sizeof got - 1 && (k = recv(fd, got + gl, sizeof got - 1 - gl, 0)) > 0)
        gl += (size_t)k;
    got[gl] = '\0';
    if (fd >= 0)
        close(fd);
    /* still serving small requests */
    int live = 0;
    vt_http(port, "GET", "/v2/health/live", NULL, NULL, 0, &live, NULL, NULL, NULL);
    reply met = {0};
    vt_http(port, "GET", "/metrics", NULL, NULL, 0, &met.status, NULL, &met.body, &met.len);
    int st = vt_server_stop(pid);
    free(big);

    assert_int_equal(busy_ok, 0);
    assert_error(&busy, 503, "model 'mlp' is busy: queue full: 1 requests waiting");
    char retry[16];
    assert_string_equal(vt_http_header(busy.headers, "Retry-After", retry, sizeof retry), "1");
    reply_free(&busy);
    assert_int_equal(q.status, 200);
    assert_int_equal(metric(met.body, "verinfer_inference_request_failure{model=\"mlp\","
                                      "version=\"1\",reason=\"REJECTED\"} "),
                     1);
    reply_free(&met);
    assert_int_equal(ok, 0);
    assert_error(&r, 413,
                 "the request body of 2000 bytes is larger than the limit of 1024 bytes "
                 "(--max-body-bytes)");
    reply_free(&r);
    assert_int_equal(sent, rl);
    assert_non_null(strstr(got, "HTTP/1.1 413 "));
    assert_non_null(strstr(got, "{\"error\":\"the request body is larger than the limit of 1024 "
                                "bytes (--max-body-bytes)\"}"));
    assert_int_equal(live, 200);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ==== SIGTERM (last) ==== */

static void test_sigterm_exits_zero(void **state)
{
    (void)state;
    int st = vt_server_stop(S.pid);
    S.pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char *log = vt_read_file(S.log, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "verinfer: receipts are signed with Ed25519 public key "));
    char line[256];
    snprintf(line, sizeof line, "verinfer: loaded model 'mlp' version 1 digest %s", S.mlp_digest);
    assert_non_null(strstr(log, line));
    assert_non_null(strstr(log, "verinfer: model 'broken' failed to load: model 'broken': "));
    assert_non_null(strstr(log, "verinfer: listening on http://127.0.0.1:"));
    assert_non_null(strstr(log, "verinfer: access POST /v2/models/mlp/infer status=200 model=mlp "
                                "rows=2 batch="));
    /* an answered infer names the rows of the execution it ran in, never "-" */
    assert_null(strstr(log, "/infer status=200 model=mlp rows=2 batch=-"));
    assert_non_null(strstr(log, "verinfer: access GET /v3/whatever status=404 model=- rows=- "));
    assert_non_null(strstr(log, "verinfer: SIGTERM received: finishing queued requests\n"));
    assert_non_null(strstr(log, "verinfer: stopped\n"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_server_metadata),
        cmocka_unit_test(test_model_metadata_and_config),
        cmocka_unit_test(test_infer_json_matches_run),
        cmocka_unit_test(test_infer_binary),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_fast_mode),
        cmocka_unit_test(test_repository),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sigterm_exits_zero),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
