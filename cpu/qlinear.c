/* cpu/qlinear.c — quantised linear layers: preparing a weight (Q4_1 / Q8_0
 * repacked into the 16-row panels of cpu/qlinear_kernel.h, other formats
 * copied as rows), ISA dispatch, the threaded driver and the generic path.
 *
 * Generic path (F32, F16, BF16, Q4_0, Q4_K, Q6_K): a task owns VI_LIN_NR
 * consecutive weight rows; per 256-element K-segment (a whole block of every
 * format) it dequantises those rows with vi_dequant_row into a k-major
 * buffer and runs the float strip kernels of cpu/linear over the segment's
 * 128-long chunks. Both paths give each output exactly the canonical
 * sequence of vi_qdot_ref. */
#include "qlinear.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/quant.h"
#include "linear_kernel.h"
#include "qlinear_kernel.h"

#define QL_SEG 256                      /* generic path: K-segment, a multiple of every block */
#define QL_HUGE_BYTES ((size_t)2 << 20) /* data this large gets huge pages */
#define QL_POOL_MIN_MACS                                                                           \
    ((int64_t)1 << 18) /* smaller calls run on the calling thread:                                 \
                        * waking the pool costs more than it saves */

struct vi_qlinear {
    vi_ggml_type type;
    int64_t N, K;
    int64_t row_bytes;   /* bytes of one row in the file's layout */
    int packed;          /* 1: Q4_1 / Q8_0 panels; 0: rows as in the file */
    int64_t n_panels;    /* packed: ceil(N / VI_QL_P) */
    int64_t panel_bytes; /* packed: (K / 32) * panel block bytes */
    uint8_t *data;
    uint64_t bytes;
};

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* ==== prepare ==== */

/* Panel block b of panel p from the file's rows (row_bytes apart). */
static void repack_block(const vi_qlinear *q, const uint8_t *w, int64_t p, int64_t b, uint8_t *dst)
{
    size_t bb = vi_ggml_type_block_bytes(q->type);
    for (int r = 0; r < VI_QL_P; r++) {
        int64_t n = p * VI_QL_P + r;
        if (n >= q->N)
            break; /* the rest stays zero */
        const uint8_t *src = w + n * q->row_bytes + b * (int64_t)bb;
        if (q->type == VI_GGML_Q4_1) {
            memcpy(dst + 2 * r, src, 2);
            memcpy(dst + 32 + 2 * r, src + 2, 2);
            for (int j = 0; j < 16; j++)
                dst[64 + 16 * j + r] = src[4 + j];
        } else {
            memcpy(dst + 2 * r, src, 2);
            for (int j = 0; j < 32; j++)
                dst[32 + 16 * j + r] = src[2 + j];
        }
    }
}

