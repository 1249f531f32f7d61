/* cli/cmd_verify.c — `verinfer verify MODELDIR REQUEST.json RESPONSE.json`:
 * re-executes the request and checks every commitment of the response's
 * receipt. Exit 0 verified, 1 not verified (each failing part is named),
 * 2 usage or I/O error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/hex.h"

static void verify_usage(FILE *f)
{
    fprintf(f, "usage: verinfer verify MODELDIR REQUEST.json RESPONSE.json [options]\n"
               "       verinfer verify MODEL.gguf REQUEST.json RESPONSE.json [--public-key HEX]\n"
               "                       (a completion: see 'verinfer verify-completion --help')\n\n"
               "Checks a response produced by 'verinfer run' or the server: recomputes the\n"
               "model digest from MODELDIR (weights), the digest of the request's inputs\n"
               "(input), the digest of the response's outputs (output-data), re-executes the\n"
               "request exactly and compares the result bit for bit (output), and checks the\n"
               "receipt's digest and Ed25519 signature (signature). A receipt with mode \"fast\"\n"
               "claims outputs within the tolerance it states (tolerance_rtol, tolerance_atol)\n"
               "of the exact ones: they are compared element by element within it, and the\n"
               "verdict says so (docs/fast-mode.md).\n\n"
               "options:\n"
               "  --public-key HEX  also require the receipt to be signed by this key\n"
               "  --allow-unsigned  accept a receipt without a signature\n"
               "  --threads N, --isa NAME, --backend B, --device N\n"
               "                    as for run (they never change a bit)\n"
               "  -q, --quiet       print only the verdict\n"
               "  -h, --help        this text\n\n"
               "exit status: 0 verified, 1 not verified, 2 usage or I/O error\n");
}

/* Whether the first non-option argument names a GGUF file (a completion to verify). */
static int first_arg_is_gguf(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            return 0;
        size_t n = strlen(argv[i]);
        return n > 5 && strcmp(argv[i] + n - 5, ".gguf") == 0;
    }
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    if (first_arg_is_gguf(argc, argv))
        return cmd_verify_completion(argc, argv);
    cli_backend_opts bo;
    cli_backend_opts_default(&bo);
    const char *pos[3] = {NULL, NULL, NULL}, *pubhex = NULL;
    int npos = 0, allow_unsigned = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_backend_option(argc, argv, &i, &bo);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(argv[i])) {
            verify_usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--public-key") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "verinfer verify: --public-key needs a value\n");
                return CLI_USAGE;
            }
            pubhex = argv[++i];
        } else if (strcmp(argv[i], "--allow-unsigned") == 0) {
            allow_unsigned = 1;
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "verinfer verify: unknown option '%s'\n", argv[i]);
            verify_usage(stderr);
            return CLI_USAGE;
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            fprintf(stderr, "verinfer verify: unexpected argument '%s'\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (npos != 3) {
        verify_usage(stderr);
        return CLI_USAGE;
    }
    vi_error err = {{0}};
    uint8_t trusted[VI_ED25519_KEY_LEN];
    if (pubhex && vi_hex_decode(pubhex, trusted, sizeof trusted, "--public-key", &err) != VI_OK) {
        fprintf(stderr, "verinfer verify: %s\n", err.msg);
        return CLI_USAGE;
    }

    int rc = CLI_USAGE;
    size_t req_len = 0, resp_len = 0;
    char *req_json = cli_read_file(pos[1], CLI_MAX_JSON_FILE, &req_len);
    char *resp_json = req_json ? cli_read_file(pos[2], CLI_MAX_JSON_FILE, &resp_len) : NULL;
    vi_kserve_request req = {0};
    vi_kserve_response resp = {0};
    vi_verify_report rep;
    cli_loaded l;
    int loaded = 0;
    if (!resp_json)
        goto done;
    if (vi_kserve_parse_request(req_json, req_len, NULL, 0, NULL, &req, &err) != VI_OK) {
        fprintf(stderr, "verinfer verify: %s: %s\n", pos[1], err.msg);
        goto done;
    }
    if (vi_kserve_parse_response(resp_json, resp_len, NULL, 0, &resp, &err) != VI_OK) {
        fprintf(stderr, "verinfer verify: %s: %s\n", pos[2], err.msg);
        goto done;
    }
    if (cli_load("verify", pos[0], &bo, VI_MODE_EXACT, &l) != 0)
        goto done;
    loaded = 1;
    if (vi_infer_verify(&l.im, &req, &resp, pubhex ? trusted : NULL, allow_unsigned, &rep, &err) !=
        VI_OK) {
        fprintf(stderr, "verinfer verify: %s: %s\n", pos[2], err.msg);
        goto done;
    }
    static const vi_check ORDER[] = {VI_CHECK_MODEL, VI_CHECK_INPUT, VI_CHECK_OUTPUT_DATA,
                                     VI_CHECK_OUTPUT, VI_CHECK_SIGNATURE};
    for (size_t i = 0; !quiet && i < sizeof ORDER / sizeof ORDER[0]; i++)
        printf("%-12s %s  %s\n", vi_check_name(ORDER[i]),
               rep.ok[ORDER[i]] ? "ok      " : "MISMATCH", rep.detail[ORDER[i]]);
    /* a fast-mode receipt was checked within a tolerance, and the verdict says so */
    if (rep.verified && rep.mode == VI_MODE_FAST)
        printf("verified (%s)\n", rep.detail[VI_CHECK_OUTPUT]);
    else
        printf("%s\n", rep.verified ? "verified" : "NOT VERIFIED");
    rc = rep.verified ? CLI_OK : CLI_FAIL;
done:
    if (loaded)
        cli_unload(&l);
    vi_kserve_response_free(&resp);
    vi_kserve_request_free(&req);
    free(resp_json);
    free(req_json);
    return rc;
}
