/* core/gguf.c — the GGUF reader: maps a file (or borrows a buffer), checks
 * every byte range before it is read, and builds the handle: metadata
 * entries with an index of every string-array element, tensors with their
 * byte extents, and name indexes for O(1) lookups. Also owns the table of
 * ggml tensor block sizes the reader and writer use to size tensors. */
#include "gguf_priv.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t GGUF_MAGIC[4] = {0x47, 0x47, 0x55, 0x46}; /* "GGUF" */
#define NO_ELEM UINT64_MAX
#define SHOW_NAME 60 /* bytes of a key or tensor name quoted in a message */

/* Smallest encodings, used to refuse counts that cannot fit in the file:
 * a kv is a 1-byte key (8 + 1), its type (4) and a 1-byte value; a tensor
 * info a 1-byte name (8 + 1), n_dims (4), one ne (8), type (4), offset (8). */
#define MIN_KV_BYTES 14u
#define MIN_TENSOR_INFO_BYTES 33u

/* ==== ggml tensor types ==== */

typedef struct {
    const char *name;
    uint32_t block; /* elements per block; 0 = not read by verinfer */
    uint32_t bytes; /* bytes per block */
} ggml_type_info;

/* Every type number ggml has assigned (for messages); the eight verinfer
 * reads carry their block geometry. Gaps are numbers ggml retired. */
static const ggml_type_info GGML_TYPES[] = {
    [0] = {"F32", 1, 4},       [1] = {"F16", 1, 2},       [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},    [6] = {"Q5_0", 0, 0},      [7] = {"Q5_1", 0, 0},
    [8] = {"Q8_0", 32, 34},    [9] = {"Q8_1", 0, 0},      [10] = {"Q2_K", 0, 0},
    [11] = {"Q3_K", 0, 0},     [12] = {"Q4_K", 256, 144}, [13] = {"Q5_K", 0, 0},
    [14] = {"Q6_K", 256, 210}, [15] = {"Q8_K", 0, 0},     [16] = {"IQ2_XXS", 0, 0},
    [17] = {"IQ2_XS", 0, 0},   [18] = {"IQ3_XXS", 0, 0},  [19] = {"IQ1_S", 0, 0},
    [20] = {"IQ4_NL", 0, 0},   [21] = {"IQ3_S", 0, 0},    [22] = {"IQ2_S", 0, 0},
    [23] = {"IQ4_XS", 0, 0},   [24] = {"I8", 0, 0},       [25] = {"I16", 0, 0},
    [26] = {"I32", 0, 0},      [27] = {"I64", 0, 0},      [28] = {"F64", 0, 0},
    [29] = {"IQ1_M", 0, 0},    [30] = {"BF16", 1, 2},     [34] = {"TQ1_0", 0, 0},
    [35] = {"TQ2_0", 0, 0},    [39] = {"MXFP4", 0, 0},    [40] = {"NVFP4", 0, 0},
    [41] = {"Q1_0", 0, 0},
};
#define N_GGML_TYPES (sizeof GGML_TYPES / sizeof GGML_TYPES[0])

/* a * b into *r if it stays <= INT64_MAX; 0 on overflow. */
static int mul_i63(uint64_t a, uint64_t b, uint64_t *r)
{
    if (a != 0 && b > (uint64_t)INT64_MAX / a)
        return 0;
    *r = a * b;
    return 1;
}

