/* server/kserve_fast.c — the common shape of an inference request decoded
 * without building a jansson tree: an object of "id", "parameters" (nothing
 * but binary_data_output), "inputs" (FP32 tensors with flat "data", or with
 * parameters.binary_data_size and their bytes in the binary part) and
 * "outputs" (names, optional binary_data), plain ASCII strings without
 * escapes. Anything else, and anything the full route would refuse, is
 * declined, so the full route gives the answer (or the error) exactly as
 * before. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kserve.h"
#include "json_float.h"
#include "kserve_data.h"

typedef struct fp {
    const char *p, *end;
    const uint8_t *bin; /* the binary part, taken in input order */
    size_t bin_len, bin_used;
} fp;

static void ws(fp *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Consumes c (after whitespace); 1 if it was there. */
static int eat(fp *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A string of printable ASCII without escapes: *str, *n (not terminated). */
static int str(fp *s, const char **out, size_t *n)
{
    if (!eat(s, '"'))
        return 0;
    const char *b = s->p;
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = (unsigned char)*s->p;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return 0;
        s->p++;
    }
    if (s->p == s->end)
        return 0;
    *out = b;
    *n = (size_t)(s->p - b);
    s->p++;
    return 1;
}

static int key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* A JSON number read the way jansson reads it (vi_json_read_number): an
 * integer token through strtoll semantics, refused when out of range, else
 * the strtod value, refused on overflow. *is_int says which. */
static int number(fp *s, double *x, long long *ll, int *is_int)
{
    ws(s);
    vi_json_num v;
    if (vi_json_read_number(s->p, (size_t)(s->end - s->p), &v, NULL) != VI_OK)
        return 0;
    *ll = v.i;
    *x = v.d;
    *is_int = v.is_int;
    s->p += v.len;
    return 1;
}

typedef struct fbuf {
    float *v;
    size_t n, cap;
} fbuf;

static int fbuf_push(fbuf *b, float f)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        float *nv = realloc(b->v, cap * sizeof *nv);
        if (!nv)
            return 0;
        b->v = nv;
        b->cap = cap;
    }
    b->v[b->n++] = f;
    return 1;
}

/* "data": a flat array of numbers that are finite as FP32. */
static int data_array(fp *s, fbuf *b)
{
    if (!eat(s, '['))
        return 0;
    if (eat(s, ']'))
        return 1;
    do {
        double x;
        long long ll;
        int is_int;
        if (!number(s, &x, &ll, &is_int))
            return 0;
        float f = (float)x;
        if (isinf(f) || !fbuf_push(b, f))
            return 0;
    } while (eat(s, ','));
    return eat(s, ']');
}

static int shape_array(fp *s, vi_tensor *t)
{
    if (!eat(s, '['))
        return 0;
    if (eat(s, ']'))
        return 1;
    do {
        double x;
        long long ll;
        int is_int;
        if (t->ndim >= VI_MAX_DIMS || !number(s, &x, &ll, &is_int) || !is_int || ll < 0)
            return 0;
        t->shape[t->ndim++] = (int64_t)ll;
    } while (eat(s, ','));
    return eat(s, ']');
}

/* true or false (after whitespace) into *v. */
static int boolean(fp *s, int *v)
{
    ws(s);
    size_t left = (size_t)(s->end - s->p);
    if (left >= 4 && memcmp(s->p, "true", 4) == 0) {
        *v = 1;
        s->p += 4;
    } else if (left >= 5 && memcmp(s->p, "false", 5) == 0) {
        *v = 0;
        s->p += 5;
    } else {
        return 0;
    }
    return 1;
}

/* An object holding one key `key` with a boolean (*v) or, when is_size, a
 * non-negative integer (*size); or {} when allow_empty (*present = 0). */
