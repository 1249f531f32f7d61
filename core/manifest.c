/* core/manifest.c — reads model.json into a vi_graph: the top-level fields,
 * inputs and outputs, each node's op, value names, weight roles and
 * attributes, with shape inference per node (core/manifest_infer.c) and the
 * declared outputs checked against what the graph produces. */
#include "manifest.h"

#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== Name table: open addressing over borrowed, stable name strings ==== */

typedef struct {
    const char **key;
    int *idx;
    size_t cap; /* power of two, at least twice the number of entries */
} name_table;

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static vi_status table_init(name_table *t, size_t entries, vi_error *err)
{
    t->cap = 16;
    while (t->cap < 2 * entries)
        t->cap *= 2;
    t->key = calloc(t->cap, sizeof *t->key);
    t->idx = calloc(t->cap, sizeof *t->idx);
    if (!t->key || !t->idx)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for a %zu-entry name table", entries);
    return VI_OK;
}

static void table_free(name_table *t)
{
    free(t->key);
    free(t->idx);
}

/* Index stored under name, or -1. */
static int table_find(const name_table *t, const char *name)
{
    for (size_t i = name_hash(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->key[i])
            return -1;
        if (strcmp(t->key[i], name) == 0)
            return t->idx[i];
    }
}

/* Adds name (which must stay valid and not be present); capacity is sized up front. */
static void table_add(name_table *t, const char *name, int idx)
{
    size_t i = name_hash(name) & (t->cap - 1);
    while (t->key[i])
        i = (i + 1) & (t->cap - 1);
    t->key[i] = name;
    t->idx[i] = idx;
}

/* ==== Parser state ==== */

typedef struct {
    const vi_safetensors *st;
    vi_graph *g;
    json_t *graph_json;
    int cap_values;
    name_table values; /* value name -> index in g->values */
    name_table nodes;  /* node name -> index in g->nodes */
} parser;

static const char *const OP_LIST =
    "linear, matmul, add, mul, relu, gelu, tanh, sigmoid, softmax, layer_norm, rms_norm, "
    "embedding, reshape, flatten, argmax";

/* Only the keys in allowed[] (NULL-terminated) may appear in obj. */
static vi_status check_keys(json_t *obj, const char *const *allowed, const char *where,
                            const char *list, vi_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return vi_fail(err, VI_ERR_INVALID, "%s: unknown key '%s' (allowed: %s)", where, key,
                           list);
    }
    return VI_OK;
}

/* Value and node names: 1..VI_NAME_MAX-1 bytes, no control characters. */
static vi_status check_name(const char *what, const char *name, vi_error *err)
{
    size_t n = strlen(name);
    if (n == 0)
        return vi_fail(err, VI_ERR_INVALID, "%s name is empty", what);
    if (n >= VI_NAME_MAX)
        return vi_fail(err, VI_ERR_LIMIT, "%s name '%.32s...' is %zu bytes (at most %d)", what,
                       name, n, VI_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return vi_fail(err, VI_ERR_INVALID, "%s name '%s' contains control byte 0x%02x", what,
                           name, c);
    }
    return VI_OK;
}

/* Model name and version: [A-Za-z0-9_.-], starting with a letter, digit or '_'
 * (they appear in URL paths). */
static vi_status check_ident(const char *field, const char *s, vi_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n >= VI_NAME_MAX)
        return vi_fail(err, VI_ERR_INVALID, "\"%s\" must be 1 to %d bytes long", field,
                       VI_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!(alnum || c == '_' || (i > 0 && (c == '.' || c == '-'))))
            return vi_fail(err, VI_ERR_INVALID,
                           "\"%s\" '%s' may only use letters, digits, '_', '.' and '-' (and "
                           "starts with a letter, digit or '_')",
                           field, s);
    }
    return VI_OK;
}

/* Deepest nesting of arrays/objects in the text (strings skipped); fails past the limit. */
static vi_status check_depth(const char *s, size_t len, vi_error *err)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > VI_MANIFEST_MAX_DEPTH)
                return vi_fail(err, VI_ERR_LIMIT, "JSON nests deeper than %d levels (at byte %zu)",
                               VI_MANIFEST_MAX_DEPTH, i);
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return VI_OK;
}

