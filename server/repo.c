/* server/repo.c — the model repository: scanning the directory, loading
 * instances (model, backend, engine, batcher), reference counting, reload
 * and unload, the index, readiness, metrics and verification engines. */
#include "repo.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hex.h"

_Static_assert(VI_GRAPH_MAX_PREFERRED <= VI_BATCH_MAX_PREFERRED,
               "model.json may list more preferred batch sizes than the batcher takes");

/* One model of the repository, loaded or not. Never freed before the repository. */
typedef struct entry {
    char name[VI_NAME_MAX];
    char version[VI_NAME_MAX]; /* of the last instance loaded; "" if none */
    vi_repo_model *inst;       /* holds one reference; NULL when unavailable */
    int unloaded;              /* unavailable on purpose (not counted by readiness) */
    char reason[VI_ERROR_MSG_MAX];
    vi_model_metrics metrics; /* the batcher of every instance reports here */
} entry;

struct vi_repo {
    vi_repo_config cfg;
    char dir[4096];
    pthread_mutex_t lock;  /* entries, refs, in_flight, stopping */
    pthread_mutex_t admin; /* serialises load and unload */
    entry **entries;       /* sorted by name */
    int n, cap;
    int in_flight;
    int stopping;
};

static void repo_log(const vi_repo *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void repo_log(const vi_repo *r, const char *fmt, ...)
{
    if (!r->cfg.log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->cfg.log(r->cfg.log_arg, line);
}

/* Model names are directory names that are safe in URLs and paths:
 * 1..127 bytes of [A-Za-z0-9_.-], not starting with '.' or '-'. */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= VI_NAME_MAX || s[0] == '.' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* Whether DIR/name/model.json is a regular file. */
static int has_manifest(const vi_repo *r, const char *name)
{
    char path[4096 + 2 * VI_NAME_MAX];
    struct stat sb;
    int n = snprintf(path, sizeof path, "%s/%s/%s", r->dir, name, VI_MODEL_MANIFEST);
    return n > 0 && (size_t)n < sizeof path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* ==== Instances ==== */

static void batch_config(const vi_graph *g, const vi_repo_batch_overrides *o, vi_batch_config *c)
{
    memset(c, 0, sizeof *c);
    const vi_dynamic_batching *d = &g->dynamic_batching;
    c->max_batch_size = o->max_batch_size >= 0 ? o->max_batch_size : g->max_batch_size;
    c->max_queue_delay_us =
        o->max_queue_delay_us >= 0 ? o->max_queue_delay_us : d->max_queue_delay_us;
    c->max_queue_size = o->max_queue_size >= 0 ? o->max_queue_size : d->max_queue_size;
    const int *pref = o->n_preferred >= 0 ? o->preferred : d->preferred;
    int n = o->n_preferred >= 0 ? o->n_preferred : d->n_preferred;
    for (int i = 0; i < n && c->n_preferred < VI_BATCH_MAX_PREFERRED; i++)
        if (c->max_batch_size <= 0 || pref[i] <= c->max_batch_size)
            c->preferred[c->n_preferred++] = pref[i];
}

static void instance_free(vi_repo_model *m)
{
    if (!m)
        return;
    vi_batcher_destroy(m->batcher); /* drains: nothing is queued once no request holds m */
    if (m->verify_ready)
        vi_engine_free(&m->verify_engine);
    if (m->verify_backend)
        m->verify_backend->destroy(m->verify_backend);
    vi_engine_free(&m->fast_engine);
    if (m->fast_backend)
        m->fast_backend->destroy(m->fast_backend);
    vi_engine_free(&m->engine);
    if (m->backend)
        m->backend->destroy(m->backend);
    vi_model_free(&m->model);
    pthread_mutex_destroy(&m->verify_lock);
    free(m);
}

/* Gives the instance a fast-mode engine when the configuration makes a
 * fast worker (a view of the exact engine's weights on its own stream). If
 * that fails, the model still loads and fast-mode requests run on the
 * exact engine (their receipts name it); the log says why. */
static void fast_worker(vi_repo *r, vi_repo_model *m, const char *name)
{
    if (!r->cfg.make_worker)
        return;
    vi_error err = {{0}};
    vi_status st = r->cfg.make_worker(r->cfg.backend_arg, m->backend, 1, &m->fast_backend, &err);
    if (st == VI_OK && m->fast_backend)
        st = vi_engine_init_view(&m->fast_engine, &m->engine, m->fast_backend, &err);
    if (st == VI_OK && m->fast_backend) {
        vi_infer_model_set_fast(&m->im, &m->fast_engine);
        return;
    }
    if (m->fast_backend)
        m->fast_backend->destroy(m->fast_backend);
    m->fast_backend = NULL;
    if (st != VI_OK)
        repo_log(r, "model '%s': fast mode runs on the exact engine: %s", name, err.msg);
}

/* Loads DIR/name into a new instance with one reference (the repository's). */
static vi_status instance_create(vi_repo *r, const char *name, vi_model_metrics *metrics,
                                 vi_repo_model **out, vi_error *err)
{
    *out = NULL;
    vi_repo_model *m = calloc(1, sizeof *m);
    if (!m)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&m->verify_lock, NULL);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->metrics = metrics;
    m->refs = 1;
    char path[4096 + VI_NAME_MAX];
    int pl = snprintf(path, sizeof path, "%s/%s", r->dir, name);
    vi_status st = pl > 0 && (size_t)pl < sizeof path
                       ? vi_model_load(&m->model, path, err)
                       : vi_fail(err, VI_ERR_LIMIT, "the model path is too long");
    if (st == VI_OK && strcmp(m->model.graph.name, name) != 0)
        st = vi_fail(err, VI_ERR_INVALID,
                     "model.json names the model '%s' but its directory is '%s' (the directory "
                     "name is the model's name in URLs and receipts; make them equal)",
                     m->model.graph.name, name);
    if (st == VI_OK) {
        m->backend = r->cfg.make_backend(r->cfg.backend_arg, err);
        if (!m->backend)
            st = VI_ERR_INTERNAL;
    }
    if (st == VI_OK)
        st = vi_engine_init(&m->engine, &m->model, m->backend, err);
    if (st == VI_OK)
        st = vi_infer_model_init(&m->im, &m->model, &m->engine, err);
    if (st == VI_OK)
        fast_worker(r, m, name);
    if (st == VI_OK) {
        batch_config(&m->model.graph, &r->cfg.batch, &m->batch);
        /* one signature per execution, made by the batcher */
        m->batcher = vi_batcher_create(&m->im, &m->batch, r->cfg.key, metrics, err);
        if (!m->batcher)
            st = VI_ERR_INTERNAL;
    }
    if (st != VI_OK) {
        instance_free(m);
        return st;
    }
    vi_hex_encode(m->im.model_digest, VI_SHA256_LEN, m->digest_hex);
    *out = m;
    return VI_OK;
}

/* Drops one reference; frees the instance when it was the last. */
static void instance_unref(vi_repo *r, vi_repo_model *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&r->lock);
    int last = --m->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        instance_free(m);
}

/* ==== Entries ==== */

/* Index of name, or -(insertion point) - 1. Caller holds the lock. */
static int find_entry(const vi_repo *r, const char *name)
{
    int lo = 0, hi = r->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(r->entries[mid]->name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

/* The entry for name, created if missing. Caller holds the lock. */
static entry *get_entry(vi_repo *r, const char *name, vi_error *err)
{
    int i = find_entry(r, name);
    if (i >= 0)
        return r->entries[i];
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        entry **ne = realloc(r->entries, (size_t)cap * sizeof *ne);
        if (!ne) {
            vi_fail(err, VI_ERR_NOMEM, "out of memory");
            return NULL;
        }
        r->entries = ne;
        r->cap = cap;
    }
    entry *e = calloc(1, sizeof *e);
    if (!e) {
        vi_fail(err, VI_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->reason, sizeof e->reason, "not loaded yet");
    vi_metrics_init(&e->metrics);
    int at = -i - 1;
    memmove(r->entries + at + 1, r->entries + at, (size_t)(r->n - at) * sizeof *r->entries);
    r->entries[at] = e;
    r->n++;
    return e;
}

/* ==== Load and unload ==== */

vi_status vi_repo_load(vi_repo *r, const char *name, vi_error *err)
{
    if (!valid_name(name))
        return vi_fail(err, VI_ERR_INVALID,
                       "'%.*s' is not a model name (1 to %d bytes of letters, digits, '_', '.' "
                       "and '-', not starting with '.' or '-')",
                       VI_NAME_MAX, name, VI_NAME_MAX - 1);
    pthread_mutex_lock(&r->admin);
    vi_status st = VI_OK;
    entry *e = NULL;
    if (!has_manifest(r, name)) {
        st = vi_fail(err, VI_ERR_NOT_FOUND, "there is no model directory '%s' with a %s in %s",
                     name, VI_MODEL_MANIFEST, r->dir);
    } else {
        pthread_mutex_lock(&r->lock);
        if (r->stopping)
            st = vi_fail(err, VI_ERR_UNSUPPORTED, "the server is shutting down");
        else if (!(e = get_entry(r, name, err)))
            st = VI_ERR_NOMEM;
        pthread_mutex_unlock(&r->lock);
    }
    vi_repo_model *m = NULL;
    if (st == VI_OK && (st = instance_create(r, name, &e->metrics, &m, err)) != VI_OK) {
        vi_error_prefix(err, "model '%s'", name);
        pthread_mutex_lock(&r->lock);
        if (!e->inst) {
            snprintf(e->reason, sizeof e->reason, "%s", err->msg);
            e->unloaded = 0;
        }
        pthread_mutex_unlock(&r->lock);
        repo_log(r, "model '%s' failed to load: %s", name, err->msg);
        if (st == VI_ERR_NOT_FOUND) /* a file of the model is missing: the model exists */
            st = VI_ERR_INVALID;
    }
    vi_repo_model *old = NULL;
    if (st == VI_OK) {
        pthread_mutex_lock(&r->lock);
        old = e->inst;
        e->inst = m;
        e->unloaded = 0;
        e->reason[0] = '\0';
        snprintf(e->version, sizeof e->version, "%s", m->model.graph.version);
        pthread_mutex_unlock(&r->lock);
        repo_log(r, "%s model '%s' version %s digest %s (%s/%s, max_batch_size %d)",
                 old ? "reloaded" : "loaded", name, m->model.graph.version, m->digest_hex, r->dir,
                 name, m->model.graph.max_batch_size);
    }
    pthread_mutex_unlock(&r->admin);
    instance_unref(r, old); /* freed now, or when its last request is answered */
    return st;
}

vi_status vi_repo_unload(vi_repo *r, const char *name, vi_error *err)
{
    pthread_mutex_lock(&r->admin);
    pthread_mutex_lock(&r->lock);
    int i = find_entry(r, name);
    vi_repo_model *old = NULL;
    vi_status st = VI_OK;
    if (i < 0) {
        st = vi_fail(err, VI_ERR_NOT_FOUND, "unknown model '%s'", name);
    } else {
        entry *e = r->entries[i];
        old = e->inst;
        e->inst = NULL;
        e->unloaded = 1;
        snprintf(e->reason, sizeof e->reason, "unloaded");
    }
    pthread_mutex_unlock(&r->lock);
    if (old)
        repo_log(r, "unloaded model '%s'", name);
    pthread_mutex_unlock(&r->admin);
    instance_unref(r, old);
    return st;
}

/* ==== Lifetime ==== */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the subdirectories holding a model.json, sorted (malloc'ed array of strdup's). */
static vi_status scan(vi_repo *r, char ***names, int *n, vi_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(r->dir);
    if (!d)
        return vi_fail(err, VI_ERR_IO, "cannot read the model repository '%s': %s", r->dir,
                       strerror(errno));
    vi_status st = VI_OK;
    int cap = 0;
    struct dirent *de;
    while (st == VI_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !has_manifest(r, de->d_name))
            continue;
        if (!valid_name(de->d_name)) {
            repo_log(r,
                     "skipping '%s/%s': a model directory name may only use letters, digits, "
                     "'_', '.' and '-'",
                     r->dir, de->d_name);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(*names, (size_t)cap * sizeof *nn);
            if (!nn) {
                st = vi_fail(err, VI_ERR_NOMEM, "out of memory");
                break;
            }
            *names = nn;
        }
        if (!((*names)[*n] = strdup(de->d_name)))
            st = vi_fail(err, VI_ERR_NOMEM, "out of memory");
        else
            (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*names, (size_t)*n, sizeof **names, cmp_str);
    return st;
}

vi_status vi_repo_open(vi_repo **out, const vi_repo_config *cfg, vi_error *err)
{
    *out = NULL;
    if (!cfg->dir || !cfg->make_backend)
        return vi_fail(err, VI_ERR_INVALID, "the repository needs a directory and a backend");
    if (strlen(cfg->dir) >= sizeof((vi_repo *)0)->dir)
        return vi_fail(err, VI_ERR_LIMIT, "the repository path is too long");
    vi_repo *r = calloc(1, sizeof *r);
    if (!r)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    r->cfg = *cfg;
    snprintf(r->dir, sizeof r->dir, "%s", cfg->dir);
    r->cfg.dir = r->dir;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->admin, NULL);
    char **names = NULL;
    int n = 0;
    vi_status st = scan(r, &names, &n, err);
    for (int i = 0; st == VI_OK && i < n; i++) {
        vi_error le = {{0}};
        vi_status ls = vi_repo_load(r, names[i], &le);
        if (ls == VI_ERR_NOMEM)
            st = vi_fail(err, ls, "%s", le.msg);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (st == VI_OK && n == 0)
        repo_log(r, "the model repository %s has no model (no subdirectory with a %s)", r->dir,
                 VI_MODEL_MANIFEST);
    if (st != VI_OK) {
        vi_repo_stop(r);
        vi_repo_close(r);
        return st;
    }
    *out = r;
    return VI_OK;
}

void vi_repo_stop(vi_repo *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->admin);
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    vi_repo_model **drop = calloc((size_t)r->n + 1, sizeof *drop);
    int nd = 0;
    for (int i = 0; drop && i < r->n; i++) { /* without memory, vi_repo_close frees them */
        entry *e = r->entries[i];
        if (e->inst)
            drop[nd++] = e->inst;
        e->inst = NULL;
        snprintf(e->reason, sizeof e->reason, "the server is shutting down");
    }
    pthread_mutex_unlock(&r->lock);
    pthread_mutex_unlock(&r->admin);
    for (int i = 0; i < nd; i++)
        instance_unref(r, drop[i]);
    free(drop);
}

int vi_repo_in_flight(vi_repo *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->in_flight;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void vi_repo_close(vi_repo *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        instance_unref(r, r->entries[i]->inst); /* only if vi_repo_stop was not called */
        free(r->entries[i]);
    }
    free(r->entries);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->admin);
    free(r);
}

/* ==== Requests ==== */

vi_status vi_repo_acquire(vi_repo *r, const char *name, vi_repo_model **out, vi_error *err)
{
    *out = NULL;
    vi_status st = VI_OK;
    pthread_mutex_lock(&r->lock);
    int i = r->stopping ? -1 : find_entry(r, name);
    if (r->stopping) {
        st = vi_fail(err, VI_ERR_UNSUPPORTED, "the server is shutting down");
    } else if (i < 0) {
        st = vi_fail(err, VI_ERR_NOT_FOUND, "unknown model '%s'", name);
    } else if (!r->entries[i]->inst) {
        st = vi_fail(err, VI_ERR_UNSUPPORTED, "model '%s' is not available: %s", name,
                     r->entries[i]->reason);
    } else {
        *out = r->entries[i]->inst;
        (*out)->refs++;
        r->in_flight++;
    }
    pthread_mutex_unlock(&r->lock);
    return st;
}

void vi_repo_release(vi_repo *r, vi_repo_model *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&r->lock);
    r->in_flight--;
    int last = --m->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        instance_free(m);
}

