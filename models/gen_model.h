/* models/gen_model.h — the seeded model generator behind `verinfer gen-model`:
 * writes OUTDIR/model.json, OUTDIR/model.safetensors and
 * OUTDIR/example-request.json for a preset ("mlp" or "all-ops").
 *
 * The same options write the same bytes on every machine and compiler:
 * weights come from splitmix64 streams through integer arithmetic and
 * correctly rounded float operations only (docs/kserve.md has the recipe
 * under "Generated models"). */
#ifndef VI_GEN_MODEL_H
#define VI_GEN_MODEL_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

#define VI_GEN_MAX_HIDDEN 16
#define VI_GEN_EXAMPLE_ROWS 2 /* batch rows of example-request.json */

typedef enum {
    VI_GEN_MLP = 0, /* linear + activation per hidden layer, linear to logits, softmax, argmax */
    VI_GEN_ALL_OPS, /* a small model using every op of model.json at least once */
    VI_GEN_PRESET_COUNT
} vi_gen_preset;

typedef enum {
    VI_GEN_ACT_RELU = 0,
    VI_GEN_ACT_GELU,      /* erf form */
    VI_GEN_ACT_GELU_TANH, /* tanh approximation */
    VI_GEN_ACT_TANH,
    VI_GEN_ACT_SIGMOID,
    VI_GEN_ACT_COUNT
} vi_gen_act;

typedef struct vi_gen_options {
    vi_gen_preset preset;
    char name[VI_NAME_MAX]; /* model name; "" means the preset's name ("mlp", "all-ops") */
    uint64_t seed;
    int max_batch_size;
    vi_dtype weight_dtype; /* VI_DT_FP32, VI_DT_FP16 or VI_DT_BF16 (every float weight) */
    int force;             /* 1: replace existing model files in outdir */
    /* mlp only */
    int n_inputs;                  /* features per row */
    int hidden[VI_GEN_MAX_HIDDEN]; /* widths of the hidden layers */
    int n_hidden;
    int n_classes;
    vi_gen_act activation;
    int weight_out_in; /* 1: weights [N, K] ("out_in"), 0: [K, N] ("in_out") */
} vi_gen_options;

/* Defaults: preset mlp, seed 1, max_batch_size 64, FP32 weights, 16 inputs,
 * hidden [64, 64], 4 classes, relu, out_in, no force. */
void vi_gen_options_default(vi_gen_options *opt);

/* Parses "mlp" / "all-ops"; VI_ERR_INVALID listing the choices otherwise. */
vi_status vi_gen_parse_preset(const char *s, vi_gen_preset *out, vi_error *err);
/* Parses "relu", "gelu", "gelu_tanh", "tanh", "sigmoid". */
vi_status vi_gen_parse_activation(const char *s, vi_gen_act *out, vi_error *err);
/* Parses hidden widths "64,32" ("" or "none": no hidden layer) into opt. */
vi_status vi_gen_parse_hidden(const char *s, vi_gen_options *opt, vi_error *err);
/* Parses a weight dtype: "F32", "F16", "BF16" (or "FP32", "FP16"). */
vi_status vi_gen_parse_weight_dtype(const char *s, vi_dtype *out, vi_error *err);
/* Parses a linear weight layout: "out_in" (*out_in = 1) or "in_out" (0). */
vi_status vi_gen_parse_layout(const char *s, int *out_in, vi_error *err);

/* Writes the model files into outdir (created with its parents if missing).
 * Each file is written to a temporary name and renamed into place. Fails with
 * VI_ERR_INVALID for bad options, VI_ERR_LIMIT for a model over 2^28 weight
 * elements, VI_ERR_IO when a model file already exists and opt->force is 0
 * or when writing fails. */
vi_status vi_gen_model(const vi_gen_options *opt, const char *outdir, vi_error *err);

/* Round-to-nearest-even conversions of a float32 to IEEE binary16 and to
 * bfloat16 bits (overflow gives infinity, NaN stays a quiet NaN). */
uint16_t vi_f32_to_fp16(float f);
uint16_t vi_f32_to_bf16(float f);

#endif