/* An activation shape: [-1, d1, ..., dn], di >= 1, 1..VI_MAX_DIMS entries. */
static vi_status parse_act_shape(json_t *j, const char *where, int *ndim, int64_t *shape,
                                 vi_error *err)
{
    if (!json_is_array(j))
        return vi_fail(err, VI_ERR_INVALID, "%s: \"shape\" must be an array of integers", where);
    size_t nd = json_array_size(j);
    if (nd == 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "%s: shape is empty (it needs at least the batch "
                       "dimension -1)",
                       where);
    if (nd > VI_MAX_DIMS)
        return vi_fail(err, VI_ERR_LIMIT, "%s: shape has %zu dimensions (at most %d)", where, nd,
                       VI_MAX_DIMS);
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(j, i);
        if (!json_is_integer(d))
            return vi_fail(err, VI_ERR_INVALID, "%s: shape[%zu] is not an integer", where, i);
        json_int_t v = json_integer_value(d);
        if (i == 0 && v != -1)
            return vi_fail(err, VI_ERR_INVALID,
                           "%s: shape[0] is %lld but must be -1 (the batch dimension)", where,
                           (long long)v);
        if (i > 0 && v == -1)
            return vi_fail(err, VI_ERR_INVALID,
                           "%s: shape[%zu] is -1 but only the first (batch) dimension may be -1",
                           where, i);
        if (i > 0 && v < 1)
            return vi_fail(err, VI_ERR_INVALID, "%s: shape[%zu] is %lld but must be positive",
                           where, i, (long long)v);
        shape[i] = (int64_t)v;
    }
    *ndim = (int)nd;
    return VI_OK;
}

/* One entry of "inputs" / "outputs": exactly {name, datatype, shape}. */
static vi_status parse_io_decl(json_t *j, const char *kind, size_t i, const char **name,
                               vi_dtype *dt, int *ndim, int64_t *shape, vi_error *err)
{
    static const char *const KEYS[] = {"name", "datatype", "shape", NULL};
    char where[VI_NAME_MAX + 32];
    snprintf(where, sizeof where, "%ss[%zu]", kind, i);
    if (!json_is_object(j))
        return vi_fail(err, VI_ERR_INVALID, "%s is not an object", where);
    vi_status rc;
    if ((rc = check_keys(j, KEYS, where, "name, datatype, shape", err)))
        return rc;
    json_t *jn = json_object_get(j, "name"), *jd = json_object_get(j, "datatype");
    if (!json_is_string(jn))
        return vi_fail(err, VI_ERR_INVALID, "%s: \"name\" must be a string", where);
    *name = json_string_value(jn);
    if ((rc = check_name(kind, *name, err)))
        return rc;
    snprintf(where, sizeof where, "%s '%s'", kind, *name);
    if (!json_is_string(jd))
        return vi_fail(err, VI_ERR_INVALID, "%s: \"datatype\" must be a string", where);
    *dt = vi_dtype_from_kserve(json_string_value(jd));
    if (*dt == VI_DT_INVALID)
        return vi_fail(err, VI_ERR_INVALID, "%s: unknown datatype '%s'", where,
                       json_string_value(jd));
    if (!json_object_get(j, "shape"))
        return vi_fail(err, VI_ERR_INVALID, "%s: missing \"shape\"", where);
    return parse_act_shape(json_object_get(j, "shape"), where, ndim, shape, err);
}

/* Appends a value (capacity was counted beforehand) and registers its name. */
static vi_status add_value(parser *p, const char *name, vi_value_kind kind, int producer, int *idx,
                           vi_error *err)
{
    vi_graph *g = p->g;
    if (g->n_values >= p->cap_values)
        return vi_fail(err, VI_ERR_INTERNAL, "value table overflow");
    vi_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->kind = kind;
    v->producer = producer;
    table_add(&p->values, v->name, g->n_values);
    *idx = g->n_values++;
    return VI_OK;
}

/* How "name" is already used, for duplicate-name messages. */
static const char *describe_value(const parser *p, int idx, char *buf, size_t size)
{
    const vi_value *v = &p->g->values[idx];
    if (v->kind == VI_VALUE_INPUT)
        snprintf(buf, size, "a model input");
    else if (v->kind == VI_VALUE_WEIGHT)
        snprintf(buf, size, "a weight");
    else
        snprintf(buf, size, "the output of node '%s'", p->g->nodes[v->producer].name);
    return buf;
}

static vi_status parse_inputs(parser *p, json_t *arr, vi_error *err)
{
    vi_graph *g = p->g;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *name;
        vi_dtype dt;
        int ndim, idx;
        int64_t shape[VI_MAX_DIMS];
        vi_status rc =
            parse_io_decl(json_array_get(arr, i), "input", i, &name, &dt, &ndim, shape, err);
        if (rc)
            return rc;
        if (dt != VI_DT_FP32 && dt != VI_DT_INT32 && dt != VI_DT_INT64)
            return vi_fail(err, VI_ERR_UNSUPPORTED,
                           "input '%s': datatype %s is not supported (FP32, or INT32/INT64 ids "
                           "for embedding)",
                           name, vi_dtype_kserve_name(dt));
        if (table_find(&p->values, name) >= 0)
            return vi_fail(err, VI_ERR_INVALID, "input '%s' is declared twice", name);
        if ((rc = add_value(p, name, VI_VALUE_INPUT, -1, &idx, err)))
            return rc;
        vi_value *v = &g->values[idx];
        v->dtype = dt;
        v->ndim = ndim;
        memcpy(v->shape, shape, (size_t)ndim * sizeof *shape);
        v->row_numel = 1;
        for (int d = 1; d < ndim; d++) {
            if (v->row_numel > (INT64_MAX / 8) / shape[d])
                return vi_fail(err, VI_ERR_LIMIT, "input '%s': too many elements per row", name);
            v->row_numel *= shape[d];
        }
        g->inputs[g->n_inputs++] = idx;
    }
    return VI_OK;
}

