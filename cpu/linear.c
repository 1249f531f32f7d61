/* cpu/linear.c — linear and matmul on the CPU: the plain reference, weight
 * packing, the scalar strip, ISA dispatch and the threaded blocked driver.
 *
 * Packed weight layout (chunk-major, so a task streams it in order):
 *     for each K-chunk c (VI_DOT_CHUNK rows of W, the last may be shorter),
 *       for each column panel p (VI_LIN_NR columns, the last rounded up to
 *       VI_LIN_NPAD and zero padded):  W(c*VI_DOT_CHUNK + kk, p*VI_LIN_NR + j)
 *       at [kk][j], kk in [0, kc), j in [0, panel width).
 * The driver splits the outputs into tasks (a block of rows x a block of
 * panels); a task walks the chunks in increasing order and, per chunk, every
 * panel of its block with one strip call. Each output therefore sees exactly
 * the canonical sequence: chunk sums built from +0 with fmaf in increasing k,
 * added to y in increasing chunk order. */
#include "linear.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "linear_kernel.h"

#define LIN_ROW_BLOCK 96   /* rows per task at most (a multiple of 6 and of 8) */
#define LIN_PANEL_BLOCK 32 /* panels per task at most */
#define LIN_TASKS_PER_THREAD 4
#define LIN_PREFETCH_ROWS                                                                          \
    4                                    /* strips of fewer rows leave the weight stream to the    \
                                          * hardware prefetcher: software prefetch slows them */
#define LIN_HUGE_BYTES ((size_t)2 << 20) /* packed weights this large get huge pages */

struct vi_cpu_linear {
    int64_t N, K;
    int64_t n_panels; /* ceil(N / VI_LIN_NR) */
    int64_t lastw;    /* width of the last panel: its columns rounded up to VI_LIN_NPAD */
    int64_t npad;     /* (n_panels - 1) * VI_LIN_NR + lastw */
    float *packed;    /* K * npad floats, 64-byte aligned, layout above */
    float *bias;      /* [N] or NULL */
};

/* ==== reference ==== */

void vi_cpu_linear_ref(const float *w, int64_t N, int64_t K, int out_in, const float *bias,
                       const float *x, int64_t M, float *y)
{
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            const float *wn = out_in ? w + n * K : w + n;
            float v = vi_dot_ref(x + m * K, 1, wn, out_in ? 1 : N, K);
            if (bias)
                v = v + bias[n];
            y[m * N + n] = vi_canon_nan(v);
        }
}

/* ==== scalar strip (the same sequence, one output at a time) ==== */

void vi_lin_strip_scalar(const vi_lin_strip *s)
{
    for (int64_t r = 0; r < s->rows; r++) {
        const float *x = s->x + r * s->ldx;
        float *y = s->y + r * s->ldy;
        for (int j = 0; j < s->ncols; j++) {
            float p = 0.0f;
            for (int k = 0; k < s->kc; k++)
                p = VI_FMAF(x[k], s->w[(int64_t)k * s->ldw + j], p);
            float v = (s->first ? 0.0f : y[j]) + p;
            if (s->last) {
                if (s->bias)
                    v = v + s->bias[j];
                v = vi_canon_nan(v);
            }
            y[j] = v;
        }
    }
}

/* ==== prepare ==== */

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Copies W(k0 + kk, n0 + j) for kk < kc, j < wp into dst[kk * wp + j]; columns
 * at or beyond N are zero. ldk / ldn are W's strides along k and n. */
static void pack_panel(float *dst, const float *w, int64_t ldk, int64_t ldn, int64_t k0, int64_t kc,
                       int64_t n0, int64_t wp, int64_t N)
{
    int64_t nv = min64(wp, N - n0);
    for (int64_t kk = 0; kk < kc; kk++) {
        const float *src = w + (k0 + kk) * ldk + n0 * ldn;
        float *d = dst + kk * wp;
        if (ldn == 1)
            memcpy(d, src, (size_t)nv * sizeof *d);
        else
            for (int64_t j = 0; j < nv; j++)
                d[j] = src[j * ldn];
        for (int64_t j = nv; j < wp; j++)
            d[j] = 0.0f;
    }
}

