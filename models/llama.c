/* models/llama.c — the llama model's lifetime, the per-worker context and
 * the forward pass: embedding, per layer RMSNorm -> q/k/v -> RoPE -> KV
 * store -> attention -> output projection -> residual -> RMSNorm -> SwiGLU
 * MLP -> residual, then the final norm and the output head, in the order of
 * docs/llm.md. A call is processed in micro-batches of VI_LLAMA_UBATCH rows
 * through fixed scratch buffers; since no operation mixes rows, the split
 * cannot change any bit. */
#include <stdlib.h>
#include <string.h>

#include "core/order.h"
#include "core/quant.h"
#include "cpu/ops.h"
#include "llama_impl.h"

#define VI_LLAMA_UBATCH 64 /* rows per micro-batch */
#define VI_ATTN_INLINE_WORK                                                                        \
    4096 /* (query head, key) pairs below which attention stays on one thread */

/* ==== model ==== */

vi_status vi_llama_from_gguf(vi_llama **out, const vi_gguf *g, vi_error *err)
{
    *out = NULL;
    if (!g)
        return vi_fail(err, VI_ERR_INVALID, "llama: gguf is NULL");
    vi_llama *m = calloc(1, sizeof *m);
    if (!m)
        return vi_fail(err, VI_ERR_NOMEM, "llama: out of memory");
    vi_status st = vi_llama_build(m, g, err);
    if (st != VI_OK) {
        vi_llama_free(m);
        return st;
    }
    *out = m;
    return VI_OK;
}

vi_status vi_llama_load(vi_llama **out, const char *gguf_path, vi_error *err)
{
    *out = NULL;
    vi_gguf *g = NULL;
    vi_status st = vi_gguf_open(&g, gguf_path, err);
    if (st != VI_OK)
        return st;
    st = vi_llama_from_gguf(out, g, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "%s", gguf_path);
        vi_gguf_close(g);
        return st;
    }
    (*out)->owned = g;
    return VI_OK;
}

void vi_llama_free(vi_llama *m)
{
    if (!m)
        return;
    vi_llama_release(m);
    vi_gguf_close(m->owned);
    free(m);
}

const vi_llama_hparams *vi_llama_hparams_of(const vi_llama *m)
{
    return &m->hp;
}

const vi_gguf *vi_llama_gguf(const vi_llama *m)
{
    return m->g;
}

/* ==== context ==== */

struct vi_llama_ctx {
    const vi_llama *m;
    vi_pool *pool;
    int n_threads;
    vi_isa isa;
    /* micro-batch buffers, VI_LLAMA_UBATCH rows each */
    float *x;            /* [ub][n_embd] residual stream */
    float *xn;           /* [ub][n_embd] normed */
    float *qkv;          /* [ub][n_qkv] q, k, v (RoPE applied in place) */
    float *att;          /* [ub][n_head * head_dim] */
    float *tmp;          /* [ub][n_embd] projection outputs */
    float *gu;           /* [ub][2 n_ff] gate, up */
    float *h;            /* [ub][n_ff] */
    float *rc, *rs;      /* [ub][head_dim / 2] RoPE cos, sin of each row's position */
    int32_t *pos;        /* [ub] */
    vi_kv_cache **cache; /* [ub] */
    /* attention: slots of scratch, one per task */
    int n_slots;
    int64_t slot_floats;
    float *slot_mem;
};

/* What the attention tasks share: (row, kv head) pairs are dealt to slots. */
typedef struct {
    vi_llama_ctx *c;
    int32_t layer, rows;
} vi_attn_job;

vi_isa vi_llama_ctx_isa(const vi_llama_ctx *c)
{
    return c->isa;
}

static void *xmalloc_floats(int64_t n, int *fail)
{
    void *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!p)
        *fail = 1;
    return p;
}

