/* server/routes_openai.c — the OpenAI-compatible endpoints of `verinfer
 * serve` for language models: /v1/models, /v1/completions,
 * /v1/chat/completions (JSON or server-sent events), /v1/verify, and
 * llama.cpp-style /tokenize and /detokenize. A completion is a job shared
 * (reference-counted) by the request and the model's scheduler; the request
 * side detaches from it in its state_free, so the scheduler never wakes a
 * freed request and a client that goes away cancels its job. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/hex.h"
#include "bg_worker.h"
#include "metrics.h"
#include "openai.h"
#include "json_num.h"
#include "routes.h"

/* ==== Helpers ==== */

static void reply_oai_error(vi_http_req *r, unsigned status, const char *param, const char *msg)
{
    static const char *const retry[] = {"Retry-After", "1", NULL};
    json_t *e = vi_oai_error(status, msg, param);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (!text) {
        vi_http_reply_error(r, 500, "out of memory");
        return;
    }
    vi_http_reply(r, status, "application/json", text, strlen(text), 1,
                  status == 503 ? retry : NULL);
}

static unsigned status_of(vi_status st)
{
    return st == VI_ERR_NOT_FOUND ? 404 : st == VI_ERR_NOMEM || st == VI_ERR_INTERNAL ? 500 : 400;
}

static json_t *load_body(vi_http_req *r)
{
    json_error_t je;
    json_t *b = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!b) {
        char msg[300];
        snprintf(msg, sizeof msg, "the body is not valid JSON: %s (line %d)", je.text, je.line);
        reply_oai_error(r, 400, NULL, msg);
    }
    return b;
}

/* The served model named `name` (NULL: the first); replies 404 otherwise. */
static vi_llm *find_llm(vi_http_req *r, const char *name)
{
    vi_server *s = r->app;
    for (int i = 0; i < s->n_llms; i++)
        if (!name || strcmp(s->llms[i]->name, name) == 0) {
            snprintf(r->log_model, sizeof r->log_model, "%s", s->llms[i]->name);
            return s->llms[i];
        }
    char msg[VI_NAME_MAX + 64];
    snprintf(msg, sizeof msg,
             name ? "The model '%s' does not exist" : "no language model is served%s",
             name ? name : "");
    reply_oai_error(r, 404, "model", msg);
    return NULL;
}

static void random_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        ssize_t k = getrandom(b + got, n - got, 0);
        if (k <= 0) { /* fall back on the clock: ids need only be unlikely to repeat */
            uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)clock();
            for (; got < n; got++, t = t * 6364136223846793005ULL + 1442695040888963407ULL)
                b[got] = (uint8_t)(t >> 56);
            return;
        }
        got += (size_t)k;
    }
}

/* ==== Models ==== */

void vi_route_oai_models(vi_http_req *r)
{
    vi_server *s = r->app;
    json_t *data = json_array();
    for (int i = 0; i < s->n_llms; i++) {
        char hex[2 * VI_SHA256_LEN + 1];
        vi_hex_encode(s->llms[i]->digest, VI_SHA256_LEN, hex);
        json_array_append_new(data,
                              json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}", "id", s->llms[i]->name,
                                        "object", "model", "created", 0, "owned_by", "verinfer",
                                        "digest", hex, "n_ctx", (int)s->llms[i]->n_ctx));
    }
    vi_http_reply_json(r, 200, json_pack("{s:s, s:o}", "object", "list", "data", data));
}

/* ==== Completions ==== */

typedef struct oai_call {
    vi_oai_req q;
    vi_server *s;
    vi_llm *l;
    vi_llm_job *job;
    vi_http_req *r;
    char id[48];
    int64_t created;
    int resumed;          /* under job->mu */
    pthread_cond_t moved; /* signalled (under job->mu) when the job makes progress */
    unsigned fail_status; /* a submit failure to report on resume */
    char fail_msg[VI_ERROR_MSG_MAX];
    /* streaming, reader thread only */
    size_t emitted;
    int phase; /* 0 start, 1 content, 2 finals queued */
    char *buf;
    size_t buf_len, buf_off;
} oai_call;

static void call_free(vi_http_req *r, void *state)
{
    oai_call *c = state;
    (void)r;
    if (c->job) {
        vi_llm_job_detach(c->job);
        vi_llm_job_unref(c->job);
    }
    vi_oai_req_free(&c->q);
    pthread_cond_destroy(&c->moved);
    free(c->buf);
    free(c);
}