/* ==== Nodes ==== */

typedef struct {
    const char *key;
    int slot;
    int required;
} role;

static const role R_WEIGHT_BIAS[] = {{"weight", 1, 1}, {"bias", 2, 0}, {NULL, 0, 0}};
static const role R_WEIGHT[] = {{"weight", 1, 1}, {NULL, 0, 0}};
static const role R_OTHER[] = {{"other", 1, 0}, {NULL, 0, 0}};
static const role R_NONE[] = {{NULL, 0, 0}};

static const role *op_roles(vi_op op, const char **list)
{
    switch (op) {
    case VI_OP_LINEAR:
    case VI_OP_LAYER_NORM:
        *list = "weight, bias";
        return R_WEIGHT_BIAS;
    case VI_OP_RMS_NORM:
    case VI_OP_EMBEDDING:
        *list = "weight";
        return R_WEIGHT;
    case VI_OP_MATMUL:
    case VI_OP_ADD:
    case VI_OP_MUL:
        *list = "other";
        return R_OTHER;
    default:
        *list = "none";
        return R_NONE;
    }
}

static const char *op_attrs(vi_op op)
{
    switch (op) {
    case VI_OP_LINEAR:
        return "weight_layout";
    case VI_OP_GELU:
        return "approximate";
    case VI_OP_LAYER_NORM:
    case VI_OP_RMS_NORM:
        return "eps";
    case VI_OP_FLATTEN:
        return "start_dim";
    case VI_OP_RESHAPE:
        return "shape";
    case VI_OP_SOFTMAX:
    case VI_OP_ARGMAX:
        return "axis";
    default:
        return NULL;
    }
}

/* Message for an activation name that is not (yet) defined. */
static vi_status unknown_input(parser *p, int node, const char *name, vi_error *err)
{
    for (size_t j = (size_t)node; j < json_array_size(p->graph_json); j++) {
        json_t *outs = json_object_get(json_array_get(p->graph_json, j), "outputs");
        for (size_t k = 0; k < json_array_size(outs); k++) {
            const char *o = json_string_value(json_array_get(outs, k));
            if (o && strcmp(o, name) == 0 && (size_t)node == j)
                return vi_fail(err, VI_ERR_INVALID, "input '%s' is the node's own output", name);
            if (o && strcmp(o, name) == 0)
                return vi_fail(err, VI_ERR_INVALID,
                               "input '%s' is used before it is defined (graph[%zu] produces it "
                               "later)",
                               name, j);
        }
    }
    if (vi_safetensors_find(p->st, name))
        return vi_fail(err, VI_ERR_INVALID,
                       "input '%s' is a tensor of model.safetensors: reference weights under "
                       "\"weights\"",
                       name);
    return vi_fail(err, VI_ERR_INVALID,
                   "unknown value '%s' (neither a model input nor an earlier node's output)", name);
}

static vi_status parse_node_inputs(parser *p, int i, json_t *j, int n_weights_other, vi_node *n,
                                   vi_error *err)
{
    int binary = n->op == VI_OP_MATMUL || n->op == VI_OP_ADD || n->op == VI_OP_MUL;
    size_t want = binary ? (size_t)(2 - n_weights_other) : 1;
    if (!json_is_array(j))
        return vi_fail(err, VI_ERR_INVALID, "\"inputs\" must be an array of value names");
    if (json_array_size(j) != want) {
        if (binary)
            return vi_fail(err, VI_ERR_INVALID,
                           "%s takes 2 inputs, or 1 input and weights {\"other\": ...}; got %zu "
                           "input(s)%s",
                           vi_op_name(n->op), json_array_size(j),
                           n_weights_other ? " and a weight" : "");
        return vi_fail(err, VI_ERR_INVALID, "%s takes 1 input; got %zu", vi_op_name(n->op),
                       json_array_size(j));
    }
    for (size_t k = 0; k < want; k++) {
        json_t *s = json_array_get(j, k);
        if (!json_is_string(s))
            return vi_fail(err, VI_ERR_INVALID, "inputs[%zu] is not a string", k);
        const char *name = json_string_value(s);
        int idx = table_find(&p->values, name);
        if (idx < 0)
            return unknown_input(p, i, name, err);
        if (p->g->values[idx].kind == VI_VALUE_WEIGHT)
            return vi_fail(err, VI_ERR_INVALID,
                           "input '%s' is a weight: reference weights under \"weights\"", name);
        n->in[k] = idx;
    }
    return VI_OK;
}

