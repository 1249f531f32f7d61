/* tests/server/test_openai.c — the OpenAI-compatible endpoints of `verinfer
 * serve --llm` end to end with a tiny generated llama GGUF (models/gen_llama.h)
 * and a signing key: /v1/models, completions and chat completions (JSON and
 * server-sent events), receipts checked by /v1/verify and `verinfer
 * verify-completion` (and tampered responses refuted with the right reason),
 * /tokenize and /detokenize, every bad request with its status, param and
 * message, batch invariance under concurrency (16 different requests each
 * identical to its solo run; 8 identical greedy requests, one completion)
 * and the scheduler metrics. `test_openai --write-model PATH` writes the
 * tiny model and exits (tests/server/test_openai_client.sh uses it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "models/gen_llama.h"
#include "test_util.h"

static struct {
    char dir[512];
    char model[600];
    char key[600];
    char log[600];
    char pubkey[80];
    int pid;
    int port;
} S;

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

static reply post(const char *path, const char *body)
{
    reply r = {0};
    assert_int_equal(vt_http(S.port, "POST", path, NULL, body, strlen(body), &r.status, &r.headers,
                             &r.body, &r.len),
                     0);
    return r;
}

static reply get(const char *path)
{
    reply r = {0};
    assert_int_equal(
        vt_http(S.port, "GET", path, NULL, NULL, 0, &r.status, &r.headers, &r.body, &r.len), 0);
    return r;
}

static json_t *json_of(const char *s, size_t n)
{
    json_error_t e;
    json_t *j = json_loadb(s, n, 0, &e);
    if (!j)
        fprintf(stderr, "not JSON (%s): %.*s\n", e.text, (int)n, s);
    assert_non_null(j);
    return j;
}

/* POSTs and expects 200 with a JSON body. */
static json_t *post_ok(const char *path, const char *body)
{
    reply r = post(path, body);
    if (r.status != 200)
        fprintf(stderr, "%s %s -> %d %s\n", path, body, r.status, r.body);
    assert_int_equal(r.status, 200);
    json_t *j = json_of(r.body, r.len);
    reply_free(&r);
    return j;
}

/* Asserts status and the OpenAI error shape with param and a message part. */
static void check_error(reply r, const char *path, const char *body, int status, const char *param,
                        const char *part)
{
    if (r.status != status)
        fprintf(stderr, "%s %s: expected %d, got %d: %s\n", path, body, status, r.status, r.body);
    assert_int_equal(r.status, status);
    json_t *j = json_of(r.body, r.len);
    json_t *e = json_object_get(j, "error");
    assert_int_equal(json_object_size(e), 4);
    const char *msg = json_string_value(json_object_get(e, "message"));
    assert_non_null(msg);
    if (!strstr(msg, part))
        fprintf(stderr, "error '%s' lacks '%s'\n", msg, part);
    assert_non_null(strstr(msg, part));
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        status >= 500 ? "server_error" : "invalid_request_error");
    if (param)
        assert_string_equal(json_string_value(json_object_get(e, "param")), param);
    else
        assert_true(json_is_null(json_object_get(e, "param")));
    assert_true(json_is_null(json_object_get(e, "code")));
    json_decref(j);
    reply_free(&r);
}

static void expect_error(const char *path, const char *body, int status, const char *param,
                         const char *part)
{
    check_error(post(path, body), path, body, status, param, part);
}

