/* core/receipt_sign.c — sealing a receipt (digest + Ed25519 signature),
 * signing the receipts of one batch with one signature over their Merkle
 * root, and checking either form. The signed messages (docs/receipts.md):
 *   ed25519:        str("verinfer.receipt.sig.v1") || receipt_digest
 *   ed25519-merkle: str("verinfer.receipt.batch.sig.v1") || u64(batch_size) || batch_root
 * where str() is a u32 little-endian length followed by the bytes. */
#include "receipt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "hex.h"
#include "merkle.h"

/* message = u32 len(tag) || tag || receipt_digest */
#define SIG_MSG_LEN (4 + sizeof VI_TAG_RECEIPT_SIG - 1 + VI_SHA256_LEN)
/* message = u32 len(tag) || tag || u64 batch_size || batch_root */
#define BATCH_MSG_LEN (4 + sizeof VI_TAG_RECEIPT_BATCH_SIG - 1 + 8 + VI_SHA256_LEN)

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void signed_message(const uint8_t digest[VI_SHA256_LEN], uint8_t msg[SIG_MSG_LEN])
{
    const uint32_t tag_len = (uint32_t)(sizeof VI_TAG_RECEIPT_SIG - 1);
    put_le(msg, tag_len, 4);
    memcpy(msg + 4, VI_TAG_RECEIPT_SIG, tag_len);
    memcpy(msg + 4 + tag_len, digest, VI_SHA256_LEN);
}

static void batch_message(uint64_t size, const uint8_t root[VI_SHA256_LEN],
                          uint8_t msg[BATCH_MSG_LEN])
{
    const uint32_t tag_len = (uint32_t)(sizeof VI_TAG_RECEIPT_BATCH_SIG - 1);
    put_le(msg, tag_len, 4);
    memcpy(msg + 4, VI_TAG_RECEIPT_BATCH_SIG, tag_len);
    put_le(msg + 4 + tag_len, size, 8);
    memcpy(msg + 4 + tag_len + 8, root, VI_SHA256_LEN);
}

/* Each thread keeps a signing context initialised for the last key it used
 * (holding a reference to that key, so the pointer cannot be reused by
 * another key while cached) and the key's public half; a signature is made on
 * a copy of it, which skips the algorithm fetch and key setup of a fresh
 * EVP_DigestSignInit. Contexts are never shared between threads. */
typedef struct sign_cache {
    EVP_PKEY *key;
    EVP_MD_CTX *tmpl;
    uint8_t pub[VI_ED25519_KEY_LEN];
} sign_cache;

static pthread_key_t g_cache_key;
static pthread_once_t g_cache_once = PTHREAD_ONCE_INIT;
static int g_cache_ok;

static void cache_free(void *p)
{
    sign_cache *c = p;
    if (!c)
        return;
    EVP_MD_CTX_free(c->tmpl);
    free(c);
}

static void cache_init(void)
{
    g_cache_ok = pthread_key_create(&g_cache_key, cache_free) == 0;
}

/* The calling thread's context for key, or NULL (the caller then signs the
 * plain way). */
