/* core/sha256.c — canonical-encoding SHA-256 on OpenSSL EVP. */
#include "sha256.h"

#include <string.h>

#include <pthread.h>

#include <openssl/evp.h>

/* SHA-256 fetched once per process: the implicit fetch behind EVP_sha256()
 * costs about as much as hashing a short message. A process-wide constant
 * once set (pthread_once), like OpenSSL's own tables. */
static EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *vi_sha256_md(void)
{
    pthread_once(&g_sha256_once, sha256_fetch);
    return g_sha256 ? g_sha256 : EVP_sha256();
}

vi_status vi_sha256_begin(vi_sha256 *h, vi_error *err)
{
    h->failed = 0;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx)
        return vi_fail(err, VI_ERR_NOMEM, "cannot allocate a SHA-256 context");
    if (EVP_DigestInit_ex(h->ctx, vi_sha256_md(), NULL) != 1) {
        vi_sha256_abort(h);
        return vi_fail(err, VI_ERR_INTERNAL, "OpenSSL cannot start a SHA-256 hash");
    }
    return VI_OK;
}

void vi_sha256_bytes(vi_sha256 *h, const void *p, size_t n)
{
    if (h->failed || n == 0)
        return;
    if (EVP_DigestUpdate(h->ctx, p, n) != 1)
        h->failed = 1;
}

void vi_sha256_u8(vi_sha256 *h, uint8_t v)
{
    vi_sha256_bytes(h, &v, 1);
}

void vi_sha256_u32(vi_sha256 *h, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    vi_sha256_bytes(h, b, sizeof b);
}

void vi_sha256_u64(vi_sha256 *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    vi_sha256_bytes(h, b, sizeof b);
}

void vi_sha256_str(vi_sha256 *h, const char *s, size_t n)
{
    if ((uint64_t)n > UINT32_MAX) {
        h->failed = 1;
        return;
    }
    vi_sha256_u32(h, (uint32_t)n);
    vi_sha256_bytes(h, s, n);
}

void vi_sha256_cstr(vi_sha256 *h, const char *s)
{
    vi_sha256_str(h, s, strlen(s));
}

vi_status vi_sha256_final(vi_sha256 *h, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    unsigned int len = 0;
    int ok =
        !h->failed && h->ctx && EVP_DigestFinal_ex(h->ctx, out, &len) == 1 && len == VI_SHA256_LEN;
    vi_sha256_abort(h);
    if (!ok) {
        memset(out, 0, VI_SHA256_LEN);
        return vi_fail(err, VI_ERR_INTERNAL,
                       "SHA-256 failed (OpenSSL error or a string over 4 GiB)");
    }
    return VI_OK;
}

void vi_sha256_abort(vi_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

vi_status vi_sha256_once(const void *p, size_t n, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, vi_sha256_md(), NULL) != 1 || len != VI_SHA256_LEN) {
        memset(out, 0, VI_SHA256_LEN);
        return vi_fail(err, VI_ERR_INTERNAL, "OpenSSL SHA-256 failed");
    }
    return VI_OK;
}
