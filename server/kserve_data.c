/* server/kserve_data.c — KServe tensor decoding shared by requests and
 * responses: pre-parse JSON checks, tensor headers, JSON data (flat or
 * nested) and binary slices, all into little-endian bytes. */
#include "kserve_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_num.h"

/* ==== The JSON text, before jansson sees it ==== */

/* Case-insensitive match of the letters at s[0..n) against word. */
static int word_is(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n != k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Jansson has no depth limit of its own (it recurses), and reports NaN or
 * Infinity only as an "invalid token": both are caught here first. */
static vi_status precheck(const char *s, size_t n, int max_depth, const char *what, vi_error *err)
{
    int depth = 0, in_str = 0;
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '\n') {
            line++;
            line_start = i + 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return vi_fail(err, VI_ERR_LIMIT,
                               "%s JSON is nested deeper than %d levels (line %zu, column %zu)",
                               what, max_depth, line, i - line_start + 1);
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (is_letter(c) && (i == 0 || !is_letter(s[i - 1]))) {
            size_t k = i;
            while (k < n && is_letter(s[k]))
                k++;
            if (word_is(s + i, k - i, "nan") || word_is(s + i, k - i, "inf") ||
                word_is(s + i, k - i, "infinity"))
                return vi_fail(err, VI_ERR_INVALID,
                               "invalid %s JSON: '%.*s' is not a JSON number (line %zu, column "
                               "%zu); non-finite values can only be sent as binary data",
                               what, (int)(k - i), s + i, line, i - line_start + 1);
            i = k - 1;
        }
    }
    return VI_OK;
}

vi_status vi_kserve_load_json(const char *json, size_t len, int max_depth, const char *what,
                              json_t **root, vi_error *err)
{
    *root = NULL;
    if (!json)
        return vi_fail(err, VI_ERR_INVALID, "%s is empty", what);
    vi_status st = precheck(json, len, max_depth, what, err);
    if (st != VI_OK)
        return st;
    json_error_t je;
    json_t *r = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!r) {
        if (json_error_code(&je) == json_error_out_of_memory)
            return vi_fail(err, VI_ERR_NOMEM, "out of memory parsing the %s JSON", what);
        return vi_fail(err, VI_ERR_INVALID, "invalid %s JSON: %s (line %d, column %d)", what,
                       je.text, je.line, je.column);
    }
    if (!json_is_object(r)) {
        json_decref(r);
        return vi_fail(err, VI_ERR_INVALID, "the %s must be a JSON object", what);
    }
    *root = r;
    return VI_OK;
}

vi_status vi_ks_opt_string(json_t *obj, const char *key, const char *path, char **out,
                           vi_error *err)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VI_OK;
    if (!json_is_string(v))
        return vi_fail(err, VI_ERR_INVALID, "%s%s%s must be a string", path, *path ? "." : "", key);
    size_t n = json_string_length(v);
    char *s = malloc(n + 1);
    if (!s)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory copying %s", key);
    memcpy(s, json_string_value(v), n);
    s[n] = '\0';
    *out = s;
    return VI_OK;
}

/* ==== Describing what was found ==== */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "an unknown JSON value";
}

/* "1.5", "-3", "the string \"abc\"", "an array", ... */
static void describe(const json_t *v, char *buf, size_t size)
{
    if (json_is_integer(v))
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        char num[VI_FMT_NUM_MAX];
        vi_fmt_f64(json_real_value(v), num);
        /* "1.0" stays recognisably a real number */
        snprintf(buf, size, "%s%s", num, strspn(num, "-0123456789") == strlen(num) ? ".0" : "");
    } else if (json_is_string(v))
        snprintf(buf, size, "the string \"%.40s\"%s", json_string_value(v),
                 json_string_length(v) > 40 ? "..." : "");
    else
        snprintf(buf, size, "%s", type_name(v));
}

/* ==== Tensor header ==== */

static int kserve_known_unsupported(const char *dt)
{
    return strcmp(dt, "BYTES") == 0 || strcmp(dt, "UINT16") == 0 || strcmp(dt, "UINT32") == 0 ||
           strcmp(dt, "UINT64") == 0;
}

