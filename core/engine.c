/* core/engine.c — graph execution: buffer planning per batch, dispatch of
 * each node to the backend, id range checks, output download. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"
#include "receipt.h"

#ifndef VERINFER_VERSION
#define VERINFER_VERSION "0.0.0"
#endif

static int64_t last_dim(const vi_value *v)
{
    return v->ndim > 0 ? v->shape[v->ndim - 1] : 1;
}

static int is_float_weight(const vi_value *v)
{
    return v->kind == VI_VALUE_WEIGHT &&
           (v->dtype == VI_DT_FP32 || v->dtype == VI_DT_FP16 || v->dtype == VI_DT_BF16);
}

void vi_engine_free(vi_engine *e)
{
    if (!e || !e->model)
        return;
    if (e->view_of) { /* the tables are the source engine's */
        memset(e, 0, sizeof *e);
        return;
    }
    const vi_graph *g = &e->model->graph;
    vi_backend *b = e->backend;
    if (e->linear) {
        for (int i = 0; i < g->n_nodes; i++)
            if (e->linear[i])
                b->linear_release(b, e->linear[i]);
        free(e->linear);
    }
    if (e->consts) {
        for (int i = 0; i < g->n_values; i++)
            if (e->consts[i])
                b->const_release(b, e->consts[i]);
        free(e->consts);
    }
    free(e->embed_rows);
    memset(e, 0, sizeof *e);
}

vi_status vi_engine_init(vi_engine *e, const vi_model *m, vi_backend *b, vi_error *err)
{
    memset(e, 0, sizeof *e);
    const vi_graph *g = &m->graph;
    e->model = m;
    e->backend = b;
    e->consts = calloc((size_t)g->n_values + 1, sizeof *e->consts);
    e->linear = calloc((size_t)g->n_nodes + 1, sizeof *e->linear);
    e->embed_rows = calloc((size_t)g->n_values + 1, sizeof *e->embed_rows);
    if (!e->consts || !e->linear || !e->embed_rows) {
        vi_engine_free(e);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory preparing model '%s'", g->name);
    }
    vi_status st = VI_OK;
    for (int i = 0; i < g->n_values; i++) {
        const vi_value *v = &g->values[i];
        if (!is_float_weight(v) || !m->weight_f32[i])
            continue;
        st = b->const_prepare(b, m->weight_f32[i], v->row_numel, &e->consts[i], err);
        if (st != VI_OK)
            goto fail;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const vi_node *nd = &g->nodes[i];
        const vi_value *w = nd->in[1] >= 0 ? &g->values[nd->in[1]] : NULL;
        if (nd->op == VI_OP_LINEAR) {
            int64_t N = nd->weight_out_in ? w->shape[0] : w->shape[1];
            int64_t K = nd->weight_out_in ? w->shape[1] : w->shape[0];
            const float *bias = nd->in[2] >= 0 ? m->weight_f32[nd->in[2]] : NULL;
            st = b->linear_prepare(b, m->weight_f32[nd->in[1]], N, K, nd->weight_out_in, bias,
                                   &e->linear[i], err);
        } else if (nd->op == VI_OP_MATMUL && w && w->kind == VI_VALUE_WEIGHT) {
            st = b->linear_prepare(b, m->weight_f32[nd->in[1]], w->shape[1], w->shape[0], 0, NULL,
                                   &e->linear[i], err);
        } else if (nd->op == VI_OP_EMBEDDING) {
            int64_t V = w->shape[0];
            int64_t *cur = &e->embed_rows[nd->in[0]];
            if (*cur == 0 || V < *cur)
                *cur = V;
        }
        if (st != VI_OK) {
            vi_error_prefix(err, "node '%s'", nd->name);
            goto fail;
        }
    }
    return VI_OK;
fail:
    vi_engine_free(e);
    return st;
}

vi_status vi_engine_init_view(vi_engine *e, const vi_engine *src, vi_backend *b, vi_error *err)
{
    memset(e, 0, sizeof *e);
    if (!src || !src->model || !b)
        return vi_fail(err, VI_ERR_INVALID, "engine view: no source engine or no backend");
    const vi_backend *sb = src->backend;
    if (b != sb && (!b->weights_domain || b->weights_domain != sb->weights_domain))
        return vi_fail(err, VI_ERR_INVALID,
                       "engine view: backend '%s' cannot use weights prepared by backend '%s' "
                       "(they share no weights domain)",
                       b->name, sb->name);
    *e = *src;
    e->backend = b;
    e->view_of = src->view_of ? src->view_of : src;
    return VI_OK;
}