/* The tiny model of these tests (also written for test_openai_client.sh). */
static int write_tiny_model(const char *path)
{
    vi_gen_llama_opts o;
    vi_gen_llama_defaults(&o);
    o.n_ctx = 256;
    vi_error err = {{0}};
    if (vi_gen_llama_write(&o, path, &err) != VI_OK) {
        fprintf(stderr, "gen_llama: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    vt_tmpdir("openai", S.dir, sizeof S.dir);
    snprintf(S.model, sizeof S.model, "%s/tiny-model.gguf", S.dir);
    snprintf(S.key, sizeof S.key, "%s/key", S.dir);
    snprintf(S.log, sizeof S.log, "%s/server.log", S.dir);
    if (write_tiny_model(S.model) != 0)
        return -1;
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' keygen '%s'", vt_bin(), S.key);
    if (vt_run(cmd, &out, NULL) != 0 || !out)
        return -1;
    snprintf(S.pubkey, sizeof S.pubkey, "%.64s", out);
    free(out);
    snprintf(cmd, sizeof cmd,
             "--llm '%s:tiny' --key '%s' --threads 1 --http-threads 24 --llm-max-seqs 8 "
             "--llm-max-queue 32 --max-body-bytes 65536 2>'%s'",
             S.model, S.key, S.log);
    return vt_server_start(cmd, &S.pid, &S.port);
}

/* Stops the server; it must exit 0 after SIGTERM (sanitizer reports do not). */
static int group_teardown(void **state)
{
    (void)state;
    int st = S.pid > 0 ? vt_server_stop(S.pid) : 0;
    S.pid = 0;
    if (st != 0)
        fprintf(stderr, "the server exited with wait status %d; log: %s\n", st, S.log);
    return st == 0 ? 0 : -1;
}

/* ==== Tests ==== */

static void test_models(void **state)
{
    (void)state;
    reply r = get("/v1/models");
    assert_int_equal(r.status, 200);
    json_t *j = json_of(r.body, r.len);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "list");
    json_t *d = json_object_get(j, "data");
    assert_int_equal(json_array_size(d), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "id")), "tiny");
    assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(d, 0), "digest"))),
                     64);
    json_decref(j);
    reply_free(&r);
    char *log = vt_read_file(S.log, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "llm 'tiny' from"));
    free(log);
}

static void ids_equal(json_t *a, json_t *b)
{
    assert_true(json_equal(a, b));
}