vi_status vi_qlinear_prepare(vi_qlinear **out, vi_ggml_type t, const void *w, int64_t N, int64_t K,
                             vi_error *err)
{
    vi_status st = VI_OK;
    vi_qlinear *q = NULL;
    if (!out)
        return vi_fail(err, VI_ERR_INVALID, "qlinear prepare: no output pointer given");
    *out = NULL;
    if (!vi_ggml_type_supported((uint32_t)t))
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "qlinear prepare: weight type %u is not supported (F32, F16, BF16, Q4_0, "
                       "Q4_1, Q8_0, Q4_K, Q6_K are)",
                       (unsigned)t);
    const char *tn = vi_ggml_type_name(t);
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "qlinear prepare: %s weight pointer is NULL", tn);
    if (N < 1 || K < 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "qlinear prepare: %s weight shape N=%lld K=%lld must have N >= 1 and K >= 1",
                       tn, (long long)N, (long long)K);
    int64_t bs = (int64_t)vi_ggml_type_block_size(t), bb = (int64_t)vi_ggml_type_block_bytes(t);
    if (K % bs != 0)
        return vi_fail(
            err, VI_ERR_INVALID,
            "qlinear prepare: %s row length K=%lld is not a multiple of the block size %lld", tn,
            (long long)K, (long long)bs);
    int64_t nb = K / bs;
    int packed = t == VI_GGML_Q4_1 || t == VI_GGML_Q8_0;
    int64_t unit = packed ? (t == VI_GGML_Q4_1 ? VI_QL_Q4_1_PB : VI_QL_Q8_0_PB) : bb;
    int64_t units = packed ? ceil_div(N, VI_QL_P) : N;
    const int64_t limit =
        (int64_t)(SIZE_MAX / 4 < (uint64_t)INT64_MAX / 4 ? SIZE_MAX / 4 : (uint64_t)INT64_MAX / 4);
    if (nb > limit / unit || units > limit / (nb * unit))
        return vi_fail(err, VI_ERR_LIMIT,
                       "qlinear prepare: %s weight N=%lld K=%lld is too large to address", tn,
                       (long long)N, (long long)K);

    q = calloc(1, sizeof *q);
    if (!q)
        return vi_fail(err, VI_ERR_NOMEM, "qlinear prepare: out of memory");
    q->type = t;
    q->N = N;
    q->K = K;
    q->row_bytes = nb * bb;
    q->packed = packed;
    q->n_panels = packed ? units : 0;
    q->panel_bytes = packed ? nb * unit : 0;
    q->bytes = (uint64_t)(units * nb * unit);
    size_t align = q->bytes >= QL_HUGE_BYTES ? QL_HUGE_BYTES : 64;
    size_t alloc = (size_t)(q->bytes + align - 1) / align * align;
    q->data = aligned_alloc(align, alloc);
    if (!q->data) {
        st = vi_fail(err, VI_ERR_NOMEM,
                     "qlinear prepare: out of memory for a %s %lld x %lld weight (%zu bytes)", tn,
                     (long long)N, (long long)K, alloc);
        goto fail;
    }
#ifdef MADV_HUGEPAGE
    if (align == QL_HUGE_BYTES)
        (void)madvise(q->data, alloc, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    if (!packed) {
        memcpy(q->data, w, (size_t)q->bytes);
    } else {
        memset(q->data, 0, alloc);
        for (int64_t p = 0; p < q->n_panels; p++)
            for (int64_t b = 0; b < nb; b++)
                repack_block(q, w, p, b, q->data + p * q->panel_bytes + b * unit);
    }
    *out = q;
    return VI_OK;

fail:
    vi_qlinear_free(q);
    return st;
}

void vi_qlinear_free(vi_qlinear *q)
{
    if (!q)
        return;
    free(q->data);
    free(q);
}

int64_t vi_qlinear_n(const vi_qlinear *q)
{
    return q->N;
}

int64_t vi_qlinear_k(const vi_qlinear *q)
{
    return q->K;
}

vi_ggml_type vi_qlinear_type(const vi_qlinear *q)
{
    return q->type;
}

uint64_t vi_qlinear_bytes(const vi_qlinear *q)
{
    return q->bytes;
}

/* ==== dispatch ==== */

static vi_isa resolve_isa(vi_isa isa)
{
    return isa == VI_ISA_AUTO || !vi_isa_supported(isa) ? vi_isa_detect() : isa;
}

static vi_ql_fn pick_panel_fn(vi_ggml_type t, vi_isa isa)
{
    int q41 = t == VI_GGML_Q4_1;
    switch (isa) {
    case VI_ISA_AVX512:
        return q41 ? vi_ql_q4_1_avx512 : vi_ql_q8_0_avx512;
    case VI_ISA_AVX2:
        return q41 ? vi_ql_q4_1_avx2 : vi_ql_q8_0_avx2;
    default:
        return q41 ? vi_ql_q4_1_scalar : vi_ql_q8_0_scalar;
    }
}

