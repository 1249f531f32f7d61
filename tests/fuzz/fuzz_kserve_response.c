/* tests/fuzz/fuzz_kserve_response.c — untrusted bytes, split into a JSON
 * part and a binary part, fed to vi_kserve_parse_response; every parsed
 * response is walked and freed with vi_kserve_response_free. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_input.h"
#include "server/kserve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json;
    uint8_t *bin;
    size_t jlen, blen;
    if (!fuzz_split(data, size, &json, &jlen, &bin, &blen))
        return 0;

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
