/* core/manifest.h — model.json: parsing, validation and shape inference into a
 * vi_graph (docs/model-format.md describes the format). */
#ifndef VI_MANIFEST_H
#define VI_MANIFEST_H

#include <stddef.h>

#include "graph.h"
#include "safetensors.h"
#include "status.h"

#define VI_MANIFEST_FORMAT "verinfer-model"
#define VI_MANIFEST_VERSION 1
#define VI_MANIFEST_MAX_NODES 4096 /* entries of "graph" */
#define VI_MANIFEST_MAX_IO 1024    /* entries of "inputs" and of "outputs" */
#define VI_MANIFEST_MAX_DEPTH 32   /* nesting of JSON arrays and objects */
#define VI_MANIFEST_DEFAULT_EPS 1e-5f

/* Parses model.json text (len bytes, need not be NUL-terminated), checks its
 * structure and names, resolves weight references against st (their dtype and
 * shape; st may be NULL when the graph uses no weights) and infers every
 * value's dtype and shape. Fills g (to be freed with vi_graph_free); on failure
 * g is left zeroed and err says which node, value or field is wrong. */
vi_status vi_manifest_parse(const char *json, size_t len, const vi_safetensors *st, vi_graph *g,
                            vi_error *err);

/* Checks the inputs of node g->nodes[i] (dtypes, shapes, attributes) and fills
 * the dtype, shape and row_numel of its output value. For reshape the output
 * value must already carry the target shape, which is checked. The message on
 * failure does not name the node (the caller adds it). */
vi_status vi_manifest_infer_node(vi_graph *g, int i, vi_error *err);

#endif
