/* cli/cmd_keygen.c — `verinfer keygen KEYFILE`: creates the node's Ed25519
 * signing key (mode 0600, never overwriting) and prints its public key. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/keys.h"

static void keygen_usage(FILE *f)
{
    fprintf(f, "usage: verinfer keygen KEYFILE\n\n"
               "Creates an Ed25519 private key in KEYFILE (PKCS#8 PEM, file mode 0600; an\n"
               "existing file is never overwritten) and prints the public key as 64 hex digits.\n"
               "Receipts signed with it (run --key KEYFILE) carry that public key.\n");
}

int cmd_keygen(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            keygen_usage(stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "verinfer keygen: unexpected argument '%s'\n", argv[i]);
            keygen_usage(stderr);
            return CLI_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        keygen_usage(stderr);
        return CLI_USAGE;
    }
    vi_error err = {{0}};
    EVP_PKEY *key = NULL;
    char hex[2 * VI_KEY_PUBLIC_LEN + 1];
    if (vi_key_generate(path, &err) != VI_OK || vi_key_load(path, &key, &err) != VI_OK ||
        vi_key_public_hex(key, hex, &err) != VI_OK) {
        fprintf(stderr, "verinfer keygen: %s\n", err.msg);
        vi_key_free(key);
        return CLI_FAIL;
    }
    vi_key_free(key);
    printf("%s\n", hex);
    return CLI_OK;
}
