/* cpu/norm.c — layer_norm and rms_norm over the last axis (order.h: row
 * statistics from the canonical reductions, then the per-element formula). */
#include "ops.h"

void vi_cpu_layer_norm(const float *x, int64_t D, const float *gamma, const float *beta, float eps,
                       float *y, int64_t r0, int64_t r1, vi_isa isa)
{
    const vi_cpu_kern *k = vi_cpu_kern_for(isa);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        float mean = vi_norm_div_len(k->rowsum(xr, D), D);
        float var = vi_norm_div_len(k->rowsumsqdev(xr, D, mean), D);
        float rs = vi_norm_rstd(var, eps);
        if (beta)
            for (int64_t i = 0; i < D; i++)
                yr[i] = vi_layer_norm_elem_beta(xr[i], mean, rs, gamma[i], beta[i]);
        else
            for (int64_t i = 0; i < D; i++)
                yr[i] = vi_layer_norm_elem(xr[i], mean, rs, gamma[i]);
    }
}

void vi_cpu_rms_norm(const float *x, int64_t D, const float *gamma, float eps, float *y, int64_t r0,
                     int64_t r1, vi_isa isa)
{
    const vi_cpu_kern *k = vi_cpu_kern_for(isa);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        float ms = vi_norm_div_len(k->rowsumsq(xr, D), D);
        float rs = vi_norm_rstd(ms, eps);
        for (int64_t i = 0; i < D; i++)
            yr[i] = vi_rms_norm_elem(xr[i], rs, gamma[i]);
    }
}