static vi_lin_strip_fn pick_strip(vi_isa isa)
{
    switch (isa) {
    case VI_ISA_AVX512:
        return vi_lin_strip_avx512;
    case VI_ISA_AVX2:
        return vi_lin_strip_avx2;
    default:
        return vi_lin_strip_scalar;
    }
}

/* ==== the threaded driver ==== */

typedef struct ql_run {
    const vi_qlinear *q;
    const float *x;
    float *y;
    int64_t M;
    int64_t per_task; /* packed: panels per task; generic: rows per task (VI_LIN_NR) */
    vi_ql_fn panel_fn;
    vi_lin_strip_fn strip;
} ql_run;

static void panel_task(void *arg, int64_t task)
{
    const ql_run *r = arg;
    const vi_qlinear *q = r->q;
    int64_t p0 = task * r->per_task;
    vi_ql_job j;
    j.np = min64(r->per_task, q->n_panels - p0);
    j.w = q->data + p0 * q->panel_bytes;
    j.panel_bytes = q->panel_bytes;
    j.nb = q->K / VI_QL_BLOCK;
    j.x = r->x;
    j.M = r->M;
    j.K = q->K;
    j.y = r->y + p0 * VI_QL_P;
    j.ldy = q->N;
    j.ncols = min64(j.np * VI_QL_P, q->N - p0 * VI_QL_P);
    r->panel_fn(&j);
}

/* Generic path: weight rows [n0, n0 + ncols), every row of x. */
static void generic_task(void *arg, int64_t task)
{
    const ql_run *r = arg;
    const vi_qlinear *q = r->q;
    int64_t n0 = task * VI_LIN_NR;
    int ncols = (int)min64(VI_LIN_NR, q->N - n0);
    int64_t ldw = ceil_div(ncols, VI_LIN_NPAD) * VI_LIN_NPAD;
    int64_t bs = (int64_t)vi_ggml_type_block_size(q->type);
    int64_t bb = (int64_t)vi_ggml_type_block_bytes(q->type);
    _Alignas(64) float wbuf[QL_SEG * VI_LIN_NR]; /* [k][column], ldw per k */
    _Alignas(64) float row[QL_SEG];
    for (int64_t k = 0; k < QL_SEG; k++)
        for (int64_t c = ncols; c < ldw; c++)
            wbuf[k * ldw + c] = 0.0f; /* padding: read by the strip, never stored */
    vi_lin_strip s;
    s.ldx = q->K;
    s.ldw = ldw;
    s.y = r->y + n0;
    s.ldy = q->N;
    s.bias = NULL;
    s.pf = NULL;
    s.pf_lines = 0;
    s.rows = r->M;
    s.ncols = ncols;
    for (int64_t k0 = 0; k0 < q->K; k0 += QL_SEG) {
        int64_t seg = min64(QL_SEG, q->K - k0);
        for (int c = 0; c < ncols; c++) {
            vi_dequant_row(q->type, q->data + (n0 + c) * q->row_bytes + k0 / bs * bb, row, seg);
            for (int64_t k = 0; k < seg; k++)
                wbuf[k * ldw + c] = row[k];
        }
        for (int64_t c0 = 0; c0 < seg; c0 += VI_DOT_CHUNK) {
            s.kc = (int)min64(VI_DOT_CHUNK, seg - c0);
            s.x = r->x + k0 + c0;
            s.w = wbuf + c0 * ldw;
            s.first = k0 + c0 == 0;
            s.last = k0 + c0 + s.kc == q->K;
            r->strip(&s);
        }
    }
}

/* Panels per task for `threads` threads: the size in VI_QL_MAX_NP .. 2 whose
 * busiest thread (tasks dealt round) gets the fewest panels, the larger size
 * on a tie; one task when there is a single thread. */
