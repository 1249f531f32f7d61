/* models/llama_load.c — GGUF -> llama hyper-parameters and prepared weights:
 * every key, tensor name, shape and type is checked before it is trusted,
 * and a failure names the key or tensor, what it holds and what was
 * expected. q/k/v and gate/up are fused into one linear each when their
 * types agree (each output's bits are those of its own row alone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quant.h"
#include "core/vmath.h"
#include "llama_impl.h"

#define VI_LLAMA_MAX_DIM 65536 /* n_embd, n_layer, heads, head_dim */
#define VI_LLAMA_MAX_FF (1 << 20)
#define VI_LLAMA_MAX_VOCAB (1 << 24)

/* ==== metadata ==== */

/* A required integer key "llama.<name>" in [lo, hi]. */
static vi_status req_u32(const vi_gguf *g, const char *name, int64_t lo, int64_t hi, int32_t *out,
                         vi_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "llama.%s", name);
    if (!vi_gguf_has_key(g, key))
        return vi_fail(err, VI_ERR_INVALID, "llama: GGUF key '%s' is missing", key);
    uint32_t v;
    vi_status st = vi_gguf_get_u32(g, key, &v, err);
    if (st != VI_OK)
        return st;
    if ((int64_t)v < lo || (int64_t)v > hi)
        return vi_fail(err, VI_ERR_INVALID, "llama: GGUF key '%s' is %u, expected %lld to %lld",
                       key, v, (long long)lo, (long long)hi);
    *out = (int32_t)v;
    return VI_OK;
}

/* An optional integer key: *out keeps its default when absent. */
static vi_status opt_u32(const vi_gguf *g, const char *name, int64_t lo, int64_t hi, int32_t *out,
                         vi_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "llama.%s", name);
    if (!vi_gguf_has_key(g, key))
        return VI_OK;
    return req_u32(g, name, lo, hi, out, err);
}

/* A float key "llama.<name>", finite and > 0; *out keeps its default when
 * absent and !required. */
static vi_status get_pos_f32(const vi_gguf *g, const char *name, int required, float *out,
                             vi_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "llama.%s", name);
    if (!vi_gguf_has_key(g, key))
        return required ? vi_fail(err, VI_ERR_INVALID, "llama: GGUF key '%s' is missing", key)
                        : VI_OK;
    float v;
    vi_status st = vi_gguf_get_f32(g, key, &v, err);
    if (st != VI_OK)
        return st;
    if (!(v > 0.0f) || v == __builtin_inff())
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: GGUF key '%s' is %g, expected a finite value > 0", key, (double)v);
    *out = v;
    return VI_OK;
}

