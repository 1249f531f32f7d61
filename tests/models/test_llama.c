/* tests/models/test_llama.c — the llama forward pass on tiny generated
 * models: accuracy against a float64 reference; bit equality with a plain
 * scalar transcription of docs/llm.md; logits independent of prefill versus
 * decoding, chunking, batch composition and row position, threads and ISA,
 * across the 256-position attention split; a golden SHA-256 of the logits;
 * the generator's bytes; load and forward errors; cache truncation; and, when
 * the SmolLM2 GGUF is present, greedy tokens and logits against llama.cpp. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"
#include "core/hex.h"
#include "core/order.h"
#include "core/quant.h"
#include "core/sha256.h"
#include "core/vmath.h"
#include "models/gen_llama.h"
#include "models/llama.h"
#include "llama_golden.h"
#include "test_util.h"

/* ==== fixtures ==== */

typedef struct {
    uint8_t *buf;
    size_t size;
    vi_gguf *g;
    vi_llama *m;
    const vi_llama_hparams *hp;
} tiny;

static void tiny_open(tiny *t, const vi_gen_llama_opts *o)
{
    vi_error err = {{0}};
    memset(t, 0, sizeof *t);
    vi_status st = vi_gen_llama_to_memory(o, &t->buf, &t->size, &err);
    if (st != VI_OK)
        fail_msg("gen: %s", err.msg);
    if (vi_gguf_open_memory(&t->g, t->buf, t->size, &err) != VI_OK)
        fail_msg("open: %s", err.msg);
    if (vi_llama_from_gguf(&t->m, t->g, &err) != VI_OK)
        fail_msg("llama: %s", err.msg);
    t->hp = vi_llama_hparams_of(t->m);
}

static void tiny_default(tiny *t)
{
    vi_gen_llama_opts o;
    vi_gen_llama_defaults(&o);
    tiny_open(t, &o);
}

static void tiny_close(tiny *t)
{
    vi_llama_free(t->m);
    vi_gguf_close(t->g);
    free(t->buf);
}

static int32_t *rand_tokens(uint64_t seed, int n, int32_t V)
{
    vt_rng r = {seed};
    int32_t *tok = malloc((size_t)n * sizeof *tok);
    assert_non_null(tok);
    for (int i = 0; i < n; i++)
        tok[i] = (int32_t)vt_range(&r, 0, V - 1);
    return tok;
}

static vi_llama_ctx *ctx_new(const vi_llama *m, int threads, vi_isa isa)
{
    vi_error err = {{0}};
    vi_llama_ctx *c = NULL;
    if (vi_llama_ctx_new(&c, m, threads, isa, &err) != VI_OK)
        fail_msg("ctx: %s", err.msg);
    return c;
}

static vi_kv_cache *cache_new(const vi_llama *m, int n_ctx)
{
    vi_error err = {{0}};
    vi_kv_cache *kc = NULL;
    if (vi_kv_cache_new(&kc, m, n_ctx, &err) != VI_OK)
        fail_msg("cache: %s", err.msg);
    return kc;
}

static void forward_ok(vi_llama_ctx *c, vi_kv_cache *const *caches, const int32_t *tok, int n,
                       const uint8_t *want, float *logits)
{
    vi_error err = {{0}};
    vi_status st = vi_llama_forward(c, caches, tok, n, want, logits, &err);
    if (st != VI_OK)
        fail_msg("forward: %s", err.msg);
}

/* Logits [n][V] of one sequence fed in calls of chunk[i] rows (chunk NULL:
 * one call; chunk sizes cycle). */
static float *run_seq(const vi_llama *m, int threads, vi_isa isa, const int32_t *tok, int n,
                      const int *chunk, int n_chunk)
{
    int32_t V = vi_llama_hparams_of(m)->n_vocab;
    float *lg = malloc((size_t)n * (size_t)V * sizeof(float));
    assert_non_null(lg);
    vi_llama_ctx *c = ctx_new(m, threads, isa);
    vi_kv_cache *kc = cache_new(m, n);
    vi_kv_cache **cs = malloc((size_t)n * sizeof *cs);
    for (int i = 0; i < n; i++)
        cs[i] = kc;
    for (int i = 0, k = 0; i < n; k++) {
        int len = chunk ? chunk[k % n_chunk] : n;
        if (len > n - i)
            len = n - i;
        forward_ok(c, cs, tok + i, len, NULL, lg + (size_t)i * V);
        i += len;
    }
    assert_int_equal(vi_kv_cache_len(kc), n);
    free(cs);
    vi_kv_cache_free(kc);
    vi_llama_ctx_free(c);
    return lg;
}

static void same_bits(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], 4) != 0)
            fail_msg("%s: element %zu differs: %.9g vs %.9g", what, i, (double)a[i], (double)b[i]);
}

static const vi_isa ISAS[3] = {VI_ISA_SCALAR, VI_ISA_AVX2, VI_ISA_AVX512};

/* ==== the specification, transcribed plainly (float, scalar) ==== */

static const uint8_t *row_of(const vi_gguf_tensor *t, int64_t n)
{
    int64_t K = t->ne[0];
    uint64_t rb = (uint64_t)(K / (int64_t)vi_ggml_type_block_size(t->type)) *
                  vi_ggml_type_block_bytes(t->type);
    return t->data + (uint64_t)n * rb;
}

static const vi_gguf_tensor *tens(const vi_gguf *g, const char *fmt, int i)
{
    char name[96];
    snprintf(name, sizeof name, fmt, i);
    const vi_gguf_tensor *t = vi_gguf_find_tensor(g, name);
    if (!t)
        fail_msg("no tensor %s", name);
    return t;
}

static void spec_lin(const vi_gguf_tensor *t, const float *x, float *y)
{
    for (int64_t n = 0; n < t->ne[1]; n++)
        y[n] = vi_qdot_ref(t->type, row_of(t, n), x, t->ne[0]);
}

static void spec_norm(const vi_gguf_tensor *t, const float *x, int64_t E, float eps, float *y)
{
    float g[4096];
    vi_dequant_row(t->type, t->data, g, E);
    float ms = vi_rowsumsq_ref(x, E) / (float)E;
    float r = vi_rsqrtf(ms + eps);
    for (int64_t i = 0; i < E; i++)
        y[i] = (x[i] * r) * g[i];
}

