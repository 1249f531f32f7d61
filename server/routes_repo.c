/* server/routes_repo.c — Triton's model repository extension:
 * POST /v2/repository/index (body optional {"ready": bool}),
 * POST /v2/repository/models/{m}/load and .../unload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "server/kserve.h"

void vi_route_repo_index(vi_http_req *r)
{
    vi_server *s = r->app;
    vi_error err = {{0}};
    int ready_only = 0;
    if (r->body_len > 0) {
        json_t *root = NULL;
        vi_status st = vi_kserve_load_json(r->body, r->body_len, 8, "index request", &root, &err);
        json_t *rd = st == VI_OK ? json_object_get(root, "ready") : NULL;
        if (st == VI_OK && !json_is_object(root))
            st = vi_fail(&err, VI_ERR_INVALID, "the index request must be a JSON object");
        else if (st == VI_OK && rd && !json_is_boolean(rd))
            st = vi_fail(&err, VI_ERR_INVALID, "\"ready\" must be a boolean");
        ready_only = rd && json_is_true(rd);
        json_decref(root);
        if (st != VI_OK) {
            vi_http_reply_error(r, vi_http_status_of(st), "%s", err.msg);
            return;
        }
    }
    vi_repo_info *info = NULL;
    int n = 0;
    if (vi_repo_index(s->repo, &info, &n, &err) != VI_OK) {
        vi_http_reply_error(r, 500, "%s", err.msg);
        return;
    }
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        if (ready_only && info[i].state != VI_REPO_READY)
            continue;
        json_t *e = json_pack(
            "{s:s, s:s, s:s, s:s}", "name", info[i].name, "version", info[i].version, "state",
            info[i].state == VI_REPO_READY ? "READY" : "UNAVAILABLE", "reason", info[i].reason);
        if (!e || json_array_append_new(a, e) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(info);
    vi_http_reply_json(r, 200, a);
}

void vi_route_repo_load(vi_http_req *r)
{
    vi_server *s = r->app;
    vi_error err = {{0}};
    snprintf(r->log_model, sizeof r->log_model, "%s", r->param[0]);
    vi_status st = vi_repo_load(s->repo, r->param[0], &err);
    if (st == VI_OK)
        vi_http_reply(r, 200, NULL, NULL, 0, 0, NULL);
    else
        vi_http_reply_error(r,
                            st == VI_ERR_NOT_FOUND     ? 404
                            : st == VI_ERR_UNSUPPORTED ? 503
                            : st == VI_ERR_NOMEM       ? 500
                                                       : 400,
                            "%s", err.msg);
}

void vi_route_repo_unload(vi_http_req *r)
{
    vi_server *s = r->app;
    vi_error err = {{0}};
    snprintf(r->log_model, sizeof r->log_model, "%s", r->param[0]);
    vi_status st = vi_repo_unload(s->repo, r->param[0], &err);
    if (st == VI_OK)
        vi_http_reply(r, 200, NULL, NULL, 0, 0, NULL);
    else
        vi_http_reply_error(r, vi_http_status_of(st), "%s", err.msg);
}
