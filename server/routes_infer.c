/* server/routes_infer.c — POST /v2/models/{m}[/versions/{v}]/infer: the
 * body is split at Inference-Header-Content-Length (JSON, then binary
 * tensor data), decoded and bound to the model, then handed to the model's
 * batcher while the connection is suspended; the batcher's done callback
 * resumes it and the reply (JSON, or JSON + binary outputs) carries the
 * receipt in its JSON part. Also the metrics of each request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routes.h"

#define HEADER_JSON_LEN "Inference-Header-Content-Length"

typedef struct infer_state {
    vi_http_req *r;
    vi_repo_model *m; /* our reference; NULL once released */
    vi_kserve_request req;
    vi_batch_item item;
    int prepared; /* item.job holds bound inputs */
    int counted;  /* the pending gauge counts this request */
    vi_status submit_st;
    vi_error submit_err;
    int64_t start_ns;
} infer_state;

/* The request is answered: outcome and duration counted, pending gauge down. */
static void account(infer_state *s, int ok, vi_fail_reason reason)
{
    if (!s->counted)
        return;
    s->counted = 0;
    int64_t us = (vi_monotonic_ns() - s->start_ns) / 1000;
    vi_metrics_request_done(s->m->metrics, ok, reason, (uint64_t)(us > 0 ? us : 0));
}

static void release(infer_state *s)
{
    if (s->m) {
        account(s, 0, VI_FAIL_OTHER);
        vi_repo_release(((vi_server *)s->r->app)->repo, s->m);
        s->m = NULL;
    }
}

static void state_free(vi_http_req *r, void *p)
{
    infer_state *s = p;
    if (!s)
        return;
    if (s->prepared)
        vi_infer_job_free(&s->item.job);
    vi_kserve_request_free(&s->req);
    release(s);
    free(s);
    r->state = NULL;
}

/* Replies with an error for status st and counts the failure: a 5xx of the
 * execution is BACKEND, anything wrong with the request OTHER. */
static void fail(infer_state *s, vi_status st, int executing, const char *msg)
{
    unsigned code = vi_http_status_of(st);
    account(s, 0, executing && code >= 500 ? VI_FAIL_BACKEND : VI_FAIL_OTHER);
    vi_http_reply_error(s->r, code, "%s", msg);
    release(s);
}

/* Where the JSON ends: the Inference-Header-Content-Length header, or the whole body. */
static vi_status json_length(vi_http_req *r, size_t *json_len, vi_error *err)
{
    const char *h = vi_http_header(r, HEADER_JSON_LEN);
    *json_len = r->body_len;
    if (!h)
        return VI_OK;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(h, &end, 10);
    if (h[0] < '0' || h[0] > '9' || errno || *end != '\0')
        return vi_fail(
            err, VI_ERR_INVALID,
            "the " HEADER_JSON_LEN " header must be a non-negative integer (got '%.64s')", h);
    if (v > r->body_len)
        return vi_fail(err, VI_ERR_INVALID,
                       "the " HEADER_JSON_LEN " header says %llu bytes of JSON but the body has "
                       "only %zu bytes",
                       v, r->body_len);
    *json_len = (size_t)v;
    return VI_OK;
}

/* A raw binary request (Inference-Header-Content-Length: 0): the body is the
 * bytes of the model's only input, one row; every output comes back binary. */
static vi_status parse_raw(const vi_server *srv, const vi_repo_model *m, vi_http_req *r,
                           vi_kserve_request *req, vi_error *err)
{
    const vi_graph *g = &m->model.graph;
    if (g->n_inputs != 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "a raw binary request (" HEADER_JSON_LEN ": 0) needs a model with one "
                       "input; '%s' has %d",
                       m->name, g->n_inputs);
    const vi_value *v = &g->values[g->inputs[0]];
    json_t *shape = json_array();
    json_array_append_new(shape, json_integer(1));
    for (int d = 1; d < v->ndim; d++)
        json_array_append_new(shape, json_integer(v->shape[d]));
    json_t *j =
        json_pack("{s:[{s:s, s:s, s:o, s:{s:I}}], s:{s:b}}", "inputs", "name", v->name, "datatype",
                  vi_dtype_kserve_name(v->dtype), "shape", shape, "parameters", "binary_data_size",
                  (json_int_t)r->body_len, "parameters", "binary_data_output", 1);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    vi_status st = vi_kserve_parse_request(text, strlen(text), (const uint8_t *)r->body,
                                           r->body_len, &srv->limits, req, err);
    free(text);
    return st;
}

