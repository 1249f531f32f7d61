/* core/sha256.h — SHA-256 (OpenSSL EVP) fed with verinfer's canonical
 * encoding: integers little-endian fixed width, strings as a u32 byte length
 * followed by the bytes (no NUL), domain tags encoded as strings.
 * docs/receipts.md describes the encoding byte for byte. */
#ifndef VI_SHA256_H
#define VI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "status.h"

#define VI_SHA256_LEN 32

/* A running SHA-256. Update calls cannot fail individually: a failure is
 * remembered and reported by vi_sha256_final. */
typedef struct vi_sha256 {
    void *ctx;  /* EVP_MD_CTX */
    int failed; /* an update failed or a string was longer than 2^32-1 bytes */
} vi_sha256;

/* OpenSSL's SHA-256, fetched once per process (faster than EVP_sha256()). */
const EVP_MD *vi_sha256_md(void);

/* Starts a hash; returns VI_ERR_NOMEM / VI_ERR_INTERNAL if OpenSSL cannot. */
vi_status vi_sha256_begin(vi_sha256 *h, vi_error *err);

/* Appends raw bytes. */
void vi_sha256_bytes(vi_sha256 *h, const void *p, size_t n);
/* Appends one byte. */
void vi_sha256_u8(vi_sha256 *h, uint8_t v);
/* Appends a little-endian u32. */
void vi_sha256_u32(vi_sha256 *h, uint32_t v);
/* Appends a little-endian u64. */
void vi_sha256_u64(vi_sha256 *h, uint64_t v);
/* Appends a string: u32 length, then the n bytes (n must fit in u32). */
void vi_sha256_str(vi_sha256 *h, const char *s, size_t n);
/* Same for a NUL-terminated string. */
void vi_sha256_cstr(vi_sha256 *h, const char *s);

/* Finishes into out and releases the context; on failure out is zeroed and
 * VI_ERR_INTERNAL returned. The hash is released either way. */
vi_status vi_sha256_final(vi_sha256 *h, uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Releases an unfinished hash (after an error); accepts a zeroed struct. */
void vi_sha256_abort(vi_sha256 *h);

/* One-shot SHA-256 of a byte string; VI_ERR_INTERNAL if OpenSSL fails. */
vi_status vi_sha256_once(const void *p, size_t n, uint8_t out[VI_SHA256_LEN], vi_error *err);

#endif