static void test_completion(void **state)
{
    (void)state;
    const char *body = "{\"model\":\"tiny\",\"prompt\":\"hello world\",\"max_tokens\":12,"
                       "\"temperature\":0.9,\"seed\":7}";
    json_t *a = post_ok("/v1/completions", body), *b = post_ok("/v1/completions", body);
    assert_string_equal(json_string_value(json_object_get(a, "object")), "text_completion");
    assert_memory_equal(json_string_value(json_object_get(a, "id")), "cmpl-", 5);
    assert_string_equal(json_string_value(json_object_get(a, "model")), "tiny");
    assert_non_null(
        strstr(json_string_value(json_object_get(a, "system_fingerprint")), "verinfer/"));
    json_t *ch = json_array_get(json_object_get(a, "choices"), 0);
    const char *fin = json_string_value(json_object_get(ch, "finish_reason"));
    json_t *v = json_object_get(a, "verinfer");
    json_t *ids = json_object_get(v, "completion_token_ids");
    size_t n = json_array_size(ids);
    assert_true(n >= 1 && n <= 12);
    assert_true(strcmp(fin, "length") == 0 ? n == 12 : strcmp(fin, "stop") == 0);
    json_t *u = json_object_get(a, "usage");
    assert_int_equal(json_integer_value(json_object_get(u, "completion_tokens")), (json_int_t)n);
    assert_int_equal(json_integer_value(json_object_get(u, "prompt_tokens")),
                     (json_int_t)json_array_size(json_object_get(v, "prompt_token_ids")));
    json_t *rc = json_object_get(v, "receipt");
    assert_string_equal(json_string_value(json_object_get(rc, "mode")), "exact");
    assert_string_equal(json_string_value(json_object_get(rc, "public_key")), S.pubkey);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rc, "parameters"), "seed")), "7");
    /* same seed, same bits */
    ids_equal(ids, json_object_get(json_object_get(b, "verinfer"), "completion_token_ids"));
    assert_true(
        json_equal(json_object_get(ch, "text"),
                   json_object_get(json_array_get(json_object_get(b, "choices"), 0), "text")));
    /* prompt as token ids gives the same completion */
    char body2[4096];
    char *pids = json_dumps(json_object_get(v, "prompt_token_ids"), JSON_COMPACT);
    snprintf(body2, sizeof body2,
             "{\"model\":\"tiny\",\"prompt\":%s,\"max_tokens\":12,\"temperature\":0.9,\"seed\":7}",
             pids);
    free(pids);
    json_t *c = post_ok("/v1/completions", body2);
    ids_equal(ids, json_object_get(json_object_get(c, "verinfer"), "completion_token_ids"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* POST /v1/verify {"request": req, "response": resp}; returns the result. */
static json_t *verify(const char *req, json_t *resp)
{
    char *rs = json_dumps(resp, JSON_COMPACT);
    size_t n = strlen(req) + strlen(rs) + 64;
    char *body = malloc(n);
    snprintf(body, n, "{\"request\":%s,\"response\":%s}", req, rs);
    json_t *j = post_ok("/v1/verify", body);
    free(body);
    free(rs);
    return j;
}

static void expect_refuted(json_t *res, const char *part)
{
    assert_true(json_is_false(json_object_get(res, "verified")));
    const char *why = json_string_value(json_object_get(res, "reason"));
    if (!strstr(why, part))
        fprintf(stderr, "reason '%s' lacks '%s'\n", why, part);
    assert_non_null(strstr(why, part));
    json_decref(res);
}

static void test_verify(void **state)
{
    (void)state;
    const char *req = "{\"model\":\"tiny\",\"prompt\":\"abc abc\",\"max_tokens\":10,"
                      "\"temperature\":1.0,\"top_k\":40,\"top_p\":0.9}"; /* server picks the seed */
    json_t *resp = post_ok("/v1/completions", req);
    json_t *res = verify(req, resp);
    assert_true(json_is_true(json_object_get(res, "verified")));
    assert_non_null(
        strstr(json_string_value(json_object_get(res, "reason")), "signature verifies"));
    json_decref(res);
    /* only the verinfer object */
    res = verify(req, json_object_get(resp, "verinfer"));
    assert_true(json_is_true(json_object_get(res, "verified")));
    json_decref(res);
    /* CLI */
    char p1[700], p2[700], cmd[4096];
    snprintf(p1, sizeof p1, "%s/req.json", S.dir);
    snprintf(p2, sizeof p2, "%s/resp.json", S.dir);
    assert_int_equal(vt_write_file(p1, req, strlen(req)), 0);
    assert_int_equal(json_dump_file(resp, p2, 0), 0);
    snprintf(cmd, sizeof cmd, "'%s' verify-completion '%s' --request '%s' --response '%s'",
             vt_bin(), S.model, p1, p2);
    char *out = NULL, *err = NULL;
    int rc = vt_run(cmd, &out, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n%s\n", out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "verified"));
    free(out);
    free(err);
    /* `verinfer verify MODEL.gguf REQ RESP` is the same check */
    char cmd2[4096];
    snprintf(cmd2, sizeof cmd2, "'%s' verify '%s' '%s' '%s'", vt_bin(), S.model, p1, p2);
    rc = vt_run(cmd2, &out, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "verified"));
    free(out);
    free(err);
    /* tampered: another token (output digest), a re-signed lie cannot be made
     * without the key, another seed (input digest), a broken signature */
    json_t *t = json_deep_copy(resp);
    json_t *ids = json_object_get(json_object_get(t, "verinfer"), "completion_token_ids");
    json_array_set_new(ids, 0,
                       json_integer((json_integer_value(json_array_get(ids, 0)) + 1) % 300));
    expect_refuted(verify(req, t), "output digest differs");
    assert_int_equal(json_dump_file(t, p2, 0), 0);
    rc = vt_run(cmd, &out, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "output digest differs"));
    free(out);
    free(err);
    rc = vt_run(cmd2, &out, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "output digest differs"));
    free(out);
    free(err);
    json_decref(t);
    const char *req2 = "{\"model\":\"tiny\",\"prompt\":\"abc abc\",\"max_tokens\":10,"
                       "\"temperature\":1.0,\"top_k\":40,\"top_p\":0.9,\"seed\":12345}";
    expect_refuted(verify(req2, resp), "input digest differs");
    t = json_deep_copy(resp);
    json_t *rcpt = json_object_get(json_object_get(t, "verinfer"), "receipt");
    char sig[129];
    snprintf(sig, sizeof sig, "%s", json_string_value(json_object_get(rcpt, "signature")));
    sig[0] = sig[0] == '0' ? '1' : '0';
    json_object_set_new(rcpt, "signature", json_string(sig));
    expect_refuted(verify(req, t), "signature");
    json_decref(t);
    json_decref(resp);
    expect_error("/v1/verify", "{\"request\":1,\"response\":{}}", 400, "request",
                 "the body must be");
    expect_error("/v1/verify", "{\"request\":{}}", 400, "response", "the body must be");
    expect_error("/v1/verify",
                 "{\"request\":{\"model\":\"tiny\",\"prompt\":\"x\"},\"response\":{}}", 400,
                 "response", "no 'verinfer' object");
}