vi_status vi_llama_ctx_new(vi_llama_ctx **out, const vi_llama *m, int n_threads, vi_isa isa,
                           vi_error *err)
{
    *out = NULL;
    if (!m)
        return vi_fail(err, VI_ERR_INVALID, "llama ctx: model is NULL");
    if (n_threads < 1 || n_threads > 1024)
        return vi_fail(err, VI_ERR_INVALID, "llama ctx: n_threads %d out of range [1, 1024]",
                       n_threads);
    if (isa == VI_ISA_AUTO)
        isa = vi_isa_detect();
    if (isa != VI_ISA_SCALAR && isa != VI_ISA_AVX2 && isa != VI_ISA_AVX512)
        return vi_fail(err, VI_ERR_INVALID, "llama ctx: unknown isa %d", (int)isa);
    if (!vi_isa_supported(isa))
        return vi_fail(err, VI_ERR_UNSUPPORTED, "llama ctx: this CPU cannot run the %s path",
                       vi_isa_name(isa));
    vi_llama_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return vi_fail(err, VI_ERR_NOMEM, "llama ctx: out of memory");
    c->m = m;
    c->n_threads = n_threads;
    c->isa = isa;
    if (n_threads > 1) {
        c->pool = vi_pool_create(n_threads, err);
        if (!c->pool) {
            free(c);
            return VI_ERR_NOMEM;
        }
    }
    const vi_llama_hparams *hp = &m->hp;
    int64_t ub = VI_LLAMA_UBATCH, E = hp->n_embd, hd = hp->head_dim;
    int64_t nq = (int64_t)hp->n_head * hd, nqkv = nq + 2 * (int64_t)hp->n_head_kv * hd;
    int fail = 0;
    c->x = xmalloc_floats(ub * E, &fail);
    c->xn = xmalloc_floats(ub * E, &fail);
    c->qkv = xmalloc_floats(ub * nqkv, &fail);
    c->att = xmalloc_floats(ub * nq, &fail);
    c->tmp = xmalloc_floats(ub * E, &fail);
    c->gu = xmalloc_floats(ub * 2 * (int64_t)hp->n_ff, &fail);
    c->h = xmalloc_floats(ub * hp->n_ff, &fail);
    c->rc = xmalloc_floats(ub * (hd / 2), &fail);
    c->rs = xmalloc_floats(ub * (hd / 2), &fail);
    c->pos = malloc((size_t)ub * sizeof *c->pos);
    c->cache = malloc((size_t)ub * sizeof *c->cache);
    c->n_slots = n_threads == 1 ? 1 : 4 * n_threads;
    if (fail || !c->pos || !c->cache) {
        vi_llama_ctx_free(c);
        return vi_fail(err, VI_ERR_NOMEM, "llama ctx: out of memory for scratch buffers");
    }
    *out = c;
    return VI_OK;
}

void vi_llama_ctx_free(vi_llama_ctx *c)
{
    if (!c)
        return;
    vi_pool_destroy(c->pool);
    free(c->x);
    free(c->xn);
    free(c->qkv);
    free(c->att);
    free(c->tmp);
    free(c->gu);
    free(c->h);
    free(c->rc);
    free(c->rs);
    free(c->pos);
    free(c->cache);
    free(c->slot_mem);
    free(c);
}

/* Makes every attention slot hold the scratch of n keys (grows only). */
static vi_status ensure_attn_scratch(vi_llama_ctx *c, int32_t n, vi_error *err)
{
    const vi_llama_hparams *hp = &c->m->hp;
    int64_t need = vi_attn_scratch_floats(n, hp->head_dim, hp->n_head / hp->n_head_kv);
    if (need <= c->slot_floats)
        return VI_OK;
    float *p = malloc((size_t)need * (size_t)c->n_slots * sizeof(float));
    if (!p)
        return vi_fail(err, VI_ERR_NOMEM, "llama: out of memory for attention over %d positions",
                       (int)n);
    free(c->slot_mem);
    c->slot_mem = p;
    c->slot_floats = need;
    return VI_OK;
}

