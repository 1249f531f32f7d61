/* server/kserve_bind.c — matching a decoded KServe request to a model graph:
 * input names, datatypes, per-row shapes, the batch size, requested outputs. */
#include "kserve.h"

#include <stdio.h>
#include <string.h>

/* Writes "a, b, c" (the names of the given values) into buf. */
static void list_names(const vi_graph *g, const int *idx, int n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                                 g->values[idx[i]].name);
}

static int find_in(const vi_graph *g, const int *idx, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(g->values[idx[i]].name, name) == 0)
            return i;
    return -1;
}

static vi_status check_input(const vi_tensor *t, const vi_value *v, vi_error *err)
{
    if (t->dtype != v->dtype)
        return vi_fail(err, VI_ERR_INVALID, "input '%s' has datatype %s but the model expects %s",
                       t->name, vi_dtype_kserve_name(t->dtype), vi_dtype_kserve_name(v->dtype));
    int same = t->ndim == v->ndim;
    for (int d = 1; same && d < t->ndim; d++)
        same = t->shape[d] == v->shape[d];
    if (!same) {
        char got[160], want[160];
        vi_shape_str(t->ndim, t->shape, got, sizeof got);
        vi_shape_str(v->ndim, v->shape, want, sizeof want);
        return vi_fail(err, VI_ERR_INVALID, "input '%s' has shape %s but the model expects %s",
                       t->name, got, want);
    }
    if (t->shape[0] < 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "input '%s' has batch size %lld (the first dimension must be at least 1)",
                       t->name, (long long)t->shape[0]);
    return VI_OK;
}

vi_status vi_kserve_bind(const vi_kserve_request *req, const vi_graph *g,
                         const vi_tensor **ordered_inputs, int64_t *batch_rows, vi_error *err)
{
    char names[384];
    for (int i = 0; i < req->n_inputs; i++)
        if (find_in(g, g->inputs, g->n_inputs, req->inputs[i].name) < 0) {
            list_names(g, g->inputs, g->n_inputs, names, sizeof names);
            return vi_fail(err, VI_ERR_INVALID, "unknown input '%s' (model inputs: %s)",
                           req->inputs[i].name, names);
        }
    int64_t rows = -1;
    for (int j = 0; j < g->n_inputs; j++) {
        const vi_value *v = &g->values[g->inputs[j]];
        if (v->ndim < 1 || v->shape[0] != -1)
            return vi_fail(err, VI_ERR_INTERNAL, "model input '%s' has no batch dimension",
                           v->name);
        const vi_tensor *t = NULL;
        for (int i = 0; i < req->n_inputs && !t; i++)
            if (strcmp(req->inputs[i].name, v->name) == 0)
                t = &req->inputs[i];
        if (!t)
            return vi_fail(err, VI_ERR_INVALID, "missing input '%s'", v->name);
        vi_status st = check_input(t, v, err);
        if (st != VI_OK)
            return st;
        if (rows >= 0 && t->shape[0] != rows)
            return vi_fail(err, VI_ERR_INVALID,
                           "input '%s' has batch size %lld but input '%s' has %lld", t->name,
                           (long long)t->shape[0], ordered_inputs[0]->name, (long long)rows);
        rows = t->shape[0];
        ordered_inputs[j] = t;
    }
    if (rows < 0)
        return vi_fail(err, VI_ERR_INTERNAL, "the model has no inputs");
    if (g->max_batch_size > 0 && rows > g->max_batch_size)
        return vi_fail(err, VI_ERR_INVALID, "batch size %lld exceeds the model's max_batch_size %d",
                       (long long)rows, g->max_batch_size);
    for (int i = 0; i < req->n_outputs; i++)
        if (find_in(g, g->outputs, g->n_outputs, req->outputs[i].name) < 0) {
            list_names(g, g->outputs, g->n_outputs, names, sizeof names);
            return vi_fail(err, VI_ERR_INVALID, "unknown output '%s' (model outputs: %s)",
                           req->outputs[i].name, names);
        }
    *batch_rows = rows;
    return VI_OK;
}
