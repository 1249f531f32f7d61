/* models/gen_plan.c — building a generator plan: the text buffer, model inputs
 * and outputs, weights and one helper per kind of graph node (each writes its
 * model.json line and declares the weights it needs). */
#include "gen_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vmath.h"

/* ==== Text ==== */

void vi_gen_printf(vi_gen_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n > SIZE_MAX / 2 - t->len) {
        t->failed = 1;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->failed = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void vi_gen_text_free(vi_gen_text *t)
{
    if (!t)
        return;
    free(t->buf);
    memset(t, 0, sizeof *t);
}

/* ==== Inputs, outputs, weights ==== */

static vi_gen_io *add_io(vi_gen_plan *p, vi_gen_io *tab, int *n, const char *name, vi_dtype dt)
{
    if (*n >= VI_GEN_MAX_IO) {
        p->overflow = 1;
        return NULL;
    }
    vi_gen_io *io = &tab[(*n)++];
    memset(io, 0, sizeof *io);
    snprintf(io->name, sizeof io->name, "%s", name);
    io->dtype = dt;
    return io;
}

void vi_gen_input(vi_gen_plan *p, const char *name, vi_dtype dt, int64_t d1, int64_t d2,
                  int64_t id_limit)
{
    vi_gen_io *io = add_io(p, p->inputs, &p->n_inputs, name, dt);
    if (!io)
        return;
    io->ndim = d2 ? 3 : 2;
    io->shape[0] = -1;
    io->shape[1] = d1;
    io->shape[2] = d2;
    io->id_limit = id_limit;
}

void vi_gen_output(vi_gen_plan *p, const char *name, vi_dtype dt, int64_t d1)
{
    vi_gen_io *io = add_io(p, p->outputs, &p->n_outputs, name, dt);
    if (!io)
        return;
    io->ndim = d1 ? 2 : 1;
    io->shape[0] = -1;
    io->shape[1] = d1;
}

/* Declares weight "<node>.<role>" and returns its name (inside the plan). */
static const char *add_weight(vi_gen_plan *p, const char *node, const char *role, int ndim,
                              const int64_t *shape, int near_one, float bound)
{
    if (p->n_weights >= VI_GEN_MAX_WEIGHTS) {
        p->overflow = 1;
        return "";
    }
    vi_gen_weight *w = &p->weights[p->n_weights++];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s.%s", node, role);
    w->ndim = ndim;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        w->shape[i] = shape[i];
        if (shape[i] < 1 || n > VI_GEN_MAX_WEIGHT_ELEMS / shape[i])
            p->overflow = 1;
        else
            n *= shape[i];
    }
    if (p->weight_elems > VI_GEN_MAX_WEIGHT_ELEMS - n)
        p->overflow = 1;
    else
        p->weight_elems += n;
    w->near_one = near_one;
    w->bound = bound;
    return w->name;
}

/* 1/sqrt(fan_in), correctly rounded operations only. */
static float fan_in_bound(int64_t fan_in)
{
    return 1.0f / VI_SQRTF((float)fan_in);
}

/* ==== Nodes ==== */

/* Starts a node line: {"op": op[, "name": name], "inputs": [a[, b]] */
static void node_begin(vi_gen_plan *p, const char *op, const char *name, const char *a,
                       const char *b)
{
    vi_gen_printf(&p->graph, "%s    {\"op\": \"%s\"", p->n_nodes ? ",\n" : "", op);
    if (name)
        vi_gen_printf(&p->graph, ", \"name\": \"%s\"", name);
    vi_gen_printf(&p->graph, ", \"inputs\": [\"%s\"", a);
    if (b)
        vi_gen_printf(&p->graph, ", \"%s\"", b);
    vi_gen_printf(&p->graph, "]");
    p->n_nodes++;
}

/* Ends it: , "outputs": [out][, "attributes": {attrs}]} */
static void node_end(vi_gen_plan *p, const char *out, const char *attrs)
{
    vi_gen_printf(&p->graph, ", \"outputs\": [\"%s\"]", out);
    if (attrs)
        vi_gen_printf(&p->graph, ", \"attributes\": {%s}", attrs);
    vi_gen_printf(&p->graph, "}");
}

