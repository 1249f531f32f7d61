/* tests/fuzz/fuzz_safetensors.c — feeds the input, as a .safetensors file
 * image, to vi_safetensors_parse, then looks every tensor up by name and
 * touches its data; vi_safetensors_close releases the result. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/safetensors.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_copy(data, size);
    if (!buf)
        return 0;
    vi_safetensors st;
    vi_error err;
    if (vi_safetensors_parse(&st, buf, size, &err) == VI_OK) {
        volatile uint8_t sink = 0;
        for (int i = 0; i < st.n_tensors; i++) {
            const vi_st_tensor *t = &st.tensors[i];
            if (vi_safetensors_find(&st, t->name) == NULL)
                abort(); /* every parsed tensor must be found by its name */
            if (t->end > t->begin) {
                const uint8_t *p = t->data;
                sink ^= p[0];
                sink ^= p[t->end - t->begin - 1];
            }
        }
        (void)sink;
        vi_safetensors_close(&st);
    }
    free(buf);
    return 0;
}
