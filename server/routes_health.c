/* server/routes_health.c — health, server metadata, model metadata,
 * model readiness and the Triton-style model configuration. */
#include <stdio.h>
#include <string.h>

#include "core/order.h"
#include "routes.h"

#ifndef VERINFER_VERSION
#define VERINFER_VERSION "0.0.0"
#endif

void vi_route_live(vi_http_req *r)
{
    vi_http_reply(r, 200, NULL, NULL, 0, 0, NULL);
}

void vi_route_ready(vi_http_req *r)
{
    vi_server *s = r->app;
    char reason[VI_ERROR_MSG_MAX + 64];
    if (vi_repo_ready(s->repo, reason, sizeof reason))
        vi_http_reply(r, 200, NULL, NULL, 0, 0, NULL);
    else
        vi_http_reply_error(r, 400, "%s", reason);
}

void vi_route_server_metadata(vi_http_req *r)
{
    vi_server *s = r->app;
    json_t *j =
        json_pack("{s:s, s:s, s:[s,s,s,s], s:{s:o, s:i, s:s}}", "name", "verinfer", "version",
                  VERINFER_VERSION, "extensions", "binary_tensor_data", "model_repository",
                  "model_configuration", "verinfer", "verinfer", "public_key",
                  s->public_key_hex[0] ? json_string(s->public_key_hex) : json_null(),
                  "order_version", VI_ORDER_VERSION, "engine_id", s->engine_id);
    vi_http_reply_json(r, 200, j);
}

/* [{"name", "datatype", "shape"}] of graph values (inputs or outputs);
 * shapes keep -1 for the batch dimension. */
static json_t *tensor_list(const vi_graph *g, const int *idx, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        const vi_value *v = &g->values[idx[i]];
        json_t *shape = json_array();
        for (int d = 0; shape && d < v->ndim; d++)
            json_array_append_new(shape, json_integer(v->shape[d]));
        json_t *t = json_pack("{s:s, s:s, s:o}", "name", v->name, "datatype",
                              vi_dtype_kserve_name(v->dtype), "shape", shape);
        if (!t || json_array_append_new(a, t) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

void vi_route_model_metadata(vi_http_req *r)
{
    vi_server *s = r->app;
    vi_repo_model *m = vi_route_model(r, 503);
    if (!m)
        return;
    const vi_graph *g = &m->model.graph;
    json_t *j = json_pack("{s:s, s:[s], s:s, s:o, s:o, s:{s:s, s:s}}", "name", m->name, "versions",
                          g->version, "platform", "verinfer", "inputs",
                          tensor_list(g, g->inputs, g->n_inputs), "outputs",
                          tensor_list(g, g->outputs, g->n_outputs), "verinfer", "model_digest",
                          m->digest_hex, "engine_id", m->im.engine_id);
    vi_repo_release(s->repo, m);
    vi_http_reply_json(r, 200, j);
}

void vi_route_model_ready(vi_http_req *r)
{
    vi_server *s = r->app;
    vi_repo_model *m = vi_route_model(r, 400);
    if (!m)
        return;
    vi_repo_release(s->repo, m);
    vi_http_reply(r, 200, NULL, NULL, 0, 0, NULL);
}

/* Triton's model configuration entries: dims without the batch dimension
 * when the model batches (max_batch_size > 0), the full shape otherwise. */
static json_t *config_list(const vi_graph *g, const int *idx, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        const vi_value *v = &g->values[idx[i]];
        char type[32];
        snprintf(type, sizeof type, "TYPE_%s", vi_dtype_kserve_name(v->dtype));
        json_t *dims = json_array();
        for (int d = g->max_batch_size > 0 ? 1 : 0; dims && d < v->ndim; d++)
            json_array_append_new(dims, json_integer(v->shape[d]));
        json_t *t = json_pack("{s:s, s:s, s:o}", "name", v->name, "data_type", type, "dims", dims);
        if (!t || json_array_append_new(a, t) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

void vi_route_model_config(vi_http_req *r)
{
    vi_server *s = r->app;
    vi_repo_model *m = vi_route_model(r, 503);
    if (!m)
        return;
    const vi_graph *g = &m->model.graph;
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:{s:s, s:i}}", "name", m->name, "platform",
                  "verinfer", "backend", "verinfer", "max_batch_size", g->max_batch_size, "input",
                  config_list(g, g->inputs, g->n_inputs), "output",
                  config_list(g, g->outputs, g->n_outputs), "verinfer", "model_digest",
                  m->digest_hex, "max_rows_per_execution", m->batch.max_batch_size);
    if (j && m->batch.max_batch_size > 1) {
        json_t *pref = json_array();
        for (int i = 0; pref && i < m->batch.n_preferred; i++)
            json_array_append_new(pref, json_integer(m->batch.preferred[i]));
        json_t *db =
            json_pack("{s:o, s:I, s:{s:i}}", "preferred_batch_size", pref,
                      "max_queue_delay_microseconds", (json_int_t)m->batch.max_queue_delay_us,
                      "default_queue_policy", "max_queue_size", m->batch.max_queue_size);
        if (!db || json_object_set_new(j, "dynamic_batching", db) != 0) {
            json_decref(j);
            j = NULL;
        }
    }
    vi_repo_release(s->repo, m);
    vi_http_reply_json(r, 200, j);
}
