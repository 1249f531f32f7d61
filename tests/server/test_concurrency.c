/* tests/server/test_concurrency.c — the batching guarantee end to end over
 * HTTP: the real `verinfer serve` (an mlp 16-256-256-4, max_batch_size 64,
 * --max-queue-delay-us 2000) and 64 client threads sending 640 requests with
 * random row counts (1..8) after random pauses (0..3 ms), in four encodings
 * (JSON or binary in, JSON or binary out), over keep-alive and fresh
 * connections. Every response's outputs and receipt digests must equal those
 * of the same request run alone in-process (vi_infer_run, the code of
 * `verinfer run`; a sample is also checked against the CLI itself), every
 * receipt must carry a valid signature by the server's key, a sample must
 * verify through POST /v2/models/mlp/verify, and /metrics must show fewer
 * executions than requests with exactly the rows sent. Receipts of one
 * execution share one signature ("ed25519-merkle"): at least one batch of
 * more than one receipt must form, and the receipts under each batch root
 * must be exactly that batch (indices 0..size-1, one signature); batch-signed
 * receipts are also verified through the endpoint and one with `verinfer
 * verify`. The server is stopped
 * (SIGTERM, exit status 0) by the group teardown even when a check fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "core/hex.h"
#include "core/keys.h"
#include "cpu/cpu_backend.h"
#include "server/infer.h"
#include "server/kserve.h"
#include "server/receipt_json.h"
#include "test_util.h"

#define N_CLIENTS 64
#define PER_CLIENT 10
#define N_REQ (N_CLIENTS * PER_CLIENT)
#define N_FEATURES 16
#define MAX_ROWS 8
#define VERIFY_EVERY 16 /* every 16th response is verified through the endpoint */
#define CLI_SAMPLE 4    /* requests (with JSON outputs) also run with `verinfer run` */

/* How a request travels: JSON or binary tensor data, each way. */
typedef enum { FMT_JSON, FMT_BINARY, FMT_JSON_IN_BINARY_OUT, FMT_BINARY_IN_JSON_OUT } fmt;

typedef struct {
    int rows;
    fmt fmt;
    float x[MAX_ROWS * N_FEATURES]; /* [rows, N_FEATURES] */
    char *json;                     /* the request with JSON data (solo run, verify) */
    char *body;                     /* what is sent: json, or a JSON header + binary data */
    size_t body_len;
    char headers[96];     /* Inference-Header-Content-Length for binary input */
    vi_infer_result solo; /* the request run alone in-process */
    /* filled by the client thread */
    int rc, status;
    char *resp_headers, *resp_body;
    size_t resp_len;
    vi_receipt receipt; /* the response's receipt, parsed by check_response */
} job;

static struct {
    char dir[512], repo[600], key[600], log[600];
    uint8_t pub[VI_KEY_PUBLIC_LEN];
    char pub_hex[2 * VI_KEY_PUBLIC_LEN + 1];
    vi_model m;
    vi_backend *be;
    vi_engine e;
    vi_infer_model im;
    job jobs[N_REQ];
    int64_t total_rows;
    int pid, port;
} S;

/* ==== requests ==== */

static const char *fmt_name(fmt f)
{
    static const char *names[] = {"json", "binary", "json-in/binary-out", "binary-in/json-out"};
    return names[f];
}

static int binary_in(fmt f)
{
    return f == FMT_BINARY || f == FMT_BINARY_IN_JSON_OUT;
}

static int binary_out(fmt f)
{
    return f == FMT_BINARY || f == FMT_JSON_IN_BINARY_OUT;
}

/* The request text; with data_json the input carries JSON data, else only
 * parameters.binary_data_size. Parameters and outputs are the same in both. */
