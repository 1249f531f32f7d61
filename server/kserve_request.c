/* server/kserve_request.c — decoding of KServe v2 inference requests (JSON +
 * binary tensor extension) into tensors, with the configured limits. */
#include "kserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kserve_data.h"

void vi_kserve_limits_default(vi_kserve_limits *lim)
{
    lim->max_depth = 64;
    lim->max_elements = (int64_t)1 << 24;
    lim->max_inputs = 64;
    lim->max_outputs = 64;
}

void vi_kserve_request_free(vi_kserve_request *req)
{
    if (!req)
        return;
    free(req->id);
    for (int i = 0; i < req->n_inputs; i++)
        free(req->inputs[i].data);
    free(req->inputs);
    free(req->outputs);
    json_decref(req->parameters);
    memset(req, 0, sizeof *req);
}

int vi_kserve_output_wants_binary(const vi_kserve_request *req, const char *name)
{
    for (int i = 0; i < req->n_outputs; i++)
        if (strcmp(req->outputs[i].name, name) == 0 && req->outputs[i].binary_data >= 0)
            return req->outputs[i].binary_data;
    return req->binary_data_output;
}

static vi_status parse_parameters(json_t *root, vi_kserve_request *req, vi_error *err)
{
    json_t *params = json_object_get(root, "parameters");
    if (!params)
        return VI_OK;
    if (!json_is_object(params))
        return vi_fail(err, VI_ERR_INVALID, "parameters must be an object");
    json_t *bdo = json_object_get(params, "binary_data_output");
    if (bdo && !json_is_boolean(bdo))
        return vi_fail(err, VI_ERR_INVALID, "parameters.binary_data_output must be true or false");
    req->binary_data_output = bdo && json_is_true(bdo);
    json_t *mode = json_object_get(params, "verinfer_mode");
    if (mode) {
        req->mode = vi_mode_from_name(json_string_value(mode));
        if (req->mode == VI_MODE_DEFAULT)
            return vi_fail(err, VI_ERR_INVALID,
                           "parameters.verinfer_mode must be \"exact\" or \"fast\"%s%.64s%s",
                           json_is_string(mode) ? " (got \"" : "",
                           json_is_string(mode) ? json_string_value(mode) : "",
                           json_is_string(mode) ? "\")" : "");
    }
    req->parameters = json_incref(params);
    return VI_OK;
}

static vi_status parse_inputs(json_t *root, size_t json_len, const uint8_t *binary,
                              size_t binary_len, const vi_kserve_limits *lim,
                              vi_kserve_request *req, vi_error *err)
{
    json_t *inputs = json_object_get(root, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) == 0)
        return vi_fail(err, VI_ERR_INVALID, "inputs must be a non-empty array");
    size_t n = json_array_size(inputs);
    if (n > (size_t)lim->max_inputs)
        return vi_fail(err, VI_ERR_LIMIT, "the request has %zu inputs (limit %d)", n,
                       lim->max_inputs);
    req->inputs = calloc(n, sizeof *req->inputs);
    if (!req->inputs)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu inputs", n);
    vi_ks_blob blob = {binary, binary_len, 0, json_len};
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "inputs[%zu]", i);
        vi_status st = vi_ks_read_tensor(json_array_get(inputs, i), path, lim->max_elements, 0,
                                         &blob, &req->inputs[i], err);
        if (st != VI_OK)
            return st;
        req->n_inputs = (int)i + 1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(req->inputs[k].name, req->inputs[i].name) == 0)
                return vi_fail(err, VI_ERR_INVALID,
                               "duplicate input name '%s' (inputs[%zu] and %s)",
                               req->inputs[i].name, k, path);
    }
    return vi_ks_blob_done(&blob, err);
}