vi_status vi_repo_index(vi_repo *r, vi_repo_info **out, int *n, vi_error *err)
{
    pthread_mutex_lock(&r->lock);
    vi_repo_info *info = calloc((size_t)r->n + 1, sizeof *info);
    if (info) {
        for (int i = 0; i < r->n; i++) {
            const entry *e = r->entries[i];
            snprintf(info[i].name, sizeof info[i].name, "%s", e->name);
            snprintf(info[i].version, sizeof info[i].version, "%s",
                     e->inst ? e->inst->model.graph.version : e->version);
            info[i].state = e->inst ? VI_REPO_READY : VI_REPO_UNAVAILABLE;
            snprintf(info[i].reason, sizeof info[i].reason, "%s", e->inst ? "" : e->reason);
        }
        *n = r->n;
    }
    pthread_mutex_unlock(&r->lock);
    *out = info;
    return info ? VI_OK : vi_fail(err, VI_ERR_NOMEM, "out of memory");
}

int vi_repo_ready(vi_repo *r, char *reason, size_t reason_size)
{
    int ok = 1;
    pthread_mutex_lock(&r->lock);
    if (r->stopping) {
        ok = 0;
        snprintf(reason, reason_size, "the server is shutting down");
    }
    for (int i = 0; ok && i < r->n; i++) {
        const entry *e = r->entries[i];
        if (!e->inst && !e->unloaded) {
            ok = 0;
            snprintf(reason, reason_size, "model '%s' is not ready: %s", e->name, e->reason);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

char *vi_repo_metrics(vi_repo *r)
{
    pthread_mutex_lock(&r->lock);
    const vi_model_metrics **ms = calloc((size_t)r->n + 1, sizeof *ms);
    const char **names = calloc((size_t)r->n + 1, sizeof *names);
    const char **versions = calloc((size_t)r->n + 1, sizeof *versions);
    char *text = NULL;
    if (ms && names && versions) {
        int n = 0;
        for (int i = 0; i < r->n; i++) {
            const entry *e = r->entries[i];
            if (!e->version[0])
                continue; /* never loaded: no series */
            ms[n] = &e->metrics;
            names[n] = e->name;
            versions[n] = e->version;
            n++;
        }
        text = vi_metrics_render(ms, names, versions, n);
    }
    pthread_mutex_unlock(&r->lock);
    free(ms);
    free(names);
    free(versions);
    return text;
}

vi_status vi_repo_verify(vi_repo *r, vi_repo_model *m, const vi_kserve_request *req,
                         const vi_kserve_response *resp, const uint8_t *trusted_key,
                         int allow_unsigned, vi_verify_report *rep, vi_error *err)
{
    vi_status st = VI_OK;
    pthread_mutex_lock(&m->verify_lock);
    if (!m->verify_ready) {
        /* a worker sharing the weights when there is one, else a backend of its own */
        if (!m->verify_backend && r->cfg.make_worker)
            st = r->cfg.make_worker(r->cfg.backend_arg, m->backend, 0, &m->verify_backend, err);
        if (st == VI_OK && !m->verify_backend &&
            !(m->verify_backend = r->cfg.make_backend(r->cfg.backend_arg, err)))
            st = VI_ERR_INTERNAL;
        int shared = st == VI_OK && m->verify_backend->weights_domain &&
                     m->verify_backend->weights_domain == m->backend->weights_domain;
        if (st == VI_OK)
            st = shared ? vi_engine_init_view(&m->verify_engine, &m->engine, m->verify_backend, err)
                        : vi_engine_init(&m->verify_engine, &m->model, m->verify_backend, err);
        if (st == VI_OK) {
            m->verify_ready = 1;
            st = vi_infer_model_init(&m->verify_im, &m->model, &m->verify_engine, err);
            if (st != VI_OK) {
                vi_engine_free(&m->verify_engine);
                m->verify_ready = 0;
            }
        }
    }
    if (st == VI_OK)
        st = vi_infer_verify(&m->verify_im, req, resp, trusted_key, allow_unsigned, rep, err);
    pthread_mutex_unlock(&m->verify_lock);
    return st;
}
