/* tests/cuda/cross_check.h — the table of cross-backend cases, shared by the
 * emulated test (tests/cuda/test_cuda_ops.c) and the GPU conformance suite
 * (bench/gpu_conformance.c): every op on odd and even shapes, and whole
 * generated models through the engine, run on a reference backend (the
 * scalar CPU) and a backend under test, compared with memcmp (models also in
 * fast mode: within the model's tolerance, core/tolerance.h). Outputs of the
 * backend under test are surrounded by guard bytes that must survive.
 *
 * Header-only (static functions) so that both programs compile it without
 * a shared object; each result goes to a caller-supplied report callback. */
#ifndef VI_TEST_CROSS_CHECK_H
#define VI_TEST_CROSS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/backend.h"
#include "core/engine.h"
#include "core/model.h"
#include "core/order.h"
#include "core/tolerance.h"
#include "models/gen_model.h"

#define XC_GUARD 64 /* guard bytes before and after each output */
#define XC_GUARD_BYTE 0xa5
/* every function here is static; a program may use only some of them */
#define XC_FN static __attribute__((unused))

/* One compared case. */
typedef struct xc_result {
    const char *op;
    char shape[160];
    int equal;          /* 1: identical bits (and guards intact, same status) */
    int64_t first_diff; /* first differing element, -1 when none or not applicable */
    char note[256];     /* why it differs ("" when equal) */
} xc_result;

typedef void (*xc_report_fn)(void *user, const xc_result *r);

typedef struct xc_ctx {
    vi_backend *ref, *dut; /* reference (CPU) and backend under test */
    xc_report_fn report;
    void *user;
    int n_cases, n_diff;
    uint64_t rng;
    const char *label; /* appended to each shape, e.g. the forced kernel */
} xc_ctx;

/* ==== data ==== */

XC_FN uint64_t xc_next(xc_ctx *c)
{
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits. */
XC_FN float xc_unit(xc_ctx *c)
{
    return (float)(xc_next(c) >> 40) * 0x1p-24f;
}

typedef enum {
    XC_PLAIN = 0, /* uniform in [-2, 2) */
    XC_WIDE,      /* random sign, exponents over 2^-12 .. 2^12: reordering shows */
    XC_SPECIAL    /* XC_WIDE plus NaN, +-inf, -0, +0, subnormals, huge values */
} xc_mode;

XC_FN float xc_value(xc_ctx *c, xc_mode mode)
{
    if (mode == XC_PLAIN)
        return xc_unit(c) * 4.0f - 2.0f;
    if (mode == XC_SPECIAL && xc_next(c) % 16 == 0) {
        static const uint32_t SPECIAL[] = {0x7fc00000u, 0xffc00001u, 0x7f800000u, 0xff800000u,
                                           0x80000000u, 0x00000000u, 0x00000003u, 0x807fffffu,
                                           0x7f7fffffu, 0xff7fffffu, 0x7fa00000u};
        return vi_bits_f32(SPECIAL[xc_next(c) % (sizeof SPECIAL / sizeof SPECIAL[0])]);
    }
    float m = 1.0f + xc_unit(c);
    int e = (int)(xc_next(c) % 25) - 12;
    float v = m * vi_bits_f32((uint32_t)(e + 127) << 23);
    return xc_next(c) & 1 ? -v : v;
}

XC_FN float *xc_floats(xc_ctx *c, int64_t n, xc_mode mode)
{
    float *v = (float *)malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!v)
        abort();
    for (int64_t i = 0; i < n; i++)
        v[i] = xc_value(c, mode);
    return v;
}

/* ==== one case ==== */

typedef struct xc_case {
    vi_op op;
    int gelu_tanh;
    int inplace;            /* y written over x (unary, binary, softmax, norms) */
    int out_in;             /* linear weight layout */
    int x_off;              /* floats by which x is misaligned in its buffer */
    int64_t M, N, K, batch; /* linear / matmul */
    int64_t n, nb;          /* elementwise */
    int64_t rows, D, V;     /* row ops, embedding */
    float eps;
    const float *x;  /* main input */
    const float *w;  /* weight / b operand / bv / gamma / table */
    const float *w2; /* bias / beta, or NULL */
    const int64_t *ids;
} xc_case;