/* ==== the forward pass over one micro-batch ==== */

static void lin_run(const vi_llama_ctx *c, const vi_llama_lin *l, const float *x, int64_t M,
                    float *y)
{
    vi_qlinear_run(l->q, x, M, y, c->isa, c->pool);
}

/* Copies rows of n floats of y into dst (rows of ldd floats) at column off. */
static void place_cols(const float *y, int64_t rows, int64_t n, float *dst, int64_t ldd,
                       int64_t off)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(dst + r * ldd + off, y + r * n, (size_t)n * sizeof(float));
}

static void attn_task(void *arg, int64_t slot)
{
    const vi_attn_job *job = arg;
    vi_llama_ctx *c = job->c;
    const vi_llama_hparams *hp = &c->m->hp;
    int32_t hd = hp->head_dim, group = hp->n_head / hp->n_head_kv;
    int64_t nq = (int64_t)hp->n_head * hd, nqkv = nq + 2 * (int64_t)hp->n_head_kv * hd;
    float *scratch = c->slot_mem + slot * c->slot_floats;
    int64_t pairs = (int64_t)job->rows * hp->n_head_kv; /* (row, kv head) */
    for (int64_t p = slot; p < pairs; p += c->n_slots) {
        int32_t r = (int32_t)(p / hp->n_head_kv), kvh = (int32_t)(p % hp->n_head_kv);
        int64_t off = (int64_t)kvh * group * hd;
        vi_attn_heads(c->cache[r], job->layer, kvh, c->qkv + r * nqkv + off, group, c->pos[r] + 1,
                      c->m->attn_scale, c->att + r * nq + off, scratch, c->isa);
    }
}

static void layer_forward(vi_llama_ctx *c, int32_t li, int32_t B)
{
    const vi_llama *m = c->m;
    const vi_llama_hparams *hp = &m->hp;
    const vi_llama_layer *L = &m->layers[li];
    const vi_cpu_kern *kern = vi_cpu_kern_for(c->isa);
    int64_t E = hp->n_embd, hd = hp->head_dim, F = hp->n_ff;
    int64_t nq = hp->n_head * hd, nkv = hp->n_head_kv * hd, nqkv = nq + 2 * nkv;

    /* attention block */
    vi_cpu_rms_norm(c->x, E, L->attn_norm, hp->rms_eps, c->xn, 0, B, c->isa);
    if (L->fused_qkv) {
        lin_run(c, &L->qkv, c->xn, B, c->qkv);
    } else {
        lin_run(c, &L->wq, c->xn, B, c->att);
        place_cols(c->att, B, nq, c->qkv, nqkv, 0);
        lin_run(c, &L->wk, c->xn, B, c->att);
        place_cols(c->att, B, nkv, c->qkv, nqkv, nq);
        lin_run(c, &L->wv, c->xn, B, c->att);
        place_cols(c->att, B, nkv, c->qkv, nqkv, nq + nkv);
    }
    for (int32_t r = 0; r < B; r++) {
        float *row = c->qkv + r * nqkv;
        const float *rc = c->rc + r * (hd / 2), *rs = c->rs + r * (hd / 2);
        vi_rope_apply(row, hp->n_head, (int32_t)hd, rc, rs);
        vi_rope_apply(row + nq, hp->n_head_kv, (int32_t)hd, rc, rs);
        vi_kv_store(c->cache[r], li, c->pos[r], row + nq, row + nq + nkv);
    }
    vi_attn_job job = {c, li, B};
    /* small attention (short decode contexts) runs inline: waking the pool
     * would cost more than the work */
    int64_t work = 0;
    for (int32_t r = 0; r < B; r++)
        work += (int64_t)(c->pos[r] + 1) * hp->n_head;
    vi_pool_run(work < VI_ATTN_INLINE_WORK ? NULL : c->pool, c->n_slots, attn_task, &job);
    lin_run(c, &L->wo, c->att, B, c->tmp);
    kern->binary(VI_OP_ADD, c->x, c->tmp, B * E, 0, c->x, B * E);

    /* MLP block: h = (g * sigmoid(g)) * u */
    vi_cpu_rms_norm(c->x, E, L->ffn_norm, hp->rms_eps, c->xn, 0, B, c->isa);
    if (L->fused_gate_up) {
        lin_run(c, &L->gate_up, c->xn, B, c->gu);
    } else {
        lin_run(c, &L->wgate, c->xn, B, c->h);
        place_cols(c->h, B, F, c->gu, 2 * F, 0);
        lin_run(c, &L->wup, c->xn, B, c->h);
        place_cols(c->h, B, F, c->gu, 2 * F, F);
    }
    for (int32_t r = 0; r < B; r++) {
        const float *g = c->gu + r * 2 * F, *u = g + F;
        float *h = c->h + r * F;
        kern->unary(VI_OP_SIGMOID, 0, g, h, F);
        kern->binary(VI_OP_MUL, g, h, F, 0, h, F);
        kern->binary(VI_OP_MUL, h, u, F, 0, h, F);
    }
    lin_run(c, &L->wdown, c->h, B, c->tmp);
    kern->binary(VI_OP_ADD, c->x, c->tmp, B * E, 0, c->x, B * E);
}