vi_status vi_gguf_tensor_bytes(uint32_t type, int n_dims, const int64_t *ne, uint64_t *nbytes,
                               vi_error *err)
{
    if (n_dims < 1 || n_dims > VI_GGUF_MAX_DIMS)
        return vi_fail(err, VI_ERR_INVALID, "n_dims is %d (1 to %d allowed)", n_dims,
                       VI_GGUF_MAX_DIMS);
    if (!ne || !nbytes)
        return vi_fail(err, VI_ERR_INVALID, "vi_gguf_tensor_bytes: ne or nbytes is NULL");
    for (int d = 0; d < n_dims; d++)
        if (ne[d] <= 0)
            return vi_fail(err, VI_ERR_INVALID, "ne[%d] is %lld (every dimension must be >= 1)", d,
                           (long long)ne[d]);
    const ggml_type_info *ti = type < N_GGML_TYPES ? &GGML_TYPES[type] : NULL;
    if (!ti || !ti->block)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "ggml type %u%s%s%s is not supported (supported: F32, F16, BF16, Q4_0, "
                       "Q4_1, Q8_0, Q4_K, Q6_K)",
                       type, ti && ti->name ? " (" : " (unknown", ti && ti->name ? ti->name : "",
                       ")");
    uint64_t numel = 1;
    for (int d = 0; d < n_dims; d++)
        if (!mul_i63(numel, (uint64_t)ne[d], &numel))
            return vi_fail(err, VI_ERR_INVALID, "element count overflows 63 bits at ne[%d] = %lld",
                           d, (long long)ne[d]);
    if ((uint64_t)ne[0] % ti->block != 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "ne[0] = %lld is not a multiple of the %s block size %u", (long long)ne[0],
                       ti->name, ti->block);
    uint64_t bytes = (uint64_t)ne[0] / ti->block;
    if (!mul_i63(bytes, ti->bytes, &bytes))
        return vi_fail(err, VI_ERR_INVALID, "byte size overflows 63 bits");
    for (int d = 1; d < n_dims; d++)
        if (!mul_i63(bytes, (uint64_t)ne[d], &bytes))
            return vi_fail(err, VI_ERR_INVALID, "byte size overflows 63 bits at ne[%d] = %lld", d,
                           (long long)ne[d]);
    *nbytes = bytes;
    return VI_OK;
}

/* ==== Value types, UTF-8 ==== */

static const char *const VTYPE_NAMES[VI_GGUF_N_VTYPES] = {
    "U8", "I8", "U16", "I16", "U32", "I32", "F32", "BOOL", "STRING", "ARRAY", "U64", "I64", "F64"};
static const uint8_t VTYPE_SIZES[VI_GGUF_N_VTYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

size_t vi_gguf_vtype_size(uint32_t t)
{
    return t < VI_GGUF_N_VTYPES ? VTYPE_SIZES[t] : 0;
}

const char *vi_gguf_vtype_name(uint32_t t)
{
    return t < VI_GGUF_N_VTYPES ? VTYPE_NAMES[t] : "invalid";
}

/* ==== Name indexes ==== */

static uint64_t hash_bytes(const void *p, uint64_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static const vi_gguf_str *name_at(const void *first, size_t stride, uint64_t i)
{
    return (const vi_gguf_str *)((const char *)first + i * stride);
}

/* Position of name s[0..len) among the n names at first, first + stride, ...
 * or -1. */
static int64_t index_find(const vi_gguf_index *ix, const void *first, size_t stride, const char *s,
                          uint64_t len)
{
    if (!ix->slot)
        return -1;
    uint64_t mask = ix->cap - 1;
    for (uint64_t h = hash_bytes(s, len) & mask;; h = (h + 1) & mask) {
        uint32_t v = ix->slot[h];
        if (v == 0)
            return -1;
        const vi_gguf_str *nm = name_at(first, stride, v - 1);
        if (nm->len == len && memcmp(nm->ptr, s, len) == 0)
            return (int64_t)v - 1;
    }
}

/* Builds the index of n names; on a repeated name returns VI_ERR_INVALID with
 * *dup_first / *dup_second set to the two positions. */
static vi_status index_build(vi_gguf_index *ix, const void *first, size_t stride, int64_t n,
                             int64_t *dup_first, int64_t *dup_second, vi_error *err)
{
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)n)
        cap *= 2;
    ix->slot = calloc(cap, sizeof *ix->slot);
    if (!ix->slot)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for a %llu-slot name index",
                       (unsigned long long)cap);
    ix->cap = cap;
    for (int64_t i = 0; i < n; i++) {
        const vi_gguf_str *nm = name_at(first, stride, (uint64_t)i);
        uint64_t h = hash_bytes(nm->ptr, nm->len) & (cap - 1);
        for (;; h = (h + 1) & (cap - 1)) {
            uint32_t v = ix->slot[h];
            if (v == 0) {
                ix->slot[h] = (uint32_t)i + 1;
                break;
            }
            const vi_gguf_str *o = name_at(first, stride, v - 1);
            if (o->len == nm->len && memcmp(o->ptr, nm->ptr, nm->len) == 0) {
                *dup_first = (int64_t)v - 1;
                *dup_second = i;
                return VI_ERR_INVALID;
            }
        }
    }
    return VI_OK;
}