/* Logits [n][V] of tokens at positions 0..n-1, computed as docs/llm.md says. */
static float *spec_logits(const tiny *t, const int32_t *tok, int n)
{
    const vi_llama_hparams *hp = t->hp;
    const vi_gguf *g = t->g;
    int64_t E = hp->n_embd, hd = hp->head_dim, F = hp->n_ff, V = hp->n_vocab, Lr = hp->n_layer;
    int64_t nh = hp->n_head, nkv = hp->n_head_kv, grp = nh / nkv;
    float *kc = calloc((size_t)(Lr * n * nkv * hd), sizeof(float));
    float *vc = calloc((size_t)(Lr * n * nkv * hd), sizeof(float));
    float *out = malloc((size_t)(n * V) * sizeof(float));
    float *x = malloc((size_t)E * 4), *xn = malloc((size_t)E * 4),
          *q = malloc((size_t)(nh * hd) * 4);
    float *k = malloc((size_t)(nkv * hd) * 4), *v = malloc((size_t)(nkv * hd) * 4);
    float *att = malloc((size_t)(nh * hd) * 4), *o = malloc((size_t)E * 4);
    float *ga = malloc((size_t)F * 4), *up = malloc((size_t)F * 4), *h = malloc((size_t)F * 4);
    float *sc = malloc((size_t)n * 4), *acc = malloc((size_t)((n / 256 + 1) * hd) * 4);
    float ms[64], ls[64], cs[2048], sn[2048];
    const vi_gguf_tensor *te = vi_gguf_find_tensor(g, "token_embd.weight");
    const vi_gguf_tensor *head = vi_gguf_find_tensor(g, "output.weight");
    if (!head)
        head = te;
    float lnb = vi_logf(hp->rope_base);
    float scale = 1.0f / vi_sqrtf((float)hd);
    for (int p = 0; p < n; p++) {
        vi_dequant_row(te->type, row_of(te, tok[p]), x, E);
        for (int64_t i = 0; i < hd / 2; i++) {
            float e = (float)(2 * i) / (float)hd;
            float inv = vi_expf(-(lnb * e));
            float a = (float)p * inv;
            cs[i] = vi_cosf(a);
            sn[i] = vi_sinf(a);
        }
        for (int l = 0; l < Lr; l++) {
            spec_norm(tens(g, "blk.%d.attn_norm.weight", l), x, E, hp->rms_eps, xn);
            spec_lin(tens(g, "blk.%d.attn_q.weight", l), xn, q);
            spec_lin(tens(g, "blk.%d.attn_k.weight", l), xn, k);
            spec_lin(tens(g, "blk.%d.attn_v.weight", l), xn, v);
            for (int64_t hh = 0; hh < nh + nkv; hh++) {
                float *z = hh < nh ? q + hh * hd : k + (hh - nh) * hd;
                for (int64_t i = 0; i < hd / 2; i++) {
                    float x0 = z[2 * i], x1 = z[2 * i + 1];
                    z[2 * i] = x0 * cs[i] - x1 * sn[i];
                    z[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
                }
            }
            memcpy(kc + ((size_t)l * n + p) * nkv * hd, k, (size_t)(nkv * hd) * 4);
            memcpy(vc + ((size_t)l * n + p) * nkv * hd, v, (size_t)(nkv * hd) * 4);
            for (int64_t hh = 0; hh < nh; hh++) {
                int64_t kvh = hh / grp, nn = p + 1, ns = (nn + 255) / 256;
                for (int64_t j = 0; j < nn; j++)
                    sc[j] = vi_dot_ref(q + hh * hd, 1, kc + (((size_t)l * n + j) * nkv + kvh) * hd,
                                       1, hd) *
                            scale;
                for (int64_t s = 0; s < ns; s++) {
                    int64_t j0 = s * 256, j1 = j0 + 256 < nn ? j0 + 256 : nn;
                    ms[s] = vi_rowmax_ref(sc + j0, j1 - j0);
                    for (int64_t j = j0; j < j1; j++)
                        sc[j] = vi_expf(sc[j] - ms[s]);
                    ls[s] = vi_rowsum_ref(sc + j0, j1 - j0);
                    float *a = acc + s * hd;
                    for (int64_t d = 0; d < hd; d++)
                        a[d] = 0.0f;
                    for (int64_t j = j0; j < j1; j++)
                        for (int64_t d = 0; d < hd; d++)
                            a[d] =
                                fmaf(sc[j], vc[(((size_t)l * n + j) * nkv + kvh) * hd + d], a[d]);
                }
                float m = ms[0], L = 0.0f, *ah = att + hh * hd;
                for (int64_t s = 1; s < ns; s++)
                    m = vi_max_nan(m, ms[s]);
                for (int64_t d = 0; d < hd; d++)
                    ah[d] = 0.0f;
                for (int64_t s = 0; s < ns; s++) {
                    float f = vi_expf(ms[s] - m);
                    L = L + ls[s] * f;
                    for (int64_t d = 0; d < hd; d++)
                        ah[d] = ah[d] + acc[s * hd + d] * f;
                }
                for (int64_t d = 0; d < hd; d++)
                    ah[d] = ah[d] / L;
            }
            spec_lin(tens(g, "blk.%d.attn_output.weight", l), att, o);
            for (int64_t i = 0; i < E; i++)
                x[i] = x[i] + o[i];
            spec_norm(tens(g, "blk.%d.ffn_norm.weight", l), x, E, hp->rms_eps, xn);
            spec_lin(tens(g, "blk.%d.ffn_gate.weight", l), xn, ga);
            spec_lin(tens(g, "blk.%d.ffn_up.weight", l), xn, up);
            for (int64_t i = 0; i < F; i++)
                h[i] = (ga[i] * vi_sigmoidf(ga[i])) * up[i];
            spec_lin(tens(g, "blk.%d.ffn_down.weight", l), h, o);
            for (int64_t i = 0; i < E; i++)
                x[i] = x[i] + o[i];
        }
        spec_norm(vi_gguf_find_tensor(g, "output_norm.weight"), x, E, hp->rms_eps, xn);
        for (int64_t i = 0; i < V; i++)
            out[p * V + i] = vi_qdot_ref(head->type, row_of(head, i), xn, E);
    }
    free(kc), free(vc), free(x), free(xn), free(q), free(k), free(v), free(att), free(o);
    free(ga), free(up), free(h), free(sc), free(acc);
    return out;
}

/* ==== float64 reference ==== */

static double *dq64(const vi_gguf_tensor *t)
{
    int64_t n = t->ne[0] * (t->n_dims > 1 ? t->ne[1] : 1);
    float *f = malloc((size_t)n * 4);
    double *d = malloc((size_t)n * 8);
    vi_dequant_row(t->type, t->data, f, n);
    for (int64_t i = 0; i < n; i++)
        d[i] = f[i];
    free(f);
    return d;
}

static void lin64(const double *W, int64_t N, int64_t K, const double *x, double *y)
{
    for (int64_t n = 0; n < N; n++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++)
            s += W[n * K + k] * x[k];
        y[n] = s;
    }
}