static vi_status read_hparams(const vi_gguf *g, vi_llama_hparams *hp, vi_error *err)
{
    vi_gguf_str arch;
    if (!vi_gguf_has_key(g, "general.architecture"))
        return vi_fail(err, VI_ERR_INVALID, "llama: GGUF key 'general.architecture' is missing");
    vi_status st = vi_gguf_get_str(g, "general.architecture", &arch, err);
    if (st != VI_OK)
        return st;
    if (!vi_gguf_str_eq(arch, "llama"))
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "llama: general.architecture is '%.*s'; only 'llama' is supported",
                       (int)(arch.len > 64 ? 64 : arch.len), arch.ptr);
    memset(hp, 0, sizeof *hp);
    if ((st = req_u32(g, "embedding_length", 1, VI_LLAMA_MAX_DIM, &hp->n_embd, err)) ||
        (st = req_u32(g, "block_count", 1, VI_LLAMA_MAX_DIM, &hp->n_layer, err)) ||
        (st = req_u32(g, "feed_forward_length", 1, VI_LLAMA_MAX_FF, &hp->n_ff, err)) ||
        (st = req_u32(g, "attention.head_count", 1, VI_LLAMA_MAX_DIM, &hp->n_head, err)) ||
        (st = req_u32(g, "context_length", 1, INT32_MAX, &hp->n_ctx_train, err)))
        return st;
    hp->n_head_kv = hp->n_head;
    if ((st = opt_u32(g, "attention.head_count_kv", 1, hp->n_head, &hp->n_head_kv, err)))
        return st;
    if (hp->n_head % hp->n_head_kv != 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: attention.head_count %d is not a multiple of head_count_kv %d",
                       (int)hp->n_head, (int)hp->n_head_kv);
    hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->n_embd % hp->n_head != 0 && !vi_gguf_has_key(g, "llama.attention.key_length"))
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: embedding_length %d is not a multiple of head_count %d",
                       (int)hp->n_embd, (int)hp->n_head);
    if ((st = opt_u32(g, "attention.key_length", 2, VI_LLAMA_MAX_DIM, &hp->head_dim, err)))
        return st;
    int32_t vlen = hp->head_dim, rope_dim = hp->head_dim;
    if ((st = opt_u32(g, "attention.value_length", 1, VI_LLAMA_MAX_DIM, &vlen, err)) ||
        (st = opt_u32(g, "rope.dimension_count", 0, VI_LLAMA_MAX_DIM, &rope_dim, err)))
        return st;
    if (hp->head_dim % 2 != 0)
        return vi_fail(err, VI_ERR_INVALID, "llama: head dimension %d is odd (RoPE rotates pairs)",
                       (int)hp->head_dim);
    if (vlen != hp->head_dim)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "llama: attention.value_length %d differs from key_length %d", (int)vlen,
                       (int)hp->head_dim);
    if (rope_dim != hp->head_dim)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "llama: rope.dimension_count %d differs from the head dimension %d "
                       "(partial RoPE is not supported)",
                       (int)rope_dim, (int)hp->head_dim);
    int32_t n_expert = 0;
    if ((st = opt_u32(g, "expert_count", 0, INT32_MAX, &n_expert, err)))
        return st;
    if (n_expert > 0)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "llama: expert_count is %d; mixture-of-experts models are not supported",
                       (int)n_expert);
    if (vi_gguf_has_key(g, "llama.rope.scaling.type")) {
        vi_gguf_str t;
        if ((st = vi_gguf_get_str(g, "llama.rope.scaling.type", &t, err)))
            return st;
        if (!vi_gguf_str_eq(t, "none"))
            return vi_fail(err, VI_ERR_UNSUPPORTED,
                           "llama: rope.scaling.type '%.*s' is not supported (only none)",
                           (int)(t.len > 64 ? 64 : t.len), t.ptr);
    }
    hp->rope_base = 10000.0f;
    if ((st = get_pos_f32(g, "rope.freq_base", 0, &hp->rope_base, err)) ||
        (st = get_pos_f32(g, "attention.layer_norm_rms_epsilon", 1, &hp->rms_eps, err)))
        return st;
    return VI_OK;
}

/* ==== tensors ==== */

/* Tensor `name` with n_dims dims ne0 (and ne1 when n_dims == 2). */
static vi_status get_tensor(const vi_gguf *g, const char *name, int n_dims, int64_t ne0,
                            int64_t ne1, const vi_gguf_tensor **out, vi_error *err)
{
    const vi_gguf_tensor *t = vi_gguf_find_tensor(g, name);
    if (!t)
        return vi_fail(err, VI_ERR_INVALID, "llama: missing tensor '%s'", name);
    int ok = t->n_dims == n_dims && t->ne[0] == ne0 && (n_dims == 1 || t->ne[1] == ne1);
    if (!ok) {
        char got[96] = "";
        size_t k = 0;
        for (int d = 0; d < t->n_dims && d < VI_GGUF_MAX_DIMS && k < sizeof got; d++)
            k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", d ? ", " : "",
                                  (long long)t->ne[d]);
        if (n_dims == 1)
            return vi_fail(err, VI_ERR_INVALID,
                           "llama: tensor '%s' has shape [%s], expected [%lld]", name, got,
                           (long long)ne0);
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: tensor '%s' has shape [%s], expected [%lld, %lld]", name, got,
                       (long long)ne0, (long long)ne1);
    }
    *out = t;
    return VI_OK;
}

/* A 1-D f32/f16/bf16 vector of n values, widened into an owned array. */
static vi_status load_vec(const vi_gguf *g, const char *name, int64_t n, float **out, vi_error *err)
{
    const vi_gguf_tensor *t;
    vi_status st = get_tensor(g, name, 1, n, 0, &t, err);
    if (st != VI_OK)
        return st;
    if (t->type != VI_GGML_F32 && t->type != VI_GGML_F16 && t->type != VI_GGML_BF16) {
        const char *tn = vi_ggml_type_name(t->type);
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "llama: tensor '%s' has type %s, expected F32, F16 or BF16", name,
                       tn ? tn : "(unknown)");
    }
    *out = malloc((size_t)n * sizeof(float));
    if (!*out)
        return vi_fail(err, VI_ERR_NOMEM, "llama: out of memory for '%s'", name);
    vi_dequant_row(t->type, t->data, *out, n);
    return VI_OK;
}