static vi_status parse_output(json_t *o, size_t i, vi_kserve_output_req *out, vi_error *err)
{
    if (!json_is_object(o))
        return vi_fail(err, VI_ERR_INVALID, "outputs[%zu] must be an object", i);
    json_t *name = json_object_get(o, "name");
    if (!json_is_string(name) || json_string_length(name) == 0)
        return vi_fail(err, VI_ERR_INVALID, "outputs[%zu].name must be a non-empty string", i);
    if (json_string_length(name) >= VI_NAME_MAX)
        return vi_fail(err, VI_ERR_LIMIT, "outputs[%zu].name is %zu bytes long (at most %d)", i,
                       json_string_length(name), VI_NAME_MAX - 1);
    memcpy(out->name, json_string_value(name), json_string_length(name) + 1);
    out->binary_data = -1;
    json_t *params = json_object_get(o, "parameters");
    if (!params)
        return VI_OK;
    if (!json_is_object(params))
        return vi_fail(err, VI_ERR_INVALID, "outputs[%zu].parameters must be an object", i);
    json_t *bd = json_object_get(params, "binary_data");
    if (bd && !json_is_boolean(bd))
        return vi_fail(err, VI_ERR_INVALID,
                       "outputs[%zu].parameters.binary_data must be true or false", i);
    if (bd)
        out->binary_data = json_is_true(bd);
    json_t *cc = json_object_get(params, "classification");
    if (cc && !(json_is_integer(cc) && json_integer_value(cc) == 0))
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "outputs[%zu].parameters.classification is not supported", i);
    return VI_OK;
}

static vi_status parse_outputs(json_t *root, const vi_kserve_limits *lim, vi_kserve_request *req,
                               vi_error *err)
{
    json_t *outputs = json_object_get(root, "outputs");
    if (!outputs)
        return VI_OK;
    if (!json_is_array(outputs) || json_array_size(outputs) == 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "outputs must be a non-empty array (leave it out to get every output)");
    size_t n = json_array_size(outputs);
    if (n > (size_t)lim->max_outputs)
        return vi_fail(err, VI_ERR_LIMIT, "the request asks for %zu outputs (limit %d)", n,
                       lim->max_outputs);
    req->outputs = calloc(n, sizeof *req->outputs);
    if (!req->outputs)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu outputs", n);
    for (size_t i = 0; i < n; i++) {
        vi_status st = parse_output(json_array_get(outputs, i), i, &req->outputs[i], err);
        if (st != VI_OK)
            return st;
        req->n_outputs = (int)i + 1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(req->outputs[k].name, req->outputs[i].name) == 0)
                return vi_fail(err, VI_ERR_INVALID,
                               "duplicate output name '%s' (outputs[%zu] and outputs[%zu])",
                               req->outputs[i].name, k, i);
    }
    return VI_OK;
}

vi_status vi_kserve_parse_request(const char *json, size_t json_len, const uint8_t *binary,
                                  size_t binary_len, const vi_kserve_limits *lim,
                                  vi_kserve_request *req, vi_error *err)
{
    vi_kserve_limits defaults;
    if (!lim) {
        vi_kserve_limits_default(&defaults);
        lim = &defaults;
    }
    if (vi_ks_fast_request(json, json_len, binary, binary_len, lim, req))
        return VI_OK;
    return vi_ks_parse_request_full(json, json_len, binary, binary_len, lim, req, err);
}

vi_status vi_ks_parse_request_full(const char *json, size_t json_len, const uint8_t *binary,
                                   size_t binary_len, const vi_kserve_limits *lim,
                                   vi_kserve_request *req, vi_error *err)
{
    vi_kserve_limits defaults;
    if (!lim) {
        vi_kserve_limits_default(&defaults);
        lim = &defaults;
    }
    memset(req, 0, sizeof *req);
    if (binary_len > 0 && !binary)
        return vi_fail(err, VI_ERR_INVALID, "binary data of %zu bytes has no buffer", binary_len);

    json_t *root = NULL;
    vi_status st = vi_kserve_load_json(json, json_len, lim->max_depth, "request", &root, err);
    if (st != VI_OK)
        return st;
    st = vi_ks_opt_string(root, "id", "", &req->id, err);
    if (st == VI_OK)
        st = parse_parameters(root, req, err);
    if (st == VI_OK)
        st = parse_inputs(root, json_len, binary, binary_len, lim, req, err);
    if (st == VI_OK)
        st = parse_outputs(root, lim, req, err);
    json_decref(root);
    if (st != VI_OK)
        vi_kserve_request_free(req);
    return st;
}