static void norm64(const vi_gguf_tensor *t, const double *x, int64_t E, double eps, double *y)
{
    double *g = dq64(t), ms = 0;
    for (int64_t i = 0; i < E; i++)
        ms += x[i] * x[i];
    double r = 1.0 / sqrt(ms / (double)E + eps);
    for (int64_t i = 0; i < E; i++)
        y[i] = x[i] * r * g[i];
    free(g);
}

/* Logits [n][V] in float64 from the dequantised weights. */
static double *ref64_logits(const tiny *t, const int32_t *tok, int n)
{
    const vi_llama_hparams *hp = t->hp;
    const vi_gguf *g = t->g;
    int64_t E = hp->n_embd, hd = hp->head_dim, F = hp->n_ff, V = hp->n_vocab, Lr = hp->n_layer;
    int64_t nh = hp->n_head, nkv = hp->n_head_kv, grp = nh / nkv;
    const vi_gguf_tensor *te = vi_gguf_find_tensor(g, "token_embd.weight");
    const vi_gguf_tensor *hw = vi_gguf_find_tensor(g, "output.weight");
    double *emb = dq64(te), *head = hw ? dq64(hw) : emb;
    double *x = calloc((size_t)(n * E), 8), *xn = malloc((size_t)E * 8),
           *q = malloc((size_t)(nh * hd) * 8);
    double *kc = malloc((size_t)(n * nkv * hd) * 8), *vc = malloc((size_t)(n * nkv * hd) * 8);
    double *att = malloc((size_t)(nh * hd) * 8), *o = malloc((size_t)E * 8),
           *pr = malloc((size_t)n * 8);
    double *ga = malloc((size_t)F * 8), *up = malloc((size_t)F * 8),
           *out = malloc((size_t)(n * V) * 8);
    for (int p = 0; p < n; p++)
        for (int64_t i = 0; i < E; i++)
            x[p * E + i] = emb[(int64_t)tok[p] * E + i];
    for (int l = 0; l < Lr; l++) {
        double *Wq = dq64(tens(g, "blk.%d.attn_q.weight", l)),
               *Wk = dq64(tens(g, "blk.%d.attn_k.weight", l));
        double *Wv = dq64(tens(g, "blk.%d.attn_v.weight", l)),
               *Wo = dq64(tens(g, "blk.%d.attn_output.weight", l));
        double *Wg = dq64(tens(g, "blk.%d.ffn_gate.weight", l)),
               *Wu = dq64(tens(g, "blk.%d.ffn_up.weight", l));
        double *Wd = dq64(tens(g, "blk.%d.ffn_down.weight", l));
        for (int p = 0; p < n; p++) { /* k, v of every position first */
            norm64(tens(g, "blk.%d.attn_norm.weight", l), x + p * E, E, hp->rms_eps, xn);
            lin64(Wk, nkv * hd, E, xn, kc + p * nkv * hd);
            lin64(Wv, nkv * hd, E, xn, vc + p * nkv * hd);
            for (int64_t hh = 0; hh < nkv; hh++)
                for (int64_t i = 0; i < hd / 2; i++) {
                    double a = p * pow((double)hp->rope_base, -2.0 * (double)i / (double)hd);
                    double *z = kc + p * nkv * hd + hh * hd, x0 = z[2 * i], x1 = z[2 * i + 1];
                    z[2 * i] = x0 * cos(a) - x1 * sin(a);
                    z[2 * i + 1] = x0 * sin(a) + x1 * cos(a);
                }
        }
        for (int p = 0; p < n; p++) {
            double *xp = x + p * E;
            norm64(tens(g, "blk.%d.attn_norm.weight", l), xp, E, hp->rms_eps, xn);
            lin64(Wq, nh * hd, E, xn, q);
            for (int64_t hh = 0; hh < nh; hh++) {
                double *z = q + hh * hd;
                for (int64_t i = 0; i < hd / 2; i++) {
                    double a = p * pow((double)hp->rope_base, -2.0 * (double)i / (double)hd);
                    double x0 = z[2 * i], x1 = z[2 * i + 1];
                    z[2 * i] = x0 * cos(a) - x1 * sin(a);
                    z[2 * i + 1] = x0 * sin(a) + x1 * cos(a);
                }
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j <= p; j++) {
                    double s = 0;
                    for (int64_t d = 0; d < hd; d++)
                        s += z[d] * kc[(j * nkv + hh / grp) * hd + d];
                    pr[j] = s / sqrt((double)hd);
                    if (pr[j] > mx)
                        mx = pr[j];
                }
                for (int j = 0; j <= p; j++)
                    sum += (pr[j] = exp(pr[j] - mx));
                for (int64_t d = 0; d < hd; d++) {
                    double a = 0;
                    for (int j = 0; j <= p; j++)
                        a += pr[j] * vc[(j * nkv + hh / grp) * hd + d];
                    att[hh * hd + d] = a / sum;
                }
            }
            lin64(Wo, E, nh * hd, att, o);
            for (int64_t i = 0; i < E; i++)
                xp[i] += o[i];
            norm64(tens(g, "blk.%d.ffn_norm.weight", l), xp, E, hp->rms_eps, xn);
            lin64(Wg, F, E, xn, ga);
            lin64(Wu, F, E, xn, up);
            for (int64_t i = 0; i < F; i++)
                ga[i] = ga[i] / (1.0 + exp(-ga[i])) * up[i];
            lin64(Wd, E, F, ga, o);
            for (int64_t i = 0; i < E; i++)
                xp[i] += o[i];
        }
        free(Wq), free(Wk), free(Wv), free(Wo), free(Wg), free(Wu), free(Wd);
    }
    for (int p = 0; p < n; p++) {
        norm64(vi_gguf_find_tensor(g, "output_norm.weight"), x + p * E, E, hp->rms_eps, xn);
        lin64(head, V, E, xn, out + p * V);
    }
    if (head != emb)
        free(head);
    free(emb), free(x), free(xn), free(q), free(kc), free(vc), free(att), free(o), free(pr);
    free(ga), free(up);
    return out;
}

/* Largest |got - ref| of a row relative to the row's largest |ref|. */
static double rel_err(const float *got, const double *ref, int n_rows, int32_t V)
{
    double worst = 0;
    for (int r = 0; r < n_rows; r++) {
        double mx = 0, d = 0;
        for (int32_t i = 0; i < V; i++) {
            mx = fmax(mx, fabs(ref[(size_t)r * V + i]));
            d = fmax(d, fabs((double)got[(size_t)r * V + i] - ref[(size_t)r * V + i]));
        }
        worst = fmax(worst, d / mx);
    }
    return worst;
}

/* ==== accuracy and the specification ==== */

#define VI_TEST_REL_BOUND 1e-5 /* docs/llm.md: float64 accuracy bound for the tiny models */

/* Model variants: every weight type the generator writes, fused and unfused
 * q/k/v and gate/up, tied and untied heads, half norms. */
