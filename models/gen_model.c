/* models/gen_model.c — the generator's front: options and their parsing,
 * rendering a plan as model.json and example-request.json, and writing the
 * three files atomically into the output directory. */
#include "gen_model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safetensors.h"
#include "gen_plan.h"

#define GEN_MAX_DIM (1 << 20) /* largest width / batch size accepted in options */

static const char *PRESET_NAMES[VI_GEN_PRESET_COUNT] = {"mlp", "all-ops"};
static const char *ACT_NAMES[VI_GEN_ACT_COUNT] = {"relu", "gelu", "gelu_tanh", "tanh", "sigmoid"};

/* ==== Options ==== */

void vi_gen_options_default(vi_gen_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->preset = VI_GEN_MLP;
    opt->seed = 1;
    opt->max_batch_size = 64;
    opt->weight_dtype = VI_DT_FP32;
    opt->n_inputs = 16;
    opt->hidden[0] = 64;
    opt->hidden[1] = 64;
    opt->n_hidden = 2;
    opt->n_classes = 4;
    opt->activation = VI_GEN_ACT_RELU;
    opt->weight_out_in = 1;
}

vi_status vi_gen_parse_preset(const char *s, vi_gen_preset *out, vi_error *err)
{
    for (int i = 0; s && i < VI_GEN_PRESET_COUNT; i++)
        if (strcmp(s, PRESET_NAMES[i]) == 0) {
            *out = (vi_gen_preset)i;
            return VI_OK;
        }
    return vi_fail(err, VI_ERR_INVALID, "unknown preset '%s' (choose mlp or all-ops)", s ? s : "");
}

vi_status vi_gen_parse_activation(const char *s, vi_gen_act *out, vi_error *err)
{
    for (int i = 0; s && i < VI_GEN_ACT_COUNT; i++)
        if (strcmp(s, ACT_NAMES[i]) == 0) {
            *out = (vi_gen_act)i;
            return VI_OK;
        }
    return vi_fail(err, VI_ERR_INVALID,
                   "unknown activation '%s' (choose relu, gelu, gelu_tanh, tanh or sigmoid)",
                   s ? s : "");
}

vi_status vi_gen_parse_hidden(const char *s, vi_gen_options *opt, vi_error *err)
{
    int n = 0, widths[VI_GEN_MAX_HIDDEN];
    if (!s)
        s = "";
    if (*s && strcmp(s, "none") != 0) {
        const char *c = s;
        for (;;) {
            long v = 0;
            int digits = 0;
            while (*c >= '0' && *c <= '9' && v <= GEN_MAX_DIM) {
                v = v * 10 + (*c++ - '0');
                digits++;
            }
            if (!digits || v < 1 || v > GEN_MAX_DIM || (*c && *c != ','))
                return vi_fail(err, VI_ERR_INVALID,
                               "hidden widths must be a comma-separated list of integers in "
                               "1..%d (got '%s')",
                               GEN_MAX_DIM, s);
            if (n == VI_GEN_MAX_HIDDEN)
                return vi_fail(err, VI_ERR_INVALID, "at most %d hidden layers (got '%s')",
                               VI_GEN_MAX_HIDDEN, s);
            widths[n++] = (int)v;
            if (!*c)
                break;
            c++;
        }
    }
    memcpy(opt->hidden, widths, (size_t)n * sizeof *widths);
    opt->n_hidden = n;
    return VI_OK;
}

vi_status vi_gen_parse_weight_dtype(const char *s, vi_dtype *out, vi_error *err)
{
    if (s && (strcmp(s, "F32") == 0 || strcmp(s, "FP32") == 0))
        *out = VI_DT_FP32;
    else if (s && (strcmp(s, "F16") == 0 || strcmp(s, "FP16") == 0))
        *out = VI_DT_FP16;
    else if (s && strcmp(s, "BF16") == 0)
        *out = VI_DT_BF16;
    else
        return vi_fail(err, VI_ERR_INVALID, "unknown weight dtype '%s' (choose F32, F16 or BF16)",
                       s ? s : "");
    return VI_OK;
}

vi_status vi_gen_parse_layout(const char *s, int *out_in, vi_error *err)
{
    if (s && strcmp(s, "out_in") == 0)
        *out_in = 1;
    else if (s && strcmp(s, "in_out") == 0)
        *out_in = 0;
    else
        return vi_fail(err, VI_ERR_INVALID, "unknown weight layout '%s' (choose out_in or in_out)",
                       s ? s : "");
    return VI_OK;
}

static vi_status check_dim(const char *what, long v, vi_error *err)
{
    if (v < 1 || v > GEN_MAX_DIM)
        return vi_fail(err, VI_ERR_INVALID, "%s must be in 1..%d (got %ld)", what, GEN_MAX_DIM, v);
    return VI_OK;
}

