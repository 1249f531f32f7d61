/* core/gguf_write.c — the GGUF v3 writer: metadata in the order it is set,
 * tensors in the order they are added, each tensor's data at a multiple of
 * the alignment with zero padding after it (the layout llama.cpp and the
 * gguf Python package write). Every input is checked against the rules the
 * reader enforces, so whatever it writes the reader opens. */
#include "file_out.h"
#include "gguf_priv.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *key;    /* NUL-terminated copy */
    uint8_t *enc; /* the encoded entry: key, value type, value */
    size_t enc_len;
} wkv;

typedef struct {
    char *name;
    vi_ggml_type type;
    int n_dims;
    int64_t ne[VI_GGUF_MAX_DIMS];
    uint8_t *data;
    uint64_t nbytes;
} wtensor;

struct vi_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    uint32_t alignment;
};

/* ==== Byte buffer ==== */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} bbuf;

static void put(bbuf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_u32(bbuf *b, uint32_t v)
{
    put(b, &v, 4);
}

static void put_u64(bbuf *b, uint64_t v)
{
    put(b, &v, 8);
}

static void put_str(bbuf *b, const char *s, size_t n)
{
    put_u64(b, n);
    put(b, s, n);
}

/* ==== Writer object ==== */

vi_status vi_gguf_writer_new(vi_gguf_writer **out, vi_error *err)
{
    if (!out)
        return vi_fail(err, VI_ERR_INVALID, "vi_gguf_writer_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    (*out)->alignment = VI_GGUF_DEFAULT_ALIGNMENT;
    return VI_OK;
}

void vi_gguf_writer_free(vi_gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].enc);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

/* A key or tensor name as the reader accepts it: non-empty, at most
 * VI_GGUF_MAX_NAME bytes, valid UTF-8. */
static vi_status check_name(const char *s, const char *what, vi_error *err)
{
    if (!s)
        return vi_fail(err, VI_ERR_INVALID, "%s is NULL", what);
    size_t n = strlen(s);
    if (n == 0)
        return vi_fail(err, VI_ERR_INVALID, "%s is empty", what);
    if (n > VI_GGUF_MAX_NAME)
        return vi_fail(err, VI_ERR_LIMIT, "%s '%.40s...' is %zu bytes (at most %u)", what, s, n,
                       VI_GGUF_MAX_NAME);
    size_t bad = vi_utf8_invalid_at(s, n);
    if (bad != n)
        return vi_fail(err, VI_ERR_INVALID, "%s is not valid UTF-8 (byte %zu)", what, bad);
    return VI_OK;
}

static vi_status check_key(const vi_gguf_writer *w, const char *key, vi_error *err)
{
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "GGUF writer is NULL");
    vi_status rc = check_name(key, "metadata key", err);
    if (rc)
        return rc;
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0)
            return vi_fail(err, VI_ERR_INVALID, "metadata key '%s' is already set", key);
    if (w->n_kv >= (size_t)VI_GGUF_MAX_KV)
        return vi_fail(err, VI_ERR_LIMIT, "cannot set '%s': already %lld metadata keys (the limit)",
                       key, (long long)VI_GGUF_MAX_KV);
    return VI_OK;
}

/* Appends the entry (key, type, then the value bytes in val); frees val's bytes. */
static vi_status add_entry(vi_gguf_writer *w, const char *key, vi_gguf_vtype type, bbuf *val,
                           vi_error *err)
{
    bbuf e = {0};
    size_t klen = strlen(key);
    char *kcopy = NULL;
    put_str(&e, key, klen);
    put_u32(&e, (uint32_t)type);
    put(&e, val->p, val->len);
    if (val->oom || e.oom)
        goto nomem;
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *p = realloc(w->kv, cap * sizeof *p);
        if (!p)
            goto nomem;
        w->kv = p;
        w->cap_kv = cap;
    }
    if (!(kcopy = malloc(klen + 1)))
        goto nomem;
    memcpy(kcopy, key, klen + 1);
    w->kv[w->n_kv++] = (wkv){kcopy, e.p, e.len};
    free(val->p);
    return VI_OK;
nomem:
    free(val->p);
    free(e.p);
    return vi_fail(err, VI_ERR_NOMEM, "out of memory setting '%s'", key);
}

/* general.alignment must be a U32 power of two; *align gets it (0 for
 * another key). */