/* Resolves a weight reference to a (possibly shared) VI_VALUE_WEIGHT value. */
static vi_status resolve_weight(parser *p, const char *name, int *idx, vi_error *err)
{
    char buf[VI_NAME_MAX + 32];
    vi_status rc;
    if ((rc = check_name("weight", name, err)))
        return rc;
    int found = table_find(&p->values, name);
    if (found >= 0) {
        if (p->g->values[found].kind != VI_VALUE_WEIGHT)
            return vi_fail(err, VI_ERR_INVALID, "weight '%s' has the same name as %s", name,
                           describe_value(p, found, buf, sizeof buf));
        *idx = found;
        return VI_OK;
    }
    const vi_st_tensor *t = vi_safetensors_find(p->st, name);
    if (!t)
        return vi_fail(err, VI_ERR_NOT_FOUND, "weight '%s' is not in model.safetensors", name);
    if ((rc = add_value(p, name, VI_VALUE_WEIGHT, -1, idx, err)))
        return rc;
    vi_value *v = &p->g->values[*idx];
    v->dtype = t->dtype;
    v->ndim = t->ndim;
    memcpy(v->shape, t->shape, sizeof v->shape);
    int64_t numel;
    if ((rc = vi_shape_numel(t->ndim, t->shape, &numel, err)))
        return rc;
    v->row_numel = numel;
    return VI_OK;
}

static vi_status parse_node_weights(parser *p, json_t *j, vi_node *n, vi_error *err)
{
    const char *list;
    const role *roles = op_roles(n->op, &list);
    if (j && !json_is_object(j))
        return vi_fail(err, VI_ERR_INVALID, "\"weights\" must be an object {role: tensor name}");
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        const role *r = roles;
        while (r->key && strcmp(r->key, key) != 0)
            r++;
        if (!r->key)
            return vi_fail(err, VI_ERR_INVALID, "unknown weight role '%s' (%s takes: %s)", key,
                           vi_op_name(n->op), list);
        if (!json_is_string(v))
            return vi_fail(err, VI_ERR_INVALID, "weight role '%s' must name a tensor (a string)",
                           key);
        vi_status rc = resolve_weight(p, json_string_value(v), &n->in[r->slot], err);
        if (rc)
            return rc;
    }
    for (const role *r = roles; r->key; r++)
        if (r->required && !json_object_get(j, r->key))
            return vi_fail(err, VI_ERR_INVALID, "missing weight \"%s\" (%s takes: %s)", r->key,
                           vi_op_name(n->op), list);
    return VI_OK;
}

static vi_status attr_int(json_t *v, const char *key, json_int_t *out, vi_error *err)
{
    if (!json_is_integer(v))
        return vi_fail(err, VI_ERR_INVALID, "attribute \"%s\" must be an integer", key);
    *out = json_integer_value(v);
    return VI_OK;
}

