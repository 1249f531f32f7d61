/* core/tolerance.c — fast mode's claim: mode names, the depth rule that
 * gives a model's fast-mode tolerance, the receipt text of a tolerance, and
 * the element-wise comparison of claimed outputs with an exact
 * re-execution (docs/fast-mode.md). */
#include "tolerance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vi_mode_name(vi_mode m)
{
    switch (m) {
    case VI_MODE_EXACT:
        return "exact";
    case VI_MODE_FAST:
        return "fast";
    default:
        return "default";
    }
}

vi_mode vi_mode_from_name(const char *s)
{
    if (s && strcmp(s, "exact") == 0)
        return VI_MODE_EXACT;
    if (s && strcmp(s, "fast") == 0)
        return VI_MODE_FAST;
    return VI_MODE_DEFAULT;
}

vi_mode vi_mode_resolve(const vi_graph *g, vi_mode asked)
{
    if (asked == VI_MODE_EXACT || asked == VI_MODE_FAST)
        return asked;
    return g->mode.fast ? VI_MODE_FAST : VI_MODE_EXACT;
}

/* ==== the depth rule ==== */

int vi_graph_gemm_depth(const vi_graph *g)
{
    if (g->n_values <= 0)
        return 0;
    int *depth = calloc((size_t)g->n_values, sizeof *depth);
    if (!depth) /* cannot happen for a loaded graph's size; the bound then is every node */
        return g->n_nodes;
    /* nodes are in execution order: every input is final before its reader runs */
    for (int i = 0; i < g->n_nodes; i++) {
        const vi_node *nd = &g->nodes[i];
        int d = 0;
        for (int k = 0; k < VI_NODE_MAX_IN; k++)
            if (nd->in[k] >= 0 && nd->in[k] < g->n_values && depth[nd->in[k]] > d)
                d = depth[nd->in[k]];
        if (nd->op == VI_OP_LINEAR || nd->op == VI_OP_MATMUL)
            d++;
        if (nd->out >= 0 && nd->out < g->n_values)
            depth[nd->out] = d;
    }
    int max = 0;
    for (int i = 0; i < g->n_outputs; i++)
        if (depth[g->outputs[i]] > max)
            max = depth[g->outputs[i]];
    free(depth);
    return max;
}

void vi_tolerance_of_model(const vi_graph *g, vi_tolerance *t)
{
    if (g->mode.has_tolerance) {
        t->rtol = g->mode.rtol;
        t->atol = g->mode.atol;
        return;
    }
    double d = (double)vi_graph_gemm_depth(g);
    t->rtol = d * VI_FAST_TOL_PER_GEMM;
    t->atol = d * VI_FAST_TOL_PER_GEMM;
}

/* ==== text form ==== */

void vi_tolerance_format(double v, char out[VI_TOL_TEXT_MAX])
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, VI_TOL_TEXT_MAX, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

vi_status vi_tolerance_parse(const char *key, const char *text, double *out, vi_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = text && *text ? strtod(text, &end) : 0.0;
    if (!text || !*text || *end != '\0' || errno == ERANGE || v != v || v - v != 0.0 || v < 0.0 ||
        text[0] == ' ' || text[0] == '+')
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt parameter '%s' must be a finite decimal number >= 0 (got '%.64s')",
                       key, text ? text : "");
    *out = v;
    return VI_OK;
}

/* ==== comparison ==== */

static double abs_d(double x)
{
    return x < 0.0 ? -x : x;
}

/* "[1, 2]": the index of flat element k of a tensor. */
static void index_str(const vi_tensor *t, int64_t k, char *buf, size_t size)
{
    int64_t idx[VI_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d] > 0 ? t->shape[d] : 1;
        idx[d] = k % n;
        k /= n;
    }
    vi_shape_str(t->ndim, idx, buf, size); /* an index prints like a shape */
}