static vi_status check_alignment_key(const char *key, vi_gguf_vtype type, const void *value,
                                     uint32_t *align, vi_error *err)
{
    *align = 0;
    if (strcmp(key, "general.alignment") != 0)
        return VI_OK;
    if (type != VI_GGUF_U32)
        return vi_fail(err, VI_ERR_INVALID, "general.alignment must be U32, not %s",
                       vi_gguf_vtype_name(type));
    uint32_t a;
    memcpy(&a, value, 4);
    if (a == 0 || (a & (a - 1)) != 0)
        return vi_fail(err, VI_ERR_INVALID, "general.alignment is %u: not a power of two", a);
    *align = a;
    return VI_OK;
}

/* ==== Metadata setters ==== */

vi_status vi_gguf_writer_set_scalar(vi_gguf_writer *w, const char *key, vi_gguf_vtype type,
                                    const void *value, vi_error *err)
{
    vi_status rc = check_key(w, key, err);
    if (rc)
        return rc;
    size_t sz = vi_gguf_vtype_size((uint32_t)type);
    if (sz == 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "key '%s': value type %s (%d) is not a fixed-size scalar type", key,
                       vi_gguf_vtype_name((uint32_t)type), (int)type);
    if (!value)
        return vi_fail(err, VI_ERR_INVALID, "key '%s': value is NULL", key);
    if (type == VI_GGUF_BOOL && *(const uint8_t *)value > 1)
        return vi_fail(err, VI_ERR_INVALID, "key '%s': bool value %u is neither 0 nor 1", key,
                       *(const uint8_t *)value);
    uint32_t align;
    if ((rc = check_alignment_key(key, type, value, &align, err)))
        return rc;
    bbuf v = {0};
    put(&v, value, sz);
    if ((rc = add_entry(w, key, type, &v, err)))
        return rc;
    if (align)
        w->alignment = align;
    return VI_OK;
}

vi_status vi_gguf_writer_set_u32(vi_gguf_writer *w, const char *key, uint32_t v, vi_error *err)
{
    return vi_gguf_writer_set_scalar(w, key, VI_GGUF_U32, &v, err);
}

vi_status vi_gguf_writer_set_i32(vi_gguf_writer *w, const char *key, int32_t v, vi_error *err)
{
    return vi_gguf_writer_set_scalar(w, key, VI_GGUF_I32, &v, err);
}

vi_status vi_gguf_writer_set_f32(vi_gguf_writer *w, const char *key, float v, vi_error *err)
{
    return vi_gguf_writer_set_scalar(w, key, VI_GGUF_F32, &v, err);
}

vi_status vi_gguf_writer_set_bool(vi_gguf_writer *w, const char *key, int v, vi_error *err)
{
    uint8_t b = v != 0;
    return vi_gguf_writer_set_scalar(w, key, VI_GGUF_BOOL, &b, err);
}

vi_status vi_gguf_writer_set_str(vi_gguf_writer *w, const char *key, const char *v, vi_error *err)
{
    vi_status rc = check_key(w, key, err);
    if (rc)
        return rc;
    if (!v)
        return vi_fail(err, VI_ERR_INVALID, "key '%s': string value is NULL", key);
    size_t n = strlen(v);
    if (n > VI_GGUF_MAX_STRING)
        return vi_fail(err, VI_ERR_LIMIT, "key '%s': string value is %zu bytes (at most %llu)", key,
                       n, (unsigned long long)VI_GGUF_MAX_STRING);
    if (strcmp(key, "general.alignment") == 0)
        return vi_fail(err, VI_ERR_INVALID, "general.alignment must be U32, not STRING");
    bbuf b = {0};
    put_str(&b, v, n);
    return add_entry(w, key, VI_GGUF_STRING, &b, err);
}

