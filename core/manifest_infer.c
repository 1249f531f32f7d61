/* core/manifest_infer.c — per-op dtype and shape inference for graph nodes:
 * the rules of docs/model-format.md ("Ops"), checked with messages that name
 * the values and shapes involved. Knows nothing of JSON. */
#include "manifest.h"

#include <stdio.h>
#include <string.h>

/* Elements per batch row are capped so that row_numel * 8 bytes fits in int64. */
#define ROW_NUMEL_MAX (INT64_MAX / 8)

typedef struct {
    char s[4][200];
} shape_bufs;

static const char *shp(shape_bufs *b, int slot, int ndim, const int64_t *shape)
{
    vi_shape_str(ndim, shape, b->s[slot], sizeof b->s[slot]);
    return b->s[slot];
}

static const char *vshp(shape_bufs *b, int slot, const vi_value *v)
{
    return shp(b, slot, v->ndim, v->shape);
}

/* Fills o with an activation dtype and shape (shape[0] is the batch). */
static vi_status set_out(vi_value *o, vi_dtype dt, int ndim, const int64_t *shape, vi_error *err)
{
    if (ndim > VI_MAX_DIMS)
        return vi_fail(err, VI_ERR_LIMIT, "output '%s' would have %d dimensions (at most %d)",
                       o->name, ndim, VI_MAX_DIMS);
    int64_t row = 1;
    for (int i = 1; i < ndim; i++) {
        if (shape[i] < 1)
            return vi_fail(err, VI_ERR_INTERNAL, "output '%s' dimension %d is %lld", o->name, i,
                           (long long)shape[i]);
        if (row > ROW_NUMEL_MAX / shape[i])
            return vi_fail(err, VI_ERR_LIMIT, "output '%s' has more than %lld elements per row",
                           o->name, (long long)ROW_NUMEL_MAX);
        row *= shape[i];
    }
    int64_t tmp[VI_MAX_DIMS];
    memcpy(tmp, shape, (size_t)ndim * sizeof *tmp); /* shape may alias o->shape */
    memcpy(o->shape, tmp, (size_t)ndim * sizeof *tmp);
    o->dtype = dt;
    o->ndim = ndim;
    o->shape[0] = -1;
    o->row_numel = row;
    return VI_OK;
}

/* An FP32 activation with at least min_ndim dimensions (the batch included). */
static vi_status need_act(const vi_value *v, int min_ndim, const char *op, vi_error *err)
{
    shape_bufs b;
    if (v->kind == VI_VALUE_WEIGHT)
        return vi_fail(err, VI_ERR_INVALID, "'%s' is a weight where %s needs an activation",
                       v->name, op);
    if (v->dtype != VI_DT_FP32)
        return vi_fail(err, VI_ERR_INVALID,
                       "input '%s' is %s but %s needs FP32 (integer inputs can only feed "
                       "embedding)",
                       v->name, vi_dtype_kserve_name(v->dtype), op);
    if (v->ndim < min_ndim)
        return vi_fail(err, VI_ERR_INVALID,
                       "input '%s' has shape %s but %s needs at least %d dimensions (the batch "
                       "included)",
                       v->name, vshp(&b, 0, v), op, min_ndim);
    return VI_OK;
}

/* A weight of dtype F32/F16/BF16, with ndim dimensions (any when ndim < 0). */
static vi_status need_weight(const vi_value *w, int ndim, const char *role, const char *op,
                             vi_error *err)
{
    shape_bufs b;
    if (w->kind != VI_VALUE_WEIGHT)
        return vi_fail(err, VI_ERR_INVALID, "%s '%s' must be a weight, not an activation", role,
                       w->name);
    if (w->dtype != VI_DT_FP32 && w->dtype != VI_DT_FP16 && w->dtype != VI_DT_BF16)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "%s '%s' has dtype %s (weights must be F32, F16 or BF16)", role, w->name,
                       vi_dtype_safetensors_name(w->dtype));
    if (w->row_numel < 1)
        return vi_fail(err, VI_ERR_INVALID, "%s '%s' has shape %s with no elements", role, w->name,
                       vshp(&b, 0, w));
    if (ndim >= 0 && w->ndim != ndim)
        return vi_fail(err, VI_ERR_INVALID, "%s '%s' has shape %s but %s needs a %d-D %s", role,
                       w->name, vshp(&b, 0, w), op, ndim, role);
    if (ndim < 0 && w->ndim > VI_MAX_DIMS)
        return vi_fail(err, VI_ERR_INVALID, "%s '%s' has %d dimensions", role, w->name, w->ndim);
    return VI_OK;
}