static char *request_text(const job *j, int id, int data_json)
{
    size_t cap = 512 + (size_t)j->rows * N_FEATURES * 24;
    char *s = malloc(cap);
    size_t u = (size_t)snprintf(
        s, cap,
        "{\"id\":\"c%d\",%s\"inputs\":[{\"name\":\"input\","
        "\"datatype\":\"FP32\",\"shape\":[%d,%d],",
        id, j->fmt == FMT_BINARY ? "\"parameters\":{\"binary_data_output\":true}," : "", j->rows,
        N_FEATURES);
    if (data_json) {
        u += (size_t)snprintf(s + u, cap - u, "\"data\":[");
        for (int i = 0; i < j->rows * N_FEATURES; i++)
            u += (size_t)snprintf(s + u, cap - u, "%s%.9g", i ? "," : "", (double)j->x[i]);
        u += (size_t)snprintf(s + u, cap - u, "]}]");
    } else {
        u += (size_t)snprintf(s + u, cap - u, "\"parameters\":{\"binary_data_size\":%zu}}]",
                              (size_t)j->rows * N_FEATURES * sizeof(float));
    }
    if (j->fmt == FMT_JSON_IN_BINARY_OUT)
        u += (size_t)snprintf(s + u, cap - u,
                              ",\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{"
                              "\"binary_data\":true}},{\"name\":\"label\",\"parameters\":{"
                              "\"binary_data\":true}}]");
    snprintf(s + u, cap - u, "}");
    return s;
}

static int make_job(job *j, vt_rng *rng, int id, vi_error *err)
{
    j->rows = (int)vt_range(rng, 1, MAX_ROWS);
    j->fmt = (fmt)(vt_next(rng) % 4);
    for (int i = 0; i < j->rows * N_FEATURES; i++)
        j->x[i] = vt_uniform(rng, -3.0f, 3.0f);
    j->json = request_text(j, id, 1);
    if (binary_in(j->fmt)) {
        char *head = request_text(j, id, 0);
        size_t hl = strlen(head), bl = (size_t)j->rows * N_FEATURES * sizeof(float);
        j->body = malloc(hl + bl);
        memcpy(j->body, head, hl);
        memcpy(j->body + hl, j->x, bl);
        j->body_len = hl + bl;
        snprintf(j->headers, sizeof j->headers, "Inference-Header-Content-Length: %zu\r\n", hl);
        free(head);
    } else {
        j->body = strdup(j->json);
        j->body_len = strlen(j->json);
    }
    vi_kserve_request req = {0};
    vi_status st = vi_kserve_parse_request(j->json, strlen(j->json), NULL, 0, NULL, &req, err);
    if (st == VI_OK)
        st = vi_infer_run(&S.im, &req, NULL, 0, &j->solo, err);
    vi_kserve_request_free(&req);
    return st == VI_OK ? 0 : -1;
}

/* ==== helpers ==== */

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void digest_hex(const uint8_t *d, char out[2 * VI_SHA256_LEN + 1])
{
    vi_hex_encode(d, VI_SHA256_LEN, out);
}

/* A sample value of a metric series for the model, e.g. "verinfer_inference_count". */
static int64_t metric(const char *text, const char *series)
{
    char needle[160];
    snprintf(needle, sizeof needle, "\n%s{model=\"mlp\",version=\"1\"} ", series);
    const char *p = strstr(text, needle);
    if (!p)
        fprintf(stderr, "metrics have no series %s\n", needle + 1);
    assert_non_null(p);
    return strtoll(p + strlen(needle), NULL, 10);
}

/* Not inlined: gcc's -Wdangling-pointer otherwise mistakes the returned
 * buffer for the local that vt_http filled. */
__attribute__((noinline)) static char *get_metrics(void)
{
    int status = 0;
    char *body = NULL;
    assert_int_equal(vt_http(S.port, "GET", "/metrics", NULL, NULL, 0, &status, NULL, &body, NULL),
                     0);
    assert_int_equal(status, 200);
    return body;
}

/* ==== group setup / teardown ==== */