static sign_cache *thread_cache(EVP_PKEY *key)
{
    pthread_once(&g_cache_once, cache_init);
    if (!g_cache_ok)
        return NULL;
    sign_cache *c = pthread_getspecific(g_cache_key);
    if (c && c->key == key)
        return c;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        if (pthread_setspecific(g_cache_key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    EVP_MD_CTX_free(c->tmpl);
    c->tmpl = NULL;
    c->key = NULL;
    size_t pub_len = sizeof c->pub;
    EVP_MD_CTX *t = EVP_MD_CTX_new();
    if (!t || EVP_DigestSignInit(t, NULL, NULL, NULL, key) != 1 ||
        EVP_PKEY_get_raw_public_key(key, c->pub, &pub_len) != 1 || pub_len != sizeof c->pub) {
        EVP_MD_CTX_free(t);
        ERR_clear_error();
        return NULL;
    }
    c->tmpl = t;
    c->key = key;
    return c;
}

/* Signs msg with key on a copy of the thread's cached context; 1 on success. */
static int sign_cached(EVP_PKEY *key, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                       size_t *sig_len, uint8_t *pub, size_t *pub_len)
{
    sign_cache *c = thread_cache(key);
    if (!c)
        return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_MD_CTX_copy_ex(ctx, c->tmpl) == 1 &&
             EVP_DigestSign(ctx, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return 0;
    }
    memcpy(pub, c->pub, sizeof c->pub);
    *pub_len = sizeof c->pub;
    return 1;
}

/* Signs msg with key into sig and the key's raw public half into pub:
 * through the thread's cached context, else the plain way, which also says
 * why signing fails (VI_ERR_INTERNAL). */
static vi_status sign_message(EVP_PKEY *key, const uint8_t *msg, size_t msg_len,
                              uint8_t sig[VI_ED25519_SIG_LEN], uint8_t pub[VI_ED25519_KEY_LEN],
                              vi_error *err)
{
    size_t sig_len = VI_ED25519_SIG_LEN, pub_len = VI_ED25519_KEY_LEN;
    int ok = sign_cached(key, msg, msg_len, sig, &sig_len, pub, &pub_len) &&
             sig_len == VI_ED25519_SIG_LEN;
    if (!ok) {
        sig_len = VI_ED25519_SIG_LEN;
        pub_len = VI_ED25519_KEY_LEN;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, msg, msg_len) == 1 &&
             sig_len == VI_ED25519_SIG_LEN &&
             EVP_PKEY_get_raw_public_key(key, pub, &pub_len) == 1 && pub_len == VI_ED25519_KEY_LEN;
        EVP_MD_CTX_free(ctx);
    }
    if (!ok) {
        unsigned long e = ERR_get_error();
        char why[256];
        ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        return vi_fail(err, VI_ERR_INTERNAL, "Ed25519 signing failed: %s", e ? why : "unknown");
    }
    return VI_OK;
}

static vi_status check_key_type(EVP_PKEY *key, vi_error *err)
{
    if (key && !EVP_PKEY_is_a(key, "ED25519"))
        return vi_fail(err, VI_ERR_INVALID, "receipts are signed with Ed25519 keys only (got %s)",
                       EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
    return VI_OK;
}

/* Zeroes everything that is not covered by receipt_digest. */
static void clear_signature(vi_receipt *r)
{
    r->signature_algorithm = VI_SIG_NONE;
    memset(r->signature, 0, sizeof r->signature);
    memset(r->public_key, 0, sizeof r->public_key);
    r->batch_index = 0;
    r->batch_size = 0;
    r->batch_proof_len = 0;
    memset(r->batch_root, 0, sizeof r->batch_root);
    memset(r->batch_proof, 0, sizeof r->batch_proof);
}

vi_status vi_receipt_seal(vi_receipt *r, EVP_PKEY *key, vi_error *err)
{
    vi_status st = vi_receipt_validate(r, err);
    if (st == VI_OK)
        st = check_key_type(key, err);
    if (st == VI_OK)
        st = vi_receipt_compute_digest(r, r->receipt_digest, err);
    if (st != VI_OK)
        return st;
    clear_signature(r);
    if (!key)
        return VI_OK;

    uint8_t msg[SIG_MSG_LEN], sig[VI_ED25519_SIG_LEN], pub[VI_ED25519_KEY_LEN];
    signed_message(r->receipt_digest, msg);
    st = sign_message(key, msg, sizeof msg, sig, pub, err);
    if (st != VI_OK)
        return st;
    memcpy(r->signature, sig, sizeof sig);
    memcpy(r->public_key, pub, sizeof pub);
    r->signature_algorithm = VI_SIG_ED25519;
    return VI_OK;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

/* 1 if every batch field is zero (as in a receipt that is not ed25519-merkle). */
static int batch_fields_zero(const vi_receipt *r)
{
    return r->batch_index == 0 && r->batch_size == 0 && r->batch_proof_len == 0 &&
           all_zero(r->batch_root, sizeof r->batch_root) &&
           all_zero(r->batch_proof, sizeof r->batch_proof);
}

/* ==== One signature for a batch ==== */

vi_status vi_receipt_seal_batch(vi_receipt *const *receipts, int n, EVP_PKEY *key, vi_error *err)
{
    if (n < 1)
        return vi_fail(err, VI_ERR_INVALID, "a batch to sign needs at least one receipt (got %d)",
                       n);
    if (!key)
        return vi_fail(err, VI_ERR_INVALID, "signing a batch of receipts needs a key");
    vi_status st = check_key_type(key, err);
    if (st != VI_OK)
        return st;
    for (int i = 0; i < n; i++) {
        const vi_receipt *r = receipts[i];
        if (r->signature_algorithm != VI_SIG_NONE || !all_zero(r->signature, sizeof r->signature) ||
            !all_zero(r->public_key, sizeof r->public_key) || !batch_fields_zero(r))
            return vi_fail(err, VI_ERR_INVALID,
                           "receipt %d of the batch is not sealed unsigned; seal it with no key "
                           "before signing the batch",
                           i);
    }
    uint8_t sig[VI_ED25519_SIG_LEN], pub[VI_ED25519_KEY_LEN];
    if (n == 1) { /* a batch of one: the plain form, one signature all the same */
        uint8_t msg[SIG_MSG_LEN];
        signed_message(receipts[0]->receipt_digest, msg);
        st = sign_message(key, msg, sizeof msg, sig, pub, err);
        if (st != VI_OK)
            return st;
        memcpy(receipts[0]->signature, sig, sizeof sig);
        memcpy(receipts[0]->public_key, pub, sizeof pub);
        receipts[0]->signature_algorithm = VI_SIG_ED25519;
        return VI_OK;
    }

    vi_merkle_tree tree;
    memset(&tree, 0, sizeof tree);
    uint8_t(*leaves)[VI_SHA256_LEN] = malloc((size_t)n * VI_SHA256_LEN);
    if (!leaves)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory signing a batch of %d receipts", n);
    for (int i = 0; i < n && st == VI_OK; i++)
        st = vi_merkle_leaf_hash(receipts[i]->receipt_digest, VI_SHA256_LEN, leaves[i], err);
    if (st == VI_OK)
        st = vi_merkle_tree_build(&tree, (const uint8_t(*)[VI_SHA256_LEN])leaves, (uint64_t)n, err);
    free(leaves);
    uint8_t root[VI_SHA256_LEN], msg[BATCH_MSG_LEN];
    if (st == VI_OK) {
        memcpy(root, vi_merkle_tree_root(&tree), VI_SHA256_LEN);
        batch_message((uint64_t)n, root, msg);
        st = sign_message(key, msg, sizeof msg, sig, pub, err);
    }
    for (int i = 0; i < n && st == VI_OK; i++) { /* cannot fail: n - 1 < 2^31 needs 31 hashes */
        int len = 0;
        st = vi_merkle_tree_path(&tree, (uint64_t)i, receipts[i]->batch_proof,
                                 VI_RECEIPT_BATCH_MAX_PROOF, &len, err);
        receipts[i]->batch_proof_len = len;
    }
    vi_merkle_tree_free(&tree);
    if (st != VI_OK) {
        for (int i = 0; i < n; i++)
            clear_signature(receipts[i]);
        return st;
    }
    for (int i = 0; i < n; i++) {
        vi_receipt *r = receipts[i];
        memcpy(r->signature, sig, sizeof sig);
        memcpy(r->public_key, pub, sizeof pub);
        memcpy(r->batch_root, root, sizeof root);
        r->batch_index = (uint32_t)i;
        r->batch_size = (uint32_t)n;
        r->signature_algorithm = VI_SIG_ED25519_MERKLE;
    }
    return VI_OK;
}

/* ==== Checking ==== */

/* 1 if sig is a valid Ed25519 signature of msg under the raw public key pub. */
static int ed25519_verifies(const uint8_t pub_raw[VI_ED25519_KEY_LEN],
                            const uint8_t sig[VI_ED25519_SIG_LEN], const uint8_t *msg,
                            size_t msg_len)
{
    EVP_PKEY *pub =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub_raw, VI_ED25519_KEY_LEN);
    EVP_MD_CTX *ctx = pub ? EVP_MD_CTX_new() : NULL;
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, sig, VI_ED25519_SIG_LEN, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    ERR_clear_error();
    return ok;
}

/* The "ed25519-merkle" part of a check: the batch fields are well formed,
 * the receipt's leaf hash with its proof leads to batch_root, and the
 * signature over (batch_size, batch_root) verifies. */
static vi_status check_batch(const vi_receipt *r, vi_error *err)
{
    if (r->batch_size == 0)
        return vi_fail(err, VI_ERR_INVALID, "receipt batch_size is 0");
    if (r->batch_index >= r->batch_size)
        return vi_fail(err, VI_ERR_INVALID, "receipt batch_index %u is not below batch_size %u",
                       (unsigned)r->batch_index, (unsigned)r->batch_size);
    if (r->batch_proof_len < 0 || r->batch_proof_len > VI_RECEIPT_BATCH_MAX_PROOF)
        return vi_fail(err, VI_ERR_INVALID, "receipt batch proof has %d hashes (0 to %d allowed)",
                       (int)r->batch_proof_len, VI_RECEIPT_BATCH_MAX_PROOF);
    size_t used = (size_t)r->batch_proof_len * VI_SHA256_LEN;
    if (!all_zero((const uint8_t *)r->batch_proof + used, sizeof r->batch_proof - used))
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt batch proof has non-zero bytes after its %d hashes",
                       (int)r->batch_proof_len);
    uint8_t leaf[VI_SHA256_LEN];
    vi_status st = vi_merkle_leaf_hash(r->receipt_digest, VI_SHA256_LEN, leaf, err);
    if (st == VI_OK)
        st = vi_merkle_verify(leaf, r->batch_index, r->batch_size,
                              (const uint8_t(*)[VI_SHA256_LEN])r->batch_proof, r->batch_proof_len,
                              r->batch_root, err);
    if (st != VI_OK)
        return st;
    uint8_t msg[BATCH_MSG_LEN];
    batch_message(r->batch_size, r->batch_root, msg);
    if (!ed25519_verifies(r->public_key, r->signature, msg, sizeof msg))
        return vi_fail(err, VI_ERR_VERIFY, "batch signature does not verify");
    return VI_OK;
}

vi_status vi_receipt_check(const vi_receipt *r, const uint8_t *trusted_public_key,
                           vi_receipt_verdict *verdict, vi_error *err)
{
    uint8_t digest[VI_SHA256_LEN];
    if (verdict)
        *verdict = VI_RECEIPT_UNSIGNED;
    if (r->format_version != VI_RECEIPT_FORMAT_VERSION)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "unsupported receipt format_version %u (this build handles version %d)",
                       (unsigned)r->format_version, VI_RECEIPT_FORMAT_VERSION);
    vi_status st = vi_receipt_compute_digest(r, digest, err);
    if (st != VI_OK)
        return st;
    if (memcmp(digest, r->receipt_digest, VI_SHA256_LEN) != 0)
        return vi_fail(err, VI_ERR_VERIFY, "receipt_digest does not match its fields");

    vi_receipt_verdict v = VI_RECEIPT_SIGNED;
    switch (r->signature_algorithm) {
    case VI_SIG_NONE:
        if (!all_zero(r->signature, sizeof r->signature) ||
            !all_zero(r->public_key, sizeof r->public_key))
            return vi_fail(err, VI_ERR_VERIFY,
                           "receipt is marked unsigned but carries a signature or public key");
        if (!batch_fields_zero(r))
            return vi_fail(err, VI_ERR_VERIFY,
                           "receipt is marked unsigned but carries batch fields");
        if (trusted_public_key)
            return vi_fail(err, VI_ERR_VERIFY,
                           "receipt is unsigned, but a signature by the trusted key is required");
        v = VI_RECEIPT_UNSIGNED;
        break;
    case VI_SIG_ED25519: {
        if (!batch_fields_zero(r))
            return vi_fail(err, VI_ERR_VERIFY,
                           "receipt is signed \"ed25519\" but carries batch fields (only "
                           "\"ed25519-merkle\" has them)");
        uint8_t msg[SIG_MSG_LEN];
        signed_message(r->receipt_digest, msg);
        if (!ed25519_verifies(r->public_key, r->signature, msg, sizeof msg))
            return vi_fail(err, VI_ERR_VERIFY, "signature does not verify");
        break;
    }
    case VI_SIG_ED25519_MERKLE:
        st = check_batch(r, err);
        if (st != VI_OK)
            return st;
        break;
    default:
        return vi_fail(err, VI_ERR_VERIFY, "unknown signature_algorithm %d",
                       (int)r->signature_algorithm);
    }
    if (v == VI_RECEIPT_SIGNED && trusted_public_key &&
        memcmp(trusted_public_key, r->public_key, VI_ED25519_KEY_LEN) != 0) {
        char hex[2 * VI_ED25519_KEY_LEN + 1];
        vi_hex_encode(r->public_key, VI_ED25519_KEY_LEN, hex);
        return vi_fail(err, VI_ERR_VERIFY,
                       "signature verifies, but public_key %s is not the trusted key", hex);
    }
    st = vi_receipt_validate(r, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "receipt is sealed but malformed");
        return st;
    }
    if (verdict)
        *verdict = v;
    if (v == VI_RECEIPT_UNSIGNED)
        vi_fail(err, VI_OK, "unsigned");
    else if (r->signature_algorithm == VI_SIG_ED25519_MERKLE)
        vi_fail(err, VI_OK, "signed (batch of %u, leaf %u)", (unsigned)r->batch_size,
                (unsigned)r->batch_index);
    else
        vi_fail(err, VI_OK, "signed");
    return VI_OK;
}
