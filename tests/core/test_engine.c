/* tests/core/test_engine.c — whole-model exactness properties of the engine on
 * the CPU backend: for random generated models (mlp with random widths,
 * depths, activations, dtypes and layouts, and the all-ops model), a row's
 * outputs are bit-identical (memcmp) whether computed alone or at any
 * position of batches of 1..64, with any thread count 1..4 and any ISA the
 * CPU supports. Also: id range errors and input shape errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/engine.h"
#include "core/model.h"
#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "test_util.h"

#define BATCH 64

typedef struct {
    vi_model model;
    vi_tensor rows[BATCH][4]; /* per row, per model input: a one-row tensor */
    int n_in;
} fixture;

static void make_model(const vi_gen_options *opt, vi_model *m)
{
    char dir[512];
    vt_tmpdir("engine", dir, sizeof dir);
    vi_error err = {{0}};
    vi_status st = vi_gen_model(opt, dir, &err);
    if (st != VI_OK)
        fail_msg("gen_model: %s", err.msg);
    st = vi_model_load(m, dir, &err);
    if (st != VI_OK)
        fail_msg("model_load: %s", err.msg);
}

/* Random one-row inputs; ids drawn inside the smallest table they index. */
static void make_rows(fixture *f, const vi_engine *e, vt_rng *rng)
{
    const vi_graph *g = &f->model.graph;
    f->n_in = g->n_inputs;
    assert_true(f->n_in <= 4);
    for (int r = 0; r < BATCH; r++)
        for (int i = 0; i < g->n_inputs; i++) {
            const vi_value *v = &g->values[g->inputs[i]];
            vi_tensor *t = &f->rows[r][i];
            memset(t, 0, sizeof *t);
            snprintf(t->name, sizeof t->name, "%s", v->name);
            t->dtype = v->dtype;
            t->ndim = v->ndim;
            memcpy(t->shape, v->shape, sizeof t->shape);
            t->shape[0] = 1;
            t->data = malloc((size_t)v->row_numel * vi_dtype_size(v->dtype) + 1);
            for (int64_t k = 0; k < v->row_numel; k++) {
                if (v->dtype == VI_DT_FP32) {
                    ((float *)t->data)[k] = vt_uniform(rng, -3.0f, 3.0f);
                } else {
                    int64_t V = e->embed_rows[g->inputs[i]];
                    int64_t id = vt_range(rng, 0, V - 1);
                    if (v->dtype == VI_DT_INT64)
                        ((int64_t *)t->data)[k] = id;
                    else
                        ((int32_t *)t->data)[k] = (int32_t)id;
                }
            }
        }
}

static void free_rows(fixture *f)
{
    for (int r = 0; r < BATCH; r++)
        for (int i = 0; i < f->n_in; i++)
            free(f->rows[r][i].data);
}

/* Runs the rows listed in idx[0..b) as one batch; returns the outputs. */
static void run_batch(vi_engine *e, fixture *f, const int *idx, int b, vi_tensor *out)
{
    const vi_graph *g = &f->model.graph;
    vi_tensor in[4];
    const vi_tensor *inp[4];
    for (int i = 0; i < g->n_inputs; i++) {
        const vi_value *v = &g->values[g->inputs[i]];
        size_t row_bytes = (size_t)v->row_numel * vi_dtype_size(v->dtype);
        in[i] = f->rows[0][i];
        in[i].shape[0] = b;
        in[i].data = malloc(row_bytes * (size_t)b + 1);
        for (int r = 0; r < b; r++)
            memcpy((char *)in[i].data + row_bytes * (size_t)r, f->rows[idx[r]][i].data, row_bytes);
        inp[i] = &in[i];
    }
    vi_error err = {{0}};
    vi_status st = vi_engine_run(e, inp, b, out, &err);
    for (int i = 0; i < g->n_inputs; i++)
        free(in[i].data);
    if (st != VI_OK)
        fail_msg("engine_run: %s", err.msg);
}

/* Asserts that row `pos` of batch outputs equals the solo outputs of that row. */
static void assert_row_equal(const vi_graph *g, const vi_tensor *batch, int pos,
                             const vi_tensor *solo)
{
    for (int o = 0; o < g->n_outputs; o++) {
        const vi_value *v = &g->values[g->outputs[o]];
        size_t row_bytes = (size_t)v->row_numel * vi_dtype_size(v->dtype);
        if (memcmp((const char *)batch[o].data + row_bytes * (size_t)pos, solo[o].data,
                   row_bytes) != 0)
            fail_msg("output '%s' row at position %d differs from the row computed alone", v->name,
                     pos);
    }
}

