/* tests/server/test_kserve.c — the KServe v2 codec: request decoding (flat,
 * nested, binary) to exact bytes, every rejection with its status and
 * message, limits, binding to a graph, response encoding and parsing with
 * exact float round trips, and the shortest-decimal writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/json_num.h"
#include "server/kserve.h"
#include "test_util.h"

/* ==== Helpers ==== */

/* Test JSON is written with single quotes; this turns them into double quotes. */
static char *q(const char *s)
{
    char *t = strdup(s);
    for (char *c = t; *c; c++)
        if (*c == '\'')
            *c = '"';
    return t;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void parse_ok(const char *json_q, const uint8_t *bin, size_t binlen, vi_kserve_request *req)
{
    char *json = q(json_q);
    vi_error err = {{0}};
    vi_status st = vi_kserve_parse_request(json, strlen(json), bin, binlen, NULL, req, &err);
    if (st != VI_OK)
        print_error("unexpected failure: %s\n  json: %s\n", err.msg, json);
    free(json);
    assert_int_equal(st, VI_OK);
}

static void expect_fail(const char *json_q, const uint8_t *bin, size_t binlen,
                        const vi_kserve_limits *lim, vi_status want, const char *frag)
{
    char *json = q(json_q);
    vi_kserve_request req;
    vi_error err = {{0}};
    vi_status st = vi_kserve_parse_request(json, strlen(json), bin, binlen, lim, &req, &err);
    if (st != want || !strstr(err.msg, frag)) {
        print_error("json: %s\n  got status %d, message: %s\n  wanted status %d with: %s\n", json,
                    st, err.msg, want, frag);
        free(json);
        fail();
    }
    free(json);
    assert_null(req.inputs);
    assert_null(req.id);
    assert_int_equal(req.n_inputs, 0);
}

/* ==== Requests: decoding ==== */

static void test_flat_fp32_exact_bytes(void **state)
{
    (void)state;
    vi_kserve_request req;
    parse_ok("{'id':'r-1','inputs':[{'name':'x','datatype':'FP32','shape':[2,3],"
             "'data':[1,2.5,-0.0,1e-45,3.4028235e38,0.1]}]}",
             NULL, 0, &req);
    assert_string_equal(req.id, "r-1");
    assert_int_equal(req.n_inputs, 1);
    const vi_tensor *t = &req.inputs[0];
    assert_string_equal(t->name, "x");
    assert_int_equal(t->dtype, VI_DT_FP32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    static const uint8_t want[24] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0x40,
                                     0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00,
                                     0xff, 0xff, 0x7f, 0x7f, 0xcd, 0xcc, 0xcc, 0x3d};
    assert_memory_equal(t->data, want, sizeof want);
    assert_null(req.outputs);
    assert_int_equal(req.n_outputs, 0);
    assert_int_equal(req.binary_data_output, 0);
    vi_kserve_request_free(&req);
    assert_null(req.inputs);
    vi_kserve_request_free(&req); /* twice is harmless */
    vi_kserve_request_free(NULL);
}

static void test_nested_equals_flat(void **state)
{
    (void)state;
    vi_kserve_request a, b;
    parse_ok("{'inputs':[{'name':'x','datatype':'FP32','shape':[2,1,3],"
             "'data':[1,2,3,4,5,6.25]}]}",
             NULL, 0, &a);
    parse_ok("{'inputs':[{'name':'x','datatype':'FP32','shape':[2,1,3],"
             "'data':[[[1,2,3]],[[4,5,6.25]]]}]}",
             NULL, 0, &b);
    assert_null(b.id);
    assert_memory_equal(a.inputs[0].data, b.inputs[0].data, 24);
    assert_int_equal(f32_bits(((float *)b.inputs[0].data)[5]), f32_bits(6.25f));
    vi_kserve_request_free(&a);
    vi_kserve_request_free(&b);
}

/* Numbers go decimal -> binary64 -> binary32: this decimal lies just above the
 * binary32 midpoint 1 + 2^-24, but its nearest binary64 IS the midpoint, which
 * then rounds to even (1.0). Direct decimal -> binary32 would give 1 + 2^-23. */
static void test_fp32_goes_through_binary64(void **state)
{
    (void)state;
    vi_kserve_request req;
    parse_ok("{'inputs':[{'name':'x','datatype':'FP32','shape':[5],"
             "'data':[1.0000000596046447763,16777217,1.000000059604645,-0.0,-0]}]}",
             NULL, 0, &req);
    const float *f = req.inputs[0].data;
    assert_int_equal(f32_bits(f[0]), 0x3f800000u);
    assert_int_equal(f32_bits(f[1]), f32_bits(16777216.0f)); /* integer literal, rounded */
    assert_int_equal(f32_bits(f[2]), 0x3f800001u);
    assert_int_equal(f32_bits(f[3]), 0x80000000u);
    assert_int_equal(f32_bits(f[4]), 0x00000000u); /* "-0" is read as the integer 0 */
    vi_kserve_request_free(&req);
    parse_ok(
        "{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[-3.4028235677973362e38]}]}",
        NULL, 0, &req);
    assert_int_equal(f32_bits(*(float *)req.inputs[0].data), 0xff7fffffu); /* rounds to -FLT_MAX */
    vi_kserve_request_free(&req);
}

static void test_integer_bool_fp64_types(void **state)
{
    (void)state;
    vi_kserve_request req;
    parse_ok("{'inputs':["
             "{'name':'i8','datatype':'INT8','shape':[2],'data':[-128,127]},"
             "{'name':'u8','datatype':'UINT8','shape':[2],'data':[0,255]},"
             "{'name':'i16','datatype':'INT16','shape':[2],'data':[-32768,32767]},"
             "{'name':'i32','datatype':'INT32','shape':[2],'data':[-2147483648,2147483647]},"
             "{'name':'i64','datatype':'INT64','shape':[2],"
             "'data':[-9223372036854775808,9223372036854775807]},"
             "{'name':'b','datatype':'BOOL','shape':[3],'data':[true,false,true]},"
             "{'name':'d','datatype':'FP64','shape':[2],'data':[0.1,-5e-324]}]}",
             NULL, 0, &req);
    assert_int_equal(req.n_inputs, 7);
    const int8_t *i8 = req.inputs[0].data;
    assert_int_equal(i8[0], -128);
    assert_int_equal(i8[1], 127);
    const uint8_t *u8 = req.inputs[1].data;
    assert_int_equal(u8[1], 255);
    const int16_t *i16 = req.inputs[2].data;
    assert_int_equal(i16[0], -32768);
    const int32_t *i32 = req.inputs[3].data;
    assert_int_equal(i32[0], INT32_MIN);
    assert_int_equal(i32[1], INT32_MAX);
    const int64_t *i64 = req.inputs[4].data;
    assert_true(i64[0] == INT64_MIN);
    assert_true(i64[1] == INT64_MAX);
    static const uint8_t bools[3] = {1, 0, 1};
    assert_memory_equal(req.inputs[5].data, bools, 3);
    const uint8_t *d = req.inputs[6].data;
    static const uint8_t d0[8] = {0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f};
    static const uint8_t d1[8] = {0x01, 0, 0, 0, 0, 0, 0, 0x80};
    assert_memory_equal(d, d0, 8);
    assert_memory_equal(d + 8, d1, 8);
    vi_kserve_request_free(&req);
}

static void test_scalar_and_empty_shapes(void **state)
{
    (void)state;
    vi_kserve_request req;
    parse_ok("{'inputs':[{'name':'s','datatype':'INT32','shape':[],'data':[7]},"
             "{'name':'e','datatype':'FP32','shape':[0,3],'data':[]},"
             "{'name':'f','datatype':'FP32','shape':[2,0],'data':[[],[]]}]}",
             NULL, 0, &req);
    assert_int_equal(req.inputs[0].ndim, 0);
    assert_int_equal(*(int32_t *)req.inputs[0].data, 7);
    assert_int_equal(req.inputs[1].shape[0], 0);
    assert_non_null(req.inputs[1].data);
    assert_int_equal(req.inputs[2].shape[1], 0);
    vi_kserve_request_free(&req);
}

static void test_outputs_and_parameters(void **state)
{
    (void)state;
    vi_kserve_request req;
    parse_ok("{'parameters':{'binary_data_output':true,'priority':1},"
             "'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
             "'outputs':[{'name':'a','parameters':{'binary_data':false}},{'name':'b'},"
             "{'name':'c','parameters':{'binary_data':true,'classification':0}}]}",
             NULL, 0, &req);
    assert_int_equal(req.binary_data_output, 1);
    assert_non_null(req.parameters);
    assert_int_equal(json_integer_value(json_object_get(req.parameters, "priority")), 1);
    assert_int_equal(req.n_outputs, 3);
    assert_string_equal(req.outputs[0].name, "a");
    assert_int_equal(req.outputs[0].binary_data, 0);
    assert_int_equal(req.outputs[1].binary_data, -1);
    assert_int_equal(req.outputs[2].binary_data, 1);
    assert_int_equal(vi_kserve_output_wants_binary(&req, "a"), 0);
    assert_int_equal(vi_kserve_output_wants_binary(&req, "b"), 1);
    assert_int_equal(vi_kserve_output_wants_binary(&req, "c"), 1);
    assert_int_equal(vi_kserve_output_wants_binary(&req, "not-listed"), 1);
    vi_kserve_request_free(&req);

    parse_ok("{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
             "'outputs':[{'name':'a','parameters':{'binary_data':true}}]}",
             NULL, 0, &req);
    assert_int_equal(vi_kserve_output_wants_binary(&req, "a"), 1);
    assert_int_equal(vi_kserve_output_wants_binary(&req, "b"), 0);
    assert_null(req.parameters);
    vi_kserve_request_free(&req);
}

static void test_binary_inputs(void **state)
{
    (void)state;
    uint8_t bin[12 + 4 + 3];
    float xs[3] = {1.5f, -0.0f, bits_f32(0x7fc00001u)}; /* NaN payloads survive binary */
    memcpy(bin, xs, 12);
    uint16_t h[2] = {0x3c00, 0xfc00}; /* FP16 1.0, -inf */
    memcpy(bin + 12, h, 4);
    bin[16] = 1, bin[17] = 0, bin[18] = 1;
    vi_kserve_request req;
    parse_ok("{'inputs':["
             "{'name':'x','datatype':'FP32','shape':[1,3],'parameters':{'binary_data_size':12}},"
             "{'name':'ids','datatype':'INT64','shape':[1,2],'data':[[5,6]]},"
             "{'name':'h','datatype':'FP16','shape':[2],'parameters':{'binary_data_size':4}},"
             "{'name':'m','datatype':'BOOL','shape':[3],'parameters':{'binary_data_size':3}}]}",
             bin, sizeof bin, &req);
    assert_memory_equal(req.inputs[0].data, bin, 12);
    assert_int_equal(((int64_t *)req.inputs[1].data)[1], 6);
    assert_memory_equal(req.inputs[2].data, bin + 12, 4);
    assert_memory_equal(req.inputs[3].data, bin + 16, 3);
    vi_kserve_request_free(&req);
}

/* ==== Requests: rejections ==== */

typedef struct {
    const char *json; /* single-quoted */
    vi_status st;
    const char *frag;
} reject_case;

#define X1(data) "{'inputs':[{'name':'x','datatype':'FP32','shape':[2,3],'data':" data "}]}"
#define T1(dt, shape, data)                                                                        \
    "{'inputs':[{'name':'x','datatype':'" dt "','shape':" shape ",'data':" data "}]}"

static const reject_case REJECTS[] = {
    {"not json", VI_ERR_INVALID, "invalid request JSON: "},
    {"{'inputs':[}", VI_ERR_INVALID, "invalid request JSON: "},
    {"[1]", VI_ERR_INVALID, "the request must be a JSON object"},
    {"{}", VI_ERR_INVALID, "inputs must be a non-empty array"},
    {"{'inputs':[]}", VI_ERR_INVALID, "inputs must be a non-empty array"},
    {"{'inputs':{}}", VI_ERR_INVALID, "inputs must be a non-empty array"},
    {"{'inputs':[3]}", VI_ERR_INVALID, "inputs[0] must be an object"},
    {"{'inputs':[{'datatype':'FP32','shape':[1],'data':[1]}]}", VI_ERR_INVALID,
     "inputs[0].name must be a string"},
    {"{'inputs':[{'name':'','datatype':'FP32','shape':[1],'data':[1]}]}", VI_ERR_INVALID,
     "inputs[0].name must not be empty"},
    {"{'inputs':[{'name':'x','shape':[1],'data':[1]}]}", VI_ERR_INVALID,
     "inputs[0].datatype must be a string"},
    {T1("FP8", "[1]", "[1]"), VI_ERR_INVALID, "inputs[0].datatype 'FP8' is unknown"},
    {T1("BYTES", "[1]", "['a']"), VI_ERR_UNSUPPORTED,
     "inputs[0].datatype 'BYTES' is not supported"},
    {T1("UINT32", "[1]", "[1]"), VI_ERR_UNSUPPORTED, "'UINT32' is not supported"},
    {"{'inputs':[{'name':'x','datatype':'FP32','data':[1]}]}", VI_ERR_INVALID,
     "inputs[0].shape must be an array of non-negative integers"},
    {T1("FP32", "[-1,3]", "[1,2,3]"), VI_ERR_INVALID,
     "inputs[0].shape[0] must be a non-negative integer (got -1)"},
    {T1("FP32", "[1,'3']", "[1,2,3]"), VI_ERR_INVALID,
     "inputs[0].shape[1] must be a non-negative integer (got the string \"3\")"},
    {T1("FP32", "[1.5]", "[1]"), VI_ERR_INVALID,
     "inputs[0].shape[0] must be a non-negative integer (got 1.5)"},
    {T1("FP32", "[1,1,1,1,1,1,1,1,1]", "[1]"), VI_ERR_LIMIT,
     "inputs[0].shape has 9 dimensions (at most 8)"},
    {T1("FP32", "[4294967296,4294967296,4294967296]", "[1]"), VI_ERR_LIMIT,
     "inputs[0].shape: element count overflows 64 bits"},
    {T1("FP32", "[4096,4097]", "[1]"), VI_ERR_LIMIT,
     "inputs[0] has 16781312 elements (limit 16777216)"},
    {X1("[1,2,3,4,5]"), VI_ERR_INVALID, "inputs[0].data has 5 elements but shape [2, 3] has 6"},
    {X1("{'a':1}"), VI_ERR_INVALID, "inputs[0].data must be an array"},
    {T1("FP64", "[4096,4096]", "[1]"), VI_ERR_INVALID,
     "inputs[0].data cannot hold the 16777216 elements of shape [4096, 4096] (the JSON has 74 "
     "bytes)"},
    {X1("[[1,2,3],[4,5]]"), VI_ERR_INVALID,
     "inputs[0].data[1] has 2 elements but dimension 1 of shape [2, 3] is 3"},
    {X1("[[1,2,3]]"), VI_ERR_INVALID,
     "inputs[0].data has 1 elements but dimension 0 of shape [2, 3] is 2"},
    {X1("[[1,2,[3]],[4,5,6]]"), VI_ERR_INVALID,
     "inputs[0].data[0][2] must be a number (got an array)"},
    {X1("[[1,2,3],7]"), VI_ERR_INVALID,
     "inputs[0].data[1] must be an array of 3 elements for shape [2, 3] (got 7)"},
    {X1("[1,2,3,4,5,[6]]"), VI_ERR_INVALID, "inputs[0].data[5] must be a number (got an array)"},
    {X1("[1,'2',3,4,5,6]"), VI_ERR_INVALID,
     "inputs[0].data[1] must be a number (got the string \"2\")"},
    {X1("[1,2,3,4,5,null]"), VI_ERR_INVALID, "inputs[0].data[5] must be a number (got null)"},
    {X1("[1,2,3,4,true,6]"), VI_ERR_INVALID, "inputs[0].data[4] must be a number (got true)"},
    {X1("[1,2,3,4,5,'NaN']"), VI_ERR_INVALID,
     "inputs[0].data[5] must be a number (non-finite values can only be sent as binary data) "
     "(got the string \"NaN\")"},
    {X1("[1,2,3,4,5,NaN]"), VI_ERR_INVALID,
     "invalid request JSON: 'NaN' is not a JSON number (line 1, column 74)"},
    {X1("[1,2,3,4,5,Infinity]"), VI_ERR_INVALID, "'Infinity' is not a JSON number"},
    {X1("[1,2,3,4,5,-Infinity]"), VI_ERR_INVALID, "'Infinity' is not a JSON number"},
    {X1("[1,2,3,4,5,-inf]"), VI_ERR_INVALID, "'inf' is not a JSON number"},
    {X1("[1,2,3,4,5,1e39]"), VI_ERR_INVALID,
     "inputs[0].data[5] must be a number within the FP32 range (|x| < 3.4028235677973366e38) (got "
     "1e+39)"},
    {X1("[1,2,3,4,5,1e400]"), VI_ERR_INVALID, "invalid request JSON: real number overflow"},
    {X1("[1,2,3,4,5,3.4028235677973366e38]"), VI_ERR_INVALID,
     "inputs[0].data[5] must be a number within"},
    {X1("[[1,2,3],[4,5,-3.5e38]]"), VI_ERR_INVALID, "inputs[0].data[1][2] must be a number within"},
    {T1("INT32", "[2]", "[1,1.5]"), VI_ERR_INVALID,
     "inputs[0].data[1] must be an integer in -2147483648..2147483647 for INT32 (got 1.5)"},
    {T1("INT32", "[1]", "[2147483648]"), VI_ERR_INVALID, "for INT32 (got 2147483648)"},
    {T1("INT8", "[2]", "[1,128]"), VI_ERR_INVALID,
     "inputs[0].data[1] must be an integer in -128..127 for INT8 (got 128)"},
    {T1("UINT8", "[1]", "[-1]"), VI_ERR_INVALID, "an integer in 0..255 for UINT8 (got -1)"},
    {T1("INT16", "[1]", "[40000]"), VI_ERR_INVALID, "for INT16 (got 40000)"},
    {T1("INT64", "[1]", "[true]"), VI_ERR_INVALID,
     "inputs[0].data[0] must be an integer for INT64 (got true)"},
    {T1("INT64", "[1]", "[1.0]"), VI_ERR_INVALID, "must be an integer for INT64 (got 1.0)"},
    {T1("INT64", "[1]", "[9223372036854775808]"), VI_ERR_INVALID,
     "invalid request JSON: too big integer"},
    {T1("BOOL", "[1]", "[1]"), VI_ERR_INVALID,
     "inputs[0].data[0] must be true or false for BOOL (got 1)"},
    {T1("FP16", "[1]", "[1]"), VI_ERR_UNSUPPORTED,
     "inputs[0] is FP16: 16-bit float data must be sent as binary data"},
    {T1("BF16", "[0]", "[]"), VI_ERR_UNSUPPORTED, "inputs[0] is BF16: 16-bit float data"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1],"
     "'parameters':{'binary_data_size':4}}]}",
     VI_ERR_INVALID, "inputs[0] has both data and parameters.binary_data_size"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1]}]}", VI_ERR_INVALID,
     "inputs[0] has no data (give \"data\" or parameters.binary_data_size)"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'parameters':3}]}", VI_ERR_INVALID,
     "inputs[0].parameters must be an object"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]},"
     "{'name':'y','datatype':'FP32','shape':[1],'data':[1]},"
     "{'name':'x','datatype':'FP32','shape':[1],'data':[2]}]}",
     VI_ERR_INVALID, "duplicate input name 'x' (inputs[0] and inputs[2])"},
    {"{'inputs':[{'name':'x','name':'y','datatype':'FP32','shape':[1],'data':[1]}]}",
     VI_ERR_INVALID, "duplicate object key"},
    {"{'id':5,'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}]}", VI_ERR_INVALID,
     "id must be a string"},
    {"{'parameters':[],'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}]}",
     VI_ERR_INVALID, "parameters must be an object"},
    {"{'parameters':{'binary_data_output':'yes'},"
     "'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}]}",
     VI_ERR_INVALID, "parameters.binary_data_output must be true or false"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],'outputs':[]}",
     VI_ERR_INVALID, "outputs must be a non-empty array (leave it out to get every output)"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],'outputs':[7]}",
     VI_ERR_INVALID, "outputs[0] must be an object"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],'outputs':[{'name':1}]}",
     VI_ERR_INVALID, "outputs[0].name must be a non-empty string"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
     "'outputs':[{'name':'a'},{'name':'b','parameters':{'binary_data':1}}]}",
     VI_ERR_INVALID, "outputs[1].parameters.binary_data must be true or false"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
     "'outputs':[{'name':'a','parameters':'x'}]}",
     VI_ERR_INVALID, "outputs[0].parameters must be an object"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
     "'outputs':[{'name':'a','parameters':{'classification':3}}]}",
     VI_ERR_UNSUPPORTED, "outputs[0].parameters.classification is not supported"},
    {"{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
     "'outputs':[{'name':'a'},{'name':'a'}]}",
     VI_ERR_INVALID, "duplicate output name 'a' (outputs[0] and outputs[1])"},
};

