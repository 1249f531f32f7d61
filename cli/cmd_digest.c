/* cli/cmd_digest.c — `verinfer digest MODELDIR`: loads and validates a model
 * directory and prints its model digest (the Merkle-rooted commitment to the
 * manifest and every tensor, docs/receipts.md). */
#include <stdio.h>

#include "cli.h"
#include "core/digest.h"
#include "core/hex.h"
#include "core/model.h"

static void digest_usage(FILE *f)
{
    fprintf(f, "usage: verinfer digest MODELDIR\n\n"
               "Validates MODELDIR (model.json + model.safetensors) and prints its model\n"
               "digest: 64 hex digits, the value receipts carry as model_digest.\n");
}

int cmd_digest(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            digest_usage(stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "verinfer digest: unexpected argument '%s'\n", argv[i]);
            digest_usage(stderr);
            return CLI_USAGE;
        }
        dir = argv[i];
    }
    if (!dir) {
        digest_usage(stderr);
        return CLI_USAGE;
    }
    vi_model m;
    vi_error err = {{0}};
    uint8_t d[VI_SHA256_LEN];
    if (vi_model_load(&m, dir, &err) != VI_OK) {
        fprintf(stderr, "verinfer digest: %s\n", err.msg);
        return CLI_FAIL;
    }
    vi_status st = vi_model_digest_of(&m, d, &err);
    vi_model_free(&m);
    if (st != VI_OK) {
        fprintf(stderr, "verinfer digest: %s\n", err.msg);
        return CLI_FAIL;
    }
    char hex[2 * VI_SHA256_LEN + 1];
    vi_hex_encode(d, VI_SHA256_LEN, hex);
    printf("%s\n", hex);
    return CLI_OK;
}