static vi_status read_header(json_t *obj, const char *path, int64_t max_elements, vi_tensor *t,
                             int64_t *numel, vi_error *err)
{
    if (!json_is_object(obj))
        return vi_fail(err, VI_ERR_INVALID, "%s must be an object", path);

    json_t *name = json_object_get(obj, "name");
    if (!json_is_string(name))
        return vi_fail(err, VI_ERR_INVALID, "%s.name must be a string", path);
    size_t nlen = json_string_length(name);
    if (nlen == 0)
        return vi_fail(err, VI_ERR_INVALID, "%s.name must not be empty", path);
    if (nlen >= VI_NAME_MAX)
        return vi_fail(err, VI_ERR_LIMIT, "%s.name is %zu bytes long (at most %d)", path, nlen,
                       VI_NAME_MAX - 1);
    memcpy(t->name, json_string_value(name), nlen + 1);

    json_t *dt = json_object_get(obj, "datatype");
    if (!json_is_string(dt))
        return vi_fail(err, VI_ERR_INVALID, "%s.datatype must be a string", path);
    t->dtype = vi_dtype_from_kserve(json_string_value(dt));
    if (t->dtype == VI_DT_INVALID) {
        const char *s = json_string_value(dt);
        return vi_fail(err, kserve_known_unsupported(s) ? VI_ERR_UNSUPPORTED : VI_ERR_INVALID,
                       "%s.datatype '%.40s' is %s (supported: BOOL, UINT8, INT8, INT16, INT32, "
                       "INT64, FP16, BF16, FP32, FP64)",
                       path, s, kserve_known_unsupported(s) ? "not supported" : "unknown");
    }

    json_t *shape = json_object_get(obj, "shape");
    if (!json_is_array(shape))
        return vi_fail(err, VI_ERR_INVALID, "%s.shape must be an array of non-negative integers",
                       path);
    size_t nd = json_array_size(shape);
    if (nd > VI_MAX_DIMS)
        return vi_fail(err, VI_ERR_LIMIT, "%s.shape has %zu dimensions (at most %d)", path, nd,
                       VI_MAX_DIMS);
    t->ndim = (int)nd;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(shape, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0) {
            char got[64];
            describe(d, got, sizeof got);
            return vi_fail(err, VI_ERR_INVALID,
                           "%s.shape[%zu] must be a non-negative integer (got %s)", path, i, got);
        }
        t->shape[i] = (int64_t)json_integer_value(d);
    }
    vi_status st = vi_shape_numel(t->ndim, t->shape, numel, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "%s.shape", path);
        return st;
    }
    if (*numel > max_elements)
        return vi_fail(err, VI_ERR_LIMIT, "%s has %lld elements (limit %lld)", path,
                       (long long)*numel, (long long)max_elements);
    if ((uint64_t)*numel > SIZE_MAX / vi_dtype_size(t->dtype))
        return vi_fail(err, VI_ERR_LIMIT, "%s is too large for this machine", path);
    return VI_OK;
}

/* ==== JSON data ==== */

typedef struct walk {
    const vi_tensor *t;
    const char *path; /* "inputs[0].data" */
    uint8_t *dst;
    size_t esz;
    int64_t pos; /* elements written */
    int allow_nonfinite;
    size_t idx[VI_MAX_DIMS + 1];
    int flat;
    vi_error *err;
} walk;

static void store_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Formats the path of the element at nesting depth d into buf. */
static void elem_path(const walk *w, int d, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "%s", w->path);
    for (int k = 0; k < d && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "[%zu]", w->idx[k]);
}

static vi_status elem_fail(const walk *w, int d, vi_status st, const char *what, const json_t *v)
{
    char p[256], got[80];
    elem_path(w, d, p, sizeof p);
    describe(v, got, sizeof got);
    return vi_fail(w->err, st, "%s must be %s (got %s)", p, what, got);
}

static const struct {
    vi_dtype dt;
    long long lo, hi;
    const char *what;
} INT_RANGE[] = {
    {VI_DT_UINT8, 0, 255, "an integer in 0..255 for UINT8"},
    {VI_DT_INT8, -128, 127, "an integer in -128..127 for INT8"},
    {VI_DT_INT16, -32768, 32767, "an integer in -32768..32767 for INT16"},
    {VI_DT_INT32, -2147483647LL - 1, 2147483647LL,
     "an integer in -2147483648..2147483647 for INT32"},
    {VI_DT_INT64, INT64_MIN, INT64_MAX, "an integer for INT64"},
};

/* 1 for "NaN", 2 for "Infinity", 3 for "-Infinity", else 0. */
static int nonfinite_string(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return 0;
    return strcmp(s, "NaN") == 0         ? 1
           : strcmp(s, "Infinity") == 0  ? 2
           : strcmp(s, "-Infinity") == 0 ? 3
                                         : 0;
}