static vi_status infer_linear(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const vi_value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]];
    shape_bufs b;
    vi_status rc;
    if ((rc = need_act(x, 2, "linear", err)) || (rc = need_weight(w, 2, "weight", "linear", err)))
        return rc;
    int64_t K = x->shape[x->ndim - 1];
    int64_t N = n->weight_out_in ? w->shape[0] : w->shape[1];
    int64_t Kw = n->weight_out_in ? w->shape[1] : w->shape[0];
    if (K != Kw)
        return vi_fail(err, VI_ERR_INVALID,
                       "input '%s' has last dimension %lld but weight '%s' %s = %s expects K = "
                       "%lld",
                       x->name, (long long)K, w->name, n->weight_out_in ? "[N, K]" : "[K, N]",
                       vshp(&b, 0, w), (long long)Kw);
    if (n->in[2] >= 0) {
        const vi_value *bias = &g->values[n->in[2]];
        if ((rc = need_weight(bias, -1, "bias", "linear", err)))
            return rc;
        if (bias->ndim != 1 || bias->shape[0] != N)
            return vi_fail(err, VI_ERR_INVALID, "bias '%s' has shape %s but N = %lld needs [%lld]",
                           bias->name, vshp(&b, 0, bias), (long long)N, (long long)N);
    }
    int64_t s[VI_MAX_DIMS];
    memcpy(s, x->shape, sizeof s);
    s[x->ndim - 1] = N;
    return set_out(o, VI_DT_FP32, x->ndim, s, err);
}

static vi_status infer_matmul(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const vi_value *a = &g->values[n->in[0]], *w = &g->values[n->in[1]];
    shape_bufs b;
    vi_status rc;
    int64_t s[VI_MAX_DIMS];
    if ((rc = need_act(a, 2, "matmul", err)))
        return rc;
    int64_t K = a->shape[a->ndim - 1];
    memcpy(s, a->shape, sizeof s);
    if (w->kind == VI_VALUE_WEIGHT) {
        if ((rc = need_weight(w, 2, "weight", "matmul", err)))
            return rc;
        if (w->shape[0] != K)
            return vi_fail(err, VI_ERR_INVALID,
                           "input '%s' has last dimension %lld but weight '%s' [K, N] = %s "
                           "expects K = %lld",
                           a->name, (long long)K, w->name, vshp(&b, 0, w), (long long)w->shape[0]);
        s[a->ndim - 1] = w->shape[1];
        return set_out(o, VI_DT_FP32, a->ndim, s, err);
    }
    if ((rc = need_act(w, 1, "matmul", err)))
        return rc;
    if (a->ndim < 3 || w->ndim < 3)
        return vi_fail(err, VI_ERR_INVALID,
                       "matmul of two activations needs a [-1, ..., M, K] and b [-1, ..., K, N] "
                       "of at least 3 dimensions; got '%s' %s and '%s' %s",
                       a->name, vshp(&b, 0, a), w->name, vshp(&b, 1, w));
    if (a->ndim != w->ndim)
        return vi_fail(err, VI_ERR_INVALID, "inputs '%s' %s and '%s' %s have different ranks",
                       a->name, vshp(&b, 0, a), w->name, vshp(&b, 1, w));
    int nd = a->ndim;
    for (int i = 1; i < nd - 2; i++)
        if (a->shape[i] != w->shape[i])
            return vi_fail(err, VI_ERR_INVALID,
                           "inputs '%s' %s and '%s' %s differ in leading dimension %d", a->name,
                           vshp(&b, 0, a), w->name, vshp(&b, 1, w), i);
    if (w->shape[nd - 2] != K)
        return vi_fail(err, VI_ERR_INVALID,
                       "input '%s' %s has K = %lld but input '%s' %s has K = %lld (a [..., M, "
                       "K] @ b [..., K, N])",
                       a->name, vshp(&b, 0, a), (long long)K, w->name, vshp(&b, 1, w),
                       (long long)w->shape[nd - 2]);
    s[nd - 1] = w->shape[nd - 1];
    return set_out(o, VI_DT_FP32, nd, s, err);
}