static int one_key_object(fp *s, const char *key, int is_size, int allow_empty, int *present,
                          int *v, long long *size)
{
    const char *k;
    size_t kn;
    *present = 0;
    if (!eat(s, '{'))
        return 0;
    if (eat(s, '}'))
        return allow_empty;
    if (!str(s, &k, &kn) || !key_is(k, kn, key) || !eat(s, ':'))
        return 0;
    if (is_size) {
        double x;
        int is_int;
        if (!number(s, &x, size, &is_int) || !is_int || *size < 0)
            return 0;
    } else if (!boolean(s, v)) {
        return 0;
    }
    *present = 1;
    return eat(s, '}');
}

static int input_object(fp *s, const vi_kserve_limits *lim, size_t json_len, vi_tensor *t)
{
    int have_name = 0, have_dt = 0, have_shape = 0, have_data = 0, have_params = 0, ok = 0;
    int have_size = 0, unused;
    long long size = 0;
    fbuf b = {0};
    if (!eat(s, '{'))
        return 0;
    do {
        const char *k, *v;
        size_t kn, vn;
        if (!str(s, &k, &kn) || !eat(s, ':'))
            goto done;
        if (key_is(k, kn, "name") && !have_name++) {
            if (!str(s, &v, &vn) || vn == 0 || vn >= VI_NAME_MAX)
                goto done;
            memcpy(t->name, v, vn);
            t->name[vn] = '\0';
        } else if (key_is(k, kn, "datatype") && !have_dt++) {
            if (!str(s, &v, &vn) || !key_is(v, vn, "FP32"))
                goto done;
            t->dtype = VI_DT_FP32;
        } else if (key_is(k, kn, "shape") && !have_shape++) {
            if (!shape_array(s, t))
                goto done;
        } else if (key_is(k, kn, "data") && !have_data++) {
            if (!data_array(s, &b))
                goto done;
        } else if (key_is(k, kn, "parameters") && !have_params++) {
            /* {"binary_data_size": N}: the tensor's bytes are in the binary part */
            if (!one_key_object(s, "binary_data_size", 1, 0, &have_size, &unused, &size))
                goto done;
        } else {
            goto done;
        }
    } while (eat(s, ','));
    if (!eat(s, '}') || !have_name || !have_dt || !have_shape || have_data == have_size)
        goto done;
    int64_t numel = 0;
    vi_error e;
    if (vi_shape_numel(t->ndim, t->shape, &numel, &e) != VI_OK || numel > lim->max_elements ||
        (uint64_t)numel > SIZE_MAX / 4)
        goto done;
    size_t nbytes = (size_t)numel * 4;
    if (have_size) {
        if ((unsigned long long)size != nbytes || nbytes > s->bin_len - s->bin_used)
            goto done;
    } else if ((uint64_t)numel > json_len || (uint64_t)numel != b.n) {
        goto done;
    }
    t->data = malloc(nbytes ? nbytes : 1);
    if (!t->data)
        goto done;
    if (have_size) {
        if (nbytes)
            memcpy(t->data, s->bin + s->bin_used, nbytes);
        s->bin_used += nbytes;
        ok = 1;
        goto done;
    }
    uint8_t *dst = t->data;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (b.n)
        memcpy(dst, b.v, b.n * 4);
#else
    for (size_t i = 0; i < b.n; i++) {
        uint32_t u;
        memcpy(&u, &b.v[i], 4);
        for (int k = 0; k < 4; k++)
            dst[4 * i + (size_t)k] = (uint8_t)(u >> (8 * k));
    }
#endif
    ok = 1;
done:
    free(b.v);
    return ok;
}

static int output_object(fp *s, vi_kserve_output_req *o)
{
    int have_name = 0, have_params = 0;
    o->binary_data = -1;
    if (!eat(s, '{'))
        return 0;
    do {
        const char *k, *v;
        size_t kn, vn;
        if (!str(s, &k, &kn) || !eat(s, ':'))
            return 0;
        if (key_is(k, kn, "name") && !have_name++) {
            if (!str(s, &v, &vn) || vn == 0 || vn >= VI_NAME_MAX)
                return 0;
            memcpy(o->name, v, vn);
            o->name[vn] = '\0';
        } else if (key_is(k, kn, "parameters") && !have_params++) {
            /* {} or {"binary_data": true|false} */
            int present, v = 0;
            long long unused;
            if (!one_key_object(s, "binary_data", 0, 1, &present, &v, &unused))
                return 0;
            if (present)
                o->binary_data = v;
        } else {
            return 0;
        }
    } while (eat(s, ','));
    return eat(s, '}') && have_name;
}