static void test_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof REJECTS / sizeof REJECTS[0]; i++)
        expect_fail(REJECTS[i].json, NULL, 0, NULL, REJECTS[i].st, REJECTS[i].frag);
}

static void test_long_names(void **state)
{
    (void)state;
    char name[VI_NAME_MAX + 1];
    memset(name, 'n', VI_NAME_MAX);
    name[VI_NAME_MAX] = '\0'; /* 128 bytes: one too many */
    char json[1024];
    snprintf(json, sizeof json,
             "{'inputs':[{'name':'%s','datatype':'FP32','shape':[1],'data':[1]}]}", name);
    expect_fail(json, NULL, 0, NULL, VI_ERR_LIMIT,
                "inputs[0].name is 128 bytes long (at most 127)");
    snprintf(json, sizeof json,
             "{'inputs':[{'name':'x','datatype':'FP32','shape':[1],'data':[1]}],"
             "'outputs':[{'name':'%s'}]}",
             name);
    expect_fail(json, NULL, 0, NULL, VI_ERR_LIMIT,
                "outputs[0].name is 128 bytes long (at most 127)");
    name[VI_NAME_MAX - 1] = '\0'; /* 127 bytes: accepted */
    snprintf(json, sizeof json,
             "{'inputs':[{'name':'%s','datatype':'FP32','shape':[1],'data':[1]}]}", name);
    vi_kserve_request req;
    parse_ok(json, NULL, 0, &req);
    assert_int_equal(strlen(req.inputs[0].name), VI_NAME_MAX - 1);
    vi_kserve_request_free(&req);
}

