/* core/safetensors.c — the .safetensors reader (mmap'ed file or caller buffer;
 * every field is validated before a pointer into the data is handed out) and
 * the writer (compact header in the caller's order, space padding to an
 * 8-byte aligned data section, atomic replace of the target file). */
#include "file_out.h"
#include "safetensors.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian and is read in place: a little-endian host is required"
#endif

#define ST_PREFIX 8 /* the little-endian u64 header length */

static const char *errno_str(int e, char *buf, size_t size)
{
    return strerror_r(e, buf, size); /* GNU variant: returns the message */
}

/* ==== Validation helpers ==== */

/* safetensors dtypes that exist in the format but that verinfer does not read. */
static int is_known_unsupported_dtype(const char *s)
{
    static const char *const NAMES[] = {"U16",     "U32", "U64",     "F8_E4M3", "F8_E5M2",
                                        "F8_E8M0", "F4",  "F6_E2M3", "F6_E3M2", "C64"};
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (strcmp(s, NAMES[i]) == 0)
            return 1;
    return 0;
}

/* Byte size of numel elements of dt; fails when it does not fit in 63 bits. */
static vi_status byte_size(int64_t numel, vi_dtype dt, uint64_t *bytes, vi_error *err)
{
    uint64_t size = vi_dtype_size(dt);
    if (numel < 0 || (uint64_t)numel > (uint64_t)INT64_MAX / size)
        return vi_fail(err, VI_ERR_LIMIT, "byte size overflows 63 bits");
    *bytes = (uint64_t)numel * size;
    return VI_OK;
}

/* ==== Reader ==== */

static vi_status parse_metadata(json_t *meta, vi_error *err)
{
    if (!json_is_object(meta))
        return vi_fail(err, VI_ERR_INVALID,
                       "header: \"__metadata__\" must be an object of strings");
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v)
    {
        if (!json_is_string(v))
            return vi_fail(err, VI_ERR_INVALID,
                           "header: \"__metadata__\" value of '%s' is not a string", key);
    }
    return VI_OK;
}

static vi_status parse_dtype(const char *name, json_t *j, vi_dtype *dt, vi_error *err)
{
    if (!json_is_string(j))
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': \"dtype\" must be a string", name);
    const char *s = json_string_value(j);
    *dt = vi_dtype_from_safetensors(s);
    if (*dt != VI_DT_INVALID)
        return VI_OK;
    return vi_fail(err, is_known_unsupported_dtype(s) ? VI_ERR_UNSUPPORTED : VI_ERR_INVALID,
                   "tensor '%s': %s dtype '%s' (supported: F32, F16, BF16, F64, I64, I32, I16, "
                   "I8, U8, BOOL)",
                   name, is_known_unsupported_dtype(s) ? "unsupported" : "unknown", s);
}

static vi_status parse_shape(const char *name, json_t *j, vi_st_tensor *t, vi_error *err)
{
    if (!json_is_array(j))
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': \"shape\" must be an array", name);
    size_t nd = json_array_size(j);
    if (nd > VI_MAX_DIMS)
        return vi_fail(err, VI_ERR_LIMIT, "tensor '%s': shape has %zu dimensions (at most %d)",
                       name, nd, VI_MAX_DIMS);
    t->ndim = (int)nd;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(j, i);
        if (!json_is_integer(d))
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s': shape[%zu] is not an integer", name,
                           i);
        json_int_t v = json_integer_value(d);
        if (v < 0)
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s': shape[%zu] is negative (%lld)", name,
                           i, (long long)v);
        t->shape[i] = (int64_t)v;
    }
    return VI_OK;
}