vi_status vi_gguf_writer_set_array(vi_gguf_writer *w, const char *key, vi_gguf_vtype elem_type,
                                   const void *vals, uint64_t n, vi_error *err)
{
    vi_status rc = check_key(w, key, err);
    if (rc)
        return rc;
    if (strcmp(key, "general.alignment") == 0)
        return vi_fail(err, VI_ERR_INVALID, "general.alignment must be U32, not ARRAY");
    if (elem_type == VI_GGUF_ARRAY)
        return vi_fail(err, VI_ERR_UNSUPPORTED, "key '%s': arrays of arrays are not supported",
                       key);
    if ((uint32_t)elem_type >= VI_GGUF_N_VTYPES)
        return vi_fail(err, VI_ERR_INVALID, "key '%s': invalid array element type %d", key,
                       (int)elem_type);
    if (n > 0 && !vals)
        return vi_fail(err, VI_ERR_INVALID, "key '%s': %llu elements but no values", key,
                       (unsigned long long)n);
    size_t es = vi_gguf_vtype_size((uint32_t)elem_type);
    if (n > SIZE_MAX / (es ? es : 8))
        return vi_fail(err, VI_ERR_LIMIT, "key '%s': %llu elements do not fit in memory", key,
                       (unsigned long long)n);
    bbuf b = {0};
    put_u32(&b, (uint32_t)elem_type);
    put_u64(&b, n);
    if (elem_type == VI_GGUF_STRING) {
        const char *const *s = vals;
        for (uint64_t i = 0; i < n; i++) {
            size_t len = s[i] ? strlen(s[i]) : 0;
            if (!s[i] || len > VI_GGUF_MAX_STRING) {
                free(b.p);
                return vi_fail(err, s[i] ? VI_ERR_LIMIT : VI_ERR_INVALID,
                               "key '%s': string element %llu is %s", key, (unsigned long long)i,
                               s[i] ? "longer than 1 GiB" : "NULL");
            }
            put_str(&b, s[i], len);
        }
    } else {
        if (elem_type == VI_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (((const uint8_t *)vals)[i] > 1) {
                    free(b.p);
                    return vi_fail(err, VI_ERR_INVALID,
                                   "key '%s': bool element %llu is %u (neither 0 nor 1)", key,
                                   (unsigned long long)i, ((const uint8_t *)vals)[i]);
                }
        put(&b, vals, (size_t)n * es);
    }
    return add_entry(w, key, VI_GGUF_ARRAY, &b, err);
}

vi_status vi_gguf_writer_set_str_array(vi_gguf_writer *w, const char *key, const char *const *vals,
                                       uint64_t n, vi_error *err)
{
    return vi_gguf_writer_set_array(w, key, VI_GGUF_STRING, vals, n, err);
}

vi_status vi_gguf_writer_set_i32_array(vi_gguf_writer *w, const char *key, const int32_t *vals,
                                       uint64_t n, vi_error *err)
{
    return vi_gguf_writer_set_array(w, key, VI_GGUF_I32, vals, n, err);
}

vi_status vi_gguf_writer_set_f32_array(vi_gguf_writer *w, const char *key, const float *vals,
                                       uint64_t n, vi_error *err)
{
    return vi_gguf_writer_set_array(w, key, VI_GGUF_F32, vals, n, err);
}

/* ==== Tensors ==== */

vi_status vi_gguf_writer_add_tensor(vi_gguf_writer *w, const char *name, vi_ggml_type type,
                                    int n_dims, const int64_t *ne, const void *data,
                                    uint64_t nbytes, vi_error *err)
{
    if (!w)
        return vi_fail(err, VI_ERR_INVALID, "GGUF writer is NULL");
    vi_status rc = check_name(name, "tensor name", err);
    if (rc)
        return rc;
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s' is already added", name);
    if (w->n_t >= (size_t)VI_GGUF_MAX_TENSORS)
        return vi_fail(err, VI_ERR_LIMIT,
                       "cannot add tensor '%s': already %lld tensors (the limit)", name,
                       (long long)VI_GGUF_MAX_TENSORS);
    if (!ne)
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': ne is NULL", name);
    uint64_t need = 0;
    if ((rc = vi_gguf_tensor_bytes((uint32_t)type, n_dims, ne, &need, err))) {
        vi_error_prefix(err, "tensor '%s'", name);
        return rc;
    }
    if (nbytes != need)
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': %llu bytes given, its shape needs %llu",
                       name, (unsigned long long)nbytes, (unsigned long long)need);
    if (!data)
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': data is NULL", name);
    if (need > SIZE_MAX)
        return vi_fail(err, VI_ERR_LIMIT, "tensor '%s': %llu bytes do not fit in memory", name,
                       (unsigned long long)need);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        wtensor *p = realloc(w->t, cap * sizeof *p);
        if (!p)
            return vi_fail(err, VI_ERR_NOMEM, "out of memory adding tensor '%s'", name);
        w->t = p;
        w->cap_t = cap;
    }
    size_t nlen = strlen(name);
    wtensor t = {.name = malloc(nlen + 1),
                 .type = type,
                 .n_dims = n_dims,
                 .data = malloc((size_t)need),
                 .nbytes = need};
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory copying tensor '%s' (%llu bytes)", name,
                       (unsigned long long)need);
    }
    memcpy(t.name, name, nlen + 1);
    memcpy(t.data, data, (size_t)need);
    for (int d = 0; d < VI_GGUF_MAX_DIMS; d++)
        t.ne[d] = d < n_dims ? ne[d] : 1;
    w->t[w->n_t++] = t;
    return VI_OK;
}

