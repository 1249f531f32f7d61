/* tests/fuzz/fuzz_kserve_request.c — untrusted bytes, split into a JSON
 * part and a binary part, fed to vi_kserve_parse_request (fast route first)
 * and to vi_ks_parse_request_full; aborts when the two answers differ at all. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_input.h"
#include "server/kserve.h"
#include "server/kserve_data.h"

static void differ(const char *what, size_t i)
{
    fprintf(stderr, "fast and full request decoding differ: %s (index %zu)\n", what, i);
    abort();
}

static size_t tensor_bytes(const vi_tensor *t)
{
    return (size_t)vi_tensor_numel(t) * vi_dtype_size(t->dtype);
}

static void compare(const vi_kserve_request *a, const vi_kserve_request *b)
{
    if ((a->id == NULL) != (b->id == NULL) || (a->id && strcmp(a->id, b->id) != 0))
        differ("id", 0);
    if (a->n_inputs != b->n_inputs)
        differ("n_inputs", 0);
    for (int i = 0; i < a->n_inputs; i++) {
        const vi_tensor *x = &a->inputs[i], *y = &b->inputs[i];
        if (strcmp(x->name, y->name) != 0)
            differ("input name", (size_t)i);
        if (x->dtype != y->dtype)
            differ("input dtype", (size_t)i);
        if (x->ndim != y->ndim ||
            memcmp(x->shape, y->shape, (size_t)x->ndim * sizeof x->shape[0]) != 0)
            differ("input shape", (size_t)i);
        size_t n = tensor_bytes(x);
        if ((x->data == NULL) != (y->data == NULL) || (n && memcmp(x->data, y->data, n) != 0))
            differ("input bytes", (size_t)i);
    }
    if (a->n_outputs != b->n_outputs || (a->outputs == NULL) != (b->outputs == NULL))
        differ("n_outputs", 0);
    for (int i = 0; i < a->n_outputs; i++) {
        if (strcmp(a->outputs[i].name, b->outputs[i].name) != 0)
            differ("output name", (size_t)i);
        if (a->outputs[i].binary_data != b->outputs[i].binary_data)
            differ("output binary_data", (size_t)i);
    }
    if (a->binary_data_output != b->binary_data_output)
        differ("binary_data_output", 0);
    if (a->mode != b->mode)
        differ("mode", 0);
    if ((a->parameters == NULL) != (b->parameters == NULL) ||
        (a->parameters && !json_equal(a->parameters, b->parameters)))
        differ("parameters", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json;
    uint8_t *bin;
    size_t jlen, blen;
    if (!fuzz_split(data, size, &json, &jlen, &bin, &blen))
        return 0;

    vi_kserve_limits lim;
    vi_kserve_limits_default(&lim);
    vi_kserve_request a, b;
    vi_error ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    vi_status sa = vi_kserve_parse_request(json, jlen, bin, blen, &lim, &a, &ea);
    vi_status sb = vi_ks_parse_request_full(json, jlen, bin, blen, &lim, &b, &eb);
    if (sa != sb) {
        fprintf(stderr, "status %d vs %d (full: %s)\n", (int)sa, (int)sb, eb.msg);
        differ("status", 0);
    }
    if (strcmp(ea.msg, eb.msg) != 0) {
        fprintf(stderr, "message '%s' vs '%s'\n", ea.msg, eb.msg);
        differ("message", 0);
    }
    if (sa == VI_OK)
        compare(&a, &b);
    if (sa == VI_OK)
        vi_kserve_request_free(&a);
    if (sb == VI_OK)
        vi_kserve_request_free(&b);
    free(json);
    free(bin);
    return 0;
}
