/* core/graph.h — the model graph: named values (inputs, weights, intermediates)
 * and nodes (op v1), as read from model.json by core/manifest.c.
 *
 * Conventions that make per-row determinism possible:
 *  - every activation value (a model input, an intermediate, an output) has the
 *    batch as its first dimension, written -1 in shape[0]; all other dims are
 *    static. Rows of the batch never interact.
 *  - weights have fully static shapes and live in model.safetensors.
 * Shapes in this file therefore use -1 only in shape[0] of activations. */
#ifndef VI_GRAPH_H
#define VI_GRAPH_H

#include <stdint.h>

#include "tensor.h"

typedef enum {
    VI_OP_LINEAR = 0, /* y = x W^T + b                                  */
    VI_OP_MATMUL,     /* y = A @ B (B a weight [K,N] or a per-row activation) */
    VI_OP_ADD,        /* y = a + b (b same shape, or a broadcast suffix) */
    VI_OP_MUL,        /* y = a * b                                      */
    VI_OP_RELU,
    VI_OP_GELU, /* attribute approximate: "none" (erf) | "tanh"   */
    VI_OP_TANH,
    VI_OP_SIGMOID,
    VI_OP_SOFTMAX,    /* over the last axis                             */
    VI_OP_LAYER_NORM, /* over the last axis, weight (gamma) and optional bias (beta) */
    VI_OP_RMS_NORM,   /* over the last axis, weight (gamma)             */
    VI_OP_EMBEDDING,  /* integer ids -> rows of a [V, D] table          */
    VI_OP_RESHAPE,    /* attribute shape (with -1 first for the batch)  */
    VI_OP_FLATTEN,    /* attribute start_dim (default 1)                */
    VI_OP_ARGMAX,     /* over the last axis, INT64 result, first max wins, NaN is largest */
    VI_OP_COUNT
} vi_op;

/* Name used in model.json ("linear", "layer_norm", ...). */
const char *vi_op_name(vi_op op);
/* Parses a model.json op name; returns VI_OP_COUNT if unknown. */
vi_op vi_op_from_name(const char *name);

typedef enum {
    VI_VALUE_INPUT = 0,   /* a model input, fed by the request */
    VI_VALUE_WEIGHT,      /* a constant tensor from model.safetensors */
    VI_VALUE_INTERMEDIATE /* produced by a node (model outputs are intermediates too) */
} vi_value_kind;

typedef struct vi_value {
    char name[VI_NAME_MAX];
    vi_value_kind kind;
    vi_dtype dtype; /* activations: FP32, INT32 or INT64; weights: their stored dtype */
    int ndim;
    int64_t shape[VI_MAX_DIMS]; /* activations: shape[0] == -1 */
    int64_t row_numel;          /* activations: elements per batch row; weights: total elements */
    int producer;               /* index of the node producing it, -1 for inputs and weights */
} vi_value;

#define VI_NODE_MAX_IN 4

/* Weight roles are fixed slots of vi_node.in[]:
 *   linear:      in[0] x, in[1] weight, in[2] bias (or -1)
 *   matmul:      in[0] a, in[1] b (weight or activation)
 *   add, mul:    in[0] a, in[1] b (weight or activation)
 *   layer_norm:  in[0] x, in[1] weight (gamma), in[2] bias (beta, or -1)
 *   rms_norm:    in[0] x, in[1] weight (gamma)
 *   embedding:   in[0] ids, in[1] weight (the [V, D] table)
 *   other ops:   in[0] x */
typedef struct vi_node {
    vi_op op;
    char name[VI_NAME_MAX]; /* optional in model.json; "node<i>" otherwise */
    int in[VI_NODE_MAX_IN]; /* value indices, -1 where absent */
    int out;                /* value index */
    /* attributes (only those of the op are meaningful) */
    int weight_out_in; /* linear: 1 if weight is [N, K] ("out_in", PyTorch), 0 if [K, N] */
    int gelu_tanh;     /* gelu: 1 for the tanh approximation, 0 for the erf form */
    float eps;         /* layer_norm / rms_norm */
    int start_dim;     /* flatten */
} vi_node;

#define VI_GRAPH_MAX_PREFERRED 8

/* Optional "dynamic_batching" object of model.json: how a server may merge
 * requests to this model (never affects bits). */
typedef struct vi_dynamic_batching {
    int present;                           /* 1 if model.json has the object */
    int64_t max_queue_delay_us;            /* >= 0; 0 when absent */
    int preferred[VI_GRAPH_MAX_PREFERRED]; /* preferred batch sizes (rows), ascending, >= 1 */
    int n_preferred;
    int max_queue_size; /* requests waiting; 0 = unbounded */
} vi_dynamic_batching;

/* Optional "mode" and "fast_tolerance" of model.json (docs/fast-mode.md):
 * how requests that name no mode run, and the tolerance a fast-mode answer
 * claims instead of the depth rule. Zeroed: exact, the depth rule. */
typedef struct vi_mode_config {
    int fast;          /* 1: "mode": "fast" */
    int has_tolerance; /* 1: "fast_tolerance" is given */
    double rtol, atol; /* its values (finite, >= 0) */
} vi_mode_config;

typedef struct vi_graph {
    char name[VI_NAME_MAX];
    char version[VI_NAME_MAX];
    int max_batch_size; /* from model.json, 0 if absent */
    vi_value *values;
    int n_values;
    vi_node *nodes; /* in execution order (model.json order, each input defined before use) */
    int n_nodes;
    int *inputs; /* value indices of the model inputs, in model.json order */
    int n_inputs;
    int *outputs; /* value indices of the model outputs, in model.json order */
    int n_outputs;
    vi_dynamic_batching dynamic_batching; /* zeroed when model.json has none */
    vi_mode_config mode;                  /* zeroed when model.json has none */
} vi_graph;

/* Index of the value with this name, or -1. */
int vi_graph_find_value(const vi_graph *g, const char *name);

/* Frees everything a graph owns (not the struct itself); accepts NULL. */
void vi_graph_free(vi_graph *g);

#endif