const vi_gguf_kv *vi_gguf_kv_find(const vi_gguf *g, const char *key)
{
    if (!g || !key || g->n_kv == 0)
        return NULL;
    int64_t i = index_find(&g->kv_index, &g->kv[0].key, sizeof g->kv[0], key, strlen(key));
    return i < 0 ? NULL : &g->kv[i];
}

const vi_gguf_tensor *vi_gguf_find_tensor(const vi_gguf *g, const char *name)
{
    if (!g || !name || g->n_tensors == 0)
        return NULL;
    int64_t i =
        index_find(&g->tensor_index, &g->tensors[0].name, sizeof g->tensors[0], name, strlen(name));
    return i < 0 ? NULL : &g->tensors[i];
}

/* ==== Bounded reading ==== */

typedef struct {
    const uint8_t *b;
    uint64_t size, pos;
    char ctx[128]; /* what is being read, e.g. "kv 3 'general.name'" */
    vi_error *err;
} reader;

/* Fails unless n more bytes lie inside the file; what (and elem, unless
 * NO_ELEM) name the field for the message. */
static vi_status need(reader *r, uint64_t n, const char *what, uint64_t elem)
{
    if (n <= r->size - r->pos)
        return VI_OK;
    char el[40] = "";
    if (elem != NO_ELEM)
        snprintf(el, sizeof el, " of element %llu", (unsigned long long)elem);
    return vi_fail(r->err, VI_ERR_INVALID,
                   "%s: %s%s at byte %llu needs %llu bytes but only %llu remain (file is %llu "
                   "bytes; truncated?)",
                   r->ctx, what, el, (unsigned long long)r->pos, (unsigned long long)n,
                   (unsigned long long)(r->size - r->pos), (unsigned long long)r->size);
}

static vi_status rd_u32(reader *r, const char *what, uint32_t *v)
{
    vi_status rc = need(r, 4, what, NO_ELEM);
    if (rc)
        return rc;
    memcpy(v, r->b + r->pos, 4);
    r->pos += 4;
    return VI_OK;
}

static vi_status rd_u64(reader *r, const char *what, uint64_t *v)
{
    vi_status rc = need(r, 8, what, NO_ELEM);
    if (rc)
        return rc;
    memcpy(v, r->b + r->pos, 8);
    r->pos += 8;
    return VI_OK;
}

/* Reads a string (u64 length + bytes) of at most max bytes. */
static vi_status rd_str(reader *r, const char *what, uint64_t elem, uint64_t max, vi_gguf_str *s)
{
    vi_status rc = need(r, 8, what, elem);
    if (rc)
        return rc;
    uint64_t len;
    memcpy(&len, r->b + r->pos, 8);
    char el[40] = "";
    if (elem != NO_ELEM)
        snprintf(el, sizeof el, " (element %llu)", (unsigned long long)elem);
    if (len > max)
        return vi_fail(
            r->err, VI_ERR_LIMIT, "%s: %s%s at byte %llu is %llu bytes long (at most %llu)", r->ctx,
            what, el, (unsigned long long)r->pos, (unsigned long long)len, (unsigned long long)max);
    r->pos += 8;
    if (len > r->size - r->pos)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "%s: %s%s of %llu bytes at byte %llu runs past the end of the file (%llu "
                       "bytes remain; truncated?)",
                       r->ctx, what, el, (unsigned long long)len, (unsigned long long)r->pos,
                       (unsigned long long)(r->size - r->pos));
    s->ptr = (const char *)r->b + r->pos;
    s->len = len;
    r->pos += len;
    return VI_OK;
}

