/* server/kserve_response.c — KServe v2 inference responses: encoding output
 * tensors as JSON text (own number writer) plus appended binary data, and
 * parsing such responses back (for `verinfer verify`). */
#include "kserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_num.h"
#include "kserve_data.h"

/* ==== Building ==== */

/* Appends `v` as compact JSON (strings escaped by jansson). */
static vi_status put_json(vi_sb *sb, json_t *v, const char *what, vi_error *err)
{
    char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!txt)
        return vi_fail(err, VI_ERR_NOMEM, "cannot encode %s as JSON", what);
    vi_sb_puts(sb, txt);
    free(txt);
    return VI_OK;
}

static vi_status put_string(vi_sb *sb, const char *s, const char *what, vi_error *err)
{
    if (vi_sb_put_jstr(sb, s, strlen(s)) != 0)
        return vi_fail(err, VI_ERR_INVALID, "%s is not valid UTF-8", what);
    return VI_OK;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Writes the elements of t as a flat JSON array. */
static void put_data(vi_sb *sb, const vi_tensor *t, int64_t numel)
{
    const uint8_t *p = t->data;
    size_t esz = vi_dtype_size(t->dtype);
    vi_sb_putc(sb, '[');
    for (int64_t i = 0; i < numel; i++, p += esz) {
        if (i)
            vi_sb_putc(sb, ',');
        uint64_t u = load_le(p, esz);
        switch (t->dtype) {
        case VI_DT_BOOL:
            vi_sb_puts(sb, u ? "true" : "false");
            break;
        case VI_DT_UINT8:
            vi_sb_put_u64(sb, u);
            break;
        case VI_DT_INT8:
            vi_sb_put_i64(sb, (int8_t)u);
            break;
        case VI_DT_INT16:
            vi_sb_put_i64(sb, (int16_t)u);
            break;
        case VI_DT_INT32:
            vi_sb_put_i64(sb, (int32_t)u);
            break;
        case VI_DT_INT64:
            vi_sb_put_i64(sb, (int64_t)u);
            break;
        case VI_DT_FP32: {
            uint32_t b = (uint32_t)u;
            float f;
            memcpy(&f, &b, 4);
            vi_sb_put_f32(sb, f);
            break;
        }
        case VI_DT_FP64: {
            double d;
            memcpy(&d, &u, 8);
            vi_sb_put_f64(sb, d);
            break;
        }
        default:
            break; /* FP16/BF16 are rejected before */
        }
    }
    vi_sb_putc(sb, ']');
}

static vi_status check_output(const vi_kserve_response_spec *spec, int i, int64_t *numel,
                              vi_error *err)
{
    const vi_tensor *t = &spec->outputs[i];
    const char *dt = vi_dtype_kserve_name(t->dtype);
    if (!dt)
        return vi_fail(err, VI_ERR_INVALID, "output %d ('%.*s') has an invalid datatype", i,
                       VI_NAME_MAX - 1, t->name);
    vi_status st = vi_shape_numel(t->ndim, t->shape, numel, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "output '%.*s'", VI_NAME_MAX - 1, t->name);
        return st;
    }
    if ((uint64_t)*numel > SIZE_MAX / vi_dtype_size(t->dtype))
        return vi_fail(err, VI_ERR_LIMIT, "output '%.*s' is too large", VI_NAME_MAX - 1, t->name);
    if (*numel > 0 && !t->data)
        return vi_fail(err, VI_ERR_INVALID, "output '%.*s' has no data", VI_NAME_MAX - 1, t->name);
    int binary = spec->binary && spec->binary[i];
    if (!binary && (t->dtype == VI_DT_FP16 || t->dtype == VI_DT_BF16))
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "output '%.*s' is %s: 16-bit float data can only be sent as binary data",
                       VI_NAME_MAX - 1, t->name, dt);
    return VI_OK;
}

