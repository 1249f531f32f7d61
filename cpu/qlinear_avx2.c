/* cpu/qlinear_avx2.c — the AVX2 Q4_1 / Q8_0 panel kernels: register tiles of
 * up to 2 rows x 2 panels or 6 rows x 1 panel (a panel is two 8-lane
 * vectors), weights dequantised in registers.
 *
 * The same sequence as the AVX-512 kernels (cpu/qlinear_avx512.c), per lane:
 * d and m widened exactly (bit manipulation: AVX2 has no half conversion),
 * then per element w = fmaf((float)q, d, m) (Q4_1, == fl(d * q) + m since
 * d * q is exact) or w = (float)q * d (Q8_0), acc = fmaf(x[e], w, acc) per
 * row, one chain per column per 128-long K-chunk from +0, chunk sums added
 * to y from +0 in increasing order, NaNs canonical on store. */
#include <immintrin.h>

#include "qlinear_kernel.h"

#define AVX2_MR 6
#define AVX2_NP 2
#define LDB (AVX2_NP * VI_QL_P) /* floats per row of the tile buffer */

/* 8 halves at p (little-endian) widened exactly: the magnitude bits moved to
 * a float's exponent / mantissa position and scaled by 2^112 (exact, also
 * for subnormal halves), exponent 31 mapped to infinity / NaN with the
 * payload kept, then the sign. */
static inline __attribute__((always_inline)) __m256 f16x8(const uint8_t *p)
{
    __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    __m256i sign = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)), 16);
    __m256i em = _mm256_and_si256(h, _mm256_set1_epi32(0x7fff));
    __m256i bits = _mm256_slli_epi32(em, 13);
    __m256 v = _mm256_mul_ps(_mm256_castsi256_ps(bits), _mm256_set1_ps(0x1p112f));
    __m256i special = _mm256_cmpgt_epi32(em, _mm256_set1_epi32(0x7bff));
    __m256 infnan = _mm256_castsi256_ps(_mm256_or_si256(bits, _mm256_set1_epi32(0x7f800000)));
    v = _mm256_blendv_ps(v, infnan, _mm256_castsi256_ps(special));
    return _mm256_or_ps(v, _mm256_castsi256_ps(sign));
}

/* Accumulators c<row>_<vector>, vector v = 2 panel + half; see the AVX-512 file. */
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define VECS4(X) X(0) X(1) X(2) X(3)
#define DECL(r) __m256 c##r##_0 = z, c##r##_1 = z, c##r##_2 = z, c##r##_3 = z;
#define FMA(r, v)                                                                                  \
    if (v < nv)                                                                                    \
        c##r##_##v = _mm256_fmadd_ps(xv, w##v, c##r##_##v);
#define STEP(r)                                                                                    \
    if (r < mr) {                                                                                  \
        const __m256 xv = _mm256_broadcast_ss(xe + r * ldx);                                       \
        FMA(r, 0) FMA(r, 1) FMA(r, 2) FMA(r, 3)                                                    \
    }
