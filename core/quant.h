/* core/quant.h — the canonical dequantisation of ggml's weight formats (part
 * of the canonical order: these formulas decide the bits of every quantised
 * weight) and the scalar reference dot product over a quantised row.
 *
 * Block layouts are ggml's (little-endian, no padding; "f16" is an IEEE
 * binary16, widened exactly by vi_f16_to_f32):
 *   Q4_0  18 B / 32: f16 d; u8 qs[16]      element j < 16: qs[j] & 15,
 *                                          element j + 16: qs[j] >> 4
 *   Q4_1  20 B / 32: f16 d; f16 m; u8 qs[16]          (same nibble order)
 *   Q8_0  34 B / 32: f16 d; i8 qs[32]
 *   Q4_K 144 B / 256: f16 d; f16 dmin; u8 scales[12]; u8 qs[128]
 *                    8 sub-blocks of 32 with 6-bit scale sc and min mn
 *                    (ggml's get_scale_min_k4); per 64 elements 32 bytes of
 *                    qs: 32 low nibbles (sub-block 2g), then the 32 high
 *                    nibbles of the same bytes (sub-block 2g + 1)
 *   Q6_K 210 B / 256: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
 *                    per 128 elements (ql += 64, qh += 32, scales += 8):
 *                    e = l + 32 i (l < 32, i < 4): low 4 bits from ql[l] (i = 0),
 *                    ql[l + 32] (i = 1), ql[l] >> 4 (i = 2), ql[l + 32] >> 4
 *                    (i = 3); high 2 bits (qh[l] >> 2i) & 3; scale of
 *                    element e of the block: scales[e / 16]
 *   F16 / BF16 / F32: one element per "block" of 2 / 2 / 4 bytes.
 *
 * Formulas, per element (q the stored unsigned nibble / 6-bit value / int8
 * byte; every product marked exact is exact in float for every finite input,
 * so it does not matter whether an implementation fuses it with the add):
 *   Q4_0: w = d * (float)(q - 8)                        (exact)
 *   Q4_1: w = fl(d * (float)q) + m                      (one rounding, in the add)
 *   Q8_0: w = d * (float)q                              (exact)
 *   Q4_K: d1 = d * (float)sc, m1 = dmin * (float)mn     (both exact)
 *         w = fl(d1 * (float)q) - m1                    (one rounding, in the sub)
 *   Q6_K: w = fl(d * (float)sc8) * (float)(q - 32)      (d * sc8 exact; one rounding)
 *   F16 / BF16: exact widening (subnormals, infinities and NaN payloads kept);
 *   F32: the stored bits.
 * A NaN produced by a quantised format's formula (a NaN or infinite d, m or
 * dmin) is written as the canonical NaN VI_CANON_NAN_BITS: hardware disagrees
 * on the NaN that inf * 0 or a NaN operand gives. docs/gguf.md ("Quantised
 * weights") states the same in prose and compares with ggml.
 *
 * VI_HD functions compile for the host and for CUDA from this one source. */
#ifndef VI_QUANT_H
#define VI_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "half.h"
#include "order.h"
#include "vi_hd.h"

#define VI_QK4_0 32
#define VI_QK4_1 32
#define VI_QK8_0 32
#define VI_QK_K 256
#define VI_Q4_0_BYTES 18
#define VI_Q4_1_BYTES 20
#define VI_Q8_0_BYTES 34
#define VI_Q4_K_BYTES 144
#define VI_Q6_K_BYTES 210
#define VI_QUANT_MAX_BLOCK 256 /* the largest block, in elements */

/* ==== Table of formats ==== */

/* Elements per block of type t: 1 (F32, F16, BF16), 32 or 256; 0 if unsupported. */
size_t vi_ggml_type_block_size(vi_ggml_type t);

/* Bytes per block of type t; 0 if unsupported. */
size_t vi_ggml_type_block_bytes(vi_ggml_type t);

/* The type's ggml name ("Q4_1", "F32", ...); NULL if unsupported. */
const char *vi_ggml_type_name(vi_ggml_type t);

/* 1 if t is a type this file dequantises, 0 otherwise. */
int vi_ggml_type_supported(uint32_t t);

/* ==== Exact widenings ==== */