static void test_binary_rejections(void **state)
{
    (void)state;
    uint8_t bin[32] = {0};
    const char *x24 = "{'inputs':[{'name':'x','datatype':'FP32','shape':[2,3],"
                      "'parameters':{'binary_data_size':24}}]}";
    expect_fail(x24, bin, 20, NULL, VI_ERR_INVALID,
                "inputs[0] needs bytes 0..24 of the binary data but only 20 bytes were sent");
    expect_fail(
        x24, bin, 28, NULL, VI_ERR_INVALID,
        "28 bytes of binary data were sent but the binary tensors take 24 (4 bytes left over)");
    expect_fail("{'inputs':[{'name':'x','datatype':'FP32','shape':[2,3],'data':[1,2,3,4,5,6]}]}",
                bin, 1, NULL, VI_ERR_INVALID, "(1 bytes left over)");
    expect_fail(
        "{'inputs':[{'name':'x','datatype':'FP32','shape':[2,3],"
        "'parameters':{'binary_data_size':20}}]}",
        bin, 20, NULL, VI_ERR_INVALID,
        "inputs[0].parameters.binary_data_size is 20 but shape [2, 3] of FP32 needs 24 bytes");
    expect_fail("{'inputs':[{'name':'x','datatype':'FP32','shape':[1],"
                "'parameters':{'binary_data_size':-4}}]}",
                bin, 4, NULL, VI_ERR_INVALID,
                "inputs[0].parameters.binary_data_size must be a non-negative integer (got -4)");
    expect_fail("{'inputs':[{'name':'x','datatype':'FP32','shape':[1],"
                "'parameters':{'binary_data_size':'4'}}]}",
                bin, 4, NULL, VI_ERR_INVALID, "(got the string \"4\")");
    /* the second binary input runs past the end */
    expect_fail(
        "{'inputs':[{'name':'a','datatype':'INT32','shape':[2],'parameters':{'binary_data_size':8}}"
        ","
        "{'name':'b','datatype':'INT64','shape':[3],'parameters':{'binary_data_size':24}}]}",
        bin, 31, NULL, VI_ERR_INVALID,
        "inputs[1] needs bytes 8..32 of the binary data but only 31 bytes were sent");
    uint8_t b2[3] = {1, 2, 0};
    expect_fail("{'inputs':[{'name':'m','datatype':'BOOL','shape':[3],"
                "'parameters':{'binary_data_size':3}}]}",
                b2, 3, NULL, VI_ERR_INVALID,
                "inputs[0]: binary BOOL element 1 is 2 (must be 0 or 1)");
    expect_fail(x24, NULL, 24, NULL, VI_ERR_INVALID, "binary data of 24 bytes has no buffer");
}