static vi_status check_options(const vi_gen_options *o, const char *name, vi_error *err)
{
    if ((int)o->preset < 0 || o->preset >= VI_GEN_PRESET_COUNT)
        return vi_fail(err, VI_ERR_INVALID, "unknown preset %d", (int)o->preset);
    size_t n = strnlen(name, VI_NAME_MAX);
    if (n == 0 || n >= VI_NAME_MAX)
        return vi_fail(err, VI_ERR_INVALID, "the model name must have 1..%d characters",
                       VI_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return vi_fail(err, VI_ERR_INVALID,
                           "model name '%s' may only use letters, digits, '.', '_' and '-' "
                           "(starting with a letter or digit)",
                           name);
    }
    if (o->weight_dtype != VI_DT_FP32 && o->weight_dtype != VI_DT_FP16 &&
        o->weight_dtype != VI_DT_BF16)
        return vi_fail(err, VI_ERR_INVALID, "weight dtype must be F32, F16 or BF16");
    vi_status st = check_dim("max_batch_size", o->max_batch_size, err);
    if (st != VI_OK || o->preset != VI_GEN_MLP)
        return st;
    if ((st = check_dim("n_inputs", o->n_inputs, err)) != VI_OK ||
        (st = check_dim("n_classes", o->n_classes, err)) != VI_OK)
        return st;
    if (o->n_hidden < 0 || o->n_hidden > VI_GEN_MAX_HIDDEN)
        return vi_fail(err, VI_ERR_INVALID, "n_hidden must be in 0..%d (got %d)", VI_GEN_MAX_HIDDEN,
                       o->n_hidden);
    for (int i = 0; i < o->n_hidden; i++)
        if ((st = check_dim("a hidden width", o->hidden[i], err)) != VI_OK)
            return st;
    if ((int)o->activation < 0 || o->activation >= VI_GEN_ACT_COUNT)
        return vi_fail(err, VI_ERR_INVALID, "unknown activation %d", (int)o->activation);
    if (o->weight_out_in != 0 && o->weight_out_in != 1)
        return vi_fail(err, VI_ERR_INVALID, "weight_out_in must be 0 or 1");
    return VI_OK;
}

/* ==== Rendering ==== */

static void render_io(vi_gen_text *t, const char *key, const vi_gen_io *io, int n, int last)
{
    vi_gen_printf(t, "  \"%s\": [\n", key);
    for (int i = 0; i < n; i++) {
        vi_gen_printf(t, "    {\"name\": \"%s\", \"datatype\": \"%s\", \"shape\": [", io[i].name,
                      vi_dtype_kserve_name(io[i].dtype));
        for (int d = 0; d < io[i].ndim; d++)
            vi_gen_printf(t, "%s%lld", d ? ", " : "", (long long)io[i].shape[d]);
        vi_gen_printf(t, "]}%s\n", i + 1 < n ? "," : "");
    }
    vi_gen_printf(t, "  ]%s\n", last ? "" : ",");
}

static void render_manifest(vi_gen_text *t, const vi_gen_plan *p, const char *name)
{
    vi_gen_printf(t,
                  "{\n  \"format\": \"verinfer-model\",\n  \"format_version\": 1,\n"
                  "  \"name\": \"%s\",\n  \"version\": \"1\",\n  \"max_batch_size\": %d,\n",
                  name, p->opt->max_batch_size);
    render_io(t, "inputs", p->inputs, p->n_inputs, 0);
    render_io(t, "outputs", p->outputs, p->n_outputs, 0);
    vi_gen_printf(t, "  \"graph\": [\n%s\n  ]\n}\n", p->graph.buf ? p->graph.buf : "");
}

/* Nested data for dims [d, ndim) of an example input, values from stream st:
 * FP32 inputs get k/64 for k in [-64, 64] (exact in binary32 and in "%.9g"),
 * integer inputs ids in [0, id_limit). */
static void render_values(vi_gen_text *t, const vi_gen_io *io, const int64_t *shape, int d,
                          uint64_t *st)
{
    vi_gen_printf(t, "[");
    for (int64_t i = 0; i < shape[d]; i++) {
        if (i)
            vi_gen_printf(t, ", ");
        if (d + 1 < io->ndim) {
            render_values(t, io, shape, d + 1, st);
        } else if (io->dtype == VI_DT_FP32) {
            int k = (int)(vi_gen_next(st) % 129u) - 64;
            vi_gen_printf(t, "%.9g", (double)k / 64.0);
        } else {
            vi_gen_printf(t, "%llu",
                          (unsigned long long)(vi_gen_next(st) % (uint64_t)io->id_limit));
        }
    }
    vi_gen_printf(t, "]");
}

