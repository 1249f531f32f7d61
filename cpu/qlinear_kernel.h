/* cpu/qlinear_kernel.h — internal to cpu/qlinear*.c: the repacked panel
 * layouts of Q4_1 and Q8_0 weights and the unit of work every ISA path of
 * those kernels implements. Not a public interface.
 *
 * A panel is VI_QL_P = 16 consecutive weight rows (output columns), the last
 * one zero-filled past N. Panel-major: panel p starts at p * nb * block
 * bytes, then its nb 32-element blocks in increasing k. One panel block:
 *   Q4_1 (VI_QL_Q4_1_PB = 320 bytes):
 *     [0, 32)    u16 d[16]        d of row r (f16 bits, as in the file)
 *     [32, 64)   u16 m[16]
 *     [64, 320)  u8 qs[16][16]    qs[j][r] = byte j of row r's qs: element j
 *                                 is its low nibble, element j + 16 its high
 *   Q8_0 (VI_QL_Q8_0_PB = 544 bytes):
 *     [0, 32)    u16 d[16]
 *     [32, 544)  i8 qs[32][16]    qs[j][r] = element j of row r
 * so that lane r of a 16-wide vector is output column r, and one load of 16
 * bytes gives the quant of element j for every column: the canonical order
 * vectorises across columns with a sequential fma chain per lane. Zero rows
 * (d = m = 0, q = 0) dequantise to +0 and are never stored. */
#ifndef VI_CPU_QLINEAR_KERNEL_H
#define VI_CPU_QLINEAR_KERNEL_H

#include <stdint.h>

#include "../core/order.h"

#define VI_QL_P 16                                      /* rows per panel */
#define VI_QL_BLOCK 32                                  /* elements per Q4_1 / Q8_0 block */
#define VI_QL_CHUNK_BLOCKS (VI_DOT_CHUNK / VI_QL_BLOCK) /* blocks per canonical K-chunk */
#define VI_QL_Q4_1_PB 320                               /* bytes of one Q4_1 panel block */
#define VI_QL_Q8_0_PB 544                               /* bytes of one Q8_0 panel block */
#define VI_QL_MAX_NP 4                                  /* panels per register tile at most */
#define VI_QL_MAX_MR 8                                  /* rows of x per register tile at most */

/* One call: every row of x times a run of np consecutive panels.
 *     y[m * ldy + c] = canonical dot of x[m * K ..] and panel column c,
 *     m in [0, M), c in [0, ncols), NaN written as the canonical NaN.
 * Columns at or past ncols are not written. */
typedef struct vi_ql_job {
    const uint8_t *w;    /* the first panel of the run */
    int64_t panel_bytes; /* nb * panel block bytes */
    int64_t nb;          /* blocks per row: K / 32 */
    const float *x;      /* [M][K], row-major */
    int64_t M, K;
    float *y; /* output column of the first panel's row 0 */
    int64_t ldy;
    int64_t np;    /* panels in the run, >= 1 */
    int64_t ncols; /* 16 (np - 1) < ncols <= 16 np */
} vi_ql_job;

typedef void (*vi_ql_fn)(const vi_ql_job *j);

void vi_ql_q4_1_scalar(const vi_ql_job *j);
void vi_ql_q4_1_avx2(const vi_ql_job *j);
void vi_ql_q4_1_avx512(const vi_ql_job *j);
void vi_ql_q8_0_scalar(const vi_ql_job *j);
void vi_ql_q8_0_avx2(const vi_ql_job *j);
void vi_ql_q8_0_avx512(const vi_ql_job *j);

/* Copies a register tile's result rows (ybuf rows of ldb floats) to y,
 * ncols per row, NaN made canonical. */
static inline void vi_ql_store(float *y, int64_t ldy, const float *ybuf, int64_t ldb, int rows,
                               int64_t ncols)
{
    for (int r = 0; r < rows; r++)
        for (int64_t c = 0; c < ncols; c++)
            y[r * ldy + c] = vi_canon_nan(ybuf[r * ldb + c]);
}

#endif