/* Runs on the scheduler thread with job->mu held. */
static void call_notify(vi_llm_job *j, void *arg)
{
    oai_call *c = arg;
    if (!c->q.stream) {
        if (j->finish != VI_LLM_RUNNING && !c->resumed) {
            c->resumed = 1;
            vi_http_resume(c->r);
        }
    } else {
        pthread_cond_signal(&c->moved);
    }
}

/* The "verinfer" object of a finished job (ids are final: no lock needed). */
static json_t *call_verinfer(oai_call *c, vi_error *err)
{
    vi_receipt rc;
    vi_llm_job *j = c->job;
    if (vi_oai_receipt(c->l, &j->p, j->ids, j->n_ids, c->s->engine_id, c->id, c->s->key, &rc,
                       err) != VI_OK)
        return NULL;
    json_t *v = vi_oai_verinfer_json(&rc, &j->p, j->ids, j->n_ids);
    if (!v)
        vi_fail(err, VI_ERR_NOMEM, "out of memory for the receipt");
    return v;
}

static void completion_resume(vi_http_req *r)
{
    oai_call *c = r->state;
    if (c->fail_status) {
        reply_oai_error(r, c->fail_status, NULL, c->fail_msg);
        return;
    }
    vi_llm_job *j = c->job;
    vi_error e = {{0}};
    if (j->finish == VI_LLM_FINISH_ERROR) {
        reply_oai_error(r, 500, NULL, j->err.msg);
        return;
    }
    json_t *v = call_verinfer(c, &e);
    if (!v) {
        reply_oai_error(r, 500, NULL, e.msg);
        return;
    }
    json_t *o = vi_oai_response(&c->q, c->id, c->created, c->s->engine_id, j->text, j->text_len,
                                vi_llm_finish_name(j->finish), j->p.n_prompt, j->n_ids, v);
    if (!o) {
        reply_oai_error(r, 500, NULL, "out of memory for the response");
        return;
    }
    vi_http_reply_json(r, 200, o);
}

/* Appends "data: <json>\n\n" (consumes j) to the call's buffer. */
static void put_event(oai_call *c, json_t *j)
{
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    const char *s = t ? t
                      : "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\","
                        "\"param\":null,\"code\":null}}";
    size_t n = strlen(s), need = c->buf_len + n + 8;
    char *b = realloc(c->buf, need);
    if (b) {
        c->buf = b;
        memcpy(b + c->buf_len, "data: ", 6);
        memcpy(b + c->buf_len + 6, s, n);
        memcpy(b + c->buf_len + 6 + n, "\n\n", 2);
        c->buf_len += n + 8;
    }
    free(t);
}

static void put_done(oai_call *c)
{
    char *b = realloc(c->buf, c->buf_len + 14);
    if (b) {
        c->buf = b;
        memcpy(b + c->buf_len, "data: [DONE]\n\n", 14);
        c->buf_len += 14;
    }
}

/* The final events of a finished job. */
static void put_finals(oai_call *c)
{
    vi_llm_job *j = c->job;
    vi_error e = {{0}};
    if (j->finish == VI_LLM_FINISH_ERROR) {
        put_event(c, vi_oai_error(500, j->err.msg, NULL));
        put_done(c);
        return;
    }
    json_t *v = call_verinfer(c, &e);
    if (!v) {
        put_event(c, vi_oai_error(500, e.msg, NULL));
        put_done(c);
        return;
    }
    const char *fin = vi_llm_finish_name(j->finish);
    put_event(c, vi_oai_chunk(&c->q, c->id, c->created, c->s->engine_id, 0, NULL, 0, fin, 0, 0, 0,
                              c->q.include_usage ? NULL : v));
    if (c->q.include_usage)
        put_event(c, vi_oai_chunk(&c->q, c->id, c->created, c->s->engine_id, 0, NULL, 0, NULL, 1,
                                  j->p.n_prompt, j->n_ids, v));
    put_done(c);
}

/* Longest wait of the stream reader for the next token (it then returns 0
 * and is called again). */
#define STREAM_WAIT_MS 100