vi_status vi_cpu_linear_prepare(const float *w, int64_t N, int64_t K, int out_in, const float *bias,
                                vi_cpu_linear **out, vi_error *err)
{
    vi_status st = VI_OK;
    vi_cpu_linear *lw = NULL;
    if (!out)
        return vi_fail(err, VI_ERR_INVALID, "linear prepare: no output pointer given");
    *out = NULL;
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "linear prepare: weight pointer is NULL");
    if (N < 1 || K < 1)
        return vi_fail(err, VI_ERR_INVALID,
                       "linear prepare: weight shape N=%lld K=%lld must have N >= 1 and K >= 1",
                       (long long)N, (long long)K);
    if (N > INT64_MAX / 2 || K > INT64_MAX / 2)
        return vi_fail(err, VI_ERR_LIMIT, "linear prepare: weight shape N=%lld K=%lld is too large",
                       (long long)N, (long long)K);
    int64_t n_panels = ceil_div(N, VI_LIN_NR);
    int64_t lastw = ceil_div(N - (n_panels - 1) * VI_LIN_NR, VI_LIN_NPAD) * VI_LIN_NPAD;
    int64_t npad = (n_panels - 1) * VI_LIN_NR + lastw;
    int64_t max_floats = (int64_t)(SIZE_MAX / 2 / sizeof(float)) < INT64_MAX / 2
                             ? (int64_t)(SIZE_MAX / 2 / sizeof(float))
                             : INT64_MAX / 2;
    if (K > max_floats / npad)
        return vi_fail(err, VI_ERR_LIMIT,
                       "linear prepare: packed weight for N=%lld K=%lld does not fit in memory "
                       "addressing",
                       (long long)N, (long long)K);

    lw = calloc(1, sizeof *lw);
    if (!lw)
        return vi_fail(err, VI_ERR_NOMEM, "linear prepare: out of memory");
    lw->N = N;
    lw->K = K;
    lw->n_panels = n_panels;
    lw->lastw = lastw;
    lw->npad = npad;
    size_t bytes = (size_t)(K * npad) * sizeof(float);
    /* large weights: 2 MiB aligned and marked for huge pages, so streaming
     * them does not walk page tables every 4 KiB */
    size_t align = bytes >= LIN_HUGE_BYTES ? LIN_HUGE_BYTES : 64;
    bytes = (bytes + align - 1) / align * align;
    lw->packed = aligned_alloc(align, bytes);
    if (!lw->packed) {
        st = vi_fail(err, VI_ERR_NOMEM,
                     "linear prepare: out of memory packing a %lld x %lld weight (%zu bytes)",
                     (long long)N, (long long)K, bytes);
        goto fail;
    }
#ifdef MADV_HUGEPAGE
    if (align == LIN_HUGE_BYTES)
        (void)madvise(lw->packed, bytes, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    if (bias) {
        lw->bias = malloc((size_t)N * sizeof(float));
        if (!lw->bias) {
            st = vi_fail(err, VI_ERR_NOMEM, "linear prepare: out of memory copying the bias [%lld]",
                         (long long)N);
            goto fail;
        }
        memcpy(lw->bias, bias, (size_t)N * sizeof(float));
    }
    int64_t ldk = out_in ? 1 : N, ldn = out_in ? K : 1;
    for (int64_t k0 = 0; k0 < K; k0 += VI_DOT_CHUNK) {
        int64_t kc = min64(VI_DOT_CHUNK, K - k0);
        float *chunk = lw->packed + k0 * npad;
        for (int64_t p = 0; p < n_panels; p++) {
            int64_t wp = p == n_panels - 1 ? lastw : VI_LIN_NR;
            pack_panel(chunk + p * VI_LIN_NR * kc, w, ldk, ldn, k0, kc, p * VI_LIN_NR, wp, N);
        }
    }
    *out = lw;
    return VI_OK;

fail:
    vi_cpu_linear_free(lw);
    return st;
}

