/* core/gguf_digest.h — the model digest of a GGUF file: an RFC 6962 Merkle
 * root (core/merkle.h) over one leaf for the file's head (every byte before
 * the data section: header, metadata, tensor infos, padding) and one leaf
 * per tensor (name, type, dims, data) in file order. docs/llm.md ("Receipts
 * for completions") specifies the leaf encodings byte for byte. */
#ifndef VI_GGUF_DIGEST_H
#define VI_GGUF_DIGEST_H

#include <stdint.h>

#include "gguf.h"
#include "sha256.h"
#include "status.h"

#define VI_TAG_GGUF_HEAD "verinfer.gguf.head.v1"
#define VI_TAG_GGUF_TENSOR "verinfer.gguf.tensor.v1"

/* Digest of the open GGUF g whose first vi_gguf_data_offset(g) bytes are
 * head[0..head_len); VI_ERR_INVALID if head_len differs from that offset,
 * VI_ERR_NOMEM / VI_ERR_INTERNAL if hashing fails. */
vi_status vi_gguf_digest(const vi_gguf *g, const uint8_t *head, uint64_t head_len,
                         uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Same, with the head taken from g's own image of the file at path (path
 * only names it in messages, so the head and the tensors are one file even
 * if path has been replaced since); VI_ERR_IO naming the path if the image
 * ends inside the head. */
vi_status vi_gguf_digest_file(const vi_gguf *g, const char *path, uint8_t out[VI_SHA256_LEN],
                              vi_error *err);

#endif