XC_FN int64_t xc_x_count(const xc_case *k)
{
    switch (k->op) {
    case VI_OP_LINEAR:
        return k->M * k->K;
    case VI_OP_MATMUL:
        return k->batch * k->M * k->K;
    case VI_OP_ADD:
    case VI_OP_MUL:
    case VI_OP_RELU:
    case VI_OP_GELU:
    case VI_OP_TANH:
    case VI_OP_SIGMOID:
        return k->n;
    case VI_OP_EMBEDDING:
        return 0;
    default:
        return k->rows * k->D;
    }
}

XC_FN int64_t xc_out_count(const xc_case *k)
{
    switch (k->op) {
    case VI_OP_LINEAR:
        return k->M * k->N;
    case VI_OP_MATMUL:
        return k->batch * k->M * k->N;
    case VI_OP_ARGMAX:
        return k->rows;
    case VI_OP_EMBEDDING:
        return k->n * k->D;
    default:
        return xc_x_count(k);
    }
}

XC_FN size_t xc_out_elem(const xc_case *k)
{
    return k->op == VI_OP_ARGMAX ? sizeof(int64_t) : sizeof(float);
}

/* Uploads n floats (n may be 0) into new backend memory; NULL on failure. */
XC_FN void *xc_put(vi_backend *b, const void *host, size_t bytes)
{
    void *d = b->alloc(b, bytes ? bytes : 1);
    if (d && bytes && b->upload(b, d, host, bytes) != VI_OK) {
        b->free(b, d);
        return NULL;
    }
    return d;
}

/* Runs a case on b; the output (out_bytes) lands in host_out. *guards_ok is
 * 0 when a byte around the output changed. Returns the op's status. */
XC_FN vi_status xc_exec(vi_backend *b, const xc_case *k, void *host_out, size_t out_bytes,
                        int *guards_ok, char *why, size_t whysize)
{
    vi_error err = {{0}};
    vi_status st = VI_OK;
    const int64_t nx = xc_x_count(k);
    const size_t xbytes = (size_t)nx * sizeof(float);
    size_t whole = out_bytes + 2 * XC_GUARD;
    /* the guarded output buffer; in place, x is uploaded into it */
    unsigned char *img = (unsigned char *)malloc(whole);
    if (!img)
        abort();
    memset(img, XC_GUARD_BYTE, whole);
    if (k->inplace)
        memcpy(img + XC_GUARD, k->x, xbytes);
    unsigned char *dout = (unsigned char *)xc_put(b, img, whole);
    float *dx = NULL, *dw = NULL, *dw2 = NULL;
    int64_t *dids = NULL;
    void *prep = NULL;
    *guards_ok = 1;
    why[0] = 0;
    if (!dout) {
        snprintf(why, whysize, "allocating the output failed");
        free(img);
        return VI_ERR_NOMEM;
    }
    float *y = (float *)(dout + XC_GUARD);
    const float *xin = y;
    if (!k->inplace && k->op != VI_OP_EMBEDDING) {
        float *xh = (float *)calloc((size_t)(nx + k->x_off) + 1, sizeof(float));
        if (!xh)
            abort();
        memcpy(xh + k->x_off, k->x, xbytes);
        dx = (float *)xc_put(b, xh, (size_t)(nx + k->x_off) * sizeof(float));
        free(xh);
        xin = dx ? dx + k->x_off : NULL;
    }
    switch (k->op) {
    case VI_OP_LINEAR:
        st = b->linear_prepare(b, k->w, k->N, k->K, k->out_in, k->w2, &prep, &err);
        if (st == VI_OK)
            st = b->linear(b, prep, xin, k->M, y);
        break;
    case VI_OP_MATMUL:
        dw = (float *)xc_put(b, k->w, (size_t)(k->batch * k->K * k->N) * sizeof(float));
        st = b->matmul(b, xin, dw, k->batch, k->M, k->K, k->N, y);
        break;
    case VI_OP_ADD:
    case VI_OP_MUL:
        dw = (float *)xc_put(b, k->w, (size_t)k->nb * sizeof(float));
        st = b->binary(b, k->op, xin, k->n, dw, k->nb, y);
        break;
    case VI_OP_RELU:
    case VI_OP_GELU:
    case VI_OP_TANH:
    case VI_OP_SIGMOID:
        st = b->unary(b, k->op, k->gelu_tanh, xin, k->n, y);
        break;
    case VI_OP_SOFTMAX:
        st = b->softmax(b, xin, k->rows, k->D, y);
        break;
    case VI_OP_LAYER_NORM:
        dw = (float *)xc_put(b, k->w, (size_t)k->D * sizeof(float));
        if (k->w2)
            dw2 = (float *)xc_put(b, k->w2, (size_t)k->D * sizeof(float));
        st = b->layer_norm(b, xin, k->rows, k->D, dw, dw2, k->eps, y);
        break;
    case VI_OP_RMS_NORM:
        dw = (float *)xc_put(b, k->w, (size_t)k->D * sizeof(float));
        st = b->rms_norm(b, xin, k->rows, k->D, dw, k->eps, y);
        break;
    case VI_OP_ARGMAX:
        st = b->argmax(b, xin, k->rows, k->D, (int64_t *)(void *)y);
        break;
    case VI_OP_EMBEDDING:
        dw = (float *)xc_put(b, k->w, (size_t)(k->V * k->D) * sizeof(float));
        dids = (int64_t *)xc_put(b, k->ids, (size_t)k->n * sizeof(int64_t));
        st = b->embedding(b, dids, k->n, dw, k->V, k->D, y);
        break;
    default:
        st = VI_ERR_UNSUPPORTED;
        break;
    }
    if (st != VI_OK && err.msg[0])
        snprintf(why, whysize, "%.150s", err.msg);
    vi_status dst = b->download(b, img, dout, whole);
    if (dst != VI_OK) {
        snprintf(why, whysize, "downloading the output failed (%s)", vi_status_str(dst));
        if (st == VI_OK)
            st = dst;
    }
    for (size_t i = 0; i < XC_GUARD; i++)
        if (img[i] != XC_GUARD_BYTE || img[XC_GUARD + out_bytes + i] != XC_GUARD_BYTE)
            *guards_ok = 0;
    memcpy(host_out, img + XC_GUARD, out_bytes);
    if (prep)
        b->linear_release(b, prep);
    b->free(b, dout);
    b->free(b, dx);
    b->free(b, dw);
    b->free(b, dw2);
    b->free(b, dids);
    free(img);
    return st;
}

