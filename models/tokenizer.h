/* models/tokenizer.h — the text <-> token-id conversion of a GGUF language
 * model, matching llama.cpp token for token: byte-level BPE ("gpt2" model;
 * pre-tokenizers default, gpt-2, smollm/starcoder, llama3 families) and
 * SentencePiece BPE ("llama" model, score-ordered merges, <0xXX> byte
 * fallback, add_space_prefix), special-token splitting, token pieces,
 * detokenisation, end-of-generation tokens and the ChatML chat template.
 * docs/tokenizer.md describes every rule and where it comes from.
 *
 * A vi_tokenizer is immutable after vi_tokenizer_from_gguf: any number of
 * threads may use one at the same time. */
#ifndef VI_TOKENIZER_H
#define VI_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "core/gguf.h"
#include "core/status.h"

typedef struct vi_tokenizer vi_tokenizer;

/* Builds the tokenizer described by g's tokenizer.* metadata, copying what
 * it needs (g may be closed afterwards). VI_ERR_UNSUPPORTED names an unknown
 * tokenizer.ggml.model or tokenizer.ggml.pre; VI_ERR_INVALID names a missing
 * or mistyped key, a duplicate token or a bad special-token setting. */
vi_status vi_tokenizer_from_gguf(vi_tokenizer **out, const vi_gguf *g, vi_error *err);

/* Releases t; accepts NULL. */
void vi_tokenizer_free(vi_tokenizer *t);

/* Vocabulary size. */
int32_t vi_tokenizer_n_vocab(const vi_tokenizer *t);
/* Begin-of-sequence token id, or -1 if the model has none. */
int32_t vi_tokenizer_bos(const vi_tokenizer *t);
/* End-of-sequence token id, or -1 if the model has none. */
int32_t vi_tokenizer_eos(const vi_tokenizer *t);
/* 1 if generating id ends the generation (EOS, EOT and llama.cpp's other
 * end-of-generation tokens), else 0 (also for ids out of range). */
int vi_tokenizer_is_eog(const vi_tokenizer *t, int32_t id);
/* 1 if vi_tokenize with add_special prepends BOS, else 0. */
int vi_tokenizer_add_bos(const vi_tokenizer *t);

/* Tokenises text (UTF-8, len bytes; invalid UTF-8 is never rejected: it is
 * handled as llama.cpp does, see docs/tokenizer.md) into *ids (malloc'ed,
 * never NULL on success; the caller frees it) and *n_ids. add_special:
 * prepend BOS / append EOS where the model asks for them. parse_special:
 * text equal to a control token's content becomes that token. Fails only
 * with VI_ERR_NOMEM, VI_ERR_LIMIT (more than INT32_MAX tokens) or
 * VI_ERR_INVALID (NULL arguments, or an SPM vocabulary without a byte
 * token for a byte it must spell). */
vi_status vi_tokenize(const vi_tokenizer *t, const char *text, size_t len, int add_special,
                      int parse_special, int32_t **ids, size_t *n_ids, vi_error *err);

/* The bytes of token id (*bytes owned by t, not NUL-terminated); control and
 * unknown tokens give their text only when render_special, else 0 bytes.
 * VI_ERR_INVALID if id is out of range. */
vi_status vi_token_to_piece(const vi_tokenizer *t, int32_t id, int render_special,
                            const char **bytes, size_t *len, vi_error *err);

/* Concatenates the pieces of ids[0..n) as llama_detokenize does (with
 * remove_special off, unparse_special = render_special), including the
 * model's leading-space removal and clean-up of spaces before punctuation.
 * *text is malloc'ed and NUL-terminated, *len excludes the NUL.
 * VI_ERR_INVALID names the first id out of range. */
vi_status vi_detokenize(const vi_tokenizer *t, const int32_t *ids, size_t n, int render_special,
                        char **text, size_t *len, vi_error *err);

/* One chat message; role and content are NUL-terminated UTF-8. */
typedef struct vi_chat_msg {
    const char *role;
    const char *content;
} vi_chat_msg;

/* Renders msgs[0..n) with the model's chat template (tokenizer.chat_template)
 * exactly as its Jinja source does; ChatML templates are recognised,
 * including a default system message inserted when the first message is not
 * a system message. add_generation_prompt appends the assistant header.
 * *out is malloc'ed and NUL-terminated. VI_ERR_UNSUPPORTED names a template
 * that is not ChatML (or a model without one); VI_ERR_INVALID names a message
 * with a NULL role or content. */
vi_status vi_chat_apply(const vi_tokenizer *t, const vi_chat_msg *msgs, size_t n,
                        int add_generation_prompt, char **out, vi_error *err);

#endif
