/* cli/common.c — option helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu_backend.h"
#include "cpu/threadpool.h"
#ifdef VERINFER_HAVE_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/fast_cublas.h"
#endif

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_parse_int(const char *opt, const char *val, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = val ? strtol(val, &end, 10) : 0;
    if (!val || errno || end == val || *end || v < min || v > max) {
        fprintf(stderr, "verinfer: %s needs an integer between %ld and %ld (got '%s')\n", opt, min,
                max, val ? val : "");
        return -1;
    }
    *out = v;
    return 0;
}

void cli_backend_opts_default(cli_backend_opts *o)
{
    memset(o, 0, sizeof *o);
    o->isa = VI_ISA_AUTO;
    o->kind = CLI_BACKEND_AUTO;
}

int cli_backend_option(int argc, char **argv, int *i, cli_backend_opts *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--threads") != 0 && strcmp(a, "--isa") != 0 && strcmp(a, "--backend") != 0 &&
        strcmp(a, "--device") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "verinfer: %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    long n;
    if (strcmp(a, "--threads") == 0) {
        if (cli_parse_int("--threads", v, 1, 1024, &n) != 0)
            return -1;
        o->threads = (int)n;
    } else if (strcmp(a, "--device") == 0) {
        if (cli_parse_int("--device", v, 0, 1023, &n) != 0)
            return -1;
        o->device = (int)n;
    } else if (strcmp(a, "--backend") == 0) {
        static const char *const NAMES[] = {"auto", "cpu", "cuda"};
        int found = -1;
        for (int k = 0; k < 3; k++)
            if (strcmp(v, NAMES[k]) == 0)
                found = k;
        if (found < 0) {
            fprintf(stderr, "verinfer: --backend must be auto, cpu or cuda (got '%s')\n", v);
            return -1;
        }
        o->kind = (cli_backend_kind)found;
    } else if (vi_isa_parse(v, &o->isa) != 0) {
        fprintf(stderr, "verinfer: --isa must be auto, scalar, avx2 or avx512 (got '%s')\n", v);
        return -1;
    }
    return 1;
}

vi_backend *cli_backend_make(cli_backend_opts *o, vi_error *err)
{
    if (o->kind != CLI_BACKEND_CPU) {
        vi_error why = {{0}};
#ifdef VERINFER_HAVE_CUDA
        vi_backend *g = vi_cuda_backend_create(o->device, &why);
        if (g)
            return g;
#else
        vi_fail(&why, VI_ERR_UNSUPPORTED,
                "this build has no CUDA backend (nvcc was not found when it was built)");
#endif
        if (o->kind == CLI_BACKEND_CUDA)
            return vi_fail(err, VI_ERR_UNSUPPORTED, "--backend cuda: %s", why.msg), NULL;
        if (!o->fallback_said)
            fprintf(stderr, "verinfer: using the CPU backend: %s\n", why.msg);
        o->fallback_said = 1;
    }
    return vi_cpu_backend_create(o->threads > 0 ? o->threads : vi_pool_default_threads(), o->isa,
                                 err);
}

vi_status cli_backend_worker(vi_backend *main, int fast, vi_backend **out, vi_error *err)
{
    *out = NULL;
#ifdef VERINFER_HAVE_CUDA
    if (main && strcmp(main->name, "cuda") == 0) {
        *out = fast ? vi_cuda_backend_create_fast_worker(main, err)
                    : vi_cuda_backend_create_worker(main, err);
        return *out ? VI_OK : VI_ERR_UNSUPPORTED;
    }
#else
    (void)main;
    (void)fast;
    (void)err;
#endif
    return VI_OK;
}

vi_backend *cli_backend_create(cli_backend_opts *o)
{
    vi_error err = {{0}};
    vi_backend *b = cli_backend_make(o, &err);
    if (!b)
        fprintf(stderr, "verinfer: %s\n", err.msg);
    return b;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "verinfer: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (used + 1 >= cap) {
            if (cap > max) {
                fprintf(stderr, "verinfer: '%s' is larger than %zu bytes\n", path, max);
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        if (n == 0) {
            if (ferror(f)) {
                fprintf(stderr, "verinfer: error reading '%s': %s\n", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
        used += n;
    }
    fclose(f);
    if (!buf)
        return NULL;
    if (used > max) {
        fprintf(stderr, "verinfer: '%s' is larger than %zu bytes\n", path, max);
        free(buf);
        return NULL;
    }
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}
