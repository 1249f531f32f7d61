/* core/quant.c — the table of ggml weight formats verinfer reads (block
 * sizes, bytes, names), row dequantisation and the scalar reference
 * quantised dot product (core/quant.h). */
#include "quant.h"

#include <string.h>

typedef struct quant_info {
    vi_ggml_type type;
    const char *name;
    size_t block_size;
    size_t block_bytes;
} quant_info;

static const quant_info QUANT_TABLE[] = {
    {VI_GGML_F32, "F32", 1, 4},
    {VI_GGML_F16, "F16", 1, 2},
    {VI_GGML_Q4_0, "Q4_0", VI_QK4_0, VI_Q4_0_BYTES},
    {VI_GGML_Q4_1, "Q4_1", VI_QK4_1, VI_Q4_1_BYTES},
    {VI_GGML_Q8_0, "Q8_0", VI_QK8_0, VI_Q8_0_BYTES},
    {VI_GGML_Q4_K, "Q4_K", VI_QK_K, VI_Q4_K_BYTES},
    {VI_GGML_Q6_K, "Q6_K", VI_QK_K, VI_Q6_K_BYTES},
    {VI_GGML_BF16, "BF16", 1, 2},
};

static const quant_info *quant_find(uint32_t t)
{
    for (size_t i = 0; i < sizeof QUANT_TABLE / sizeof QUANT_TABLE[0]; i++)
        if ((uint32_t)QUANT_TABLE[i].type == t)
            return &QUANT_TABLE[i];
    return NULL;
}

size_t vi_ggml_type_block_size(vi_ggml_type t)
{
    const quant_info *q = quant_find((uint32_t)t);
    return q ? q->block_size : 0;
}

size_t vi_ggml_type_block_bytes(vi_ggml_type t)
{
    const quant_info *q = quant_find((uint32_t)t);
    return q ? q->block_bytes : 0;
}

const char *vi_ggml_type_name(vi_ggml_type t)
{
    const quant_info *q = quant_find((uint32_t)t);
    return q ? q->name : NULL;
}

int vi_ggml_type_supported(uint32_t t)
{
    return quant_find(t) != NULL;
}

/* Dequantises block i of a row of type t into out (block_size floats). */
static void dequant_block(vi_ggml_type t, const uint8_t *row, int64_t i, float *out)
{
    switch (t) {
    case VI_GGML_F32:
        memcpy(out, row + 4 * i, 4);
        break;
    case VI_GGML_F16:
        out[0] = vi_f16_to_f32(vi_le16_(row + 2 * i));
        break;
    case VI_GGML_BF16:
        out[0] = vi_bf16_to_f32(vi_le16_(row + 2 * i));
        break;
    case VI_GGML_Q4_0:
        vi_dequant_block_q4_0(row + VI_Q4_0_BYTES * i, out);
        break;
    case VI_GGML_Q4_1:
        vi_dequant_block_q4_1(row + VI_Q4_1_BYTES * i, out);
        break;
    case VI_GGML_Q8_0:
        vi_dequant_block_q8_0(row + VI_Q8_0_BYTES * i, out);
        break;
    case VI_GGML_Q4_K:
        vi_dequant_block_q4_k(row + VI_Q4_K_BYTES * i, out);
        break;
    case VI_GGML_Q6_K:
        vi_dequant_block_q6_k(row + VI_Q6_K_BYTES * i, out);
        break;
    }
}

void vi_dequant_row(vi_ggml_type t, const void *src, float *dst, int64_t n)
{
    int64_t bs = (int64_t)vi_ggml_type_block_size(t);
    if (bs == 0 || n < 0 || n % bs != 0)
        return;
    if (t == VI_GGML_F32) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < n / bs; i++)
        dequant_block(t, src, i, dst + i * bs);
}

float vi_qdot_ref(vi_ggml_type t, const void *row, const float *x, int64_t K)
{
    int64_t bs = (int64_t)vi_ggml_type_block_size(t);
    if (bs == 0 || K < 1 || K % bs != 0)
        return vi_bits_f32(VI_CANON_NAN_BITS);
    float w[VI_QUANT_MAX_BLOCK];
    float y = 0.0f;
    for (int64_t c0 = 0; c0 < K; c0 += VI_DOT_CHUNK) {
        int64_t c1 = c0 + VI_DOT_CHUNK < K ? c0 + VI_DOT_CHUNK : K;
        float p = 0.0f;
        for (int64_t k = c0; k < c1; k++) {
            if (k % bs == 0)
                dequant_block(t, row, k / bs, w);
            p = VI_FMAF(x[k], w[k % bs], p);
        }
        y = y + p;
    }
    return vi_canon_nan(y);
}