/* Reads a key or tensor name: non-empty, at most VI_GGUF_MAX_NAME bytes,
 * valid UTF-8 (what names it in messages). Then sets r->ctx to
 * "<kind> <i> '<name>'". */
static vi_status rd_name(reader *r, const char *kind, const char *what, int64_t i, vi_gguf_str *s)
{
    snprintf(r->ctx, sizeof r->ctx, "%s %lld", kind, (long long)i);
    vi_status rc = rd_str(r, what, NO_ELEM, VI_GGUF_MAX_NAME, s);
    if (rc)
        return rc;
    if (s->len == 0)
        return vi_fail(r->err, VI_ERR_INVALID, "%s: empty %s at byte %llu", r->ctx, what,
                       (unsigned long long)(r->pos - 8));
    size_t bad = vi_utf8_invalid_at(s->ptr, (size_t)s->len);
    if (bad != s->len)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "%s: %s is not valid UTF-8 (byte %zu of %llu is 0x%02x)", r->ctx, what, bad,
                       (unsigned long long)s->len, (unsigned)(uint8_t)s->ptr[bad]);
    int shown = s->len > SHOW_NAME ? SHOW_NAME : (int)s->len;
    snprintf(r->ctx, sizeof r->ctx, "%s %lld '%.*s%s'", kind, (long long)i, shown, s->ptr,
             s->len > SHOW_NAME ? "..." : "");
    return VI_OK;
}

/* ==== Metadata ==== */

/* Reserves room for n more string-array offsets. */
static vi_status reserve_str_off(vi_gguf *g, uint64_t n, vi_error *err)
{
    if (n <= g->cap_str_off - g->n_str_off)
        return VI_OK;
    uint64_t cap = g->n_str_off + n;
    uint64_t *p = cap > SIZE_MAX / sizeof *p ? NULL : realloc(g->str_off, cap * sizeof *p);
    if (!p)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory indexing %llu strings",
                       (unsigned long long)cap);
    g->str_off = p;
    g->cap_str_off = cap;
    return VI_OK;
}

static vi_status check_bool(reader *r, uint64_t elem)
{
    uint8_t v = r->b[r->pos];
    if (v <= 1)
        return VI_OK;
    if (elem == NO_ELEM)
        return vi_fail(r->err, VI_ERR_INVALID, "%s: bool value at byte %llu is %u (must be 0 or 1)",
                       r->ctx, (unsigned long long)r->pos, v);
    return vi_fail(r->err, VI_ERR_INVALID,
                   "%s: bool element %llu at byte %llu is %u (must be 0 or 1)", r->ctx,
                   (unsigned long long)elem, (unsigned long long)r->pos, v);
}

static vi_status parse_array(reader *r, vi_gguf *g, vi_gguf_kv *kv)
{
    uint32_t et;
    uint64_t count;
    vi_status rc;
    if ((rc = rd_u32(r, "array element type", &et)))
        return rc;
    if (et == VI_GGUF_ARRAY)
        return vi_fail(r->err, VI_ERR_UNSUPPORTED,
                       "%s: arrays of arrays are not supported (element type ARRAY at byte %llu)",
                       r->ctx, (unsigned long long)(r->pos - 4));
    if (et >= VI_GGUF_N_VTYPES)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "%s: invalid array element type %u at byte %llu (valid: 0 to 12)", r->ctx,
                       et, (unsigned long long)(r->pos - 4));
    if ((rc = rd_u64(r, "array count", &count)))
        return rc;
    uint64_t min = et == VI_GGUF_STRING ? 8 : vi_gguf_vtype_size(et);
    uint64_t left = r->size - r->pos;
    if (count > left / min)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "%s: array count %llu is absurd: %llu %s elements of at least %llu bytes "
                       "each cannot fit in the %llu bytes that remain",
                       r->ctx, (unsigned long long)count, (unsigned long long)count,
                       vi_gguf_vtype_name(et), (unsigned long long)min, (unsigned long long)left);
    kv->elem_type = (vi_gguf_vtype)et;
    kv->count = count;
    kv->val = r->b + r->pos;
    if (et == VI_GGUF_STRING) {
        if ((rc = reserve_str_off(g, count, r->err)))
            return rc;
        kv->str_first = g->n_str_off;
        for (uint64_t i = 0; i < count; i++) {
            vi_gguf_str s;
            g->str_off[g->n_str_off++] = r->pos;
            if ((rc = rd_str(r, "string", i, VI_GGUF_MAX_STRING, &s)))
                return rc;
        }
        return VI_OK;
    }
    if (et == VI_GGUF_BOOL)
        for (uint64_t i = 0; i < count; i++, r->pos++)
            if ((rc = check_bool(r, i)))
                return rc;
    if (et != VI_GGUF_BOOL)
        r->pos += count * min; /* fits: count <= left / min */
    return VI_OK;
}

