/* models/gen_llama.c — writes seed-determined tiny llama GGUF models (see
 * models/gen_llama.h): hyper-parameter keys, a byte-level BPE vocabulary and
 * random weights whose block bytes come from one splitmix64 stream per
 * tensor, through integer arithmetic and correctly rounded float ops only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quant.h"
#include "core/vmath.h"
#include "gen_llama.h"
#include "gen_plan.h"

/* The first merges of SmolLM2's tokenizer.ggml.merges (a fact of that
 * vocabulary); every merge's halves are earlier tokens. */
#define G "\xc4\xa0" /* U+0120, the byte-level form of a space */
static const char *const MERGES[VI_GEN_LLAMA_MAX_MERGES] = {
    G " t", G " a", "i n",  "h e",   G " " G,     "r e", "o n", "e r",   G "t he", "a t",  G " s",
    G " o", "e n",  G " c", "e s",   G " w",      "n d", "i t", "o r",   "i s",    "a l",  G " p",
    "in g", G " f", "a n",  "e d",   G " b",      "o u", "a r", G " in", G "o f",  G " m", G "a nd",
    "i on", "i c",  G " d", G "t o", G G " " G G, "l e", "r o", "a s"};
#undef G

static const char *const SPECIALS[3] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

/* SmolLM2-135M-Instruct's tokenizer.chat_template, verbatim. */
static const char CHAT_TEMPLATE[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

void vi_gen_llama_defaults(vi_gen_llama_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->n_layer = 2;
    o->n_embd = 64;
    o->n_head = 4;
    o->n_head_kv = 2;
    o->n_ff = 160;
    o->n_ctx = 1024;
    o->n_merges = VI_GEN_LLAMA_MAX_MERGES;
    o->wtype = VI_GGML_Q4_1;
    o->alt_type = VI_GGML_Q4_1;
    o->embd_type = VI_GGML_Q8_0;
    o->head_type = VI_GEN_LLAMA_TIED;
    o->norm_type = VI_GGML_F32;
    o->rope_base = 10000.0f;
    o->rms_eps = 1e-5f;
}

int32_t vi_gen_llama_n_vocab(const vi_gen_llama_opts *o)
{
    return 3 + 256 + o->n_merges;
}

/* ==== halves ==== */

/* f as an IEEE half by truncating the mantissa (|f| in the half normal
 * range; smaller magnitudes become 0). */
static uint16_t half_trunc(float f)
{
    uint32_t b = vi_f32_bits(f);
    uint32_t sign = (b >> 16) & 0x8000u;
    int32_t e = (int32_t)((b >> 23) & 0xffu) - 127 + 15;
    if (e <= 0)
        return (uint16_t)sign;
    if (e >= 31)
        e = 30;
    return (uint16_t)(sign | ((uint32_t)e << 10) | ((b >> 13) & 0x3ffu));
}

/* A positive half near v: v times a jitter in [1, 1.25). */
static uint16_t half_near(float v, uint64_t *s)
{
    float j = 1.0f + (float)(vi_gen_next(s) >> 56) * 0x1p-10f;
    return half_trunc(v * j);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Fills nbytes of a tensor of type t with n elements of magnitude about amp. */
static void fill(vi_ggml_type t, uint8_t *p, int64_t n, float amp, uint64_t *s)
{
    switch (t) {
    case VI_GGML_F32:
        for (int64_t i = 0; i < n; i++) {
            float v = amp * vi_gen_unit(s);
            memcpy(p + 4 * i, &v, 4);
        }
        break;
    case VI_GGML_F16:
        for (int64_t i = 0; i < n; i++)
            put16(p + 2 * i, half_trunc(amp * vi_gen_unit(s)));
        break;
    case VI_GGML_BF16:
        for (int64_t i = 0; i < n; i++)
            put16(p + 2 * i, (uint16_t)(vi_f32_bits(amp * vi_gen_unit(s)) >> 16));
        break;
    case VI_GGML_Q4_0:
        for (int64_t b = 0; b < n / 32; b++, p += VI_Q4_0_BYTES) {
            put16(p, half_near(amp / 8.0f, s));
            for (int j = 0; j < 16; j++)
                p[2 + j] = (uint8_t)(vi_gen_next(s) >> 56);
        }
        break;
    case VI_GGML_Q4_1:
        for (int64_t b = 0; b < n / 32; b++, p += VI_Q4_1_BYTES) {
            put16(p, half_near(2.0f * amp / 15.0f, s));
            put16(p + 2, (uint16_t)(half_near(amp, s) | 0x8000u)); /* m < 0 */
            for (int j = 0; j < 16; j++)
                p[4 + j] = (uint8_t)(vi_gen_next(s) >> 56);
        }
        break;
    case VI_GGML_Q8_0:
        for (int64_t b = 0; b < n / 32; b++, p += VI_Q8_0_BYTES) {
            put16(p, half_near(amp / 127.0f, s));
            for (int j = 0; j < 32; j++) {
                int q = (int)(vi_gen_next(s) % 255u) - 127;
                p[2 + j] = (uint8_t)(int8_t)q;
            }
        }
        break;
    default:
        break;
    }
}

static int gen_type_ok(int32_t t)
{
    return t == VI_GGML_F32 || t == VI_GGML_F16 || t == VI_GGML_BF16 || t == VI_GGML_Q4_0 ||
           t == VI_GGML_Q4_1 || t == VI_GGML_Q8_0;
}

/* ==== options ==== */

static vi_status check_opts(const vi_gen_llama_opts *o, vi_error *err)
{
    if (o->n_layer < 1 || o->n_layer > 64)
        return vi_fail(err, VI_ERR_INVALID, "gen llama: n_layer %d out of range [1, 64]",
                       (int)o->n_layer);
    if (o->n_embd < 2 || o->n_embd > 4096 || o->n_ff < 1 || o->n_ff > 16384)
        return vi_fail(err, VI_ERR_INVALID,
                       "gen llama: n_embd %d / n_ff %d out of range [2, 4096] / [1, 16384]",
                       (int)o->n_embd, (int)o->n_ff);
    if (o->n_head < 1 || o->n_embd % o->n_head != 0 || (o->n_embd / o->n_head) % 2 != 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "gen llama: n_head %d must divide n_embd %d into heads of even size",
                       (int)o->n_head, (int)o->n_embd);
    if (o->n_head_kv < 1 || o->n_head % o->n_head_kv != 0)
        return vi_fail(err, VI_ERR_INVALID, "gen llama: n_head_kv %d must divide n_head %d",
                       (int)o->n_head_kv, (int)o->n_head);
    if (o->n_ctx < 1 || o->n_merges < 0 || o->n_merges > VI_GEN_LLAMA_MAX_MERGES)
        return vi_fail(err, VI_ERR_INVALID, "gen llama: n_ctx %d < 1 or n_merges %d out of [0, %d]",
                       (int)o->n_ctx, (int)o->n_merges, VI_GEN_LLAMA_MAX_MERGES);
    const int32_t types[4] = {o->wtype, o->alt_type, o->embd_type, o->head_type};
    const char *what[4] = {"wtype", "alt_type", "embd_type", "head_type"};
    for (int i = 0; i < 4; i++) {
        if (i == 3 && types[i] == VI_GEN_LLAMA_TIED)
            continue;
        if (!gen_type_ok(types[i]))
            return vi_fail(err, VI_ERR_INVALID,
                           "gen llama: %s %d is not one of F32, F16, BF16, Q4_0, Q4_1, Q8_0",
                           what[i], (int)types[i]);
        int64_t bs = (int64_t)vi_ggml_type_block_size((vi_ggml_type)types[i]);
        if (o->n_embd % bs != 0 || (i == 0 && o->n_ff % bs != 0))
            return vi_fail(err, VI_ERR_INVALID,
                           "gen llama: %s %s needs n_embd%s to be a multiple of %lld", what[i],
                           vi_ggml_type_name((vi_ggml_type)types[i]), i == 0 ? " and n_ff" : "",
                           (long long)bs);
    }
    if (o->norm_type != VI_GGML_F32 && o->norm_type != VI_GGML_F16 && o->norm_type != VI_GGML_BF16)
        return vi_fail(err, VI_ERR_INVALID, "gen llama: norm_type %d is not F32, F16 or BF16",
                       (int)o->norm_type);
    if (!(o->rope_base > 0.0f) || !(o->rms_eps > 0.0f))
        return vi_fail(err, VI_ERR_INVALID, "gen llama: rope_base and rms_eps must be > 0");
    return VI_OK;
}

/* ==== vocabulary ==== */

/* The GPT-2 byte-level alphabet: bytes that are printable Latin-1 map to
 * themselves, the others to U+0100 + their rank; tok gets the UTF-8 text. */
static void byte_token(int b, char tok[3])
{
    int printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
    int cp = b;
    if (!printable) {
        int rank = 0;
        for (int x = 0; x < b; x++)
            rank += !((x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || (x >= 0xae));
        cp = 256 + rank;
    }
    if (cp < 0x80) {
        tok[0] = (char)cp;
        tok[1] = 0;
    } else {
        tok[0] = (char)(0xc0 | (cp >> 6));
        tok[1] = (char)(0x80 | (cp & 0x3f));
        tok[2] = 0;
    }
}

/* Tokens: the control tokens, the 256 byte tokens (printable ones first, in
 * byte order, as GPT-2 lists them), then each merge's result. */
static vi_status set_vocab(vi_gguf_writer *w, const vi_gen_llama_opts *o, vi_error *err)
{
    int32_t n = vi_gen_llama_n_vocab(o);
    char store[256][3];
    char merged[VI_GEN_LLAMA_MAX_MERGES][16];
    const char *toks[3 + 256 + VI_GEN_LLAMA_MAX_MERGES];
    int32_t types[3 + 256 + VI_GEN_LLAMA_MAX_MERGES];
    int k = 0;
    for (int i = 0; i < 3; i++) {
        types[k] = 3; /* control */
        toks[k++] = SPECIALS[i];
    }
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < 256; b++) {
            int printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
            if (printable != (pass == 0))
                continue;
            byte_token(b, store[b]);
            types[k] = 1; /* normal */
            toks[k++] = store[b];
        }
    for (int i = 0; i < o->n_merges; i++) {
        const char *sp = strchr(MERGES[i], ' ');
        snprintf(merged[i], sizeof merged[i], "%.*s%s", (int)(sp - MERGES[i]), MERGES[i], sp + 1);
        types[k] = 1;
        toks[k++] = merged[i];
    }
    vi_status st;
    if ((st = vi_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err)) ||
        (st = vi_gguf_writer_set_str(w, "tokenizer.ggml.pre", "smollm", err)) ||
        (st = vi_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, (uint64_t)n, err)) ||
        (st = vi_gguf_writer_set_i32_array(w, "tokenizer.ggml.token_type", types, (uint64_t)n,
                                           err)) ||
        (st = vi_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", MERGES,
                                           (uint64_t)o->n_merges, err)) ||
        (st = vi_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err)) ||
        (st = vi_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err)) ||
        (st = vi_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, err)) ||
        (st = vi_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 2, err)) ||
        (st = vi_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 0, err)) ||
        (st = vi_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", 0, err)) ||
        (st = vi_gguf_writer_set_str(w, "tokenizer.chat_template", CHAT_TEMPLATE, err)))
        return st;
    return VI_OK;
}

