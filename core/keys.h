/* core/keys.h — the Ed25519 signing key of a server: generating it into a
 * PKCS#8 PEM file readable only by its owner, loading it (refusing files
 * others can read), and its raw 32-byte public key. */
#ifndef VI_KEYS_H
#define VI_KEYS_H

#include <stdint.h>

#include <openssl/types.h>

#include "status.h"

#define VI_KEY_PUBLIC_LEN 32

/* Generates an Ed25519 key and writes it as an unencrypted PKCS#8 PEM file
 * created with mode 0600. Never overwrites: VI_ERR_IO "already exists" if
 * path exists, VI_ERR_IO for other file errors (a partial file is removed). */
vi_status vi_key_generate(const char *path, vi_error *err);

/* Loads an Ed25519 private key from a PEM file into *out (free with
 * vi_key_free). Refuses (VI_ERR_INVALID) a file that grants any access to
 * group or others, that is not a regular file, that holds no PEM private key
 * (encrypted keys included), or whose key is not Ed25519; VI_ERR_IO if it
 * cannot be opened. */
vi_status vi_key_load(const char *path, EVP_PKEY **out, vi_error *err);

/* Builds an Ed25519 key from a 32-byte private seed (RFC 8032); for tests and
 * reproducible examples. VI_ERR_INTERNAL if OpenSSL refuses. */
vi_status vi_key_from_seed(const uint8_t seed[32], EVP_PKEY **out, vi_error *err);

/* The raw 32-byte public key; VI_ERR_INVALID if key is not Ed25519. */
vi_status vi_key_public_raw(const EVP_PKEY *key, uint8_t out[VI_KEY_PUBLIC_LEN], vi_error *err);

/* The public key as 64 lowercase hex digits and a NUL; failures as above. */
vi_status vi_key_public_hex(const EVP_PKEY *key, char out[2 * VI_KEY_PUBLIC_LEN + 1],
                            vi_error *err);

/* Releases a key; accepts NULL. */
void vi_key_free(EVP_PKEY *key);

#endif