/* Runs a case on both backends and reports the comparison. */
XC_FN void xc_compare(xc_ctx *c, const xc_case *k, const char *opname, const char *shape)
{
    const int64_t nout = xc_out_count(k);
    const size_t esz = xc_out_elem(k), bytes = (size_t)nout * esz;
    unsigned char *yr = (unsigned char *)malloc(bytes + 1);
    unsigned char *yd = (unsigned char *)malloc(bytes + 1);
    if (!yr || !yd)
        abort();
    xc_result r;
    memset(&r, 0, sizeof r);
    r.op = opname;
    snprintf(r.shape, sizeof r.shape, "%s%s%s", shape, c->label ? " " : "",
             c->label ? c->label : "");
    r.first_diff = -1;
    int gr, gd;
    char whyr[200], whyd[200];
    vi_status sr = xc_exec(c->ref, k, yr, bytes, &gr, whyr, sizeof whyr);
    vi_status sd = xc_exec(c->dut, k, yd, bytes, &gd, whyd, sizeof whyd);
    r.equal = 1;
    if (sr != VI_OK || sd != VI_OK) {
        r.equal = sr == sd;
        snprintf(r.note, sizeof r.note, "status %s / %s%s%.100s%s%.100s", vi_status_str(sr),
                 vi_status_str(sd), whyr[0] ? ": " : "", whyr, whyd[0] ? ": " : "", whyd);
    } else {
        for (int64_t i = 0; i < nout; i++)
            if (memcmp(yr + (size_t)i * esz, yd + (size_t)i * esz, esz) != 0) {
                r.equal = 0;
                r.first_diff = i;
                if (esz == sizeof(float)) {
                    float a, d;
                    memcpy(&a, yr + (size_t)i * esz, sizeof a);
                    memcpy(&d, yd + (size_t)i * esz, sizeof d);
                    snprintf(r.note, sizeof r.note, "ref %a (0x%08x) vs %a (0x%08x)", (double)a,
                             vi_f32_bits(a), (double)d, vi_f32_bits(d));
                } else {
                    int64_t a, d;
                    memcpy(&a, yr + (size_t)i * esz, sizeof a);
                    memcpy(&d, yd + (size_t)i * esz, sizeof d);
                    snprintf(r.note, sizeof r.note, "ref %lld vs %lld", (long long)a, (long long)d);
                }
                break;
            }
        if (!gd || !gr) {
            r.equal = 0;
            snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note),
                     "%sguard bytes around the output were overwritten (%s)", r.note[0] ? "; " : "",
                     gd ? "reference" : "backend under test");
        }
    }
    c->n_cases++;
    c->n_diff += !r.equal;
    if (c->report)
        c->report(c->user, &r);
    free(yr);
    free(yd);
}

