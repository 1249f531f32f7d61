/* cpu/qlinear_avx512.c — the AVX-512 Q4_1 / Q8_0 panel kernels: register
 * tiles of up to 4 rows x 4 panels or 8 rows x 2 panels (16 accumulators of
 * 16 columns), weights dequantised in registers.
 *
 * Lane r of a vector is panel column r. Per 32-element block, d (and m) of
 * the 16 columns are widened exactly (vcvtph2ps); per element e the 16
 * quants are loaded, widened to int32, converted (exact) and dequantised:
 *     Q4_1: w = fmaf((float)q, d, m)  == fl(d * q) + m, as d * q is exact
 *     Q8_0: w = (float)q * d          (exact)
 * then every row's accumulator takes acc = fmaf(x[e], w, acc): one
 * sequential chain per column per 128-long K-chunk, from +0. At the end of a
 * chunk, y = (first ? +0 : y) + acc in a tile buffer; NaNs become canonical
 * when the tile is stored. A NaN weight may carry any payload here: it only
 * ever produces a NaN output, which is canonicalised. */
#include <immintrin.h>

#include "qlinear_kernel.h"

#define LDB (VI_QL_MAX_NP * VI_QL_P) /* floats per row of the tile buffer */

/* Accumulators are named variables c<row>_<panel> (never arrays), so that
 * compilers keep them in registers; mr and np are constants after inlining
 * and every row / panel beyond them vanishes. */
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define PANELS4(X) X(0) X(1) X(2) X(3)
#define DECL(r) __m512 c##r##_0 = z, c##r##_1 = z, c##r##_2 = z, c##r##_3 = z;
#define FMA(r, p)                                                                                  \
    if (p < np)                                                                                    \
        c##r##_##p = _mm512_fmadd_ps(xv, w##p, c##r##_##p);
#define STEP(r)                                                                                    \
    if (r < mr) {                                                                                  \
        const __m512 xv = _mm512_set1_ps(xe[r * ldx]);                                             \
        FMA(r, 0) FMA(r, 1) FMA(r, 2) FMA(r, 3)                                                    \
    }
