/* core/model.c — loading a model directory: model.json read whole (size
 * capped), model.safetensors mmap'ed, the manifest parsed against it, and
 * every weight value bound to a float32 view (in place when stored as
 * aligned F32, otherwise an exactly widened copy). */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "half.h"
#include "manifest.h"

/* Reads a whole regular file of at most VI_MAX_MANIFEST_BYTES into a
 * NUL-terminated malloc'ed buffer. */
static vi_status read_manifest(const char *path, char **out, size_t *len, vi_error *err)
{
    char eb[128];
    vi_status rc = VI_OK;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return vi_fail(err, e == ENOENT ? VI_ERR_NOT_FOUND : VI_ERR_IO, "%s: cannot open: %s", path,
                       strerror_r(e, eb, sizeof eb));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = vi_fail(err, VI_ERR_IO, "%s: cannot stat: %s", path, strerror_r(errno, eb, sizeof eb));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = vi_fail(err, VI_ERR_INVALID, "%s: not a regular file", path);
        goto out;
    }
    if (sb.st_size > (off_t)VI_MAX_MANIFEST_BYTES) {
        rc = vi_fail(err, VI_ERR_LIMIT, "%s: %lld bytes exceeds the limit of %u bytes", path,
                     (long long)sb.st_size, VI_MAX_MANIFEST_BYTES);
        goto out;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    buf = malloc(size + 1);
    if (!buf) {
        rc = vi_fail(err, VI_ERR_NOMEM, "%s: out of memory for %zu bytes", path, size);
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = vi_fail(err, VI_ERR_IO, "%s: read failed: %s", path,
                         strerror_r(errno, eb, sizeof eb));
            goto out;
        }
        if (r == 0) {
            rc = vi_fail(err, VI_ERR_IO, "%s: file shrank while being read", path);
            goto out;
        }
        got += (size_t)r;
    }
    buf[size] = '\0';
    *out = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* Float32 copy of a weight stored as F32 (unaligned), F16 or BF16: exact. */
static vi_status widen(const vi_st_tensor *t, int64_t n, float **out, vi_error *err)
{
    if (n < 1 || (uint64_t)n > SIZE_MAX / sizeof(float))
        return vi_fail(err, VI_ERR_LIMIT, "weight '%s': %lld elements", t->name, (long long)n);
    float *f = malloc((size_t)n * sizeof *f);
    if (!f)
        return vi_fail(err, VI_ERR_NOMEM, "weight '%s': out of memory for %lld floats", t->name,
                       (long long)n);
    const unsigned char *p = t->data;
    if (t->dtype == VI_DT_FP32) {
        memcpy(f, p, (size_t)n * sizeof *f);
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)); /* little-endian */
            f[i] = t->dtype == VI_DT_FP16 ? vi_f16_to_f32(h) : vi_bf16_to_f32(h);
        }
    }
    *out = f;
    return VI_OK;
}

static vi_status bind_weights(vi_model *m, vi_error *err)
{
    const vi_graph *g = &m->graph;
    size_t n = g->n_values > 0 ? (size_t)g->n_values : 1;
    m->weight_f32 = calloc(n, sizeof *m->weight_f32);
    m->weight_owned = calloc(n, sizeof *m->weight_owned);
    if (!m->weight_f32 || !m->weight_owned)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu weight slots", n);
    for (int i = 0; i < g->n_values; i++) {
        const vi_value *v = &g->values[i];
        if (v->kind != VI_VALUE_WEIGHT)
            continue;
        const vi_st_tensor *t = vi_safetensors_find(&m->st, v->name);
        if (!t || t->dtype != v->dtype)
            return vi_fail(err, VI_ERR_INTERNAL, "weight '%s' lost its tensor", v->name);
        if (t->dtype == VI_DT_FP32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
            m->weight_f32[i] = t->data;
            continue;
        }
        if (t->dtype != VI_DT_FP32 && t->dtype != VI_DT_FP16 && t->dtype != VI_DT_BF16)
            return vi_fail(err, VI_ERR_INTERNAL, "weight '%s' has dtype %s", v->name,
                           vi_dtype_safetensors_name(t->dtype));
        float *f = NULL;
        vi_status rc = widen(t, v->row_numel, &f, err);
        if (rc)
            return rc;
        m->weight_owned[i] = f;
        m->weight_f32[i] = f;
    }
    return VI_OK;
}

