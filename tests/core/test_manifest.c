/* tests/core/test_manifest.c — model.json: a manifest using every op parses to
 * the expected graph (values, shapes, dtypes, node slots, attributes), and
 * every rejection returns its status and message. Manifests are written with
 * single quotes, turned into double quotes before parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/manifest.h"
#include "test_util.h"

/* ==== fixture: the weights every manifest below refers to ==== */

typedef struct {
    void *img;
    vi_safetensors st;
} fixture;

static fixture FX;

static int setup(void **state)
{
    (void)state;
    static float f[1024];
    static uint16_t h[80];
    static int32_t i32[4];
    static const int64_t s_fc0w[2] = {32, 16}, s32[1] = {32}, s_mm[2] = {32, 12}, s_fc1[2] = {9, 4},
                         s_emb[2] = {10, 8}, s4[1] = {4}, s3[1] = {3}, s_big[2] = {10, 64},
                         s_zero[2] = {0, 4}, s_ln16[1] = {16};
    for (int i = 0; i < 1024; i++)
        f[i] = (float)i;
    const vi_st_write w[] = {
        {"fc0.weight", VI_DT_FP32, 2, s_fc0w, f}, {"fc0.bias", VI_DT_FP32, 1, s32, f},
        {"ln.weight", VI_DT_FP32, 1, s32, f},     {"ln.bias", VI_DT_FP32, 1, s32, f},
        {"rms.weight", VI_DT_FP32, 1, s32, f},    {"mm.weight", VI_DT_FP32, 2, s_mm, f},
        {"fc1.weight", VI_DT_FP32, 2, s_fc1, f},  {"emb.table", VI_DT_FP16, 2, s_emb, h},
        {"scale", VI_DT_FP32, 0, NULL, f},        {"bad.int", VI_DT_INT32, 1, s4, i32},
        {"vec3", VI_DT_FP32, 1, s3, f},           {"big.weight", VI_DT_BF16, 2, s_big, f},
        {"zero", VI_DT_FP32, 2, s_zero, NULL},    {"ln16", VI_DT_FP32, 1, s_ln16, f},
    };
    size_t len;
    vi_error err = {{0}};
    if (vi_safetensors_serialize(w, (int)(sizeof w / sizeof w[0]), &FX.img, &len, &err) ||
        vi_safetensors_parse(&FX.st, FX.img, len, &err)) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vi_safetensors_close(&FX.st);
    free(FX.img);
    return 0;
}

/* Copy of s with ' replaced by " (caller frees). */
static char *dq(const char *s)
{
    char *c = strdup(s);
    assert_non_null(c);
    for (char *p = c; *p; p++)
        if (*p == '\'')
            *p = '"';
    return c;
}

static vi_status parse_q(const char *q, vi_graph *g, vi_error *err)
{
    char *j = dq(q);
    vi_status rc = vi_manifest_parse(j, strlen(j), &FX.st, g, err);
    free(j);
    return rc;
}

/* ==== the valid manifest: every op ==== */

static const char FULL[] =
    "{'format': 'verinfer-model', 'format_version': 1, 'name': 'every-op_1.0', 'version': '3',"
    " 'max_batch_size': 64,"
    " 'inputs': [{'name': 'input', 'datatype': 'FP32', 'shape': [-1, 16]},"
    "            {'name': 'ids', 'datatype': 'INT64', 'shape': [-1, 3]},"
    "            {'name': 'unused', 'datatype': 'FP32', 'shape': [-1, 2]}],"
    " 'outputs': [{'name': 'probs', 'datatype': 'FP32', 'shape': [-1, 4]},"
    "             {'name': 'label', 'datatype': 'INT64', 'shape': [-1]},"
    "             {'name': 'emb_scaled', 'datatype': 'FP32', 'shape': [-1, 3, 8]}],"
    " 'graph': ["
    "  {'op': 'linear', 'name': 'fc0', 'inputs': ['input'], 'outputs': ['h0'],"
    "   'weights': {'weight': 'fc0.weight', 'bias': 'fc0.bias'}, 'attributes': {'weight_layout': "
    "'out_in'}},"
    "  {'op': 'layer_norm', 'name': 'ln', 'inputs': ['h0'], 'outputs': ['h1'],"
    "   'weights': {'bias': 'ln.bias', 'weight': 'ln.weight'}, 'attributes': {'eps': 1e-6}},"
    "  {'op': 'gelu', 'inputs': ['h1'], 'outputs': ['h2'], 'attributes': {'approximate': 'tanh'}},"
    "  {'op': 'relu', 'inputs': ['h2'], 'outputs': ['h3']},"
    "  {'op': 'tanh', 'inputs': ['h3'], 'outputs': ['h4'], 'attributes': {}, 'weights': {}},"
    "  {'op': 'sigmoid', 'inputs': ['h4'], 'outputs': ['h5']},"
    "  {'op': 'add', 'inputs': ['h5'], 'weights': {'other': 'ln.bias'}, 'outputs': ['h6']},"
    "  {'op': 'mul', 'inputs': ['h6', 'h5'], 'outputs': ['h7']},"
    "  {'op': 'rms_norm', 'name': 'rms', 'inputs': ['h7'], 'weights': {'weight': 'rms.weight'}, "
    "'outputs': ['h8']},"
    "  {'op': 'matmul', 'name': 'mm', 'inputs': ['h8'], 'weights': {'other': 'mm.weight'}, "
    "'outputs': ['h9']},"
    "  {'op': 'reshape', 'inputs': ['h9'], 'outputs': ['h10'], 'attributes': {'shape': [-1, 3, "
    "4]}},"
    "  {'op': 'reshape', 'inputs': ['h9'], 'outputs': ['h11'], 'attributes': {'shape': [-1, 4, "
    "3]}},"
    "  {'op': 'matmul', 'inputs': ['h10', 'h11'], 'outputs': ['h12']},"
    "  {'op': 'flatten', 'inputs': ['h12'], 'outputs': ['h13'], 'attributes': {'start_dim': 1}},"
    "  {'op': 'linear', 'name': 'fc1', 'inputs': ['h13'], 'weights': {'weight': 'fc1.weight'},"
    "   'outputs': ['logits'], 'attributes': {'weight_layout': 'in_out'}},"
    "  {'op': 'softmax', 'inputs': ['logits'], 'outputs': ['probs'], 'attributes': {'axis': -1}},"
    "  {'op': 'argmax', 'inputs': ['logits'], 'outputs': ['label']},"
    "  {'op': 'embedding', 'name': 'emb', 'inputs': ['ids'], 'weights': {'weight': 'emb.table'}, "
    "'outputs': ['e']},"
    "  {'op': 'mul', 'inputs': ['e'], 'weights': {'other': 'scale'}, 'outputs': ['emb_scaled']}"
    " ]}";

