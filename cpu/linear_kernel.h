/* cpu/linear_kernel.h — internal to cpu/linear*.c: the unit of work every
 * linear/matmul path implements (one K-chunk of one column panel for a run
 * of rows) and the panel geometry they share. Not a public interface. */
#ifndef VI_CPU_LINEAR_KERNEL_H
#define VI_CPU_LINEAR_KERNEL_H

#include <stdint.h>

#include "../core/order.h"

/* Columns per weight panel. Packed panels are VI_LIN_NR wide, except the last
 * one, which is its column count rounded up to VI_LIN_NPAD; padding is zero. */
#define VI_LIN_NR 48
#define VI_LIN_NPAD 16

/* One K-chunk of one panel for `rows` rows:
 *     p[r][j] = fmaf over k in [0, kc) of x[r*ldx + k] * w[k*ldw + j], from +0
 *     y[r*ldy + j] = (first ? +0 : y[r*ldy + j]) + p[r][j]
 *     last: y = y + bias[j] (if bias), then a NaN becomes the canonical NaN
 * for r < rows, j < ncols. w has ldw >= ncols rounded up to VI_LIN_NPAD
 * readable floats per k (the padding is read, never stored); no alignment is
 * required. kc is 1..VI_DOT_CHUNK, ncols 1..VI_LIN_NR. pf is only a hint:
 * the memory the next strip will read, fetched early. */
typedef struct vi_lin_strip {
    const float *x;
    int64_t ldx;
    const float *w;
    int64_t ldw;
    float *y;
    int64_t ldy;
    const float *bias; /* [ncols] or NULL; used only when last */
    const float *pf;   /* the next weight block to prefetch, pf_lines 64-byte lines, or NULL */
    int64_t pf_lines;
    int64_t rows;
    int kc;
    int ncols;
    int first;
    int last;
} vi_lin_strip;

typedef void (*vi_lin_strip_fn)(const vi_lin_strip *s);

/* Prefetch of a register tile's share of the next block, spread over its k
 * loop: at step k, lines k, k + kc and k + 2 kc of the pf_lines at pf. */
static inline __attribute__((always_inline)) void
vi_lin_prefetch_step(const float *pf, int64_t pf_lines, int k, int kc)
{
    if (k < pf_lines) {
        __builtin_prefetch(pf + 16 * (int64_t)k, 0, 3);
        if (k + kc < pf_lines) {
            __builtin_prefetch(pf + 16 * (int64_t)(k + kc), 0, 3);
            if (k + 2 * kc < pf_lines)
                __builtin_prefetch(pf + 16 * (int64_t)(k + 2 * kc), 0, 3);
        }
    }
}

/* Lines of the next block's prefetch given to each of `tiles` register tiles
 * (at most 3 per k, as vi_lin_prefetch_step issues). */
static inline int64_t vi_lin_prefetch_share(const vi_lin_strip *s, int64_t tiles)
{
    int64_t total = s->pf ? s->pf_lines : 0;
    int64_t share = (total + tiles - 1) / tiles;
    return share < 3 * (int64_t)s->kc ? share : 3 * (int64_t)s->kc;
}

void vi_lin_strip_scalar(const vi_lin_strip *s);
void vi_lin_strip_avx2(const vi_lin_strip *s);
void vi_lin_strip_avx512(const vi_lin_strip *s);

#endif