static vi_status put_output(vi_sb *sb, const vi_kserve_response_spec *spec, int i, int64_t numel,
                            vi_error *err)
{
    const vi_tensor *t = &spec->outputs[i];
    char name[VI_NAME_MAX];
    snprintf(name, sizeof name, "%.*s", VI_NAME_MAX - 1, t->name);
    vi_sb_puts(sb, i ? ",{\"name\":" : "{\"name\":");
    vi_status st = put_string(sb, name, "an output name", err);
    if (st != VI_OK)
        return st;
    vi_sb_puts(sb, ",\"datatype\":\"");
    vi_sb_puts(sb, vi_dtype_kserve_name(t->dtype));
    vi_sb_puts(sb, "\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
        if (d)
            vi_sb_putc(sb, ',');
        vi_sb_put_i64(sb, t->shape[d]);
    }
    vi_sb_putc(sb, ']');
    if (spec->binary && spec->binary[i]) {
        vi_sb_puts(sb, ",\"parameters\":{\"binary_data_size\":");
        vi_sb_put_u64(sb, (uint64_t)numel * vi_dtype_size(t->dtype));
        vi_sb_putc(sb, '}');
    } else {
        vi_sb_puts(sb, ",\"data\":");
        put_data(sb, t, numel);
    }
    vi_sb_putc(sb, '}');
    return VI_OK;
}

static vi_status put_head(vi_sb *sb, const vi_kserve_response_spec *spec, vi_error *err)
{
    vi_sb_puts(sb, "{\"model_name\":");
    vi_status st = put_string(sb, spec->model_name, "model_name", err);
    if (st == VI_OK && spec->model_version) {
        vi_sb_puts(sb, ",\"model_version\":");
        st = put_string(sb, spec->model_version, "model_version", err);
    }
    if (st == VI_OK && spec->id) {
        vi_sb_puts(sb, ",\"id\":");
        st = put_string(sb, spec->id, "id", err);
    }
    if (st == VI_OK && spec->parameters) {
        vi_sb_puts(sb, ",\"parameters\":");
        st = put_json(sb, spec->parameters, "parameters", err);
    }
    return st;
}

vi_status vi_kserve_build_response(const vi_kserve_response_spec *spec, char **json_out,
                                   size_t *json_len, uint8_t **binary_out, size_t *binary_len,
                                   vi_error *err)
{
    *json_out = NULL;
    *json_len = 0;
    *binary_out = NULL;
    *binary_len = 0;
    if (!spec->model_name)
        return vi_fail(err, VI_ERR_INVALID, "the response needs a model name");
    if (spec->n_outputs < 0 || (spec->n_outputs > 0 && !spec->outputs))
        return vi_fail(err, VI_ERR_INVALID, "the response has %d outputs and no tensors",
                       spec->n_outputs);

    vi_sb sb;
    vi_sb_init(&sb);
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    vi_status st = VI_OK;
    int64_t *numel = calloc((size_t)spec->n_outputs + 1, sizeof *numel);
    if (!numel) {
        st = vi_fail(err, VI_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < spec->n_outputs && st == VI_OK; i++) {
        st = check_output(spec, i, &numel[i], err);
        if (st == VI_OK && spec->binary && spec->binary[i]) {
            size_t n = (size_t)numel[i] * vi_dtype_size(spec->outputs[i].dtype);
            if (n > SIZE_MAX - bin_len)
                st = vi_fail(err, VI_ERR_LIMIT, "binary outputs exceed the address space");
            bin_len += n;
        }
    }
    if (st != VI_OK)
        goto done;

    st = put_head(&sb, spec, err);
    if (st != VI_OK)
        goto done;
    vi_sb_puts(&sb, ",\"outputs\":[");
    for (int i = 0; i < spec->n_outputs && st == VI_OK; i++)
        st = put_output(&sb, spec, i, numel[i], err);
    vi_sb_putc(&sb, ']');
    if (st == VI_OK && spec->receipt) {
        vi_sb_puts(&sb, ",\"receipt\":");
        st = put_json(&sb, spec->receipt, "the receipt", err);
    } else if (st == VI_OK && spec->receipt_text) {
        vi_sb_puts(&sb, ",\"receipt\":");
        vi_sb_puts(&sb, spec->receipt_text);
    }
    vi_sb_putc(&sb, '}');
    if (st != VI_OK)
        goto done;

    if (bin_len > 0) {
        bin = malloc(bin_len);
        if (!bin) {
            st = vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu bytes of binary outputs",
                         bin_len);
            goto done;
        }
        size_t at = 0;
        for (int i = 0; i < spec->n_outputs; i++) {
            if (!spec->binary[i])
                continue;
            size_t n = (size_t)numel[i] * vi_dtype_size(spec->outputs[i].dtype);
            if (n)
                memcpy(bin + at, spec->outputs[i].data, n);
            at += n;
        }
    }
    *json_out = vi_sb_take(&sb, json_len);
    if (!*json_out) {
        st = vi_fail(err, VI_ERR_NOMEM, "out of memory writing the response JSON");
        goto done;
    }
    *binary_out = bin;
    *binary_len = bin_len;
    bin = NULL;
done:
    free(numel);
    free(bin);
    vi_sb_free(&sb);
    return st;
}