static void variant(int i, vi_gen_llama_opts *o)
{
    vi_gen_llama_defaults(o);
    o->seed = 100 + (uint64_t)i;
    switch (i) {
    case 1:
        o->wtype = o->alt_type = VI_GGML_Q8_0;
        o->embd_type = VI_GGML_Q4_1;
        break;
    case 2:
        o->wtype = VI_GGML_F16;
        o->alt_type = VI_GGML_F32;
        o->head_type = VI_GGML_Q4_0;
        break;
    case 3:
        o->wtype = VI_GGML_Q4_0;
        o->alt_type = VI_GGML_Q8_0;
        o->embd_type = VI_GGML_F16;
        o->head_type = VI_GGML_Q8_0;
        o->norm_type = VI_GGML_BF16;
        o->n_head_kv = 1;
        break;
    case 4:
        o->wtype = o->alt_type = VI_GGML_BF16;
        o->embd_type = VI_GGML_F32;
        o->norm_type = VI_GGML_F16;
        o->n_embd = 96;
        o->n_head = 3;
        o->n_head_kv = 3;
        o->n_ff = 288;
        o->n_layer = 3;
        break;
    default:
        break;
    }
}

static void test_accuracy_and_spec(void **state)
{
    (void)state;
    for (int vi = 0; vi < 5; vi++) {
        vi_gen_llama_opts o;
        variant(vi, &o);
        tiny t;
        tiny_open(&t, &o);
        int n = 40;
        int32_t *tok = rand_tokens(7 + (uint64_t)vi, n, t.hp->n_vocab);
        float *got = run_seq(t.m, 2, VI_ISA_AUTO, tok, n, NULL, 0);
        float *spec = spec_logits(&t, tok, n);
        double *ref = ref64_logits(&t, tok, n);
        char what[64];
        snprintf(what, sizeof what, "variant %d vs the specification", vi);
        same_bits(got, spec, (size_t)n * t.hp->n_vocab, what);
        double e = rel_err(got, ref, n, t.hp->n_vocab);
        print_message("variant %d: max relative logit error vs float64 %.3g\n", vi, e);
        if (!(e < VI_TEST_REL_BOUND))
            fail_msg("variant %d: relative error %.3g >= %.1g", vi, e, VI_TEST_REL_BOUND);
        free(tok), free(got), free(spec), free(ref);
        tiny_close(&t);
    }
}

/* ==== exactness ==== */

static void test_prefill_decode_chunks(void **state)
{
    (void)state;
    tiny t;
    tiny_default(&t);
    int n = 90;
    int32_t V = t.hp->n_vocab;
    int32_t *tok = rand_tokens(11, n, V);
    float *all = run_seq(t.m, 1, VI_ISA_AUTO, tok, n, NULL, 0);
    int one[1] = {1};
    float *dec = run_seq(t.m, 1, VI_ISA_AUTO, tok, n, one, 1);
    same_bits(all, dec, (size_t)n * V, "token by token vs prefill");
    vt_rng r = {5};
    for (int trial = 0; trial < 4; trial++) {
        int ch[16];
        for (int i = 0; i < 16; i++)
            ch[i] = (int)vt_range(&r, 1, 70);
        float *chk = run_seq(t.m, trial % 2 + 1, VI_ISA_AUTO, tok, n, ch, 16);
        same_bits(all, chk, (size_t)n * V, "random chunks vs prefill");
        free(chk);
    }
    /* only the last row's logits: the same bits as that row of the full call */
    vi_llama_ctx *c = ctx_new(t.m, 2, VI_ISA_AUTO);
    vi_kv_cache *kc = cache_new(t.m, n);
    vi_kv_cache **cs = malloc((size_t)n * sizeof *cs);
    uint8_t *want = calloc((size_t)n, 1);
    for (int i = 0; i < n; i++)
        cs[i] = kc;
    want[n - 1] = 1;
    want[17] = 1;
    float *two = malloc(2 * (size_t)V * 4);
    forward_ok(c, cs, tok, n, want, two);
    same_bits(two, all + (size_t)17 * V, (size_t)V, "wanted row 17");
    same_bits(two + V, all + (size_t)(n - 1) * V, (size_t)V, "wanted last row");
    free(two), free(want), free(cs), free(all), free(dec), free(tok);
    vi_kv_cache_free(kc);
    vi_llama_ctx_free(c);
    tiny_close(&t);
}

/* Several sequences decoded together in random batches: rows of a sequence
 * in consecutive chunks, sequences in random order, random wanted rows. */