#define FLUSH1(r, v)                                                                               \
    if (v < nv) {                                                                                  \
        float *yb = ybuf + r * LDB + 8 * v;                                                        \
        __m256 prev = first ? z : _mm256_load_ps(yb);                                              \
        _mm256_store_ps(yb, _mm256_add_ps(prev, c##r##_##v));                                      \
        c##r##_##v = z;                                                                            \
    }
#define FLUSH(r)                                                                                   \
    if (r < mr) {                                                                                  \
        FLUSH1(r, 0) FLUSH1(r, 1) FLUSH1(r, 2) FLUSH1(r, 3)                                        \
    }
/* the panel block of vector v and its widened scales (8 lanes at 8 v) */
#define SCALES(v)                                                                                  \
    if (v < nv) {                                                                                  \
        blk##v = w + (v / 2) * pbytes + b * pb;                                                    \
        _mm256_store_ps(ds + 8 * v, f16x8(blk##v + 16 * (v & 1)));                                 \
        if (!q8)                                                                                   \
            _mm256_store_ps(ms + 8 * v, f16x8(blk##v + 32 + 16 * (v & 1)));                        \
    }
/* few-row tiles are bound by memory: the same block two tiles further on
 * (2 np panels) is fetched ahead, one line per 64 bytes, from the panel's
 * first vector */
#define PREFETCH(v)                                                                                \
    if (v < nv && (v & 1) == 0) {                                                                  \
        const char *ahead = (const char *)blk##v + 2 * np * pbytes;                                \
        for (int64_t o = 0; o < pb; o += 64)                                                       \
            _mm_prefetch(ahead + o, _MM_HINT_T0);                                                  \
    }
#define DEQ_Q8(v)                                                                                  \
    if (v < nv) {                                                                                  \
        __m256i q = _mm256_cvtepi8_epi32(                                                          \
            _mm_loadl_epi64((const __m128i *)(blk##v + 32 + 16 * e + 8 * (v & 1))));               \
        w##v = _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_load_ps(ds + 8 * v));                   \
    }
#define DEQ_Q4(v)                                                                                  \
    if (v < nv) {                                                                                  \
        __m256i q = _mm256_cvtepu8_epi32(                                                          \
            _mm_loadl_epi64((const __m128i *)(blk##v + 64 + 16 * e + 8 * (v & 1))));               \
        q = hi ? _mm256_srli_epi32(q, 4) : _mm256_and_si256(q, lo4);                               \
        w##v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_load_ps(ds + 8 * v),                  \
                               _mm256_load_ps(ms + 8 * v));                                        \
    }

/* One mr x np tile: rows m0.. of x, panels starting at w; y is the output of
 * the tile's first column in row m0; ncols columns are stored. */
static inline __attribute__((always_inline)) void tile(const vi_ql_job *j, const uint8_t *w,
                                                       int64_t m0, float *y, int64_t ncols,
                                                       const int q8, const int mr, const int np)
{
    const int nv = 2 * np;
    const __m256 z = _mm256_setzero_ps();
    const __m256i lo4 = _mm256_set1_epi32(15);
    const int64_t pb = q8 ? VI_QL_Q8_0_PB : VI_QL_Q4_1_PB;
    const int64_t pbytes = j->panel_bytes, ldx = j->K, nb = j->nb;
    const float *x = j->x + m0 * ldx;
    _Alignas(32) float ybuf[AVX2_MR * LDB];
    _Alignas(32) float ds[4 * 8], ms[4 * 8];
    ROWS6(DECL)
    __m256 w0 = z, w1 = z, w2 = z, w3 = z;
    const uint8_t *blk0 = w, *blk1 = w, *blk2 = w, *blk3 = w;
    for (int64_t b0 = 0; b0 < nb; b0 += VI_QL_CHUNK_BLOCKS) {
        int64_t b1 = b0 + VI_QL_CHUNK_BLOCKS < nb ? b0 + VI_QL_CHUNK_BLOCKS : nb;
        for (int64_t b = b0; b < b1; b++) {
            VECS4(SCALES)
            if (mr <= 2)
                VECS4(PREFETCH)
            const float *xe = x + b * VI_QL_BLOCK;
            if (q8) {
                for (int e = 0; e < 32; e++, xe++) {
                    VECS4(DEQ_Q8)
                    ROWS6(STEP)
                }
            } else {
                for (int hi = 0; hi < 2; hi++)
                    for (int e = 0; e < 16; e++, xe++) {
                        VECS4(DEQ_Q4)
                        ROWS6(STEP)
                    }
            }
        }
        const int first = b0 == 0;
        ROWS6(FLUSH)
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
#define TILES_FORMAT(F, Q)                                                                         \
    TILE(F, Q, 1, 1)                                                                               \
    TILE(F, Q, 1, 2)                                                                               \
    TILE(F, Q, 2, 1) TILE(F, Q, 2, 2) TILE(F, Q, 3, 1) TILE(F, Q, 4, 1) TILE(F, Q, 5, 1)           \
        TILE(F, Q, 6, 1)
TILES_FORMAT(q41, 0)
TILES_FORMAT(q80, 1)

#define TABLE(F)                                                                                   \
    {                                                                                              \
        {tile_##F##_1_1, tile_##F##_1_2}, {tile_##F##_2_1, tile_##F##_2_2},                        \
            {tile_##F##_3_1, NULL}, {tile_##F##_4_1, NULL}, {tile_##F##_5_1, NULL},                \
        {                                                                                          \
            tile_##F##_6_1, NULL                                                                   \
        }                                                                                          \
    }
static const tile_fn TILES_Q41[AVX2_MR][AVX2_NP] = TABLE(q41);
static const tile_fn TILES_Q80[AVX2_MR][AVX2_NP] = TABLE(q80);

/* Panels in pairs (kept in L1 while every row passes over them); rows in
 * tiles of up to 6 (one panel wide) or, for the last 1..2 rows, two panels. */
static void run(const vi_ql_job *j, const tile_fn tiles[AVX2_MR][AVX2_NP])
{
    for (int64_t g = 0; g < j->np; g += AVX2_NP) {
        int64_t g1 = g + AVX2_NP < j->np ? g + AVX2_NP : j->np;
        for (int64_t m0 = 0; m0 < j->M;) {
            int64_t left = j->M - m0;
            int mr = left >= AVX2_MR ? AVX2_MR : (int)left;
            int64_t npmax = mr > 2 ? 1 : 2;
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

void vi_ql_q4_1_avx2(const vi_ql_job *j)
{
    run(j, TILES_Q41);
}

void vi_ql_q8_0_avx2(const vi_ql_job *j)
{
    run(j, TILES_Q80);
}