/* ==== the op table ==== */

XC_FN void xc_linear_cases(xc_ctx *c, int quick)
{
    /* M, N, K, out_in, bias, x misaligned, data mode */
    static const int64_t SH[][7] = {
        {1, 1, 1, 1, 0, 0, XC_WIDE},      {1, 17, 128, 1, 1, 0, XC_WIDE},
        {1, 33, 129, 0, 1, 1, XC_WIDE},   {2, 64, 300, 1, 1, 0, XC_WIDE},
        {3, 65, 255, 0, 0, 0, XC_WIDE},   {5, 130, 257, 1, 1, 0, XC_SPECIAL},
        {8, 7, 513, 1, 1, 1, XC_WIDE},    {9, 31, 100, 0, 1, 0, XC_WIDE},
        {16, 128, 256, 1, 1, 0, XC_WIDE}, {17, 129, 131, 1, 0, 0, XC_WIDE},
        {33, 70, 384, 0, 1, 0, XC_WIDE},  {64, 64, 64, 1, 1, 0, XC_PLAIN},
        {65, 66, 260, 1, 1, 1, XC_WIDE},  {70, 200, 129, 0, 1, 0, XC_SPECIAL},
        {70, 5, 1000, 1, 1, 0, XC_WIDE},  {129, 131, 140, 1, 1, 0, XC_WIDE},
    };
    size_t ncase = sizeof SH / sizeof SH[0];
    if (quick)
        ncase = 6;
    for (size_t i = 0; i < ncase; i++) {
        xc_case k;
        memset(&k, 0, sizeof k);
        k.op = VI_OP_LINEAR;
        k.M = SH[i][0];
        k.N = SH[i][1];
        k.K = SH[i][2];
        k.out_in = (int)SH[i][3];
        k.x_off = (int)SH[i][5];
        xc_mode mode = (xc_mode)SH[i][6];
        float *x = xc_floats(c, k.M * k.K, mode);
        float *w = xc_floats(c, k.N * k.K, mode == XC_SPECIAL ? XC_WIDE : mode);
        float *bias = SH[i][4] ? xc_floats(c, k.N, XC_WIDE) : NULL;
        k.x = x;
        k.w = w;
        k.w2 = bias;
        char shape[128];
        snprintf(shape, sizeof shape, "M=%lld N=%lld K=%lld %s%s%s%s", (long long)k.M,
                 (long long)k.N, (long long)k.K, k.out_in ? "out_in" : "in_out",
                 bias ? " bias" : "", k.x_off ? " misaligned" : "",
                 mode == XC_SPECIAL ? " specials" : "");
        xc_compare(c, &k, "linear", shape);
        free(x);
        free(w);
        free(bias);
    }
}

XC_FN void xc_matmul_cases(xc_ctx *c)
{
    /* batch, M, K, N */
    static const int64_t SH[][4] = {{1, 1, 1, 1},    {3, 1, 130, 17}, {2, 5, 0, 9},
                                    {2, 20, 77, 33}, {4, 3, 256, 64}, {1, 67, 129, 65}};
    for (size_t i = 0; i < sizeof SH / sizeof SH[0]; i++) {
        xc_case k;
        memset(&k, 0, sizeof k);
        k.op = VI_OP_MATMUL;
        k.batch = SH[i][0];
        k.M = SH[i][1];
        k.K = SH[i][2];
        k.N = SH[i][3];
        float *a = xc_floats(c, k.batch * k.M * k.K, XC_WIDE);
        float *bm = xc_floats(c, k.batch * k.K * k.N, XC_WIDE);
        k.x = a;
        k.w = bm;
        char shape[128];
        snprintf(shape, sizeof shape, "batch=%lld M=%lld K=%lld N=%lld", (long long)k.batch,
                 (long long)k.M, (long long)k.K, (long long)k.N);
        xc_compare(c, &k, "matmul", shape);
        free(a);
        free(bm);
    }
}