static vi_status put_scalar(walk *w, json_t *v, int d)
{
    uint8_t *dst = w->dst + (size_t)w->pos * w->esz;
    vi_dtype dt = w->t->dtype;
    if (dt == VI_DT_BOOL) {
        if (!json_is_boolean(v))
            return elem_fail(w, d, VI_ERR_INVALID, "true or false for BOOL", v);
        *dst = json_is_true(v) ? 1 : 0;
    } else if (dt == VI_DT_FP32 || dt == VI_DT_FP64) {
        double x;
        int nf = nonfinite_string(v);
        /* an integer literal converts to the nearest binary64, as strtod would */
        if (json_is_number(v))
            x = json_number_value(v);
        else if (nf && w->allow_nonfinite)
            x = nf == 1 ? (double)NAN : nf == 2 ? (double)INFINITY : -(double)INFINITY;
        else if (nf)
            return elem_fail(w, d, VI_ERR_INVALID,
                             "a number (non-finite values can only be sent as binary data)", v);
        else
            return elem_fail(w, d, VI_ERR_INVALID, "a number", v);
        if (dt == VI_DT_FP64) {
            uint64_t u;
            memcpy(&u, &x, 8);
            store_le(dst, u, 8);
        } else {
            float f = (float)x; /* binary64 -> binary32, round to nearest even */
            if (isinf(f) && !isinf(x))
                return elem_fail(w, d, VI_ERR_INVALID,
                                 "a number within the FP32 range (|x| < 3.4028235677973366e38)", v);
            uint32_t u;
            memcpy(&u, &f, 4);
            store_le(dst, u, 4);
        }
    } else {
        size_t r = 0, nr = sizeof INT_RANGE / sizeof INT_RANGE[0];
        while (r < nr && INT_RANGE[r].dt != dt)
            r++;
        if (r == nr)
            return vi_fail(w->err, VI_ERR_INTERNAL, "%s: no JSON decoding for %s", w->path,
                           vi_dtype_kserve_name(dt));
        if (!json_is_integer(v) || json_integer_value(v) < INT_RANGE[r].lo ||
            json_integer_value(v) > INT_RANGE[r].hi)
            return elem_fail(w, d, VI_ERR_INVALID, INT_RANGE[r].what, v);
        store_le(dst, (uint64_t)(int64_t)json_integer_value(v), w->esz);
    }
    w->pos++;
    return VI_OK;
}

/* Nested data: the array at depth d must have exactly shape[d] entries. */
static vi_status walk_nested(walk *w, json_t *v, int d)
{
    if (d == w->t->ndim)
        return put_scalar(w, v, d);
    char p[256], shp[160];
    if (!json_is_array(v) || (int64_t)json_array_size(v) != w->t->shape[d]) {
        elem_path(w, d, p, sizeof p);
        vi_shape_str(w->t->ndim, w->t->shape, shp, sizeof shp);
        if (!json_is_array(v)) {
            char got[80];
            describe(v, got, sizeof got);
            return vi_fail(w->err, VI_ERR_INVALID,
                           "%s must be an array of %lld elements for shape %s (got %s)", p,
                           (long long)w->t->shape[d], shp, got);
        }
        return vi_fail(w->err, VI_ERR_INVALID,
                       "%s has %zu elements but dimension %d of shape %s is %lld", p,
                       json_array_size(v), d, shp, (long long)w->t->shape[d]);
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        w->idx[d] = i;
        vi_status st = walk_nested(w, json_array_get(v, i), d + 1);
        if (st != VI_OK)
            return st;
    }
    return VI_OK;
}

static vi_status decode_json(json_t *data, const char *path, int allow_nonfinite, vi_tensor *t,
                             int64_t numel, vi_error *err)
{
    walk w = {.t = t,
              .path = path,
              .dst = t->data,
              .esz = vi_dtype_size(t->dtype),
              .allow_nonfinite = allow_nonfinite,
              .err = err};
    if (!json_is_array(data))
        return vi_fail(err, VI_ERR_INVALID, "%s must be an array", path);
    size_t n = json_array_size(data);
    /* flat unless the first entry is an array (a scalar shape is always flat) */
    if (t->ndim == 0 || n == 0 || !json_is_array(json_array_get(data, 0))) {
        if ((int64_t)n != numel) {
            char shp[160];
            vi_shape_str(t->ndim, t->shape, shp, sizeof shp);
            return vi_fail(err, VI_ERR_INVALID, "%s has %zu elements but shape %s has %lld", path,
                           n, shp, (long long)numel);
        }
        for (size_t i = 0; i < n; i++) {
            w.idx[0] = i;
            vi_status st = put_scalar(&w, json_array_get(data, i), 1);
            if (st != VI_OK)
                return st;
        }
        return VI_OK;
    }
    return walk_nested(&w, data, 0);
}

/* ==== Binary data ==== */

