/* core/receipt.h — the receipt that accompanies every answer: what model
 * (by digest), which inputs and outputs (by digest), which engine and order,
 * when; sealed by receipt_digest (SHA-256 of the canonical encoding of those
 * fields) and, when a key is configured, an Ed25519 signature over it
 * ("ed25519") or over the Merkle root of the receipt_digests of the batch it
 * was executed in, with this receipt's inclusion proof ("ed25519-merkle").
 * The CLI and the server produce and check receipts only through this module;
 * docs/receipts.md specifies every byte. */
#ifndef VI_RECEIPT_H
#define VI_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sha256.h"
#include "status.h"

#define VI_RECEIPT_FORMAT_VERSION 1
#define VI_TAG_RECEIPT "verinfer.receipt.v1"
#define VI_TAG_RECEIPT_SIG "verinfer.receipt.sig.v1"
#define VI_TAG_RECEIPT_BATCH_SIG "verinfer.receipt.batch.sig.v1"

#define VI_RECEIPT_MAX_PARAMS 16
#define VI_ED25519_SIG_LEN 64
#define VI_ED25519_KEY_LEN 32

/* Capacities of the string fields, including the NUL. */
#define VI_RECEIPT_NAME_MAX 128
#define VI_RECEIPT_VERSION_MAX 64
#define VI_RECEIPT_ENGINE_MAX 256
#define VI_RECEIPT_MODE_MAX 32
#define VI_RECEIPT_REQUEST_ID_MAX 256
#define VI_RECEIPT_KEY_MAX 64
#define VI_RECEIPT_VALUE_MAX 256
#define VI_RECEIPT_CREATED_MAX 32

/* A batch holds at most 2^32 - 1 receipts, so an audit path has at most 32
 * hashes. */
#define VI_RECEIPT_BATCH_MAX_PROOF 32

typedef enum {
    VI_SIG_NONE = 0,          /* unsigned: signature, public_key and batch fields all zero */
    VI_SIG_ED25519 = 1,       /* "ed25519": signature over receipt_digest; batch fields zero */
    VI_SIG_ED25519_MERKLE = 2 /* "ed25519-merkle": signature over the batch root */
} vi_sig_alg;

typedef struct vi_receipt_param {
    char key[VI_RECEIPT_KEY_MAX];     /* non-empty */
    char value[VI_RECEIPT_VALUE_MAX]; /* may be empty */
} vi_receipt_param;

/* A plain value: no pointers, nothing to free; copy it freely. String fields
 * are NUL-terminated UTF-8 (the bytes after the NUL are zero). */
typedef struct vi_receipt {
    uint32_t format_version; /* VI_RECEIPT_FORMAT_VERSION */
    uint32_t order_version;  /* VI_ORDER_VERSION of the engine that ran */
    char model_name[VI_RECEIPT_NAME_MAX];
    char model_version[VI_RECEIPT_VERSION_MAX]; /* may be empty */
    uint8_t model_digest[VI_SHA256_LEN];
    uint8_t input_digest[VI_SHA256_LEN];
    uint8_t output_digest[VI_SHA256_LEN];
    char engine_id[VI_RECEIPT_ENGINE_MAX]; /* "verinfer/0.1.0 order/1 backend/cpu isa/avx512" */
    char mode[VI_RECEIPT_MODE_MAX];        /* "exact" */
    char request_id[VI_RECEIPT_REQUEST_ID_MAX]; /* may be empty */
    int32_t n_params;
    vi_receipt_param params[VI_RECEIPT_MAX_PARAMS]; /* sorted by key, bytewise, unique */
    char created[VI_RECEIPT_CREATED_MAX];           /* "2026-11-25T10:00:00Z" */
    uint8_t receipt_digest[VI_SHA256_LEN];
    int32_t signature_algorithm; /* a vi_sig_alg */
    uint8_t signature[VI_ED25519_SIG_LEN];
    uint8_t public_key[VI_ED25519_KEY_LEN];
    /* "ed25519-merkle" only, all zero otherwise; not part of receipt_digest
     * (the signature over batch_size and batch_root binds them): this receipt
     * is leaf batch_index of the RFC 6962 tree whose leaves are
     * SHA256(0x00 || receipt_digest) of the batch_size receipts of one
     * execution, and batch_proof[0..batch_proof_len) is its audit path,
     * bottom first (the slots after it are zero). */
    uint32_t batch_index;
    uint32_t batch_size;
    int32_t batch_proof_len;
    uint8_t batch_root[VI_SHA256_LEN];
    uint8_t batch_proof[VI_RECEIPT_BATCH_MAX_PROOF][VI_SHA256_LEN];
} vi_receipt;

