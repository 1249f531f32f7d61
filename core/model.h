/* core/model.h — a loaded model directory: model.json (manifest + graph) and
 * model.safetensors (weights, mmap'ed), weights bound to graph values and
 * widened to float32 where stored as F16/BF16. */
#ifndef VI_MODEL_H
#define VI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "safetensors.h"
#include "status.h"

#define VI_MODEL_MANIFEST "model.json"
#define VI_MODEL_WEIGHTS "model.safetensors"
#define VI_MAX_MANIFEST_BYTES (16u << 20)

typedef struct vi_model {
    char dir[4096];
    vi_graph graph;
    vi_safetensors st;
    char *manifest; /* the raw bytes of model.json (NUL-terminated) */
    size_t manifest_len;
    const float **weight_f32; /* [graph.n_values]: float32 view of each weight value, else NULL */
    void **weight_owned;      /* [graph.n_values]: buffers allocated for widened/aligned copies */
} vi_model;

/* Loads and validates a model directory. On failure the model is left zeroed
 * and err says what is wrong (file, tensor, node). */
vi_status vi_model_load(vi_model *m, const char *dir, vi_error *err);

/* Same, from in-memory manifest text and an already opened safetensors image
 * (used by tests and gen-model); st is moved into m (on failure it is closed),
 * so *st is zeroed on return either way. */
vi_status vi_model_load_parts(vi_model *m, const char *manifest, size_t manifest_len,
                              vi_safetensors *st, vi_error *err);

/* Frees everything; accepts NULL and zeroed models. */
void vi_model_free(vi_model *m);

#endif