/* Fills the node's attribute fields; a reshape target goes to out_shape. */
static vi_status parse_node_attrs(json_t *j, vi_node *n, int *out_ndim, int64_t *out_shape,
                                  vi_error *err)
{
    n->weight_out_in = 1;
    n->gelu_tanh = 0;
    n->eps = VI_MANIFEST_DEFAULT_EPS;
    n->start_dim = 1;
    const char *allowed = op_attrs(n->op);
    if (j && !json_is_object(j))
        return vi_fail(err, VI_ERR_INVALID, "\"attributes\" must be an object");
    if (n->op == VI_OP_RESHAPE && !json_object_get(j, "shape"))
        return vi_fail(err, VI_ERR_INVALID, "missing attribute \"shape\"");
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (!allowed || strcmp(key, allowed) != 0)
            return vi_fail(err, VI_ERR_INVALID, "unknown attribute '%s' (%s takes %s%s)", key,
                           vi_op_name(n->op), allowed ? allowed : "no attributes",
                           allowed ? " only" : "");
        const char *s = json_string_value(v);
        json_int_t iv = 0;
        vi_status rc;
        switch (n->op) {
        case VI_OP_LINEAR:
            if (!s || (strcmp(s, "out_in") != 0 && strcmp(s, "in_out") != 0))
                return vi_fail(err, VI_ERR_INVALID,
                               "attribute \"weight_layout\" must be \"out_in\" or \"in_out\"");
            n->weight_out_in = strcmp(s, "out_in") == 0;
            break;
        case VI_OP_GELU:
            if (!s || (strcmp(s, "none") != 0 && strcmp(s, "tanh") != 0))
                return vi_fail(err, VI_ERR_INVALID,
                               "attribute \"approximate\" must be \"none\" or \"tanh\"");
            n->gelu_tanh = strcmp(s, "tanh") == 0;
            break;
        case VI_OP_LAYER_NORM:
        case VI_OP_RMS_NORM: {
            double d = json_number_value(v);
            if (!json_is_number(v) || !(d > 0.0) || d > FLT_MAX)
                return vi_fail(err, VI_ERR_INVALID,
                               "attribute \"eps\" must be a number > 0 (and at most FLT_MAX)");
            n->eps = (float)d; /* binary64 rounded once to binary32 */
            if (n->eps == 0.0f)
                return vi_fail(err, VI_ERR_INVALID, "attribute \"eps\" %g rounds to 0 as a float32",
                               d);
            break;
        }
        case VI_OP_FLATTEN:
            if ((rc = attr_int(v, key, &iv, err)))
                return rc;
            if (iv < 1 || iv > VI_MAX_DIMS)
                return vi_fail(err, VI_ERR_INVALID,
                               "attribute \"start_dim\" is %lld (it must be "
                               ">= 1: dimension 0 is the batch)",
                               (long long)iv);
            n->start_dim = (int)iv;
            break;
        case VI_OP_SOFTMAX:
        case VI_OP_ARGMAX:
            if ((rc = attr_int(v, key, &iv, err)))
                return rc;
            if (iv != -1)
                return vi_fail(err, VI_ERR_UNSUPPORTED,
                               "attribute \"axis\" is %lld: only -1 (the last axis) is supported",
                               (long long)iv);
            break;
        case VI_OP_RESHAPE:
            if ((rc = parse_act_shape(v, "attribute \"shape\"", out_ndim, out_shape, err)))
                return rc;
            break;
        default:
            return vi_fail(err, VI_ERR_INTERNAL, "attribute table mismatch");
        }
    }
    return VI_OK;
}

static vi_status parse_node_body(parser *p, int i, json_t *j, vi_node *n, vi_error *err)
{
    vi_graph *g = p->g;
    json_t *jw = json_object_get(j, "weights"), *jo = json_object_get(j, "outputs");
    int n_other = json_is_object(jw) && json_object_get(jw, "other") ? 1 : 0;
    int reshape_ndim = 0;
    int64_t reshape_shape[VI_MAX_DIMS];
    char buf[VI_NAME_MAX + 32];
    vi_status rc;
    for (int k = 0; k < VI_NODE_MAX_IN; k++)
        n->in[k] = -1;
    n->out = -1;
    if (!json_object_get(j, "inputs"))
        return vi_fail(err, VI_ERR_INVALID, "missing \"inputs\"");
    if ((rc = parse_node_inputs(p, i, json_object_get(j, "inputs"), n_other, n, err)) ||
        (rc = parse_node_weights(p, jw, n, err)) ||
        (rc = parse_node_attrs(json_object_get(j, "attributes"), n, &reshape_ndim, reshape_shape,
                               err)))
        return rc;
    if (!json_is_array(jo) || json_array_size(jo) != 1 || !json_is_string(json_array_get(jo, 0)))
        return vi_fail(err, VI_ERR_INVALID,
                       "\"outputs\" must be an array of exactly one new value name");
    const char *oname = json_string_value(json_array_get(jo, 0));
    if ((rc = check_name("output", oname, err)))
        return rc;
    int prev = table_find(&p->values, oname);
    if (prev >= 0)
        return vi_fail(err, VI_ERR_INVALID, "output name '%s' is already used by %s", oname,
                       describe_value(p, prev, buf, sizeof buf));
    if ((rc = add_value(p, oname, VI_VALUE_INTERMEDIATE, i, &n->out, err)))
        return rc;
    vi_value *o = &g->values[n->out];
    if (n->op == VI_OP_RESHAPE) {
        o->ndim = reshape_ndim;
        memcpy(o->shape, reshape_shape, (size_t)reshape_ndim * sizeof *reshape_shape);
    }
    return vi_manifest_infer_node(g, i, err);
}