static vi_status parse_kv(reader *r, vi_gguf *g, int64_t i)
{
    vi_gguf_kv *kv = &g->kv[i];
    uint32_t t;
    vi_status rc;
    if ((rc = rd_name(r, "kv", "key", i, &kv->key)) || (rc = rd_u32(r, "value type", &t)))
        return rc;
    if (t >= VI_GGUF_N_VTYPES)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "%s: invalid value type %u at byte %llu (valid: 0 to 12)", r->ctx, t,
                       (unsigned long long)(r->pos - 4));
    kv->type = (vi_gguf_vtype)t;
    if (t == VI_GGUF_ARRAY)
        return parse_array(r, g, kv);
    kv->val = r->b + r->pos;
    if (t == VI_GGUF_STRING) {
        vi_gguf_str s;
        return rd_str(r, "string value", NO_ELEM, VI_GGUF_MAX_STRING, &s);
    }
    if ((rc = need(r, vi_gguf_vtype_size(t), "value", NO_ELEM)))
        return rc;
    if (t == VI_GGUF_BOOL && (rc = check_bool(r, NO_ELEM)))
        return rc;
    r->pos += vi_gguf_vtype_size(t);
    return VI_OK;
}

/* general.alignment: a U32, non-zero power of two; 32 when absent. */
static vi_status read_alignment(vi_gguf *g, vi_error *err)
{
    const vi_gguf_kv *kv = vi_gguf_kv_find(g, "general.alignment");
    g->alignment = VI_GGUF_DEFAULT_ALIGNMENT;
    if (!kv)
        return VI_OK;
    if (kv->type != VI_GGUF_U32)
        return vi_fail(err, VI_ERR_INVALID, "general.alignment has type %s, expected U32",
                       vi_gguf_vtype_name(kv->type));
    uint32_t a;
    memcpy(&a, kv->val, 4);
    if (a == 0 || (a & (a - 1)) != 0)
        return vi_fail(err, VI_ERR_INVALID, "general.alignment is %u: not a power of two", a);
    g->alignment = a;
    return VI_OK;
}

/* ==== Tensors ==== */

static vi_status parse_tensor_info(reader *r, vi_gguf *g, int64_t i)
{
    vi_gguf_tensor *t = &g->tensors[i];
    uint32_t nd, type;
    vi_status rc;
    if ((rc = rd_name(r, "tensor", "name", i, &t->name)) || (rc = rd_u32(r, "n_dims", &nd)))
        return rc;
    if (nd < 1 || nd > VI_GGUF_MAX_DIMS)
        return vi_fail(r->err, VI_ERR_INVALID, "%s: n_dims is %u (1 to %d allowed)", r->ctx, nd,
                       VI_GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    for (int d = 0; d < VI_GGUF_MAX_DIMS; d++) {
        uint64_t v = 1;
        if (d < t->n_dims && (rc = rd_u64(r, "ne", &v)))
            return rc;
        t->ne[d] = (int64_t)v;
    }
    if ((rc = rd_u32(r, "type", &type)) || (rc = rd_u64(r, "offset", &t->offset)))
        return rc;
    if ((rc = vi_gguf_tensor_bytes(type, t->n_dims, t->ne, &t->nbytes, r->err))) {
        vi_error_prefix(r->err, "%s", r->ctx);
        return rc;
    }
    t->type = (vi_ggml_type)type;
    if (t->offset % g->alignment != 0)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "%s: offset %llu is not a multiple of the alignment %u", r->ctx,
                       (unsigned long long)t->offset, g->alignment);
    return VI_OK;
}

