/* cli/main.c — the verinfer command: dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef VERINFER_VERSION
#define VERINFER_VERSION "0.0.0"
#endif

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} COMMANDS[] = {
    {"gen-model", cmd_gen_model, "write a seed-determined random model directory"},
    {"digest", cmd_digest, "print a model directory's digest (hex)"},
    {"keygen", cmd_keygen, "create an Ed25519 node key file and print its public key"},
    {"run", cmd_run, "run a KServe v2 request; print the response with a signed receipt"},
    {"verify", cmd_verify, "re-execute a request and check a response's receipt"},
    {"serve", cmd_serve, "serve a model repository over HTTP (KServe v2), with receipts"},
    {"generate", cmd_generate, "generate text with a llama GGUF model (bit-reproducible)"},
    {"verify-completion", cmd_verify_completion,
     "re-execute an OpenAI completion request and check its receipt"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: verinfer <command> [options]\n\n"
            "verinfer %s: bit-exact deterministic inference with verifiable receipts.\n\n"
            "commands:\n",
            VERINFER_VERSION);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\n'verinfer <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("verinfer %s\n", VERINFER_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "verinfer: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