static int group_setup(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vt_tmpdir("concurrency", S.dir, sizeof S.dir);
    snprintf(S.repo, sizeof S.repo, "%s/repo", S.dir);
    snprintf(S.key, sizeof S.key, "%s/key", S.dir);
    snprintf(S.log, sizeof S.log, "%s/server.log", S.dir);
    char cmd[4096], mdir[700];
    snprintf(mdir, sizeof mdir, "%s/mlp", S.repo);
    snprintf(cmd, sizeof cmd,
             "'%s' gen-model --hidden 256,256 --max-batch-size 64 '%s' && '%s' keygen '%s'",
             vt_bin(), mdir, vt_bin(), S.key);
    if (vt_run(cmd, NULL, NULL) != 0)
        return -1;
    EVP_PKEY *key = NULL;
    if (vi_key_load(S.key, &key, &err) != VI_OK || vi_key_public_raw(key, S.pub, &err) != VI_OK)
        goto fail;
    vi_key_free(key);
    vi_hex_encode(S.pub, sizeof S.pub, S.pub_hex);

    /* the same model directory, in-process, for the solo answers */
    if (vi_model_load(&S.m, mdir, &err) != VI_OK)
        goto fail;
    S.be = vi_cpu_backend_create(1, VI_ISA_AUTO, &err);
    if (!S.be || vi_engine_init(&S.e, &S.m, S.be, &err) != VI_OK ||
        vi_infer_model_init(&S.im, &S.m, &S.e, &err) != VI_OK)
        goto fail;
    vt_rng rng = {0xc0ffee};
    for (int r = 0; r < N_REQ; r++) {
        if (make_job(&S.jobs[r], &rng, r, &err) != 0)
            goto fail;
        S.total_rows += S.jobs[r].rows;
    }

    snprintf(cmd, sizeof cmd,
             "--model-repo '%s' --key '%s' --threads 1 --http-threads 2 "
             "--max-queue-delay-us 2000 2>'%s'",
             S.repo, S.key, S.log);
    return vt_server_start(cmd, &S.pid, &S.port);
fail:
    fprintf(stderr, "concurrency fixture: %s\n", err.msg);
    return -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int failed = 0;
    if (S.pid > 0) {
        int st = vt_server_stop(S.pid);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr,
                    "the server did not exit with status 0 after SIGTERM (status %d); log %s\n", st,
                    S.log);
            failed = 1;
        }
    }
    S.pid = 0;
    for (int r = 0; r < N_REQ; r++) {
        job *j = &S.jobs[r];
        free(j->json);
        free(j->body);
        free(j->resp_headers);
        free(j->resp_body);
        vi_infer_result_free(&j->solo);
    }
    vi_engine_free(&S.e);
    if (S.be)
        S.be->destroy(S.be);
    vi_model_free(&S.m);
    return failed ? -1 : 0;
}

/* ==== the concurrent clients ==== */

typedef struct {
    int id;
    int keep_alive; /* one connection for all requests, else one per request */
} client;