static const vi_value *val(const vi_graph *g, const char *name)
{
    int i = vi_graph_find_value(g, name);
    if (i < 0)
        fail_msg("no value '%s'", name);
    return &g->values[i];
}

static void check_value(const vi_graph *g, const char *name, vi_value_kind kind, vi_dtype dt,
                        int ndim, const int64_t *shape, int64_t row_numel)
{
    const vi_value *v = val(g, name);
    assert_int_equal(v->kind, kind);
    assert_int_equal(v->dtype, dt);
    assert_int_equal(v->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        if (v->shape[i] != shape[i])
            fail_msg("value '%s' dim %d is %lld, want %lld", name, i, (long long)v->shape[i],
                     (long long)shape[i]);
    assert_int_equal(v->row_numel, row_numel);
}

#define SH(...) ((const int64_t[]){__VA_ARGS__})

static void check_node(const vi_graph *g, int i, vi_op op, const char *name, const char *in0,
                       const char *in1, const char *in2, const char *out)
{
    const vi_node *n = &g->nodes[i];
    assert_int_equal(n->op, op);
    assert_string_equal(n->name, name);
    const char *want[3] = {in0, in1, in2};
    for (int k = 0; k < 3; k++) {
        if (!want[k])
            assert_int_equal(n->in[k], -1);
        else
            assert_int_equal(n->in[k], vi_graph_find_value(g, want[k]));
    }
    assert_int_equal(n->in[3], -1);
    assert_int_equal(n->out, vi_graph_find_value(g, out));
    assert_int_equal(g->values[n->out].producer, i);
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void test_every_op(void **state)
{
    (void)state;
    vi_graph g;
    vi_error err = {{0}};
    vi_status rc = parse_q(FULL, &g, &err);
    if (rc)
        fail_msg("parse failed: %s", err.msg);
    assert_string_equal(g.name, "every-op_1.0");
    assert_string_equal(g.version, "3");
    assert_int_equal(g.max_batch_size, 64);
    assert_int_equal(g.n_nodes, 19);
    assert_int_equal(g.n_inputs, 3);
    assert_int_equal(g.n_outputs, 3);
    assert_int_equal(g.n_values, 3 + 19 + 9); /* inputs, node outputs, distinct weights */
    assert_int_equal(g.inputs[0], vi_graph_find_value(&g, "input"));
    assert_int_equal(g.inputs[2], vi_graph_find_value(&g, "unused"));
    assert_int_equal(g.outputs[0], vi_graph_find_value(&g, "probs"));
    assert_int_equal(g.outputs[1], vi_graph_find_value(&g, "label"));
    assert_int_equal(g.outputs[2], vi_graph_find_value(&g, "emb_scaled"));

    check_value(&g, "input", VI_VALUE_INPUT, VI_DT_FP32, 2, SH(-1, 16), 16);
    check_value(&g, "ids", VI_VALUE_INPUT, VI_DT_INT64, 2, SH(-1, 3), 3);
    assert_int_equal(val(&g, "ids")->producer, -1);
    check_value(&g, "fc0.weight", VI_VALUE_WEIGHT, VI_DT_FP32, 2, SH(32, 16), 512);
    check_value(&g, "emb.table", VI_VALUE_WEIGHT, VI_DT_FP16, 2, SH(10, 8), 80);
    check_value(&g, "scale", VI_VALUE_WEIGHT, VI_DT_FP32, 0, NULL, 1);
    assert_int_equal(val(&g, "scale")->producer, -1);
    check_value(&g, "h0", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, SH(-1, 32), 32);
    check_value(&g, "h8", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, SH(-1, 32), 32);
    check_value(&g, "h9", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, SH(-1, 12), 12);
    check_value(&g, "h10", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 3, 4), 12);
    check_value(&g, "h11", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 4, 3), 12);
    check_value(&g, "h12", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 3, 3), 9);
    check_value(&g, "h13", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, SH(-1, 9), 9);
    check_value(&g, "logits", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, SH(-1, 4), 4);
    check_value(&g, "probs", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, SH(-1, 4), 4);
    check_value(&g, "label", VI_VALUE_INTERMEDIATE, VI_DT_INT64, 1, SH(-1), 1);
    check_value(&g, "e", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 3, 8), 24);
    check_value(&g, "emb_scaled", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 3, 8), 24);

    check_node(&g, 0, VI_OP_LINEAR, "fc0", "input", "fc0.weight", "fc0.bias", "h0");
    check_node(&g, 1, VI_OP_LAYER_NORM, "ln", "h0", "ln.weight", "ln.bias", "h1");
    check_node(&g, 2, VI_OP_GELU, "node2", "h1", NULL, NULL, "h2");
    check_node(&g, 3, VI_OP_RELU, "node3", "h2", NULL, NULL, "h3");
    check_node(&g, 4, VI_OP_TANH, "node4", "h3", NULL, NULL, "h4");
    check_node(&g, 5, VI_OP_SIGMOID, "node5", "h4", NULL, NULL, "h5");
    check_node(&g, 6, VI_OP_ADD, "node6", "h5", "ln.bias", NULL, "h6"); /* shared weight */
    check_node(&g, 7, VI_OP_MUL, "node7", "h6", "h5", NULL, "h7");
    check_node(&g, 8, VI_OP_RMS_NORM, "rms", "h7", "rms.weight", NULL, "h8");
    check_node(&g, 9, VI_OP_MATMUL, "mm", "h8", "mm.weight", NULL, "h9");
    check_node(&g, 10, VI_OP_RESHAPE, "node10", "h9", NULL, NULL, "h10");
    check_node(&g, 11, VI_OP_RESHAPE, "node11", "h9", NULL, NULL, "h11");
    check_node(&g, 12, VI_OP_MATMUL, "node12", "h10", "h11", NULL, "h12");
    check_node(&g, 13, VI_OP_FLATTEN, "node13", "h12", NULL, NULL, "h13");
    check_node(&g, 14, VI_OP_LINEAR, "fc1", "h13", "fc1.weight", NULL, "logits");
    check_node(&g, 15, VI_OP_SOFTMAX, "node15", "logits", NULL, NULL, "probs");
    check_node(&g, 16, VI_OP_ARGMAX, "node16", "logits", NULL, NULL, "label");
    check_node(&g, 17, VI_OP_EMBEDDING, "emb", "ids", "emb.table", NULL, "e");
    check_node(&g, 18, VI_OP_MUL, "node18", "e", "scale", NULL, "emb_scaled");

    assert_int_equal(g.nodes[0].weight_out_in, 1);
    assert_int_equal(g.nodes[14].weight_out_in, 0);
    assert_int_equal(g.nodes[2].gelu_tanh, 1);
    assert_int_equal(fbits(g.nodes[1].eps), 0x358637bdu); /* 1e-6 rounded to float32 */
    assert_int_equal(fbits(g.nodes[8].eps), fbits(1e-5f));
    assert_int_equal(g.nodes[13].start_dim, 1);
    vi_graph_free(&g);
    assert_null(g.values);
    assert_int_equal(g.n_nodes, 0);
    vi_graph_free(&g);
    vi_graph_free(NULL);
}

