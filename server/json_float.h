/* server/json_float.h — JSON number text to binary, read the way jansson
 * reads it (integer tokens as a long long, the others through strtod), with
 * the digits taken straight from the text and converted by exact fast paths;
 * strtod runs only for what they cannot decide. */
#ifndef VI_JSON_FLOAT_H
#define VI_JSON_FLOAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct vi_json_num {
    int is_int;  /* no fraction and no exponent */
    long long i; /* the integer, when is_int */
    double d;    /* (double)i for an integer, else what strtod gives for the token */
    size_t len;  /* bytes of the token */
} vi_json_num;

/* The binary64 nearest to w * 10^q (round half to even, as strtod rounds),
 * negated when neg, found by Clinger's exact fast path (w <= 2^53, |q| <= 22)
 * or the Eisel-Lemire algorithm (any w, -342 <= q <= 308, normal results);
 * returns 1 with *out set, or 0 with *out untouched when neither can decide
 * (a possible tie, a subnormal or infinite result, q out of the table). */
int vi_dec_to_f64(uint64_t w, int64_t q, int neg, double *out);

/* Reads the JSON number token at the start of s[0..n) (text after it is left
 * alone): an integer token (no '.', no exponent) as strtoll reads it, out->d
 * being its nearest binary64; any other token as strtod reads it, bit for bit.
 * Returns VI_OK; VI_ERR_INVALID when s does not start with a JSON number
 * ("'1.' is not a JSON number: a digit must follow '.'"), when an integer is
 * outside the range of a long long or a real overflows binary64; VI_ERR_NOMEM
 * when a long token cannot be copied for strtod. */
vi_status vi_json_read_number(const char *s, size_t n, vi_json_num *out, vi_error *err);

#endif