/* Nesting: 1 (request) + 1 (inputs) + 1 (input object) + 8 (data) = 11 levels. */
static void test_limits(void **state)
{
    (void)state;
    const char *deep = "{'inputs':[{'name':'x','datatype':'INT32','shape':[1,1,1,1,1,1,1,1],"
                       "'data':[[[[[[[[5]]]]]]]]}]}";
    vi_kserve_limits lim;
    vi_kserve_limits_default(&lim);
    assert_int_equal(lim.max_depth, 64);
    assert_int_equal(lim.max_elements, 1 << 24);
    assert_int_equal(lim.max_inputs, 64);
    assert_int_equal(lim.max_outputs, 64);
    lim.max_depth = 10;
    expect_fail(deep, NULL, 0, &lim, VI_ERR_LIMIT,
                "request JSON is nested deeper than 10 levels (line 1, column 83)");
    lim.max_depth = 11;
    char *json = q(deep);
    vi_kserve_request req;
    vi_error err = {{0}};
    assert_int_equal(vi_kserve_parse_request(json, strlen(json), NULL, 0, &lim, &req, &err), VI_OK);
    assert_int_equal(*(int32_t *)req.inputs[0].data, 5);
    vi_kserve_request_free(&req);
    free(json);

    /* brackets inside strings do not count; escaped quotes do not end strings */
    lim.max_depth = 4; /* root, inputs, input, shape or data */
    json = q(
        "{'id':'[[[[[[\\'{{{{','inputs':[{'name':'x','datatype':'INT32','shape':[1],'data':[5]}]}");
    assert_int_equal(vi_kserve_parse_request(json, strlen(json), NULL, 0, &lim, &req, &err), VI_OK);
    assert_string_equal(req.id, "[[[[[[\"{{{{");
    vi_kserve_request_free(&req);
    free(json);

    /* a hostile depth never reaches jansson's recursion */
    size_t n = 100000;
    char *bomb = malloc(2 * n + 1);
    memset(bomb, '[', n);
    memset(bomb + n, ']', n);
    bomb[2 * n] = '\0';
    assert_int_equal(vi_kserve_parse_request(bomb, 2 * n, NULL, 0, NULL, &req, &err), VI_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "nested deeper than 64 levels"));
    free(bomb);

    vi_kserve_limits_default(&lim);
    lim.max_elements = 5;
    expect_fail("{'inputs':[{'name':'x','datatype':'FP32','shape':[2,3],'data':[1,2,3,4,5,6]}]}",
                NULL, 0, &lim, VI_ERR_LIMIT, "inputs[0] has 6 elements (limit 5)");
    vi_kserve_limits_default(&lim);
    lim.max_inputs = 2;
    expect_fail("{'inputs':[{'name':'a','datatype':'FP32','shape':[1],'data':[1]},"
                "{'name':'b','datatype':'FP32','shape':[1],'data':[1]},"
                "{'name':'c','datatype':'FP32','shape':[1],'data':[1]}]}",
                NULL, 0, &lim, VI_ERR_LIMIT, "the request has 3 inputs (limit 2)");
    vi_kserve_limits_default(&lim);
    lim.max_outputs = 1;
    expect_fail("{'inputs':[{'name':'a','datatype':'FP32','shape':[1],'data':[1]}],"
                "'outputs':[{'name':'p'},{'name':'q'}]}",
                NULL, 0, &lim, VI_ERR_LIMIT, "the request asks for 2 outputs (limit 1)");
}