XC_FN void xc_elementwise_cases(xc_ctx *c)
{
    static const int64_t N[] = {1, 17, 1000, 4099};
    static const vi_op UN[] = {VI_OP_RELU, VI_OP_GELU, VI_OP_GELU, VI_OP_TANH, VI_OP_SIGMOID};
    static const char *UNAME[] = {"relu", "gelu", "gelu_tanh", "tanh", "sigmoid"};
    for (size_t u = 0; u < sizeof UN / sizeof UN[0]; u++)
        for (size_t i = 0; i < sizeof N / sizeof N[0]; i++) {
            xc_case k;
            memset(&k, 0, sizeof k);
            k.op = UN[u];
            k.gelu_tanh = u == 2;
            k.n = N[i];
            k.inplace = i == 2;
            float *x = xc_floats(c, k.n, i == 0 ? XC_PLAIN : XC_SPECIAL);
            k.x = x;
            char shape[96];
            snprintf(shape, sizeof shape, "n=%lld%s", (long long)k.n, k.inplace ? " in place" : "");
            xc_compare(c, &k, UNAME[u], shape);
            free(x);
        }
    /* n, nb */
    static const int64_t BS[][2] = {{1, 1},     {17, 17},     {1000, 1},
                                    {1000, 40}, {4099, 4099}, {4096, 128}};
    for (int add = 0; add <= 1; add++)
        for (size_t i = 0; i < sizeof BS / sizeof BS[0]; i++) {
            xc_case k;
            memset(&k, 0, sizeof k);
            k.op = add ? VI_OP_ADD : VI_OP_MUL;
            k.n = BS[i][0];
            k.nb = BS[i][1];
            k.inplace = i == 3;
            float *a = xc_floats(c, k.n, XC_SPECIAL);
            float *bv = xc_floats(c, k.nb, XC_SPECIAL);
            k.x = a;
            k.w = bv;
            char shape[96];
            snprintf(shape, sizeof shape, "n=%lld nb=%lld%s", (long long)k.n, (long long)k.nb,
                     k.inplace ? " in place" : "");
            xc_compare(c, &k, add ? "add" : "mul", shape);
            free(a);
            free(bv);
        }
}

/* Row data: each row in one mode; some rows get ties, -0/+0, NaN, only -inf. */
XC_FN float *xc_rows(xc_ctx *c, int64_t rows, int64_t D)
{
    float *x = xc_floats(c, rows * D, XC_PLAIN);
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * D;
        switch (r % 6) {
        case 1: /* wide values and specials */
            for (int64_t i = 0; i < D; i++)
                xr[i] = xc_value(c, XC_SPECIAL);
            break;
        case 2: /* ties of the maximum, -0 and +0 */
            for (int64_t i = 0; i < D; i++)
                xr[i] = (float)(xc_next(c) % 3) - 1.0f;
            if (D > 2) {
                xr[D / 2] = vi_bits_f32(0x80000000u);
                xr[D - 1] = 1.0f;
            }
            break;
        case 3: /* all -inf except maybe one NaN late in the row */
            for (int64_t i = 0; i < D; i++)
                xr[i] = vi_bits_f32(0xff800000u);
            if (D > 3)
                xr[D - 2] = vi_bits_f32(0x7fc00000u);
            break;
        case 4: /* wide magnitudes: the reduction order shows in the bits */
            for (int64_t i = 0; i < D; i++)
                xr[i] = xc_value(c, XC_WIDE);
            break;
        default:
            break;
        }
    }
    return x;
}

