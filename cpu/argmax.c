/* cpu/argmax.c — argmax over the last axis: first index of the maximum, the
 * first NaN counting as the maximum (order.h vi_argmax_better). */
#include "ops.h"

void vi_cpu_argmax(const float *x, int64_t D, int64_t *y, int64_t r0, int64_t r1, vi_isa isa)
{
    (void)isa; /* one exact scan; the result is order-independent anyway */
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * D;
        int64_t best = 0;
        for (int64_t i = 1; i < D; i++) {
            if (xr[best] != xr[best])
                break; /* a NaN is never replaced */
            if (vi_argmax_better(xr[i], xr[best]))
                best = i;
        }
        y[r] = best;
    }
}