static vi_status parse_offsets(const char *name, json_t *j, vi_st_tensor *t, vi_error *err)
{
    if (!json_is_array(j) || json_array_size(j) != 2)
        return vi_fail(err, VI_ERR_INVALID,
                       "tensor '%s': \"data_offsets\" must be an array [begin, end]", name);
    json_int_t v[2];
    for (size_t i = 0; i < 2; i++) {
        json_t *d = json_array_get(j, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return vi_fail(err, VI_ERR_INVALID,
                           "tensor '%s': data_offsets[%zu] is not a non-negative integer", name, i);
        v[i] = json_integer_value(d);
    }
    if (v[0] > v[1])
        return vi_fail(err, VI_ERR_INVALID,
                       "tensor '%s': data_offsets [%lld, %lld] end before they begin", name,
                       (long long)v[0], (long long)v[1]);
    t->begin = (uint64_t)v[0];
    t->end = (uint64_t)v[1];
    return VI_OK;
}

/* Validates one header entry into t (name, dtype, shape, offsets; not data). */
static vi_status parse_entry(const char *name, json_t *j, uint64_t data_len, vi_st_tensor *t,
                             vi_error *err)
{
    size_t nlen = strlen(name);
    if (nlen == 0)
        return vi_fail(err, VI_ERR_INVALID, "header: a tensor has an empty name");
    if (nlen >= VI_NAME_MAX)
        return vi_fail(err, VI_ERR_LIMIT, "tensor '%.40s...': name is %zu bytes (at most %d)", name,
                       nlen, VI_NAME_MAX - 1);
    memcpy(t->name, name, nlen + 1);
    if (!json_is_object(j))
        return vi_fail(err, VI_ERR_INVALID, "tensor '%s': entry is not an object", name);
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
            strcmp(key, "data_offsets") != 0)
            return vi_fail(err, VI_ERR_INVALID,
                           "tensor '%s': unknown key '%s' (allowed: dtype, shape, data_offsets)",
                           name, key);
    }
    static const char *const REQUIRED[] = {"dtype", "shape", "data_offsets"};
    for (int i = 0; i < 3; i++)
        if (!json_object_get(j, REQUIRED[i]))
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s': missing \"%s\"", name, REQUIRED[i]);
    vi_status rc;
    if ((rc = parse_dtype(name, json_object_get(j, "dtype"), &t->dtype, err)) ||
        (rc = parse_shape(name, json_object_get(j, "shape"), t, err)) ||
        (rc = parse_offsets(name, json_object_get(j, "data_offsets"), t, err)))
        return rc;

    int64_t numel = 0;
    uint64_t need = 0;
    if ((rc = vi_shape_numel(t->ndim, t->shape, &numel, err)) ||
        (rc = byte_size(numel, t->dtype, &need, err))) {
        vi_error_prefix(err, "tensor '%s'", name);
        return rc;
    }
    char sh[160];
    vi_shape_str(t->ndim, t->shape, sh, sizeof sh);
    if (t->end - t->begin != need)
        return vi_fail(err, VI_ERR_INVALID,
                       "tensor '%s': data_offsets [%llu, %llu] hold %llu bytes but %s %s needs "
                       "%llu",
                       name, (unsigned long long)t->begin, (unsigned long long)t->end,
                       (unsigned long long)(t->end - t->begin), vi_dtype_safetensors_name(t->dtype),
                       sh, (unsigned long long)need);
    if (t->end > data_len)
        return vi_fail(err, VI_ERR_INVALID,
                       "tensor '%s': data_offsets [%llu, %llu] extend past the end of the data "
                       "section (%llu bytes)",
                       name, (unsigned long long)t->begin, (unsigned long long)t->end,
                       (unsigned long long)data_len);
    return VI_OK;
}

