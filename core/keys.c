/* core/keys.c — Ed25519 key files: generation (O_EXCL, mode 0600), loading
 * with a permission check on the opened file, public key export. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "hex.h"

/* The text of the oldest queued OpenSSL error (queue then cleared). */
static const char *ossl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e)
        return "no detail";
    ERR_error_string_n(e, buf, size);
    return buf;
}

vi_status vi_key_generate(const char *path, vi_error *err)
{
    char why[256];
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!key)
        return vi_fail(err, VI_ERR_INTERNAL, "cannot generate an Ed25519 key: %s",
                       ossl_reason(why, sizeof why));
    vi_status st = VI_OK;
    FILE *f = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            st = vi_fail(err, VI_ERR_IO, "key file '%s' already exists; refusing to overwrite it",
                         path);
        else
            st = vi_fail(err, VI_ERR_IO, "cannot create key file '%s': %s", path, strerror(errno));
        goto done;
    }
    f = fdopen(fd, "w");
    if (!f) {
        st = vi_fail(err, VI_ERR_IO, "cannot write key file '%s': %s", path, strerror(errno));
        close(fd);
        goto remove;
    }
    if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1) {
        st = vi_fail(err, VI_ERR_IO, "cannot write key file '%s': %s", path,
                     ossl_reason(why, sizeof why));
        fclose(f);
        goto remove;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        st = vi_fail(err, VI_ERR_IO, "cannot write key file '%s': %s", path, strerror(errno));
        fclose(f);
        goto remove;
    }
    if (fclose(f) != 0) {
        st = vi_fail(err, VI_ERR_IO, "cannot write key file '%s': %s", path, strerror(errno));
        goto remove;
    }
    goto done;
remove:
    unlink(path);
done:
    EVP_PKEY_free(key);
    return st;
}

/* Refuses encrypted keys instead of prompting for a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

vi_status vi_key_load(const char *path, EVP_PKEY **out, vi_error *err)
{
    char why[256];
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vi_fail(err, VI_ERR_IO, "cannot open key file '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        vi_status st =
            vi_fail(err, VI_ERR_IO, "cannot stat key file '%s': %s", path, strerror(errno));
        close(fd);
        return st;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return vi_fail(err, VI_ERR_INVALID, "key file '%s' is not a regular file", path);
    }
    if (sb.st_mode & 077) {
        close(fd);
        return vi_fail(err, VI_ERR_INVALID,
                       "key file '%s' is readable by others (mode %04o); run: chmod 600 %s", path,
                       (unsigned)(sb.st_mode & 07777), path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        vi_status st =
            vi_fail(err, VI_ERR_IO, "cannot read key file '%s': %s", path, strerror(errno));
        close(fd);
        return st;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!key)
        return vi_fail(err, VI_ERR_INVALID,
                       "key file '%s' holds no unencrypted PEM private key (%s)", path,
                       ossl_reason(why, sizeof why));
    if (!EVP_PKEY_is_a(key, "ED25519")) {
        const char *type = EVP_PKEY_get0_type_name(key);
        vi_status st = vi_fail(err, VI_ERR_INVALID,
                               "key file '%s' holds a %s key; receipts are signed with Ed25519 "
                               "only (generate one with: verinfer keygen)",
                               path, type ? type : "non-Ed25519");
        EVP_PKEY_free(key);
        return st;
    }
    *out = key;
    return VI_OK;
}

vi_status vi_key_from_seed(const uint8_t seed[32], EVP_PKEY **out, vi_error *err)
{
    char why[256];
    *out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (!*out)
        return vi_fail(err, VI_ERR_INTERNAL, "cannot build an Ed25519 key from a seed: %s",
                       ossl_reason(why, sizeof why));
    return VI_OK;
}

vi_status vi_key_public_raw(const EVP_PKEY *key, uint8_t out[VI_KEY_PUBLIC_LEN], vi_error *err)
{
    size_t len = VI_KEY_PUBLIC_LEN;
    if (!key || !EVP_PKEY_is_a(key, "ED25519"))
        return vi_fail(err, VI_ERR_INVALID, "not an Ed25519 key");
    if (EVP_PKEY_get_raw_public_key(key, out, &len) != 1 || len != VI_KEY_PUBLIC_LEN) {
        char why[256];
        return vi_fail(err, VI_ERR_INTERNAL, "cannot read the Ed25519 public key: %s",
                       ossl_reason(why, sizeof why));
    }
    return VI_OK;
}

vi_status vi_key_public_hex(const EVP_PKEY *key, char out[2 * VI_KEY_PUBLIC_LEN + 1], vi_error *err)
{
    uint8_t raw[VI_KEY_PUBLIC_LEN];
    vi_status st = vi_key_public_raw(key, raw, err);
    if (st != VI_OK) {
        out[0] = '\0';
        return st;
    }
    vi_hex_encode(raw, sizeof raw, out);
    return VI_OK;
}

void vi_key_free(EVP_PKEY *key)
{
    EVP_PKEY_free(key);
}