/* Checks binary_data_size against the tensor and the bytes left, before anything is allocated. */
static vi_status check_binary(const vi_ks_blob *blob, json_t *size_v, const char *path,
                              const vi_tensor *t, size_t nbytes, vi_error *err)
{
    if (!json_is_integer(size_v) || json_integer_value(size_v) < 0) {
        char got[80];
        describe(size_v, got, sizeof got);
        return vi_fail(err, VI_ERR_INVALID,
                       "%s.parameters.binary_data_size must be a non-negative integer (got %s)",
                       path, got);
    }
    uint64_t size = (uint64_t)json_integer_value(size_v);
    if (size != nbytes) {
        char shp[160];
        vi_shape_str(t->ndim, t->shape, shp, sizeof shp);
        return vi_fail(err, VI_ERR_INVALID,
                       "%s.parameters.binary_data_size is %llu but shape %s of %s needs %zu bytes",
                       path, (unsigned long long)size, shp, vi_dtype_kserve_name(t->dtype), nbytes);
    }
    if (nbytes > blob->len - blob->used)
        return vi_fail(err, VI_ERR_INVALID,
                       "%s needs bytes %zu..%zu of the binary data but only %zu bytes were sent",
                       path, blob->used, blob->used + nbytes, blob->len);
    return VI_OK;
}

static vi_status take_binary(vi_ks_blob *blob, const char *path, vi_tensor *t, size_t nbytes,
                             vi_error *err)
{
    if (nbytes)
        memcpy(t->data, blob->data + blob->used, nbytes);
    blob->used += nbytes;
    if (t->dtype == VI_DT_BOOL) {
        const uint8_t *b = t->data;
        for (size_t i = 0; i < nbytes; i++)
            if (b[i] > 1)
                return vi_fail(err, VI_ERR_INVALID,
                               "%s: binary BOOL element %zu is %u (must be 0 or 1)", path, i,
                               (unsigned)b[i]);
    }
    return VI_OK;
}

vi_status vi_ks_blob_done(const vi_ks_blob *blob, vi_error *err)
{
    if (blob->used != blob->len)
        return vi_fail(err, VI_ERR_INVALID,
                       "%zu bytes of binary data were sent but the binary tensors take %zu "
                       "(%zu bytes left over)",
                       blob->len, blob->used, blob->len - blob->used);
    return VI_OK;
}

/* ==== One tensor ==== */

vi_status vi_ks_read_tensor(json_t *obj, const char *path, int64_t max_elements,
                            int allow_nonfinite, vi_ks_blob *blob, vi_tensor *t, vi_error *err)
{
    int64_t numel = 0;
    memset(t, 0, sizeof *t);
    vi_status st = read_header(obj, path, max_elements, t, &numel, err);
    if (st != VI_OK)
        return st;

    json_t *params = json_object_get(obj, "parameters");
    if (params && !json_is_object(params))
        return vi_fail(err, VI_ERR_INVALID, "%s.parameters must be an object", path);
    json_t *size_v = params ? json_object_get(params, "binary_data_size") : NULL;
    json_t *data = json_object_get(obj, "data");
    if (data && size_v)
        return vi_fail(err, VI_ERR_INVALID,
                       "%s has both data and parameters.binary_data_size (give one)", path);
    if (!data && !size_v)
        return vi_fail(err, VI_ERR_INVALID,
                       "%s has no data (give \"data\" or parameters.binary_data_size)", path);

    if (data && (t->dtype == VI_DT_FP16 || t->dtype == VI_DT_BF16))
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "%s is %s: 16-bit float data must be sent as binary data "
                       "(parameters.binary_data_size), not as JSON numbers",
                       path, vi_dtype_kserve_name(t->dtype));

    /* nothing is allocated for a shape the bytes sent cannot fill */
    size_t nbytes = (size_t)numel * vi_dtype_size(t->dtype);
    if (size_v) {
        st = check_binary(blob, size_v, path, t, nbytes, err);
        if (st != VI_OK)
            return st;
    } else if ((uint64_t)numel > blob->json_len) {
        char shp[160];
        vi_shape_str(t->ndim, t->shape, shp, sizeof shp);
        return vi_fail(err, VI_ERR_INVALID,
                       "%s.data cannot hold the %lld elements of shape %s (the JSON has %zu bytes)",
                       path, (long long)numel, shp, blob->json_len);
    }
    t->data = malloc(nbytes ? nbytes : 1);
    if (!t->data)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %s (%zu bytes)", path, nbytes);
    if (size_v) {
        st = take_binary(blob, path, t, nbytes, err);
    } else {
        char dpath[200];
        snprintf(dpath, sizeof dpath, "%s.data", path);
        st = decode_json(data, dpath, allow_nonfinite, t, numel, err);
    }
    if (st != VI_OK) {
        free(t->data);
        t->data = NULL;
    }
    return st;
}