static int same_shape(const vi_tensor *a, const vi_tensor *b)
{
    if (a->dtype != b->dtype || a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

/* One FP32 tensor; fails at the first element outside the tolerance. */
static vi_status compare_f32(const vi_tolerance *tol, const vi_tensor *c, const vi_tensor *x,
                             int64_t n, vi_tol_report *rep, vi_error *err)
{
    const float *a = c->data, *b = x->data;
    char where[128];
    for (int64_t k = 0; k < n; k++) {
        double va = (double)a[k], vb = (double)b[k];
        int nan_a = va != va, nan_b = vb != vb;
        int fin_a = !nan_a && va - va == 0.0, fin_b = !nan_b && vb - vb == 0.0;
        rep->elements++;
        if (nan_a && nan_b)
            continue;
        if (!fin_a || !fin_b) {
            if (va == vb)
                continue; /* the same infinity */
            index_str(c, k, where, sizeof where);
            return vi_fail(err, VI_ERR_VERIFY,
                           "output '%s' element %s is %.9g but exact re-execution gives %.9g "
                           "(NaN and infinities must match exactly)",
                           c->name, where, va, vb);
        }
        double diff = abs_d(va - vb), allowed = tol->atol + tol->rtol * abs_d(vb);
        if (diff > allowed) {
            index_str(c, k, where, sizeof where);
            return vi_fail(err, VI_ERR_VERIFY,
                           "output '%s' element %s is %.9g but exact re-execution gives %.9g: "
                           "|diff| %.9g > atol + rtol * |exact| = %.9g",
                           c->name, where, va, vb, diff, allowed);
        }
        if (diff > rep->max_abs)
            rep->max_abs = diff;
        if (vb != 0.0 && diff / abs_d(vb) > rep->max_rel)
            rep->max_rel = diff / abs_d(vb);
    }
    return VI_OK;
}

/* Any other datatype: element by element, bit for bit. */
static vi_status compare_bits(const vi_tensor *c, const vi_tensor *x, int64_t n, vi_tol_report *rep,
                              vi_error *err)
{
    size_t esz = vi_dtype_size(c->dtype);
    char where[128];
    for (int64_t k = 0; k < n; k++) {
        rep->elements++;
        const unsigned char *pa = (const unsigned char *)c->data + (size_t)k * esz;
        const unsigned char *pb = (const unsigned char *)x->data + (size_t)k * esz;
        if (memcmp(pa, pb, esz) == 0)
            continue;
        index_str(c, k, where, sizeof where);
        if (c->dtype == VI_DT_INT64) {
            int64_t ia, ib;
            memcpy(&ia, pa, sizeof ia);
            memcpy(&ib, pb, sizeof ib);
            return vi_fail(err, VI_ERR_VERIFY,
                           "output '%s' element %s is %lld but exact re-execution gives %lld "
                           "(%s outputs must match exactly)",
                           c->name, where, (long long)ia, (long long)ib,
                           vi_dtype_kserve_name(c->dtype));
        }
        return vi_fail(err, VI_ERR_VERIFY,
                       "output '%s' element %s differs from exact re-execution (%s outputs must "
                       "match exactly)",
                       c->name, where, vi_dtype_kserve_name(c->dtype));
    }
    return VI_OK;
}

vi_status vi_tolerance_compare(const vi_tolerance *tol, const vi_tensor *claimed, int n_claimed,
                               const vi_tensor *exact, int n_exact, vi_tol_report *rep,
                               vi_error *err)
{
    if (!tol || !rep || (n_claimed > 0 && !claimed) || (n_exact > 0 && !exact))
        return vi_fail(err, VI_ERR_INVALID, "tolerance comparison: missing argument");
    memset(rep, 0, sizeof *rep);
    if (n_claimed != n_exact)
        return vi_fail(err, VI_ERR_VERIFY,
                       "the response has %d output%s but exact re-execution gives %d", n_claimed,
                       n_claimed == 1 ? "" : "s", n_exact);
    for (int i = 0; i < n_claimed; i++) {
        const vi_tensor *c = &claimed[i], *x = NULL;
        for (int j = 0; j < n_exact && !x; j++)
            if (strcmp(exact[j].name, c->name) == 0)
                x = &exact[j];
        if (!x)
            return vi_fail(err, VI_ERR_VERIFY,
                           "output '%s' of the response is not an output of exact re-execution",
                           c->name);
        if (!same_shape(c, x)) {
            char sc[96], sx[96];
            vi_shape_str(c->ndim, c->shape, sc, sizeof sc);
            vi_shape_str(x->ndim, x->shape, sx, sizeof sx);
            return vi_fail(err, VI_ERR_VERIFY,
                           "output '%s' is %s %s in the response but %s %s in exact re-execution",
                           c->name, vi_dtype_kserve_name(c->dtype), sc,
                           vi_dtype_kserve_name(x->dtype), sx);
        }
        int64_t n = vi_tensor_numel(c);
        if (n > 0 && (!c->data || !x->data))
            return vi_fail(err, VI_ERR_INVALID, "output '%s' has no data", c->name);
        vi_status st = c->dtype == VI_DT_FP32 ? compare_f32(tol, c, x, n, rep, err)
                                              : compare_bits(c, x, n, rep, err);
        if (st != VI_OK)
            return st;
    }
    return VI_OK;
}