XC_FN void xc_row_cases(xc_ctx *c)
{
    static const int64_t R[] = {1, 3, 17, 70};
    static const int64_t D[] = {1, 15, 16, 17, 1000};
    for (size_t ri = 0; ri < sizeof R / sizeof R[0]; ri++)
        for (size_t di = 0; di < sizeof D / sizeof D[0]; di++) {
            int64_t rows = R[ri], d = D[di];
            if (rows * d > 20000)
                continue;
            float *x = xc_rows(c, rows, d);
            float *g = xc_floats(c, d, XC_PLAIN);
            float *be = xc_floats(c, d, XC_PLAIN);
            char shape[96];
            for (int op = 0; op < 5; op++) {
                xc_case k;
                memset(&k, 0, sizeof k);
                k.rows = rows;
                k.D = d;
                k.x = x;
                k.eps = 1e-5f;
                k.inplace = ri == 1 && op != 4;
                const char *name = NULL;
                switch (op) {
                case 0:
                    k.op = VI_OP_SOFTMAX;
                    name = "softmax";
                    break;
                case 1:
                    k.op = VI_OP_LAYER_NORM;
                    k.w = g;
                    k.w2 = be;
                    name = "layer_norm";
                    break;
                case 2:
                    k.op = VI_OP_LAYER_NORM;
                    k.w = g;
                    name = "layer_norm(no beta)";
                    break;
                case 3:
                    k.op = VI_OP_RMS_NORM;
                    k.w = g;
                    name = "rms_norm";
                    break;
                default:
                    k.op = VI_OP_ARGMAX;
                    name = "argmax";
                    break;
                }
                snprintf(shape, sizeof shape, "rows=%lld D=%lld%s", (long long)rows, (long long)d,
                         k.inplace ? " in place" : "");
                xc_compare(c, &k, name, shape);
            }
            free(x);
            free(g);
            free(be);
        }
}

XC_FN void xc_embedding_cases(xc_ctx *c)
{
    static const int64_t D[] = {1, 15, 16, 17, 1000};
    static const int64_t NI[] = {1, 7, 70};
    for (size_t di = 0; di < sizeof D / sizeof D[0]; di++)
        for (size_t ni = 0; ni < sizeof NI / sizeof NI[0]; ni++) {
            xc_case k;
            memset(&k, 0, sizeof k);
            k.op = VI_OP_EMBEDDING;
            k.V = 50;
            k.D = D[di];
            k.n = NI[ni];
            float *table = xc_floats(c, k.V * k.D, XC_SPECIAL);
            int64_t *ids = (int64_t *)malloc((size_t)k.n * sizeof(int64_t));
            if (!ids)
                abort();
            for (int64_t i = 0; i < k.n; i++)
                ids[i] = (int64_t)(xc_next(c) % (uint64_t)k.V);
            k.w = table;
            k.ids = ids;
            char shape[96];
            snprintf(shape, sizeof shape, "V=%lld D=%lld n=%lld", (long long)k.V, (long long)k.D,
                     (long long)k.n);
            xc_compare(c, &k, "embedding", shape);
            free(table);
            free(ids);
        }
}

/* Decode- and prefill-sized linear layers (for a real GPU: the scalar CPU
 * reference takes seconds on these). */
XC_FN void xc_linear_big_cases(xc_ctx *c)
{
    /* M, N, K, out_in */
    static const int64_t SH[][4] = {{1, 4096, 4096, 1},
                                    {7, 1000, 1037, 0},
                                    {16, 2048, 1024, 1},
                                    {200, 999, 513, 1},
                                    {256, 1024, 1024, 0}};
    for (size_t i = 0; i < sizeof SH / sizeof SH[0]; i++) {
        xc_case k;
        memset(&k, 0, sizeof k);
        k.op = VI_OP_LINEAR;
        k.M = SH[i][0];
        k.N = SH[i][1];
        k.K = SH[i][2];
        k.out_in = (int)SH[i][3];
        float *x = xc_floats(c, k.M * k.K, XC_WIDE);
        float *w = xc_floats(c, k.N * k.K, XC_WIDE);
        float *bias = xc_floats(c, k.N, XC_WIDE);
        k.x = x;
        k.w = w;
        k.w2 = bias;
        char shape[128];
        snprintf(shape, sizeof shape, "M=%lld N=%lld K=%lld %s bias", (long long)k.M,
                 (long long)k.N, (long long)k.K, k.out_in ? "out_in" : "in_out");
        xc_compare(c, &k, "linear", shape);
        free(x);
        free(w);
        free(bias);
    }
}

