/* tests/fuzz/fuzz_kserve_response.c — untrusted bytes, split into a JSON
 * part and a binary part, fed to vi_kserve_parse_response; every parsed
 * response is walked and freed with vi_kserve_response_free. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/kserve.h"

#define MAX_INPUT (1u << 20)

/* First byte b: 0xff = all JSON; 0x00..0x7f = the last b bytes are binary;
 * 0x80..0xfe = JSON takes (b - 0x80) / 127 of the rest. */
static size_t json_part(uint8_t b, size_t rest)
{
    if (b == 0xff)
        return rest;
    if (b < 0x80)
        return rest > b ? rest - b : 0;
    return rest * (size_t)(b - 0x80) / 127;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_INPUT)
        return 0;
    size_t rest = size - 1;
    size_t jlen = json_part(data[0], rest);
    size_t blen = rest - jlen;
    /* separate exact-size copies, so that reading past either part is caught */
    char *json = malloc(jlen ? jlen : 1);
    uint8_t *bin = blen ? malloc(blen) : NULL;
    if (!json || (blen && !bin)) {
        free(json);
        free(bin);
        return 0;
    }
    if (jlen)
        memcpy(json, data + 1, jlen);
    if (blen)
        memcpy(bin, data + 1 + jlen, blen);

    vi_kserve_response resp;
    vi_error err;
    if (vi_kserve_parse_response(json, jlen, bin, blen, &resp, &err) == VI_OK) {
        /* touch every decoded byte, so that a short buffer is reported */
        volatile uint8_t sink = 0;
        for (int i = 0; i < resp.n_outputs; i++) {
            const vi_tensor *t = &resp.outputs[i];
            size_t n = (size_t)vi_tensor_numel(t) * vi_dtype_size(t->dtype);
            for (size_t k = 0; k < n; k++)
                sink ^= ((const uint8_t *)t->data)[k];
        }
        (void)sink;
        vi_kserve_response_free(&resp);
    } else {
        /* the message must be a terminated string */
        if (strlen(err.msg) >= sizeof err.msg)
            abort();
    }
    free(json);
    free(bin);
    return 0;
}
