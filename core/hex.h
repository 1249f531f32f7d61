/* core/hex.h — lowercase hexadecimal encoding of byte strings (digests, keys,
 * signatures) and its strict inverse. */
#ifndef VI_HEX_H
#define VI_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Writes the 2*n lowercase hex digits of in[0..n) and a NUL into out (2*n+1 bytes). */
void vi_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly 2*n lowercase hex digits into out[0..n). `what` names the
 * value in the error message; fails with VI_ERR_INVALID on a wrong length or
 * any character outside [0-9a-f] (uppercase is refused: the form is canonical). */
vi_status vi_hex_decode(const char *hex, uint8_t *out, size_t n, const char *what, vi_error *err);

#endif
