/* cli/cmd_gen_model.c — `verinfer gen-model [options] OUTDIR`: writes a
 * random but seed-determined model directory (model.json, model.safetensors,
 * example-request.json). The same options write the same bytes everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "models/gen_model.h"

static void gen_usage(FILE *f)
{
    fprintf(f,
            "usage: verinfer gen-model [options] OUTDIR\n\n"
            "Writes OUTDIR/model.json, OUTDIR/model.safetensors and OUTDIR/example-request.json\n"
            "for a random model determined by the options and the seed.\n\n"
            "options:\n"
            "  --preset P         mlp (default) or all-ops (a model using every op)\n"
            "  --name NAME        model name (default: the preset name)\n"
            "  --seed N           weight seed (default 1)\n"
            "  --dtype D          weight dtype F32 (default), F16 or BF16\n"
            "  --max-batch-size N largest batch the server may form (default 64)\n"
            "  --force            replace existing model files in OUTDIR\n"
            "mlp only:\n"
            "  --inputs N         input features (default 16)\n"
            "  --hidden W,W,...   hidden layer widths (default 64,64; 'none' for no hidden layer)\n"
            "  --classes N        output classes (default 4)\n"
            "  --activation A     relu (default), gelu, gelu_tanh, tanh, sigmoid\n"
            "  --weight-layout L  out_in (default, [N,K]) or in_out ([K,N])\n"
            "  -h, --help         this text\n");
}

int cmd_gen_model(int argc, char **argv)
{
    vi_gen_options opt;
    vi_gen_options_default(&opt);
    vi_error err = {{0}};
    const char *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            gen_usage(stdout);
            return CLI_OK;
        }
        if (strcmp(a, "--force") == 0) {
            opt.force = 1;
            continue;
        }
        if (a[0] != '-') {
            if (outdir) {
                fprintf(stderr, "verinfer gen-model: unexpected argument '%s'\n", a);
                return CLI_USAGE;
            }
            outdir = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "verinfer gen-model: %s needs a value\n", a);
            return CLI_USAGE;
        }
        const char *v = argv[++i];
        long n = 0;
        vi_status st = VI_OK;
        if (strcmp(a, "--preset") == 0)
            st = vi_gen_parse_preset(v, &opt.preset, &err);
        else if (strcmp(a, "--name") == 0) {
            if (strlen(v) == 0 || strlen(v) >= sizeof opt.name)
                st = vi_fail(&err, VI_ERR_INVALID, "--name must be 1 to %zu bytes",
                             sizeof opt.name - 1);
            else
                snprintf(opt.name, sizeof opt.name, "%s", v);
        } else if (strcmp(a, "--seed") == 0) {
            unsigned long long s;
            char *end;
            s = strtoull(v, &end, 10);
            if (*v == '\0' || *end || *v == '-')
                st = vi_fail(&err, VI_ERR_INVALID, "--seed needs a non-negative integer (got '%s')",
                             v);
            opt.seed = (uint64_t)s;
        } else if (strcmp(a, "--dtype") == 0)
            st = vi_gen_parse_weight_dtype(v, &opt.weight_dtype, &err);
        else if (strcmp(a, "--max-batch-size") == 0) {
            if (cli_parse_int(a, v, 0, 1 << 20, &n) != 0)
                return CLI_USAGE;
            opt.max_batch_size = (int)n;
        } else if (strcmp(a, "--inputs") == 0) {
            if (cli_parse_int(a, v, 1, 1 << 20, &n) != 0)
                return CLI_USAGE;
            opt.n_inputs = (int)n;
        } else if (strcmp(a, "--classes") == 0) {
            if (cli_parse_int(a, v, 1, 1 << 20, &n) != 0)
                return CLI_USAGE;
            opt.n_classes = (int)n;
        } else if (strcmp(a, "--hidden") == 0)
            st = vi_gen_parse_hidden(v, &opt, &err);
        else if (strcmp(a, "--activation") == 0)
            st = vi_gen_parse_activation(v, &opt.activation, &err);
        else if (strcmp(a, "--weight-layout") == 0)
            st = vi_gen_parse_layout(v, &opt.weight_out_in, &err);
        else {
            fprintf(stderr, "verinfer gen-model: unknown option '%s'\n", a);
            gen_usage(stderr);
            return CLI_USAGE;
        }
        if (st != VI_OK) {
            fprintf(stderr, "verinfer gen-model: %s\n", err.msg);
            return CLI_USAGE;
        }
    }
    if (!outdir) {
        gen_usage(stderr);
        return CLI_USAGE;
    }
    if (vi_gen_model(&opt, outdir, &err) != VI_OK) {
        fprintf(stderr, "verinfer gen-model: %s\n", err.msg);
        return CLI_FAIL;
    }
    fprintf(stderr,
            "verinfer gen-model: wrote %s/model.json, model.safetensors, example-request.json\n",
            outdir);
    return CLI_OK;
}