/* Every op case except linear (linear runs separately per kernel choice). */
XC_FN void xc_run_op_cases(xc_ctx *c)
{
    xc_matmul_cases(c);
    xc_elementwise_cases(c);
    xc_row_cases(c);
    xc_embedding_cases(c);
}

/* ==== whole models ==== */

/* Runs `rows` random rows of the model in `dir` through the engine on both
 * backends and reports one result per output: equal bits, or with `fast`
 * every output within the model's fast-mode tolerance (core/tolerance.h;
 * op "fast", the note giving the largest deviations). Returns 0, or -1 when
 * the model could not be loaded or an engine failed (reported as a
 * difference). */
XC_FN int xc_model_case_mode(xc_ctx *c, const char *dir, const char *name, int64_t rows, int fast)
{
    vi_model m;
    vi_error err = {{0}};
    xc_result r;
    memset(&r, 0, sizeof r);
    r.op = fast ? "fast" : "model";
    r.first_diff = -1;
    snprintf(r.shape, sizeof r.shape, "%.60s rows=%lld", name, (long long)rows);
    if (vi_model_load(&m, dir, &err) != VI_OK) {
        snprintf(r.note, sizeof r.note, "model load: %.200s", err.msg);
        c->n_cases++;
        c->n_diff++;
        if (c->report)
            c->report(c->user, &r);
        return -1;
    }
    const vi_graph *g = &m.graph;
    vi_engine e[2];
    memset(e, 0, sizeof e);
    vi_tensor in[8], out[2][8];
    const vi_tensor *inp[8];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    int ok = g->n_inputs <= 8 && g->n_outputs <= 8;
    vi_backend *bk[2] = {c->ref, c->dut};
    for (int i = 0; ok && i < 2; i++)
        if (vi_engine_init(&e[i], &m, bk[i], &err) != VI_OK) {
            snprintf(r.note, sizeof r.note, "engine init on %.20s: %.200s", bk[i]->name, err.msg);
            ok = 0;
        }
    for (int i = 0; ok && i < g->n_inputs; i++) {
        const vi_value *v = &g->values[g->inputs[i]];
        vi_tensor *t = &in[i];
        snprintf(t->name, sizeof t->name, "%s", v->name);
        t->dtype = v->dtype;
        t->ndim = v->ndim;
        memcpy(t->shape, v->shape, sizeof t->shape);
        t->shape[0] = rows;
        int64_t n = rows * v->row_numel;
        t->data = malloc((size_t)(n > 0 ? n : 1) * vi_dtype_size(v->dtype));
        if (!t->data)
            abort();
        for (int64_t k = 0; k < n; k++) {
            if (v->dtype == VI_DT_FP32) {
                ((float *)t->data)[k] = xc_unit(c) * 6.0f - 3.0f;
            } else {
                int64_t V = e[0].embed_rows[g->inputs[i]];
                int64_t id = V > 0 ? (int64_t)(xc_next(c) % (uint64_t)V) : 0;
                if (v->dtype == VI_DT_INT64)
                    ((int64_t *)t->data)[k] = id;
                else
                    ((int32_t *)t->data)[k] = (int32_t)id;
            }
        }
        inp[i] = t;
    }
    for (int i = 0; ok && i < 2; i++)
        if (vi_engine_run(&e[i], inp, rows, out[i], &err) != VI_OK) {
            snprintf(r.note, sizeof r.note, "engine run on %.20s: %.200s", bk[i]->name, err.msg);
            ok = 0;
        }
    int rc = ok ? 0 : -1;
    for (int o = 0; ok && o < g->n_outputs; o++) {
        const vi_value *v = &g->values[g->outputs[o]];
        size_t esz = vi_dtype_size(v->dtype);
        int64_t n = rows * v->row_numel;
        xc_result ro = r;
        snprintf(ro.shape, sizeof ro.shape, "%.60s rows=%lld output '%.60s'", name, (long long)rows,
                 v->name);
        ro.equal = 1;
        if (fast) {
            vi_tolerance tol;
            vi_tol_report tr;
            vi_error terr = {{0}};
            vi_tolerance_of_model(g, &tol);
            ro.equal =
                vi_tolerance_compare(&tol, &out[1][o], 1, &out[0][o], 1, &tr, &terr) == VI_OK;
            if (ro.equal)
                snprintf(ro.note, sizeof ro.note, "within rtol=atol=%g: max abs %.3g, rel %.3g",
                         tol.rtol, tr.max_abs, tr.max_rel);
            else
                snprintf(ro.note, sizeof ro.note, "%.250s", terr.msg);
            n = 0; /* no bitwise comparison */
        }
        for (int64_t k = 0; k < n; k++)
            if (memcmp((char *)out[0][o].data + (size_t)k * esz,
                       (char *)out[1][o].data + (size_t)k * esz, esz) != 0) {
                ro.equal = 0;
                ro.first_diff = k;
                snprintf(ro.note, sizeof ro.note, "outputs differ");
                break;
            }
        c->n_cases++;
        c->n_diff += !ro.equal;
        if (c->report)
            c->report(c->user, &ro);
    }
    if (!ok) {
        c->n_cases++;
        c->n_diff++;
        if (c->report)
            c->report(c->user, &r);
    }
    for (int i = 0; i < 2; i++) {
        if (out[i][0].data)
            vi_engine_outputs_free(out[i], g->n_outputs);
        vi_engine_free(&e[i]);
    }
    for (int i = 0; i < g->n_inputs && i < 8; i++)
        free(in[i].data);
    vi_model_free(&m);
    return rc;
}