void vi_engine_describe(const vi_engine *e, char *buf, size_t bufsize)
{
    vi_error err;
    if (vi_engine_id(buf, bufsize, e->backend->name,
                     e->backend->detail[0] ? e->backend->detail : NULL, &err) != VI_OK)
        snprintf(buf, bufsize, "verinfer/%s order/%d backend/%s", VERINFER_VERSION,
                 VI_ORDER_VERSION, e->backend->name);
}

void vi_engine_outputs_free(vi_tensor *outputs, int n)
{
    for (int i = 0; outputs && i < n; i++) {
        free(outputs[i].data);
        outputs[i].data = NULL;
    }
}

/* ==== one batch ==== */

typedef struct {
    void **buf;  /* [n_values]: backend buffer of each activation */
    char *owned; /* [n_values]: 1 if buf[i] was allocated for this value */
} run_state;

static vi_status check_inputs(const vi_engine *e, const vi_tensor *const *inputs, int64_t rows,
                              vi_error *err)
{
    const vi_graph *g = &e->model->graph;
    if (rows < 1)
        return vi_fail(err, VI_ERR_INVALID, "a batch needs at least one row (got %lld)",
                       (long long)rows);
    for (int i = 0; i < g->n_inputs; i++) {
        const vi_value *v = &g->values[g->inputs[i]];
        const vi_tensor *t = inputs[i];
        int ok = t && t->data && t->dtype == v->dtype && t->ndim == v->ndim && t->shape[0] == rows;
        for (int d = 1; ok && d < v->ndim; d++)
            ok = t->shape[d] == v->shape[d];
        if (!ok) {
            char want[96], got[96];
            vi_shape_str(v->ndim, v->shape, want, sizeof want);
            if (t)
                vi_shape_str(t->ndim, t->shape, got, sizeof got);
            return vi_fail(err, VI_ERR_INVALID,
                           "input '%s' must be %s %s with %lld rows (got %s %s)", v->name,
                           vi_dtype_kserve_name(v->dtype), want, (long long)rows,
                           t ? vi_dtype_kserve_name(t->dtype) : "nothing", t ? got : "");
        }
    }
    return VI_OK;
}