static void test_chat(void **state)
{
    (void)state;
    const char *body = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"max_completion_tokens\":6,\"seed\":3}";
    json_t *a = post_ok("/v1/chat/completions", body);
    assert_string_equal(json_string_value(json_object_get(a, "object")), "chat.completion");
    assert_memory_equal(json_string_value(json_object_get(a, "id")), "chatcmpl-", 9);
    json_t *msg = json_object_get(json_array_get(json_object_get(a, "choices"), 0), "message");
    assert_string_equal(json_string_value(json_object_get(msg, "role")), "assistant");
    assert_true(json_is_string(json_object_get(msg, "content")));
    json_t *res = verify(body, a);
    assert_true(json_is_true(json_object_get(res, "verified")));
    json_decref(res);
    json_decref(a);
}

/* Removes chunked transfer encoding from a body. */
static char *dechunk(const char *b, size_t n, size_t *out_len)
{
    char *out = malloc(n + 1);
    size_t o = 0, i = 0;
    while (i < n) {
        char *end;
        unsigned long k = strtoul(b + i, &end, 16);
        const char *nl = strstr(end, "\r\n");
        assert_non_null(nl);
        i = (size_t)(nl - b) + 2;
        if (k == 0)
            break;
        memcpy(out + o, b + i, k);
        o += k;
        i += k + 2;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Streams body and returns the concatenated text; *last gets the last
 * data object (with the verinfer object). */
static char *stream_text(const char *path, const char *body, int chat, json_t **last, int *n_usage)
{
    reply r = post(path, body);
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_non_null(vt_http_header(r.headers, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "text/event-stream");
    size_t n;
    char *ev = strstr(r.headers, "chunked") ? dechunk(r.body, r.len, &n) : strdup(r.body);
    size_t cap = 4096, tl = 0;
    char *text = calloc(1, cap);
    *last = NULL;
    *n_usage = 0;
    int done = 0, k = 0;
    for (char *p = ev; *p;) {
        assert_memory_equal(p, "data: ", 6);
        char *e = strstr(p, "\n\n");
        assert_non_null(e);
        *e = '\0';
        assert_int_equal(done, 0);
        if (strcmp(p + 6, "[DONE]") == 0) {
            done = 1;
        } else {
            json_t *j = json_of(p + 6, strlen(p + 6));
            json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
            if (chat && k == 0)
                assert_string_equal(
                    json_string_value(json_object_get(json_object_get(c0, "delta"), "role")),
                    "assistant");
            const char *t =
                chat ? json_string_value(json_object_get(json_object_get(c0, "delta"), "content"))
                     : json_string_value(json_object_get(c0, "text"));
            if (t) {
                assert_true(tl + strlen(t) < cap);
                strcat(text, t);
                tl += strlen(t);
            }
            if (json_is_object(json_object_get(j, "usage")))
                (*n_usage)++;
            json_decref(*last);
            *last = j;
            k++;
        }
        p = e + 2;
    }
    assert_int_equal(done, 1);
    free(ev);
    reply_free(&r);
    return text;
}

static void test_stream(void **state)
{
    (void)state;
    const char *plain = "{\"model\":\"tiny\",\"prompt\":\"hello\",\"max_tokens\":24,\"seed\":11}";
    const char *streamed = "{\"model\":\"tiny\",\"prompt\":\"hello\",\"max_tokens\":24,\"seed\":11,"
                           "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    json_t *a = post_ok("/v1/completions", plain), *last = NULL;
    int n_usage = 0;
    char *t = stream_text("/v1/completions", streamed, 0, &last, &n_usage);
    assert_string_equal(t, json_string_value(json_object_get(
                               json_array_get(json_object_get(a, "choices"), 0), "text")));
    assert_int_equal(n_usage, 1);
    json_t *v = json_object_get(last, "verinfer");
    assert_true(
        json_equal(json_object_get(v, "completion_token_ids"),
                   json_object_get(json_object_get(a, "verinfer"), "completion_token_ids")));
    free(t);
    json_decref(last);
    json_decref(a);
    const char *cplain =
        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x y\"}],"
        "\"max_tokens\":20,\"seed\":5,\"stop\":[\"ab\",\"q\"]}";
    const char *cstream =
        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x y\"}],"
        "\"max_tokens\":20,\"seed\":5,\"stop\":[\"ab\",\"q\"],\"stream\":true}";
    a = post_ok("/v1/chat/completions", cplain);
    t = stream_text("/v1/chat/completions", cstream, 1, &last, &n_usage);
    const char *want = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(a, "choices"), 0), "message"), "content"));
    assert_string_equal(t, want);
    assert_null(strstr(want, "ab"));
    assert_int_equal(n_usage, 0);
    assert_non_null(json_object_get(last, "verinfer"));
    free(t);
    json_decref(last);
    json_decref(a);
}

