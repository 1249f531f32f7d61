/* server/openai.c — OpenAI wire format for verinfer's language models:
 * request validation, prompt preparation, completion digests and receipts,
 * response / chunk / error JSON, and verification by re-execution. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hex.h"
#include "openai.h"
#include "receipt_json.h"

/* ==== Parsing ==== */

static vi_status bad(char *param, const char *name, vi_error *err, vi_status st, const char *fmt,
                     const char *what)
{
    snprintf(param, VI_OAI_PARAM_MAX, "%s", name);
    return vi_fail(err, st, fmt, name, what);
}

/* A number field in [lo, hi] (open at lo when lo_open); absent or null keeps *out. */
static vi_status get_num(json_t *b, const char *name, double lo, double hi, int lo_open, float *out,
                         char *param, vi_error *err)
{
    json_t *v = json_object_get(b, name);
    if (!v || json_is_null(v))
        return VI_OK;
    if (!json_is_number(v))
        return bad(param, name, err, VI_ERR_INVALID, "'%s' must be a number%s", "");
    double d = json_number_value(v);
    if (d != d || d > hi || d < lo || (lo_open && d == lo)) {
        snprintf(param, VI_OAI_PARAM_MAX, "%s", name);
        return vi_fail(err, VI_ERR_INVALID, "'%s' must be in %s%g, %g] (got %g)", name,
                       lo_open ? "(" : "[", lo, hi, d);
    }
    *out = (float)d;
    return VI_OK;
}

/* An integer field in [lo, hi]; *given set when present and not null. */
static vi_status get_int(json_t *b, const char *name, long long lo, long long hi, long long *out,
                         int *given, char *param, vi_error *err)
{
    json_t *v = json_object_get(b, name);
    if (!v || json_is_null(v))
        return VI_OK;
    if (!json_is_integer(v))
        return bad(param, name, err, VI_ERR_INVALID, "'%s' must be an integer%s", "");
    long long x = json_integer_value(v);
    if (x < lo || x > hi) {
        snprintf(param, VI_OAI_PARAM_MAX, "%s", name);
        return vi_fail(err, VI_ERR_INVALID, "'%s' must be in [%lld, %lld] (got %lld)", name, lo, hi,
                       x);
    }
    *out = x;
    if (given)
        *given = 1;
    return VI_OK;
}

static vi_status get_bool(json_t *b, const char *name, int *out, char *param, vi_error *err)
{
    json_t *v = json_object_get(b, name);
    if (!v || json_is_null(v))
        return VI_OK;
    if (!json_is_boolean(v))
        return bad(param, name, err, VI_ERR_INVALID, "'%s' must be a boolean%s", "");
    *out = json_is_true(v);
    return VI_OK;
}

