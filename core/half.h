/* core/half.h — exact widening of the two 16-bit float formats (IEEE
 * binary16 and bfloat16) to float: every value of both is a float, so these
 * never round. Shared by host and device code (safetensors F16/BF16 tensors,
 * GGUF F16/BF16 tensors and the scales of quantised blocks). */
#ifndef VI_HALF_H
#define VI_HALF_H

#include <stdint.h>

#include "vi_hd.h"
#include "vmath.h"

/* The IEEE binary16 h as a float, exactly: subnormals become normal floats,
 * infinities stay infinities, a NaN keeps its sign and payload (a signalling
 * NaN stays signalling). */
VI_HD float vi_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (e == 0x1fu) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (e != 0) {
        bits = sign | ((e + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        /* 0.mant x 2^-14: shift the leading 1 up to the implicit bit */
        uint32_t ex = 113u; /* exponent field of 2^-14 */
        while (!(mant & 0x400u)) {
            mant <<= 1;
            ex--;
        }
        bits = sign | (ex << 23) | ((mant & 0x3ffu) << 13);
    }
    return vi_bits_f32(bits);
}

/* The bfloat16 h as a float (the top half of its bits), exactly. */
VI_HD float vi_bf16_to_f32(uint16_t h)
{
    return vi_bits_f32((uint32_t)h << 16);
}

#endif