static void test_tokenize(void **state)
{
    (void)state;
    json_t *a = post_ok("/tokenize", "{\"content\":\"hello world\"}");
    json_t *toks = json_object_get(a, "tokens");
    assert_true(json_array_size(toks) >= 2);
    char *ts = json_dumps(toks, JSON_COMPACT);
    char body[2048];
    snprintf(body, sizeof body, "{\"tokens\":%s}", ts);
    free(ts);
    json_t *b = post_ok("/detokenize", body);
    assert_string_equal(json_string_value(json_object_get(b, "content")), "hello world");
    json_decref(a);
    json_decref(b);
    a = post_ok("/tokenize", "{\"content\":\"<|im_start|>\",\"parse_special\":true}");
    assert_int_equal(json_array_size(json_object_get(a, "tokens")), 1);
    json_decref(a);
    expect_error("/tokenize", "{}", 400, "content", "'content' (a string) is required");
    expect_error("/detokenize", "{\"tokens\":[1,\"x\"]}", 400, "tokens", "array of token ids");
    expect_error("/detokenize", "{\"tokens\":[100000]}", 400, "tokens", "100000");
}

/* Errors of the HTTP layer itself (unknown endpoint, wrong method, body
 * over --max-body-bytes) have the OpenAI shape under /v1 and for /tokenize,
 * and stay {"error": "..."} on the KServe paths. */
static void test_http_layer_errors(void **state)
{
    (void)state;
    check_error(get("/v1/completions"), "/v1/completions", "(GET)", 405, NULL,
                "method GET is not allowed on /v1/completions (allowed: POST)");
    check_error(get("/tokenize"), "/tokenize", "(GET)", 405, NULL, "is not allowed");
    expect_error("/v1/nope", "{}", 404, NULL, "no such endpoint: POST /v1/nope");
    /* a path that decodes to bytes that are not UTF-8: still the OpenAI shape */
    check_error(get("/v1/%FF"), "/v1/%FF", "(GET)", 404, NULL,
                "(the error message is not valid UTF-8)");
    size_t n = 70000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    expect_error("/v1/chat/completions", big, 413, NULL, "65536");
    free(big);
    reply r = get("/v2/nope");
    assert_int_equal(r.status, 404);
    json_t *j = json_of(r.body, r.len);
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "no such endpoint: GET /v2/nope");
    json_decref(j);
    reply_free(&r);
}

