/* server/infer.c — request -> engine -> outputs + receipt, and verification
 * of a claimed response by re-execution. */
#include "infer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/hex.h"
#include "server/receipt_json.h"

vi_status vi_infer_model_init(vi_infer_model *im, const vi_model *m, vi_engine *e, vi_error *err)
{
    memset(im, 0, sizeof *im);
    im->model = m;
    im->engine = e;
    vi_status st = vi_model_digest_of(m, im->model_digest, err);
    if (st != VI_OK)
        return st;
    vi_engine_describe(e, im->engine_id, sizeof im->engine_id);
    return VI_OK;
}

void vi_infer_result_free(vi_infer_result *res)
{
    if (!res)
        return;
    vi_engine_outputs_free(res->outputs, res->n_outputs);
    free(res->outputs);
    free(res->binary);
    memset(res, 0, sizeof *res);
}

/* Picks the outputs to send: the requested ones in request order, else all in model order. */
static vi_status select_outputs(const vi_graph *g, const vi_kserve_request *req, vi_tensor *all,
                                vi_infer_result *res, vi_error *err)
{
    int n = req->n_outputs > 0 ? req->n_outputs : g->n_outputs;
    res->outputs = calloc((size_t)n, sizeof *res->outputs);
    res->binary = calloc((size_t)n, sizeof *res->binary);
    if (!res->outputs || !res->binary)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory selecting outputs");
    for (int i = 0; i < n; i++) {
        const char *name = req->n_outputs > 0 ? req->outputs[i].name : all[i].name;
        int found = -1;
        for (int j = 0; j < g->n_outputs; j++)
            if (strcmp(all[j].name, name) == 0)
                found = j;
        if (found < 0)
            return vi_fail(err, VI_ERR_INVALID, "unknown output '%s'", name);
        if (!all[found].data)
            return vi_fail(err, VI_ERR_INVALID, "output '%s' is requested twice", name);
        res->outputs[i] = all[found]; /* moves the buffer */
        all[found].data = NULL;
        res->binary[i] = vi_kserve_output_wants_binary(req, name);
        res->n_outputs = i + 1;
    }
    return VI_OK;
}

static vi_status fill_receipt(const vi_infer_model *im, const vi_kserve_request *req,
                              vi_infer_result *res, EVP_PKEY *key, int64_t now, vi_error *err)
{
    const vi_graph *g = &im->model->graph;
    vi_receipt *r = &res->receipt;
    vi_receipt_init(r);
    vi_status st = vi_receipt_set_string(r, "model_name", g->name, err);
    if (st == VI_OK)
        st = vi_receipt_set_string(r, "model_version", g->version, err);
    if (st == VI_OK)
        st = vi_receipt_set_string(r, "engine_id", im->engine_id, err);
    if (st == VI_OK)
        st = vi_receipt_set_string(r, "request_id", req->id ? req->id : "", err);
    if (st != VI_OK)
        return st;
    if (req->n_outputs > 0) {
        char names[VI_RECEIPT_VALUE_MAX];
        size_t used = 0;
        for (int i = 0; i < res->n_outputs; i++) {
            int w = snprintf(names + used, sizeof names - used, "%s%s", i ? "," : "",
                             res->outputs[i].name);
            if (w < 0 || (size_t)w >= sizeof names - used)
                return vi_fail(err, VI_ERR_LIMIT, "the requested output names are too long");
            used += (size_t)w;
        }
        st = vi_receipt_set_param(r, "outputs", names, err);
        if (st != VI_OK)
            return st;
    }
    memcpy(r->model_digest, im->model_digest, sizeof r->model_digest);
    st = vi_tensors_digest("inputs", req->inputs, req->n_inputs, r->input_digest, err);
    if (st == VI_OK)
        st = vi_tensors_digest("outputs", res->outputs, res->n_outputs, r->output_digest, err);
    if (st == VI_OK)
        st = vi_receipt_set_created(r, now, err);
    if (st == VI_OK)
        st = vi_receipt_seal(r, key, err);
    return st;
}