static int grow(void **arr, int n, size_t esz)
{
    void *na = realloc(*arr, ((size_t)n + 1) * esz);
    if (!na)
        return 0;
    memset((char *)na + (size_t)n * esz, 0, esz);
    *arr = na;
    return 1;
}

static int parse_root(fp *s, size_t json_len, const vi_kserve_limits *lim, vi_kserve_request *req)
{
    int have_id = 0, have_inputs = 0, have_outputs = 0, have_params = 0;
    if (!eat(s, '{'))
        return 0;
    do {
        const char *k, *v;
        size_t kn, vn;
        if (!str(s, &k, &kn) || !eat(s, ':'))
            return 0;
        if (key_is(k, kn, "id") && !have_id++) {
            if (!str(s, &v, &vn) || !(req->id = malloc(vn + 1)))
                return 0;
            memcpy(req->id, v, vn);
            req->id[vn] = '\0';
        } else if (key_is(k, kn, "parameters") && !have_params++) {
            /* {} or {"binary_data_output": true|false}, kept as the full route keeps it */
            int present, v = 0;
            long long unused;
            if (!one_key_object(s, "binary_data_output", 0, 1, &present, &v, &unused) ||
                !(req->parameters = json_object()))
                return 0;
            req->binary_data_output = v;
            if (present &&
                json_object_set_new(req->parameters, "binary_data_output", json_boolean(v)) != 0)
                return 0;
        } else if (key_is(k, kn, "inputs") && !have_inputs++) {
            if (!eat(s, '['))
                return 0;
            do {
                if (req->n_inputs >= lim->max_inputs ||
                    !grow((void **)&req->inputs, req->n_inputs, sizeof *req->inputs))
                    return 0;
                vi_tensor *t = &req->inputs[req->n_inputs++];
                if (!input_object(s, lim, json_len, t))
                    return 0;
                for (int i = 0; i < req->n_inputs - 1; i++)
                    if (strcmp(req->inputs[i].name, t->name) == 0)
                        return 0;
            } while (eat(s, ','));
            if (!eat(s, ']'))
                return 0;
        } else if (key_is(k, kn, "outputs") && !have_outputs++) {
            if (!eat(s, '['))
                return 0;
            do {
                if (req->n_outputs >= lim->max_outputs ||
                    !grow((void **)&req->outputs, req->n_outputs, sizeof *req->outputs))
                    return 0;
                vi_kserve_output_req *o = &req->outputs[req->n_outputs++];
                if (!output_object(s, o))
                    return 0;
                for (int i = 0; i < req->n_outputs - 1; i++)
                    if (strcmp(req->outputs[i].name, o->name) == 0)
                        return 0;
            } while (eat(s, ','));
            if (!eat(s, ']'))
                return 0;
        } else {
            return 0;
        }
    } while (eat(s, ','));
    if (!eat(s, '}') || !have_inputs)
        return 0;
    ws(s);
    return s->p == s->end && s->bin_used == s->bin_len; /* every binary byte taken */
}

int vi_ks_fast_request(const char *json, size_t len, const uint8_t *binary, size_t binary_len,
                       const vi_kserve_limits *lim, vi_kserve_request *req)
{
    memset(req, 0, sizeof *req);
    /* root, inputs, one input, its shape/data or parameters: 4 levels */
    if (!json || (binary_len > 0 && !binary) || lim->max_depth < 4 || lim->max_inputs < 1)
        return 0;
    fp s = {json, json + len, binary, binary_len, 0};
    if (parse_root(&s, len, lim, req))
        return 1;
    vi_kserve_request_free(req);
    return 0;
}