static void test_bad_requests(void **state)
{
    (void)state;
    static const struct {
        const char *path, *body;
        int status;
        const char *param, *part;
    } cases[] = {
        {"/v1/completions", "{\"model\":\"nope\",\"prompt\":\"x\"}", 404, "model",
         "The model 'nope' does not exist"},
        {"/v1/completions", "{\"prompt\":\"x\"}", 400, "model", "'model' (a string) is required"},
        {"/v1/completions", "{\"model\":\"tiny\"}", 400, "prompt", "'prompt' is required"},
        {"/v1/completions", "[1]", 400, NULL, "must be a JSON object"},
        {"/v1/completions", "{\"model\":", 400, NULL, "not valid JSON"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"n\":2}", 400, "n",
         "'n' must be 1"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"echo\":true}", 400, "echo",
         "'echo' is not supported"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"logprobs\":2}", 400, "logprobs",
         "'logprobs' is not supported"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"temperature\":3}", 400,
         "temperature", "'temperature' must be in [0, 2] (got 3)"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"top_p\":0}", 400, "top_p",
         "'top_p' must be in (0, 1] (got 0)"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"top_k\":-1}", 400, "top_k",
         "'top_k' must be in [0,"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"max_tokens\":0}", 400,
         "max_tokens", "'max_tokens' must be in [1,"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"seed\":1.5}", 400, "seed",
         "'seed' must be an integer"},
        {"/v1/completions",
         "{\"model\":\"tiny\",\"prompt\":\"x\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", 400,
         "stop", "at most 4 strings (got 5)"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"stop\":[\"\"]}", 400, "stop",
         "non-empty string"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"stream\":\"yes\"}", 400,
         "stream", "'stream' must be a boolean"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"stream_options\":{}}", 400,
         "stream_options", "only allowed when 'stream' is true"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":[\"a\",\"b\"]}", 400, "prompt",
         "one prompt per request"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":[1,-2]}", 400, "prompt",
         "'prompt' element 1 is not a token id"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":[1,5000]}", 400, "prompt",
         "prompt token 1 is 5000, outside the vocabulary [0, 300)"},
        {"/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"\"}", 400, "prompt",
         "the prompt gives no tokens"},
        {"/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[]}", 400, "messages",
         "'messages' must be a non-empty array"},
        {"/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\"}]}", 400,
         "messages", "'messages[0]' needs a string 'role' and a string 'content'"},
        {"/v1/chat/completions",
         "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":"
         "true}",
         400, "logprobs", "'logprobs' is not supported"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].path, cases[i].body, cases[i].status, cases[i].param, cases[i].part);
    /* a prompt longer than the context (256) */
    char big[8192] = "{\"model\":\"tiny\",\"prompt\":[";
    for (int i = 0; i < 300; i++)
        strcat(big, i ? ",5" : "5");
    strcat(big, "]}");
    expect_error("/v1/completions", big, 400, "prompt", "the prompt has 300 tokens");
    /* exactly the context: no room for one generated token */
    strcpy(big, "{\"model\":\"tiny\",\"prompt\":[");
    for (int i = 0; i < 256; i++)
        strcat(big, i ? ",5" : "5");
    strcat(big, "]}");
    expect_error("/v1/completions", big, 400, "prompt",
                 "the prompt has 256 tokens; the context of model 'tiny' is 256 tokens");
    /* max_tokens beyond the context: generation ends with the context (docs/llm.md);
     * the 6 free positions take 6 generated tokens and the logits of the last
     * one give a 7th, which is never fed back */
    strcpy(big, "{\"model\":\"tiny\",\"temperature\":0,\"max_tokens\":2147483647,\"prompt\":[");
    for (int i = 0; i < 250; i++)
        strcat(big, i ? ",5" : "5");
    strcat(big, "]}");
    json_t *a = post_ok("/v1/completions", big);
    json_t *ch = json_array_get(json_object_get(a, "choices"), 0);
    const char *fin = json_string_value(json_object_get(ch, "finish_reason"));
    size_t n =
        json_array_size(json_object_get(json_object_get(a, "verinfer"), "completion_token_ids"));
    assert_true(n >= 1 && n <= 7);
    assert_true(strcmp(fin, "length") == 0 ? n == 7 : strcmp(fin, "stop") == 0);
    json_decref(a);
}