static long stream_read(vi_http_req *r, void *arg, char *out, size_t max)
{
    oai_call *c = arg;
    if (c->buf_off == c->buf_len) {
        c->buf_off = c->buf_len = 0;
        if (c->phase == 2)
            return -1;
        vi_llm_job *j = c->job;
        /* under the job lock (which the scheduler takes for every token):
         * only what is new; the events are built after it */
        int role = c->phase == 0 && c->q.chat;
        char *piece = NULL;
        size_t piece_len = 0;
        pthread_mutex_lock(&j->mu);
        c->phase = 1;
        if (j->stable_len > c->emitted) {
            piece_len = j->stable_len - c->emitted;
            if ((piece = malloc(piece_len)) != NULL)
                memcpy(piece, j->text + c->emitted, piece_len);
            c->emitted = j->stable_len;
        } else if (j->finish != VI_LLM_RUNNING) {
            c->phase = 2;
        } else if (!role) {
            /* Wait for the scheduler's next token, at most STREAM_WAIT_MS at
             * a time; libmicrohttpd calls again after a 0. (Suspending the
             * connection from inside this reader instead lets a client that
             * drops a stream break the next suspended request on the same
             * daemon thread with libmicrohttpd 0.9.75.) */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += STREAM_WAIT_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&c->moved, &j->mu, &until);
            pthread_mutex_unlock(&j->mu);
            return 0;
        }
        pthread_mutex_unlock(&j->mu);
        if (role)
            put_event(c, vi_oai_chunk(&c->q, c->id, c->created, c->s->engine_id, 1, "", 0, NULL, 0,
                                      0, 0, NULL));
        if (piece_len) { /* a failed copy gives the out-of-memory event */
            put_event(c, piece ? vi_oai_chunk(&c->q, c->id, c->created, c->s->engine_id, 0, piece,
                                              piece_len, NULL, 0, 0, 0, NULL)
                               : NULL);
            free(piece);
        }
        if (c->phase == 2)
            put_finals(c);
        if (c->buf_len == 0)
            return -1;
    }
    size_t n = c->buf_len - c->buf_off;
    if (n > max)
        n = max;
    memcpy(out, c->buf + c->buf_off, n);
    c->buf_off += n;
    return (long)n;
}

static void completion(vi_http_req *r, int chat)
{
    vi_server *s = r->app;
    json_t *body = load_body(r);
    if (!body)
        return;
    oai_call *c = calloc(1, sizeof *c);
    if (!c) {
        json_decref(body);
        reply_oai_error(r, 500, NULL, "out of memory");
        return;
    }
    c->s = s;
    c->r = r;
    pthread_cond_init(&c->moved, NULL);
    r->state = c;
    r->state_free = call_free;
    char param[VI_OAI_PARAM_MAX];
    vi_error err = {{0}};
    vi_status st = vi_oai_parse(body, chat, &c->q, param, &err);
    json_decref(body);
    if (st != VI_OK) {
        reply_oai_error(r, status_of(st), param, err.msg);
        return;
    }
    if (!(c->l = find_llm(r, c->q.model)))
        return;
    if ((st = vi_oai_prepare(c->l, &c->q, &err)) != VI_OK) {
        reply_oai_error(r, status_of(st), chat ? "messages" : "prompt", err.msg);
        return;
    }
    if (!c->q.seed_given) {
        uint64_t seed;
        random_bytes(&seed, sizeof seed);
        c->q.p.sp.seed = seed >> 1; /* fits an int64 for clients */
    }
    uint8_t rnd[12];
    char hex[25];
    random_bytes(rnd, sizeof rnd);
    vi_hex_encode(rnd, sizeof rnd, hex);
    snprintf(c->id, sizeof c->id, "%s%s", chat ? "chatcmpl-" : "cmpl-", hex);
    c->created = (int64_t)time(NULL);
    if ((st = vi_llm_job_new(&c->job, &c->q.p, &err)) != VI_OK) {
        reply_oai_error(r, 500, NULL, err.msg);
        return;
    }
    c->job->notify = call_notify;
    c->job->notify_arg = c;
    if (c->q.stream) {
        if ((st = vi_llm_submit(c->l, c->job, &err)) != VI_OK) {
            reply_oai_error(r, 503, NULL, err.msg);
            return;
        }
        static const char *const hdr[] = {"Cache-Control", "no-cache", NULL};
        vi_http_reply_stream(r, 200, "text/event-stream", hdr, stream_read, c);
        return;
    }
    vi_http_suspend(r, completion_resume);
    if ((st = vi_llm_submit(c->l, c->job, &err)) != VI_OK) {
        pthread_mutex_lock(&c->job->mu);
        c->fail_status = 503;
        snprintf(c->fail_msg, sizeof c->fail_msg, "%s", err.msg);
        c->resumed = 1;
        pthread_mutex_unlock(&c->job->mu);
        vi_http_resume(r);
    }
}

void vi_route_oai_completions(vi_http_req *r)
{
    completion(r, 0);
}

void vi_route_oai_chat(vi_http_req *r)
{
    completion(r, 1);
}

/* ==== Verify ==== */