/* ==== Binding ==== */

typedef struct {
    vi_graph g;
    vi_value v[4];
    int ins[2], outs[2];
} bind_graph;

/* inputs x FP32 [-1, 4], ids INT64 [-1, 3]; outputs y FP32 [-1, 2], label INT64 [-1]. */
static void make_graph(bind_graph *b)
{
    memset(b, 0, sizeof *b);
    static const struct {
        const char *name;
        vi_value_kind kind;
        vi_dtype dt;
        int ndim;
        int64_t d1;
    } V[4] = {{"x", VI_VALUE_INPUT, VI_DT_FP32, 2, 4},
              {"ids", VI_VALUE_INPUT, VI_DT_INT64, 2, 3},
              {"y", VI_VALUE_INTERMEDIATE, VI_DT_FP32, 2, 2},
              {"label", VI_VALUE_INTERMEDIATE, VI_DT_INT64, 1, 0}};
    for (int i = 0; i < 4; i++) {
        snprintf(b->v[i].name, sizeof b->v[i].name, "%s", V[i].name);
        b->v[i].kind = V[i].kind;
        b->v[i].dtype = V[i].dt;
        b->v[i].ndim = V[i].ndim;
        b->v[i].shape[0] = -1;
        b->v[i].shape[1] = V[i].d1;
    }
    b->ins[0] = 0, b->ins[1] = 1, b->outs[0] = 2, b->outs[1] = 3;
    snprintf(b->g.name, sizeof b->g.name, "m");
    b->g.values = b->v;
    b->g.n_values = 4;
    b->g.inputs = b->ins;
    b->g.n_inputs = 2;
    b->g.outputs = b->outs;
    b->g.n_outputs = 2;
    b->g.max_batch_size = 8;
}

static vi_status bind_json(const char *json_q, vi_error *err, const vi_tensor **ord, int64_t *rows,
                           vi_kserve_request *req)
{
    bind_graph b;
    make_graph(&b);
    parse_ok(json_q, NULL, 0, req);
    return vi_kserve_bind(req, &b.g, ord, rows, err);
}

#define XIN(rows, data) "{'name':'x','datatype':'FP32','shape':[" rows ",4],'data':" data "}"
#define IDS(rows, data) "{'name':'ids','datatype':'INT64','shape':[" rows ",3],'data':" data "}"

static void expect_bind_fail(const char *json_q, const char *frag)
{
    vi_kserve_request req;
    vi_error err = {{0}};
    const vi_tensor *ord[2] = {NULL, NULL};
    int64_t rows = -7;
    vi_status st = bind_json(json_q, &err, ord, &rows, &req);
    if (st != VI_ERR_INVALID || !strstr(err.msg, frag)) {
        print_error("bind: got %d '%s', wanted '%s'\n", st, err.msg, frag);
        fail();
    }
    assert_int_equal(rows, -7);
    vi_kserve_request_free(&req);
}

static void test_bind(void **state)
{
    (void)state;
    vi_kserve_request req;
    vi_error err = {{0}};
    const vi_tensor *ord[2] = {NULL, NULL};
    int64_t rows = 0;
    assert_int_equal(bind_json("{'inputs':[" IDS("2", "[1,2,3,4,5,6]") "," XIN(
                                   "2", "[1,2,3,4,5,6,7,8]") "],'outputs':[{'name':'label'}]}",
                               &err, ord, &rows, &req),
                     VI_OK);
    assert_int_equal(rows, 2);
    assert_ptr_equal(ord[0], &req.inputs[1]); /* graph order, not request order */
    assert_ptr_equal(ord[1], &req.inputs[0]);
    vi_kserve_request_free(&req);

    expect_bind_fail("{'inputs':[" XIN("1", "[1,2,3,4]") "]}", "missing input 'ids'");
    expect_bind_fail("{'inputs':[" XIN("1", "[1,2,3,4]") "," IDS(
                         "1", "[1,2,3]") ",{'name':'z','datatype':'FP32','shape':[1],'data':[1]}]}",
                     "unknown input 'z' (model inputs: x, ids)");
    expect_bind_fail(
        "{'inputs':[{'name':'x','datatype':'INT32','shape':[1,4],'data':[1,2,3,4]}," IDS(
            "1", "[1,2,3]") "]}",
        "input 'x' has datatype INT32 but the model expects FP32");
    expect_bind_fail(
        "{'inputs':[{'name':'x','datatype':'FP32','shape':[1,2,2],'data':[1,2,3,4]}," IDS(
            "1", "[1,2,3]") "]}",
        "input 'x' has shape [1, 2, 2] but the model expects [-1, 4]");
    expect_bind_fail("{'inputs':[{'name':'x','datatype':'FP32','shape':[4],'data':[1,2,3,4]}," IDS(
                         "1", "[1,2,3]") "]}",
                     "input 'x' has shape [4] but the model expects [-1, 4]");
    expect_bind_fail(
        "{'inputs':[{'name':'x','datatype':'FP32','shape':[1,5],'data':[1,2,3,4,5]}," IDS(
            "1", "[1,2,3]") "]}",
        "input 'x' has shape [1, 5] but the model expects [-1, 4]");
    expect_bind_fail("{'inputs':[" XIN("0", "[]") "," IDS("0", "[]") "]}",
                     "input 'x' has batch size 0 (the first dimension must be at least 1)");
    expect_bind_fail("{'inputs':[" XIN("1", "[1,2,3,4]") "," IDS("2", "[1,2,3,4,5,6]") "]}",
                     "input 'ids' has batch size 2 but input 'x' has 1");
    expect_bind_fail(
        "{'inputs':[" XIN("9",
                          "[1,2,3,4,1,2,3,4,1,2,3,4,1,2,3,4,1,2,3,4,1,2,3,4,"
                          "1,2,3,4,1,2,3,4,1,2,3,4]") "," IDS("9", "[1,2,3,1,2,3,1,2,3,1,2,3,1,2,3,"
                                                                   "1,2,3,1,2,3,1,2,3,1,2,3]") "]}",
        "batch size 9 exceeds the model's max_batch_size 8");
    expect_bind_fail("{'inputs':[" XIN("1", "[1,2,3,4]") "," IDS(
                         "1", "[1,2,3]") "],'outputs':[{'name':'y'},{'name':'logits'}]}",
                     "unknown output 'logits' (model outputs: y, label)");
}