/* Prepares rows from one or more tensors of the same type as one linear of
 * K inputs: the tensors' rows are concatenated in order. */
static vi_status prepare_lin(const vi_gguf_tensor *const *ts, int nt, int64_t K, vi_llama_lin *out,
                             vi_error *err)
{
    int64_t N = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < nt; i++) {
        N += ts[i]->ne[1];
        bytes += ts[i]->nbytes;
    }
    const void *w = ts[0]->data;
    uint8_t *cat = NULL;
    if (nt > 1) {
        if (bytes > SIZE_MAX || !(cat = malloc((size_t)bytes)))
            return vi_fail(err, VI_ERR_NOMEM, "llama: out of memory fusing '%.*s'",
                           (int)ts[0]->name.len, ts[0]->name.ptr);
        uint64_t o = 0;
        for (int i = 0; i < nt; i++) {
            memcpy(cat + o, ts[i]->data, (size_t)ts[i]->nbytes);
            o += ts[i]->nbytes;
        }
        w = cat;
    }
    vi_status st = vi_qlinear_prepare(&out->q, ts[0]->type, w, N, K, err);
    free(cat);
    if (st != VI_OK) {
        vi_error_prefix(err, "llama: tensor '%.*s'", (int)ts[0]->name.len, ts[0]->name.ptr);
        return st;
    }
    out->N = N;
    out->K = K;
    return VI_OK;
}

static void free_lin(vi_llama_lin *l)
{
    vi_qlinear_free(l->q);
    l->q = NULL;
}

/* blk.<i>.<suffix> with shape [K, N]. */
static vi_status blk_tensor(const vi_gguf *g, int32_t i, const char *suffix, int64_t K, int64_t N,
                            const vi_gguf_tensor **out, vi_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s", (int)i, suffix);
    return get_tensor(g, name, 2, K, N, out, err);
}

static vi_status build_layer(const vi_gguf *g, const vi_llama_hparams *hp, int32_t i,
                             vi_llama_layer *L, vi_error *err)
{
    int64_t E = hp->n_embd, hd = hp->head_dim;
    int64_t nq = hp->n_head * hd, nkv = hp->n_head_kv * hd, F = hp->n_ff;
    char name[96];
    vi_status st;
    snprintf(name, sizeof name, "blk.%d.attn_norm.weight", (int)i);
    if ((st = load_vec(g, name, E, &L->attn_norm, err)))
        return st;
    snprintf(name, sizeof name, "blk.%d.ffn_norm.weight", (int)i);
    if ((st = load_vec(g, name, E, &L->ffn_norm, err)))
        return st;
    const vi_gguf_tensor *q, *k, *v, *o, *ga, *up, *dn;
    if ((st = blk_tensor(g, i, "attn_q.weight", E, nq, &q, err)) ||
        (st = blk_tensor(g, i, "attn_k.weight", E, nkv, &k, err)) ||
        (st = blk_tensor(g, i, "attn_v.weight", E, nkv, &v, err)) ||
        (st = blk_tensor(g, i, "attn_output.weight", nq, E, &o, err)) ||
        (st = blk_tensor(g, i, "ffn_gate.weight", E, F, &ga, err)) ||
        (st = blk_tensor(g, i, "ffn_up.weight", E, F, &up, err)) ||
        (st = blk_tensor(g, i, "ffn_down.weight", F, E, &dn, err)))
        return st;
    L->fused_qkv = q->type == k->type && k->type == v->type;
    if (L->fused_qkv) {
        const vi_gguf_tensor *ts[3] = {q, k, v};
        st = prepare_lin(ts, 3, E, &L->qkv, err);
    } else {
        if (!(st = prepare_lin(&q, 1, E, &L->wq, err)) &&
            !(st = prepare_lin(&k, 1, E, &L->wk, err)))
            st = prepare_lin(&v, 1, E, &L->wv, err);
    }
    if (st != VI_OK || (st = prepare_lin(&o, 1, nq, &L->wo, err)))
        return st;
    L->fused_gate_up = ga->type == up->type;
    if (L->fused_gate_up) {
        const vi_gguf_tensor *ts[2] = {ga, up};
        st = prepare_lin(ts, 2, E, &L->gate_up, err);
    } else if (!(st = prepare_lin(&ga, 1, E, &L->wgate, err))) {
        st = prepare_lin(&up, 1, E, &L->wup, err);
    }
    if (st != VI_OK)
        return st;
    return prepare_lin(&dn, 1, F, &L->wdown, err);
}