/* ==== Output ==== */

static uint64_t padding(uint64_t n, uint32_t align)
{
    return (align - n % align) % align;
}

/* Everything before the data section, padded to the alignment; *data_len
 * gets the size of the data section (every tensor padded). */
static vi_status build_header(const vi_gguf_writer *w, bbuf *h, uint64_t *data_len, vi_error *err)
{
    static const uint8_t zeros[64];
    put(h, "GGUF", 4);
    put_u32(h, 3);
    put_u64(h, w->n_t);
    put_u64(h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++)
        put(h, w->kv[i].enc, w->kv[i].enc_len);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_str(h, t->name, strlen(t->name));
        put_u32(h, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++)
            put_u64(h, (uint64_t)t->ne[d]);
        put_u32(h, (uint32_t)t->type);
        put_u64(h, off);
        uint64_t pad = padding(t->nbytes, w->alignment);
        if (t->nbytes > (uint64_t)INT64_MAX - off || pad > (uint64_t)INT64_MAX - off - t->nbytes)
            return vi_fail(err, VI_ERR_LIMIT, "data section exceeds 2^63 bytes at tensor '%s'",
                           t->name);
        off += t->nbytes + pad;
    }
    for (uint64_t pad = padding(h->len, w->alignment); pad > 0;) {
        size_t n = pad > sizeof zeros ? sizeof zeros : (size_t)pad;
        put(h, zeros, n);
        pad -= n;
    }
    if (h->oom)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory building the GGUF header");
    *data_len = off;
    return VI_OK;
}

vi_status vi_gguf_writer_to_memory(vi_gguf_writer *w, uint8_t **buf, size_t *size, vi_error *err)
{
    if (!w || !buf || !size)
        return vi_fail(err, VI_ERR_INVALID, "vi_gguf_writer_to_memory: NULL argument");
    *buf = NULL;
    *size = 0;
    bbuf h = {0};
    uint64_t dlen = 0;
    vi_status rc = build_header(w, &h, &dlen, err);
    if (rc)
        goto out;
    if (dlen > SIZE_MAX - h.len) {
        rc = vi_fail(err, VI_ERR_LIMIT, "a %llu-byte file does not fit in memory",
                     (unsigned long long)dlen);
        goto out;
    }
    size_t total = h.len + (size_t)dlen;
    uint8_t *b = calloc(1, total); /* total > 0: the header alone is 24 bytes */
    if (!b) {
        rc = vi_fail(err, VI_ERR_NOMEM, "out of memory for a %llu-byte file",
                     (unsigned long long)(h.len + dlen));
        goto out;
    }
    memcpy(b, h.p, h.len);
    size_t at = h.len;
    for (size_t i = 0; i < w->n_t; i++) {
        memcpy(b + at, w->t[i].data, (size_t)w->t[i].nbytes);
        at += (size_t)(w->t[i].nbytes + padding(w->t[i].nbytes, w->alignment));
    }
    *buf = b;
    *size = at;
out:
    free(h.p);
    return rc;
}

vi_status vi_gguf_writer_write_file(vi_gguf_writer *w, const char *path, vi_error *err)
{
    if (!w || !path)
        return vi_fail(err, VI_ERR_INVALID, "vi_gguf_writer_write_file: NULL argument");
    bbuf h = {0};
    uint64_t dlen = 0;
    vi_file_out f;
    vi_status rc = build_header(w, &h, &dlen, err);
    if (rc == VI_OK)
        rc = vi_file_out_open(&f, path, err);
    if (rc != VI_OK) {
        free(h.p);
        return rc;
    }
    rc = vi_file_out_write(&f, h.p, h.len, err);
    for (size_t i = 0; rc == VI_OK && i < w->n_t; i++) {
        rc = vi_file_out_write(&f, w->t[i].data, w->t[i].nbytes, err);
        if (rc == VI_OK)
            rc = vi_file_out_zeros(&f, padding(w->t[i].nbytes, w->alignment), err);
    }
    if (rc == VI_OK)
        rc = vi_file_out_commit(&f, err);
    else
        vi_file_out_abort(&f);
    free(h.p);
    return rc;
}
