/* cli/cmd_verify_completion.c — `verinfer verify-completion MODEL.gguf
 * --request REQ.json --response RESP.json`: re-executes an OpenAI-style
 * completion request alone on the model and checks the response's receipt
 * (signature, model digest, input digest, output digest) and its completion
 * token ids. Exit 0 verified, 1 refuted (the reason names what differs),
 * 2 usage error or malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "core/hex.h"
#include "cpu/threadpool.h"
#include "server/openai.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: verinfer verify-completion MODEL.gguf --request REQ.json "
               "--response RESP.json [options]\n"
               "       verinfer verify MODEL.gguf REQ.json RESP.json [options]\n\n"
               "Re-executes a /v1/completions or /v1/chat/completions request alone and checks\n"
               "the response (or its \"verinfer\" object): receipt signature, model digest,\n"
               "input digest, output digest and every generated token.\n\n"
               "options:\n"
               "  --public-key HEX    the receipt must be signed by this Ed25519 key\n"
               "  --threads N         worker threads (default: the online CPUs, at most 64)\n"
               "  --isa NAME          auto (default), scalar, avx2 or avx512\n"
               "  -h, --help          this text\n\n"
               "exit status: 0 verified, 1 refuted, 2 usage error or malformed input\n");
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fprintf(stderr, "verify-completion: %s: %s (line %d)\n", path, je.text, je.line);
    return j;
}

int cmd_verify_completion(int argc, char **argv)
{
    const char *model = NULL, *req_path = NULL, *resp_path = NULL, *pub = NULL;
    long threads = 0;
    vi_isa isa = VI_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage(stdout);
            return CLI_OK;
        }
        if (a[0] != '-') {
            /* MODEL.gguf [REQUEST.json RESPONSE.json], as `verinfer verify` takes them */
            const char **slot = !model       ? &model
                                : !req_path  ? &req_path
                                : !resp_path ? &resp_path
                                             : NULL;
            if (!slot) {
                fprintf(stderr, "verify-completion: unexpected argument '%s'\n", a);
                return CLI_USAGE;
            }
            *slot = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "verify-completion: %s needs a value\n", a);
            return CLI_USAGE;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--request") == 0)
            req_path = v;
        else if (strcmp(a, "--response") == 0)
            resp_path = v;
        else if (strcmp(a, "--public-key") == 0)
            pub = v;
        else if (strcmp(a, "--threads") == 0) {
            if (cli_parse_int(a, v, 1, 1024, &threads) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--isa") == 0) {
            if (vi_isa_parse(v, &isa) != 0) {
                fprintf(stderr, "verify-completion: --isa must be auto, scalar, avx2 or avx512\n");
                return CLI_USAGE;
            }
        } else {
            fprintf(stderr, "verify-completion: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (!model || !req_path || !resp_path) {
        fprintf(stderr, "verify-completion: MODEL.gguf, --request and --response are required\n");
        usage(stderr);
        return CLI_USAGE;
    }
    if (threads == 0)
        threads = vi_pool_default_threads();
    uint8_t key[VI_ED25519_KEY_LEN];
    vi_error err = {{0}};
    if (pub && vi_hex_decode(pub, key, sizeof key, "--public-key", &err) != VI_OK) {
        fprintf(stderr, "verify-completion: %s\n", err.msg);
        return CLI_USAGE;
    }
    int rc = CLI_USAGE;
    vi_llm *l = NULL;
    json_t *req = load_json(req_path), *resp = req ? load_json(resp_path) : NULL, *res = NULL;
    if (!req || !resp)
        goto done;
    if (vi_llm_open(&l, model, "model", 1 << 24, &err) != VI_OK) {
        fprintf(stderr, "verify-completion: %s\n", err.msg);
        rc = CLI_USAGE;
        goto done;
    }
    int verified = 0;
    char param[VI_OAI_PARAM_MAX];
    vi_status st = vi_oai_verify(l, req, resp, (int)threads, isa, pub ? key : NULL, &verified, &res,
                                 param, &err);
    if (st != VI_OK) {
        fprintf(stderr, "verify-completion: %s%s%s%s\n", err.msg, param[0] ? " (field: " : "",
                param[0] ? param : "", param[0] ? ")" : "");
        rc = st == VI_ERR_NOMEM || st == VI_ERR_INTERNAL ? CLI_FAIL : CLI_USAGE;
        goto done;
    }
    printf("%s: %s\n", verified ? "verified" : "REFUTED",
           json_string_value(json_object_get(res, "reason")));
    rc = verified ? CLI_OK : CLI_FAIL;
done:
    json_decref(res);
    json_decref(req);
    json_decref(resp);
    vi_llm_close(l);
    return rc;
}