static void test_defaults_and_no_weights(void **state)
{
    (void)state;
    const char *q =
        "{'format':'verinfer-model','format_version':1,'name':'m',"
        "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,2,3,4]}],"
        "'outputs':[{'name':'y','datatype':'FP32','shape':[-1,2,12]},"
        "{'name':'g','datatype':'FP32','shape':[-1,2,3,4]}],"
        "'graph':[{'op':'flatten','inputs':['x'],'outputs':['y'],'attributes':{'start_dim':2}},"
        "{'op':'gelu','inputs':['x'],'outputs':['g']}]}";
    char *j = dq(q);
    vi_graph g;
    vi_error err = {{0}};
    vi_status rc = vi_manifest_parse(j, strlen(j), NULL, &g, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_string_equal(g.version, "1");
    assert_int_equal(g.max_batch_size, 0);
    assert_int_equal(g.nodes[0].start_dim, 2);
    assert_int_equal(g.nodes[1].gelu_tanh, 0);
    check_value(&g, "y", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 2, 12), 24);
    vi_graph_free(&g);
    free(j);
}

/* The example in docs/model-format.md parses (the documentation stays true). */
static void test_doc_example(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/model-format.md", vt_src());
    char *doc = vt_read_file(path, NULL);
    if (!doc)
        fail_msg("cannot read %s", path);
    char *begin = strstr(doc, "```json\n");
    assert_non_null(begin);
    begin += 8;
    char *end = strstr(begin, "\n```");
    assert_non_null(end);
    vi_graph g;
    vi_error err = {{0}};
    vi_status rc = vi_manifest_parse(begin, (size_t)(end - begin), &FX.st, &g, &err);
    if (rc)
        fail_msg("docs example: %s", err.msg);
    assert_string_equal(g.name, "every-op");
    assert_int_equal(g.n_nodes, 19);
    assert_int_equal(g.n_outputs, 3);
    check_value(&g, "h12", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 3, SH(-1, 3, 3), 9);
    vi_graph_free(&g);
    free(doc);
}