static vi_status parse_stop(json_t *b, vi_llm_params *p, char *param, vi_error *err)
{
    json_t *v = json_object_get(b, "stop");
    if (!v || json_is_null(v))
        return VI_OK;
    json_t *one[1] = {v};
    size_t n = 1;
    if (json_is_array(v)) {
        n = json_array_size(v);
        if (n > VI_LLM_MAX_STOP) {
            snprintf(param, VI_OAI_PARAM_MAX, "stop");
            return vi_fail(err, VI_ERR_INVALID, "'stop' holds at most %d strings (got %zu)",
                           VI_LLM_MAX_STOP, n);
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(v) ? json_array_get(v, i) : one[0];
        if (!json_is_string(s) || json_string_length(s) == 0 ||
            strlen(json_string_value(s)) != json_string_length(s))
            return bad(param, "stop", err, VI_ERR_INVALID,
                       "'%s' must be a non-empty string or an array of up to 4 of them%s", "");
        if (!(p->stop[p->n_stop] = strdup(json_string_value(s))))
            return vi_fail(err, VI_ERR_NOMEM, "out of memory for stop strings");
        p->n_stop++;
    }
    return VI_OK;
}

/* Fields verinfer does not implement: present and not neutral -> 400. */
static vi_status refuse_unsupported(json_t *b, int chat, char *param, vi_error *err)
{
    json_t *v;
    if ((v = json_object_get(b, "n")) && !json_is_null(v) &&
        !(json_is_integer(v) && json_integer_value(v) == 1))
        return bad(param, "n", err, VI_ERR_INVALID,
                   "'%s' must be 1: one choice per request is supported%s", "");
    if ((v = json_object_get(b, "logprobs")) && !json_is_null(v) && !json_is_false(v))
        return bad(param, "logprobs", err, VI_ERR_INVALID, "'%s' is not supported%s", "");
    if (chat)
        return VI_OK;
    if ((v = json_object_get(b, "echo")) && !json_is_null(v) && !json_is_false(v))
        return bad(param, "echo", err, VI_ERR_INVALID, "'%s' is not supported%s", "");
    if ((v = json_object_get(b, "best_of")) && !json_is_null(v) &&
        !(json_is_integer(v) && json_integer_value(v) == 1))
        return bad(param, "best_of", err, VI_ERR_INVALID, "'%s' is not supported%s", "");
    if ((v = json_object_get(b, "suffix")) && !json_is_null(v))
        return bad(param, "suffix", err, VI_ERR_INVALID, "'%s' is not supported%s", "");
    return VI_OK;
}

static vi_status check_prompt(json_t *b, char *param, vi_error *err)
{
    json_t *v = json_object_get(b, "prompt");
    if (!v)
        return bad(param, "prompt", err, VI_ERR_INVALID, "'%s' is required%s", "");
    if (json_is_string(v))
        return VI_OK;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(param, "prompt", err, VI_ERR_INVALID,
                   "'%s' must be a string, an array of token ids or an array of one string%s", "");
    json_t *first = json_array_get(v, 0);
    if (json_is_string(first)) {
        if (json_array_size(v) != 1)
            return bad(param, "prompt", err, VI_ERR_INVALID,
                       "'%s' holds several prompts; one prompt per request is supported%s", "");
        return VI_OK;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX) {
            snprintf(param, VI_OAI_PARAM_MAX, "prompt");
            return vi_fail(err, VI_ERR_INVALID,
                           "'prompt' element %zu is not a token id (a non-negative integer)", i);
        }
    }
    return VI_OK;
}

static vi_status check_messages(json_t *b, char *param, vi_error *err)
{
    json_t *v = json_object_get(b, "messages");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(param, "messages", err, VI_ERR_INVALID,
                   "'%s' must be a non-empty array of {role, content} objects%s", "");
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m)
    {
        json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        if (!json_is_string(role) || !json_is_string(content) ||
            strlen(json_string_value(content)) != json_string_length(content)) {
            snprintf(param, VI_OAI_PARAM_MAX, "messages");
            return vi_fail(err, VI_ERR_INVALID,
                           "'messages[%zu]' needs a string 'role' and a string 'content'", i);
        }
    }
    return VI_OK;
}

