/* core/engine.h — runs a model's graph on a backend it is given.
 *
 * The engine owns the prepared weights of one (model, backend) pair and
 * executes batches: inputs with `rows` batch rows in, outputs out. Because
 * every op computes each output element in the canonical order of
 * core/order.h from that row alone, an output row's bits never depend on the
 * other rows, on `rows`, or on the row's position. One vi_engine_run at a
 * time per engine (callers serialise). */
#ifndef VI_ENGINE_H
#define VI_ENGINE_H

#include <stdint.h>

#include "backend.h"
#include "model.h"
#include "status.h"
#include "tensor.h"

typedef struct vi_engine {
    const vi_model *model;
    vi_backend *backend;
    const float **consts; /* [n_values]: backend view of each float weight, else NULL */
    void **linear;        /* [n_nodes]: prepared weight of linear / matmul-with-weight nodes */
    int64_t *embed_rows;  /* [n_values]: for id inputs, the smallest table size V they index */
    const struct vi_engine *view_of; /* a view: the engine whose prepared weights it uses */
} vi_engine;

/* Prepares every weight of the model for the backend. */
vi_status vi_engine_init(vi_engine *e, const vi_model *m, vi_backend *b, vi_error *err);

/* Makes e a view of src: it runs src's model on backend b with src's
 * prepared weights, preparing nothing, so several workers (each with its own
 * backend, e.g. its own CUDA stream) share one upload of the weights. b and
 * src's backend must share a non-NULL weights_domain (core/backend.h), else
 * VI_ERR_INVALID naming both backends. src must stay initialised until e is
 * freed. */
vi_status vi_engine_init_view(vi_engine *e, const vi_engine *src, vi_backend *b, vi_error *err);

/* Releases prepared weights (a view owns none: it is only zeroed); accepts
 * a zeroed engine. */
void vi_engine_free(vi_engine *e);

/* Runs the graph on `rows` batch rows. inputs[i] is the tensor for graph input
 * i (model.json order) with shape [rows, ...declared dims]. outputs must hold
 * graph.n_outputs tensors; each gets name, dtype, shape and a malloc'ed data
 * buffer (free with vi_engine_outputs_free). Id inputs of embeddings are
 * range-checked (VI_ERR_INVALID naming the input, row and value). */
vi_status vi_engine_run(vi_engine *e, const vi_tensor *const *inputs, int64_t rows,
                        vi_tensor *outputs, vi_error *err);

/* Checks inputs as vi_engine_run would (shapes, datatypes, id ranges) without
 * running anything, so a batcher can reject one bad request before merging
 * it with others. VI_ERR_INVALID with a message naming the input. */
vi_status vi_engine_validate(const vi_engine *e, const vi_tensor *const *inputs, int64_t rows,
                             vi_error *err);

/* Frees the data buffers vi_engine_run allocated; accepts NULL data. */
void vi_engine_outputs_free(vi_tensor *outputs, int n);

/* Writes the engine id used in receipts, e.g.
 * "verinfer/0.1.0 order/1 backend/cpu isa/avx512" (see vi_engine_id). */
void vi_engine_describe(const vi_engine *e, char *buf, size_t bufsize);

#endif
