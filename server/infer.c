/* server/infer.c — request -> engine of its mode -> outputs + receipt, and
 * verification of a claimed response by exact re-execution (bit for bit, or
 * within the tolerance a fast-mode receipt states). */
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
    memcpy(im->fast_engine_id, im->engine_id, sizeof im->fast_engine_id);
    vi_tolerance_of_model(&m->graph, &im->tolerance);
    return VI_OK;
}

void vi_infer_model_set_fast(vi_infer_model *im, vi_engine *fast)
{
    im->fast_engine = fast;
    if (fast)
        vi_engine_describe(fast, im->fast_engine_id, sizeof im->fast_engine_id);
    else
        memcpy(im->fast_engine_id, im->engine_id, sizeof im->fast_engine_id);
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

/* A fast-mode receipt states its claim: mode "fast", the engine that ran,
 * and the tolerance as parameters (docs/fast-mode.md). */
static vi_status fill_mode(const vi_infer_model *im, vi_mode mode, vi_receipt *r, vi_error *err)
{
    int fast = mode == VI_MODE_FAST;
    vi_status st = vi_receipt_set_string(r, "mode", fast ? "fast" : "exact", err);
    if (st == VI_OK)
        st = vi_receipt_set_string(r, "engine_id", fast ? im->fast_engine_id : im->engine_id, err);
    if (st != VI_OK || !fast)
        return st;
    /* only fast receipts claim a tolerance (formatting it costs a few µs) */
    char rt[VI_TOL_TEXT_MAX], at[VI_TOL_TEXT_MAX];
    vi_tolerance_format(im->tolerance.rtol, rt);
    vi_tolerance_format(im->tolerance.atol, at);
    st = vi_receipt_set_param(r, VI_PARAM_TOL_RTOL, rt, err);
    if (st == VI_OK)
        st = vi_receipt_set_param(r, VI_PARAM_TOL_ATOL, at, err);
    return st;
}

static vi_status fill_receipt(const vi_infer_model *im, const vi_kserve_request *req, vi_mode mode,
                              vi_infer_result *res, EVP_PKEY *key, int64_t now, vi_error *err)
{
    const vi_graph *g = &im->model->graph;
    vi_receipt *r = &res->receipt;
    vi_receipt_init(r);
    vi_status st = vi_receipt_set_string(r, "model_name", g->name, err);
    if (st == VI_OK)
        st = vi_receipt_set_string(r, "model_version", g->version, err);
    if (st == VI_OK)
        st = fill_mode(im, mode, r, err);
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

vi_status vi_infer_prepare(const vi_infer_model *im, const vi_kserve_request *req,
                           vi_infer_job *job, vi_error *err)
{
    const vi_graph *g = &im->model->graph;
    memset(job, 0, sizeof *job);
    job->req = req;
    job->inputs = calloc((size_t)g->n_inputs + 1, sizeof *job->inputs);
    if (!job->inputs)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    job->mode = vi_mode_resolve(g, req->mode);
    vi_status st = vi_kserve_bind(req, g, job->inputs, &job->rows, err);
    if (st == VI_OK)
        st = vi_engine_validate(im->engine, job->inputs, job->rows, err);
    if (st != VI_OK)
        vi_infer_job_free(job);
    return st;
}

void vi_infer_job_free(vi_infer_job *job)
{
    if (!job)
        return;
    free(job->inputs);
    vi_infer_result_free(&job->res);
    job->inputs = NULL;
}

/* Concatenates the jobs' rows of every graph input (no copy for one job). */
static vi_status concat_inputs(const vi_graph *g, vi_infer_job *const *jobs, int n, int64_t rows,
                               vi_tensor *cat, const vi_tensor **ptrs, vi_error *err)
{
    for (int i = 0; i < g->n_inputs; i++) {
        if (n == 1) {
            ptrs[i] = jobs[0]->inputs[i];
            continue;
        }
        const vi_value *v = &g->values[g->inputs[i]];
        size_t row_bytes = (size_t)v->row_numel * vi_dtype_size(v->dtype);
        cat[i] = *jobs[0]->inputs[i];
        cat[i].shape[0] = rows;
        cat[i].data = malloc(row_bytes * (size_t)rows + 1);
        if (!cat[i].data)
            return vi_fail(err, VI_ERR_NOMEM, "out of memory batching input '%s'", v->name);
        size_t off = 0;
        for (int j = 0; j < n; j++) {
            memcpy((char *)cat[i].data + off, jobs[j]->inputs[i]->data,
                   row_bytes * (size_t)jobs[j]->rows);
            off += row_bytes * (size_t)jobs[j]->rows;
        }
        ptrs[i] = &cat[i];
    }
    return VI_OK;
}

/* Gives job its rows [row0, row0 + job->rows) of every output, then its
 * receipt. When the job is the whole batch its buffers are taken from `all`
 * (select_outputs moves them out and leaves NULL behind). */
static vi_status finish_job(const vi_infer_model *im, vi_infer_job *job, vi_tensor *all,
                            int64_t row0, int whole, vi_mode mode, EVP_PKEY *key, int64_t now,
                            vi_error *err)
{
    const vi_graph *g = &im->model->graph;
    vi_tensor *mine = all;
    vi_status st = VI_OK;
    if (!whole) {
        mine = calloc((size_t)g->n_outputs + 1, sizeof *mine);
        if (!mine)
            return vi_fail(err, VI_ERR_NOMEM, "out of memory splitting the batch");
        for (int o = 0; st == VI_OK && o < g->n_outputs; o++) {
            const vi_value *v = &g->values[g->outputs[o]];
            size_t row_bytes = (size_t)v->row_numel * vi_dtype_size(v->dtype);
            mine[o] = all[o];
            mine[o].shape[0] = job->rows;
            mine[o].data = malloc(row_bytes * (size_t)job->rows + 1);
            if (!mine[o].data)
                st = vi_fail(err, VI_ERR_NOMEM, "out of memory splitting the batch");
            else
                memcpy(mine[o].data, (const char *)all[o].data + row_bytes * (size_t)row0,
                       row_bytes * (size_t)job->rows);
        }
    }
    if (st == VI_OK)
        st = select_outputs(g, job->req, mine, &job->res, err);
    if (st == VI_OK)
        st = fill_receipt(im, job->req, mode, &job->res, key, now, err);
    if (!whole) {
        vi_engine_outputs_free(mine, g->n_outputs);
        free(mine);
    }
    if (st != VI_OK)
        vi_infer_result_free(&job->res);
    return st;
}

/* Runs the n jobs of one mode as one engine call on that mode's engine. */
static vi_status run_group(const vi_infer_model *im, vi_mode mode, vi_infer_job *const *jobs, int n,
                           EVP_PKEY *key, int64_t now, vi_error *err)
{
    const vi_graph *g = &im->model->graph;
    vi_engine *engine = mode == VI_MODE_FAST && im->fast_engine ? im->fast_engine : im->engine;
    int64_t rows = 0;
    for (int j = 0; j < n; j++)
        rows += jobs[j]->rows;
    vi_tensor *cat = calloc((size_t)g->n_inputs + 1, sizeof *cat);
    const vi_tensor **ptrs = calloc((size_t)g->n_inputs + 1, sizeof *ptrs);
    vi_tensor *all = calloc((size_t)g->n_outputs + 1, sizeof *all);
    vi_status st = (cat && ptrs && all) ? VI_OK : vi_fail(err, VI_ERR_NOMEM, "out of memory");
    if (st == VI_OK)
        st = concat_inputs(g, jobs, n, rows, cat, ptrs, err);
    if (st == VI_OK)
        st = vi_engine_run(engine, ptrs, rows, all, err);
    int64_t row0 = 0;
    for (int j = 0; j < n; j++) {
        if (st == VI_OK) {
            jobs[j]->status =
                finish_job(im, jobs[j], all, row0, n == 1, mode, key, now, &jobs[j]->err);
        } else {
            jobs[j]->status = st;
            jobs[j]->err = *err;
        }
        row0 += jobs[j]->rows;
    }
    if (all)
        vi_engine_outputs_free(all, g->n_outputs);
    if (cat && n > 1)
        for (int i = 0; i < g->n_inputs; i++)
            free(cat[i].data);
    free(cat);
    free(ptrs);
    free(all);
    return st;
}

vi_status vi_infer_run_batch(const vi_infer_model *im, vi_infer_job *const *jobs, int n,
                             EVP_PKEY *key, int64_t now, vi_error *err)
{
    if (n <= 0)
        return VI_OK;
    vi_infer_job **group = malloc((size_t)n * sizeof *group);
    if (!group) {
        vi_status st = vi_fail(err, VI_ERR_NOMEM, "out of memory");
        for (int j = 0; j < n; j++) {
            jobs[j]->status = st;
            jobs[j]->err = *err;
        }
        return st;
    }
    static const vi_mode MODES[] = {VI_MODE_EXACT, VI_MODE_FAST};
    const vi_graph *g = &im->model->graph;
    vi_status first = VI_OK;
    int any_ok = 0;
    for (size_t m = 0; m < sizeof MODES / sizeof MODES[0]; m++) {
        int k = 0;
        for (int j = 0; j < n; j++)
            if (vi_mode_resolve(g, jobs[j]->mode) == MODES[m])
                group[k++] = jobs[j];
        if (k == 0)
            continue;
        vi_error gerr = {{0}};
        vi_status st = run_group(im, MODES[m], group, k, key, now, &gerr);
        if (st == VI_OK) {
            any_ok = 1;
        } else if (first == VI_OK) {
            first = st;
            *err = gerr;
        }
    }
    free(group);
    return any_ok ? VI_OK : first;
}

/* One request alone, in its own mode or (force not DEFAULT) in `force`. */
static vi_status run_one(const vi_infer_model *im, const vi_kserve_request *req, vi_mode force,
                         EVP_PKEY *key, int64_t now, vi_infer_result *res, vi_error *err)
{
    memset(res, 0, sizeof *res);
    vi_infer_job job;
    vi_status st = vi_infer_prepare(im, req, &job, err);
    if (st != VI_OK)
        return st;
    if (force != VI_MODE_DEFAULT)
        job.mode = force;
    vi_infer_job *jobs[1] = {&job};
    vi_infer_run_batch(im, jobs, 1, key, now, err);
    st = job.status;
    if (st == VI_OK) {
        *res = job.res;
        memset(&job.res, 0, sizeof job.res);
    } else {
        *err = job.err;
    }
    vi_infer_job_free(&job);
    return st;
}

vi_status vi_infer_run(const vi_infer_model *im, const vi_kserve_request *req, EVP_PKEY *key,
                       int64_t now, vi_infer_result *res, vi_error *err)
{
    return run_one(im, req, VI_MODE_DEFAULT, key, now, res, err);
}

vi_status vi_infer_response(const vi_infer_model *im, const vi_kserve_request *req,
                            const vi_infer_result *res, char **json, size_t *json_len,
                            uint8_t **binary, size_t *binary_len, vi_error *err)
{
    vi_sb receipt;
    vi_sb_init(&receipt);
    if (vi_receipt_put_json(&receipt, &res->receipt) != 0) {
        vi_sb_free(&receipt);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory encoding the receipt");
    }
    vi_kserve_response_spec spec = {
        .model_name = im->model->graph.name,
        .model_version = im->model->graph.version[0] ? im->model->graph.version : NULL,
        .id = req->id,
        .outputs = res->outputs,
        .n_outputs = res->n_outputs,
        .binary = res->binary,
        .receipt_text = receipt.buf,
    };
    vi_status st = vi_kserve_build_response(&spec, json, json_len, binary, binary_len, err);
    vi_sb_free(&receipt);
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

/* The tolerance a fast-mode receipt states in its parameters. */
static vi_status claimed_tolerance(const vi_receipt *r, vi_tolerance *t, vi_error *err)
{
    const char *rt = NULL, *at = NULL;
    for (int i = 0; i < r->n_params; i++) {
        if (strcmp(r->params[i].key, VI_PARAM_TOL_RTOL) == 0)
            rt = r->params[i].value;
        else if (strcmp(r->params[i].key, VI_PARAM_TOL_ATOL) == 0)
            at = r->params[i].value;
    }
    if (!rt || !at)
        return vi_fail(err, VI_ERR_INVALID,
                       "a fast-mode receipt must state its tolerance in the parameters "
                       "'" VI_PARAM_TOL_RTOL "' and '" VI_PARAM_TOL_ATOL "'");
    vi_status st = vi_tolerance_parse(VI_PARAM_TOL_RTOL, rt, &t->rtol, err);
    return st == VI_OK ? vi_tolerance_parse(VI_PARAM_TOL_ATOL, at, &t->atol, err) : st;
}

/* The output check of a fast-mode receipt: the claimed tolerance is no
 * looser than the model's, and the response's outputs lie within it of the
 * exact re-execution `ex` (docs/fast-mode.md). */
static void check_fast(const vi_infer_model *im, const vi_receipt *r,
                       const vi_kserve_response *resp, const vi_infer_result *ex,
                       vi_verify_report *rep)
{
    vi_error e = {{0}};
    vi_tolerance t;
    char rt[VI_TOL_TEXT_MAX], at[VI_TOL_TEXT_MAX], mr[VI_TOL_TEXT_MAX], ma[VI_TOL_TEXT_MAX];
    if (claimed_tolerance(r, &t, &e) != VI_OK) {
        report(rep, VI_CHECK_OUTPUT, 0, "fast mode: %s", e.msg);
        return;
    }
    vi_tolerance_format(t.rtol, rt);
    vi_tolerance_format(t.atol, at);
    vi_tolerance_format(im->tolerance.rtol, mr);
    vi_tolerance_format(im->tolerance.atol, ma);
    if (t.rtol > im->tolerance.rtol || t.atol > im->tolerance.atol) {
        report(rep, VI_CHECK_OUTPUT, 0,
               "fast mode: the receipt claims rtol=%s atol=%s but model '%s' allows at most "
               "rtol=%s atol=%s",
               rt, at, im->model->graph.name, mr, ma);
        return;
    }
    if (resp->n_outputs == 0) { /* a receipt alone: only its digest can be compared */
        if (memcmp(r->output_digest, ex->receipt.output_digest, VI_SHA256_LEN) == 0)
            report(rep, VI_CHECK_OUTPUT, 1,
                   "fast mode: exact re-execution gives the committed outputs bit for bit");
        else
            report(rep, VI_CHECK_OUTPUT, 0,
                   "fast mode: the committed outputs are not exact re-execution's bits, and a "
                   "receipt alone cannot be checked within a tolerance: give the response with "
                   "its outputs");
        return;
    }
    vi_tol_report tr;
    if (vi_tolerance_compare(&t, resp->outputs, resp->n_outputs, ex->outputs, ex->n_outputs, &tr,
                             &e) != VI_OK)
        report(rep, VI_CHECK_OUTPUT, 0, "fast mode (rtol=%s atol=%s): %s", rt, at, e.msg);
    else
        report(rep, VI_CHECK_OUTPUT, 1,
               "fast mode: outputs within rtol=%s atol=%s of exact re-execution, max abs diff "
               "%.3g, max rel diff %.3g",
               rt, at, tr.max_abs, tr.max_rel);
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
        compare_digest(rep, VI_CHECK_MODEL, r.model_digest, im->model_digest,
                       "this model's digest");

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

    rep->mode = vi_mode_from_name(r.mode);
    vi_infer_result res;
    if (rep->mode == VI_MODE_DEFAULT) {
        report(rep, VI_CHECK_OUTPUT, 0, "unknown receipt mode '%s' (exact or fast)", r.mode);
    } else if (run_one(im, req, VI_MODE_EXACT, NULL, 0, &res, &e) != VI_OK) {
        report(rep, VI_CHECK_OUTPUT, 0, "re-execution failed: %s", e.msg);
    } else {
        if (rep->mode == VI_MODE_EXACT)
            compare_digest(rep, VI_CHECK_OUTPUT, r.output_digest, res.receipt.output_digest,
                           "the re-executed output digest");
        else
            check_fast(im, &r, resp, &res, rep);
        vi_infer_result_free(&res);
    }

    rep->verified = 1;
    for (int c = 0; c < VI_CHECK_COUNT; c++)
        rep->verified &= rep->ok[c];
    return VI_OK;
}
