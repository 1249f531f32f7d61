/* core/graph.c — op names and the small helpers of vi_graph (lookup, free). */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

static const char *const OP_NAMES[VI_OP_COUNT] = {
    [VI_OP_LINEAR] = "linear",     [VI_OP_MATMUL] = "matmul",
    [VI_OP_ADD] = "add",           [VI_OP_MUL] = "mul",
    [VI_OP_RELU] = "relu",         [VI_OP_GELU] = "gelu",
    [VI_OP_TANH] = "tanh",         [VI_OP_SIGMOID] = "sigmoid",
    [VI_OP_SOFTMAX] = "softmax",   [VI_OP_LAYER_NORM] = "layer_norm",
    [VI_OP_RMS_NORM] = "rms_norm", [VI_OP_EMBEDDING] = "embedding",
    [VI_OP_RESHAPE] = "reshape",   [VI_OP_FLATTEN] = "flatten",
    [VI_OP_ARGMAX] = "argmax",
};

const char *vi_op_name(vi_op op)
{
    return ((int)op >= 0 && op < VI_OP_COUNT) ? OP_NAMES[op] : "?";
}

vi_op vi_op_from_name(const char *name)
{
    for (int i = 0; name && i < VI_OP_COUNT; i++)
        if (strcmp(name, OP_NAMES[i]) == 0)
            return (vi_op)i;
    return VI_OP_COUNT;
}

int vi_graph_find_value(const vi_graph *g, const char *name)
{
    if (!g || !name)
        return -1;
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

void vi_graph_free(vi_graph *g)
{
    if (!g)
        return;
    free(g->values);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    memset(g, 0, sizeof *g);
}