vi_status vi_infer_run(const vi_infer_model *im, const vi_kserve_request *req, EVP_PKEY *key,
                       int64_t now, vi_infer_result *res, vi_error *err)
{
    const vi_graph *g = &im->model->graph;
    memset(res, 0, sizeof *res);
    const vi_tensor **ordered = calloc((size_t)g->n_inputs + 1, sizeof *ordered);
    vi_tensor *all = calloc((size_t)g->n_outputs + 1, sizeof *all);
    int64_t rows = 0;
    vi_status st = VI_OK;
    if (!ordered || !all) {
        st = vi_fail(err, VI_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = vi_kserve_bind(req, g, ordered, &rows, err);
    if (st == VI_OK)
        st = vi_engine_run(im->engine, ordered, rows, all, err);
    if (st == VI_OK)
        st = select_outputs(g, req, all, res, err);
    if (st == VI_OK)
        st = fill_receipt(im, req, res, key, now, err);
done:
    if (all)
        vi_engine_outputs_free(all, g->n_outputs);
    free(all);
    free(ordered);
    if (st != VI_OK)
        vi_infer_result_free(res);
    return st;
}

vi_status vi_infer_response(const vi_infer_model *im, const vi_kserve_request *req,
                            const vi_infer_result *res, char **json, size_t *json_len,
                            uint8_t **binary, size_t *binary_len, vi_error *err)
{
    json_t *receipt = vi_receipt_to_json(&res->receipt);
    if (!receipt)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory encoding the receipt");
    vi_kserve_response_spec spec = {
        .model_name = im->model->graph.name,
        .model_version = im->model->graph.version[0] ? im->model->graph.version : NULL,
        .id = req->id,
        .outputs = res->outputs,
        .n_outputs = res->n_outputs,
        .binary = res->binary,
        .receipt = receipt,
    };
    vi_status st = vi_kserve_build_response(&spec, json, json_len, binary, binary_len, err);
    json_decref(receipt);
    return st;
}

/* ==== verification ==== */

const char *vi_check_name(vi_check c)
{
    static const char *const NAMES[VI_CHECK_COUNT] = {"signature", "weights", "input",
                                                      "output-data", "output"};
    return (c >= 0 && c < VI_CHECK_COUNT) ? NAMES[c] : "?";
}

static void report(vi_verify_report *rep, vi_check c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(vi_verify_report *rep, vi_check c, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rep->ok[c] = ok;
    vsnprintf(rep->detail[c], sizeof rep->detail[c], fmt, ap);
    va_end(ap);
}

static void compare_digest(vi_verify_report *rep, vi_check c, const uint8_t *claimed,
                           const uint8_t *actual, const char *what)
{
    char hc[2 * VI_SHA256_LEN + 1], ha[2 * VI_SHA256_LEN + 1];
    vi_hex_encode(claimed, VI_SHA256_LEN, hc);
    vi_hex_encode(actual, VI_SHA256_LEN, ha);
    if (memcmp(claimed, actual, VI_SHA256_LEN) == 0)
        report(rep, c, 1, "%s", ha);
    else
        report(rep, c, 0, "receipt says %s but %s is %s", hc, what, ha);
}

vi_status vi_infer_verify(const vi_infer_model *im, const vi_kserve_request *req,
                          const vi_kserve_response *resp, const uint8_t *trusted_key,
                          int allow_unsigned, vi_verify_report *rep, vi_error *err)
{
    memset(rep, 0, sizeof *rep);
    if (!resp->receipt)
        return vi_fail(err, VI_ERR_INVALID, "the response has no \"receipt\" object");
    vi_receipt r;
    vi_status st = vi_receipt_from_json(resp->receipt, &r, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "receipt");
        return st;
    }

    vi_error e = {{0}};
    vi_receipt_verdict verdict = VI_RECEIPT_UNSIGNED;
    st = vi_receipt_check(&r, trusted_key, &verdict, &e);
    if (st != VI_OK)
        report(rep, VI_CHECK_SIGNATURE, 0, "%s", e.msg);
    else if (verdict == VI_RECEIPT_UNSIGNED && !allow_unsigned)
        report(rep, VI_CHECK_SIGNATURE, 0, "the receipt is unsigned");
    else
        report(rep, VI_CHECK_SIGNATURE, 1, "unsigned (allowed)");
    if (rep->ok[VI_CHECK_SIGNATURE] && verdict == VI_RECEIPT_SIGNED) {
        char pk[2 * VI_ED25519_KEY_LEN + 1];
        vi_hex_encode(r.public_key, VI_ED25519_KEY_LEN, pk);
        report(rep, VI_CHECK_SIGNATURE, 1, "valid Ed25519 signature by %s", pk);
    }

    if (strcmp(r.model_name, im->model->graph.name) != 0)
        report(rep, VI_CHECK_MODEL, 0, "receipt is for model '%s', not '%s'", r.model_name,
               im->model->graph.name);
    else
        compare_digest(rep, VI_CHECK_MODEL, r.model_digest, im->model_digest, "this model's digest");

    uint8_t d[VI_SHA256_LEN];
    e.msg[0] = '\0';
    if (vi_tensors_digest("inputs", req->inputs, req->n_inputs, d, &e) != VI_OK)
        report(rep, VI_CHECK_INPUT, 0, "%s", e.msg);
    else
        compare_digest(rep, VI_CHECK_INPUT, r.input_digest, d, "the request's input digest");

    if (vi_tensors_digest("outputs", resp->outputs, resp->n_outputs, d, &e) != VI_OK)
        report(rep, VI_CHECK_OUTPUT_DATA, 0, "%s", e.msg);
    else
        compare_digest(rep, VI_CHECK_OUTPUT_DATA, r.output_digest, d,
                       "the digest of the response's outputs");

    vi_infer_result res;
    if (vi_infer_run(im, req, NULL, 0, &res, &e) != VI_OK) {
        report(rep, VI_CHECK_OUTPUT, 0, "re-execution failed: %s", e.msg);
    } else {
        compare_digest(rep, VI_CHECK_OUTPUT, r.output_digest, res.receipt.output_digest,
                       "the re-executed output digest");
        vi_infer_result_free(&res);
    }

    rep->verified = 1;
    for (int c = 0; c < VI_CHECK_COUNT; c++)
        rep->verified &= rep->ok[c];
    return VI_OK;
}