static void *client_main(void *arg)
{
    const client *c = arg;
    vt_rng rng = {(uint64_t)c->id * 7919u + 1};
    int fd = -1;
    for (int k = 0; k < PER_CLIENT; k++) {
        job *j = &S.jobs[c->id + k * N_CLIENTS];
        sleep_us(vt_range(&rng, 0, 3000));
        const char *hdr = binary_in(j->fmt) ? j->headers : NULL;
        if (c->keep_alive) {
            if (fd < 0)
                fd = vt_http_connect(S.port);
            j->rc = fd < 0
                        ? -1
                        : vt_http_on(fd, "POST", "/v2/models/mlp/infer", hdr, j->body, j->body_len,
                                     &j->status, &j->resp_headers, &j->resp_body, &j->resp_len);
        } else {
            j->rc = vt_http(S.port, "POST", "/v2/models/mlp/infer", hdr, j->body, j->body_len,
                            &j->status, &j->resp_headers, &j->resp_body, &j->resp_len);
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* Outputs, digests and signature of one response against its solo run. */
static void check_response(int r, json_t **receipt_out)
{
    job *j = &S.jobs[r];
    if (j->rc != 0 || j->status != 200)
        fprintf(stderr, "request %d (%s, %d rows): rc %d status %d: %s\n", r, fmt_name(j->fmt),
                j->rows, j->rc, j->status, j->resp_body ? j->resp_body : "");
    assert_int_equal(j->rc, 0);
    assert_int_equal(j->status, 200);
    char v[64];
    size_t jl = j->resp_len;
    assert_non_null(vt_http_header(j->resp_headers, "Content-Type", v, sizeof v));
    if (binary_out(j->fmt)) {
        assert_string_equal(v, "application/octet-stream");
        assert_non_null(
            vt_http_header(j->resp_headers, "Inference-Header-Content-Length", v, sizeof v));
        jl = (size_t)strtoull(v, NULL, 10);
        /* probabilities [rows,4] FP32 + label [rows] INT64 */
        assert_int_equal(j->resp_len - jl, (size_t)j->rows * (4 * 4 + 8));
    } else {
        assert_string_equal(v, "application/json");
    }
    vi_kserve_response got = {0};
    vi_error err = {{0}};
    vi_status st = vi_kserve_parse_response(j->resp_body, jl, (const uint8_t *)j->resp_body + jl,
                                            j->resp_len - jl, &got, &err);
    if (st != VI_OK)
        fprintf(stderr, "request %d: %s\n", r, err.msg);
    assert_int_equal(st, VI_OK);

    /* the outputs, bit for bit */
    const vi_infer_result *want = &j->solo;
    assert_int_equal(got.n_outputs, want->n_outputs);
    for (int i = 0; i < got.n_outputs; i++) {
        const vi_tensor *a = &got.outputs[i], *b = &want->outputs[i];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->dtype, b->dtype);
        assert_int_equal(a->ndim, b->ndim);
        assert_memory_equal(a->shape, b->shape, sizeof a->shape[0] * (size_t)a->ndim);
        assert_int_equal(a->shape[0], j->rows);
        size_t bytes = (size_t)vi_tensor_numel(a) * vi_dtype_size(a->dtype);
        if (memcmp(a->data, b->data, bytes) != 0)
            fprintf(stderr, "request %d (%s, %d rows): output '%s' differs from the solo run\n", r,
                    fmt_name(j->fmt), j->rows, a->name);
        assert_memory_equal(a->data, b->data, bytes);
    }
    assert_string_equal(got.id, json_string_value(json_object_get(got.receipt, "request_id")));

    /* the receipt: same commitments as the solo run, signed by the server's key */
    vi_receipt rc;
    st = vi_receipt_from_json(got.receipt, &rc, &err);
    if (st != VI_OK)
        fprintf(stderr, "request %d receipt: %s\n", r, err.msg);
    assert_int_equal(st, VI_OK);
    char h1[65], h2[65];
    digest_hex(rc.output_digest, h1);
    digest_hex(want->receipt.output_digest, h2);
    assert_string_equal(h1, h2);
    digest_hex(rc.input_digest, h1);
    digest_hex(want->receipt.input_digest, h2);
    assert_string_equal(h1, h2);
    assert_memory_equal(rc.model_digest, want->receipt.model_digest, VI_SHA256_LEN);
    assert_string_equal(rc.request_id, want->receipt.request_id);
    assert_int_equal(rc.n_params, want->receipt.n_params);
    for (int i = 0; i < rc.n_params; i++) {
        assert_string_equal(rc.params[i].key, want->receipt.params[i].key);
        assert_string_equal(rc.params[i].value, want->receipt.params[i].value);
    }
    vi_receipt_verdict verdict;
    st = vi_receipt_check(&rc, S.pub, &verdict, &err);
    if (st != VI_OK)
        fprintf(stderr, "request %d receipt check: %s\n", r, err.msg);
    assert_int_equal(st, VI_OK);
    assert_int_equal(verdict, VI_RECEIPT_SIGNED);
    if (rc.signature_algorithm == VI_SIG_ED25519_MERKLE) {
        char want[96];
        snprintf(want, sizeof want, "signed (batch of %u, leaf %u)", (unsigned)rc.batch_size,
                 (unsigned)rc.batch_index);
        assert_string_equal(err.msg, want);
        assert_true(rc.batch_size > 1);
    } else {
        assert_int_equal(rc.signature_algorithm, VI_SIG_ED25519);
        assert_string_equal(err.msg, "signed");
    }
    j->receipt = rc;
    if (receipt_out)
        *receipt_out = json_incref(got.receipt);
    vi_kserve_response_free(&got);
}

/* POST /v2/models/mlp/verify of a request with its response (JSON outputs)
 * or its receipt alone (binary outputs); must be verified. */
static void verify_through_endpoint(int r, json_t *receipt)
{
    job *j = &S.jobs[r];
    char *evidence;
    const char *what;
    if (binary_out(j->fmt)) {
        evidence = json_dumps(receipt, JSON_COMPACT);
        what = "receipt";
    } else {
        evidence = strndup(j->resp_body, j->resp_len);
        what = "response";
    }
    size_t cap = strlen(j->json) + strlen(evidence) + 256;
    char *body = malloc(cap);
    snprintf(body, cap, "{\"request\":%s,\"%s\":%s,\"public_key\":\"%s\"}", j->json, what, evidence,
             S.pub_hex);
    int status = 0;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(vt_http(S.port, "POST", "/v2/models/mlp/verify", NULL, body, strlen(body),
                             &status, NULL, &out, &len),
                     0);
    if (status != 200 || !strstr(out, "\"verified\":true"))
        fprintf(stderr, "verify of request %d (%s): %d %s\n", r, fmt_name(j->fmt), status, out);
    assert_int_equal(status, 200);
    json_t *v = json_loadb(out, len, 0, NULL);
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "verified")));
    json_decref(v);
    free(out);
    free(body);
    free(evidence);
}