static void test_multi_sequence(void **state)
{
    (void)state;
    tiny t;
    tiny_default(&t);
    int32_t V = t.hp->n_vocab;
    enum { S = 4 };
    int len[S] = {70, 23, 48, 5};
    int32_t *tok[S];
    float *ref[S];
    for (int s = 0; s < S; s++) {
        tok[s] = rand_tokens(100 + (uint64_t)s, len[s], V);
        ref[s] = run_seq(t.m, 1, VI_ISA_SCALAR, tok[s], len[s], NULL, 0);
    }
    vt_rng r = {77};
    for (int trial = 0; trial < 3; trial++) {
        vi_llama_ctx *c =
            ctx_new(t.m, 1 + trial, vi_isa_supported(ISAS[trial]) ? ISAS[trial] : VI_ISA_AUTO);
        vi_kv_cache *kc[S];
        int done[S] = {0};
        for (int s = 0; s < S; s++)
            kc[s] = cache_new(t.m, 80);
        int32_t rt[128];
        vi_kv_cache *rc[128];
        uint8_t want[128];
        int rs[128], rp[128];
        float *lg = malloc(128 * (size_t)V * 4);
        for (;;) {
            int order[S], n_left = 0, n = 0;
            for (int s = 0; s < S; s++)
                if (done[s] < len[s])
                    order[n_left++] = s;
            if (n_left == 0)
                break;
            for (int i = n_left - 1; i > 0; i--) {
                int j = (int)vt_range(&r, 0, i), tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            for (int i = 0; i < n_left; i++) {
                int s = order[i];
                if (vt_range(&r, 0, 3) == 0)
                    continue; /* this sequence sits this call out */
                int k = (int)vt_range(&r, 1, 12);
                if (k > len[s] - done[s])
                    k = len[s] - done[s];
                for (int j = 0; j < k; j++, n++) {
                    rt[n] = tok[s][done[s] + j];
                    rc[n] = kc[s];
                    want[n] = (uint8_t)vt_range(&r, 0, 1);
                    rs[n] = s;
                    rp[n] = done[s] + j;
                }
                done[s] += k;
            }
            if (n == 0)
                continue;
            forward_ok(c, rc, rt, n, want, lg);
            for (int i = 0, w = 0; i < n; i++)
                if (want[i]) {
                    char what[80];
                    snprintf(what, sizeof what, "trial %d: seq %d pos %d (row %d)", trial, rs[i],
                             rp[i], i);
                    same_bits(lg + (size_t)w++ * V, ref[rs[i]] + (size_t)rp[i] * V, (size_t)V,
                              what);
                }
        }
        for (int s = 0; s < S; s++) {
            assert_int_equal(vi_kv_cache_len(kc[s]), len[s]);
            vi_kv_cache_free(kc[s]);
        }
        free(lg);
        vi_llama_ctx_free(c);
    }
    for (int s = 0; s < S; s++)
        free(tok[s]), free(ref[s]);
    tiny_close(&t);
}

/* Head geometries of the SIMD attention: query heads per KV head G = 1..6
 * (kernels take up to 4 at once), head_dim 8..144 (partial vectors, more
 * than one 128-long dot chunk). */
static void geometry(int i, vi_gen_llama_opts *o)
{
    vi_gen_llama_defaults(o);
    o->seed = 40 + (uint64_t)i;
    o->n_ff = 64;
    switch (i) {
    case 1:
        o->n_embd = 96;
        o->n_head = 6;
        o->n_head_kv = 2;
        break; /* G 3, hd 16 */
    case 2:
        o->n_embd = 96;
        o->n_head = 12;
        o->n_head_kv = 2;
        break; /* G 6, hd 8 */
    case 3:
        o->n_embd = 160;
        o->n_head = 2;
        o->n_head_kv = 1;
        break; /* G 2, hd 80 */
    case 4:
        o->n_embd = 288;
        o->n_head = 2;
        o->n_head_kv = 2;
        break; /* G 1, hd 144 */
    case 5:    /* G 3, hd 24 */
        o->n_embd = 72;
        o->n_head = 3;
        o->n_head_kv = 1;
        o->n_ff = 40;
        o->wtype = o->alt_type = o->embd_type = VI_GGML_F32;
        break;
    default:
        break; /* G 2, hd 16 */
    }
}

static void test_threads_and_isa(void **state)
{
    (void)state;
    for (int gi = 0; gi < 6; gi++) {
        vi_gen_llama_opts o;
        geometry(gi, &o);
        tiny t;
        tiny_open(&t, &o);
        int n = 37;
        int32_t V = t.hp->n_vocab;
        int32_t *tok = rand_tokens(3, n, V);
        float *ref = run_seq(t.m, 1, VI_ISA_SCALAR, tok, n, NULL, 0);
        float *spec = spec_logits(&t, tok, n);
        char what[96];
        snprintf(what, sizeof what, "geometry %d: scalar vs the specification", gi);
        same_bits(ref, spec, (size_t)n * V, what);
        int ch[3] = {5, 1, 9};
        for (int i = 0; i < 3; i++) {
            if (!vi_isa_supported(ISAS[i])) {
                print_message("isa %s not supported here: skipped\n", vi_isa_name(ISAS[i]));
                continue;
            }
            for (int th = 1; th <= 3; th++) {
                float *lg = run_seq(t.m, th, ISAS[i], tok, n, th == 2 ? ch : NULL, 3);
                snprintf(what, sizeof what, "geometry %d: %s, %d threads", gi, vi_isa_name(ISAS[i]),
                         th);
                same_bits(ref, lg, (size_t)n * V, what);
                free(lg);
            }
        }
        free(tok), free(ref), free(spec);
        tiny_close(&t);
    }
}

/* ==== golden digests ==== */

static void sha_hex(const void *p, size_t n, char hex[65])
{
    vi_error err = {{0}};
    vi_sha256 h;
    uint8_t d[VI_SHA256_LEN];
    assert_int_equal(vi_sha256_begin(&h, &err), VI_OK);
    vi_sha256_bytes(&h, p, n);
    assert_int_equal(vi_sha256_final(&h, d, &err), VI_OK);
    vi_hex_encode(d, sizeof d, hex);
}

/* Any change of the canonical order, of a formula or of the generator
 * changes these. */
#define GOLDEN_TINY_GGUF "0f1da0d75979575c2c13d70b74fe69a5368fe04eca683f1dfce0321426b48582"
#define GOLDEN_TINY_LOGITS "f814e3f7a04a6de4771179f3eddf430f39379e283fbcd7da01b5a51e2e86adec"
#define GOLDEN_LONG_LOGITS "52b30c205a0b1c1a54c027e0fb9935f928cc4b5f7d1d3918fc46ae4dd3412b6f"

/* Past 256 positions the attention splits: prefill, decoding and every ISA
 * agree, and match the specification. */
static void test_long_context_split(void **state)
{
    (void)state;
    vi_gen_llama_opts o;
    vi_gen_llama_defaults(&o);
    o.n_embd = 32;
    o.n_ff = 64;
    o.n_head = 2;
    o.n_head_kv = 1;
    o.seed = 9;
    tiny t;
    tiny_open(&t, &o);
    int n = 620;
    int32_t V = t.hp->n_vocab;
    int32_t *tok = rand_tokens(21, n, V);
    float *pre = run_seq(t.m, 2, VI_ISA_AUTO, tok, n, NULL, 0);
    float *spec = spec_logits(&t, tok, n);
    same_bits(pre, spec, (size_t)n * V, "long prefill vs the specification");
    int ch[4] = {1, 255, 2, 300};
    for (int i = 0; i < 3; i++) {
        if (!vi_isa_supported(ISAS[i]))
            continue;
        float *lg = run_seq(t.m, 1 + i % 2, ISAS[i], tok, n, i == 0 ? ch : NULL, 4);
        same_bits(pre, lg, (size_t)n * V, vi_isa_name(ISAS[i]));
        free(lg);
    }
    int one[1] = {1};
    float *dec = run_seq(t.m, 3, VI_ISA_AUTO, tok, n, one, 1);
    same_bits(pre, dec, (size_t)n * V, "long decode vs prefill");
    char hex[65];
    sha_hex(pre, (size_t)n * V * 4, hex);
    print_message("long context logits sha256 %s\n", hex);
    assert_string_equal(hex, GOLDEN_LONG_LOGITS);
    double *ref = ref64_logits(&t, tok, n);
    double e = rel_err(pre + (size_t)(n - 20) * V, ref + (size_t)(n - 20) * V, 20, V);
    print_message("long context: max relative logit error vs float64 %.3g\n", e);
    if (!(e < VI_TEST_REL_BOUND))
        fail_msg("long context: relative error %.3g", e);
    free(tok), free(pre), free(spec), free(dec), free(ref);
    tiny_close(&t);
}

static void test_golden_digest(void **state)
{
    (void)state;
    tiny t;
    tiny_default(&t);
    char hex[65];
    sha_hex(t.buf, t.size, hex);
    print_message("tiny gguf sha256 %s (%zu bytes)\n", hex, t.size);
    assert_string_equal(hex, GOLDEN_TINY_GGUF);
    int32_t tok[64];
    for (int i = 0; i < 64; i++)
        tok[i] = (int32_t)((i * 37 + 11) % t.hp->n_vocab);
    float *lg = run_seq(t.m, 1, VI_ISA_AUTO, tok, 64, NULL, 0);
    sha_hex(lg, (size_t)64 * t.hp->n_vocab * 4, hex);
    print_message("tiny logits sha256 %s\n", hex);
    assert_string_equal(hex, GOLDEN_TINY_LOGITS);
    free(lg);
    tiny_close(&t);
}

static void test_generator(void **state)
{
    (void)state;
    vi_error err = {{0}};
    vi_gen_llama_opts o;
    vi_gen_llama_defaults(&o);
    uint8_t *a, *b;
    size_t na, nb;
    assert_int_equal(vi_gen_llama_to_memory(&o, &a, &na, &err), VI_OK);
    assert_int_equal(vi_gen_llama_to_memory(&o, &b, &nb, &err), VI_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(b);
    o.seed = 2;
    assert_int_equal(vi_gen_llama_to_memory(&o, &b, &nb, &err), VI_OK);
    assert_int_equal(na, nb);
    assert_true(memcmp(a, b, na) != 0);
    free(b);
    /* the file writer gives the same bytes */
    char dir[512], path[600];
    vt_tmpdir("llama-gen", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/tiny.gguf", dir);
    vi_gen_llama_defaults(&o);
    assert_int_equal(vi_gen_llama_write(&o, path, &err), VI_OK);
    size_t nf;
    char *f = vt_read_file(path, &nf);
    assert_non_null(f);
    assert_int_equal(nf, na);
    assert_memory_equal(f, a, na);
    /* and vi_llama_load reads it */
    vi_llama *m;
    assert_int_equal(vi_llama_load(&m, path, &err), VI_OK);
    const vi_llama_hparams *hp = vi_llama_hparams_of(m);
    assert_int_equal(hp->n_vocab, 300);
    assert_int_equal(hp->n_embd, 64);
    assert_int_equal(hp->n_layer, 2);
    assert_int_equal(hp->n_head, 4);
    assert_int_equal(hp->n_head_kv, 2);
    assert_int_equal(hp->head_dim, 16);
    assert_int_equal(hp->n_ff, 160);
    assert_int_equal(hp->n_ctx_train, 1024);
    assert_true(hp->rope_base == 10000.0f && hp->rms_eps == 1e-5f);
    assert_non_null(vi_llama_gguf(m));
    vi_llama_free(m);
    unlink(path);
    rmdir(dir);
    free(f);
    free(a);
    /* option errors */
    vi_gen_llama_defaults(&o);
    o.n_head = 3;
    assert_int_equal(vi_gen_llama_to_memory(&o, &a, &na, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "n_head 3 must divide n_embd 64"));
    vi_gen_llama_defaults(&o);
    o.n_ff = 100;
    assert_int_equal(vi_gen_llama_to_memory(&o, &a, &na, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "wtype Q4_1 needs n_embd and n_ff to be a multiple of 32"));
    vi_gen_llama_defaults(&o);
    o.embd_type = VI_GGML_Q6_K;
    assert_int_equal(vi_gen_llama_to_memory(&o, &a, &na, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "embd_type 14 is not one of"));
}

/* ==== errors ==== */

/* Replaces the first occurrence of `from` in the image by `to` (same length). */
static void patch(uint8_t *buf, size_t size, const char *from, const char *to)
{
    size_t n = strlen(from);
    assert_int_equal(n, strlen(to));
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            return;
        }
    fail_msg("'%s' not in the image", from);
}

/* Loads a patched default image; returns the status and the message. */
static vi_status load_patched(const char *from, const char *to, const void *val_after,
                              size_t val_len, vi_error *err)
{
    vi_gen_llama_opts o;
    vi_gen_llama_defaults(&o);
    uint8_t *buf;
    size_t size;
    assert_int_equal(vi_gen_llama_to_memory(&o, &buf, &size, err), VI_OK);
    patch(buf, size, from, to);
    if (val_after) { /* overwrite the value after key `to` (u32 type tag, then value) */
        uint8_t *k = memmem(buf, size, to, strlen(to));
        memcpy(k + strlen(to) + 4, val_after, val_len);
    }
    vi_gguf *g = NULL;
    vi_llama *m = NULL;
    vi_status st = vi_gguf_open_memory(&g, buf, size, err);
    assert_int_equal(st, VI_OK);
    st = vi_llama_from_gguf(&m, g, err);
    assert_true(st != VI_OK || m != NULL);
    vi_llama_free(m);
    vi_gguf_close(g);
    free(buf);
    return st;
}

static void expect_load(const char *from, const char *to, const void *val, size_t vlen,
                        vi_status want, const char *msg)
{
    vi_error err = {{0}};
    vi_status st = load_patched(from, to, val, vlen, &err);
    if (st != want || !strstr(err.msg, msg))
        fail_msg("patch '%s' -> '%s': got %d '%s', expected %d with '%s'", from, to, (int)st,
                 err.msg, (int)want, msg);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load("blk.1.ffn_up.weight", "blk.1.ffn_uq.weight", NULL, 0, VI_ERR_INVALID,
                "llama: missing tensor 'blk.1.ffn_up.weight'");
    expect_load("output_norm.weight", "output_norm.weighs", NULL, 0, VI_ERR_INVALID,
                "missing tensor 'output_norm.weight'");
    expect_load("llama.block_count", "llama.block_counx", NULL, 0, VI_ERR_INVALID,
                "GGUF key 'llama.block_count' is missing");
    static const uint8_t arch[13] = {5, 0, 0, 0, 0, 0, 0, 0, 'l', 'l', 'a', 'm', 'b'};
    expect_load("general.architecture", "general.architecture", arch, sizeof arch,
                VI_ERR_UNSUPPORTED, "general.architecture is 'llamb'; only 'llama' is supported");
    uint32_t ff = 128;
    expect_load("llama.feed_forward_length", "llama.feed_forward_length", &ff, 4, VI_ERR_INVALID,
                "tensor 'blk.0.ffn_gate.weight' has shape [64, 160], expected [64, 128]");
    uint32_t heads = 5;
    expect_load("llama.attention.head_count_kv", "llama.attention.head_count_kv", &heads, 4,
                VI_ERR_INVALID, "'llama.attention.head_count_kv' is 5, expected 1 to 4");
    heads = 3;
    expect_load("llama.attention.head_count_kv", "llama.attention.head_count_kv", &heads, 4,
                VI_ERR_INVALID, "head_count 4 is not a multiple of head_count_kv 3");
    uint32_t rd = 8;
    expect_load("llama.rope.dimension_count", "llama.rope.dimension_count", &rd, 4,
                VI_ERR_UNSUPPORTED, "rope.dimension_count 8 differs from the head dimension 16");
    uint32_t nv = 301;
    expect_load("llama.vocab_size", "llama.vocab_size", &nv, 4, VI_ERR_INVALID,
                "llama.vocab_size 301 differs from token_embd.weight's 300 rows");
    float eps = -1.0f;
    expect_load("llama.attention.layer_norm_rms_epsilon", "llama.attention.layer_norm_rms_epsilon",
                &eps, 4, VI_ERR_INVALID, "is -1, expected a finite value > 0");
    vi_error err = {{0}};
    vi_llama *m = (vi_llama *)&err;
    assert_int_equal(vi_llama_load(&m, "/nonexistent/x.gguf", &err), VI_ERR_NOT_FOUND);
    assert_null(m);
    assert_non_null(strstr(err.msg, "/nonexistent/x.gguf"));
}

static void test_forward_errors(void **state)
{
    (void)state;
    tiny t, u;
    tiny_default(&t);
    vi_gen_llama_opts o;
    vi_gen_llama_defaults(&o);
    o.n_layer = 1;
    tiny_open(&u, &o);
    vi_error err = {{0}};
    vi_llama_ctx *c = NULL;
    assert_int_equal(vi_llama_ctx_new(&c, t.m, 0, VI_ISA_AUTO, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "n_threads 0 out of range"));
    c = ctx_new(t.m, 2, VI_ISA_AUTO);
    vi_kv_cache *kc = NULL;
    assert_int_equal(vi_kv_cache_new(&kc, t.m, 0, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "n_ctx 0 out of range"));
    vi_kv_cache *a = cache_new(t.m, 4), *b = cache_new(t.m, 8), *other = cache_new(u.m, 8);
    assert_int_equal(vi_kv_cache_n_ctx(a), 4);
    int32_t V = t.hp->n_vocab;
    float *lg = malloc(8 * (size_t)V * 4);
    int32_t tok[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    vi_kv_cache *rows[8] = {a, a, b, b, b, NULL, a, a};

    tok[3] = V;
    assert_int_equal(vi_llama_forward(c, rows, tok, 5, NULL, lg, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "row 3: token 300 out of range [0, 300)"));
    tok[3] = -1;
    assert_int_equal(vi_llama_forward(c, rows, tok, 5, NULL, lg, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "row 3: token -1 out of range"));
    tok[3] = 4;
    assert_int_equal(vi_llama_forward(c, rows, tok, 6, NULL, lg, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "row 5 has no KV cache"));
    vi_kv_cache *split[3] = {a, b, a};
    assert_int_equal(vi_llama_forward(c, split, tok, 3, NULL, lg, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "row 2: the rows of a sequence must be consecutive"));
    vi_kv_cache *mix[2] = {a, other};
    assert_int_equal(vi_llama_forward(c, mix, tok, 2, NULL, lg, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "row 1: KV cache made for another model (1 layers"));
    vi_kv_cache *full[5] = {a, a, a, a, a};
    assert_int_equal(vi_llama_forward(c, full, tok, 5, NULL, lg, &err), VI_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "row 4: position 4 does not fit the KV cache (n_ctx 4)"));
    assert_int_equal(vi_llama_forward(c, full, tok, 2, NULL, NULL, &err), VI_ERR_INVALID);
    assert_non_null(strstr(err.msg, "logits is NULL but 2 rows want logits"));
    assert_int_equal(vi_llama_forward(c, full, tok, -1, NULL, lg, &err), VI_ERR_INVALID);
    assert_int_equal(vi_llama_forward(c, full, tok, 0, NULL, NULL, &err), VI_OK);
    /* nothing changed by the failures: the caches are empty and usable */
    assert_int_equal(vi_kv_cache_len(a), 0);
    assert_int_equal(vi_kv_cache_len(b), 0);
    forward_ok(c, full, tok, 4, NULL, lg);
    float *ref = run_seq(t.m, 1, VI_ISA_AUTO, tok, 4, NULL, 0);
    same_bits(lg, ref, 4 * (size_t)V, "after failed calls");
    assert_int_equal(vi_llama_forward(c, full, tok, 1, NULL, lg, &err), VI_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "row 0: position 4 does not fit"));
    uint8_t none[2] = {0, 0};
    assert_int_equal(vi_llama_forward(c, rows + 2, tok, 2, none, NULL, &err), VI_OK);
    assert_int_equal(vi_kv_cache_len(b), 2);
    free(ref), free(lg);
    vi_kv_cache_free(a), vi_kv_cache_free(b), vi_kv_cache_free(other);
    vi_kv_cache_free(NULL);
    vi_llama_ctx_free(c);
    vi_llama_ctx_free(NULL);
    vi_llama_free(NULL);
    tiny_close(&u);
    tiny_close(&t);
}

/* Truncating a cache and decoding other tokens gives a fresh sequence's bits. */
static void test_cache_truncate(void **state)
{
    (void)state;
    tiny t;
    tiny_default(&t);
    int32_t V = t.hp->n_vocab;
    int32_t *x = rand_tokens(31, 40, V), *y = rand_tokens(32, 40, V);
    memcpy(y, x, 25 * sizeof *y); /* y shares a 25-token prefix with x */
    float *ref = run_seq(t.m, 2, VI_ISA_AUTO, y, 40, NULL, 0);
    vi_llama_ctx *c = ctx_new(t.m, 2, VI_ISA_AUTO);
    vi_kv_cache *kc = cache_new(t.m, 40);
    vi_kv_cache *cs[40];
    for (int i = 0; i < 40; i++)
        cs[i] = kc;
    float *lg = malloc(40 * (size_t)V * 4);
    forward_ok(c, cs, x, 40, NULL, lg);
    vi_kv_cache_truncate(kc, 25);
    assert_int_equal(vi_kv_cache_len(kc), 25);
    vi_kv_cache_truncate(kc, 99);
    assert_int_equal(vi_kv_cache_len(kc), 25);
    forward_ok(c, cs, y + 25, 15, NULL, lg);
    same_bits(lg, ref + (size_t)25 * V, 15 * (size_t)V, "after truncate");
    vi_kv_cache_truncate(kc, -3);
    assert_int_equal(vi_kv_cache_len(kc), 0);
    free(x), free(y), free(ref), free(lg);
    vi_kv_cache_free(kc);
    vi_llama_ctx_free(c);
    tiny_close(&t);
}

/* ==== the real model against llama.cpp ==== */

static int argmax_first(const float *v, int32_t n)
{
    int best = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = (int)i;
    return best;
}

/* Teacher forcing: after the prompt, llama.cpp's greedy tokens are fed one by
 * one; at every step our logits of llama.cpp's top ids must be within
 * LLAMA_GOLDEN_LOGIT_BOUND of its logits, and our greedy choice must be its
 * choice unless llama.cpp itself ranks our choice within
 * LLAMA_GOLDEN_TIE_BOUND of its own (a near tie that its 8-bit activations
 * can flip). */
static void test_real_model(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/local/SmolLM2-135M-Instruct.Q4_1.gguf", vt_src());
    if (access(path, R_OK) != 0) {
        print_message("%s absent (scripts/fetch-smollm2.sh): skipped\n", path);
        skip();
    }
    vi_error err = {{0}};
    vi_llama *m;
    if (vi_llama_load(&m, path, &err) != VI_OK)
        fail_msg("%s", err.msg);
    const vi_llama_hparams *hp = vi_llama_hparams_of(m);
    assert_int_equal(hp->n_vocab, 49152);
    assert_int_equal(hp->n_embd, 576);
    assert_int_equal(hp->n_layer, 30);
    assert_int_equal(hp->n_head, 9);
    assert_int_equal(hp->n_head_kv, 3);
    assert_int_equal(hp->head_dim, 64);
    assert_int_equal(hp->n_ff, 1536);
    assert_int_equal(hp->n_ctx_train, 8192);
    assert_true(hp->rope_base == 100000.0f && hp->rms_eps == 1e-5f);
    vi_llama_ctx *c = ctx_new(m, 2, VI_ISA_AUTO);
    float *lg = malloc((size_t)hp->n_vocab * 4);
    double worst = 0;
    int agree_all = 0;
    for (int pi = 0; pi < LLAMA_GOLDEN_N_PROMPTS; pi++) {
        const llama_golden_prompt *gp = &LLAMA_GOLDEN[pi];
        vi_kv_cache *kc = cache_new(m, gp->n_prompt + LLAMA_GOLDEN_N_GEN);
        vi_kv_cache *cs[LLAMA_GOLDEN_MAX_PROMPT];
        uint8_t want[LLAMA_GOLDEN_MAX_PROMPT] = {0};
        for (int i = 0; i < LLAMA_GOLDEN_MAX_PROMPT; i++)
            cs[i] = kc;
        want[gp->n_prompt - 1] = 1;
        forward_ok(c, cs, gp->prompt, gp->n_prompt, want, lg);
        double d = 0;
        for (int i = 0; i < LLAMA_GOLDEN_N_LOGITS; i++)
            d = fmax(d, fabs((double)lg[gp->logit_ids[i]] - (double)gp->logits[i]));
        int agree = 0;
        for (int s = 0; s < LLAMA_GOLDEN_N_GEN; s++) {
            const int32_t *ids = gp->step_ids[s];
            const float *ref = gp->step_logits[s];
            for (int j = 0; j < LLAMA_GOLDEN_N_STEP_TOP; j++)
                d = fmax(d, fabs((double)lg[ids[j]] - (double)ref[j]));
            int32_t ours = argmax_first(lg, hp->n_vocab);
            if (ours == gp->gen[s]) {
                agree++;
            } else {
                int j = 0;
                while (j < LLAMA_GOLDEN_N_STEP_TOP && ids[j] != ours)
                    j++;
                if (j == LLAMA_GOLDEN_N_STEP_TOP)
                    fail_msg("prompt %d step %d: greedy token %d is not in llama.cpp's top %d", pi,
                             s, (int)ours, LLAMA_GOLDEN_N_STEP_TOP);
                double ref_gap = (double)ref[0] - (double)ref[j];
                double our_gap = (double)lg[ours] - (double)lg[gp->gen[s]];
                print_message("prompt %d step %d: near tie: ours %d, llama.cpp %d (llama.cpp's "
                              "margin %.4f, ours %.4f)\n",
                              pi, s, (int)ours, (int)gp->gen[s], ref_gap, our_gap);
                if (!(ref_gap < LLAMA_GOLDEN_TIE_BOUND))
                    fail_msg("prompt %d step %d: token %d vs llama.cpp's %d with margin %.4f", pi,
                             s, (int)ours, (int)gp->gen[s], ref_gap);
            }
            if (s + 1 < LLAMA_GOLDEN_N_GEN)
                forward_ok(c, cs, &gp->gen[s], 1, NULL, lg);
        }
        print_message("prompt %d: %d/%d greedy tokens equal llama.cpp's; max |logit diff| %.4f\n",
                      pi, agree, LLAMA_GOLDEN_N_GEN, d);
        if (!(d < LLAMA_GOLDEN_LOGIT_BOUND))
            fail_msg("prompt %d: logit difference %.4f >= %.2f", pi, d, LLAMA_GOLDEN_LOGIT_BOUND);
        worst = fmax(worst, d);
        agree_all += agree;
        vi_kv_cache_free(kc);
    }
    print_message("real model: %d/%d greedy tokens equal llama.cpp's; max |logit diff| %.4f\n",
                  agree_all, LLAMA_GOLDEN_N_PROMPTS * LLAMA_GOLDEN_N_GEN, worst);
    /* the real model's bits on every ISA: 6 prompt tokens, then 2 decoded */
    const llama_golden_prompt *gp = &LLAMA_GOLDEN[3];
    float *isa_ref = NULL;
    for (int i = 0; i < 3; i++) {
        if (!vi_isa_supported(ISAS[i]))
            continue;
        vi_llama_ctx *ci = ctx_new(m, 1 + i % 2, ISAS[i]);
        vi_kv_cache *kc = cache_new(m, 8);
        vi_kv_cache *cs[6] = {kc, kc, kc, kc, kc, kc};
        float *out = malloc(3 * (size_t)hp->n_vocab * 4);
        uint8_t want[6] = {0, 0, 0, 0, 0, 1};
        forward_ok(ci, cs, gp->prompt, 6, want, out);
        forward_ok(ci, cs, gp->prompt + 6, 1, NULL, out + hp->n_vocab);
        forward_ok(ci, cs, gp->prompt + 7, 1, NULL, out + 2 * (size_t)hp->n_vocab);
        if (!isa_ref)
            isa_ref = out;
        else {
            same_bits(isa_ref, out, 3 * (size_t)hp->n_vocab, vi_isa_name(ISAS[i]));
            free(out);
        }
        vi_kv_cache_free(kc);
        vi_llama_ctx_free(ci);
    }
    free(isa_ref);
    free(lg);
    vi_llama_ctx_free(c);
    vi_llama_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy_and_spec),  cmocka_unit_test(test_prefill_decode_chunks),
        cmocka_unit_test(test_multi_sequence),     cmocka_unit_test(test_threads_and_isa),
        cmocka_unit_test(test_long_context_split), cmocka_unit_test(test_golden_digest),
        cmocka_unit_test(test_generator),          cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_forward_errors),     cmocka_unit_test(test_cache_truncate),
        cmocka_unit_test(test_real_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