static vi_status parse_node(parser *p, int i, json_t *j, vi_error *err)
{
    static const char *const KEYS[] = {"op",      "name",       "inputs", "weights",
                                       "outputs", "attributes", NULL};
    vi_graph *g = p->g;
    vi_node *n = &g->nodes[i];
    char where[48];
    snprintf(where, sizeof where, "graph[%d]", i);
    if (!json_is_object(j))
        return vi_fail(err, VI_ERR_INVALID, "%s is not an object", where);
    vi_status rc;
    if ((rc = check_keys(j, KEYS, where, "op, name, inputs, weights, outputs, attributes", err)))
        return rc;
    json_t *jop = json_object_get(j, "op"), *jname = json_object_get(j, "name");
    if (!json_is_string(jop))
        return vi_fail(err, VI_ERR_INVALID, "%s: \"op\" must be a string", where);
    n->op = vi_op_from_name(json_string_value(jop));
    if (n->op == VI_OP_COUNT)
        return vi_fail(err, VI_ERR_UNSUPPORTED, "%s: unknown op '%s' (known ops: %s)", where,
                       json_string_value(jop), OP_LIST);
    if (jname) {
        if (!json_is_string(jname))
            return vi_fail(err, VI_ERR_INVALID, "%s: \"name\" must be a string", where);
        if ((rc = check_name("node", json_string_value(jname), err))) {
            vi_error_prefix(err, "%s", where);
            return rc;
        }
        snprintf(n->name, sizeof n->name, "%s", json_string_value(jname));
    } else {
        snprintf(n->name, sizeof n->name, "node%d", i);
    }
    if (table_find(&p->nodes, n->name) >= 0)
        return vi_fail(err, VI_ERR_INVALID, "%s: duplicate node name '%s'", where, n->name);
    table_add(&p->nodes, n->name, i);
    g->n_nodes = i + 1; /* the node is now visible to messages naming producers */
    if ((rc = parse_node_body(p, i, j, n, err))) {
        vi_error_prefix(err, "node '%s' (%s)", n->name, vi_op_name(n->op));
        return rc;
    }
    return VI_OK;
}

/* ==== Outputs and the top level ==== */

static vi_status parse_outputs(parser *p, json_t *arr, vi_error *err)
{
    vi_graph *g = p->g;
    char a[200], b[200], buf[VI_NAME_MAX + 32];
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *name;
        vi_dtype dt;
        int ndim;
        int64_t shape[VI_MAX_DIMS];
        vi_status rc =
            parse_io_decl(json_array_get(arr, i), "output", i, &name, &dt, &ndim, shape, err);
        if (rc)
            return rc;
        int idx = table_find(&p->values, name);
        if (idx < 0)
            return vi_fail(err, VI_ERR_INVALID, "output '%s' is not produced by any node", name);
        const vi_value *v = &g->values[idx];
        if (v->kind != VI_VALUE_INTERMEDIATE)
            return vi_fail(err, VI_ERR_INVALID, "output '%s' is %s, not produced by any node", name,
                           describe_value(p, idx, buf, sizeof buf));
        for (int k = 0; k < g->n_outputs; k++)
            if (g->outputs[k] == idx)
                return vi_fail(err, VI_ERR_INVALID, "output '%s' is listed twice", name);
        if (dt != v->dtype || ndim != v->ndim ||
            memcmp(shape, v->shape, (size_t)ndim * sizeof *shape) != 0) {
            vi_shape_str(ndim, shape, a, sizeof a);
            vi_shape_str(v->ndim, v->shape, b, sizeof b);
            return vi_fail(err, VI_ERR_INVALID,
                           "output '%s' is declared %s %s but node '%s' produces %s %s", name,
                           vi_dtype_kserve_name(dt), a, g->nodes[v->producer].name,
                           vi_dtype_kserve_name(v->dtype), b);
        }
        g->outputs[g->n_outputs++] = idx;
    }
    return VI_OK;
}

/* A required array member of the root with 1..max entries. */
static vi_status get_array(json_t *root, const char *key, size_t max, vi_status over, json_t **out,
                           vi_error *err)
{
    json_t *a = json_object_get(root, key);
    if (!a)
        return vi_fail(err, VI_ERR_INVALID, "missing \"%s\"", key);
    if (!json_is_array(a))
        return vi_fail(err, VI_ERR_INVALID, "\"%s\" must be an array", key);
    if (json_array_size(a) == 0)
        return vi_fail(err, VI_ERR_INVALID, "\"%s\" is empty", key);
    if (json_array_size(a) > max)
        return vi_fail(err, over, "\"%s\" has %zu entries (at most %zu)", key, json_array_size(a),
                       max);
    *out = a;
    return VI_OK;
}

/* An optional integer member of obj in [0, max]; *out is left alone when absent. */
static vi_status get_count(json_t *obj, const char *key, json_int_t max, json_int_t *out,
                           vi_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VI_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return vi_fail(err, VI_ERR_INVALID,
                       "\"dynamic_batching\".\"%s\" must be an integer from 0 to %lld", key,
                       (long long)max);
    *out = json_integer_value(v);
    return VI_OK;
}