/* A /v1/verify re-execution, run by the server's verify worker (or inline
 * without one) and answered when it resumes the request. */
typedef struct verify_job {
    vi_http_req *r;
    const vi_llm *l;
    json_t *body, *result;
    int threads;
    vi_isa isa;
    uint8_t key[VI_ED25519_KEY_LEN];
    int have_key, verified;
    int refused; /* the worker did not take it (queue full, shutting down): 503 */
    vi_status st;
    vi_error err;
    char param[VI_OAI_PARAM_MAX];
} verify_job;

static void verify_job_free(vi_http_req *r, void *p)
{
    verify_job *j = p;
    json_decref(j->body);
    json_decref(j->result);
    free(j);
    r->state = NULL;
}

static void verify_job_run(verify_job *j)
{
    j->st = vi_oai_verify(j->l, json_object_get(j->body, "request"),
                          json_object_get(j->body, "response"), j->threads, j->isa,
                          j->have_key ? j->key : NULL, &j->verified, &j->result, j->param, &j->err);
}

static void verify_job_bg(void *arg)
{
    verify_job *j = arg;
    verify_job_run(j);
    vi_http_resume(j->r);
}

static void verify_reply(vi_http_req *r)
{
    verify_job *j = r->state;
    if (j->st != VI_OK) {
        reply_oai_error(r, j->refused ? 503 : status_of(j->st), j->param, j->err.msg);
        return;
    }
    vi_http_reply_json(r, 200, j->result);
    j->result = NULL; /* consumed */
}

void vi_route_oai_verify(vi_http_req *r)
{
    vi_server *s = r->app;
    json_t *body = load_body(r);
    if (!body)
        return;
    json_t *req = json_object_get(body, "request"), *resp = json_object_get(body, "response");
    if (!json_is_object(req) || !json_is_object(resp)) {
        reply_oai_error(r, 400, !json_is_object(req) ? "request" : "response",
                        "the body must be {\"request\": <completion request>, \"response\": "
                        "<its response or its 'verinfer' object>}");
        json_decref(body);
        return;
    }
    json_t *m = json_object_get(req, "model");
    vi_llm *l = find_llm(r, json_is_string(m) ? json_string_value(m) : NULL);
    if (!l) {
        json_decref(body);
        return;
    }
    verify_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        reply_oai_error(r, 500, NULL, "out of memory");
        return;
    }
    j->r = r;
    j->l = l;
    j->body = body;
    j->threads = s->llm_threads > 0 ? s->llm_threads : 1;
    j->isa = s->llm_isa;
    j->have_key = s->public_key_hex[0] && vi_hex_decode(s->public_key_hex, j->key, sizeof j->key,
                                                        "public key", &j->err) == VI_OK;
    r->state = j;
    r->state_free = verify_job_free;
    if (!s->verify_worker) {
        verify_job_run(j);
        verify_reply(r);
        return;
    }
    /* suspend first: the worker may resume before submit returns */
    vi_http_suspend(r, verify_reply);
    vi_error e = {{0}};
    vi_status st = vi_bg_submit(s->verify_worker, verify_job_bg, j, &e);
    if (st != VI_OK) {
        j->st = st;
        j->refused = 1;
        vi_fail(&j->err, st,
                st == VI_ERR_LIMIT ? "the verification queue is full (%s); retry later" : "%s",
                e.msg);
        vi_http_resume(r);
    }
}

json_t *vi_route_error_body(const char *path, unsigned status, const char *message)
{
    int openai = strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/v1") == 0 ||
                 strcmp(path, "/tokenize") == 0 || strcmp(path, "/detokenize") == 0;
    return openai ? vi_oai_error(status, message, NULL) : NULL;
}

/* ==== Tokenize / detokenize ==== */

static vi_llm *body_llm(vi_http_req *r, json_t *body)
{
    json_t *m = json_object_get(body, "model");
    return find_llm(r, json_is_string(m) ? json_string_value(m) : NULL);
}

void vi_route_tokenize(vi_http_req *r)
{
    json_t *body = load_body(r);
    if (!body)
        return;
    json_t *content = json_object_get(body, "content");
    json_t *as = json_object_get(body, "add_special"), *ps = json_object_get(body, "parse_special");
    vi_llm *l = NULL;
    if (!json_is_string(content))
        reply_oai_error(r, 400, "content", "'content' (a string) is required");
    else if ((as && !json_is_boolean(as)) || (ps && !json_is_boolean(ps)))
        reply_oai_error(r, 400, as && !json_is_boolean(as) ? "add_special" : "parse_special",
                        "'add_special' and 'parse_special' must be booleans");
    else if ((l = body_llm(r, body))) {
        int32_t *ids = NULL;
        size_t n = 0;
        vi_error err = {{0}};
        vi_status st = vi_tokenize(l->tok, json_string_value(content), json_string_length(content),
                                   json_is_true(as), ps ? json_is_true(ps) : 1, &ids, &n, &err);
        if (st != VI_OK) {
            reply_oai_error(r, status_of(st), "content", err.msg);
        } else {
            json_t *a = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_integer(ids[i]));
            vi_http_reply_json(r, 200, json_pack("{s:o}", "tokens", a));
        }
        free(ids);
    }
    json_decref(body);
}

