/* tests/test_util.c — shared test helpers (see test_util.h). */
#include "test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

uint64_t vt_next(vt_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float vt_uniform(vt_rng *r, float lo, float hi)
{
    float u = (float)(vt_next(r) >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
}

int64_t vt_range(vt_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(vt_next(r) % (uint64_t)(hi - lo + 1));
}

char *vt_tmpdir(const char *tag, char *out, size_t outsize)
{
    const char *base = getenv("VERINFER_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(out, outsize, "%s/%s-XXXXXX", base, tag);
    if (!mkdtemp(out)) {
        fprintf(stderr, "mkdtemp(%s): %s\n", out, strerror(errno));
        abort();
    }
    return out;
}

int vt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return (n == len && rc == 0) ? 0 : -1;
}

char *vt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (used + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        if (n == 0)
            break;
        used += n;
    }
    fclose(f);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}

const char *vt_bin(void)
{
    const char *b = getenv("VERINFER_BIN");
    return b ? b : "./verinfer";
}

const char *vt_src(void)
{
    const char *s = getenv("VERINFER_SRC");
    return s ? s : ".";
}

int vt_run(const char *cmd, char **out, char **err)
{
    char dir[512], full[8192], outp[600], errp[600];
    vt_tmpdir("run", dir, sizeof dir);
    snprintf(outp, sizeof outp, "%s/stdout", dir);
    snprintf(errp, sizeof errp, "%s/stderr", dir);
    snprintf(full, sizeof full, "%s >'%s' 2>'%s' </dev/null", cmd, outp, errp);
    int st = system(full);
    if (out)
        *out = vt_read_file(outp, NULL);
    if (err)
        *err = vt_read_file(errp, NULL);
    unlink(outp);
    unlink(errp);
    rmdir(dir);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}