void vi_cpu_linear_free(vi_cpu_linear *lw)
{
    if (!lw)
        return;
    free(lw->packed);
    free(lw->bias);
    free(lw);
}

int64_t vi_cpu_linear_n(const vi_cpu_linear *lw)
{
    return lw->N;
}

int64_t vi_cpu_linear_k(const vi_cpu_linear *lw)
{
    return lw->K;
}

/* ==== dispatch and the threaded driver ==== */

static vi_lin_strip_fn pick_strip(vi_isa isa)
{
    if (isa == VI_ISA_AUTO || !vi_isa_supported(isa))
        isa = vi_isa_detect();
    switch (isa) {
    case VI_ISA_AVX512:
        return vi_lin_strip_avx512;
    case VI_ISA_AVX2:
        return vi_lin_strip_avx2;
    default:
        return vi_lin_strip_scalar;
    }
}

/* One call of linear (packed != NULL) or matmul (b != NULL). */
typedef struct lin_job {
    vi_lin_strip_fn strip;
    const float *x;      /* [items][M][K] */
    const float *packed; /* linear: the packed weight */
    const float *b;      /* matmul: [items][K][N] */
    const float *bias;   /* linear: [N] or NULL */
    float *y;            /* [items][M][N] */
    int64_t M, K, N;
    int64_t n_panels, lastw, npad;
    int64_t mb, pb;     /* rows and panels per task */
    int64_t n_mb, n_pb; /* task grid per item */
} lin_job;

/* Address and size (in 64-byte lines) of the packed block of chunk k0, panel p. */
static const float *packed_block(const lin_job *j, int64_t k0, int64_t p, int64_t *lines)
{
    int64_t kc = min64(VI_DOT_CHUNK, j->K - k0);
    int64_t wp = p == j->n_panels - 1 ? j->lastw : VI_LIN_NR;
    *lines = kc * wp / 16;
    return j->packed + k0 * j->npad + p * VI_LIN_NR * kc;
}

/* One task: rows [m0, m1) x panels [p0, p1) of one item. Per K-chunk, the
 * rows' slice of x is copied into a compact buffer (rows of a power-of-two
 * length K would otherwise fight over the same L1 sets), then every panel of
 * the block gets one strip call. Uses about 72 KB of stack. */
static void lin_task(void *arg, int64_t task)
{
    const lin_job *j = arg;
    int64_t per_item = j->n_mb * j->n_pb;
    int64_t item = task / per_item;
    /* panel-block major: tasks that run together share a weight block in L3 */
    int64_t mi = task % per_item % j->n_mb, pi = task % per_item / j->n_mb;
    int64_t m0 = mi * j->mb, m1 = min64(j->M, m0 + j->mb);
    int64_t p0 = pi * j->pb, p1 = min64(j->n_panels, p0 + j->pb);
    const float *x = j->x + (item * j->M + m0) * j->K;
    const float *b = j->b ? j->b + item * j->K * j->N : NULL;
    float *y = j->y + (item * j->M + m0) * j->N;
    _Alignas(64) float xbuf[LIN_ROW_BLOCK * VI_DOT_CHUNK]; /* x[m0..m1, chunk] */
    _Alignas(64) float wbuf[VI_DOT_CHUNK * VI_LIN_NR];     /* matmul: b's block, packed */
    int prefetch = j->packed && m1 - m0 >= LIN_PREFETCH_ROWS;

    vi_lin_strip s;
    s.x = xbuf;
    s.ldy = j->N;
    s.rows = m1 - m0;
    for (int64_t k0 = 0; k0 < j->K; k0 += VI_DOT_CHUNK) {
        int64_t kc = min64(VI_DOT_CHUNK, j->K - k0);
        for (int64_t r = 0; r < s.rows; r++)
            memcpy(xbuf + r * kc, x + r * j->K + k0, (size_t)kc * sizeof(float));
        s.ldx = kc;
        s.kc = (int)kc;
        s.first = k0 == 0;
        s.last = k0 + kc == j->K;
        for (int64_t p = p0; p < p1; p++) {
            int64_t n0 = p * VI_LIN_NR, lines;
            s.ncols = (int)min64(VI_LIN_NR, j->N - n0);
            s.ldw = p == j->n_panels - 1 ? j->lastw : VI_LIN_NR;
            s.pf = NULL;
            s.pf_lines = 0;
            if (j->packed) {
                s.w = packed_block(j, k0, p, &lines);
                /* fetch the block of the next strip early: the next panel of
                 * this chunk, else the first panel of the next chunk */
                if (prefetch && (p + 1 < p1 || k0 + kc < j->K))
                    s.pf = p + 1 < p1 ? packed_block(j, k0, p + 1, &s.pf_lines)
                                      : packed_block(j, k0 + kc, p0, &s.pf_lines);
            } else {
                pack_panel(wbuf, b, j->N, 1, k0, kc, n0, s.ldw, j->N);
                s.w = wbuf;
            }
            s.y = y + n0;
            s.bias = s.last && j->bias ? j->bias + n0 : NULL;
            j->strip(&s);
        }
    }
}