vi_status vi_llama_build(vi_llama *m, const vi_gguf *g, vi_error *err)
{
    vi_llama_hparams *hp = &m->hp;
    m->g = g;
    vi_status st = read_hparams(g, hp, err);
    if (st != VI_OK)
        return st;
    /* token_embd: [n_embd, n_vocab]; n_vocab from its shape */
    const vi_gguf_tensor *te = vi_gguf_find_tensor(g, "token_embd.weight");
    if (!te)
        return vi_fail(err, VI_ERR_INVALID, "llama: missing tensor 'token_embd.weight'");
    if (te->n_dims != 2 || te->ne[1] < 1 || te->ne[1] > VI_LLAMA_MAX_VOCAB)
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: tensor 'token_embd.weight' must be 2-D [n_embd, n_vocab] with "
                       "1 <= n_vocab <= %d",
                       VI_LLAMA_MAX_VOCAB);
    hp->n_vocab = (int32_t)te->ne[1];
    if ((st = get_tensor(g, "token_embd.weight", 2, hp->n_embd, hp->n_vocab, &te, err)))
        return st;
    int32_t vocab_key = hp->n_vocab;
    if ((st = opt_u32(g, "vocab_size", 1, VI_LLAMA_MAX_VOCAB, &vocab_key, err)))
        return st;
    if (vocab_key != hp->n_vocab)
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: llama.vocab_size %d differs from token_embd.weight's %d rows",
                       (int)vocab_key, (int)hp->n_vocab);
    const char *tn = vi_ggml_type_name(te->type);
    if (!tn)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "llama: tensor 'token_embd.weight' has unsupported type %d", (int)te->type);
    if (hp->n_embd % (int64_t)vi_ggml_type_block_size(te->type) != 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "llama: tensor 'token_embd.weight' (%s): n_embd %d is not a multiple of the "
                       "block size %zu",
                       tn, (int)hp->n_embd, vi_ggml_type_block_size(te->type));
    m->embd_type = te->type;
    m->embd = te->data;
    m->embd_row_bytes = te->nbytes / (uint64_t)hp->n_vocab;
    if ((st = load_vec(g, "output_norm.weight", hp->n_embd, &m->out_norm, err)))
        return st;
    const vi_gguf_tensor *head = vi_gguf_find_tensor(g, "output.weight");
    m->tied_head = head == NULL;
    if (head && (st = get_tensor(g, "output.weight", 2, hp->n_embd, hp->n_vocab, &head, err)))
        return st;
    if ((st = prepare_lin(head ? &head : &te, 1, hp->n_embd, &m->head, err)))
        return st;
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers)
        return vi_fail(err, VI_ERR_NOMEM, "llama: out of memory for %d layers", (int)hp->n_layer);
    for (int32_t i = 0; i < hp->n_layer; i++)
        if ((st = build_layer(g, hp, i, &m->layers[i], err)))
            return st;
    m->rope_inv = malloc((size_t)(hp->head_dim / 2) * sizeof(float));
    if (!m->rope_inv)
        return vi_fail(err, VI_ERR_NOMEM, "llama: out of memory");
    vi_rope_inv_freq(hp->rope_base, hp->head_dim, m->rope_inv);
    m->attn_scale = 1.0f / vi_sqrtf((float)hp->head_dim);
    return VI_OK;
}

void vi_llama_release(vi_llama *m)
{
    if (m->layers) {
        for (int32_t i = 0; i < m->hp.n_layer; i++) {
            vi_llama_layer *L = &m->layers[i];
            free(L->attn_norm);
            free(L->ffn_norm);
            free_lin(&L->qkv);
            free_lin(&L->wq);
            free_lin(&L->wk);
            free_lin(&L->wv);
            free_lin(&L->wo);
            free_lin(&L->gate_up);
            free_lin(&L->wgate);
            free_lin(&L->wup);
            free_lin(&L->wdown);
        }
        free(m->layers);
        m->layers = NULL;
    }
    free_lin(&m->head);
    free(m->out_norm);
    free(m->rope_inv);
    m->out_norm = m->rope_inv = NULL;
}