void vi_route_detokenize(vi_http_req *r)
{
    json_t *body = load_body(r);
    if (!body)
        return;
    json_t *toks = json_object_get(body, "tokens");
    vi_llm *l = NULL;
    size_t n = json_array_size(toks);
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    int ok = json_is_array(toks) && ids;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *e = json_array_get(toks, i);
        ok = json_is_integer(e) && json_integer_value(e) >= INT32_MIN &&
             json_integer_value(e) <= INT32_MAX;
        if (ok)
            ids[i] = (int32_t)json_integer_value(e);
    }
    if (!ok)
        reply_oai_error(r, 400, "tokens", "'tokens' must be an array of token ids");
    else if ((l = body_llm(r, body))) {
        char *text = NULL;
        size_t len = 0;
        vi_error err = {{0}};
        vi_status st = vi_detokenize(l->tok, ids, n, 0, &text, &len, &err);
        if (st != VI_OK)
            reply_oai_error(r, status_of(st), "tokens", err.msg);
        else
            vi_http_reply_json(r, 200, json_pack("{s:o}", "content", vi_oai_text(text, len)));
        free(text);
    }
    free(ids);
    json_decref(body);
}

/* ==== Metrics ==== */

void vi_route_metrics_all(vi_http_req *r)
{
    vi_server *s = r->app;
    char *text = vi_repo_metrics(s->repo);
    if (!text) {
        vi_http_reply_error(r, 500, "out of memory rendering the metrics");
        return;
    }
    vi_sb sb;
    vi_sb_init(&sb);
    vi_sb_puts(&sb, text);
    free(text);
    static const char *const names[] = {
        "verinfer_llm_steps_total",
        "forward calls of the scheduler",
        "verinfer_llm_steps_multi_seq_total",
        "forward calls with more than one sequence",
        "verinfer_llm_rows_total",
        "rows over all forward calls",
        "verinfer_llm_tokens_generated_total",
        "tokens sampled",
        "verinfer_llm_requests_done_total",
        "completions ended (any reason)",
        "verinfer_llm_requests_cancelled_total",
        "completions whose client went away",
        "verinfer_llm_requests_rejected_total",
        "completions refused (queue full, stopping)",
        "verinfer_llm_queue_size",
        "completions waiting for a slot",
        "verinfer_llm_active_sequences",
        "sequences being generated",
    };
    /* one snapshot per model, so that every series of a page agrees */
    vi_llm_stats *stats = calloc((size_t)s->n_llms + 1, sizeof *stats);
    if (!stats) {
        vi_sb_free(&sb);
        vi_http_reply_error(r, 500, "out of memory rendering the metrics");
        return;
    }
    for (int i = 0; i < s->n_llms; i++)
        vi_llm_stats_get(s->llms[i], &stats[i]);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k += 2) {
        char line[512];
        snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n", names[k], names[k + 1],
                 names[k], k >= 14 ? "gauge" : "counter");
        vi_sb_puts(&sb, line);
        for (int i = 0; i < s->n_llms; i++) {
            const vi_llm_stats st = stats[i];
            uint64_t v[] = {
                st.steps,           st.steps_multi,    st.rows,          st.tokens_generated,
                st.jobs_done,       st.jobs_cancelled, st.jobs_rejected, (uint64_t)st.queued,
                (uint64_t)st.active};
            char model[2 * VI_NAME_MAX + 1];
            vi_metrics_label_escape(s->llms[i]->name, model, sizeof model);
            snprintf(line, sizeof line, "%s{model=\"%s\"} %llu\n", names[k], model,
                     (unsigned long long)v[k / 2]);
            vi_sb_puts(&sb, line);
        }
    }
    free(stats);
    size_t len = 0;
    char *out = vi_sb_take(&sb, &len);
    if (!out) {
        vi_http_reply_error(r, 500, "out of memory rendering the metrics");
        return;
    }
    vi_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", out, len, 1, NULL);
}
