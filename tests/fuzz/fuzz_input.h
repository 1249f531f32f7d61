/* tests/fuzz/fuzz_input.h — what every fuzz target does with libFuzzer's
 * bytes before parsing them: refuse inputs over FUZZ_MAX_INPUT, and copy
 * them into buffers of exactly their size, so that AddressSanitizer reports
 * a read one byte past the end (libFuzzer's own buffer may be larger). */
#ifndef VI_FUZZ_INPUT_H
#define VI_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT (1u << 20)

/* A copy of data[0..size) (malloc'ed, at least 1 byte); NULL when the input
 * is too large or memory runs out. */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return NULL;
    uint8_t *buf = malloc(size ? size : 1);
    if (buf && size)
        memcpy(buf, data, size);
    return buf;
}

/* Splits the input into a JSON part and a binary part, copied separately.
 * The first byte b says where the JSON ends: 0xff = it is all JSON; 0x00 ..
 * 0x7f = the last b bytes are binary (exact binary_data_size values are easy
 * to reach); 0x80 .. 0xfe = the JSON is (b - 0x80) / 127 of the rest.
 * *bin is NULL when the binary part is empty. Returns 0 when the input is
 * empty, too large, or memory runs out (nothing to free then). */
static inline int fuzz_split(const uint8_t *data, size_t size, char **json, size_t *jlen,
                             uint8_t **bin, size_t *blen)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    size_t rest = size - 1;
    uint8_t b = data[0];
    *jlen = b == 0xff  ? rest
            : b < 0x80 ? (rest > b ? rest - b : 0)
                       : rest * (size_t)(b - 0x80) / 127;
    *blen = rest - *jlen;
    *json = (char *)fuzz_copy(data + 1, *jlen);
    *bin = *blen ? fuzz_copy(data + 1 + *jlen, *blen) : NULL;
    if (!*json || (*blen && !*bin)) {
        free(*json);
        free(*bin);
        return 0;
    }
    return 1;
}

#endif