vi_status vi_oai_parse(json_t *body, int chat, vi_oai_req *q, char *param, vi_error *err)
{
    memset(q, 0, sizeof *q);
    param[0] = '\0';
    q->chat = chat;
    q->p.sp.temperature = 1.0f;
    q->p.sp.top_p = 1.0f;
    if (!json_is_object(body))
        return vi_fail(err, VI_ERR_INVALID, "the request body must be a JSON object");
    q->body = json_incref(body);
    json_t *m = json_object_get(body, "model");
    if (!json_is_string(m))
        return bad(param, "model", err, VI_ERR_INVALID, "'%s' (a string) is required%s", "");
    if (json_string_length(m) >= sizeof q->model)
        return bad(param, "model", err, VI_ERR_INVALID, "'%s' is too long%s", "");
    snprintf(q->model, sizeof q->model, "%s", json_string_value(m));
    vi_status st;
    long long mt = 0, seed = 0, top_k = 0;
    int given = 0;
    if ((st = chat ? check_messages(body, param, err) : check_prompt(body, param, err)) != VI_OK ||
        (st = refuse_unsupported(body, chat, param, err)) != VI_OK ||
        (st = get_num(body, "temperature", 0.0, 2.0, 0, &q->p.sp.temperature, param, err)) !=
            VI_OK ||
        (st = get_num(body, "top_p", 0.0, 1.0, 1, &q->p.sp.top_p, param, err)) != VI_OK ||
        (st = get_int(body, "top_k", 0, INT32_MAX, &top_k, NULL, param, err)) != VI_OK ||
        (st = get_int(body, "seed", INT64_MIN, INT64_MAX, &seed, &q->seed_given, param, err)) !=
            VI_OK ||
        (st = get_int(body, "max_tokens", 1, INT32_MAX, &mt, &q->max_given, param, err)) != VI_OK ||
        (chat && (st = get_int(body, "max_completion_tokens", 1, INT32_MAX, &mt, &given, param,
                               err)) != VI_OK) ||
        (st = get_bool(body, "stream", &q->stream, param, err)) != VI_OK ||
        (st = parse_stop(body, &q->p, param, err)) != VI_OK)
        return st;
    q->max_given |= given;
    q->p.sp.top_k = (int32_t)top_k;
    q->p.sp.seed = (uint64_t)seed;
    q->p.max_tokens = q->max_given ? (int32_t)mt : 0;
    json_t *so = json_object_get(body, "stream_options");
    if (so && !json_is_null(so)) {
        if (!json_is_object(so))
            return bad(param, "stream_options", err, VI_ERR_INVALID, "'%s' must be an object%s",
                       "");
        if (!q->stream)
            return bad(param, "stream_options", err, VI_ERR_INVALID,
                       "'%s' is only allowed when 'stream' is true%s", "");
        if ((st = get_bool(so, "include_usage", &q->include_usage, param, err)) != VI_OK)
            return st;
    }
    return VI_OK;
}

void vi_oai_req_free(vi_oai_req *q)
{
    if (!q)
        return;
    vi_llm_params_free(&q->p);
    json_decref(q->body);
    q->body = NULL;
}

/* ==== Prompt ==== */

static vi_status chat_text(const vi_llm *l, json_t *msgs, char **text, vi_error *err)
{
    size_t n = json_array_size(msgs);
    vi_chat_msg *m = calloc(n, sizeof *m);
    if (!m)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu messages", n);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(msgs, i);
        m[i].role = json_string_value(json_object_get(e, "role"));
        m[i].content = json_string_value(json_object_get(e, "content"));
    }
    vi_status st = vi_chat_apply(l->tok, m, n, 1, text, err);
    free(m);
    return st;
}

vi_status vi_oai_prepare(const vi_llm *l, vi_oai_req *q, vi_error *err)
{
    vi_status st = VI_OK;
    free(q->p.prompt);
    q->p.prompt = NULL;
    q->p.n_prompt = 0;
    json_t *pr = q->chat ? NULL : json_object_get(q->body, "prompt");
    if (pr && json_is_array(pr) && json_is_string(json_array_get(pr, 0)))
        pr = json_array_get(pr, 0);
    if (q->chat) {
        char *text = NULL;
        if ((st = chat_text(l, json_object_get(q->body, "messages"), &text, err)) != VI_OK)
            return st;
        st = vi_tokenize(l->tok, text, strlen(text), 1, 1, &q->p.prompt, &q->p.n_prompt, err);
        free(text);
    } else if (json_is_string(pr)) {
        st = vi_tokenize(l->tok, json_string_value(pr), json_string_length(pr), 1, 1, &q->p.prompt,
                         &q->p.n_prompt, err);
    } else {
        size_t n = json_array_size(pr);
        if (!(q->p.prompt = malloc(n * sizeof(int32_t))))
            return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu prompt tokens", n);
        for (size_t i = 0; i < n; i++)
            q->p.prompt[i] = (int32_t)json_integer_value(json_array_get(pr, i));
        q->p.n_prompt = n;
    }
    if (st != VI_OK)
        return st;
    int64_t room = (int64_t)l->n_ctx - (int64_t)q->p.n_prompt;
    if (!q->max_given)
        q->p.max_tokens = q->chat ? (int32_t)(room > 0 ? room : 1) : VI_OAI_DEFAULT_MAX_TOKENS;
    return vi_llm_params_check(l, &q->p, err);
}