/* Takes ownership of manifest (malloc'ed, NUL-terminated) and of *st, also on
 * failure; error messages are left without a file prefix. */
static vi_status model_init(vi_model *m, char *manifest, size_t len, vi_safetensors *st,
                            vi_error *err)
{
    m->manifest = manifest;
    m->manifest_len = len;
    m->st = *st;
    memset(st, 0, sizeof *st);
    vi_status rc = vi_manifest_parse(m->manifest, m->manifest_len, &m->st, &m->graph, err);
    if (!rc)
        rc = bind_weights(m, err);
    if (rc)
        vi_model_free(m);
    return rc;
}

vi_status vi_model_load(vi_model *m, const char *dir, vi_error *err)
{
    char mpath[sizeof m->dir + 32], wpath[sizeof m->dir + 32];
    memset(m, 0, sizeof *m);
    if (!dir || !*dir)
        return vi_fail(err, VI_ERR_INVALID, "model directory path is empty");
    size_t dlen = strlen(dir);
    if (dlen >= sizeof m->dir)
        return vi_fail(err, VI_ERR_LIMIT, "model directory path is %zu bytes (at most %zu)", dlen,
                       sizeof m->dir - 1);
    snprintf(mpath, sizeof mpath, "%s/%s", dir, VI_MODEL_MANIFEST);
    snprintf(wpath, sizeof wpath, "%s/%s", dir, VI_MODEL_WEIGHTS);
    char *manifest = NULL;
    size_t len = 0;
    vi_safetensors st;
    vi_status rc = read_manifest(mpath, &manifest, &len, err);
    if (rc)
        return rc;
    if ((rc = vi_safetensors_open(&st, wpath, err))) {
        free(manifest);
        return rc;
    }
    if ((rc = model_init(m, manifest, len, &st, err))) /* owns manifest and st from here */
        vi_error_prefix(err, "%s", mpath);
    else
        memcpy(m->dir, dir, dlen + 1);
    return rc;
}

vi_status vi_model_load_parts(vi_model *m, const char *manifest, size_t manifest_len,
                              vi_safetensors *st, vi_error *err)
{
    memset(m, 0, sizeof *m);
    char *copy = NULL;
    vi_status rc = VI_OK;
    if (!manifest)
        rc = vi_fail(err, VI_ERR_INVALID, "manifest text is NULL");
    else if (manifest_len > VI_MAX_MANIFEST_BYTES)
        rc = vi_fail(err, VI_ERR_LIMIT, "%s: %zu bytes exceeds the limit of %u bytes",
                     VI_MODEL_MANIFEST, manifest_len, VI_MAX_MANIFEST_BYTES);
    else if (!(copy = malloc(manifest_len + 1)))
        rc = vi_fail(err, VI_ERR_NOMEM, "out of memory for a %zu-byte manifest", manifest_len);
    if (rc) {
        vi_safetensors_close(st);
        return rc;
    }
    memcpy(copy, manifest, manifest_len);
    copy[manifest_len] = '\0';
    if ((rc = model_init(m, copy, manifest_len, st, err)))
        vi_error_prefix(err, "%s", VI_MODEL_MANIFEST);
    return rc;
}

void vi_model_free(vi_model *m)
{
    if (!m)
        return;
    if (m->weight_owned)
        for (int i = 0; i < m->graph.n_values; i++)
            free(m->weight_owned[i]);
    free(m->weight_owned);
    free((void *)m->weight_f32);
    vi_graph_free(&m->graph);
    vi_safetensors_close(&m->st);
    free(m->manifest);
    memset(m, 0, sizeof *m);
}
