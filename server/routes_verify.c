/* server/routes_verify.c — POST /v2/models/{m}[/versions/{v}]/verify:
 * {"request": <KServe request>, "response": <KServe response with receipt>}
 * (or "receipt" alone instead of "response"), optional "allow_unsigned" and
 * "public_key"; re-executes the request on the model's verification engine
 * and answers {"verified", "checks": {name: {"ok", "detail"}}}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "routes.h"
#include "server/kserve.h"

typedef struct verify_input {
    json_t *root;
    int allow_unsigned;
    int have_key;
    uint8_t key[VI_ED25519_KEY_LEN];
    int receipt_only;
    vi_kserve_request req;
    vi_kserve_response resp;
} verify_input;

static void input_free(verify_input *in)
{
    vi_kserve_request_free(&in->req);
    vi_kserve_response_free(&in->resp);
    json_decref(in->root);
}

/* Re-encodes a member object and decodes it with the KServe codec (jansson
 * writes every number so that it reads back to the same binary64). */
static vi_status member_text(json_t *root, const char *key, char **text, vi_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_object(v))
        return vi_fail(err, VI_ERR_INVALID, "\"%s\" must be an object", key);
    *text = json_dumps(v, JSON_COMPACT);
    return *text ? VI_OK : vi_fail(err, VI_ERR_NOMEM, "out of memory re-encoding \"%s\"", key);
}

static vi_status read_input(const vi_server *srv, const vi_repo_model *m, vi_http_req *r,
                            verify_input *in, vi_error *err)
{
    vi_status st = vi_kserve_load_json(r->body, r->body_len, srv->limits.max_depth + 1,
                                       "verify body", &in->root, err);
    if (st != VI_OK)
        return st;
    if (!json_is_object(in->root))
        return vi_fail(err, VI_ERR_INVALID, "the verify body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(in->root, key, v)
    {
        if (strcmp(key, "request") && strcmp(key, "response") && strcmp(key, "receipt") &&
            strcmp(key, "allow_unsigned") && strcmp(key, "public_key"))
            return vi_fail(err, VI_ERR_INVALID,
                           "unknown key '%s' (allowed: request, response, receipt, "
                           "allow_unsigned, public_key)",
                           key);
    }
    json_t *au = json_object_get(in->root, "allow_unsigned");
    if (au && !json_is_boolean(au))
        return vi_fail(err, VI_ERR_INVALID, "\"allow_unsigned\" must be a boolean");
    in->allow_unsigned = au && json_is_true(au);
    json_t *pk = json_object_get(in->root, "public_key");
    if (pk) {
        if (!json_is_string(pk))
            return vi_fail(err, VI_ERR_INVALID, "\"public_key\" must be a string of 64 hex digits");
        if ((st = vi_hex_decode(json_string_value(pk), in->key, sizeof in->key, "\"public_key\"",
                                err)) != VI_OK)
            return st;
        in->have_key = 1;
    }
    int has_resp = json_object_get(in->root, "response") != NULL;
    int has_receipt = json_object_get(in->root, "receipt") != NULL;
    if (has_resp == has_receipt)
        return vi_fail(err, VI_ERR_INVALID,
                       "give exactly one of \"response\" (a response with its receipt) and "
                       "\"receipt\"");
    char *text = NULL;
    if ((st = member_text(in->root, "request", &text, err)) == VI_OK) {
        st = vi_kserve_parse_request(text, strlen(text), NULL, 0, &srv->limits, &in->req, err);
        if (st != VI_OK)
            vi_error_prefix(err, "\"request\"");
    }
    free(text);
    text = NULL;
    if (st != VI_OK)
        return st;
    if (has_resp) {
        if ((st = member_text(in->root, "response", &text, err)) == VI_OK) {
            st = vi_kserve_parse_response(text, strlen(text), NULL, 0, &in->resp, err);
            if (st != VI_OK)
                vi_error_prefix(err, "\"response\"");
        }
        free(text);
        return st;
    }
    json_t *rc = json_object_get(in->root, "receipt");
    if (!json_is_object(rc))
        return vi_fail(err, VI_ERR_INVALID, "\"receipt\" must be an object");
    in->receipt_only = 1;
    in->resp.model_name = strdup(m->name);
    in->resp.receipt = json_incref(rc);
    return in->resp.model_name ? VI_OK : vi_fail(err, VI_ERR_NOMEM, "out of memory");
}

void vi_route_verify(vi_http_req *r)
{
    vi_server *srv = r->app;
    vi_repo_model *m = vi_route_model(r, 503);
    if (!m)
        return;
    verify_input in;
    memset(&in, 0, sizeof in);
    vi_verify_report rep;
    vi_error err = {{0}};
    vi_status st = read_input(srv, m, r, &in, &err);
    if (st == VI_OK)
        r->log_rows =
            in.req.n_inputs > 0 && in.req.inputs[0].ndim > 0 ? in.req.inputs[0].shape[0] : -1;
    if (st == VI_OK)
        st = vi_repo_verify(srv->repo, m, &in.req, &in.resp, in.have_key ? in.key : NULL,
                            in.allow_unsigned, &rep, &err);
    vi_repo_release(srv->repo, m);
    if (st != VI_OK) {
        input_free(&in);
        vi_http_reply_error(r, vi_http_status_of(st), "%s", err.msg);
        return;
    }
    if (in.receipt_only) {
        rep.ok[VI_CHECK_OUTPUT_DATA] = 1;
        snprintf(rep.detail[VI_CHECK_OUTPUT_DATA], sizeof rep.detail[VI_CHECK_OUTPUT_DATA],
                 "not checked: only a receipt was given, no outputs");
        rep.verified = 1;
        for (int c = 0; c < VI_CHECK_COUNT; c++)
            rep.verified &= rep.ok[c];
    }
    input_free(&in);
    json_t *checks = json_object();
    for (int c = 0; checks && c < VI_CHECK_COUNT; c++)
        json_object_set_new(checks, vi_check_name((vi_check)c),
                            json_pack("{s:b, s:s}", "ok", rep.ok[c], "detail", rep.detail[c]));
    vi_http_reply_json(r, 200, json_pack("{s:b, s:o}", "verified", rep.verified, "checks", checks));
}
