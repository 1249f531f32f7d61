/* models/unicode_tables.h — codepoint classes for the BPE pre-tokenizers:
 * the general-category group (letter, number, ...) and White_Space of every
 * codepoint, from the generated table in models/unicode_tables.c
 * (scripts/gen_unicode_tables.py; docs/tokenizer.md names the Unicode
 * version and the grouping, which is llama.cpp's). */
#ifndef VI_UNICODE_TABLES_H
#define VI_UNICODE_TABLES_H

#include <stdint.h>

/* Class bits returned by vi_unicode_flags(): exactly one group bit, plus
 * VI_UC_WHITESPACE. The group bit values are llama.cpp's, so a non-zero
 * value means "a codepoint inside the text". */
#define VI_UC_UNDEFINED 0x0001u   /* Cn, and values above U+10FFFF */
#define VI_UC_NUMBER 0x0002u      /* \p{N} */
#define VI_UC_LETTER 0x0004u      /* \p{L} */
#define VI_UC_SEPARATOR 0x0008u   /* \p{Z} */
#define VI_UC_MARK 0x0010u        /* \p{M} */
#define VI_UC_PUNCTUATION 0x0020u /* \p{P} */
#define VI_UC_SYMBOL 0x0040u      /* \p{S} */
#define VI_UC_CONTROL 0x0080u     /* \p{C} */
#define VI_UC_WHITESPACE 0x0100u  /* \s (Unicode White_Space) */

extern const char vi_unicode_version[];
extern const uint8_t vi_unicode_stage1[0x1100];
extern const uint8_t vi_unicode_stage2[][256];

/* The class bits of cpt (VI_UC_UNDEFINED for cpt > 0x10FFFF). */
static inline uint16_t vi_unicode_flags(uint32_t cpt)
{
    static const uint16_t group[8] = {VI_UC_UNDEFINED, VI_UC_NUMBER, VI_UC_LETTER,
                                      VI_UC_SEPARATOR, VI_UC_MARK,   VI_UC_PUNCTUATION,
                                      VI_UC_SYMBOL,    VI_UC_CONTROL};
    if (cpt >= 0x110000u)
        return VI_UC_UNDEFINED;
    uint8_t code = vi_unicode_stage2[vi_unicode_stage1[cpt >> 8]][cpt & 0xFFu];
    return (uint16_t)(group[code & 7u] | ((code & 8u) ? VI_UC_WHITESPACE : 0u));
}

#endif