/* The batch-signed receipts grouped by root: each group must be one whole
 * execution (sizes agree, indices 0..size-1 once each, one signature), since
 * every request of this test's executions is one of ours. Returns the number
 * of batches of more than one receipt. */
static int check_batches(void)
{
    static int seen[N_REQ]; /* 1: counted in a group already */
    memset(seen, 0, sizeof seen);
    int batches = 0;
    for (int a = 0; a < N_REQ; a++) {
        const vi_receipt *ra = &S.jobs[a].receipt;
        if (seen[a] || ra->signature_algorithm != VI_SIG_ED25519_MERKLE)
            continue;
        uint32_t n = ra->batch_size;
        assert_true(n > 1 && n <= N_REQ);
        int *hit = calloc(n, sizeof *hit);
        assert_non_null(hit);
        int members = 0;
        for (int b = a; b < N_REQ; b++) {
            const vi_receipt *rb = &S.jobs[b].receipt;
            if (rb->signature_algorithm != VI_SIG_ED25519_MERKLE ||
                memcmp(rb->batch_root, ra->batch_root, VI_SHA256_LEN) != 0)
                continue;
            assert_int_equal(rb->batch_size, n);
            assert_memory_equal(rb->signature, ra->signature, VI_ED25519_SIG_LEN);
            assert_true(rb->batch_index < n);
            assert_int_equal(hit[rb->batch_index], 0);
            hit[rb->batch_index] = 1;
            seen[b] = 1;
            members++;
        }
        if ((uint32_t)members != n)
            fprintf(stderr, "batch of %u receipts: %d of them answered\n", (unsigned)n, members);
        assert_int_equal(members, (int)n);
        free(hit);
        batches++;
    }
    return batches;
}

/* `verinfer verify` of a saved request and response (JSON outputs) with a
 * batch-signed receipt, pinned to the server's key: exit status 0. */
static void verify_with_cli(int r)
{
    job *j = &S.jobs[r];
    char reqp[700], respp[700], cmd[4096];
    snprintf(reqp, sizeof reqp, "%s/batch-%d.request.json", S.dir, r);
    snprintf(respp, sizeof respp, "%s/batch-%d.response.json", S.dir, r);
    assert_int_equal(vt_write_file(reqp, j->json, strlen(j->json)), 0);
    assert_int_equal(vt_write_file(respp, j->resp_body, j->resp_len), 0);
    snprintf(cmd, sizeof cmd, "'%s' verify '%s/mlp' '%s' '%s' --public-key %s", vt_bin(), S.repo,
             reqp, respp, S.pub_hex);
    char *out = NULL;
    int rc = vt_run(cmd, &out, NULL);
    if (rc != 0)
        fprintf(stderr, "%s: exit %d\n%s\n", cmd, rc, out ? out : "");
    assert_int_equal(rc, 0);
    free(out);
}

/* ==== tests ==== */

/* The in-process solo answers are those of `verinfer run` (a sample). */
static void test_solo_matches_cli(void **state)
{
    (void)state;
    int done = 0;
    for (int r = 0; r < N_REQ && done < CLI_SAMPLE; r += 37) {
        job *j = &S.jobs[r];
        if (binary_out(j->fmt)) /* the CLI prints JSON only */
            continue;
        done++;
        char reqp[700], outp[700], cmd[4096];
        snprintf(reqp, sizeof reqp, "%s/cli-%d.json", S.dir, r);
        snprintf(outp, sizeof outp, "%s/cli-%d.out.json", S.dir, r);
        assert_int_equal(vt_write_file(reqp, j->json, strlen(j->json)), 0);
        snprintf(cmd, sizeof cmd, "'%s' run '%s/mlp' '%s' --key '%s' -o '%s'", vt_bin(), S.repo,
                 reqp, S.key, outp);
        char *e = NULL;
        int rc = vt_run(cmd, NULL, &e);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", cmd, e ? e : "");
        free(e);
        assert_int_equal(rc, 0);
        size_t len = 0;
        char *text = vt_read_file(outp, &len);
        assert_non_null(text);
        vi_kserve_response cli = {0};
        vi_error err = {{0}};
        assert_int_equal(vi_kserve_parse_response(text, len, NULL, 0, &cli, &err), VI_OK);
        assert_int_equal(cli.n_outputs, j->solo.n_outputs);
        for (int i = 0; i < cli.n_outputs; i++)
            assert_memory_equal(cli.outputs[i].data, j->solo.outputs[i].data,
                                (size_t)vi_tensor_numel(&cli.outputs[i]) *
                                    vi_dtype_size(cli.outputs[i].dtype));
        char h[65];
        digest_hex(j->solo.receipt.output_digest, h);
        assert_string_equal(json_string_value(json_object_get(cli.receipt, "output_digest")), h);
        digest_hex(j->solo.receipt.input_digest, h);
        assert_string_equal(json_string_value(json_object_get(cli.receipt, "input_digest")), h);
        vi_kserve_response_free(&cli);
        free(text);
    }
    assert_int_equal(done, CLI_SAMPLE);
}