#define FLUSH1(r, p)                                                                               \
    if (p < np) {                                                                                  \
        float *yb = ybuf + r * LDB + 16 * p;                                                       \
        __m512 prev = first ? z : _mm512_load_ps(yb);                                              \
        _mm512_store_ps(yb, _mm512_add_ps(prev, c##r##_##p));                                      \
        c##r##_##p = z;                                                                            \
    }
#define FLUSH(r)                                                                                   \
    if (r < mr) {                                                                                  \
        FLUSH1(r, 0) FLUSH1(r, 1) FLUSH1(r, 2) FLUSH1(r, 3)                                        \
    }
/* block pointer and scales of panel p */
#define SCALES(p)                                                                                  \
    if (p < np) {                                                                                  \
        blk##p = w + (p)*pbytes + b * pb;                                                          \
        d##p = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk##p));                       \
        if (!q8)                                                                                   \
            mn##p = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk##p + 32)));           \
    }
/* Weights stream from memory (a model's are far larger than the caches):
 * the same block of a panel further on is fetched ahead, one line per 64
 * bytes. Single-row tiles fetch two tiles ahead (2 np panels); the first
 * row tile of a panel group fetches the next group (VI_QL_MAX_NP panels on),
 * which the later row tiles then find in cache. */
#define PREFETCH(p)                                                                                \
    if (p < np) {                                                                                  \
        const char *ahead = (const char *)blk##p + pf_dist;                                        \
        for (int64_t o = 0; o < pb; o += 64)                                                       \
            _mm_prefetch(ahead + o, _MM_HINT_T0);                                                  \
    }
/* weights of element e of panel p: Q8_0 any e; Q4_1 e < 16 low nibbles, hi = 1 high */
#define DEQ_Q8(p)                                                                                  \
    if (p < np) {                                                                                  \
        __m512i q =                                                                                \
            _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk##p + 32 + 16 * e)));        \
        w##p = _mm512_mul_ps(_mm512_cvtepi32_ps(q), d##p);                                         \
    }
#define DEQ_Q4(p)                                                                                  \
    if (p < np) {                                                                                  \
        __m512i q =                                                                                \
            _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(blk##p + 64 + 16 * e)));        \
        q = hi ? _mm512_srli_epi32(q, 4) : _mm512_and_si512(q, lo4);                               \
        w##p = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), d##p, mn##p);                                \
    }

/* One mr x np tile: rows m0.. of x, panels starting at w; y is the output
 * of the tile's first column in row m0; ncols columns are stored. */
static inline __attribute__((always_inline)) void tile(const vi_ql_job *j, const uint8_t *w,
                                                       int64_t m0, float *y, int64_t ncols,
                                                       const int q8, const int mr, const int np)
{
    const __m512 z = _mm512_setzero_ps();
    const __m512i lo4 = _mm512_set1_epi32(15);
    const int64_t pb = q8 ? VI_QL_Q8_0_PB : VI_QL_Q4_1_PB;
    const int64_t pbytes = j->panel_bytes, ldx = j->K, nb = j->nb;
    const float *x = j->x + m0 * ldx;
    const int pf = mr == 1 || m0 == 0;
    const int64_t pf_dist = (mr == 1 ? 2 * np : VI_QL_MAX_NP) * pbytes;
    _Alignas(64) float ybuf[VI_QL_MAX_MR * LDB];
    ROWS8(DECL)
    __m512 d0 = z, d1 = z, d2 = z, d3 = z, mn0 = z, mn1 = z, mn2 = z, mn3 = z;
    __m512 w0 = z, w1 = z, w2 = z, w3 = z;
    const uint8_t *blk0 = w, *blk1 = w, *blk2 = w, *blk3 = w;
    for (int64_t b0 = 0; b0 < nb; b0 += VI_QL_CHUNK_BLOCKS) {
        int64_t b1 = b0 + VI_QL_CHUNK_BLOCKS < nb ? b0 + VI_QL_CHUNK_BLOCKS : nb;
        for (int64_t b = b0; b < b1; b++) {
            PANELS4(SCALES)
            if (pf)
                PANELS4(PREFETCH)
            const float *xe = x + b * VI_QL_BLOCK;
            if (q8) {
                for (int e = 0; e < 32; e++, xe++) {
                    PANELS4(DEQ_Q8)
                    ROWS8(STEP)
                }
            } else {
                for (int hi = 0; hi < 2; hi++)
                    for (int e = 0; e < 16; e++, xe++) {
                        PANELS4(DEQ_Q4)
                        ROWS8(STEP)
                    }
            }
        }
        const int first = b0 == 0;
        ROWS8(FLUSH)
    }
    vi_ql_store(y, j->ldy, ybuf, LDB, mr, ncols);
}

typedef void (*tile_fn)(const vi_ql_job *j, const uint8_t *w, int64_t m0, float *y, int64_t ncols);

#define TILE(F, Q, R, P)                                                                           \
    static void tile_##F##_##R##_##P(const vi_ql_job *j, const uint8_t *w, int64_t m0, float *y,   \
                                     int64_t ncols)                                                \
    {                                                                                              \
        tile(j, w, m0, y + m0 * j->ldy, ncols, Q, R, P);                                           \
    }
#define TILES_WIDE(F, Q, R) TILE(F, Q, R, 1) TILE(F, Q, R, 2) TILE(F, Q, R, 3) TILE(F, Q, R, 4)
#define TILES_NARROW(F, Q, R) TILE(F, Q, R, 1) TILE(F, Q, R, 2)
#define TILES_FORMAT(F, Q)                                                                         \
    TILES_WIDE(F, Q, 1)                                                                            \
    TILES_WIDE(F, Q, 2)                                                                            \
    TILES_WIDE(F, Q, 3) TILES_WIDE(F, Q, 4) TILES_NARROW(F, Q, 5) TILES_NARROW(F, Q, 6)            \
        TILES_NARROW(F, Q, 7) TILES_NARROW(F, Q, 8)
TILES_FORMAT(q41, 0)
TILES_FORMAT(q80, 1)

#define ROW_WIDE(F, R)                                                                             \
    {                                                                                              \
        tile_##F##_##R##_1, tile_##F##_##R##_2, tile_##F##_##R##_3, tile_##F##_##R##_4             \
    }
#define ROW_NARROW(F, R)                                                                           \
    {                                                                                              \
        tile_##F##_##R##_1, tile_##F##_##R##_2, NULL, NULL                                         \
    }
#define TABLE(F)                                                                                   \
    {                                                                                              \
        ROW_WIDE(F, 1), ROW_WIDE(F, 2), ROW_WIDE(F, 3), ROW_WIDE(F, 4), ROW_NARROW(F, 5),          \
            ROW_NARROW(F, 6), ROW_NARROW(F, 7), ROW_NARROW(F, 8)                                   \
    }
static const tile_fn TILES_Q41[VI_QL_MAX_MR][VI_QL_MAX_NP] = TABLE(q41);
static const tile_fn TILES_Q80[VI_QL_MAX_MR][VI_QL_MAX_NP] = TABLE(q80);

/* Panels in groups of VI_QL_MAX_NP (kept in L1 while every row passes over
 * them); rows in tiles of up to 8 (2 panels wide) or, for the last 1..4
 * rows, up to 4 (4 panels wide). */
static void run(const vi_ql_job *j, const tile_fn tiles[VI_QL_MAX_MR][VI_QL_MAX_NP])
{
    for (int64_t g = 0; g < j->np; g += VI_QL_MAX_NP) {
        int64_t g1 = g + VI_QL_MAX_NP < j->np ? g + VI_QL_MAX_NP : j->np;
        for (int64_t m0 = 0; m0 < j->M;) {
            int64_t left = j->M - m0;
            int mr = left >= VI_QL_MAX_MR ? VI_QL_MAX_MR : (int)left;
            int64_t npmax = mr > 4 ? 2 : 4;
            for (int64_t p = g; p < g1; p += npmax) {
                int64_t np = g1 - p < npmax ? g1 - p : npmax;
                int64_t cols = j->ncols - p * VI_QL_P;
                cols = cols < np * VI_QL_P ? cols : np * VI_QL_P;
                tiles[mr - 1][np - 1](j, j->w + p * j->panel_bytes, m0, j->y + p * VI_QL_P, cols);
            }
            m0 += mr;
        }
    }
}

void vi_ql_q4_1_avx512(const vi_ql_job *j)
{
    run(j, TILES_Q41);
}

void vi_ql_q8_0_avx512(const vi_ql_job *j)
{
    run(j, TILES_Q80);
}
