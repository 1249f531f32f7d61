/* cpu/qlinear_scalar.c — the scalar Q4_1 / Q8_0 panel kernels: the canonical
 * sequence written one output at a time over the repacked panels of
 * cpu/qlinear_kernel.h (what the SIMD paths do per lane). */
#include "../core/quant.h"
#include "qlinear_kernel.h"

/* Weight of element e (0..31) of panel block blk, column r. */
static float q4_1_weight(const uint8_t *blk, int r, int e)
{
    float d = vi_f16_to_f32(vi_le16_(blk + 2 * r));
    float m = vi_f16_to_f32(vi_le16_(blk + 32 + 2 * r));
    uint8_t byte = blk[64 + 16 * (e & 15) + r];
    return vi_q4_1_elem(d, m, e < 16 ? byte & 15 : byte >> 4);
}

static float q8_0_weight(const uint8_t *blk, int r, int e)
{
    float d = vi_f16_to_f32(vi_le16_(blk + 2 * r));
    return d * (float)(int8_t)blk[32 + 16 * e + r];
}

static void run(const vi_ql_job *j, int64_t pb, float (*weight)(const uint8_t *, int, int))
{
    for (int64_t c = 0; c < j->ncols; c++) {
        const uint8_t *panel = j->w + c / VI_QL_P * j->panel_bytes;
        int r = (int)(c % VI_QL_P);
        for (int64_t m = 0; m < j->M; m++) {
            const float *x = j->x + m * j->K;
            float y = 0.0f;
            for (int64_t b0 = 0; b0 < j->nb; b0 += VI_QL_CHUNK_BLOCKS) {
                int64_t b1 = b0 + VI_QL_CHUNK_BLOCKS < j->nb ? b0 + VI_QL_CHUNK_BLOCKS : j->nb;
                float p = 0.0f;
                for (int64_t b = b0; b < b1; b++)
                    for (int e = 0; e < VI_QL_BLOCK; e++)
                        p = VI_FMAF(x[b * VI_QL_BLOCK + e], weight(panel + b * pb, r, e), p);
                y = y + p;
            }
            j->y[m * j->ldy + c] = vi_canon_nan(y);
        }
    }
}

void vi_ql_q4_1_scalar(const vi_ql_job *j)
{
    run(j, VI_QL_Q4_1_PB, q4_1_weight);
}

void vi_ql_q8_0_scalar(const vi_ql_job *j)
{
    run(j, VI_QL_Q8_0_PB, q8_0_weight);
}