typedef struct {
    uint64_t begin, end; /* byte range in the data section */
    int64_t i;           /* tensor position */
} extent;

static int cmp_extent(const void *a, const void *b)
{
    const extent *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int shown_len(const vi_gguf_str *s)
{
    return s->len > SHOW_NAME ? SHOW_NAME : (int)s->len;
}

/* Every tensor inside the data section, no two sharing a byte. */
static vi_status check_extents(vi_gguf *g, vi_error *err)
{
    uint64_t data_size = g->data_offset <= g->size ? g->size - g->data_offset : 0;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const vi_gguf_tensor *t = &g->tensors[i];
        uint64_t end = t->offset > UINT64_MAX - t->nbytes ? UINT64_MAX : t->offset + t->nbytes;
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return vi_fail(err, VI_ERR_INVALID,
                           "tensor %lld '%.*s': data [%llu, %llu) lies beyond the end of the file "
                           "(the data section starts at byte %llu and holds %llu bytes; "
                           "truncated?)",
                           (long long)i, shown_len(&t->name), t->name.ptr,
                           (unsigned long long)t->offset, (unsigned long long)end,
                           (unsigned long long)g->data_offset, (unsigned long long)data_size);
    }
    if (g->n_tensors < 2)
        return VI_OK;
    extent *order = malloc((size_t)g->n_tensors * sizeof *order);
    if (!order)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory sorting %lld tensors",
                       (long long)g->n_tensors);
    for (int64_t i = 0; i < g->n_tensors; i++)
        order[i] = (extent){g->tensors[i].offset, g->tensors[i].offset + g->tensors[i].nbytes, i};
    qsort(order, (size_t)g->n_tensors, sizeof *order, cmp_extent);
    vi_status rc = VI_OK;
    for (int64_t k = 1; k < g->n_tensors; k++) {
        const extent *p = &order[k - 1], *t = &order[k];
        if (p->end > t->begin) {
            const vi_gguf_str *pn = &g->tensors[p->i].name, *tn = &g->tensors[t->i].name;
            rc = vi_fail(err, VI_ERR_INVALID,
                         "tensors '%.*s' [%llu, %llu) and '%.*s' [%llu, %llu) overlap in the data "
                         "section",
                         shown_len(pn), pn->ptr, (unsigned long long)p->begin,
                         (unsigned long long)p->end, shown_len(tn), tn->ptr,
                         (unsigned long long)t->begin, (unsigned long long)t->end);
            break;
        }
    }
    free(order);
    return rc;
}

/* ==== Header and the whole file ==== */