/* ==== tensors ==== */

typedef struct {
    vi_gguf_writer *w;
    uint64_t seed;
    int index; /* tensor number: seeds its own stream */
} gen_state;

/* Adds tensor name [ne0] or [ne0, ne1] of type t, magnitude amp (around
 * `center` for 1-D norm weights). */
static vi_status add(gen_state *g, const char *name, int32_t t, int n_dims, int64_t ne0,
                     int64_t ne1, float center, float amp, vi_error *err)
{
    int64_t ne[2] = {ne0, ne1};
    uint64_t nbytes;
    vi_status st = vi_gguf_tensor_bytes((uint32_t)t, n_dims, ne, &nbytes, err);
    if (st != VI_OK)
        return st;
    uint8_t *p = malloc(nbytes ? (size_t)nbytes : 1);
    if (!p)
        return vi_fail(err, VI_ERR_NOMEM, "gen llama: out of memory for '%s'", name);
    uint64_t s = g->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(++g->index));
    int64_t n = n_dims == 1 ? ne0 : ne0 * ne1;
    fill((vi_ggml_type)t, p, n, amp, &s);
    if (center != 0.0f) { /* norms: center + amp * u, written as F32/F16/BF16 */
        uint64_t s2 = s;
        for (int64_t i = 0; i < n; i++) {
            float v = center + amp * vi_gen_unit(&s2);
            if (t == VI_GGML_F32)
                memcpy(p + 4 * i, &v, 4);
            else if (t == VI_GGML_F16)
                put16(p + 2 * i, half_trunc(v));
            else
                put16(p + 2 * i, (uint16_t)(vi_f32_bits(v) >> 16));
        }
    }
    st = vi_gguf_writer_add_tensor(g->w, name, (vi_ggml_type)t, n_dims, ne, p, nbytes, err);
    free(p);
    return st;
}