static vi_status infer_binary(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const char *op = vi_op_name(n->op);
    const vi_value *a = &g->values[n->in[0]], *w = &g->values[n->in[1]];
    shape_bufs b;
    vi_status rc;
    if ((rc = need_act(a, 1, op, err)))
        return rc;
    if (w->kind != VI_VALUE_WEIGHT) {
        if ((rc = need_act(w, 1, op, err)))
            return rc;
        if (a->ndim != w->ndim || memcmp(a->shape, w->shape, (size_t)a->ndim * sizeof(int64_t)))
            return vi_fail(err, VI_ERR_INVALID,
                           "inputs '%s' %s and '%s' %s must have the same "
                           "shape",
                           a->name, vshp(&b, 0, a), w->name, vshp(&b, 1, w));
        return set_out(o, VI_DT_FP32, a->ndim, a->shape, err);
    }
    if ((rc = need_weight(w, -1, "weight", op, err)))
        return rc;
    int scalar = w->row_numel == 1 && w->ndim <= 1;
    int suffix = w->ndim <= a->ndim - 1;
    for (int j = 0; suffix && j < w->ndim; j++)
        suffix = w->shape[j] == a->shape[a->ndim - w->ndim + j];
    if (!scalar && !suffix)
        return vi_fail(err, VI_ERR_INVALID,
                       "weight '%s' %s is neither a suffix of the per-row shape %s of input '%s' "
                       "nor a 1-element scalar",
                       w->name, vshp(&b, 0, w), shp(&b, 1, a->ndim - 1, a->shape + 1), a->name);
    return set_out(o, VI_DT_FP32, a->ndim, a->shape, err);
}

static vi_status infer_norm(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const char *op = vi_op_name(n->op);
    const vi_value *x = &g->values[n->in[0]];
    shape_bufs b;
    vi_status rc;
    if ((rc = need_act(x, 2, op, err)))
        return rc;
    int64_t D = x->shape[x->ndim - 1];
    for (int slot = 1; slot <= 2; slot++) {
        if (n->in[slot] < 0)
            continue;
        const vi_value *w = &g->values[n->in[slot]];
        const char *role = slot == 1 ? "weight" : "bias";
        if ((rc = need_weight(w, -1, role, op, err)))
            return rc;
        if (w->ndim != 1 || w->shape[0] != D)
            return vi_fail(err, VI_ERR_INVALID,
                           "%s '%s' has shape %s but input '%s' %s needs [%lld] (its last "
                           "dimension)",
                           role, w->name, vshp(&b, 0, w), x->name, vshp(&b, 1, x), (long long)D);
    }
    return set_out(o, VI_DT_FP32, x->ndim, x->shape, err);
}

static vi_status infer_embedding(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const vi_value *ids = &g->values[n->in[0]], *t = &g->values[n->in[1]];
    vi_status rc;
    if (ids->kind != VI_VALUE_INPUT)
        return vi_fail(err, VI_ERR_INVALID, "ids '%s' must be a model input", ids->name);
    if (ids->dtype != VI_DT_INT32 && ids->dtype != VI_DT_INT64)
        return vi_fail(err, VI_ERR_INVALID, "ids '%s' are %s but embedding needs INT32 or INT64",
                       ids->name, vi_dtype_kserve_name(ids->dtype));
    if ((rc = need_weight(t, 2, "weight", "embedding", err)))
        return rc;
    int64_t s[VI_MAX_DIMS + 1];
    memcpy(s, ids->shape, (size_t)ids->ndim * sizeof *s);
    s[ids->ndim] = t->shape[1];
    return set_out(o, VI_DT_FP32, ids->ndim + 1, s, err);
}

static vi_status infer_reshape(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const vi_value *x = &g->values[n->in[0]];
    shape_bufs b;
    vi_status rc;
    if ((rc = need_act(x, 1, "reshape", err)))
        return rc;
    if (o->ndim < 1 || o->ndim > VI_MAX_DIMS || o->shape[0] != -1)
        return vi_fail(err, VI_ERR_INVALID, "target shape %s must start with -1 (the batch)",
                       vshp(&b, 0, o));
    int64_t row = 1;
    for (int i = 1; i < o->ndim; i++) {
        if (o->shape[i] < 1)
            return vi_fail(err, VI_ERR_INVALID,
                           "target shape %s: dimension %d must be positive (only the first, the "
                           "batch, is -1)",
                           vshp(&b, 0, o), i);
        if (row > ROW_NUMEL_MAX / o->shape[i]) {
            row = -1;
            break;
        }
        row *= o->shape[i];
    }
    if (row != x->row_numel)
        return vi_fail(err, VI_ERR_INVALID,
                       "cannot reshape input '%s' %s (%lld elements per row) to %s (%lld "
                       "elements per row)",
                       x->name, vshp(&b, 0, x), (long long)x->row_numel, vshp(&b, 1, o),
                       (long long)row);
    return set_out(o, VI_DT_FP32, o->ndim, o->shape, err);
}

