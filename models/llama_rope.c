/* models/llama_rope.c — rotary position embedding of GGUF arch "llama"
 * (NORM mode: adjacent pairs within a head), with verinfer's own math, in
 * the order of docs/llm.md. */
#include "core/vmath.h"
#include "llama_impl.h"

void vi_rope_inv_freq(float base, int32_t hd, float *inv)
{
    float lnb = vi_logf(base);
    for (int32_t i = 0; i < hd / 2; i++) {
        float e = (float)(2 * i) / (float)hd;
        inv[i] = vi_expf(-(lnb * e));
    }
}

void vi_rope_cos_sin(const float *inv, int32_t half, int32_t pos, float *c, float *s)
{
    for (int32_t i = 0; i < half; i++) {
        float a = (float)pos * inv[i];
        c[i] = vi_cosf(a);
        s[i] = vi_sinf(a);
    }
}

void vi_rope_apply(float *x, int32_t n_heads, int32_t hd, const float *c, const float *s)
{
    for (int32_t h = 0; h < n_heads; h++) {
        float *xh = x + (int64_t)h * hd;
        for (int32_t i = 0; i < hd / 2; i++) {
            float x0 = xh[2 * i], x1 = xh[2 * i + 1];
            float a = x0 * c[i], b = x1 * s[i];
            float d = x0 * s[i], e = x1 * c[i];
            xh[2 * i] = a - b;
            xh[2 * i + 1] = d + e;
        }
    }
}