/* ==== Digests and receipts ==== */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

vi_status vi_oai_input_digest(const vi_llm_params *p, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    vi_sha256 h;
    vi_status st = vi_sha256_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_LLM_INPUT);
    vi_sha256_u64(&h, (uint64_t)p->n_prompt);
    for (size_t i = 0; i < p->n_prompt; i++)
        vi_sha256_u32(&h, (uint32_t)p->prompt[i]);
    vi_sha256_u32(&h, f32_bits(p->sp.temperature));
    vi_sha256_u32(&h, f32_bits(p->sp.top_p));
    vi_sha256_u32(&h, (uint32_t)p->sp.top_k);
    vi_sha256_u64(&h, p->sp.seed);
    vi_sha256_u32(&h, (uint32_t)p->max_tokens);
    vi_sha256_u32(&h, (uint32_t)p->n_stop);
    for (int i = 0; i < p->n_stop; i++)
        vi_sha256_cstr(&h, p->stop[i]);
    return vi_sha256_final(&h, out, err);
}

vi_status vi_oai_output_digest(const int32_t *ids, size_t n, uint8_t out[VI_SHA256_LEN],
                               vi_error *err)
{
    vi_sha256 h;
    vi_status st = vi_sha256_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_LLM_OUTPUT);
    vi_sha256_u64(&h, (uint64_t)n);
    for (size_t i = 0; i < n; i++)
        vi_sha256_u32(&h, (uint32_t)ids[i]);
    return vi_sha256_final(&h, out, err);
}

vi_status vi_oai_receipt(const vi_llm *l, const vi_llm_params *p, const int32_t *ids, size_t n,
                         const char *engine_id, const char *request_id, EVP_PKEY *key,
                         vi_receipt *r, vi_error *err)
{
    char v[4][32];
    vi_receipt_init(r);
    memcpy(r->model_digest, l->digest, VI_SHA256_LEN);
    snprintf(v[0], sizeof v[0], "%.9g", (double)p->sp.temperature);
    snprintf(v[1], sizeof v[1], "%.9g", (double)p->sp.top_p);
    snprintf(v[2], sizeof v[2], "%d", (int)p->sp.top_k);
    snprintf(v[3], sizeof v[3], "%d", (int)p->max_tokens);
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, p->sp.seed);
    vi_status st;
    if ((st = vi_oai_input_digest(p, r->input_digest, err)) != VI_OK ||
        (st = vi_oai_output_digest(ids, n, r->output_digest, err)) != VI_OK ||
        (st = vi_receipt_set_string(r, "model_name", l->name, err)) != VI_OK ||
        (st = vi_receipt_set_string(r, "engine_id", engine_id, err)) != VI_OK ||
        (st = vi_receipt_set_string(r, "request_id", request_id, err)) != VI_OK ||
        (st = vi_receipt_set_param(r, "temperature", v[0], err)) != VI_OK ||
        (st = vi_receipt_set_param(r, "top_p", v[1], err)) != VI_OK ||
        (st = vi_receipt_set_param(r, "top_k", v[2], err)) != VI_OK ||
        (st = vi_receipt_set_param(r, "max_tokens", v[3], err)) != VI_OK ||
        (st = vi_receipt_set_param(r, "seed", seed, err)) != VI_OK ||
        (st = vi_receipt_set_created(r, (int64_t)time(NULL), err)) != VI_OK)
        return st;
    return vi_receipt_seal(r, key, err);
}

