/* cli/cli.h — the verinfer subcommands and what they share: exit codes,
 * option helpers, backend creation from --threads/--isa. */
#ifndef VI_CLI_H
#define VI_CLI_H

#include <stddef.h>

#include "core/backend.h"
#include "core/engine.h"
#include "core/model.h"
#include "server/infer.h"
#include "cpu/isa.h"

/* Exit codes used by every subcommand (verify: 1 = not verified). */
#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

typedef enum { CLI_BACKEND_AUTO = 0, CLI_BACKEND_CPU, CLI_BACKEND_CUDA } cli_backend_kind;

typedef struct {
    int threads; /* 0 = number of online CPUs */
    vi_isa isa;
    cli_backend_kind kind; /* --backend: auto uses a working GPU, else the CPU */
    int device;            /* --device: CUDA device index */
    int fallback_said;     /* the CPU fallback line has been printed */
} cli_backend_opts;

/* Defaults: all CPUs, ISA auto, backend auto, device 0. */
void cli_backend_opts_default(cli_backend_opts *o);

/* If argv[*i] is a backend option (--threads N, --isa NAME, --backend NAME,
 * --device N), consumes it (and its value) and returns 1; returns -1 after
 * printing an error for a bad value; 0 if it is not a backend option. */
int cli_backend_option(int argc, char **argv, int *i, cli_backend_opts *o);

/* Creates the backend the options ask for. --backend auto takes the CUDA
 * backend when this build has one and a device works, and otherwise says
 * once on stderr why it uses the CPU. NULL with err filled on failure. */
vi_backend *cli_backend_make(cli_backend_opts *o, vi_error *err);

/* Same, printing the error; returns NULL on failure. */
vi_backend *cli_backend_create(cli_backend_opts *o);

/* A backend for another worker beside `main` that shares its prepared
 * weights and has its own stream: when main is the CUDA backend, a worker of
 * it (fast 1: the cuBLAS fast-mode backend). Otherwise *out is NULL and the
 * status VI_OK: fast mode then runs the exact kernels. */
vi_status cli_backend_worker(vi_backend *main, int fast, vi_backend **out, vi_error *err);

/* Reads a whole file (NUL-terminated, at most max bytes); prints an error and
 * returns NULL on failure. */
char *cli_read_file(const char *path, size_t max, size_t *len);

/* Returns 1 if arg is -h or --help. */
int cli_is_help(const char *arg);

/* Parses a positive int option value; prints an error naming opt and returns -1 on failure. */
int cli_parse_int(const char *opt, const char *val, long min, long max, long *out);

/* A model loaded and ready to run: model, backend, engine, digest, and the
 * fast-mode engine (a view on the cuBLAS backend) when the backend is CUDA. */
typedef struct cli_loaded {
    vi_model model;
    vi_backend *backend;
    vi_engine engine;
    vi_backend *fast_backend; /* NULL: fast mode runs on engine */
    vi_engine fast_engine;
    vi_infer_model im;
} cli_loaded;

/* Loads dir and prepares it on the backend the options ask for, with a
 * fast-mode worker when `mode` (the request's; DEFAULT: the model's) is fast
 * and the backend is CUDA; prints the error (prefixed by cmd) and returns -1
 * on failure. */
int cli_load(const char *cmd, const char *dir, cli_backend_opts *o, vi_mode mode, cli_loaded *l);
void cli_unload(cli_loaded *l);

/* Largest request / response file accepted by run and verify. */
#define CLI_MAX_JSON_FILE (256u << 20)

int cmd_gen_model(int argc, char **argv);
int cmd_digest(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_verify_completion(int argc, char **argv);

#endif