/* ==== Number text ==== */

/* The definition: the smallest p whose "%.<p>g" reads back to the same bits. */
static int slow_shortest_f32(float f, char *buf)
{
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, VI_FMT_NUM_MAX, "%.*g", p, (double)f);
        float back = (float)strtod(buf, NULL);
        if (f32_bits(back) == f32_bits(f))
            return p;
    }
    return -1;
}

static void test_fmt_known_values(void **state)
{
    (void)state;
    static const struct {
        uint32_t bits;
        const char *txt;
    } K[] = {
        {0x00000000u, "0"},        {0x80000000u, "-0.0"},          {0x3f800000u, "1"},
        {0x3dcccccdu, "0.1"},      {0x3e99999au, "0.3"},           {0x3eaaaaabu, "0.33333334"},
        {0x00000001u, "1e-45"},    {0x00800000u, "1.1754944e-38"}, {0x7f7fffffu, "3.4028235e+38"},
        {0x4b800000u, "16777216"}, {0x47f12065u, "123456.79"},     {0x501502f9u, "1e+10"},
        {0x7f800000u, "Infinity"}, {0xff800000u, "-Infinity"},     {0x7fc00000u, "NaN"},
        {0xffc00001u, "NaN"},
    };
    char buf[VI_FMT_NUM_MAX];
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        int n = vi_fmt_f32(bits_f32(K[i].bits), buf);
        assert_string_equal(buf, K[i].txt);
        assert_int_equal(n, (int)strlen(K[i].txt));
    }
    assert_int_equal(vi_fmt_f64(0.1, buf), 3);
    assert_string_equal(buf, "0.1");
    vi_fmt_f64(DBL_MAX, buf);
    assert_string_equal(buf, "1.7976931348623157e+308");
    vi_fmt_f64(4.9406564584124654e-324, buf);
    assert_string_equal(buf, "5e-324");
    vi_fmt_f64(-INFINITY, buf);
    assert_string_equal(buf, "-Infinity");
}

/* The binary search of vi_fmt_f32 against the plain definition: every power
 * of two, and random bit patterns. */
static void test_fmt_is_shortest(void **state)
{
    (void)state;
    char a[VI_FMT_NUM_MAX], b[VI_FMT_NUM_MAX];
    for (int e = 0; e < 255; e++) {
        for (int sgn = 0; sgn < 2; sgn++) {
            float f = bits_f32(((uint32_t)sgn << 31) | ((uint32_t)e << 23));
            if (sgn && e == 0)
                continue; /* -0 is "-0.0" by design */
            vi_fmt_f32(f, a);
            slow_shortest_f32(f, b);
            assert_string_equal(a, b);
        }
    }
    vt_rng rng = {42};
    for (int i = 0; i < 200000; i++) {
        float f = bits_f32((uint32_t)vt_next(&rng));
        if (isnan(f) || isinf(f) || f32_bits(f) == 0x80000000u)
            continue;
        vi_fmt_f32(f, a);
        slow_shortest_f32(f, b);
        assert_string_equal(a, b);
    }
}

static void test_string_buffer(void **state)
{
    (void)state;
    vi_sb sb;
    vi_sb_init(&sb);
    vi_sb_put_i64(&sb, INT64_MIN);
    vi_sb_putc(&sb, ',');
    vi_sb_put_i64(&sb, 0);
    vi_sb_putc(&sb, ',');
    vi_sb_put_u64(&sb, UINT64_MAX);
    vi_sb_putc(&sb, ',');
    vi_sb_put_f32(&sb, NAN);
    vi_sb_putc(&sb, ',');
    vi_sb_put_f64(&sb, -0.0);
    for (int i = 0; i < 1000; i++)
        vi_sb_puts(&sb, "");
    size_t len = 0;
    char *s = vi_sb_take(&sb, &len);
    assert_string_equal(s, "-9223372036854775808,0,18446744073709551615,\"NaN\",-0.0");
    assert_int_equal(len, strlen(s));
    assert_null(sb.buf);
    free(s);
    vi_sb_free(&sb);
    vi_sb_free(NULL);
}

/* ==== Responses ==== */

static void test_response_exact_text(void **state)
{
    (void)state;
    float p[3] = {1.5f, -0.0f, NAN};
    int64_t lab[2] = {INT64_MIN, 7};
    uint8_t flags[2] = {1, 0};
    vi_tensor outs[3] = {
        {.name = "p", .dtype = VI_DT_FP32, .ndim = 2, .shape = {1, 3}, .data = p},
        {.name = "la\"bel", .dtype = VI_DT_INT64, .ndim = 1, .shape = {2}, .data = lab},
        {.name = "ok", .dtype = VI_DT_BOOL, .ndim = 1, .shape = {2}, .data = flags},
    };
    json_t *receipt = json_pack("{s:i,s:s}", "a", 1, "b", "x");
    json_t *params = json_pack("{s:b}", "sealed", 1);
    vi_kserve_response_spec spec = {.model_name = "m",
                                    .model_version = "1",
                                    .id = "r1",
                                    .outputs = outs,
                                    .n_outputs = 3,
                                    .receipt = receipt,
                                    .parameters = params};
    char *json = NULL;
    size_t len = 0;
    uint8_t *bin = (uint8_t *)1;
    size_t blen = 9;
    vi_error err = {{0}};
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err), VI_OK);
    assert_string_equal(
        json, "{\"model_name\":\"m\",\"model_version\":\"1\",\"id\":\"r1\",\"parameters\":{"
              "\"sealed\":true},"
              "\"outputs\":[{\"name\":\"p\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1.5,-0."
              "0,\"NaN\"]},"
              "{\"name\":\"la\\\"bel\",\"datatype\":\"INT64\",\"shape\":[2],\"data\":[-"
              "9223372036854775808,7]},"
              "{\"name\":\"ok\",\"datatype\":\"BOOL\",\"shape\":[2],\"data\":[true,false]}],"
              "\"receipt\":{\"a\":1,\"b\":\"x\"}}");
    assert_int_equal(len, strlen(json));
    assert_null(bin);
    assert_int_equal(blen, 0);
    free(json);

    /* without id, version, parameters and receipt */
    vi_kserve_response_spec bare = {.model_name = "m", .outputs = outs + 2, .n_outputs = 1};
    assert_int_equal(vi_kserve_build_response(&bare, &json, &len, &bin, &blen, &err), VI_OK);
    assert_string_equal(json, "{\"model_name\":\"m\",\"outputs\":[{\"name\":\"ok\",\"datatype\":"
                              "\"BOOL\",\"shape\":[2],\"data\":[true,false]}]}");
    free(json);
    json_decref(receipt);
    json_decref(params);
}

