/* models/gen_plan.h — what a generator preset produces before anything is
 * written: the model inputs and outputs, the weights to draw and the graph
 * as model.json text, built by the node helpers. Internal to models/gen_*.c. */
#ifndef VI_GEN_PLAN_H
#define VI_GEN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"
#include "gen_model.h"

#define VI_GEN_MAX_IO 8
#define VI_GEN_MAX_WEIGHTS 64
#define VI_GEN_MAX_WEIGHT_ELEMS ((int64_t)1 << 28)

/* A growable text buffer; errors are sticky (`failed`), checked once at the end. */
typedef struct vi_gen_text {
    char *buf;
    size_t len, cap;
    int failed;
} vi_gen_text;

void vi_gen_printf(vi_gen_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vi_gen_text_free(vi_gen_text *t);

typedef struct vi_gen_io {
    char name[VI_NAME_MAX];
    vi_dtype dtype;
    int ndim;
    int64_t shape[VI_MAX_DIMS]; /* shape[0] == -1 (the batch) */
    int64_t id_limit;           /* integer inputs: example ids are drawn from [0, id_limit) */
} vi_gen_io;

typedef struct vi_gen_weight {
    char name[VI_NAME_MAX];
    int ndim;
    int64_t shape[3];
    int near_one; /* 1: w = 1 + u/8 (norm scales); 0: w = u * bound */
    float bound;
} vi_gen_weight;

typedef struct vi_gen_plan {
    const vi_gen_options *opt;
    vi_gen_io inputs[VI_GEN_MAX_IO];
    int n_inputs;
    vi_gen_io outputs[VI_GEN_MAX_IO];
    int n_outputs;
    vi_gen_weight weights[VI_GEN_MAX_WEIGHTS];
    int n_weights;
    int64_t weight_elems; /* total over all weights */
    vi_gen_text graph;    /* the node lines of "graph", comma-separated */
    int n_nodes;
    int overflow; /* a table above was full or a weight too large */
} vi_gen_plan;

/* ==== Declaring the model (gen_plan.c) ==== */

void vi_gen_input(vi_gen_plan *p, const char *name, vi_dtype dt, int64_t d1, int64_t d2,
                  int64_t id_limit); /* d2 == 0: shape [-1, d1] */
void vi_gen_output(vi_gen_plan *p, const char *name, vi_dtype dt, int64_t d1); /* d1 == 0: [-1] */

/* Weights of linear / matmul are uniform in +-1/sqrt(fan_in), as are biases;
 * norm scales are near 1 (see gen_weights.c). */
void vi_gen_linear(vi_gen_plan *p, const char *name, const char *in, const char *out, int64_t k,
                   int64_t n, int bias, int out_in);
void vi_gen_unary(vi_gen_plan *p, const char *op, const char *in, const char *out);
void vi_gen_gelu(vi_gen_plan *p, const char *in, const char *out, int tanh_form);
void vi_gen_layer_norm(vi_gen_plan *p, const char *name, const char *in, const char *out, int64_t d,
                       int bias);
void vi_gen_rms_norm(vi_gen_plan *p, const char *name, const char *in, const char *out, int64_t d);
void vi_gen_matmul_weight(vi_gen_plan *p, const char *name, const char *in, const char *out,
                          int64_t k, int64_t n);
void vi_gen_binary_act(vi_gen_plan *p, const char *op, const char *a, const char *b,
                       const char *out);
/* add/mul with a weight "other" of shape [d1] or [d1, d2] (d2 == 0). */
void vi_gen_binary_weight(vi_gen_plan *p, const char *op, const char *name, const char *in,
                          const char *out, int64_t d1, int64_t d2, int near_one, float bound);
void vi_gen_embedding(vi_gen_plan *p, const char *name, const char *ids, const char *out, int64_t v,
                      int64_t d);
void vi_gen_reshape(vi_gen_plan *p, const char *in, const char *out, const char *shape_json);
void vi_gen_flatten(vi_gen_plan *p, const char *in, const char *out, int start_dim);

/* ==== Presets (gen_presets.c) ==== */

void vi_gen_plan_mlp(vi_gen_plan *p);
void vi_gen_plan_all_ops(vi_gen_plan *p);

/* ==== Numbers (gen_weights.c) ==== */

/* The splitmix64 state of the stream named `name` under `seed`. */
uint64_t vi_gen_stream(uint64_t seed, const char *name);
/* Next splitmix64 output. */
uint64_t vi_gen_next(uint64_t *state);
/* A uniform float in [-1, 1) with 24 random bits: exactly (int)(r >> 40) * 2^-23 - 1. */
float vi_gen_unit(uint64_t *state);
/* Draws weight w's values under seed and encodes them in dtype (FP32, FP16,
 * BF16) into a malloc'ed little-endian buffer; NULL when out of memory. */
uint8_t *vi_gen_weight_data(const vi_gen_weight *w, uint64_t seed, vi_dtype dtype, size_t *nbytes);

#endif
