/* cpu/qlinear.h — linear layers over quantised weights (y = x W^T with W in
 * a ggml format, no bias) on the CPU: fast AVX2 / AVX-512 kernels and a
 * scalar path, all bit-identical to the scalar reference vi_qdot_ref of
 * core/quant.h.
 *
 * Every output element is the canonical dot product of core/order.h over
 * the dequantised weights (core/quant.h formulas): per 128-long K-chunk,
 * p = +0 then p = fmaf(x[k], w[k], p) in increasing k; y = +0 + p_0 + p_1 ...
 * left to right; a NaN result is the canonical NaN. The bits of y[m][n]
 * therefore depend only on row m of x and row n of W: never on M, on the
 * position of the row in the batch, on the thread count or on the ISA.
 *
 * Q4_1 and Q8_0 (the formats of SmolLM2-class GGUF models) have dedicated
 * kernels over weights repacked (still quantised) into 16-row panels; the
 * other formats dequantise blocks of rows into a small buffer and run the
 * float kernels of cpu/linear. */
#ifndef VI_CPU_QLINEAR_H
#define VI_CPU_QLINEAR_H

#include <stdint.h>

#include "../core/gguf.h"
#include "../core/status.h"
#include "isa.h"
#include "threadpool.h"

/* A quantised weight prepared for repeated use (owns a copy of the data). */
typedef struct vi_qlinear vi_qlinear;

/* Prepares w: N rows of K elements of type t in GGUF layout (ne[0] = K,
 * ne[1] = N; row n at byte n * (K / block) * block_bytes). The data is
 * copied (repacked for Q4_1 / Q8_0), so w may be released afterwards. Fails
 * with VI_ERR_INVALID (out or w NULL, N or K < 1, K not a multiple of the
 * type's block size), VI_ERR_UNSUPPORTED (a type core/quant.h does not
 * read), VI_ERR_LIMIT (sizes overflow) or VI_ERR_NOMEM; *out is then NULL. */
vi_status vi_qlinear_prepare(vi_qlinear **out, vi_ggml_type t, const void *w, int64_t N, int64_t K,
                             vi_error *err);

/* Frees a prepared weight; accepts NULL. */
void vi_qlinear_free(vi_qlinear *q);

/* Output width N, input width K and weight type of a prepared weight. */
int64_t vi_qlinear_n(const vi_qlinear *q);
int64_t vi_qlinear_k(const vi_qlinear *q);
vi_ggml_type vi_qlinear_type(const vi_qlinear *q);

/* Bytes of the prepared (repacked) weight data. */
uint64_t vi_qlinear_bytes(const vi_qlinear *q);

/* y [M, N] = x [M, K] (row-major, contiguous) times W^T: y[m][n] = canonical
 * dot of x[m][:] and row n. isa is SCALAR, AVX2 or AVX512 (AUTO or a path
 * this CPU lacks falls back to the best supported one; the bits are the
 * same); work is split over pool (may be NULL) by output-column blocks.
 * x and y must not overlap; nothing is done when q is NULL or M < 1. Uses
 * about 80 KB of stack on each thread that runs tasks. */
void vi_qlinear_run(const vi_qlinear *q, const float *x, int64_t M, float *y, vi_isa isa,
                    vi_pool *pool);

/* Most weights one vi_qlinear_run_multi call takes. */
#define VI_QLINEAR_MAX_MULTI 8

/* Runs n weights that read the same x (q, k and v; gate and up) in one pass
 * of the pool: ys[i] [M, N_i] = x [M, K] times qs[i]^T, every bit as
 * vi_qlinear_run gives it, with one pool wake-up instead of n. Fails with
 * VI_ERR_INVALID (nothing computed) when n is not 1..VI_QLINEAR_MAX_MULTI,
 * an entry of qs or ys is NULL or the weights' K differ; M < 1 does nothing. */
vi_status vi_qlinear_run_multi(const vi_qlinear *const *qs, float *const *ys, int n, const float *x,
                               int64_t M, vi_isa isa, vi_pool *pool, vi_error *err);

#endif
