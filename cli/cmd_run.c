/* cli/cmd_run.c — `verinfer run MODELDIR REQUEST.json`: one KServe v2
 * inference request in exact or fast mode (--mode, else the request's
 * parameters.verinfer_mode, else model.json's "mode"); prints the KServe v2
 * response with its receipt (signed when a key is given). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/keys.h"

static void run_usage(FILE *f)
{
    fprintf(f, "usage: verinfer run MODELDIR REQUEST.json [options]\n\n"
               "Runs a KServe v2 inference request (JSON; '-' reads standard input) on the model\n"
               "in MODELDIR and prints the KServe v2 response with a top-level \"receipt\":\n"
               "model, input and output digests, engine id, and an Ed25519 signature.\n\n"
               "options:\n"
               "  --key KEYFILE   sign the receipt with this key (default: $VERINFER_KEY);\n"
               "                  without a key the receipt is unsigned\n"
               "  --mode M        exact (bit-exact) or fast (cuBLAS with TF32 on a GPU; outputs\n"
               "                  within a stated tolerance, receipt mode \"fast\"); default:\n"
               "                  the request's parameters.verinfer_mode, else model.json's mode\n"
               "  --threads N     worker threads (default: the online CPUs, at most 64); never\n"
               "                  changes a bit\n"
               "  --isa NAME      auto|scalar|avx2|avx512 (default auto); never changes a bit\n"
               "  --backend B     auto (a working GPU, else the CPU; default), cpu or cuda;\n"
               "                  every backend gives the same bits\n"
               "  --device N      CUDA device index (default 0)\n"
               "  -o, --output F  write the response to F instead of standard output\n"
               "  -h, --help      this text\n\n"
               "exit status: 0 ok, 1 the request or model was rejected, 2 usage error\n");
}

static int write_out(const char *path, const char *json, size_t len)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        perror(path);
        return -1;
    }
    int ok = fwrite(json, 1, len, f) == len && fputc('\n', f) != EOF;
    ok &= (path ? fclose(f) : fflush(f)) == 0;
    if (!ok)
        fprintf(stderr, "verinfer run: cannot write the response%s%s\n", path ? " to " : "",
                path ? path : "");
    return ok ? 0 : -1;
}

int cmd_run(int argc, char **argv)
{
    cli_backend_opts bo;
    cli_backend_opts_default(&bo);
    const char *pos[2] = {NULL, NULL}, *key_path = getenv("VERINFER_KEY"), *out_path = NULL;
    int npos = 0;
    vi_mode mode = VI_MODE_DEFAULT;
    for (int i = 1; i < argc; i++) {
        int r = cli_backend_option(argc, argv, &i, &bo);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(argv[i])) {
            run_usage(stdout);
            return CLI_OK;
        } else if ((strcmp(argv[i], "--key") == 0 || strcmp(argv[i], "-o") == 0 ||
                    strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "--mode") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "verinfer run: %s needs a value\n", argv[i]);
                return CLI_USAGE;
            }
            if (strcmp(argv[i], "--key") == 0) {
                key_path = argv[++i];
            } else if (strcmp(argv[i], "--mode") == 0) {
                mode = vi_mode_from_name(argv[++i]);
                if (mode == VI_MODE_DEFAULT) {
                    fprintf(stderr, "verinfer run: --mode must be exact or fast (got '%s')\n",
                            argv[i]);
                    return CLI_USAGE;
                }
            } else {
                out_path = argv[++i];
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "verinfer run: unknown option '%s'\n", argv[i]);
            run_usage(stderr);
            return CLI_USAGE;
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            fprintf(stderr, "verinfer run: unexpected argument '%s'\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (npos != 2) {
        run_usage(stderr);
        return CLI_USAGE;
    }

    int rc = CLI_FAIL;
    vi_error err = {{0}};
    EVP_PKEY *key = NULL;
    char *json = NULL, *resp = NULL;
    uint8_t *bin = NULL;
    size_t json_len = 0, resp_len = 0, bin_len = 0;
    vi_kserve_request req = {0};
    vi_infer_result res = {0};
    cli_loaded l;
    int loaded = 0;

    if (key_path && *key_path && vi_key_load(key_path, &key, &err) != VI_OK) {
        fprintf(stderr, "verinfer run: %s\n", err.msg);
        return CLI_FAIL;
    }
    json = cli_read_file(strcmp(pos[1], "-") == 0 ? "/dev/stdin" : pos[1], CLI_MAX_JSON_FILE,
                         &json_len);
    if (!json)
        goto done;
    if (vi_kserve_parse_request(json, json_len, NULL, 0, NULL, &req, &err) != VI_OK) {
        fprintf(stderr, "verinfer run: %s: %s\n", pos[1], err.msg);
        goto done;
    }
    if (mode != VI_MODE_DEFAULT)
        req.mode = mode; /* the flag overrides the request's parameter */
    if (cli_load("run", pos[0], &bo, req.mode, &l) != 0)
        goto done;
    loaded = 1;
    if (vi_infer_run(&l.im, &req, key, (int64_t)time(NULL), &res, &err) != VI_OK ||
        vi_infer_response(&l.im, &req, &res, &resp, &resp_len, &bin, &bin_len, &err) != VI_OK) {
        fprintf(stderr, "verinfer run: %s\n", err.msg);
        goto done;
    }
    if (bin_len > 0) {
        fprintf(stderr, "verinfer run: binary outputs cannot be printed; remove binary_data from "
                        "the request\n");
        goto done;
    }
    if (!key)
        fprintf(stderr, "verinfer run: note: the receipt is unsigned (pass --key KEYFILE; "
                        "create one with 'verinfer keygen KEYFILE')\n");
    rc = write_out(out_path, resp, resp_len) == 0 ? CLI_OK : CLI_FAIL;
done:
    free(resp);
    free(bin);
    vi_infer_result_free(&res);
    vi_kserve_request_free(&req);
    if (loaded)
        cli_unload(&l);
    free(json);
    vi_key_free(key);
    return rc;
}