static int64_t panels_per_task(int64_t n_panels, int threads)
{
    if (threads <= 1)
        return n_panels;
    int64_t best = VI_QL_MAX_NP, best_load = INT64_MAX;
    for (int64_t pb = VI_QL_MAX_NP; pb >= 2; pb--) {
        int64_t load = ceil_div(ceil_div(n_panels, pb), threads) * pb;
        if (load < best_load) {
            best = pb;
            best_load = load;
        }
    }
    return best;
}

/* Several weights over one x in one pool pass: their tasks laid end to end. */
typedef struct ql_multi {
    ql_run runs[VI_QLINEAR_MAX_MULTI];
    int64_t first_task[VI_QLINEAR_MAX_MULTI + 1];
    int n;
} ql_multi;

static void multi_task(void *arg, int64_t task)
{
    ql_multi *mu = arg;
    int i = 0;
    while (task >= mu->first_task[i + 1])
        i++;
    if (mu->runs[i].q->packed)
        panel_task(&mu->runs[i], task - mu->first_task[i]);
    else
        generic_task(&mu->runs[i], task - mu->first_task[i]);
}

/* Runs qs[0..n) (valid, same K) over x; see vi_qlinear_run_multi. */
static void run_weights(const vi_qlinear *const *qs, float *const *ys, int n, const float *x,
                        int64_t M, vi_isa isa, vi_pool *pool)
{
    isa = resolve_isa(isa);
    int64_t macs = 0;
    for (int i = 0; i < n; i++)
        macs += M * qs[i]->N * qs[i]->K;
    if (macs < QL_POOL_MIN_MACS)
        pool = NULL;
    int threads = vi_pool_threads(pool);
    ql_multi mu;
    mu.n = n;
    mu.first_task[0] = 0;
    for (int i = 0; i < n; i++) {
        const vi_qlinear *q = qs[i];
        ql_run *r = &mu.runs[i];
        r->q = q;
        r->x = x;
        r->y = ys[i];
        r->M = M;
        r->panel_fn = NULL;
        r->strip = NULL;
        int64_t tasks;
        if (q->packed) {
            r->panel_fn = pick_panel_fn(q->type, isa);
            r->per_task = panels_per_task(q->n_panels, threads);
            tasks = ceil_div(q->n_panels, r->per_task);
        } else {
            r->strip = pick_strip(isa);
            r->per_task = VI_LIN_NR;
            tasks = ceil_div(q->N, VI_LIN_NR);
        }
        mu.first_task[i + 1] = mu.first_task[i] + tasks;
    }
    vi_pool_run(pool, mu.first_task[n], multi_task, &mu);
}

void vi_qlinear_run(const vi_qlinear *q, const float *x, int64_t M, float *y, vi_isa isa,
                    vi_pool *pool)
{
    if (!q || M < 1)
        return;
    run_weights(&q, &y, 1, x, M, isa, pool);
}

vi_status vi_qlinear_run_multi(const vi_qlinear *const *qs, float *const *ys, int n, const float *x,
                               int64_t M, vi_isa isa, vi_pool *pool, vi_error *err)
{
    if (n < 1 || n > VI_QLINEAR_MAX_MULTI || !qs || !ys)
        return vi_fail(err, VI_ERR_INVALID,
                       "qlinear run_multi: %d weights given, 1 to %d (with their outputs) needed",
                       n, VI_QLINEAR_MAX_MULTI);
    for (int i = 0; i < n; i++) {
        if (!qs[i] || !ys[i])
            return vi_fail(err, VI_ERR_INVALID,
                           "qlinear run_multi: weight %d or its output is NULL", i);
        if (qs[i]->K != qs[0]->K)
            return vi_fail(err, VI_ERR_INVALID,
                           "qlinear run_multi: weight %d has K=%lld, weight 0 has K=%lld: all "
                           "must read the same x",
                           i, (long long)qs[i]->K, (long long)qs[0]->K);
    }
    if (M < 1)
        return VI_OK;
    run_weights(qs, ys, n, x, M, isa, pool);
    return VI_OK;
}