static vi_status parse_header(reader *r, vi_gguf *g, uint64_t *n_tensors, uint64_t *n_kv)
{
    snprintf(r->ctx, sizeof r->ctx, "header");
    if (r->size < 4)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "file is %llu bytes, too small for a GGUF file (the header alone is %u)",
                       (unsigned long long)r->size, VI_GGUF_HEADER_BYTES);
    const uint8_t *m = r->b;
    if (memcmp(m, GGUF_MAGIC, 4) != 0) {
        char shown[5];
        for (int i = 0; i < 4; i++)
            shown[i] = m[i] >= 0x20 && m[i] < 0x7f ? (char)m[i] : '.';
        shown[4] = '\0';
        return vi_fail(r->err, VI_ERR_INVALID,
                       "bad magic: the file starts with %02x %02x %02x %02x (\"%s\"), not \"GGUF\" "
                       "(47 47 55 46): not a GGUF file",
                       m[0], m[1], m[2], m[3], shown);
    }
    if (r->size < VI_GGUF_HEADER_BYTES)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "file is %llu bytes, too small for a GGUF file (the header alone is %u)",
                       (unsigned long long)r->size, VI_GGUF_HEADER_BYTES);
    r->pos = 4;
    uint32_t v;
    rd_u32(r, "version", &v);
    if (v == 1)
        return vi_fail(r->err, VI_ERR_UNSUPPORTED,
                       "GGUF version 1 (32-bit counts) is not supported: convert the model again "
                       "with a current converter (versions 2 and 3 are read)");
    if (v != 2 && v != 3) {
        uint32_t sw = __builtin_bswap32(v);
        if (sw >= 1 && sw <= 3)
            return vi_fail(r->err, VI_ERR_UNSUPPORTED,
                           "big-endian GGUF file (version field 0x%08x): only little-endian "
                           "files are read",
                           v);
        return vi_fail(r->err, VI_ERR_UNSUPPORTED,
                       "unsupported GGUF version %u (versions 2 and 3 are read)", v);
    }
    g->version = v;
    rd_u64(r, "tensor_count", n_tensors);
    rd_u64(r, "kv_count", n_kv);
    if (*n_tensors > (uint64_t)VI_GGUF_MAX_TENSORS)
        return vi_fail(r->err, VI_ERR_LIMIT, "header: tensor_count %llu exceeds the limit of %lld",
                       (unsigned long long)*n_tensors, (long long)VI_GGUF_MAX_TENSORS);
    if (*n_kv > (uint64_t)VI_GGUF_MAX_KV)
        return vi_fail(r->err, VI_ERR_LIMIT, "header: kv_count %llu exceeds the limit of %lld",
                       (unsigned long long)*n_kv, (long long)VI_GGUF_MAX_KV);
    uint64_t left = r->size - r->pos;
    if (*n_kv > left / MIN_KV_BYTES)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "header: kv_count %llu is absurd for the file size: the %llu bytes after "
                       "the header hold at most %llu key-value pairs (%u bytes each at least)",
                       (unsigned long long)*n_kv, (unsigned long long)left,
                       (unsigned long long)(left / MIN_KV_BYTES), MIN_KV_BYTES);
    if (*n_tensors > left / MIN_TENSOR_INFO_BYTES)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "header: tensor_count %llu is absurd for the file size: the %llu bytes "
                       "after the header hold at most %llu tensor infos (%u bytes each at least)",
                       (unsigned long long)*n_tensors, (unsigned long long)left,
                       (unsigned long long)(left / MIN_TENSOR_INFO_BYTES), MIN_TENSOR_INFO_BYTES);
    uint64_t least = *n_kv * MIN_KV_BYTES + *n_tensors * MIN_TENSOR_INFO_BYTES;
    if (least > left)
        return vi_fail(r->err, VI_ERR_INVALID,
                       "header: %llu key-value pairs and %llu tensor infos need at least %llu "
                       "bytes but only %llu follow the header",
                       (unsigned long long)*n_kv, (unsigned long long)*n_tensors,
                       (unsigned long long)least, (unsigned long long)left);
    return VI_OK;
}

