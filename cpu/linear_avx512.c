/* cpu/linear_avx512.c — the AVX-512 linear/matmul strip: register tiles of
 * up to 8 rows x 48 columns (24 accumulators), vectorised over columns.
 *
 * Lane j of an accumulator is exactly the scalar chunk sum of output column j:
 * it starts at +0 and takes one fmaf(x[r][k], w[k][j], acc) per k in
 * increasing order (x[r][k] broadcast, w[k][j..j+15] loaded). The chunk sum
 * is then added to y, the bias added on the last chunk and NaNs made
 * canonical, all per lane as in the scalar strip. Columns past ncols are
 * masked on load and store of y. */
#include <immintrin.h>

#include "linear_kernel.h"

#define MR 8 /* rows per register tile */

static inline __attribute__((always_inline)) void tile(const vi_lin_strip *s, int64_t r0,
                                                       __mmask16 lastm, const float *pf,
                                                       int64_t pf_lines, const int mr,
                                                       const int nv)
{
    __m512 acc[MR][3];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = _mm512_setzero_ps();
    const float *x = s->x + r0 * s->ldx;
    const int64_t ldx = s->ldx;
    const float *w = s->w;
    const int64_t ldw = s->ldw;
    for (int k = 0; k < s->kc; k++) {
        __m512 b[3];
        for (int v = 0; v < nv; v++)
            b[v] = _mm512_loadu_ps(w + 16 * v);
        for (int r = 0; r < mr; r++) {
            __m512 a = _mm512_set1_ps(x[r * ldx + k]);
            for (int v = 0; v < nv; v++)
                acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
        }
        w += ldw;
        /* up to 3 lines per k: line k, k + kc, k + 2 kc of this tile's share */
        if (k < pf_lines) {
            _mm_prefetch((const char *)(pf + 16 * k), _MM_HINT_T0);
            if (k + s->kc < pf_lines) {
                _mm_prefetch((const char *)(pf + 16 * (k + s->kc)), _MM_HINT_T0);
                if (k + 2 * s->kc < pf_lines)
                    _mm_prefetch((const char *)(pf + 16 * (k + 2 * s->kc)), _MM_HINT_T0);
            }
        }
    }

    const __m512 zero = _mm512_setzero_ps();
    const __m512 canon = _mm512_castsi512_ps(_mm512_set1_epi32((int)VI_CANON_NAN_BITS));
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        float *y = s->y + (r0 + r) * s->ldy;
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            __mmask16 m = v == nv - 1 ? lastm : (__mmask16)0xFFFF;
            __m512 c = s->first ? zero : _mm512_maskz_loadu_ps(m, y + 16 * v);
            c = _mm512_add_ps(c, acc[r][v]);
            if (s->last) {
                if (s->bias)
                    c = _mm512_add_ps(c, _mm512_maskz_loadu_ps(m, s->bias + 16 * v));
                __mmask16 nan = _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q);
                c = _mm512_mask_blend_ps(nan, c, canon);
            }
            _mm512_mask_storeu_ps(y + 16 * v, m, c);
        }
    }
}

typedef void (*tile_fn)(const vi_lin_strip *s, int64_t r0, __mmask16 lastm, const float *pf,
                        int64_t pf_lines);

#define TILE(R, V)                                                                     \
    static void tile_##R##_##V(const vi_lin_strip *s, int64_t r0, __mmask16 lastm,   \
                               const float *pf, int64_t pf_lines)                     \
    {                                                                                  \
        tile(s, r0, lastm, pf, pf_lines, R, V);                                        \
    }
#define TILE_ROWS(R) TILE(R, 1) TILE(R, 2) TILE(R, 3)
TILE_ROWS(1)
TILE_ROWS(2)
TILE_ROWS(3)
TILE_ROWS(4)
TILE_ROWS(5)
TILE_ROWS(6)
TILE_ROWS(7)
TILE_ROWS(8)

#define TILE_ENTRY(R) {tile_##R##_1, tile_##R##_2, tile_##R##_3}
static const tile_fn TILES[MR][3] = {TILE_ENTRY(1), TILE_ENTRY(2), TILE_ENTRY(3), TILE_ENTRY(4),
                                     TILE_ENTRY(5), TILE_ENTRY(6), TILE_ENTRY(7), TILE_ENTRY(8)};

void vi_lin_strip_avx512(const vi_lin_strip *s)
{
    int nv = (s->ncols + 15) / 16;
    __mmask16 lastm = (__mmask16)(0xFFFFu >> (16 * nv - s->ncols));
    /* the tiles share the prefetch of the next block evenly (at most 3 kc lines each) */
    int64_t tiles = (s->rows + MR - 1) / MR;
    int64_t total = s->pf ? s->pf_lines : 0;
    int64_t share = (total + tiles - 1) / tiles;
    if (share > 3 * s->kc)
        share = 3 * s->kc;
    int64_t done = 0;
    int64_t r = 0;
    for (; r < s->rows; r += MR) {
        int64_t n = total - done < share ? total - done : share;
        const float *pf = n > 0 ? s->pf + 16 * done : NULL;
        int rows = s->rows - r < MR ? (int)(s->rows - r) : MR;
        TILES[rows - 1][nv - 1](s, r, lastm, pf, n);
        done += n;
    }
}
