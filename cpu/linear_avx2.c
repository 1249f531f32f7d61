/* cpu/linear_avx2.c — the AVX2 (+FMA) linear/matmul strip: register tiles of
 * 6 rows x 16 columns (12 accumulators), a panel taken 16 columns at a time;
 * strips of 1 or 2 rows take the whole 48-column panel at once instead (up to
 * 12 accumulators too), so enough FMA chains run to stream the weight.
 *
 * Lane j of an accumulator is exactly the scalar chunk sum of output column j:
 * it starts at +0 and takes one fmaf(x[r][k], w[k][j], acc) per k in
 * increasing order. The chunk sum is added to y, the bias added on the last
 * chunk and NaNs made canonical, per lane as in the scalar strip. Columns past
 * ncols are masked (vmaskmov) on load and store of y. */
#include <immintrin.h>

#include "linear_kernel.h"

#define MR 6 /* rows per register tile */

/* y = (first ? +0 : y) + acc; on the last chunk y = y + bias, NaN -> canonical.
 * Lanes outside m are neither read nor written. */
static inline __attribute__((always_inline)) void update(const vi_lin_strip *s, float *y,
                                                         const float *bias, __m256i m, __m256 acc)
{
    __m256 c = s->first ? _mm256_setzero_ps() : _mm256_maskload_ps(y, m);
    c = _mm256_add_ps(c, acc);
    if (s->last) {
        if (bias)
            c = _mm256_add_ps(c, _mm256_maskload_ps(bias, m));
        __m256 nan = _mm256_cmp_ps(c, c, _CMP_UNORD_Q);
        __m256 canon = _mm256_castsi256_ps(_mm256_set1_epi32((int)VI_CANON_NAN_BITS));
        c = _mm256_blendv_ps(c, canon, nan);
    }
    _mm256_maskstore_ps(y, m, c);
}

/* The accumulators are plain variables c<row>_<vector> (never arrays, so every
 * compiler keeps them in registers); mr and nv are constants after inlining
 * and the rows / vectors beyond them vanish. */
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define VECS6(X, r) X(r, 0) X(r, 1) X(r, 2) X(r, 3) X(r, 4) X(r, 5)
#define DECL_V(r, v) __m256 c##r##_##v = zero;
#define DECL(r) VECS6(DECL_V, r)
/* Keeps a row's FMAs before the next row's broadcast (no instruction): some
 * compilers otherwise hoist all broadcasts and spill accumulators. */