static int64_t id_at(const vi_tensor *t, int64_t i)
{
    return t->dtype == VI_DT_INT32 ? ((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* Checks every id of an id input against the size of the tables it indexes. */
static vi_status check_ids(const vi_engine *e, int vi, const vi_tensor *t, int64_t n, vi_error *err)
{
    const vi_value *v = &e->model->graph.values[vi];
    int64_t V = e->embed_rows[vi];
    int64_t per_row = v->row_numel > 0 ? v->row_numel : 1;
    for (int64_t i = 0; V > 0 && i < n; i++) {
        int64_t id = id_at(t, i);
        if (id < 0 || id >= V)
            return vi_fail(err, VI_ERR_INVALID,
                           "input '%s' row %lld: id %lld is outside the embedding table [0, %lld)",
                           v->name, (long long)(i / per_row), (long long)id, (long long)V);
    }
    return VI_OK;
}

vi_status vi_engine_validate(const vi_engine *e, const vi_tensor *const *inputs, int64_t rows,
                             vi_error *err)
{
    const vi_graph *g = &e->model->graph;
    vi_status st = check_inputs(e, inputs, rows, err);
    for (int i = 0; st == VI_OK && i < g->n_inputs; i++) {
        const vi_value *v = &g->values[g->inputs[i]];
        if (v->dtype == VI_DT_INT32 || v->dtype == VI_DT_INT64)
            st = check_ids(e, g->inputs[i], inputs[i], rows * v->row_numel, err);
    }
    return st;
}

static vi_status upload_inputs(vi_engine *e, const vi_tensor *const *inputs, int64_t rows,
                               run_state *rs, vi_error *err)
{
    const vi_graph *g = &e->model->graph;
    vi_backend *b = e->backend;
    for (int i = 0; i < g->n_inputs; i++) {
        int vi = g->inputs[i];
        const vi_value *v = &g->values[vi];
        int64_t n = rows * v->row_numel;
        int is_ids = v->dtype == VI_DT_INT32 || v->dtype == VI_DT_INT64;
        size_t bytes = (size_t)n * (is_ids ? sizeof(int64_t) : sizeof(float));
        rs->buf[vi] = b->alloc(b, bytes ? bytes : 1);
        if (!rs->buf[vi])
            return vi_fail(err, VI_ERR_NOMEM, "out of memory for input '%s'", v->name);
        rs->owned[vi] = 1;
        vi_status st;
        if (is_ids) {
            int64_t *ids = malloc(bytes ? bytes : 1);
            if (!ids)
                return vi_fail(err, VI_ERR_NOMEM, "out of memory for input '%s'", v->name);
            for (int64_t k = 0; k < n; k++)
                ids[k] = id_at(inputs[i], k);
            st = b->upload(b, rs->buf[vi], ids, bytes);
            free(ids);
        } else {
            st = b->upload(b, rs->buf[vi], inputs[i]->data, bytes);
        }
        if (st != VI_OK)
            return st;
    }
    return VI_OK;
}

/* Elements per row of the value's leading dims, excluding the last `drop` dims. */
static int64_t lead_count(const vi_value *v, int64_t rows, int drop)
{
    int64_t n = rows;
    for (int d = 1; d < v->ndim - drop; d++)
        n *= v->shape[d];
    return n;
}

static vi_status run_node(vi_engine *e, int ni, int64_t rows, run_state *rs, vi_error *err)
{
    const vi_graph *g = &e->model->graph;
    const vi_node *nd = &g->nodes[ni];
    vi_backend *b = e->backend;
    const vi_value *x = &g->values[nd->in[0]];
    const vi_value *y = &g->values[nd->out];
    const vi_value *in1 = nd->in[1] >= 0 ? &g->values[nd->in[1]] : NULL;
    const float *xf = rs->buf[nd->in[0]];
    int64_t n_out = rows * y->row_numel;

    if (nd->op == VI_OP_RESHAPE || nd->op == VI_OP_FLATTEN) {
        rs->buf[nd->out] = rs->buf[nd->in[0]]; /* same bytes, new shape */
        return VI_OK;
    }
    size_t esize = y->dtype == VI_DT_INT64 ? sizeof(int64_t) : sizeof(float);
    void *out = b->alloc(b, n_out > 0 ? (size_t)n_out * esize : 1);
    if (!out)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for '%s' (%lld elements)", y->name,
                       (long long)n_out);
    rs->buf[nd->out] = out;
    rs->owned[nd->out] = 1;
    float *yf = out;
    const float *w1 = NULL;
    if (in1)
        w1 = in1->kind == VI_VALUE_WEIGHT ? e->consts[nd->in[1]] : rs->buf[nd->in[1]];
    const float *w2 = nd->in[2] >= 0 ? e->consts[nd->in[2]] : NULL;

    switch (nd->op) {
    case VI_OP_LINEAR:
        return b->linear(b, e->linear[ni], xf, lead_count(x, rows, 1), yf);
    case VI_OP_MATMUL:
        if (in1->kind == VI_VALUE_WEIGHT)
            return b->linear(b, e->linear[ni], xf, lead_count(x, rows, 1), yf);
        return b->matmul(b, xf, w1, lead_count(x, rows, 2), x->shape[x->ndim - 2], last_dim(x),
                         last_dim(in1), yf);
    case VI_OP_ADD:
    case VI_OP_MUL: {
        int64_t nb = in1->kind == VI_VALUE_WEIGHT ? in1->row_numel : rows * in1->row_numel;
        return b->binary(b, nd->op, xf, n_out, w1, nb, yf);
    }
    case VI_OP_RELU:
    case VI_OP_GELU:
    case VI_OP_TANH:
    case VI_OP_SIGMOID:
        return b->unary(b, nd->op, nd->gelu_tanh, xf, n_out, yf);
    case VI_OP_SOFTMAX:
        return b->softmax(b, xf, lead_count(x, rows, 1), last_dim(x), yf);
    case VI_OP_LAYER_NORM:
        return b->layer_norm(b, xf, lead_count(x, rows, 1), last_dim(x), w1, w2, nd->eps, yf);
    case VI_OP_RMS_NORM:
        return b->rms_norm(b, xf, lead_count(x, rows, 1), last_dim(x), w1, nd->eps, yf);
    case VI_OP_ARGMAX:
        return b->argmax(b, xf, lead_count(x, rows, 1), last_dim(x), out);
    case VI_OP_EMBEDDING:
        return b->embedding(b, rs->buf[nd->in[0]], rows * x->row_numel, w1, in1->shape[0],
                            in1->shape[1], yf);
    default:
        return vi_fail(err, VI_ERR_INTERNAL, "node '%s': op %s has no executor", nd->name,
                       vi_op_name(nd->op));
    }
}

/* NaN payloads and signs differ between devices (x86 makes 0xffc00000, CUDA
 * 0x7fffffff) and cannot cross JSON; a NaN in a model output is therefore
 * always the canonical quiet NaN 0x7fc00000 (docs/determinism.md). */
static void canonicalize_nans(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (v[i] != v[i])
            v[i] = vi_bits_f32(0x7fc00000u);
}

static vi_status download_outputs(vi_engine *e, int64_t rows, run_state *rs, vi_tensor *outputs,
                                  vi_error *err)
{
    const vi_graph *g = &e->model->graph;
    for (int i = 0; i < g->n_outputs; i++) {
        const vi_value *v = &g->values[g->outputs[i]];
        vi_tensor *t = &outputs[i];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", v->name);
        t->dtype = v->dtype;
        t->ndim = v->ndim;
        memcpy(t->shape, v->shape, sizeof t->shape);
        t->shape[0] = rows;
        size_t bytes = (size_t)(rows * v->row_numel) * vi_dtype_size(v->dtype);
        t->data = malloc(bytes ? bytes : 1);
        if (!t->data)
            return vi_fail(err, VI_ERR_NOMEM, "out of memory for output '%s'", v->name);
        vi_status st = e->backend->download(e->backend, t->data, rs->buf[g->outputs[i]], bytes);
        if (st != VI_OK)
            return st;
        if (t->dtype == VI_DT_FP32)
            canonicalize_nans(t->data, rows * v->row_numel);
    }
    return VI_OK;
}

vi_status vi_engine_run(vi_engine *e, const vi_tensor *const *inputs, int64_t rows,
                        vi_tensor *outputs, vi_error *err)
{
    const vi_graph *g = &e->model->graph;
    vi_status st = vi_engine_validate(e, inputs, rows, err);
    if (st != VI_OK)
        return st;
    run_state rs;
    rs.buf = calloc((size_t)g->n_values + 1, sizeof *rs.buf);
    rs.owned = calloc((size_t)g->n_values + 1, 1);
    if (!rs.buf || !rs.owned) {
        st = vi_fail(err, VI_ERR_NOMEM, "out of memory running model '%s'", g->name);
        goto done;
    }
    for (int i = 0; i < g->n_outputs; i++)
        outputs[i].data = NULL;
    st = upload_inputs(e, inputs, rows, &rs, err);
    for (int ni = 0; st == VI_OK && ni < g->n_nodes; ni++) {
        if (err)
            err->msg[0] = '\0'; /* backend ops return a status without a message */
        st = run_node(e, ni, rows, &rs, err);
        if (st != VI_OK) {
            if (err && err->msg[0] == '\0')
                vi_fail(err, st, "the %s backend failed: %s", e->backend->name, vi_status_str(st));
            vi_error_prefix(err, "node '%s' (%s)", g->nodes[ni].name, vi_op_name(g->nodes[ni].op));
        }
    }
    if (st == VI_OK)
        st = download_outputs(e, rows, &rs, outputs, err);
    if (st != VI_OK)
        vi_engine_outputs_free(outputs, g->n_outputs);
done:
    if (rs.buf && rs.owned)
        for (int i = 0; i < g->n_values; i++)
            if (rs.owned[i])
                e->backend->free(e->backend, rs.buf[i]);
    free(rs.buf);
    free(rs.owned);
    return st;
}