/* ==== Batch invariance ==== */

typedef struct {
    char body[512];
    json_t *ids;
    char *text;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    reply r = {0};
    int st = 0;
    if (vt_http(S.port, "POST", "/v1/completions", NULL, j->body, strlen(j->body), &st, NULL,
                &r.body, &r.len) == 0 &&
        st == 200) {
        json_t *o = json_loadb(r.body, r.len, 0, NULL);
        if (o) {
            j->ids = json_incref(
                json_object_get(json_object_get(o, "verinfer"), "completion_token_ids"));
            j->text = strdup(json_string_value(
                json_object_get(json_array_get(json_object_get(o, "choices"), 0), "text")));
            json_decref(o);
        }
    }
    free(r.body);
    return NULL;
}

static void test_batch_invariance(void **state)
{
    (void)state;
    enum { N = 16 };
    static const char *prompts[] = {
        "a", "hello world", "the cat sat on the mat", "abc", "one two three four five six seven",
        "x"};
    job solo[N], conc[N];
    memset(solo, 0, sizeof solo);
    memset(conc, 0, sizeof conc);
    for (int i = 0; i < N; i++) {
        snprintf(solo[i].body, sizeof solo[i].body,
                 "{\"model\":\"tiny\",\"prompt\":\"%s %d\",\"max_tokens\":%d,\"seed\":%d,"
                 "\"temperature\":%s}",
                 prompts[i % 6], i, 4 + (i * 7) % 29, 100 + i, i % 4 == 0 ? "0" : "0.8");
        memcpy(conc[i].body, solo[i].body, sizeof solo[i].body);
        run_job(&solo[i]);
        assert_non_null(solo[i].ids);
    }
    pthread_t th[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &conc[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_non_null(conc[i].ids);
        assert_true(json_equal(solo[i].ids, conc[i].ids));
        assert_string_equal(solo[i].text, conc[i].text);
        json_decref(solo[i].ids);
        json_decref(conc[i].ids);
        free(solo[i].text);
        free(conc[i].text);
    }
    /* 8 identical greedy requests at once: one completion */
    job same[8];
    memset(same, 0, sizeof same);
    for (int i = 0; i < 8; i++) {
        snprintf(same[i].body, sizeof same[i].body,
                 "{\"model\":\"tiny\",\"prompt\":\"greedy\",\"max_tokens\":20,\"temperature\":0}");
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &same[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++) {
        assert_non_null(same[i].ids);
        assert_true(json_equal(same[0].ids, same[i].ids));
        assert_string_equal(same[0].text, same[i].text);
    }
    for (int i = 0; i < 8; i++) {
        json_decref(same[i].ids);
        free(same[i].text);
    }
    /* the scheduler really batched sequences */
    reply r = get("/metrics");
    assert_int_equal(r.status, 200);
    const char *m = strstr(r.body, "verinfer_llm_steps_multi_seq_total{model=\"tiny\"} ");
    assert_non_null(m);
    long multi =
        strtol(m + strlen("verinfer_llm_steps_multi_seq_total{model=\"tiny\"} "), NULL, 10);
    fprintf(stderr, "steps with > 1 sequence: %ld\n", multi);
    assert_true(multi > 0);
    reply_free(&r);
}

/* `test_openai --write-model PATH` only writes the tiny model. */
int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-model") == 0)
        return write_tiny_model(argv[2]) == 0 ? 0 : 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models),           cmocka_unit_test(test_completion),
        cmocka_unit_test(test_verify),           cmocka_unit_test(test_chat),
        cmocka_unit_test(test_stream),           cmocka_unit_test(test_tokenize),
        cmocka_unit_test(test_bad_requests),     cmocka_unit_test(test_http_layer_errors),
        cmocka_unit_test(test_batch_invariance),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
