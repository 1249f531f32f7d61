/* server/json_num.h — JSON text for tensors: a growable string buffer,
 * integer formatting and shortest round-trip decimal formatting of floats.
 *
 * The buffer's errors are sticky: appends after a failed allocation do
 * nothing and `failed` stays set, so a writer checks once at the end. */
#ifndef VI_JSON_NUM_H
#define VI_JSON_NUM_H

#include <stddef.h>
#include <stdint.h>

typedef struct vi_sb {
    char *buf; /* NUL-terminated while len < cap */
    size_t len;
    size_t cap;
    int failed; /* 1 after an allocation failed or a size overflowed */
} vi_sb;

/* Longest text vi_fmt_f32 / vi_fmt_f64 write, including the NUL. */
#define VI_FMT_NUM_MAX 32

/* Starts an empty buffer (no allocation until the first append). */
void vi_sb_init(vi_sb *sb);
/* Frees the buffer and zeroes sb; accepts NULL. */
void vi_sb_free(vi_sb *sb);
/* Makes room for `extra` more bytes (plus the NUL); returns 0, or -1 and sets failed. */
int vi_sb_reserve(vi_sb *sb, size_t extra);
/* Append n bytes / a C string / one character (nothing once failed is set). */
void vi_sb_putn(vi_sb *sb, const char *s, size_t n);
void vi_sb_puts(vi_sb *sb, const char *s);
void vi_sb_putc(vi_sb *sb, char c);
/* Append an integer in decimal. */
void vi_sb_put_i64(vi_sb *sb, int64_t v);
void vi_sb_put_u64(vi_sb *sb, uint64_t v);
/* Appends a float as a JSON number (vi_fmt_f32), or the JSON string "NaN",
 * "Infinity" or "-Infinity" when it is not finite. */
void vi_sb_put_f32(vi_sb *sb, float f);
void vi_sb_put_f64(vi_sb *sb, double d);
/* Appends s (n bytes) as a JSON string, quoted and escaped exactly as jansson's
 * json_dumps writes it (\" \\ \b \f \n \r \t, other control characters
 * \u00XX, everything else verbatim); returns 0, or -1 without appending
 * anything when s is not valid UTF-8 (the strings json_string() refuses). */
int vi_sb_put_jstr(vi_sb *sb, const char *s, size_t n);
/* Hands the buffer over (NUL-terminated; *len without the NUL) and resets sb;
 * returns NULL if an append failed (the buffer is then freed). */
char *vi_sb_take(vi_sb *sb, size_t *len);

/* Writes the shortest "%.<p>g" text (p = 1..9) that, read as binary64 and
 * rounded to binary32, gives back f's exact bits; returns its length.
 * Negative zero is written "-0.0" (parsers read "-0" as the integer 0); for
 * non-finite f writes NaN, Infinity or -Infinity (unquoted). */
int vi_fmt_f32(float f, char buf[VI_FMT_NUM_MAX]);
/* Same for binary64 (p = 1..17, read back with strtod). */
int vi_fmt_f64(double d, char buf[VI_FMT_NUM_MAX]);

#endif