/* Little-endian u16 at p (no alignment needed). */
VI_HD uint16_t vi_le16_(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* ==== Block dequantisation (the formulas above) ==== */

/* 32 weights of one Q4_0 block. */
VI_HD void vi_dequant_block_q4_0(const uint8_t *blk, float out[32])
{
    float d = vi_f16_to_f32(vi_le16_(blk));
    const uint8_t *qs = blk + 2;
    for (int j = 0; j < 16; j++) {
        out[j] = vi_canon_nan(d * (float)((int)(qs[j] & 15) - 8));
        out[j + 16] = vi_canon_nan(d * (float)((int)(qs[j] >> 4) - 8));
    }
}

/* The Q4_1 formula for one element: fl(d * q) + m. */
VI_HD float vi_q4_1_elem(float d, float m, int q)
{
    float dq = d * (float)q;
    return vi_canon_nan(dq + m);
}

/* 32 weights of one Q4_1 block. */
VI_HD void vi_dequant_block_q4_1(const uint8_t *blk, float out[32])
{
    float d = vi_f16_to_f32(vi_le16_(blk));
    float m = vi_f16_to_f32(vi_le16_(blk + 2));
    const uint8_t *qs = blk + 4;
    for (int j = 0; j < 16; j++) {
        out[j] = vi_q4_1_elem(d, m, qs[j] & 15);
        out[j + 16] = vi_q4_1_elem(d, m, qs[j] >> 4);
    }
}

/* 32 weights of one Q8_0 block. */
VI_HD void vi_dequant_block_q8_0(const uint8_t *blk, float out[32])
{
    float d = vi_f16_to_f32(vi_le16_(blk));
    for (int j = 0; j < 32; j++)
        out[j] = vi_canon_nan(d * (float)(int8_t)blk[2 + j]);
}

/* Scale and min of sub-block j (0..7) of a Q4_K block's 12 scale bytes:
 * j < 4: sc = s[j] & 63, mn = s[j + 4] & 63; otherwise the low 4 bits come
 * from s[j + 4] (low / high nibble) and the top 2 from s[j - 4] / s[j] >> 6. */
VI_HD void vi_q4_k_scale_min(const uint8_t *s, int j, int *sc, int *mn)
{
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* 256 weights of one Q4_K block. */
VI_HD void vi_dequant_block_q4_k(const uint8_t *blk, float out[256])
{
    float d = vi_f16_to_f32(vi_le16_(blk));
    float dmin = vi_f16_to_f32(vi_le16_(blk + 2));
    const uint8_t *scales = blk + 4;
    const uint8_t *qs = blk + 16;
    for (int g = 0; g < 4; g++) {
        for (int h = 0; h < 2; h++) {
            int sc, mn;
            vi_q4_k_scale_min(scales, 2 * g + h, &sc, &mn);
            float d1 = d * (float)sc;
            float m1 = dmin * (float)mn;
            for (int l = 0; l < 32; l++) {
                int q = h ? qs[32 * g + l] >> 4 : qs[32 * g + l] & 15;
                float dq = d1 * (float)q;
                out[64 * g + 32 * h + l] = vi_canon_nan(dq - m1);
            }
        }
    }
}

/* 256 weights of one Q6_K block. */
VI_HD void vi_dequant_block_q6_k(const uint8_t *blk, float out[256])
{
    const uint8_t *ql = blk;
    const uint8_t *qh = blk + 128;
    const int8_t *sc = (const int8_t *)(blk + 192);
    float d = vi_f16_to_f32(vi_le16_(blk + 208));
    for (int n = 0; n < 2; n++) {
        for (int i = 0; i < 4; i++) {
            for (int l = 0; l < 32; l++) {
                int e = 32 * i + l; /* within this 128-element half */
                uint8_t lo = ql[64 * n + l + (i & 1) * 32];
                int q4 = i < 2 ? lo & 15 : lo >> 4;
                int q2 = (qh[32 * n + l] >> (2 * i)) & 3;
                int q = (q4 | (q2 << 4)) - 32;
                float ds = d * (float)sc[8 * n + e / 16];
                out[128 * n + e] = vi_canon_nan(ds * (float)q);
            }
        }
    }
}

/* ==== Rows and the reference dot product ==== */

/* Dequantises n elements (n a multiple of the block size) of type t from
 * src into dst. Unsupported types or bad n write nothing. */
void vi_dequant_row(vi_ggml_type t, const void *src, float *dst, int64_t n);

/* Canonical quantised dot product of x[0..K) with a row of K elements of
 * type t (K a multiple of the block size): the core/order.h dot (128-long
 * K-chunks of sequential fmaf(x[k], w[k], p) from +0, chunk sums added left
 * to right from +0) over the dequantised weights w, with a NaN result written
 * as the canonical NaN. Bit-identical to vi_dequant_row then vi_dot_ref (then
 * vi_canon_nan). Scalar reference; returns the canonical NaN for an
 * unsupported type or a K that is not a positive multiple of the block. */
float vi_qdot_ref(vi_ggml_type t, const void *row, const float *x, int64_t K);

#endif
