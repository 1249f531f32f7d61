/* core/utf8.c — UTF-8 validation (see utf8.h). */
#include "utf8.h"

#include <stdint.h>

size_t vi_utf8_invalid_at(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp, lowest;
        if ((c & 0xe0) == 0xc0)
            extra = 1, cp = c & 0x1f, lowest = 0x80;
        else if ((c & 0xf0) == 0xe0)
            extra = 2, cp = c & 0x0f, lowest = 0x800;
        else if ((c & 0xf8) == 0xf0)
            extra = 3, cp = c & 0x07, lowest = 0x10000;
        else
            return i;
        if (extra >= n - i)
            return i;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < lowest || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += extra + 1;
    }
    return n;
}
