/* cli/common.c — option helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu_backend.h"

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

int cli_backend_option(int argc, char **argv, int *i, cli_backend_opts *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--threads") != 0 && strcmp(a, "--isa") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "verinfer: %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    if (strcmp(a, "--threads") == 0) {
        long n;
        if (cli_parse_int("--threads", v, 1, 1024, &n) != 0)
            return -1;
        o->threads = (int)n;
    } else if (vi_isa_parse(v, &o->isa) != 0) {
        fprintf(stderr, "verinfer: --isa must be auto, scalar, avx2 or avx512 (got '%s')\n", v);
        return -1;
    }
    return 1;
}

vi_backend *cli_backend_create(const cli_backend_opts *o)
{
    int threads = o->threads;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)(n < 64 ? n : 64) : 1;
    }
    vi_error err = {{0}};
    vi_backend *b = vi_cpu_backend_create(threads, o->isa, &err);
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