static void build_parse(const vi_kserve_response_spec *spec, vi_kserve_response *resp)
{
    char *json = NULL;
    size_t len = 0, blen = 0;
    uint8_t *bin = NULL;
    vi_error err = {{0}};
    vi_status st = vi_kserve_build_response(spec, &json, &len, &bin, &blen, &err);
    if (st != VI_OK)
        print_error("build: %s\n", err.msg);
    assert_int_equal(st, VI_OK);
    st = vi_kserve_parse_response(json, len, bin, blen, resp, &err);
    if (st != VI_OK)
        print_error("parse: %s\n", err.msg);
    assert_int_equal(st, VI_OK);
    free(json);
    free(bin);
}

static float canonical(float f)
{
    return isnan(f) ? NAN : f; /* JSON keeps "NaN", not its sign or payload */
}

static void test_response_float_round_trip(void **state)
{
    (void)state;
    enum { NF = 60000, ND = 20000 };
    float *f = malloc(NF * sizeof *f);
    double *d = malloc(ND * sizeof *d);
    vt_rng rng = {7};
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u,
                                       0x007fffffu, 0x00800000u, 0x7f7fffffu, 0xff7fffffu,
                                       0x7f800000u, 0xff800000u, 0x7fc00000u, 0x3f800001u,
                                       0x33800000u, 0x4b7fffffu, 0x4b800001u, 0x0000ffffu};
    int ns = (int)(sizeof special / sizeof special[0]);
    for (int i = 0; i < NF; i++) {
        uint32_t u = i < ns ? special[i] : (uint32_t)vt_next(&rng);
        if (i >= ns && i % 4 == 1)
            u &= 0x807fffffu; /* many subnormals */
        else if (i >= ns && i % 4 == 2)
            u = (u & 0x80ffffffu) | (i % 2 ? 0x3f000000u : 0x40000000u); /* magnitudes near 1 */
        f[i] = canonical(bits_f32(u));
    }
    for (int i = 0; i < ND; i++) {
        uint64_t u = vt_next(&rng);
        if (i % 3 == 1)
            u &= 0x800fffffffffffffull;
        memcpy(&d[i], &u, 8);
        if (isnan(d[i]))
            d[i] = NAN;
    }
    d[0] = -0.0, d[1] = INFINITY, d[2] = DBL_MAX, d[3] = 5e-324;
    vi_tensor outs[2] = {
        {.name = "f", .dtype = VI_DT_FP32, .ndim = 2, .shape = {NF / 4, 4}, .data = f},
        {.name = "d", .dtype = VI_DT_FP64, .ndim = 1, .shape = {ND}, .data = d},
    };
    vi_kserve_response_spec spec = {.model_name = "m", .outputs = outs, .n_outputs = 2};
    vi_kserve_response resp;
    build_parse(&spec, &resp);
    assert_string_equal(resp.model_name, "m");
    assert_null(resp.id);
    assert_null(resp.model_version);
    assert_null(resp.receipt);
    assert_int_equal(resp.n_outputs, 2);
    assert_int_equal(resp.outputs[0].dtype, VI_DT_FP32);
    assert_int_equal(resp.outputs[0].ndim, 2);
    assert_int_equal(resp.outputs[0].shape[0], NF / 4);
    assert_memory_equal(resp.outputs[0].data, f, NF * sizeof *f);
    assert_memory_equal(resp.outputs[1].data, d, ND * sizeof *d);
    vi_kserve_response_free(&resp);
    vi_kserve_response_free(&resp);
    vi_kserve_response_free(NULL);
    free(f);
    free(d);
}

static void test_response_binary_outputs(void **state)
{
    (void)state;
    float p[4] = {0.25f, bits_f32(0xffc12345u), -INFINITY, 1e-40f}; /* binary keeps NaN bits */
    int64_t lab[2] = {3, -1};
    uint16_t h[2] = {0x7e01, 0x3c00};
    int32_t i32[3] = {INT32_MIN, 0, 5};
    vi_tensor outs[4] = {
        {.name = "p", .dtype = VI_DT_FP32, .ndim = 2, .shape = {2, 2}, .data = p},
        {.name = "label", .dtype = VI_DT_INT64, .ndim = 1, .shape = {2}, .data = lab},
        {.name = "h", .dtype = VI_DT_FP16, .ndim = 1, .shape = {2}, .data = h},
        {.name = "i", .dtype = VI_DT_INT32, .ndim = 1, .shape = {3}, .data = i32},
    };
    int binary[4] = {1, 0, 1, 1};
    json_t *receipt = json_pack("{s:s}", "sig", "abc");
    vi_kserve_response_spec spec = {.model_name = "m",
                                    .id = "q",
                                    .outputs = outs,
                                    .n_outputs = 4,
                                    .binary = binary,
                                    .receipt = receipt};
    char *json = NULL;
    size_t len = 0, blen = 0;
    uint8_t *bin = NULL;
    vi_error err = {{0}};
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err), VI_OK);
    assert_non_null(strstr(json, "{\"name\":\"p\",\"datatype\":\"FP32\",\"shape\":[2,2],"
                                 "\"parameters\":{\"binary_data_size\":16}}"));
    assert_non_null(strstr(json, "\"data\":[3,-1]"));
    assert_non_null(strstr(json, "{\"name\":\"h\",\"datatype\":\"FP16\",\"shape\":[2],"
                                 "\"parameters\":{\"binary_data_size\":4}}"));
    assert_int_equal(blen, 16 + 4 + 12);
    assert_memory_equal(bin, p, 16);
    assert_memory_equal(bin + 16, h, 4);
    assert_memory_equal(bin + 20, i32, 12);

    vi_kserve_response resp;
    assert_int_equal(vi_kserve_parse_response(json, len, bin, blen, &resp, &err), VI_OK);
    assert_string_equal(resp.id, "q");
    assert_memory_equal(resp.outputs[0].data, p, 16);
    assert_memory_equal(resp.outputs[1].data, lab, 16);
    assert_memory_equal(resp.outputs[2].data, h, 4);
    assert_memory_equal(resp.outputs[3].data, i32, 12);
    assert_string_equal(json_string_value(json_object_get(resp.receipt, "sig")), "abc");
    vi_kserve_response_free(&resp);

    /* the same JSON with the binary part cut or padded */
    assert_int_equal(vi_kserve_parse_response(json, len, bin, blen - 1, &resp, &err),
                     VI_ERR_INVALID);
    assert_non_null(
        strstr(err.msg, "outputs[3] needs bytes 20..32 of the binary data but only 31"));
    uint8_t *more = calloc(blen + 2, 1);
    memcpy(more, bin, blen);
    assert_int_equal(vi_kserve_parse_response(json, len, more, blen + 2, &resp, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "(2 bytes left over)"));
    free(more);
    free(json);
    free(bin);
    json_decref(receipt);
}