/* Runs on a daemon thread once the batcher is done with the item (or refused it). */
static void infer_reply(vi_http_req *r)
{
    infer_state *s = r->state;
    vi_infer_job *job = &s->item.job;
    if (s->item.batch_rows > 0) /* for the access log: rows of the execution it ran in */
        r->log_batch = (int)s->item.batch_rows;
    if (s->submit_st == VI_ERR_LIMIT) {
        static const char *const RETRY[] = {"Retry-After", "1", NULL};
        account(s, 0, VI_FAIL_REJECTED);
        vi_http_reply_error_h(r, 503, RETRY, "model '%s' is busy: %s", s->m->name,
                              s->submit_err.msg);
        release(s);
        return;
    }
    if (s->submit_st != VI_OK) {
        account(s, 0, VI_FAIL_REJECTED);
        vi_http_reply_error(r, 503, "model '%s' is not available: %s", s->m->name,
                            s->submit_err.msg);
        release(s);
        return;
    }
    if (job->status != VI_OK) {
        fail(s, job->status, 1, job->err.msg);
        return;
    }
    char *json = NULL;
    uint8_t *bin = NULL;
    size_t json_len = 0, bin_len = 0;
    vi_error err = {{0}};
    /* the receipt comes signed (with the batch it ran in) from the batcher */
    vi_status st =
        vi_infer_response(&s->m->im, &s->req, &job->res, &json, &json_len, &bin, &bin_len, &err);
    if (st != VI_OK) {
        fail(s, st, 1, err.msg);
        return;
    }
    account(s, 1, VI_FAIL_OTHER);
    if (bin_len == 0) {
        free(bin);
        vi_http_reply(r, 200, "application/json", json, json_len, 1, NULL);
    } else {
        char *body = malloc(json_len + bin_len);
        if (!body) {
            free(json);
            free(bin);
            vi_http_reply_error(r, 500, "out of memory building the response");
            release(s);
            return;
        }
        memcpy(body, json, json_len);
        memcpy(body + json_len, bin, bin_len);
        free(json);
        free(bin);
        char hlen[32];
        snprintf(hlen, sizeof hlen, "%zu", json_len);
        const char *hdr[] = {HEADER_JSON_LEN, hlen, NULL};
        vi_http_reply(r, 200, "application/octet-stream", body, json_len + bin_len, 1, hdr);
    }
    release(s);
}

static void infer_done(vi_batch_item *item, void *arg)
{
    (void)item;
    vi_http_resume(((infer_state *)arg)->r);
}

void vi_route_infer(vi_http_req *r)
{
    vi_server *srv = r->app;
    infer_state *s = calloc(1, sizeof *s);
    if (!s) {
        vi_http_reply_error(r, 500, "out of memory");
        return;
    }
    s->r = r;
    s->start_ns = vi_monotonic_ns();
    r->state = s;
    r->state_free = state_free;
    if (!(s->m = vi_route_model(r, 503)))
        return;
    s->counted = 1;
    vi_metrics_request_received(s->m->metrics);

    vi_error err = {{0}};
    size_t json_len = 0;
    vi_status st = json_length(r, &json_len, &err);
    if (st == VI_OK && json_len == 0 && r->body_len > 0 &&
        vi_http_header(r, HEADER_JSON_LEN) != NULL)
        st = parse_raw(srv, s->m, r, &s->req, &err);
    else if (st == VI_OK)
        st = vi_kserve_parse_request(r->body, json_len, (const uint8_t *)r->body + json_len,
                                     r->body_len - json_len, &srv->limits, &s->req, &err);
    if (st == VI_OK && (st = vi_infer_prepare(&s->m->im, &s->req, &s->item.job, &err)) == VI_OK)
        s->prepared = 1;
    if (st != VI_OK) {
        fail(s, st, 0, err.msg);
        return;
    }
    r->log_rows = s->item.job.rows;
    s->item.batch_rows = 0;
    s->item.done = infer_done;
    s->item.arg = s;
    /* suspend first: the done callback may resume before submit returns */
    vi_http_suspend(r, infer_reply);
    s->submit_st = vi_batcher_submit(s->m->batcher, &s->item, &s->submit_err);
    if (s->submit_st != VI_OK)
        vi_http_resume(r);
}