/* xc_model_case_mode comparing bits. */
XC_FN int xc_model_case(xc_ctx *c, const char *dir, const char *name, int64_t rows)
{
    return xc_model_case_mode(c, dir, name, rows, 0);
}

/* Generates the test models (mlps over every activation, layout and weight
 * dtype with odd widths, and all-ops) under tmpdir and compares each at
 * several batch sizes: bit for bit, or (fast) within each model's fast-mode
 * tolerance. max_rows caps the batch (the emulation is slow). */
XC_FN void xc_run_models_mode(xc_ctx *c, const char *tmpdir, int64_t max_rows, int fast)
{
    static const vi_dtype DT[] = {VI_DT_FP32, VI_DT_FP16, VI_DT_BF16};
    for (int p = 0; p <= VI_GEN_ACT_COUNT; p++) {
        vi_gen_options opt;
        vi_gen_options_default(&opt);
        opt.force = 1;
        opt.seed = 1000 + (uint64_t)p;
        char name[64];
        if (p == VI_GEN_ACT_COUNT) {
            opt.preset = VI_GEN_ALL_OPS;
            snprintf(name, sizeof name, "all-ops");
        } else {
            opt.activation = (vi_gen_act)p;
            opt.n_inputs = 37 + 50 * p;
            opt.n_hidden = 2;
            opt.hidden[0] = 129 + 7 * p;
            opt.hidden[1] = 17 + 31 * p;
            opt.n_classes = 3 + 5 * p;
            opt.weight_out_in = p % 2;
            opt.weight_dtype = DT[p % 3];
            snprintf(name, sizeof name, "mlp(act %d, %d-%d-%d-%d)", p, opt.n_inputs, opt.hidden[0],
                     opt.hidden[1], opt.n_classes);
        }
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/model%d", tmpdir, p);
        vi_error err = {{0}};
        if (vi_gen_model(&opt, dir, &err) != VI_OK) {
            xc_result r;
            memset(&r, 0, sizeof r);
            r.op = "model";
            r.first_diff = -1;
            snprintf(r.shape, sizeof r.shape, "%s", name);
            snprintf(r.note, sizeof r.note, "gen_model: %.200s", err.msg);
            c->n_cases++;
            c->n_diff++;
            if (c->report)
                c->report(c->user, &r);
            continue;
        }
        static const int64_t ROWS[] = {1, 2, 7, 20, 64};
        for (size_t ri = 0; ri < sizeof ROWS / sizeof ROWS[0]; ri++)
            if (ROWS[ri] <= max_rows)
                xc_model_case_mode(c, dir, name, ROWS[ri], fast);
    }
}

/* xc_run_models_mode comparing bits. */
XC_FN void xc_run_models(xc_ctx *c, const char *tmpdir, int64_t max_rows)
{
    xc_run_models_mode(c, tmpdir, max_rows, 0);
}

#endif