static void test_response_build_errors(void **state)
{
    (void)state;
    uint16_t h[1] = {0x3c00};
    float f[1] = {1};
    vi_tensor half = {.name = "h", .dtype = VI_DT_BF16, .ndim = 1, .shape = {1}, .data = h};
    vi_kserve_response_spec spec = {.model_name = "m", .outputs = &half, .n_outputs = 1};
    char *json = (char *)1;
    size_t len = 1, blen = 1;
    uint8_t *bin = (uint8_t *)1;
    vi_error err = {{0}};
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err),
                     VI_ERR_UNSUPPORTED);
    assert_string_equal(err.msg,
                        "output 'h' is BF16: 16-bit float data can only be sent as binary data");
    assert_null(json);
    assert_null(bin);
    assert_int_equal(len, 0);

    vi_tensor bad = {.name = "b", .dtype = VI_DT_INVALID, .ndim = 1, .shape = {1}, .data = f};
    spec.outputs = &bad;
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "output 0 ('b') has an invalid datatype"));

    vi_tensor neg = {.name = "n", .dtype = VI_DT_FP32, .ndim = 1, .shape = {-2}, .data = f};
    spec.outputs = &neg;
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "output 'n': dimension 0 is negative (-2)"));

    vi_tensor nodata = {.name = "z", .dtype = VI_DT_FP32, .ndim = 1, .shape = {2}, .data = NULL};
    spec.outputs = &nodata;
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "output 'z' has no data"));

    vi_tensor ok = {.name = "o", .dtype = VI_DT_FP32, .ndim = 1, .shape = {1}, .data = f};
    spec.outputs = &ok;
    spec.model_name = NULL;
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "needs a model name"));
    spec.model_name = "bad\xff";
    assert_int_equal(vi_kserve_build_response(&spec, &json, &len, &bin, &blen, &err),
                     VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "model_name is not valid UTF-8"));
    assert_null(json);
}

typedef struct {
    const char *json; /* single-quoted */
    const char *frag;
} resp_reject;

#define R1(out) "{'model_name':'m','outputs':[" out "]}"

static const resp_reject RESP_REJECTS[] = {
    {"", "invalid response JSON"},
    {"{'model_name':'m','outputs':[]", "invalid response JSON"},
    {"[]", "the response must be a JSON object"},
    {"{'outputs':[]}", "model_name must be a string"},
    {"{'model_name':3,'outputs':[]}", "model_name must be a string"},
    {"{'model_name':'m'}", "outputs must be an array"},
    {"{'model_name':'m','id':[],'outputs':[]}", "id must be a string"},
    {"{'model_name':'m','model_version':1,'outputs':[]}", "model_version must be a string"},
    {"{'model_name':'m','receipt':'x','outputs':[]}", "receipt must be an object"},
    {"{'model_name':'m','parameters':1,'outputs':[]}", "parameters must be an object"},
    {R1("{'name':'p','datatype':'FP32','shape':[2],'data':[1]}"),
     "outputs[0].data has 1 elements but shape [2] has 2"},
    {R1("{'name':'p','datatype':'FP32','shape':[1],'data':['nan']}"),
     "outputs[0].data[0] must be a number (got the string \"nan\")"},
    {R1("{'name':'p','datatype':'FP32','shape':[1],'data':[NaN]}"), "'NaN' is not a JSON number"},
    {R1("{'name':'p','datatype':'INT64','shape':[1],'data':['NaN']}"),
     "outputs[0].data[0] must be an integer for INT64 (got the string \"NaN\")"},
    {R1("{'name':'p','datatype':'FP32','shape':[1],'data':[1]},"
        "{'name':'p','datatype':'FP32','shape':[1],'data':[2]}"),
     "duplicate output name 'p' (outputs[0] and outputs[1])"},
    {R1("{'name':'p','datatype':'FP32','shape':[1000000,1000000],'data':[]}"),
     "outputs[0].data cannot hold the 1000000000000 elements of shape [1000000, 1000000] (the "
     "JSON has 97 bytes)"},
    {R1("{'name':'p','datatype':'FP64','shape':[1000000,1000000],"
        "'parameters':{'binary_data_size':8000000000000}}"),
     "outputs[0] needs bytes 0..8000000000000 of the binary data but only 0 bytes were sent"},
    {R1("{'name':'p','datatype':'FP32','shape':[1],'parameters':{'binary_data_size':4}}"),
     "outputs[0] needs bytes 0..4 of the binary data but only 0 bytes were sent"},
    {R1("{'name':'p','datatype':'FP16','shape':[1],'data':[1]}"),
     "outputs[0] is FP16: 16-bit float data must be sent as binary data"},
};

static void test_response_parse_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof RESP_REJECTS / sizeof RESP_REJECTS[0]; i++) {
        char *json = q(RESP_REJECTS[i].json);
        vi_kserve_response resp;
        vi_error err = {{0}};
        vi_status st = vi_kserve_parse_response(json, strlen(json), NULL, 0, &resp, &err);
        if (st == VI_OK || !strstr(err.msg, RESP_REJECTS[i].frag)) {
            print_error("response %s\n  got %d '%s'\n  wanted '%s'\n", json, st, err.msg,
                        RESP_REJECTS[i].frag);
            fail();
        }
        assert_null(resp.model_name);
        assert_null(resp.outputs);
        free(json);
    }
    /* the non-finite strings are accepted for FP32 and FP64 */
    char *json =
        q(R1("{'name':'p','datatype':'FP32','shape':[3],'data':['NaN','Infinity','-Infinity']},"
             "{'name':'d','datatype':'FP64','shape':[1],'data':['-Infinity']}"));
    vi_kserve_response resp;
    vi_error err = {{0}};
    assert_int_equal(vi_kserve_parse_response(json, strlen(json), NULL, 0, &resp, &err), VI_OK);
    const float *p = resp.outputs[0].data;
    assert_int_equal(f32_bits(p[0]), 0x7fc00000u);
    assert_int_equal(f32_bits(p[1]), 0x7f800000u);
    assert_int_equal(f32_bits(p[2]), 0xff800000u);
    assert_true(isinf(*(double *)resp.outputs[1].data) && *(double *)resp.outputs[1].data < 0);
    vi_kserve_response_free(&resp);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_fp32_exact_bytes),
        cmocka_unit_test(test_nested_equals_flat),
        cmocka_unit_test(test_fp32_goes_through_binary64),
        cmocka_unit_test(test_integer_bool_fp64_types),
        cmocka_unit_test(test_scalar_and_empty_shapes),
        cmocka_unit_test(test_outputs_and_parameters),
        cmocka_unit_test(test_binary_inputs),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_binary_rejections),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_fmt_known_values),
        cmocka_unit_test(test_fmt_is_shortest),
        cmocka_unit_test(test_string_buffer),
        cmocka_unit_test(test_response_exact_text),
        cmocka_unit_test(test_response_float_round_trip),
        cmocka_unit_test(test_response_binary_outputs),
        cmocka_unit_test(test_response_build_errors),
        cmocka_unit_test(test_response_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