#define PIN(v) __asm__ volatile("" : "+x"(v)::"memory")
#define FMA_V(r, v)                                                                                \
    if (nv > v) {                                                                                  \
        c##r##_##v = _mm256_fmadd_ps(a, b##v, c##r##_##v);                                         \
        PIN(c##r##_##v);                                                                           \
    }
#define STEP(r)                                                                                    \
    if (r < mr) {                                                                                  \
        __m256 a = _mm256_broadcast_ss(x + r * ldx + k);                                           \
        VECS6(FMA_V, r)                                                                            \
    }
#define LOAD_V(v) __m256 b##v = nv > v ? _mm256_loadu_ps(w + 8 * v) : zero;
#define STORE_V(r, v)                                                                              \
    if (nv > v)                                                                                    \
        update(s, y + 8 * v, bias ? bias + j0 + 8 * v : NULL, nv > v + 1 ? full : lastm,           \
               c##r##_##v);
#define STORE(r)                                                                                   \
    if (r < mr) {                                                                                  \
        float *y = s->y + (r0 + r) * s->ldy + j0;                                                  \
        VECS6(STORE_V, r)                                                                          \
    }

/* One mr x (8 nv) register tile at rows r0.., columns j0.. of the strip;
 * prefetches its pf_lines lines of the next block on the way. */
static inline __attribute__((always_inline)) void tile(const vi_lin_strip *s, int64_t r0,
                                                       int64_t j0, __m256i lastm, const float *pf,
                                                       int64_t pf_lines, const int mr, const int nv)
{
    const __m256 zero = _mm256_setzero_ps();
    ROWS6(DECL)
    const float *x = s->x + r0 * s->ldx;
    const int64_t ldx = s->ldx;
    const float *w = s->w + j0;
    const int64_t ldw = s->ldw;
    const int kc = s->kc;
    for (int k = 0; k < kc; k++) {
        LOAD_V(0) LOAD_V(1) LOAD_V(2) LOAD_V(3) LOAD_V(4) LOAD_V(5) ROWS6(STEP) w += ldw;
        vi_lin_prefetch_step(pf, pf_lines, k, kc);
    }
    const __m256i full = _mm256_set1_epi32(-1);
    const float *bias = s->last ? s->bias : NULL;
    ROWS6(STORE)
}

typedef void (*tile_fn)(const vi_lin_strip *s, int64_t r0, int64_t j0, __m256i lastm,
                        const float *pf, int64_t pf_lines);

#define TILE(R, V)                                                                                 \
    static void tile_##R##_##V(const vi_lin_strip *s, int64_t r0, int64_t j0, __m256i lastm,       \
                               const float *pf, int64_t pf_lines)                                  \
    {                                                                                              \
        tile(s, r0, j0, lastm, pf, pf_lines, R, V);                                                \
    }
#define TILE_ROWS_WIDE(R) TILE(R, 1) TILE(R, 2) TILE(R, 3) TILE(R, 4) TILE(R, 5) TILE(R, 6)
#define TILE_ROWS(R) TILE(R, 1) TILE(R, 2)
TILE_ROWS_WIDE(1)
TILE_ROWS_WIDE(2)
TILE_ROWS(3)
TILE_ROWS(4)
TILE_ROWS(5)
TILE_ROWS(6)

#define TILE_ENTRY_WIDE(R)                                                                         \
    {                                                                                              \
        tile_##R##_1, tile_##R##_2, tile_##R##_3, tile_##R##_4, tile_##R##_5, tile_##R##_6         \
    }
#define TILE_ENTRY(R)                                                                              \
    {                                                                                              \
        tile_##R##_1, tile_##R##_2, NULL, NULL, NULL, NULL                                         \
    }
/* [rows - 1][vectors - 1]; more than 2 vectors only for 1 or 2 rows */
static const tile_fn TILES[MR][6] = {TILE_ENTRY_WIDE(1), TILE_ENTRY_WIDE(2), TILE_ENTRY(3),
                                     TILE_ENTRY(4),      TILE_ENTRY(5),      TILE_ENTRY(6)};

/* Mask of the live lanes (1..8) of the last vector of a `cols`-wide tile. */
static __m256i tail_mask(int cols, int nv)
{
    int tail = cols - 8 * (nv - 1);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void vi_lin_strip_avx2(const vi_lin_strip *s)
{
    int wide = s->rows <= 2;
    int step = wide ? s->ncols : 16; /* columns per tile */
    /* the tiles share the prefetch of the next block evenly */
    int64_t total = s->pf ? s->pf_lines : 0;
    int64_t share =
        vi_lin_prefetch_share(s, (s->ncols + step - 1) / step * ((s->rows + MR - 1) / MR));
    int64_t done = 0;
    for (int j0 = 0; j0 < s->ncols; j0 += step) {
        int cols = s->ncols - j0 < step ? s->ncols - j0 : step;
        int nv = (cols + 7) / 8;
        __m256i lastm = tail_mask(cols, nv);
        for (int64_t r = 0; r < s->rows; r += MR) {
            int64_t n = total - done < share ? total - done : share;
            const float *pf = n > 0 ? s->pf + 16 * done : NULL;
            int rows = s->rows - r < MR ? (int)(s->rows - r) : MR;
            TILES[rows - 1][nv - 1](s, r, j0, lastm, pf, n);
            done += n;
        }
    }
}
