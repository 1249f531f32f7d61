/* core/utf8.h — UTF-8 validation shared by every parser of names and
 * strings from untrusted files and documents (safetensors headers, GGUF
 * strings, receipts). */
#ifndef VI_UTF8_H
#define VI_UTF8_H

#include <stddef.h>

/* Offset of the first byte that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF are invalid),
 * or n when all n bytes of s are valid. */
size_t vi_utf8_invalid_at(const void *s, size_t n);

#endif