void vi_gen_linear(vi_gen_plan *p, const char *name, const char *in, const char *out, int64_t k,
                   int64_t n, int bias, int out_in)
{
    int64_t ws[2] = {out_in ? n : k, out_in ? k : n};
    float bound = fan_in_bound(k);
    node_begin(p, "linear", name, in, NULL);
    vi_gen_printf(&p->graph, ", \"weights\": {\"weight\": \"%s\"",
                  add_weight(p, name, "weight", 2, ws, 0, bound));
    if (bias)
        vi_gen_printf(&p->graph, ", \"bias\": \"%s\"",
                      add_weight(p, name, "bias", 1, &n, 0, bound));
    vi_gen_printf(&p->graph, "}");
    node_end(p, out, out_in ? "\"weight_layout\": \"out_in\"" : "\"weight_layout\": \"in_out\"");
}

void vi_gen_unary(vi_gen_plan *p, const char *op, const char *in, const char *out)
{
    node_begin(p, op, NULL, in, NULL);
    node_end(p, out, NULL);
}

void vi_gen_gelu(vi_gen_plan *p, const char *in, const char *out, int tanh_form)
{
    node_begin(p, "gelu", NULL, in, NULL);
    node_end(p, out, tanh_form ? "\"approximate\": \"tanh\"" : "\"approximate\": \"none\"");
}

void vi_gen_layer_norm(vi_gen_plan *p, const char *name, const char *in, const char *out, int64_t d,
                       int bias)
{
    node_begin(p, "layer_norm", name, in, NULL);
    vi_gen_printf(&p->graph, ", \"weights\": {\"weight\": \"%s\"",
                  add_weight(p, name, "weight", 1, &d, 1, 0.0f));
    if (bias)
        vi_gen_printf(&p->graph, ", \"bias\": \"%s\"",
                      add_weight(p, name, "bias", 1, &d, 0, 0.125f));
    vi_gen_printf(&p->graph, "}");
    node_end(p, out, "\"eps\": 1e-05");
}

void vi_gen_rms_norm(vi_gen_plan *p, const char *name, const char *in, const char *out, int64_t d)
{
    node_begin(p, "rms_norm", name, in, NULL);
    vi_gen_printf(&p->graph, ", \"weights\": {\"weight\": \"%s\"}",
                  add_weight(p, name, "weight", 1, &d, 1, 0.0f));
    node_end(p, out, "\"eps\": 1e-06");
}

void vi_gen_matmul_weight(vi_gen_plan *p, const char *name, const char *in, const char *out,
                          int64_t k, int64_t n)
{
    int64_t ws[2] = {k, n};
    node_begin(p, "matmul", name, in, NULL);
    vi_gen_printf(&p->graph, ", \"weights\": {\"other\": \"%s\"}",
                  add_weight(p, name, "other", 2, ws, 0, fan_in_bound(k)));
    node_end(p, out, NULL);
}

void vi_gen_binary_act(vi_gen_plan *p, const char *op, const char *a, const char *b,
                       const char *out)
{
    node_begin(p, op, NULL, a, b);
    node_end(p, out, NULL);
}

void vi_gen_binary_weight(vi_gen_plan *p, const char *op, const char *name, const char *in,
                          const char *out, int64_t d1, int64_t d2, int near_one, float bound)
{
    int64_t ws[2] = {d1, d2};
    node_begin(p, op, name, in, NULL);
    vi_gen_printf(&p->graph, ", \"weights\": {\"other\": \"%s\"}",
                  add_weight(p, name, "other", d2 ? 2 : 1, ws, near_one, bound));
    node_end(p, out, NULL);
}

void vi_gen_embedding(vi_gen_plan *p, const char *name, const char *ids, const char *out, int64_t v,
                      int64_t d)
{
    int64_t ws[2] = {v, d};
    node_begin(p, "embedding", name, ids, NULL);
    vi_gen_printf(&p->graph, ", \"weights\": {\"weight\": \"%s\"}",
                  add_weight(p, name, "weight", 2, ws, 0, 1.0f));
    node_end(p, out, NULL);
}

void vi_gen_reshape(vi_gen_plan *p, const char *in, const char *out, const char *shape_json)
{
    char attrs[128];
    snprintf(attrs, sizeof attrs, "\"shape\": %s", shape_json);
    node_begin(p, "reshape", NULL, in, NULL);
    node_end(p, out, attrs);
}

void vi_gen_flatten(vi_gen_plan *p, const char *in, const char *out, int start_dim)
{
    char attrs[64];
    snprintf(attrs, sizeof attrs, "\"start_dim\": %d", start_dim);
    node_begin(p, "flatten", NULL, in, NULL);
    node_end(p, out, attrs);
}