static void test_concurrent_clients(void **state)
{
    (void)state;
    char *before = get_metrics();
    int64_t exec0 = metric(before, "verinfer_inference_exec_count");
    int64_t rows0 = metric(before, "verinfer_inference_count");
    int64_t ok0 = metric(before, "verinfer_inference_request_success");
    free(before);

    pthread_t threads[N_CLIENTS];
    client clients[N_CLIENTS];
    double t0 = now_s();
    for (int c = 0; c < N_CLIENTS; c++) {
        clients[c].id = c;
        clients[c].keep_alive = c % 2;
        assert_int_equal(pthread_create(&threads[c], NULL, client_main, &clients[c]), 0);
    }
    for (int c = 0; c < N_CLIENTS; c++)
        pthread_join(threads[c], NULL);
    double elapsed = now_s() - t0;

    /* metrics first: the verify calls below do not count as inference requests */
    char *after = get_metrics();
    int64_t execs = metric(after, "verinfer_inference_exec_count") - exec0;
    int64_t rows = metric(after, "verinfer_inference_count") - rows0;
    int64_t oks = metric(after, "verinfer_inference_request_success") - ok0;
    assert_int_equal(metric(after, "verinfer_inference_pending_request_count"), 0);
    assert_int_equal(metric(after, "verinfer_inference_batch_size_sum"), rows + rows0);
    assert_int_equal(metric(after, "verinfer_inference_batch_size_count"), execs + exec0);
    free(after);

    int per_fmt[4] = {0}, batch_signed = 0, verified = 0, batch_verified = 0;
    for (int r = 0; r < N_REQ; r++) {
        json_t *receipt = NULL;
        check_response(r, &receipt);
        per_fmt[S.jobs[r].fmt]++;
        int in_batch = S.jobs[r].receipt.signature_algorithm == VI_SIG_ED25519_MERKLE;
        batch_signed += in_batch;
        /* a sample, and the first batch-signed receipts whatever their place */
        if (r % VERIFY_EVERY == 0 || (in_batch && batch_verified < 4)) {
            verify_through_endpoint(r, receipt);
            verified++;
            batch_verified += in_batch;
        }
        json_decref(receipt);
    }
    int cli_checked = 0;
    for (int r = 0; r < N_REQ && !cli_checked; r++)
        if (S.jobs[r].receipt.signature_algorithm == VI_SIG_ED25519_MERKLE &&
            !binary_out(S.jobs[r].fmt)) {
            verify_with_cli(r);
            cli_checked = 1;
        }
    assert_true(cli_checked);
    int batches = check_batches();
    printf("concurrency: %d of %d receipts batch-signed, in %d batches of more than one; "
           "%d of them verified by the endpoint\n",
           batch_signed, N_REQ, batches, batch_verified);
    assert_true(batches >= 1);
    assert_true(batch_verified >= 1);
    printf("concurrency: %d requests (%lld rows; json %d, binary %d, json/binary %d, "
           "binary/json %d) from %d clients in %.2f s: %lld executions, %.2f requests and "
           "%.2f rows per execution; %d receipts verified by the endpoint\n",
           N_REQ, (long long)S.total_rows, per_fmt[0], per_fmt[1], per_fmt[2], per_fmt[3],
           N_CLIENTS, elapsed, (long long)execs, (double)N_REQ / (double)execs,
           (double)rows / (double)execs, verified);
    assert_int_equal(oks, N_REQ);
    assert_int_equal(rows, S.total_rows);
    assert_true(execs > 0);
    assert_true(execs < N_REQ); /* real batches of more than one request formed */
    for (int f = 0; f < 4; f++)
        assert_true(per_fmt[f] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solo_matches_cli),
        cmocka_unit_test(test_concurrent_clients),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