/* ==== rejections ==== */

typedef struct {
    const char *json;
    vi_status st;
    const char *frag;
} reject_case;

#define HEAD "{'format':'verinfer-model','format_version':1,'name':'t',"
#define IN_X "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,16]}],"
#define IN_XI                                                                                      \
    "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,16]},{'name':'ids','datatype':'INT64','"  \
    "shape':[-1,3]}],"
#define OUT(n, dt, sh) "{'name':'" n "','datatype':'" dt "','shape':" sh "}"
#define M(outs, graph) HEAD IN_X "'outputs':[" outs "],'graph':[" graph "]}"
#define MI(outs, graph) HEAD IN_XI "'outputs':[" outs "],'graph':[" graph "]}"
#define RELU(in, out) "{'op':'relu','inputs':['" in "'],'outputs':['" out "']}"
#define Y16 OUT("y", "FP32", "[-1,16]")

static const reject_case CASES[] = {
    /* document level */
    {"{'format':", VI_ERR_INVALID, "not valid JSON: "},
    {"{'format':'verinfer-model','format':'x'}", VI_ERR_INVALID, "duplicate object key"},
    {"[1]", VI_ERR_INVALID, "the top level must be a JSON object"},
    {"{'format':'onnx','format_version':1,'name':'t','inputs':[],'outputs':[],'graph':[]}",
     VI_ERR_INVALID, "\"format\" must be \"verinfer-model\""},
    {"{'format':'verinfer-model','format_version':2,'name':'t'}", VI_ERR_UNSUPPORTED,
     "format_version 2 is not supported (this build reads 1)"},
    {"{'format':'verinfer-model','format_version':'1','name':'t'}", VI_ERR_INVALID,
     "\"format_version\" must be an integer"},
    {HEAD "'extra':1," IN_X "'outputs':[" Y16 "],'graph':[" RELU("x", "y") "]}", VI_ERR_INVALID,
     "top level: unknown key 'extra' (allowed: format, format_version, name, version, "
     "max_batch_size, dynamic_batching, mode, fast_tolerance, inputs, outputs, graph)"},
    {HEAD IN_X "'outputs':[" Y16 "]}", VI_ERR_INVALID, "missing \"graph\""},
    {HEAD IN_X "'outputs':[" Y16 "],'graph':{}}", VI_ERR_INVALID, "\"graph\" must be an array"},
    {HEAD "'inputs':[],'outputs':[" Y16 "],'graph':[" RELU("x", "y") "]}", VI_ERR_INVALID,
     "\"inputs\" is empty"},
    {"{'format':'verinfer-model','format_version':1,'name':'my model'," IN_X "'outputs':[" Y16
     "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "\"name\" 'my model' may only use letters, digits"},
    {"{'format':'verinfer-model','format_version':1,'name':'.hidden'," IN_X "'outputs':[" Y16
     "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "\"name\" '.hidden' may only use"},
    {"{'format':'verinfer-model','format_version':1,'name':'t','version':'1/2'," IN_X
     "'outputs':[" Y16 "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "\"version\" '1/2' may only use"},
    {"{'format':'verinfer-model','format_version':1,'name':'t','max_batch_size':-1," IN_X
     "'outputs':[" Y16 "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "\"max_batch_size\" must be an integer from 0 to 2147483647"},

    /* inputs and outputs */
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,-1]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "input 'x': shape[1] is -1 but only the first (batch) dimension may be -1"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[4,16]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "input 'x': shape[0] is 4 but must be -1 (the batch dimension)"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,0]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "input 'x': shape[1] is 0 but must be positive"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "input 'x': shape is empty"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,1,1,1,1,1,1,1,1]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_LIMIT, "input 'x': shape has 9 dimensions (at most 8)"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP16','shape':[-1,16]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_UNSUPPORTED, "input 'x': datatype FP16 is not supported"},
    {HEAD "'inputs':[{'name':'x','datatype':'FLOAT','shape':[-1,16]}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "input 'x': unknown datatype 'FLOAT'"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,16],'layout':'NC'}],'outputs':[" Y16
          "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "inputs[0]: unknown key 'layout' (allowed: name, datatype, shape)"},
    {HEAD "'inputs':[{'name':'x','datatype':'FP32','shape':[-1,16]},{'name':'x','datatype':'FP32',"
          "'shape':[-1,16]}],'outputs':[" Y16 "],'graph':[" RELU("x", "y") "]}",
     VI_ERR_INVALID, "input 'x' is declared twice"},
    {M(OUT("zz", "FP32", "[-1,16]"), RELU("x", "y")), VI_ERR_INVALID,
     "output 'zz' is not produced by any node"},
    {M(OUT("x", "FP32", "[-1,16]"), RELU("x", "y")), VI_ERR_INVALID,
     "output 'x' is a model input, not produced by any node"},
    {M(Y16 "," Y16, RELU("x", "y")), VI_ERR_INVALID, "output 'y' is listed twice"},
    {M(OUT("y", "FP32", "[-1,4]"), "{'op':'relu','name':'a','inputs':['x'],'outputs':['y']}"),
     VI_ERR_INVALID, "output 'y' is declared FP32 [-1, 4] but node 'a' produces FP32 [-1, 16]"},
    {M(OUT("y", "INT64", "[-1,16]"), RELU("x", "y")), VI_ERR_INVALID,
     "output 'y' is declared INT64 [-1, 16] but node 'node0' produces FP32 [-1, 16]"},

    /* names and structure of nodes */
    {M(Y16, "{'op':'conv2d','inputs':['x'],'outputs':['y']}"), VI_ERR_UNSUPPORTED,
     "graph[0]: unknown op 'conv2d' (known ops: linear, matmul, add, mul, relu, gelu, tanh, "
     "sigmoid, softmax, layer_norm, rms_norm, embedding, reshape, flatten, argmax)"},
    {M(Y16, "{'inputs':['x'],'outputs':['y']}"), VI_ERR_INVALID,
     "graph[0]: \"op\" must be a string"},
    {M(Y16, "{'op':'relu','input':['x'],'outputs':['y']}"), VI_ERR_INVALID,
     "graph[0]: unknown key 'input' (allowed: op, name, inputs, weights, outputs, attributes)"},
    {M(Y16, RELU("nope", "y")), VI_ERR_INVALID,
     "node 'node0' (relu): unknown value 'nope' (neither a model input nor an earlier node's "
     "output)"},
    {M(Y16, RELU("h1", "h0") "," RELU("x", "h1") "," RELU("h0", "y")), VI_ERR_INVALID,
     "node 'node0' (relu): input 'h1' is used before it is defined (graph[1] produces it later)"},
    {M(Y16, RELU("y", "y")), VI_ERR_INVALID, "input 'y' is the node's own output"},
    {M(Y16, "{'op':'relu','name':'a','inputs':['x'],'outputs':['h0']}," RELU("x", "h0") "," RELU(
                "h0", "y")),
     VI_ERR_INVALID,
     "node 'node1' (relu): output name 'h0' is already used by the output of node 'a'"},
    {M(Y16, RELU("x", "x")), VI_ERR_INVALID, "output name 'x' is already used by a model input"},
    {M(Y16, "{'op':'relu','name':'a','inputs':['x'],'outputs':['h0']},"
            "{'op':'relu','name':'a','inputs':['h0'],'outputs':['y']}"),
     VI_ERR_INVALID, "graph[1]: duplicate node name 'a'"},
    {M(Y16, "{'op':'relu','name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','inputs':['x'],"
            "'outputs':['y']}"),
     VI_ERR_LIMIT,
     "graph[0]: node name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is 128 bytes (at most 127)"},
    {M(Y16, "{'op':'relu','name':'','inputs':['x'],'outputs':['y']}"), VI_ERR_INVALID,
     "graph[0]: node name is empty"},
    {M(Y16, "{'op':'relu','inputs':['x'],'outputs':['y','z']}"), VI_ERR_INVALID,
     "\"outputs\" must be an array of exactly one new value name"},
    {M(Y16, "{'op':'relu','inputs':['x','x'],'outputs':['y']}"), VI_ERR_INVALID,
     "node 'node0' (relu): relu takes 1 input; got 2"},
    {M(Y16, "{'op':'add','inputs':['x','x'],'weights':{'other':'ln16'},'outputs':['y']}"),
     VI_ERR_INVALID,
     "add takes 2 inputs, or 1 input and weights {\"other\": ...}; got 2 input(s) and a weight"},
    {M(Y16, "{'op':'mul','inputs':['x'],'outputs':['y']}"), VI_ERR_INVALID,
     "mul takes 2 inputs, or 1 input and weights {\"other\": ...}; got 1 input(s)"},
    {M(Y16, "{'op':'relu','inputs':['fc0.weight'],'outputs':['y']}"), VI_ERR_INVALID,
     "input 'fc0.weight' is a tensor of model.safetensors: reference weights under \"weights\""},

    /* weights */
    {M(OUT("y", "FP32", "[-1,32]"),
       "{'op':'linear','name':'fc','inputs':['x'],'weights':{'weight':'nope.w'},'outputs':['y']}"),
     VI_ERR_NOT_FOUND, "node 'fc' (linear): weight 'nope.w' is not in model.safetensors"},
    {M(OUT("y", "FP32", "[-1,32]"),
       "{'op':'linear','inputs':['x'],'weights':{'gamma':'fc0.weight'},'outputs':['y']}"),
     VI_ERR_INVALID, "unknown weight role 'gamma' (linear takes: weight, bias)"},
    {M(OUT("y", "FP32", "[-1,32]"),
       "{'op':'linear','inputs':['x'],'weights':{'bias':'fc0.bias'},'outputs':['y']}"),
     VI_ERR_INVALID, "missing weight \"weight\" (linear takes: weight, bias)"},
    {M(Y16, "{'op':'relu','inputs':['x'],'weights':{'weight':'ln16'},'outputs':['y']}"),
     VI_ERR_INVALID, "unknown weight role 'weight' (relu takes: none)"},
    {M(OUT("y", "FP32", "[-1,4]"),
       "{'op':'linear','inputs':['x'],'weights':{'weight':'bad.int'},'outputs':['y']}"),
     VI_ERR_UNSUPPORTED, "weight 'bad.int' has dtype I32 (weights must be F32, F16 or BF16)"},
    {M(Y16, "{'op':'add','inputs':['x'],'weights':{'other':'zero'},'outputs':['y']}"),
     VI_ERR_INVALID, "weight 'zero' has shape [0, 4] with no elements"},
    {M(OUT("y", "FP32", "[-1,16]"),
       "{'op':'linear','inputs':['x'],'weights':{'weight':'scale'},'outputs':['y']}"),
     VI_ERR_INVALID, "weight 'scale' has shape [] but linear needs a 2-D weight"},
    {M(Y16, "{'op':'relu','name':'a','inputs':['x'],'outputs':['h0']},"
            "{'op':'add','inputs':['x'],'weights':{'other':'h0'},'outputs':['y']}"),
     VI_ERR_INVALID, "weight 'h0' has the same name as the output of node 'a'"},
    {M(Y16, "{'op':'add','inputs':['x'],'weights':{'other':3},'outputs':['y']}"), VI_ERR_INVALID,
     "weight role 'other' must name a tensor (a string)"},

    /* shape inference */
    {M(OUT("y", "FP32", "[-1,10]"), "{'op':'linear','name':'fc0','inputs':['x'],'weights':{'weight'"
                                    ":'fc0.weight'},'outputs':['h0']},"
                                    "{'op':'linear','name':'fc1','inputs':['h0'],'weights':{'"
                                    "weight':'big.weight'},'outputs':['y']}"),
     VI_ERR_INVALID,
     "node 'fc1' (linear): input 'h0' has last dimension 32 but weight 'big.weight' [N, K] = "
     "[10, 64] expects K = 64"},
    {M(OUT("y", "FP32", "[-1,10]"),
       "{'op':'linear','name':'fc','inputs':['x'],'weights':{'weight':'mm.weight'},'outputs':['y'],"
       "'attributes':{'weight_layout':'in_out'}}"),
     VI_ERR_INVALID,
     "node 'fc' (linear): input 'x' has last dimension 16 but weight 'mm.weight' [K, N] = [32, "
     "12] expects K = 32"},
    {M(OUT("y", "FP32", "[-1,32]"), "{'op':'linear','inputs':['x'],'weights':{'weight':'fc0.weight'"
                                    ",'bias':'vec3'},'outputs':['y']}"),
     VI_ERR_INVALID, "bias 'vec3' has shape [3] but N = 32 needs [32]"},
    {M(OUT("y", "FP32", "[-1,12]"),
       "{'op':'matmul','inputs':['x'],'weights':{'other':'mm.weight'},'outputs':['y']}"),
     VI_ERR_INVALID,
     "input 'x' has last dimension 16 but weight 'mm.weight' [K, N] = [32, 12] expects K = 32"},
    {M(Y16, "{'op':'matmul','inputs':['x','x'],'outputs':['y']}"), VI_ERR_INVALID,
     "matmul of two activations needs a [-1, ..., M, K] and b [-1, ..., K, N] of at least 3 "
     "dimensions; got 'x' [-1, 16] and 'x' [-1, 16]"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['a'],'attributes':{'shape':[-1,4,4]}},"
            "{'op':'reshape','inputs':['x'],'outputs':['b'],'attributes':{'shape':[-1,2,8]}},"
            "{'op':'matmul','inputs':['a','b'],'outputs':['y']}"),
     VI_ERR_INVALID,
     "input 'a' [-1, 4, 4] has K = 4 but input 'b' [-1, 2, 8] has K = 2 (a [..., M, K] @ b [..., "
     "K, N])"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['a'],'attributes':{'shape':[-1,2,2,4]}},"
            "{'op':'reshape','inputs':['x'],'outputs':['b'],'attributes':{'shape':[-1,4,4,1]}},"
            "{'op':'matmul','inputs':['a','b'],'outputs':['y']}"),
     VI_ERR_INVALID,
     "inputs 'a' [-1, 2, 2, 4] and 'b' [-1, 4, 4, 1] differ in leading dimension 1"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['a'],'attributes':{'shape':[-1,2,2,4]}},"
            "{'op':'reshape','inputs':['x'],'outputs':['b'],'attributes':{'shape':[-1,4,4]}},"
            "{'op':'matmul','inputs':['a','b'],'outputs':['y']}"),
     VI_ERR_INVALID, "inputs 'a' [-1, 2, 2, 4] and 'b' [-1, 4, 4] have different ranks"},
    {M(Y16, "{'op':'add','inputs':['x'],'weights':{'other':'vec3'},'outputs':['y']}"),
     VI_ERR_INVALID,
     "weight 'vec3' [3] is neither a suffix of the per-row shape [16] of input 'x' nor a "
     "1-element scalar"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['a'],'attributes':{'shape':[-1,4,4]}},"
            "{'op':'add','inputs':['x','a'],'outputs':['y']}"),
     VI_ERR_INVALID, "inputs 'x' [-1, 16] and 'a' [-1, 4, 4] must have the same shape"},
    {M(Y16, "{'op':'layer_norm','inputs':['x'],'weights':{'weight':'ln.weight'},'outputs':['y']}"),
     VI_ERR_INVALID,
     "weight 'ln.weight' has shape [32] but input 'x' [-1, 16] needs [16] (its last dimension)"},
    {M(Y16, "{'op':'layer_norm','inputs':['x'],'weights':{'weight':'ln16','bias':'vec3'},'outputs':"
            "['y']}"),
     VI_ERR_INVALID, "bias 'vec3' has shape [3] but input 'x' [-1, 16] needs [16]"},
    {M(Y16, "{'op':'rms_norm','inputs':['x'],'weights':{'weight':'rms.weight'},'outputs':['y']}"),
     VI_ERR_INVALID, "weight 'rms.weight' has shape [32] but input 'x' [-1, 16] needs [16]"},
    {M(OUT("y", "FP32", "[-1,16,8]"),
       "{'op':'embedding','inputs':['x'],'weights':{'weight':'emb.table'},'outputs':['y']}"),
     VI_ERR_INVALID, "ids 'x' are FP32 but embedding needs INT32 or INT64"},
    {MI(OUT("y", "FP32", "[-1,3,8]"),
        "{'op':'argmax','inputs':['x'],'outputs':['a']},"
        "{'op':'embedding','inputs':['a'],'weights':{'weight':'emb.table'},'outputs':['y']}"),
     VI_ERR_INVALID, "ids 'a' must be a model input"},
    {MI(OUT("y", "FP32", "[-1,32]"), "{'op':'linear','name':'fc','inputs':['ids'],'weights':{'"
                                     "weight':'fc0.weight'},'outputs':['y']}"),
     VI_ERR_INVALID,
     "node 'fc' (linear): input 'ids' is INT64 but linear needs FP32 (integer inputs can only "
     "feed embedding)"},
    {M(OUT("y", "FP32", "[-1,32]"),
       "{'op':'argmax','inputs':['x'],'outputs':['lbl']},"
       "{'op':'linear','inputs':['lbl'],'weights':{'weight':'fc0.weight'},'outputs':['y']}"),
     VI_ERR_INVALID, "input 'lbl' is INT64 but linear needs FP32"},
    {HEAD "'inputs':[{'name':'ids','datatype':'INT32','shape':[-1,1,1,1,1,1,1,1]}],"
          "'outputs':[" Y16 "],'graph':[{'op':'embedding','inputs':['ids'],"
          "'weights':{'weight':'emb.table'},'outputs':['y']}]}",
     VI_ERR_LIMIT, "output 'y' would have 9 dimensions (at most 8)"},
    {M(Y16, "{'op':'softmax','inputs':['x'],'outputs':['a']},{'op':'argmax','inputs':['a'],'"
            "outputs':['b']},"
            "{'op':'softmax','inputs':['b'],'outputs':['y']}"),
     VI_ERR_INVALID, "input 'b' is INT64 but softmax needs FP32"},
    {M(Y16, "{'op':'flatten','inputs':['x'],'outputs':['a'],'attributes':{'start_dim':1}},"
            "{'op':'argmax','inputs':['a'],'outputs':['b']},{'op':'relu','inputs':['b'],'outputs':["
            "'y']}"),
     VI_ERR_INVALID, "input 'b' is INT64 but relu needs FP32"},

    /* attributes */
    {M(Y16, "{'op':'relu','inputs':['x'],'outputs':['y'],'attributes':{'alpha':0.1}}"),
     VI_ERR_INVALID, "unknown attribute 'alpha' (relu takes no attributes)"},
    {M(Y16, "{'op':'gelu','inputs':['x'],'outputs':['y'],'attributes':{'eps':0.1}}"),
     VI_ERR_INVALID, "unknown attribute 'eps' (gelu takes approximate only)"},
    {M(Y16, "{'op':'gelu','inputs':['x'],'outputs':['y'],'attributes':{'approximate':'fast'}}"),
     VI_ERR_INVALID, "attribute \"approximate\" must be \"none\" or \"tanh\""},
    {M(OUT("y", "FP32", "[-1,32]"), "{'op':'linear','inputs':['x'],'weights':{'weight':'fc0.weight'"
                                    "},'outputs':['y'],'attributes':{'weight_layout':'NK'}}"),
     VI_ERR_INVALID, "attribute \"weight_layout\" must be \"out_in\" or \"in_out\""},
    {M(Y16, "{'op':'layer_norm','inputs':['x'],'weights':{'weight':'ln16'},'outputs':['y'],'"
            "attributes':{'eps':0}}"),
     VI_ERR_INVALID, "attribute \"eps\" must be a number > 0"},
    {M(Y16, "{'op':'rms_norm','inputs':['x'],'weights':{'weight':'ln16'},'outputs':['y'],'"
            "attributes':{'eps':'1e-5'}}"),
     VI_ERR_INVALID, "attribute \"eps\" must be a number > 0"},
    {M(Y16, "{'op':'rms_norm','inputs':['x'],'weights':{'weight':'ln16'},'outputs':['y'],'"
            "attributes':{'eps':1e-50}}"),
     VI_ERR_INVALID, "attribute \"eps\" 1e-50 rounds to 0 as a float32"},
    {M(Y16, "{'op':'flatten','inputs':['x'],'outputs':['y'],'attributes':{'start_dim':0}}"),
     VI_ERR_INVALID, "attribute \"start_dim\" is 0 (it must be >= 1: dimension 0 is the batch)"},
    {M(Y16, "{'op':'flatten','inputs':['x'],'outputs':['y'],'attributes':{'start_dim':1.0}}"),
     VI_ERR_INVALID, "attribute \"start_dim\" must be an integer"},
    {M(Y16, "{'op':'flatten','inputs':['x'],'outputs':['y'],'attributes':{'start_dim':2}}"),
     VI_ERR_INVALID,
     "start_dim 2 is out of range for input 'x' [-1, 16] (it must be 1 to ndim-1 = 1)"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['y'],'attributes':{'shape':[-1,5,3]}}"),
     VI_ERR_INVALID,
     "cannot reshape input 'x' [-1, 16] (16 elements per row) to [-1, 5, 3] (15 elements per row)"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['y'],'attributes':{'shape':[-1,-1,4]}}"),
     VI_ERR_INVALID,
     "attribute \"shape\": shape[1] is -1 but only the first (batch) dimension may be -1"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['y'],'attributes':{'shape':[16]}}"),
     VI_ERR_INVALID, "attribute \"shape\": shape[0] is 16 but must be -1"},
    {M(Y16, "{'op':'reshape','inputs':['x'],'outputs':['y']}"), VI_ERR_INVALID,
     "missing attribute \"shape\""},
    {M(Y16, "{'op':'softmax','inputs':['x'],'outputs':['y'],'attributes':{'axis':1}}"),
     VI_ERR_UNSUPPORTED, "attribute \"axis\" is 1: only -1 (the last axis) is supported"},
    {M(Y16, "{'op':'relu','inputs':['x'],'outputs':['y'],'attributes':[]}"), VI_ERR_INVALID,
     "\"attributes\" must be an object"},
};

