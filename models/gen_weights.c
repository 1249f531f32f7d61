/* models/gen_weights.c — the generator's numbers: splitmix64 streams, exact
 * int -> float draws, weight values and their FP32/FP16/BF16 encodings.
 * Integer arithmetic and correctly rounded float operations only, so every
 * machine and compiler produces the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "gen_plan.h"

/* ==== Random streams ==== */

/* FNV-1a, 64-bit. */
static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t vi_gen_stream(uint64_t seed, const char *name)
{
    return seed ^ fnv1a64(name);
}

uint64_t vi_gen_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float vi_gen_unit(uint64_t *state)
{
    int32_t k = (int32_t)(vi_gen_next(state) >> 40) - 8388608; /* [-2^23, 2^23) */
    return (float)k * (1.0f / 8388608.0f);                     /* both steps exact */
}

/* ==== 16-bit encodings ==== */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

uint16_t vi_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep sign and top payload, make it quiet */
        return (uint16_t)((x >> 16) | 0x0040u);
    x += 0x7fffu + ((x >> 16) & 1u); /* round to nearest, ties to even; may carry into inf */
    return (uint16_t)(x >> 16);
}

/* Rounds man >> shift to nearest, ties to even. */
static uint32_t rne_shift(uint32_t man, int shift)
{
    uint32_t q = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u)))
        q++;
    return q;
}

uint16_t vi_f32_to_fp16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    int ex = (int)((x >> 23) & 0xffu);
    uint32_t man = x & 0x7fffffu;
    if (ex == 0xff)
        return (uint16_t)(sign | 0x7c00u | (man ? 0x0200u | (man >> 13) : 0u));
    int e = ex - 127 + 15; /* biased half exponent */
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) /* below 2^-25: rounds to zero (2^-25 itself ties to the even zero) */
            return sign;
        /* half subnormal: units of 2^-24; a carry to 0x400 is the smallest normal */
        return (uint16_t)(sign | rne_shift(man | 0x800000u, 14 - e));
    }
    /* normal: a carry out of the mantissa bumps the exponent, up to infinity */
    return (uint16_t)(sign | rne_shift(((uint32_t)e << 23) | man, 13));
}

/* ==== Weights ==== */

uint8_t *vi_gen_weight_data(const vi_gen_weight *w, uint64_t seed, vi_dtype dtype, size_t *nbytes)
{
    int64_t n = 1;
    for (int i = 0; i < w->ndim; i++)
        n *= w->shape[i]; /* bounded by VI_GEN_MAX_WEIGHT_ELEMS when planned */
    size_t esz = vi_dtype_size(dtype);
    uint8_t *buf = malloc((size_t)n * esz + 1);
    if (!buf)
        return NULL;
    uint64_t st = vi_gen_stream(seed, w->name);
    for (int64_t i = 0; i < n; i++) {
        float u = vi_gen_unit(&st);
        float v = w->near_one ? 1.0f + u * 0.125f : u * w->bound;
        uint32_t bits = dtype == VI_DT_FP16   ? vi_f32_to_fp16(v)
                        : dtype == VI_DT_BF16 ? vi_f32_to_bf16(v)
                                              : f32_bits(v);
        for (size_t b = 0; b < esz; b++)
            buf[(size_t)i * esz + b] = (uint8_t)(bits >> (8 * b));
    }
    *nbytes = (size_t)n * esz;
    return buf;
}