static int cmp_by_offset(const void *a, const void *b)
{
    const vi_st_tensor *x = *(const vi_st_tensor *const *)a, *y = *(const vi_st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_by_name(const void *a, const void *b)
{
    return strcmp(((const vi_st_tensor *)a)->name, ((const vi_st_tensor *)b)->name);
}

/* The safetensors layout rule: tensors, ordered by offset, tile the data
 * section exactly: no overlap, no hole, nothing after the last one. */
static vi_status check_tiling(vi_st_tensor *t, int n, uint64_t data_len, vi_error *err)
{
    vi_status rc = VI_OK;
    const vi_st_tensor **order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory sorting %d tensors", n);
    for (int i = 0; i < n; i++)
        order[i] = &t[i];
    qsort(order, (size_t)n, sizeof *order, cmp_by_offset);
    uint64_t cursor = 0;
    for (int i = 0; i < n; i++) {
        const vi_st_tensor *x = order[i];
        if (x->begin < cursor) {
            const vi_st_tensor *p = order[i - 1];
            rc = vi_fail(err, VI_ERR_INVALID,
                         "tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap in the data "
                         "section",
                         p->name, (unsigned long long)p->begin, (unsigned long long)p->end, x->name,
                         (unsigned long long)x->begin, (unsigned long long)x->end);
            goto out;
        }
        if (x->begin > cursor) {
            rc = vi_fail(err, VI_ERR_INVALID,
                         "data section has a hole: bytes [%llu, %llu) before tensor '%s' belong "
                         "to no tensor (the format allows no gaps)",
                         (unsigned long long)cursor, (unsigned long long)x->begin, x->name);
            goto out;
        }
        cursor = x->end;
    }
    if (cursor != data_len)
        rc = vi_fail(err, VI_ERR_INVALID,
                     "data section has %llu trailing bytes: bytes [%llu, %llu) belong to no "
                     "tensor",
                     (unsigned long long)(data_len - cursor), (unsigned long long)cursor,
                     (unsigned long long)data_len);
out:
    free(order);
    return rc;
}

/* Validates the image and fills st->tensors / n_tensors (sorted by name). */
static vi_status parse_image(vi_safetensors *st, const unsigned char *buf, size_t len,
                             vi_error *err)
{
    if (len < ST_PREFIX)
        return vi_fail(err, VI_ERR_INVALID,
                       "file is %zu bytes, shorter than the 8-byte header length", len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | buf[i];
    if (hlen == 0)
        return vi_fail(err, VI_ERR_INVALID, "header length is 0");
    if (hlen > VI_ST_MAX_HEADER)
        return vi_fail(err, VI_ERR_LIMIT, "header length %llu exceeds the limit of %u bytes",
                       (unsigned long long)hlen, VI_ST_MAX_HEADER);
    if (hlen > len - ST_PREFIX)
        return vi_fail(err, VI_ERR_INVALID,
                       "header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)hlen, len);
    const unsigned char *hdr = buf + ST_PREFIX;
    if (hdr[0] != '{')
        return vi_fail(err, VI_ERR_INVALID, "header does not start with '{' (byte 0x%02x)", hdr[0]);
    size_t bad = vi_utf8_invalid_at(hdr, (size_t)hlen);
    if (bad != hlen)
        return vi_fail(err, VI_ERR_INVALID, "header is not valid UTF-8 (byte %zu of the header)",
                       bad);

    json_error_t jerr;
    json_t *root = json_loadb((const char *)hdr, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vi_fail(
            err, VI_ERR_INVALID, "header is not valid JSON: %s (line %d, column %d)%s", jerr.text,
            jerr.line, jerr.column,
            json_error_code(&jerr) == json_error_duplicate_key ? " (duplicate tensor name)" : "");
    vi_status rc = VI_OK;
    if (!json_is_object(root)) {
        rc = vi_fail(err, VI_ERR_INVALID, "header is not a JSON object");
        goto out;
    }
    size_t count = json_object_size(root);
    json_t *meta = json_object_get(root, "__metadata__");
    if (meta) {
        count--;
        if ((rc = parse_metadata(meta, err)))
            goto out;
    }
    if (count > VI_ST_MAX_TENSORS) {
        rc = vi_fail(err, VI_ERR_LIMIT, "header lists %zu tensors (at most %d)", count,
                     VI_ST_MAX_TENSORS);
        goto out;
    }
    st->tensors = calloc(count ? count : 1, sizeof *st->tensors);
    if (!st->tensors) {
        rc = vi_fail(err, VI_ERR_NOMEM, "out of memory for %zu tensor entries", count);
        goto out;
    }
    uint64_t data_len = (uint64_t)len - ST_PREFIX - hlen;
    const unsigned char *data = hdr + hlen;
    const char *name;
    json_t *entry;
    int n = 0;
    json_object_foreach(root, name, entry)
    {
        if (strcmp(name, "__metadata__") == 0)
            continue;
        vi_st_tensor *t = &st->tensors[n];
        if ((rc = parse_entry(name, entry, data_len, t, err)))
            goto out;
        t->data = data + t->begin;
        n++;
    }
    st->n_tensors = n;
    if ((rc = check_tiling(st->tensors, n, data_len, err)))
        goto out;
    qsort(st->tensors, (size_t)n, sizeof *st->tensors, cmp_by_name);
out:
    json_decref(root);
    return rc;
}

vi_status vi_safetensors_parse(vi_safetensors *st, const void *buf, size_t len, vi_error *err)
{
    memset(st, 0, sizeof *st);
    if (!buf && len)
        return vi_fail(err, VI_ERR_INVALID, "safetensors image is NULL");
    vi_status rc = parse_image(st, buf, len, err);
    if (rc) {
        free(st->tensors);
        memset(st, 0, sizeof *st);
        return rc;
    }
    st->map = (void *)buf;
    st->map_size = len;
    st->mapped = 0;
    return VI_OK;
}

vi_status vi_safetensors_open(vi_safetensors *st, const char *path, vi_error *err)
{
    char eb[128];
    vi_status rc = VI_OK;
    void *map = MAP_FAILED;
    size_t size = 0;
    memset(st, 0, sizeof *st);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return vi_fail(err, e == ENOENT ? VI_ERR_NOT_FOUND : VI_ERR_IO, "%s: cannot open: %s", path,
                       errno_str(e, eb, sizeof eb));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = vi_fail(err, VI_ERR_IO, "%s: cannot stat: %s", path, errno_str(errno, eb, sizeof eb));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = vi_fail(err, VI_ERR_INVALID, "%s: not a regular file", path);
        goto out;
    }
    if (sb.st_size < ST_PREFIX) { /* mmap of 0 bytes fails: answer as parse would */
        rc = vi_fail(err, VI_ERR_INVALID,
                     "%s: file is %lld bytes, shorter than the 8-byte header length", path,
                     (long long)sb.st_size);
        goto out;
    }
    size = (size_t)sb.st_size;
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = vi_fail(err, VI_ERR_IO, "%s: cannot mmap %zu bytes: %s", path, size,
                     errno_str(errno, eb, sizeof eb));
        goto out;
    }
    if ((rc = vi_safetensors_parse(st, map, size, err))) {
        vi_error_prefix(err, "%s", path);
        goto out;
    }
    st->mapped = 1;
out:
    close(fd);
    if (rc && map != MAP_FAILED)
        munmap(map, size);
    return rc;
}

void vi_safetensors_close(vi_safetensors *st)
{
    if (!st)
        return;
    if (st->mapped && st->map)
        munmap(st->map, st->map_size);
    free(st->tensors);
    memset(st, 0, sizeof *st);
}

const vi_st_tensor *vi_safetensors_find(const vi_safetensors *st, const char *name)
{
    if (!st || !name)
        return NULL;
    int lo = 0, hi = st->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->tensors[mid].name);
        if (c == 0)
            return &st->tensors[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ==== Writer ==== */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_u64(sbuf *b, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    sb_put(b, tmp, (size_t)n);
}

/* Appends s as a JSON string: quotes, backslashes and control bytes escaped,
 * everything else (already valid UTF-8) verbatim. */
static void sb_json_string(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks the writer's input; returns the per-tensor byte sizes in bytes[]. */
static vi_status check_writes(const vi_st_write *t, int n, uint64_t *bytes, vi_error *err)
{
    if (n < 0 || n > VI_ST_MAX_TENSORS)
        return vi_fail(err, VI_ERR_LIMIT, "cannot write %d tensors (0 to %d)", n,
                       VI_ST_MAX_TENSORS);
    if (n > 0 && !t)
        return vi_fail(err, VI_ERR_INVALID, "tensor list is NULL");
    for (int i = 0; i < n; i++) {
        const char *name = t[i].name;
        if (!name || !*name)
            return vi_fail(err, VI_ERR_INVALID, "tensor %d has no name", i);
        size_t nlen = strlen(name);
        if (nlen >= VI_NAME_MAX)
            return vi_fail(err, VI_ERR_LIMIT, "tensor %d: name is %zu bytes (at most %d)", i, nlen,
                           VI_NAME_MAX - 1);
        if (vi_utf8_invalid_at(name, nlen) != nlen)
            return vi_fail(err, VI_ERR_INVALID, "tensor %d: name is not valid UTF-8", i);
        if (strcmp(name, "__metadata__") == 0)
            return vi_fail(err, VI_ERR_INVALID, "tensor %d: the name \"__metadata__\" is reserved",
                           i);
        if (!vi_dtype_safetensors_name(t[i].dtype))
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s': invalid dtype %d", name,
                           (int)t[i].dtype);
        if (t[i].ndim < 0 || t[i].ndim > VI_MAX_DIMS || (t[i].ndim > 0 && !t[i].shape))
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s': invalid shape (%d dimensions)", name,
                           t[i].ndim);
        int64_t numel = 0;
        vi_status rc;
        if ((rc = vi_shape_numel(t[i].ndim, t[i].shape, &numel, err)) ||
            (rc = byte_size(numel, t[i].dtype, &bytes[i], err))) {
            vi_error_prefix(err, "tensor '%s'", name);
            return rc;
        }
        if (bytes[i] > 0 && !t[i].data)
            return vi_fail(err, VI_ERR_INVALID, "tensor '%s': data is NULL", name);
    }
    vi_status rc = VI_OK;
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory checking %d names", n);
    for (int i = 0; i < n; i++)
        names[i] = t[i].name;
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    for (int i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            rc = vi_fail(err, VI_ERR_INVALID, "tensor name '%s' appears twice", names[i]);
            break;
        }
    free(names);
    return rc;
}

/* Byte size of a tensor that check_writes accepted. */
static size_t tensor_bytes(const vi_st_write *t)
{
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++)
        numel *= t->shape[d];
    return (size_t)numel * vi_dtype_size(t->dtype);
}

/* Builds the 8-byte length prefix and the padded header into *out (malloc'ed);
 * *data_len receives the size of the data section. */
static vi_status build_header(const vi_st_write *t, int n, char **out, size_t *out_len,
                              uint64_t *data_len, vi_error *err)
{
    vi_status rc = VI_OK;
    uint64_t *bytes = malloc((size_t)(n > 0 ? n : 1) * sizeof *bytes);
    sbuf b = {0};
    if (!bytes)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    if ((rc = check_writes(t, n, bytes, err)))
        goto out;
    sb_put(&b, "\0\0\0\0\0\0\0\0{", 9);
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        if (bytes[i] > (uint64_t)INT64_MAX - off) {
            rc = vi_fail(err, VI_ERR_LIMIT, "data section exceeds 2^63 bytes at tensor '%s'",
                         t[i].name);
            goto out;
        }
        if (i)
            sb_put(&b, ",", 1);
        sb_json_string(&b, t[i].name);
        sb_str(&b, ":{\"dtype\":\"");
        sb_str(&b, vi_dtype_safetensors_name(t[i].dtype));
        sb_str(&b, "\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) {
            if (d)
                sb_put(&b, ",", 1);
            sb_u64(&b, (uint64_t)t[i].shape[d]);
        }
        sb_str(&b, "],\"data_offsets\":[");
        sb_u64(&b, off);
        sb_put(&b, ",", 1);
        sb_u64(&b, off + bytes[i]);
        sb_str(&b, "]}");
        off += bytes[i];
    }
    sb_put(&b, "}", 1);
    while (!b.oom && b.len % 8 != 0)
        sb_put(&b, " ", 1);
    if (b.oom) {
        rc = vi_fail(err, VI_ERR_NOMEM, "out of memory building the header");
        goto out;
    }
    uint64_t hlen = b.len - ST_PREFIX;
    if (hlen > VI_ST_MAX_HEADER) {
        rc = vi_fail(err, VI_ERR_LIMIT, "header would be %llu bytes (limit %u)",
                     (unsigned long long)hlen, VI_ST_MAX_HEADER);
        goto out;
    }
    for (int i = 0; i < 8; i++)
        b.p[i] = (char)(unsigned char)(hlen >> (8 * i));
    *out = b.p;
    *out_len = b.len;
    *data_len = off;
    b.p = NULL;
out:
    free(b.p);
    free(bytes);
    return rc;
}

vi_status vi_safetensors_serialize(const vi_st_write *tensors, int n, void **out, size_t *out_len,
                                   vi_error *err)
{
    char *hdr = NULL;
    size_t hlen = 0;
    uint64_t dlen = 0;
    *out = NULL;
    *out_len = 0;
    vi_status rc = build_header(tensors, n, &hdr, &hlen, &dlen, err);
    if (rc)
        return rc;
    unsigned char *buf = NULL;
    if (dlen > (uint64_t)SIZE_MAX - hlen) {
        rc = vi_fail(err, VI_ERR_LIMIT, "image of %llu bytes does not fit in memory",
                     (unsigned long long)dlen);
        goto out;
    }
    if (!(buf = malloc(hlen + (size_t)dlen))) {
        rc = vi_fail(err, VI_ERR_NOMEM, "out of memory for a %llu-byte image",
                     (unsigned long long)(hlen + dlen));
        goto out;
    }
    memcpy(buf, hdr, hlen);
    size_t at = hlen;
    for (int i = 0; i < n; i++) {
        size_t nb = tensor_bytes(&tensors[i]);
        if (nb)
            memcpy(buf + at, tensors[i].data, nb);
        at += nb;
    }
    *out = buf;
    *out_len = at;
out:
    free(hdr);
    return rc;
}

vi_status vi_safetensors_write(const char *path, const vi_st_write *tensors, int n, vi_error *err)
{
    char *hdr = NULL;
    size_t hlen = 0;
    uint64_t dlen = 0;
    vi_file_out f;
    vi_status rc = build_header(tensors, n, &hdr, &hlen, &dlen, err);
    if (rc == VI_OK)
        rc = vi_file_out_open(&f, path, err);
    if (rc != VI_OK) {
        free(hdr);
        return rc;
    }
    rc = vi_file_out_write(&f, hdr, hlen, err);
    for (int i = 0; rc == VI_OK && i < n; i++)
        rc = vi_file_out_write(&f, tensors[i].data, tensor_bytes(&tensors[i]), err);
    if (rc == VI_OK)
        rc = vi_file_out_commit(&f, err);
    else
        vi_file_out_abort(&f);
    free(hdr);
    return rc;
}