/* ==== Parsing ==== */

void vi_kserve_response_free(vi_kserve_response *resp)
{
    if (!resp)
        return;
    free(resp->model_name);
    free(resp->model_version);
    free(resp->id);
    for (int i = 0; i < resp->n_outputs; i++)
        free(resp->outputs[i].data);
    free(resp->outputs);
    json_decref(resp->parameters);
    json_decref(resp->receipt);
    memset(resp, 0, sizeof *resp);
}

static vi_status parse_outputs(json_t *root, vi_ks_blob *blob, int64_t max_elements,
                               vi_kserve_response *resp, vi_error *err)
{
    json_t *outputs = json_object_get(root, "outputs");
    if (!json_is_array(outputs))
        return vi_fail(err, VI_ERR_INVALID, "outputs must be an array");
    size_t n = json_array_size(outputs);
    if (n > INT32_MAX / 2)
        return vi_fail(err, VI_ERR_LIMIT, "the response has %zu outputs", n);
    resp->outputs = calloc(n + 1, sizeof *resp->outputs);
    if (!resp->outputs)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu outputs", n);
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "outputs[%zu]", i);
        vi_status st = vi_ks_read_tensor(json_array_get(outputs, i), path, max_elements, 1, blob,
                                         &resp->outputs[i], err);
        if (st != VI_OK)
            return st;
        resp->n_outputs = (int)i + 1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(resp->outputs[k].name, resp->outputs[i].name) == 0)
                return vi_fail(err, VI_ERR_INVALID,
                               "duplicate output name '%s' (outputs[%zu] and %s)",
                               resp->outputs[i].name, k, path);
    }
    return vi_ks_blob_done(blob, err);
}

static vi_status opt_object(json_t *root, const char *key, json_t **out, vi_error *err)
{
    json_t *v = json_object_get(root, key);
    if (v && !json_is_object(v))
        return vi_fail(err, VI_ERR_INVALID, "%s must be an object", key);
    *out = v ? json_incref(v) : NULL;
    return VI_OK;
}

vi_status vi_kserve_parse_response(const char *json, size_t len, const uint8_t *binary,
                                   size_t binary_len, vi_kserve_response *resp, vi_error *err)
{
    vi_kserve_limits lim;
    vi_kserve_limits_default(&lim);
    memset(resp, 0, sizeof *resp);
    if (binary_len > 0 && !binary)
        return vi_fail(err, VI_ERR_INVALID, "binary data of %zu bytes has no buffer", binary_len);

    json_t *root = NULL;
    vi_status st = vi_kserve_load_json(json, len, lim.max_depth, "response", &root, err);
    if (st != VI_OK)
        return st;
    if (!json_is_string(json_object_get(root, "model_name")))
        st = vi_fail(err, VI_ERR_INVALID, "model_name must be a string");
    if (st == VI_OK)
        st = vi_ks_opt_string(root, "model_name", "", &resp->model_name, err);
    if (st == VI_OK)
        st = vi_ks_opt_string(root, "model_version", "", &resp->model_version, err);
    if (st == VI_OK)
        st = vi_ks_opt_string(root, "id", "", &resp->id, err);
    if (st == VI_OK)
        st = opt_object(root, "parameters", &resp->parameters, err);
    if (st == VI_OK)
        st = opt_object(root, "receipt", &resp->receipt, err);
    if (st == VI_OK) {
        /* no element limit: a shape the bytes cannot fill allocates nothing */
        vi_ks_blob blob = {binary, binary_len, 0, len};
        st = parse_outputs(root, &blob, INT64_MAX, resp, err);
    }
    json_decref(root);
    if (st != VI_OK)
        vi_kserve_response_free(resp);
    return st;
}