static vi_status add_tensors(vi_gguf_writer *w, const vi_gen_llama_opts *o, vi_error *err)
{
    gen_state g = {w, o->seed, 0};
    int64_t E = o->n_embd, hd = o->n_embd / o->n_head, F = o->n_ff, V = vi_gen_llama_n_vocab(o);
    int64_t nq = o->n_head * hd, nkv = o->n_head_kv * hd;
    float aE = vi_sqrtf(3.0f / (float)E), aF = vi_sqrtf(3.0f / (float)F);
    vi_status st;
    if ((st = add(&g, "token_embd.weight", o->embd_type, 2, E, V, 0.0f, 1.0f, err)))
        return st;
    for (int32_t i = 0; i < o->n_layer; i++) {
        char nm[64];
#define ADD(suffix, t, nd, a, b, c, amp)                                                           \
    do {                                                                                           \
        snprintf(nm, sizeof nm, "blk.%d.%s", (int)i, suffix);                                      \
        if ((st = add(&g, nm, t, nd, a, b, c, amp, err)))                                          \
            return st;                                                                             \
    } while (0)
        ADD("attn_norm.weight", o->norm_type, 1, E, 1, 1.0f, 0.25f);
        ADD("attn_q.weight", o->wtype, 2, E, nq, 0.0f, aE);
        ADD("attn_k.weight", o->wtype, 2, E, nkv, 0.0f, aE);
        ADD("attn_v.weight", o->alt_type, 2, E, nkv, 0.0f, aE);
        ADD("attn_output.weight", o->wtype, 2, nq, E, 0.0f, aE);
        ADD("ffn_norm.weight", o->norm_type, 1, E, 1, 1.0f, 0.25f);
        ADD("ffn_gate.weight", o->wtype, 2, E, F, 0.0f, aE);
        ADD("ffn_up.weight", o->alt_type, 2, E, F, 0.0f, aE);
        ADD("ffn_down.weight", o->wtype, 2, F, E, 0.0f, aF);
#undef ADD
    }
    if ((st = add(&g, "output_norm.weight", o->norm_type, 1, E, 1, 1.0f, 0.25f, err)))
        return st;
    if (o->head_type != VI_GEN_LLAMA_TIED)
        st = add(&g, "output.weight", o->head_type, 2, E, V, 0.0f, aE, err);
    return st;
}