static json_t *ids_json(const int32_t *ids, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer(ids[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *vi_oai_verinfer_json(const vi_receipt *r, const vi_llm_params *p, const int32_t *ids,
                             size_t n)
{
    json_t *o = json_object();
    json_t *rj = vi_receipt_to_json(r), *pj = ids_json(p->prompt, p->n_prompt),
           *cj = ids_json(ids, n);
    if (!o || !rj || !pj || !cj || json_object_set_new(o, "receipt", rj) != 0 ||
        json_object_set_new(o, "prompt_token_ids", pj) != 0 ||
        json_object_set_new(o, "completion_token_ids", cj) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ==== Response JSON ==== */

json_t *vi_oai_text(const char *s, size_t n)
{
    char *buf = malloc(3 * n + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t st = vi_utf8_step(u, i, n, 1);
        if (u[i] == 0) {
            buf[o++] = ' '; /* NUL cannot live in a C JSON string here */
            i++;
        } else if (st > 1 || u[i] < 0x80) {
            memcpy(buf + o, s + i, st);
            o += st;
            i += st;
        } else {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(buf, o);
    free(buf);
    return j;
}

json_t *vi_oai_error(unsigned status, const char *message, const char *param)
{
    /* a message or param that quotes client bytes may not be UTF-8: still an error object */
    json_t *m = json_string(message);
    if (!m)
        m = json_string("(the error message is not valid UTF-8)");
    json_t *p = param && *param ? json_string(param) : json_null();
    if (!p)
        p = json_null();
    return json_pack("{s:{s:o, s:s, s:o, s:n}}", "error", "message", m, "type",
                     status >= 500 ? "server_error" : "invalid_request_error", "param", p, "code");
}

static json_t *usage_json(size_t n_prompt, size_t n_gen)
{
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)n_prompt, "completion_tokens",
                     (json_int_t)n_gen, "total_tokens", (json_int_t)(n_prompt + n_gen));
}

json_t *vi_oai_response(const vi_oai_req *q, const char *id, int64_t created,
                        const char *fingerprint, const char *text, size_t len, const char *finish,
                        size_t n_prompt, size_t n_gen, json_t *verinfer)
{
    json_t *t = vi_oai_text(text, len);
    if (!t) {
        json_decref(verinfer);
        return NULL;
    }
    json_t *choice = q->chat ? json_pack("{s:i, s:{s:s, s:o, s:n}, s:n, s:s}", "index", 0,
                                         "message", "role", "assistant", "content", t, "refusal",
                                         "logprobs", "finish_reason", finish)
                             : json_pack("{s:o, s:i, s:n, s:s}", "text", t, "index", 0, "logprobs",
                                         "finish_reason", finish);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[o], s:o}", "id", id, "object",
                          q->chat ? "chat.completion" : "text_completion", "created",
                          (json_int_t)created, "model", q->model, "system_fingerprint", fingerprint,
                          "choices", choice, "usage", usage_json(n_prompt, n_gen));
    if (o && verinfer)
        json_object_set_new(o, "verinfer", verinfer);
    else
        json_decref(verinfer);
    return o;
}

json_t *vi_oai_chunk(const vi_oai_req *q, const char *id, int64_t created, const char *fingerprint,
                     int role, const char *content, size_t len, const char *finish, int with_usage,
                     size_t n_prompt, size_t n_gen, json_t *verinfer)
{
    json_t *choices = json_array();
    if (!with_usage) {
        json_t *c = json_pack("{s:i, s:n, s:o}", "index", 0, "logprobs", "finish_reason",
                              finish ? json_string(finish) : json_null());
        json_t *t = content ? vi_oai_text(content, len) : NULL;
        if (q->chat) {
            json_t *d = json_object();
            if (role)
                json_object_set_new(d, "role", json_string("assistant"));
            if (t)
                json_object_set_new(d, "content", t);
            json_object_set_new(c, "delta", d);
        } else {
            json_object_set_new(c, "text", t ? t : json_string(""));
        }
        json_array_append_new(choices, c);
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:o}", "id", id, "object",
                          q->chat ? "chat.completion.chunk" : "text_completion", "created",
                          (json_int_t)created, "model", q->model, "system_fingerprint", fingerprint,
                          "choices", choices, "usage",
                          with_usage ? usage_json(n_prompt, n_gen) : json_null());
    if (o && verinfer)
        json_object_set_new(o, "verinfer", verinfer);
    else
        json_decref(verinfer);
    return o;
}

/* ==== Verification ==== */

static int refute(json_t **result, int *verified, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refute(json_t **result, int *verified, const char *fmt, ...)
{
    char msg[VI_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *verified = 0;
    json_object_set_new(*result, "verified", json_false());
    json_object_set_new(*result, "reason", json_string(msg));
    return 0;
}

static void put_hex(json_t *o, const char *k, const uint8_t d[VI_SHA256_LEN])
{
    char h[2 * VI_SHA256_LEN + 1];
    vi_hex_encode(d, VI_SHA256_LEN, h);
    json_object_set_new(o, k, json_string(h));
}

/* A receipt parameter as an unsigned integer; -1 if absent or malformed. */
static int receipt_u64(const vi_receipt *r, const char *key, uint64_t *out)
{
    for (int i = 0; i < r->n_params; i++)
        if (strcmp(r->params[i].key, key) == 0) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(r->params[i].value, &end, 10);
            if (errno || end == r->params[i].value || *end || r->params[i].value[0] == '-')
                return -1;
            *out = (uint64_t)v;
            return 0;
        }
    return -1;
}

/* The response's ids array as int32s (malloc'ed); VI_ERR_INVALID naming it. */
static vi_status get_ids(const json_t *o, const char *name, int32_t **ids, size_t *n, char *param,
                         vi_error *err)
{
    json_t *a = json_object_get(o, name);
    if (!json_is_array(a))
        return bad(param, name, err, VI_ERR_INVALID, "response: '%s' must be an array%s", "");
    *n = json_array_size(a);
    *ids = malloc((*n ? *n : 1) * sizeof **ids);
    if (!*ids)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu ids", *n);
    for (size_t i = 0; i < *n; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_integer(e) || json_integer_value(e) < INT32_MIN ||
            json_integer_value(e) > INT32_MAX) {
            free(*ids);
            *ids = NULL;
            snprintf(param, VI_OAI_PARAM_MAX, "%s", name);
            return vi_fail(err, VI_ERR_INVALID, "response: '%s'[%zu] is not a 32-bit integer", name,
                           i);
        }
        (*ids)[i] = (int32_t)json_integer_value(e);
    }
    return VI_OK;
}

vi_status vi_oai_verify(const vi_llm *l, json_t *request, const json_t *response, int threads,
                        vi_isa isa, const uint8_t *trusted_key, int *verified, json_t **result,
                        char *param, vi_error *err)
{
    vi_oai_req q;
    vi_receipt rc;
    vi_llm_job *job = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    uint8_t d[VI_SHA256_LEN];
    *result = NULL;
    *verified = 0;
    param[0] = '\0';
    int chat = json_is_object(request) && json_object_get(request, "messages") != NULL;
    vi_status st = vi_oai_parse(request, chat, &q, param, err);
    if (st != VI_OK)
        goto done;
    const json_t *vo = json_object_get(response, "verinfer");
    if (!vo)
        vo = response;
    json_t *rj = json_object_get(vo, "receipt");
    if (!json_is_object(rj)) {
        snprintf(param, VI_OAI_PARAM_MAX, "response");
        st = vi_fail(err, VI_ERR_INVALID,
                     "response: no 'verinfer' object with a 'receipt' (pass the completion "
                     "response or its 'verinfer' object)");
        goto done;
    }
    if ((st = vi_receipt_from_json(rj, &rc, err)) != VI_OK ||
        (st = get_ids(vo, "completion_token_ids", &ids, &n_ids, param, err)) != VI_OK)
        goto done;
    /* values the server chose are taken from the receipt */
    uint64_t v = 0;
    if (!q.seed_given && receipt_u64(&rc, "seed", &v) == 0)
        q.p.sp.seed = v;
    if (!q.max_given && receipt_u64(&rc, "max_tokens", &v) == 0 && v >= 1 && v <= INT32_MAX) {
        q.p.max_tokens = (int32_t)v;
        q.max_given = 1;
    }
    if ((st = vi_oai_prepare(l, &q, err)) != VI_OK)
        goto done;
    if (!(*result = json_object())) {
        st = vi_fail(err, VI_ERR_NOMEM, "out of memory for the verification result");
        goto done;
    }
    put_hex(*result, "model_digest", rc.model_digest);
    put_hex(*result, "input_digest", rc.input_digest);
    put_hex(*result, "output_digest", rc.output_digest);
    json_object_set_new(*result, "completion_tokens", json_integer((json_int_t)n_ids));
    vi_receipt_verdict verdict;
    vi_error e = {{0}};
    if (vi_receipt_check(&rc, trusted_key, &verdict, &e) != VI_OK) {
        refute(result, verified, "signature: %s", e.msg);
        goto done;
    }
    if (memcmp(rc.model_digest, l->digest, VI_SHA256_LEN) != 0) {
        char a[65], b[65];
        vi_hex_encode(rc.model_digest, VI_SHA256_LEN, a);
        vi_hex_encode(l->digest, VI_SHA256_LEN, b);
        refute(result, verified, "model digest differs: the receipt has %s, model '%s' has %s", a,
               l->name, b);
        goto done;
    }
    if ((st = vi_oai_input_digest(&q.p, d, err)) != VI_OK)
        goto done;
    if (memcmp(d, rc.input_digest, VI_SHA256_LEN) != 0) {
        refute(result, verified,
               "input digest differs: the request does not give the receipt's input_digest");
        goto done;
    }
    if ((st = vi_oai_output_digest(ids, n_ids, d, err)) != VI_OK)
        goto done;
    if (memcmp(d, rc.output_digest, VI_SHA256_LEN) != 0) {
        refute(result, verified,
               "output digest differs: completion_token_ids do not give the receipt's "
               "output_digest");
        goto done;
    }
    vi_llm_params p = q.p;
    memset(&q.p, 0, sizeof q.p);
    if ((st = vi_llm_job_new(&job, &p, err)) != VI_OK)
        goto done;
    if ((st = vi_llm_run_alone(l, job, threads, isa, err)) != VI_OK)
        goto done;
    size_t n = job->n_ids < n_ids ? job->n_ids : n_ids;
    for (size_t i = 0; i < n; i++)
        if (job->ids[i] != ids[i]) {
            refute(result, verified,
                   "output tokens differ at index %zu: the response has %d, re-execution "
                   "gives %d",
                   i, (int)ids[i], (int)job->ids[i]);
            goto done;
        }
    if (job->n_ids != n_ids) {
        refute(result, verified,
               "output tokens differ at index %zu: the response has %zu tokens, re-execution "
               "gives %zu",
               n, n_ids, job->n_ids);
        goto done;
    }
    *verified = 1;
    json_object_set_new(*result, "verified", json_true());
    json_object_set_new(*result, "reason",
                        json_string(verdict == VI_RECEIPT_SIGNED
                                        ? "re-execution gives the same tokens; signature verifies"
                                        : "re-execution gives the same tokens; unsigned receipt"));
done:
    if (st != VI_OK) {
        json_decref(*result);
        *result = NULL;
    }
    vi_llm_job_unref(job);
    free(ids);
    vi_oai_req_free(&q);
    return st;
}