static void render_example(vi_gen_text *t, const vi_gen_plan *p)
{
    vi_gen_printf(t, "{\n  \"id\": \"example\",\n  \"inputs\": [\n");
    for (int i = 0; i < p->n_inputs; i++) {
        const vi_gen_io *io = &p->inputs[i];
        int64_t shape[VI_MAX_DIMS];
        memcpy(shape, io->shape, sizeof shape);
        shape[0] = VI_GEN_EXAMPLE_ROWS;
        char stream[VI_NAME_MAX + 16];
        snprintf(stream, sizeof stream, "example:%s", io->name);
        uint64_t st = vi_gen_stream(p->opt->seed, stream);
        vi_gen_printf(t, "    {\"name\": \"%s\", \"datatype\": \"%s\", \"shape\": [", io->name,
                      vi_dtype_kserve_name(io->dtype));
        for (int d = 0; d < io->ndim; d++)
            vi_gen_printf(t, "%s%lld", d ? ", " : "", (long long)shape[d]);
        vi_gen_printf(t, "],\n     \"data\": ");
        render_values(t, io, shape, 0, &st);
        vi_gen_printf(t, "}%s\n", i + 1 < p->n_inputs ? "," : "");
    }
    vi_gen_printf(t, "  ]\n}\n");
}

/* ==== Files ==== */

static vi_status mkdir_p(const char *dir, vi_error *err)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return vi_fail(err, VI_ERR_INVALID, "output directory path is empty or too long");
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return vi_fail(err, VI_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
        path[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return vi_fail(err, VI_ERR_IO, "%s is not a directory", dir);
    return VI_OK;
}

/* Writes path.tmp, syncs it and renames it over path. */
static vi_status write_atomic(const char *path, const char *data, size_t len, vi_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vi_fail(err, VI_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        return vi_fail(err, VI_ERR_IO, "cannot write %s: %s", path, strerror(saved));
    }
    return VI_OK;
}

static vi_status write_weights(const vi_gen_plan *p, const char *path, vi_error *err)
{
    vi_st_write w[VI_GEN_MAX_WEIGHTS];
    uint8_t *data[VI_GEN_MAX_WEIGHTS] = {0};
    vi_status st = VI_OK;
    for (int i = 0; i < p->n_weights && st == VI_OK; i++) {
        size_t nbytes;
        data[i] = vi_gen_weight_data(&p->weights[i], p->opt->seed, p->opt->weight_dtype, &nbytes);
        if (!data[i])
            st = vi_fail(err, VI_ERR_NOMEM, "out of memory for weight %s", p->weights[i].name);
        w[i] = (vi_st_write){p->weights[i].name, p->opt->weight_dtype, p->weights[i].ndim,
                             p->weights[i].shape, data[i]};
    }
    if (st == VI_OK)
        st = vi_safetensors_write(path, w, p->n_weights, err);
    for (int i = 0; i < p->n_weights; i++)
        free(data[i]);
    return st;
}

vi_status vi_gen_model(const vi_gen_options *opt, const char *outdir, vi_error *err)
{
    static const char *FILES[3] = {"model.safetensors", "example-request.json", "model.json"};
    const char *name = opt->name[0] ? opt->name
                       : ((int)opt->preset >= 0 && opt->preset < VI_GEN_PRESET_COUNT)
                           ? PRESET_NAMES[opt->preset]
                           : "";
    vi_status st = check_options(opt, name, err);
    if (st != VI_OK)
        return st;

    vi_gen_plan *p = calloc(1, sizeof *p);
    vi_gen_text manifest = {0}, example = {0};
    if (!p)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    p->opt = opt;
    if (opt->preset == VI_GEN_MLP)
        vi_gen_plan_mlp(p);
    else
        vi_gen_plan_all_ops(p);
    if (p->overflow) {
        st = vi_fail(err, VI_ERR_LIMIT, "the model would have more than %lld weight elements",
                     (long long)VI_GEN_MAX_WEIGHT_ELEMS);
        goto done;
    }
    render_manifest(&manifest, p, name);
    render_example(&example, p);
    if (p->graph.failed || manifest.failed || example.failed) {
        st = vi_fail(err, VI_ERR_NOMEM, "out of memory rendering the model files");
        goto done;
    }

    char paths[3][4200];
    if (strlen(outdir) >= 4096) {
        st = vi_fail(err, VI_ERR_INVALID, "output directory path is too long");
        goto done;
    }
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", outdir, FILES[i]);
        struct stat sb;
        if (!opt->force && stat(paths[i], &sb) == 0) {
            st = vi_fail(err, VI_ERR_IO,
                         "refusing to overwrite %s: it already exists (use --force to replace it)",
                         paths[i]);
            goto done;
        }
    }
    /* model.json goes last: a directory with a manifest has all its files */
    if ((st = mkdir_p(outdir, err)) != VI_OK || (st = write_weights(p, paths[0], err)) != VI_OK ||
        (st = write_atomic(paths[1], example.buf, example.len, err)) != VI_OK)
        goto done;
    st = write_atomic(paths[2], manifest.buf, manifest.len, err);
done:
    vi_gen_text_free(&manifest);
    vi_gen_text_free(&example);
    if (p)
        vi_gen_text_free(&p->graph);
    free(p);
    return st;
}