/* What a successful vi_receipt_check found. */
typedef enum {
    VI_RECEIPT_SIGNED = 0,  /* digest matches and the signature verifies (either form) */
    VI_RECEIPT_UNSIGNED = 1 /* digest matches; there is no signature */
} vi_receipt_verdict;

/* Zeroes r and sets format_version 1, order_version VI_ORDER_VERSION, mode
 * "exact", no signature. */
void vi_receipt_init(vi_receipt *r);

/* Sets a string field by its name: "model_name", "model_version",
 * "engine_id", "mode", "request_id" or "created". Fails with VI_ERR_INVALID
 * on an unknown field and VI_ERR_LIMIT if the value does not fit. */
vi_status vi_receipt_set_string(vi_receipt *r, const char *field, const char *value, vi_error *err);

/* Adds a parameter, or replaces the value of an existing key, keeping the
 * list sorted. VI_ERR_INVALID on an empty key, VI_ERR_LIMIT on a 17th key or
 * a key/value that does not fit. */
vi_status vi_receipt_set_param(vi_receipt *r, const char *key, const char *value, vi_error *err);

/* Sets created from seconds since the Unix epoch, as "YYYY-MM-DDTHH:MM:SSZ";
 * VI_ERR_INVALID for a time outside years 0000..9999. */
vi_status vi_receipt_set_created(vi_receipt *r, int64_t unix_seconds, vi_error *err);

/* Writes "verinfer/<version> order/<n> backend/<backend>[ isa/<isa>]" into
 * out; VI_ERR_LIMIT if it does not fit, VI_ERR_INVALID if backend is empty. */
vi_status vi_engine_id(char *out, size_t size, const char *backend, const char *isa, vi_error *err);

/* Checks the fields a sealed receipt must have: version 1, non-empty
 * model_name/engine_id/mode, valid UTF-8, parameters sorted and unique,
 * created in the canonical RFC 3339 form. VI_ERR_INVALID naming the field. */
vi_status vi_receipt_validate(const vi_receipt *r, vi_error *err);

/* SHA-256 of the canonical encoding of the fields from format_version to
 * created (no semantic checks; VI_ERR_INVALID only if a string is not
 * NUL-terminated or n_params is out of range). */
vi_status vi_receipt_compute_digest(const vi_receipt *r, uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Validates r, sets receipt_digest and, if key is not NULL, signs it with
 * that Ed25519 key (signature, public_key, signature_algorithm); with a NULL
 * key the receipt is left unsigned. VI_ERR_INVALID for bad fields or a key
 * that is not Ed25519, VI_ERR_INTERNAL if OpenSSL fails. */
vi_status vi_receipt_seal(vi_receipt *r, EVP_PKEY *key, vi_error *err);

/* Signs n receipts executed together with ONE Ed25519 signature. Each must
 * have been sealed unsigned (vi_receipt_seal with a NULL key): its
 * receipt_digest is used as it is. n == 1 gives the plain "ed25519" form;
 * n > 1 the "ed25519-merkle" form: the Merkle root over the receipts in the
 * given order is signed and every receipt gets the root, its index, n and its
 * audit path. VI_ERR_INVALID for n < 1, a receipt that is not sealed unsigned
 * or a key that is not Ed25519, VI_ERR_NOMEM, VI_ERR_INTERNAL if OpenSSL
 * fails; on failure every receipt is left as it was. */
vi_status vi_receipt_seal_batch(vi_receipt *const *receipts, int n, EVP_PKEY *key, vi_error *err);

/* Checks a receipt: recomputes receipt_digest and compares ("receipt_digest
 * does not match its fields"); for "ed25519" verifies the signature against
 * the embedded public key ("signature does not verify"); for
 * "ed25519-merkle" checks the inclusion proof of the receipt in the batch
 * root (core/merkle.h's messages, e.g. "inclusion proof of leaf 4 of 13 does
 * not lead to the root") and then the signature over the root ("batch
 * signature does not verify"); and, when trusted_public_key is not NULL, that
 * the embedded key is that key. Returns VI_OK with *verdict SIGNED or
 * UNSIGNED (err then says "signed", "signed (batch of 13, leaf 4)" or
 * "unsigned"); VI_ERR_VERIFY on a mismatch, VI_ERR_UNSUPPORTED for another
 * format_version, VI_ERR_INVALID for a malformed receipt. */
vi_status vi_receipt_check(const vi_receipt *r, const uint8_t *trusted_public_key,
                           vi_receipt_verdict *verdict, vi_error *err);

/* "ed25519" / "ed25519-merkle" / "none", or NULL for an unknown value. */
const char *vi_sig_alg_name(int alg);
/* Parses "ed25519" / "ed25519-merkle" / "none"; returns -1 for anything else. */
int vi_sig_alg_from_name(const char *name);

#endif
