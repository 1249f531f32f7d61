/* server/openai.h — the OpenAI-compatible wire format of verinfer's language
 * models: parsing and validating /v1/completions and /v1/chat/completions
 * request bodies, turning them into a vi_llm_params, the receipt of a
 * completion (input/output digests, parameters, signature), the response
 * and stream-chunk JSON, OpenAI-style error bodies, and verification of a
 * response by re-execution. docs/llm.md ("Receipts for completions")
 * specifies the digests byte for byte. */
#ifndef VI_OPENAI_H
#define VI_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/types.h>

#include "core/receipt.h"
#include "core/status.h"
#include "server/llm_sched.h"

#define VI_TAG_LLM_INPUT "verinfer.llm.input.v1"
#define VI_TAG_LLM_OUTPUT "verinfer.llm.output.v1"
#define VI_OAI_DEFAULT_MAX_TOKENS 16 /* /v1/completions */
#define VI_OAI_PARAM_MAX 64

/* A parsed request. */
typedef struct vi_oai_req {
    int chat; /* /v1/chat/completions */
    char model[VI_NAME_MAX];
    json_t *body;    /* a reference to the parsed body */
    vi_llm_params p; /* prompt ids set by vi_oai_prepare */
    int seed_given, max_given;
    int stream, include_usage;
} vi_oai_req;

/* Parses and validates a request object (chat: a chat completion). On
 * failure VI_ERR_INVALID / VI_ERR_UNSUPPORTED with a message, and param
 * (VI_OAI_PARAM_MAX bytes) names the offending field ("" if none). An absent
 * seed is left 0 with seed_given 0 (the caller picks one). */
vi_status vi_oai_parse(json_t *body, int chat, vi_oai_req *q, char *param, vi_error *err);

/* Tokenises the prompt (chat: through the model's chat template), sets the
 * default max_tokens (completions 16; chat: until the context ends) and caps
 * it by the context, then checks the params (vi_llm_params_check). */
vi_status vi_oai_prepare(const vi_llm *l, vi_oai_req *q, vi_error *err);

/* Frees what q holds; accepts NULL. */
void vi_oai_req_free(vi_oai_req *q);

/* SHA-256 of the canonical input encoding of p (docs/llm.md). */
vi_status vi_oai_input_digest(const vi_llm_params *p, uint8_t out[VI_SHA256_LEN], vi_error *err);
/* SHA-256 of the canonical output encoding of ids[0..n). */
vi_status vi_oai_output_digest(const int32_t *ids, size_t n, uint8_t out[VI_SHA256_LEN],
                               vi_error *err);

/* Builds and seals (signs when key is not NULL) the receipt of a completion
 * of p by model l that generated ids[0..n); request_id is the response id. */
vi_status vi_oai_receipt(const vi_llm *l, const vi_llm_params *p, const int32_t *ids, size_t n,
                         const char *engine_id, const char *request_id, EVP_PKEY *key,
                         vi_receipt *r, vi_error *err);

/* The "verinfer" object: {"receipt", "prompt_token_ids", "completion_token_ids"};
 * NULL when memory runs out. */
json_t *vi_oai_verinfer_json(const vi_receipt *r, const vi_llm_params *p, const int32_t *ids,
                             size_t n);

/* A JSON string of the bytes s[0..n), each invalid UTF-8 byte replaced by
 * U+FFFD; NULL when memory runs out. */
json_t *vi_oai_text(const char *s, size_t n);

/* {"error": {"message", "type": "invalid_request_error" (or "server_error"
 * for status >= 500), "param" (null when empty), "code": null}}. A message
 * that is not valid UTF-8 becomes "(the error message is not valid UTF-8)",
 * a param that is not, null. NULL only when out of memory. */
json_t *vi_oai_error(unsigned status, const char *message, const char *param);

/* The non-streaming response body (completion or chat completion). */
json_t *vi_oai_response(const vi_oai_req *q, const char *id, int64_t created,
                        const char *fingerprint, const char *text, size_t len, const char *finish,
                        size_t n_prompt, size_t n_gen, json_t *verinfer);

/* One stream chunk: content (may be NULL: no content field; role adds the
 * chat role), finish (NULL: null), usage (n_prompt, n_gen) when with_usage
 * (then choices is empty), verinfer added when not NULL (taken over). */
json_t *vi_oai_chunk(const vi_oai_req *q, const char *id, int64_t created, const char *fingerprint,
                     int role, const char *content, size_t len, const char *finish, int with_usage,
                     size_t n_prompt, size_t n_gen, json_t *verinfer);

/* Re-executes `request` alone on l and checks `response` (a response body
 * with a "verinfer" object, or that object itself). *result gets
 * {"verified", "reason", "model_digest", "input_digest", "output_digest",
 * "completion_tokens"}; returns VI_OK (verified or refuted: see
 * *verified), or VI_ERR_INVALID / VI_ERR_UNSUPPORTED (param named) when
 * request or response is malformed. trusted_key: NULL or the public key the
 * receipt must carry. */
vi_status vi_oai_verify(const vi_llm *l, json_t *request, const json_t *response, int threads,
                        vi_isa isa, const uint8_t *trusted_key, int *verified, json_t **result,
                        char *param, vi_error *err);

#endif