static void test_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        vi_graph g;
        vi_error err = {{0}};
        vi_status rc = parse_q(CASES[i].json, &g, &err);
        if (rc != CASES[i].st || !strstr(err.msg, CASES[i].frag))
            fail_msg("case %zu: want status %d with \"%s\", got %d: \"%s\"", i, CASES[i].st,
                     CASES[i].frag, rc, err.msg);
        assert_null(g.values);
        assert_null(g.nodes);
        assert_int_equal(g.n_values, 0);
    }
}

/* A chain of n relu nodes x -> v1 -> ... -> vn (output). */
static char *relu_chain(int n)
{
    size_t cap = (size_t)n * 80 + 512, at = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    at += (size_t)snprintf(s + at, cap - at,
                           HEAD IN_X "'outputs':[{'name':'v%d','datatype':'FP32','shape':[-1,16]}],"
                                     "'graph':[",
                           n);
    for (int i = 1; i <= n; i++) {
        char prev[16];
        if (i == 1)
            snprintf(prev, sizeof prev, "x");
        else
            snprintf(prev, sizeof prev, "v%d", i - 1);
        at +=
            (size_t)snprintf(s + at, cap - at, "%s{'op':'relu','inputs':['%s'],'outputs':['v%d']}",
                             i > 1 ? "," : "", prev, i);
    }
    snprintf(s + at, cap - at, "]}");
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    vi_graph g;
    vi_error err = {{0}};
    char *s = relu_chain(VI_MANIFEST_MAX_NODES);
    vi_status rc = vi_manifest_parse(s, strlen(s), &FX.st, &g, &err);
    if (rc)
        fail_msg("4096 nodes: %s", err.msg);
    assert_int_equal(g.n_nodes, 4096);
    assert_string_equal(g.nodes[4095].name, "node4095");
    vi_graph_free(&g);
    free(s);

    s = relu_chain(VI_MANIFEST_MAX_NODES + 1);
    assert_int_equal(vi_manifest_parse(s, strlen(s), &FX.st, &g, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "\"graph\" has 4097 entries (at most 4096)");
    free(s);

    /* nesting: 33 levels (an object and 32 arrays) fail before JSON parsing */
    char deep[128];
    int at = snprintf(deep, sizeof deep, "{\"x\":");
    for (int i = 0; i < 32; i++)
        deep[at++] = '[';
    for (int i = 0; i < 32; i++)
        deep[at++] = ']';
    deep[at++] = '}';
    assert_int_equal(vi_manifest_parse(deep, (size_t)at, &FX.st, &g, &err), VI_ERR_LIMIT);
    assert_string_equal(err.msg, "JSON nests deeper than 32 levels (at byte 36)");
    /* brackets inside strings do not count */
    at = snprintf(deep, sizeof deep, "{\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[\"}");
    assert_int_equal(vi_manifest_parse(deep, (size_t)at, &FX.st, &g, &err), VI_ERR_INVALID);
    assert_string_equal(err.msg, "top level: unknown key 'x' (allowed: format, format_version, "
                                 "name, version, max_batch_size, dynamic_batching, mode, "
                                 "fast_tolerance, inputs, outputs, graph)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op),    cmocka_unit_test(test_defaults_and_no_weights),
        cmocka_unit_test(test_doc_example), cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
