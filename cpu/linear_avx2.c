/* cpu/linear_avx2.c — the AVX2 (+FMA) linear/matmul strip: register tiles of
 * up to 6 rows x 16 columns (12 accumulators), a panel taken 16 columns at a
 * time, vectorised over columns.
 *
 * Lane j of an accumulator is exactly the scalar chunk sum of output column j:
 * it starts at +0 and takes one fmaf(x[r][k], w[k][j], acc) per k in
 * increasing order. The chunk sum is added to y, the bias added on the last
 * chunk and NaNs made canonical, per lane as in the scalar strip. Columns past
 * ncols are masked (vmaskmov) on load and store of y. */
#include <immintrin.h>

#include "linear_kernel.h"

#define MR 6 /* rows per register tile */

static inline __attribute__((always_inline)) void tile(const vi_lin_strip *s, int64_t r0,
                                                       int64_t j0, __m256i lastm, const int mr,
                                                       const int nv)
{
    __m256 acc[MR][2];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = _mm256_setzero_ps();
    const float *x = s->x + r0 * s->ldx;
    const int64_t ldx = s->ldx;
    const float *w = s->w + j0;
    const int64_t ldw = s->ldw;
    for (int k = 0; k < s->kc; k++) {
        __m256 b[2];
        for (int v = 0; v < nv; v++)
            b[v] = _mm256_loadu_ps(w + 8 * v);
        for (int r = 0; r < mr; r++) {
            __m256 a = _mm256_broadcast_ss(x + r * ldx + k);
            for (int v = 0; v < nv; v++)
                acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
        }
        w += ldw;
    }

    const __m256 zero = _mm256_setzero_ps();
    const __m256 canon = _mm256_castsi256_ps(_mm256_set1_epi32((int)VI_CANON_NAN_BITS));
    const __m256i all = _mm256_set1_epi32(-1);
    for (int r = 0; r < mr; r++) {
        float *y = s->y + (r0 + r) * s->ldy + j0;
        for (int v = 0; v < nv; v++) {
            __m256i m = v == nv - 1 ? lastm : all;
            __m256 c = s->first ? zero : _mm256_maskload_ps(y + 8 * v, m);
            c = _mm256_add_ps(c, acc[r][v]);
            if (s->last) {
                if (s->bias)
                    c = _mm256_add_ps(c, _mm256_maskload_ps(s->bias + j0 + 8 * v, m));
                __m256 nan = _mm256_cmp_ps(c, c, _CMP_UNORD_Q);
                c = _mm256_blendv_ps(c, canon, nan);
            }
            _mm256_maskstore_ps(y + 8 * v, m, c);
        }
    }
}

typedef void (*tile_fn)(const vi_lin_strip *s, int64_t r0, int64_t j0, __m256i lastm);

#define TILE(R, V)                                                                           \
    static void tile_##R##_##V(const vi_lin_strip *s, int64_t r0, int64_t j0, __m256i lastm) \
    {                                                                                        \
        tile(s, r0, j0, lastm, R, V);                                                        \
    }
#define TILE_ROWS(R) TILE(R, 1) TILE(R, 2)
TILE_ROWS(1)
TILE_ROWS(2)
TILE_ROWS(3)
TILE_ROWS(4)
TILE_ROWS(5)
TILE_ROWS(6)

#define TILE_ENTRY(R) {tile_##R##_1, tile_##R##_2}
static const tile_fn TILES[MR][2] = {TILE_ENTRY(1), TILE_ENTRY(2), TILE_ENTRY(3),
                                     TILE_ENTRY(4), TILE_ENTRY(5), TILE_ENTRY(6)};

void vi_lin_strip_avx2(const vi_lin_strip *s)
{
    for (int j0 = 0; j0 < s->ncols; j0 += 16) {
        int cols = s->ncols - j0 < 16 ? s->ncols - j0 : 16;
        int nv = (cols + 7) / 8;
        int tail = cols - 8 * (nv - 1); /* 1..8 live lanes in the last vector */
        __m256i lastm = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail),
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        int64_t r = 0;
        for (; r + MR <= s->rows; r += MR)
            TILES[MR - 1][nv - 1](s, r, j0, lastm);
        if (r < s->rows)
            TILES[s->rows - r - 1][nv - 1](s, r, j0, lastm);
    }
}