static void check_model(const vi_gen_options *opt, uint64_t seed)
{
    fixture *f = calloc(1, sizeof *f);
    make_model(opt, &f->model);
    const vi_graph *g = &f->model.graph;
    vi_error err = {{0}};
    vt_rng rng = {seed};

    /* reference: scalar, one thread, every row alone */
    vi_backend *ref = vi_cpu_backend_create(1, VI_ISA_SCALAR, &err);
    assert_non_null(ref);
    vi_engine eref;
    assert_int_equal(vi_engine_init(&eref, &f->model, ref, &err), VI_OK);
    make_rows(f, &eref, &rng);
    vi_tensor(*solo)[8] = calloc(BATCH, sizeof *solo);
    assert_true(g->n_outputs <= 8);
    for (int r = 0; r < BATCH; r++)
        run_batch(&eref, f, &r, 1, solo[r]);

    static const vi_isa ISAS[] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};
    for (size_t ii = 0; ii < sizeof ISAS / sizeof ISAS[0]; ii++) {
        if (!vi_isa_supported(ISAS[ii]))
            continue;
        for (int threads = 1; threads <= 4; threads++) {
            vi_backend *b = vi_cpu_backend_create(threads, ISAS[ii], &err);
            assert_non_null(b);
            vi_engine e;
            assert_int_equal(vi_engine_init(&e, &f->model, b, &err), VI_OK);
            int idx[BATCH];
            /* batches of every size 1..64, rows rotated so positions vary */
            for (int size = 1; size <= BATCH; size += (threads == 1 ? 1 : 7)) {
                for (int p = 0; p < size; p++)
                    idx[p] = (p + size * 5) % BATCH;
                vi_tensor out[8];
                run_batch(&e, f, idx, size, out);
                for (int p = 0; p < size; p++)
                    assert_row_equal(g, out, p, solo[idx[p]]);
                vi_engine_outputs_free(out, g->n_outputs);
            }
            /* one row at every position of a full batch */
            if (threads == 2) {
                for (int pos = 0; pos < BATCH; pos++) {
                    for (int p = 0; p < BATCH; p++)
                        idx[p] = (p + 1) % BATCH;
                    idx[pos] = 0;
                    vi_tensor out[8];
                    run_batch(&e, f, idx, BATCH, out);
                    assert_row_equal(g, out, pos, solo[0]);
                    vi_engine_outputs_free(out, g->n_outputs);
                }
            }
            vi_engine_free(&e);
            b->destroy(b);
        }
    }
    for (int r = 0; r < BATCH; r++)
        vi_engine_outputs_free(solo[r], g->n_outputs);
    free(solo);
    vi_engine_free(&eref);
    ref->destroy(ref);
    free_rows(f);
    vi_model_free(&f->model);
    free(f);
}

static void test_random_mlps_are_batch_invariant(void **state)
{
    (void)state;
    vt_rng rng = {20261125};
    for (int trial = 0; trial < 4; trial++) {
        vi_gen_options opt;
        vi_gen_options_default(&opt);
        opt.seed = vt_next(&rng);
        opt.force = 1;
        opt.n_inputs = (int)vt_range(&rng, 1, 300);
        opt.n_hidden = (int)vt_range(&rng, 0, 3);
        for (int h = 0; h < opt.n_hidden; h++)
            opt.hidden[h] = (int)vt_range(&rng, 1, 200);
        opt.n_classes = (int)vt_range(&rng, 1, 40);
        opt.activation = (vi_gen_act)vt_range(&rng, 0, VI_GEN_ACT_COUNT - 1);
        opt.weight_out_in = (int)vt_range(&rng, 0, 1);
        static const vi_dtype DT[] = {VI_DT_FP32, VI_DT_FP16, VI_DT_BF16};
        opt.weight_dtype = DT[vt_range(&rng, 0, 2)];
        check_model(&opt, vt_next(&rng));
    }
}

static void test_all_ops_model_is_batch_invariant(void **state)
{
    (void)state;
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.preset = VI_GEN_ALL_OPS;
    opt.seed = 7;
    check_model(&opt, 99);
}

static void test_out_of_range_id_is_rejected(void **state)
{
    (void)state;
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    opt.preset = VI_GEN_ALL_OPS;
    fixture *f = calloc(1, sizeof *f);
    make_model(&opt, &f->model);
    vi_error err = {{0}};
    vi_backend *b = vi_cpu_backend_create(1, VI_ISA_AUTO, &err);
    vi_engine e;
    assert_int_equal(vi_engine_init(&e, &f->model, b, &err), VI_OK);
    vt_rng rng = {5};
    make_rows(f, &e, &rng);
    const vi_graph *g = &f->model.graph;
    int ids = -1;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->values[g->inputs[i]].dtype != VI_DT_FP32)
            ids = i;
    assert_true(ids >= 0);
    int64_t V = e.embed_rows[g->inputs[ids]];
    vi_tensor *t = &f->rows[0][ids];
    if (t->dtype == VI_DT_INT64)
        ((int64_t *)t->data)[0] = V;
    else
        ((int32_t *)t->data)[0] = (int32_t)V;
    const vi_tensor *inp[4];
    for (int i = 0; i < g->n_inputs; i++)
        inp[i] = &f->rows[0][i];
    vi_tensor out[8];
    assert_int_equal(vi_engine_run(&e, inp, 1, out, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "outside the embedding table"));
    /* wrong row count is rejected, not read out of bounds */
    assert_int_equal(vi_engine_run(&e, inp, 2, out, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "rows"));
    vi_engine_free(&e);
    b->destroy(b);
    free_rows(f);
    vi_model_free(&f->model);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_mlps_are_batch_invariant),
        cmocka_unit_test(test_all_ops_model_is_batch_invariant),
        cmocka_unit_test(test_out_of_range_id_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