/* "dynamic_batching": {"max_queue_delay_us", "preferred_batch_size", "max_queue_size"}. */
static vi_status parse_dynamic_batching(vi_dynamic_batching *d, json_t *db, vi_error *err)
{
    static const char *const KEYS[] = {"max_queue_delay_us", "preferred_batch_size",
                                       "max_queue_size", NULL};
    if (!json_is_object(db))
        return vi_fail(err, VI_ERR_INVALID, "\"dynamic_batching\" must be an object");
    vi_status rc = check_keys(db, KEYS, "\"dynamic_batching\"",
                              "max_queue_delay_us, preferred_batch_size, max_queue_size", err);
    json_int_t delay = 0, queue = 0;
    if (rc == VI_OK)
        rc = get_count(db, "max_queue_delay_us", (json_int_t)3600 * 1000000, &delay, err);
    if (rc == VI_OK)
        rc = get_count(db, "max_queue_size", INT_MAX, &queue, err);
    if (rc != VI_OK)
        return rc;
    json_t *pref = json_object_get(db, "preferred_batch_size");
    if (pref) {
        if (!json_is_array(pref) || json_array_size(pref) > VI_GRAPH_MAX_PREFERRED)
            return vi_fail(err, VI_ERR_INVALID,
                           "\"dynamic_batching\".\"preferred_batch_size\" must be an array of "
                           "at most %d integers",
                           VI_GRAPH_MAX_PREFERRED);
        for (size_t i = 0; i < json_array_size(pref); i++) {
            json_t *v = json_array_get(pref, i);
            json_int_t prev = i ? d->preferred[i - 1] : 0;
            if (!json_is_integer(v) || json_integer_value(v) <= prev ||
                json_integer_value(v) > INT_MAX)
                return vi_fail(err, VI_ERR_INVALID,
                               "\"dynamic_batching\".\"preferred_batch_size\"[%zu] must be an "
                               "integer from %lld to %d, greater than the one before it",
                               i, (long long)prev + 1, INT_MAX);
            d->preferred[i] = (int)json_integer_value(v);
            d->n_preferred = (int)i + 1;
        }
    }
    d->present = 1;
    d->max_queue_delay_us = delay;
    d->max_queue_size = (int)queue;
    return VI_OK;
}

/* A member of "fast_tolerance": a finite JSON number >= 0. */
static vi_status get_tolerance(json_t *obj, const char *key, double *out, vi_error *err)
{
    json_t *v = json_object_get(obj, key);
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= 0.0) || d - d != 0.0)
        return vi_fail(err, VI_ERR_INVALID,
                       "\"fast_tolerance\".\"%s\" must be a finite number >= 0", key);
    *out = d;
    return VI_OK;
}

/* "mode": "exact" | "fast" and "fast_tolerance": {"rtol", "atol"} (docs/fast-mode.md). */
static vi_status parse_mode(vi_mode_config *mc, json_t *root, vi_error *err)
{
    static const char *const KEYS[] = {"rtol", "atol", NULL};
    json_t *mode = json_object_get(root, "mode"), *tol = json_object_get(root, "fast_tolerance");
    if (mode) {
        const char *s = json_string_value(mode);
        if (!s || (strcmp(s, "exact") != 0 && strcmp(s, "fast") != 0))
            return vi_fail(err, VI_ERR_INVALID, "\"mode\" must be \"exact\" or \"fast\"");
        mc->fast = strcmp(s, "fast") == 0;
    }
    if (!tol)
        return VI_OK;
    if (!json_is_object(tol))
        return vi_fail(err, VI_ERR_INVALID,
                       "\"fast_tolerance\" must be an object {\"rtol\": ..., \"atol\": ...}");
    vi_status rc = check_keys(tol, KEYS, "\"fast_tolerance\"", "rtol, atol", err);
    if (rc == VI_OK)
        rc = get_tolerance(tol, "rtol", &mc->rtol, err);
    if (rc == VI_OK)
        rc = get_tolerance(tol, "atol", &mc->atol, err);
    if (rc == VI_OK)
        mc->has_tolerance = 1;
    return rc;
}