/* Rows [0, B) of the micro-batch, whose token ids are tok; logits of the
 * rows with want[r] go to out (consecutive rows of n_vocab). */
static void ubatch_forward(vi_llama_ctx *c, const int32_t *tok, int32_t B, const uint8_t *want,
                           float *out)
{
    const vi_llama *m = c->m;
    const vi_llama_hparams *hp = &m->hp;
    int64_t E = hp->n_embd, half = hp->head_dim / 2;
    for (int32_t r = 0; r < B; r++) {
        vi_dequant_row(m->embd_type, m->embd + (uint64_t)tok[r] * m->embd_row_bytes, c->x + r * E,
                       E);
        vi_rope_cos_sin(m->rope_inv, (int32_t)half, c->pos[r], c->rc + r * half, c->rs + r * half);
    }
    for (int32_t li = 0; li < hp->n_layer; li++)
        layer_forward(c, li, B);
    /* final norm of the wanted rows, packed, then the head */
    int32_t n_out = 0;
    for (int32_t r = 0; r < B; r++)
        if (!want || want[r])
            vi_cpu_rms_norm(c->x + r * E, E, m->out_norm, hp->rms_eps, c->xn + n_out++ * E, 0, 1,
                            c->isa);
    if (n_out == 0)
        return;
    lin_run(c, &m->head, c->xn, n_out, out);
}

/* ==== forward: checks, then micro-batches ==== */

/* Undoes the pending counts of rows [0, n). */
static void clear_pending(vi_kv_cache *const *caches, int32_t n)
{
    for (int32_t r = 0; r < n; r++)
        if (caches[r])
            caches[r]->pending = 0;
}

/* Checks every row; on success every cache's pending is 0 again and *max_n
 * is the largest position + 1 of the call. */