static vi_status parse_file(vi_gguf *g, vi_error *err)
{
    reader r = {.b = g->base, .size = g->size, .pos = 0, .err = err};
    uint64_t n_tensors = 0, n_kv = 0;
    int64_t a = 0, b = 0;
    vi_status rc = parse_header(&r, g, &n_tensors, &n_kv);
    if (rc)
        return rc;
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for %llu kv and %llu tensor entries",
                       (unsigned long long)n_kv, (unsigned long long)n_tensors);
    for (uint64_t i = 0; i < n_kv; i++) {
        if ((rc = parse_kv(&r, g, (int64_t)i)))
            return rc;
        g->n_kv = (int64_t)i + 1;
    }
    rc = index_build(&g->kv_index, &g->kv[0].key, sizeof g->kv[0], g->n_kv, &a, &b, err);
    if (rc == VI_ERR_INVALID)
        return vi_fail(err, rc, "kv %lld and kv %lld have the same key '%.*s'", (long long)a,
                       (long long)b, shown_len(&g->kv[b].key), g->kv[b].key.ptr);
    if (rc || (rc = read_alignment(g, err)))
        return rc;
    for (uint64_t i = 0; i < n_tensors; i++) {
        if ((rc = parse_tensor_info(&r, g, (int64_t)i)))
            return rc;
        g->n_tensors = (int64_t)i + 1;
    }
    rc = index_build(&g->tensor_index, &g->tensors[0].name, sizeof g->tensors[0], g->n_tensors, &a,
                     &b, err);
    if (rc == VI_ERR_INVALID)
        return vi_fail(err, rc, "tensor %lld and tensor %lld have the same name '%.*s'",
                       (long long)a, (long long)b, shown_len(&g->tensors[b].name),
                       g->tensors[b].name.ptr);
    if (rc)
        return rc;
    uint64_t pad = (g->alignment - r.pos % g->alignment) % g->alignment;
    g->data_offset = r.pos + pad;
    if ((rc = check_extents(g, err)))
        return rc;
    for (int64_t i = 0; i < g->n_tensors; i++)
        g->tensors[i].data = g->base + g->data_offset + g->tensors[i].offset;
    return VI_OK;
}

/* ==== Open / close ==== */

static void release(vi_gguf *g)
{
    if (!g)
        return;
    if (g->mapped)
        munmap((void *)g->base, (size_t)g->size);
    free(g->kv);
    free(g->tensors);
    free(g->str_off);
    free(g->kv_index.slot);
    free(g->tensor_index.slot);
    free(g);
}

vi_status vi_gguf_open_memory(vi_gguf **out, const void *data, size_t size, vi_error *err)
{
    if (!out)
        return vi_fail(err, VI_ERR_INVALID, "vi_gguf_open_memory: out is NULL");
    *out = NULL;
    if (!data && size)
        return vi_fail(err, VI_ERR_INVALID, "GGUF image is NULL but %zu bytes long", size);
    vi_gguf *g = calloc(1, sizeof *g);
    if (!g)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    g->base = data ? data : (const uint8_t *)"";
    g->size = size;
    vi_status rc = parse_file(g, err);
    if (rc) {
        release(g);
        return rc;
    }
    *out = g;
    return VI_OK;
}

vi_status vi_gguf_open(vi_gguf **out, const char *path, vi_error *err)
{
    char eb[128];
    if (!out || !path)
        return vi_fail(err, VI_ERR_INVALID, "vi_gguf_open: out or path is NULL");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return vi_fail(err, e == ENOENT ? VI_ERR_NOT_FOUND : VI_ERR_IO, "%s: cannot open: %s", path,
                       strerror_r(e, eb, sizeof eb));
    }
    vi_status rc = VI_OK;
    void *map = MAP_FAILED;
    size_t size = 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = vi_fail(err, VI_ERR_IO, "%s: cannot stat: %s", path, strerror_r(errno, eb, sizeof eb));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = vi_fail(err, VI_ERR_INVALID, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        rc = vi_fail(err, VI_ERR_LIMIT, "%s: %lld bytes do not fit in the address space", path,
                     (long long)sb.st_size);
        goto out;
    }
    size = (size_t)sb.st_size;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            rc = vi_fail(err, VI_ERR_IO, "%s: cannot mmap %zu bytes: %s", path, size,
                         strerror_r(errno, eb, sizeof eb));
            goto out;
        }
    }
    if ((rc = vi_gguf_open_memory(out, map == MAP_FAILED ? NULL : map, size, err))) {
        vi_error_prefix(err, "%s", path);
        goto out;
    }
    (*out)->mapped = map != MAP_FAILED;
out:
    close(fd);
    if (rc && map != MAP_FAILED)
        munmap(map, size);
    return rc;
}

void vi_gguf_close(vi_gguf *g)
{
    release(g);
}