static vi_status parse_header_fields(vi_graph *g, json_t *root, vi_error *err)
{
    static const char *const KEYS[] = {
        "format", "format_version", "name",   "version", "max_batch_size", "dynamic_batching",
        "mode",   "fast_tolerance", "inputs", "outputs", "graph",          NULL};
    vi_status rc;
    if ((rc = check_keys(root, KEYS, "top level",
                         "format, format_version, name, version, max_batch_size, "
                         "dynamic_batching, mode, fast_tolerance, inputs, outputs, graph",
                         err)))
        return rc;
    json_t *f = json_object_get(root, "format");
    if (!json_is_string(f) || strcmp(json_string_value(f), VI_MANIFEST_FORMAT) != 0)
        return vi_fail(err, VI_ERR_INVALID, "\"format\" must be \"%s\"", VI_MANIFEST_FORMAT);
    json_t *fv = json_object_get(root, "format_version");
    if (!json_is_integer(fv))
        return vi_fail(err, VI_ERR_INVALID, "\"format_version\" must be an integer");
    if (json_integer_value(fv) != VI_MANIFEST_VERSION)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "format_version %lld is not supported (this build reads %d)",
                       (long long)json_integer_value(fv), VI_MANIFEST_VERSION);
    json_t *name = json_object_get(root, "name"), *ver = json_object_get(root, "version");
    if (!json_is_string(name))
        return vi_fail(err, VI_ERR_INVALID, "\"name\" must be a string");
    if ((rc = check_ident("name", json_string_value(name), err)))
        return rc;
    snprintf(g->name, sizeof g->name, "%s", json_string_value(name));
    snprintf(g->version, sizeof g->version, "1");
    if (ver) {
        if (!json_is_string(ver))
            return vi_fail(err, VI_ERR_INVALID, "\"version\" must be a string");
        if ((rc = check_ident("version", json_string_value(ver), err)))
            return rc;
        snprintf(g->version, sizeof g->version, "%s", json_string_value(ver));
    }
    json_t *mb = json_object_get(root, "max_batch_size");
    if (mb) {
        if (!json_is_integer(mb) || json_integer_value(mb) < 0 || json_integer_value(mb) > INT_MAX)
            return vi_fail(err, VI_ERR_INVALID,
                           "\"max_batch_size\" must be an integer from 0 to %d", INT_MAX);
        g->max_batch_size = (int)json_integer_value(mb);
    }
    json_t *db = json_object_get(root, "dynamic_batching");
    if (db && (rc = parse_dynamic_batching(&g->dynamic_batching, db, err)))
        return rc;
    return parse_mode(&g->mode, root, err);
}

static vi_status parse_root(parser *p, json_t *root, vi_error *err)
{
    vi_graph *g = p->g;
    json_t *ins, *outs, *nodes;
    vi_status rc;
    if (!json_is_object(root))
        return vi_fail(err, VI_ERR_INVALID, "the top level must be a JSON object");
    if ((rc = parse_header_fields(g, root, err)) ||
        (rc = get_array(root, "inputs", VI_MANIFEST_MAX_IO, VI_ERR_LIMIT, &ins, err)) ||
        (rc = get_array(root, "outputs", VI_MANIFEST_MAX_IO, VI_ERR_LIMIT, &outs, err)) ||
        (rc = get_array(root, "graph", VI_MANIFEST_MAX_NODES, VI_ERR_LIMIT, &nodes, err)))
        return rc;
    p->graph_json = nodes;

    /* capacity: every input, every node output, every weight reference */
    size_t n_nodes = json_array_size(nodes), cap = json_array_size(ins) + n_nodes;
    for (size_t i = 0; i < n_nodes; i++) {
        json_t *w = json_object_get(json_array_get(nodes, i), "weights");
        cap += json_is_object(w) ? json_object_size(w) : 0;
    }
    p->cap_values = (int)cap;
    g->values = calloc(cap, sizeof *g->values);
    g->nodes = calloc(n_nodes, sizeof *g->nodes);
    g->inputs = calloc(json_array_size(ins), sizeof *g->inputs);
    g->outputs = calloc(json_array_size(outs), sizeof *g->outputs);
    if (!g->values || !g->nodes || !g->inputs || !g->outputs)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for a graph of %zu nodes", n_nodes);
    if ((rc = table_init(&p->values, cap, err)) || (rc = table_init(&p->nodes, n_nodes, err)) ||
        (rc = parse_inputs(p, ins, err)))
        return rc;
    for (size_t i = 0; i < n_nodes; i++)
        if ((rc = parse_node(p, (int)i, json_array_get(nodes, i), err)))
            return rc;
    return parse_outputs(p, outs, err);
}

vi_status vi_manifest_parse(const char *json, size_t len, const vi_safetensors *st, vi_graph *g,
                            vi_error *err)
{
    memset(g, 0, sizeof *g);
    if (!json)
        return vi_fail(err, VI_ERR_INVALID, "model.json text is NULL");
    vi_status rc = check_depth(json, len, err);
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vi_fail(err, VI_ERR_INVALID, "not valid JSON: %s (line %d, column %d)", jerr.text,
                       jerr.line, jerr.column);
    parser p = {.st = st, .g = g};
    rc = parse_root(&p, root, err);
    table_free(&p.values);
    table_free(&p.nodes);
    json_decref(root);
    if (rc)
        vi_graph_free(g);
    return rc;
}