static vi_status check_rows(const vi_llama *m, vi_kv_cache *const *caches, const int32_t *tokens,
                            int32_t n_rows, int32_t *max_n, vi_error *err)
{
    const vi_llama_hparams *hp = &m->hp;
    vi_status st = VI_OK;
    int32_t r = 0;
    *max_n = 0;
    for (; r < n_rows; r++) {
        vi_kv_cache *kc = caches[r];
        if (!kc) {
            st = vi_fail(err, VI_ERR_INVALID, "llama forward: row %d has no KV cache", (int)r);
            break;
        }
        if (kc->n_layer != hp->n_layer || kc->n_head_kv != hp->n_head_kv ||
            kc->head_dim != hp->head_dim) {
            st = vi_fail(err, VI_ERR_INVALID,
                         "llama forward: row %d: KV cache made for another model (%d layers, %d kv "
                         "heads of %d; the model has %d, %d of %d)",
                         (int)r, (int)kc->n_layer, (int)kc->n_head_kv, (int)kc->head_dim,
                         (int)hp->n_layer, (int)hp->n_head_kv, (int)hp->head_dim);
            break;
        }
        if (tokens[r] < 0 || tokens[r] >= hp->n_vocab) {
            st =
                vi_fail(err, VI_ERR_INVALID, "llama forward: row %d: token %d out of range [0, %d)",
                        (int)r, (int)tokens[r], (int)hp->n_vocab);
            break;
        }
        if (kc->pending > 0 && r > 0 && caches[r - 1] != kc) {
            st = vi_fail(err, VI_ERR_INVALID,
                         "llama forward: row %d: the rows of a sequence must be consecutive (its "
                         "cache was used by earlier rows before row %d)",
                         (int)r, (int)r - 1);
            break;
        }
        int64_t p = (int64_t)kc->len + kc->pending;
        if (p >= kc->n_ctx) {
            st =
                vi_fail(err, VI_ERR_LIMIT,
                        "llama forward: row %d: position %lld does not fit the KV cache (n_ctx %d)",
                        (int)r, (long long)p, (int)kc->n_ctx);
            break;
        }
        kc->pending++;
        if (p + 1 > *max_n)
            *max_n = (int32_t)(p + 1);
    }
    clear_pending(caches, r < n_rows ? r + 1 : n_rows);
    return st;
}

vi_status vi_llama_forward(vi_llama_ctx *c, vi_kv_cache *const *caches, const int32_t *tokens,
                           int32_t n_rows, const uint8_t *want_logits, float *logits, vi_error *err)
{
    if (!c)
        return vi_fail(err, VI_ERR_INVALID, "llama forward: ctx is NULL");
    if (n_rows < 0)
        return vi_fail(err, VI_ERR_INVALID, "llama forward: n_rows %d is negative", (int)n_rows);
    if (n_rows == 0)
        return VI_OK;
    if (!caches || !tokens)
        return vi_fail(err, VI_ERR_INVALID, "llama forward: %s is NULL",
                       caches ? "tokens" : "caches");
    const vi_llama *m = c->m;
    int32_t max_n;
    vi_status st = check_rows(m, caches, tokens, n_rows, &max_n, err);
    if (st != VI_OK)
        return st;
    int64_t n_out = 0;
    for (int32_t r = 0; r < n_rows; r++)
        n_out += !want_logits || want_logits[r];
    if (n_out > 0 && !logits)
        return vi_fail(err, VI_ERR_INVALID,
                       "llama forward: logits is NULL but %lld rows want logits", (long long)n_out);
    if ((st = ensure_attn_scratch(c, max_n, err)) != VI_OK)
        return st;
    /* positions again, now for real: pending counts rows already placed */
    int64_t out_rows = 0; /* logits rows written so far */
    for (int32_t r0 = 0; r0 < n_rows; r0 += VI_LLAMA_UBATCH) {
        int32_t B = n_rows - r0 < VI_LLAMA_UBATCH ? n_rows - r0 : VI_LLAMA_UBATCH;
        int32_t nw = 0;
        for (int32_t b = 0; b < B; b++) {
            vi_kv_cache *kc = caches[r0 + b];
            c->cache[b] = kc;
            c->pos[b] = kc->len + kc->pending++;
            nw += !want_logits || want_logits[r0 + b];
        }
        ubatch_forward(c, tokens + r0, B, want_logits ? want_logits + r0 : NULL,
                       nw ? logits + out_rows * m->hp.n_vocab : NULL);
        out_rows += nw;
    }
    for (int32_t r = 0; r < n_rows; r++) {
        caches[r]->len += caches[r]->pending;
        caches[r]->pending = 0;
    }
    return VI_OK;
}
