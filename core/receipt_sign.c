/* core/receipt_sign.c — sealing a receipt (digest + Ed25519 signature) and
 * checking one. The signed message is the tag "verinfer.receipt.sig.v1"
 * (as a u32-length string) followed by the 32-byte receipt_digest. */
#include "receipt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "hex.h"

/* message = u32 len(tag) || tag || receipt_digest */
#define SIG_MSG_LEN (4 + sizeof VI_TAG_RECEIPT_SIG - 1 + VI_SHA256_LEN)

static void signed_message(const uint8_t digest[VI_SHA256_LEN], uint8_t msg[SIG_MSG_LEN])
{
    const uint32_t tag_len = (uint32_t)(sizeof VI_TAG_RECEIPT_SIG - 1);
    for (int i = 0; i < 4; i++)
        msg[i] = (uint8_t)(tag_len >> (8 * i));
    memcpy(msg + 4, VI_TAG_RECEIPT_SIG, tag_len);
    memcpy(msg + 4 + tag_len, digest, VI_SHA256_LEN);
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

vi_status vi_receipt_seal(vi_receipt *r, EVP_PKEY *key, vi_error *err)
{
    vi_status st = vi_receipt_validate(r, err);
    if (st != VI_OK)
        return st;
    if (key && !EVP_PKEY_is_a(key, "ED25519"))
        return vi_fail(err, VI_ERR_INVALID, "receipts are signed with Ed25519 keys only (got %s)",
                       EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
    st = vi_receipt_compute_digest(r, r->receipt_digest, err);
    if (st != VI_OK)
        return st;
    r->signature_algorithm = VI_SIG_NONE;
    memset(r->signature, 0, sizeof r->signature);
    memset(r->public_key, 0, sizeof r->public_key);
    if (!key)
        return VI_OK;

    uint8_t msg[SIG_MSG_LEN], sig[VI_ED25519_SIG_LEN], pub[VI_ED25519_KEY_LEN];
    size_t sig_len = sizeof sig, pub_len = sizeof pub;
    signed_message(r->receipt_digest, msg);
    int ok = sign_cached(key, msg, sizeof msg, sig, &sig_len, pub, &pub_len) &&
             sig_len == sizeof sig;
    if (!ok) { /* the plain way, which also says why signing fails */
        sig_len = sizeof sig;
        pub_len = sizeof pub;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, msg, sizeof msg) == 1 &&
             sig_len == sizeof sig && EVP_PKEY_get_raw_public_key(key, pub, &pub_len) == 1 &&
             pub_len == sizeof pub;
        EVP_MD_CTX_free(ctx);
    }
    if (!ok) {
        unsigned long e = ERR_get_error();
        char why[256];
        ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        return vi_fail(err, VI_ERR_INTERNAL, "Ed25519 signing failed: %s", e ? why : "unknown");
    }
    memcpy(r->signature, sig, sizeof sig);
    memcpy(r->public_key, pub, sizeof pub);
    r->signature_algorithm = VI_SIG_ED25519;
    return VI_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* 1 if the signature over r->receipt_digest verifies under r->public_key. */
static int signature_verifies(const vi_receipt *r)
{
    uint8_t msg[SIG_MSG_LEN];
    signed_message(r->receipt_digest, msg);
    EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, r->public_key,
                                                sizeof r->public_key);
    EVP_MD_CTX *ctx = pub ? EVP_MD_CTX_new() : NULL;
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, r->signature, sizeof r->signature, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    ERR_clear_error();
    return ok;
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

    vi_receipt_verdict v;
    switch (r->signature_algorithm) {
    case VI_SIG_NONE:
        if (!all_zero(r->signature, sizeof r->signature) ||
            !all_zero(r->public_key, sizeof r->public_key))
            return vi_fail(err, VI_ERR_VERIFY,
                           "receipt is marked unsigned but carries a signature or public key");
        if (trusted_public_key)
            return vi_fail(err, VI_ERR_VERIFY,
                           "receipt is unsigned, but a signature by the trusted key is required");
        v = VI_RECEIPT_UNSIGNED;
        break;
    case VI_SIG_ED25519:
        if (!signature_verifies(r))
            return vi_fail(err, VI_ERR_VERIFY, "signature does not verify");
        if (trusted_public_key &&
            memcmp(trusted_public_key, r->public_key, VI_ED25519_KEY_LEN) != 0) {
            char hex[2 * VI_ED25519_KEY_LEN + 1];
            vi_hex_encode(r->public_key, VI_ED25519_KEY_LEN, hex);
            return vi_fail(err, VI_ERR_VERIFY,
                           "signature verifies, but public_key %s is not the trusted key", hex);
        }
        v = VI_RECEIPT_SIGNED;
        break;
    default:
        return vi_fail(err, VI_ERR_VERIFY, "unknown signature_algorithm %d",
                       (int)r->signature_algorithm);
    }
    st = vi_receipt_validate(r, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "receipt is sealed but malformed");
        return st;
    }
    if (verdict)
        *verdict = v;
    vi_fail(err, VI_OK, "%s", v == VI_RECEIPT_SIGNED ? "signed" : "unsigned");
    return VI_OK;
}
