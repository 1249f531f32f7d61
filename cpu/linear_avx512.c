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

/* y = (first ? +0 : y) + acc; on the last chunk y = y + bias, NaN -> canonical.
 * Lanes outside m are neither read nor written. */
static inline __attribute__((always_inline)) void update(const vi_lin_strip *s, float *y,
                                                         const float *bias, __mmask16 m, __m512 acc)
{
    __m512 c = s->first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, y);
    c = _mm512_add_ps(c, acc);
    if (s->last) {
        if (bias)
            c = _mm512_add_ps(c, _mm512_maskz_loadu_ps(m, bias));
        __mmask16 nan = _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q);
        __m512 canon = _mm512_castsi512_ps(_mm512_set1_epi32((int)VI_CANON_NAN_BITS));
        c = _mm512_mask_blend_ps(nan, c, canon);
    }
    _mm512_mask_storeu_ps(y, m, c);
}

/* The accumulators are plain variables c<row>_<vector> (never arrays, so every
 * compiler keeps them in registers); mr and nv are constants after inlining
 * and the rows / vectors beyond them vanish. */
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DECL(r) __m512 c##r##_0 = zero, c##r##_1 = zero, c##r##_2 = zero;
/* Keeps a row's FMAs before the next row's broadcast (no instruction): some
 * compilers otherwise hoist all 8 broadcasts and spill accumulators. */
#define PIN(v) __asm__ volatile("" : "+v"(v)::"memory")
#define STEP(r)                                                                                    \
    if (r < mr) {                                                                                  \
        __m512 a = _mm512_set1_ps(x[r * ldx + k]);                                                 \
        c##r##_0 = _mm512_fmadd_ps(a, b0, c##r##_0);                                               \
        PIN(c##r##_0);                                                                             \
        if (nv > 1) {                                                                              \
            c##r##_1 = _mm512_fmadd_ps(a, b1, c##r##_1);                                           \
            PIN(c##r##_1);                                                                         \
        }                                                                                          \
        if (nv > 2) {                                                                              \
            c##r##_2 = _mm512_fmadd_ps(a, b2, c##r##_2);                                           \
            PIN(c##r##_2);                                                                         \
        }                                                                                          \
    }
#define STORE(r)                                                                                   \
    if (r < mr) {                                                                                  \
        float *y = s->y + (r0 + r) * s->ldy;                                                       \
        update(s, y, bias, nv > 1 ? full : lastm, c##r##_0);                                       \
        if (nv > 1)                                                                                \
            update(s, y + 16, bias ? bias + 16 : NULL, nv > 2 ? full : lastm, c##r##_1);           \
        if (nv > 2)                                                                                \
            update(s, y + 32, bias ? bias + 32 : NULL, lastm, c##r##_2);                           \
    }

/* One mr x (16 nv) register tile at rows r0.. of the strip; prefetches
 * pf_lines lines from pf on the way (up to 3 per k). */
static inline __attribute__((always_inline)) void tile(const vi_lin_strip *s, int64_t r0,
                                                       __mmask16 lastm, const float *pf,
                                                       int64_t pf_lines, const int mr, const int nv)
{
    const __m512 zero = _mm512_setzero_ps();
    ROWS8(DECL)
    const float *x = s->x + r0 * s->ldx;
    const int64_t ldx = s->ldx;
    const float *w = s->w;
    const int64_t ldw = s->ldw;
    const int kc = s->kc;
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(w);
        __m512 b1 = nv > 1 ? _mm512_loadu_ps(w + 16) : zero;
        __m512 b2 = nv > 2 ? _mm512_loadu_ps(w + 32) : zero;
        ROWS8(STEP)
        w += ldw;
        vi_lin_prefetch_step(pf, pf_lines, k, kc);
    }
    const __mmask16 full = 0xFFFF;
    const float *bias = s->last ? s->bias : NULL;
    ROWS8(STORE)
}

typedef void (*tile_fn)(const vi_lin_strip *s, int64_t r0, __mmask16 lastm, const float *pf,
                        int64_t pf_lines);

#define TILE(R, V)                                                                                 \
    static void tile_##R##_##V(const vi_lin_strip *s, int64_t r0, __mmask16 lastm,                 \
                               const float *pf, int64_t pf_lines)                                  \
    {                                                                                              \
        tile(s, r0, lastm, pf, pf_lines, R, V);                                                    \
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

#define TILE_ENTRY(R)                                                                              \
    {                                                                                              \
        tile_##R##_1, tile_##R##_2, tile_##R##_3                                                   \
    }
static const tile_fn TILES[MR][3] = {TILE_ENTRY(1), TILE_ENTRY(2), TILE_ENTRY(3), TILE_ENTRY(4),
                                     TILE_ENTRY(5), TILE_ENTRY(6), TILE_ENTRY(7), TILE_ENTRY(8)};

void vi_lin_strip_avx512(const vi_lin_strip *s)
{
    int nv = (s->ncols + 15) / 16;
    __mmask16 lastm = (__mmask16)(0xFFFFu >> (16 * nv - s->ncols));
    /* the tiles share the prefetch of the next block evenly */
    int64_t total = s->pf ? s->pf_lines : 0;
    int64_t share = vi_lin_prefetch_share(s, (s->rows + MR - 1) / MR);
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
