/* core/hex.c — lowercase hex encoding and strict decoding. */
#include "hex.h"

#include <string.h>

static const char HEX_DIGITS[] = "0123456789abcdef";

void vi_hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX_DIGITS[in[i] >> 4];
        out[2 * i + 1] = HEX_DIGITS[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

vi_status vi_hex_decode(const char *hex, uint8_t *out, size_t n, const char *what, vi_error *err)
{
    if (!hex)
        return vi_fail(err, VI_ERR_INVALID, "%s is missing", what);
    size_t len = strlen(hex);
    if (len != 2 * n)
        return vi_fail(err, VI_ERR_INVALID,
                       "%s must be %zu lowercase hex characters (got %zu characters)", what, 2 * n,
                       len);
    for (size_t i = 0; i < len; i++) {
        if (hex_value(hex[i]) < 0)
            return vi_fail(err, VI_ERR_INVALID,
                           "%s must be lowercase hex: character %zu is '%c' (0x%02x)", what, i,
                           (hex[i] >= 0x20 && hex[i] < 0x7f) ? hex[i] : '?',
                           (unsigned)(unsigned char)hex[i]);
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
    return VI_OK;
}