static vi_status infer_flatten(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const vi_value *x = &g->values[n->in[0]];
    shape_bufs b;
    vi_status rc;
    if ((rc = need_act(x, 1, "flatten", err)))
        return rc;
    if (n->start_dim < 1 || n->start_dim > x->ndim - 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "start_dim %d is out of range for input '%s' %s (it must be 1 to ndim-1 "
                       "= %d)",
                       n->start_dim, x->name, vshp(&b, 0, x), x->ndim - 1);
    int64_t s[VI_MAX_DIMS];
    memcpy(s, x->shape, sizeof s);
    int64_t tail = 1;
    for (int i = n->start_dim; i < x->ndim; i++)
        tail *= x->shape[i]; /* bounded by x->row_numel */
    s[n->start_dim] = tail;
    return set_out(o, VI_DT_FP32, n->start_dim + 1, s, err);
}

static vi_status infer_row(vi_graph *g, const vi_node *n, vi_value *o, vi_error *err)
{
    const vi_value *x = &g->values[n->in[0]];
    const char *op = vi_op_name(n->op);
    vi_status rc;
    int last_axis = n->op == VI_OP_SOFTMAX || n->op == VI_OP_ARGMAX;
    if ((rc = need_act(x, last_axis ? 2 : 1, op, err)))
        return rc;
    if (n->op == VI_OP_ARGMAX)
        return set_out(o, VI_DT_INT64, x->ndim - 1, x->shape, err);
    return set_out(o, VI_DT_FP32, x->ndim, x->shape, err);
}

vi_status vi_manifest_infer_node(vi_graph *g, int i, vi_error *err)
{
    if (!g || i < 0 || i >= g->n_nodes)
        return vi_fail(err, VI_ERR_INTERNAL, "node index %d out of range", i);
    const vi_node *n = &g->nodes[i];
    if (n->out < 0 || n->out >= g->n_values)
        return vi_fail(err, VI_ERR_INTERNAL, "output value index %d out of range", n->out);
    for (int k = 0; k < VI_NODE_MAX_IN; k++)
        if (n->in[k] < -1 || n->in[k] >= g->n_values || n->in[k] == n->out)
            return vi_fail(err, VI_ERR_INTERNAL, "input slot %d has value index %d", k, n->in[k]);
    if (n->in[0] < 0)
        return vi_fail(err, VI_ERR_INTERNAL, "input slot 0 is empty");
    int two = n->op == VI_OP_LINEAR || n->op == VI_OP_MATMUL || n->op == VI_OP_ADD ||
              n->op == VI_OP_MUL || n->op == VI_OP_LAYER_NORM || n->op == VI_OP_RMS_NORM ||
              n->op == VI_OP_EMBEDDING;
    if (two && n->in[1] < 0)
        return vi_fail(err, VI_ERR_INTERNAL, "input slot 1 is empty");
    vi_value *o = &g->values[n->out];
    switch (n->op) {
    case VI_OP_LINEAR:
        return infer_linear(g, n, o, err);
    case VI_OP_MATMUL:
        return infer_matmul(g, n, o, err);
    case VI_OP_ADD:
    case VI_OP_MUL:
        return infer_binary(g, n, o, err);
    case VI_OP_LAYER_NORM:
    case VI_OP_RMS_NORM:
        return infer_norm(g, n, o, err);
    case VI_OP_EMBEDDING:
        return infer_embedding(g, n, o, err);
    case VI_OP_RESHAPE:
        return infer_reshape(g, n, o, err);
    case VI_OP_FLATTEN:
        return infer_flatten(g, n, o, err);
    case VI_OP_RELU:
    case VI_OP_GELU:
    case VI_OP_TANH:
    case VI_OP_SIGMOID:
    case VI_OP_SOFTMAX:
    case VI_OP_ARGMAX:
        return infer_row(g, n, o, err);
    case VI_OP_COUNT:
        break;
    }
    return vi_fail(err, VI_ERR_INTERNAL, "op %d has no shape rule", (int)n->op);
}
