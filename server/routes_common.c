/* server/routes_common.c — the routing table of `verinfer serve` and the
 * model lookup every model endpoint starts with. */
#include <stdio.h>
#include <string.h>

#include "routes.h"

#define MODEL "/v2/models/{m}"
#define VERSION "/v2/models/{m}/versions/{v}"

static const vi_http_route ROUTES[] = {
    {"GET", "/v2/health/live", vi_route_live},
    {"GET", "/v2/health/ready", vi_route_ready},
    {"GET", "/v2", vi_route_server_metadata},
    {"GET", MODEL, vi_route_model_metadata},
    {"GET", VERSION, vi_route_model_metadata},
    {"GET", MODEL "/ready", vi_route_model_ready},
    {"GET", VERSION "/ready", vi_route_model_ready},
    {"GET", MODEL "/config", vi_route_model_config},
    {"GET", VERSION "/config", vi_route_model_config},
    {"POST", MODEL "/infer", vi_route_infer},
    {"POST", VERSION "/infer", vi_route_infer},
    {"POST", MODEL "/verify", vi_route_verify},
    {"POST", VERSION "/verify", vi_route_verify},
    {"POST", "/v2/repository/index", vi_route_repo_index},
    {"POST", "/v2/repository/models/{m}/load", vi_route_repo_load},
    {"POST", "/v2/repository/models/{m}/unload", vi_route_repo_unload},
    {"GET", "/metrics", vi_route_metrics_all},
    {"GET", "/v1/models", vi_route_oai_models},
    {"POST", "/v1/completions", vi_route_oai_completions},
    {"POST", "/v1/chat/completions", vi_route_oai_chat},
    {"POST", "/v1/verify", vi_route_oai_verify},
    {"POST", "/tokenize", vi_route_tokenize},
    {"POST", "/detokenize", vi_route_detokenize},
};

const vi_http_route *vi_server_routes(int *n)
{
    *n = (int)(sizeof ROUTES / sizeof ROUTES[0]);
    return ROUTES;
}

vi_repo_model *vi_route_model(vi_http_req *r, unsigned unavailable_status)
{
    vi_server *s = r->app;
    vi_repo_model *m = NULL;
    vi_error err = {{0}};
    snprintf(r->log_model, sizeof r->log_model, "%s", r->param[0]);
    vi_status st = vi_repo_acquire(s->repo, r->param[0], &m, &err);
    if (st == VI_ERR_NOT_FOUND) {
        vi_http_reply_error(r, 404, "%s", err.msg);
        return NULL;
    }
    if (st != VI_OK) {
        vi_http_reply_error(r, unavailable_status, "%s", err.msg);
        return NULL;
    }
    if (r->n_params > 1 && strcmp(r->param[1], m->model.graph.version) != 0) {
        vi_http_reply_error(r, 404, "model '%s' has no version '%s' (it has version '%s')",
                            r->param[0], r->param[1], m->model.graph.version);
        vi_repo_release(s->repo, m);
        return NULL;
    }
    return m;
}
