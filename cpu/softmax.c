/* cpu/softmax.c — softmax over the last axis (order.h: row max, exp of the
 * shifted values, row sum, division). */
#include "ops.h"

void vi_cpu_softmax(const float *x, int64_t D, float *y, int64_t r0, int64_t r1, vi_isa isa)
{
    const vi_cpu_kern *k = vi_cpu_kern_for(isa);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        float m = k->rowmax(xr, D);
        k->softmax_exp(xr, m, yr, D); /* yr holds e[i] */
        float s = k->rowsum(yr, D);
        for (int64_t i = 0; i < D; i++)
            yr[i] = vi_softmax_div(yr[i], s);
    }
}