/* Chooses the task grid: rows in at most LIN_ROW_BLOCK-row blocks, panels in
 * at most LIN_PANEL_BLOCK-panel blocks, both of near-equal size (rows rounded
 * to whole 8-row tiles), and enough blocks that every thread gets several. */
static void lin_plan(lin_job *j, int64_t items, int threads)
{
    j->n_mb = ceil_div(j->M, LIN_ROW_BLOCK);
    j->mb = min64(j->M, ceil_div(ceil_div(j->M, j->n_mb), 8) * 8);
    j->n_mb = ceil_div(j->M, j->mb);
    int64_t n_pb = ceil_div(j->n_panels, LIN_PANEL_BLOCK);
    int64_t want = threads > 1 ? (int64_t)threads * LIN_TASKS_PER_THREAD : 1;
    if (items * j->n_mb * n_pb < want)
        n_pb = min64(j->n_panels, ceil_div(want, items * j->n_mb));
    j->pb = ceil_div(j->n_panels, n_pb);
    j->n_pb = ceil_div(j->n_panels, j->pb);
}

void vi_cpu_linear_run(const vi_cpu_linear *lw, const float *x, int64_t M, float *y, vi_isa isa,
                       vi_pool *pool)
{
    if (!lw || M < 1)
        return;
    lin_job j = {0};
    j.strip = pick_strip(isa);
    j.x = x;
    j.packed = lw->packed;
    j.bias = lw->bias;
    j.y = y;
    j.M = M;
    j.K = lw->K;
    j.N = lw->N;
    j.n_panels = lw->n_panels;
    j.lastw = lw->lastw;
    j.npad = lw->npad;
    lin_plan(&j, 1, vi_pool_threads(pool));
    vi_pool_run(pool, j.n_mb * j.n_pb, lin_task, &j);
}

void vi_cpu_matmul_run(const float *a, const float *b, int64_t batch, int64_t M, int64_t K,
                       int64_t N, float *y, vi_isa isa, vi_pool *pool)
{
    if (batch < 1 || M < 1 || N < 1)
        return;
    if (K < 1) {
        for (int64_t i = 0; i < batch * M * N; i++)
            y[i] = 0.0f;
        return;
    }
    lin_job j = {0};
    j.strip = pick_strip(isa);
    j.x = a;
    j.b = b;
    j.y = y;
    j.M = M;
    j.K = K;
    j.N = N;
    j.n_panels = ceil_div(N, VI_LIN_NR);
    j.lastw = ceil_div(N - (j.n_panels - 1) * VI_LIN_NR, VI_LIN_NPAD) * VI_LIN_NPAD;
    j.npad = (j.n_panels - 1) * VI_LIN_NR + j.lastw;
    lin_plan(&j, batch, vi_pool_threads(pool));
    vi_pool_run(pool, batch * j.n_mb * j.n_pb, lin_task, &j);
}