static vi_status build(const vi_gen_llama_opts *o, vi_gguf_writer **out, vi_error *err)
{
    *out = NULL;
    vi_status st = check_opts(o, err);
    if (st != VI_OK)
        return st;
    vi_gguf_writer *w;
    if ((st = vi_gguf_writer_new(&w, err)))
        return st;
    int32_t hd = o->n_embd / o->n_head;
    if ((st = vi_gguf_writer_set_str(w, "general.architecture", "llama", err)) ||
        (st = vi_gguf_writer_set_str(w, "general.name", "verinfer tiny llama", err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)o->n_layer, err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)o->n_ctx, err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)o->n_embd, err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)o->n_ff, err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)o->n_head, err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)o->n_head_kv,
                                     err)) ||
        (st = vi_gguf_writer_set_f32(w, "llama.rope.freq_base", o->rope_base, err)) ||
        (st = vi_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", o->rms_eps,
                                     err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)vi_gen_llama_n_vocab(o),
                                     err)) ||
        (st = vi_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)hd, err)) ||
        (st = set_vocab(w, o, err)) || (st = add_tensors(w, o, err))) {
        vi_gguf_writer_free(w);
        return st;
    }
    *out = w;
    return VI_OK;
}

vi_status vi_gen_llama_to_memory(const vi_gen_llama_opts *o, uint8_t **buf, size_t *size,
                                 vi_error *err)
{
    vi_gguf_writer *w;
    vi_status st = build(o, &w, err);
    if (st != VI_OK)
        return st;
    st = vi_gguf_writer_to_memory(w, buf, size, err);
    vi_gguf_writer_free(w);
    return st;
}

vi_status vi_gen_llama_write(const vi_gen_llama_opts *o, const char *path, vi_error *err)
{
    vi_gguf_writer *w;
    vi_status st = build(o, &w, err);
    if (st != VI_OK)
        return st;
    st = vi_gguf_writer_write_file(w, path, err);
    vi_gguf_writer_free(w);
    return st;
}
