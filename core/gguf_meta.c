/* core/gguf_meta.c — questions answered from an open GGUF handle: its
 * version, layout and tensors by position, and the typed metadata getters
 * (integer widening only where the value fits, float widening only where
 * exact, string-array elements in O(1) through the index built on open). */
#include "gguf_priv.h"

#include <float.h>
#include <math.h> /* INFINITY only */
#include <stdio.h>
#include <string.h>

/* ==== Handle facts ==== */

uint32_t vi_gguf_version(const vi_gguf *g)
{
    return g ? g->version : 0;
}

uint32_t vi_gguf_alignment(const vi_gguf *g)
{
    return g ? g->alignment : 0;
}

uint64_t vi_gguf_data_offset(const vi_gguf *g)
{
    return g ? g->data_offset : 0;
}

int64_t vi_gguf_n_tensors(const vi_gguf *g)
{
    return g ? g->n_tensors : 0;
}

const vi_gguf_tensor *vi_gguf_tensor_at(const vi_gguf *g, int64_t i)
{
    if (!g || i < 0 || i >= g->n_tensors)
        return NULL;
    return &g->tensors[i];
}

int64_t vi_gguf_n_kv(const vi_gguf *g)
{
    return g ? g->n_kv : 0;
}

vi_status vi_gguf_kv_at(const vi_gguf *g, int64_t i, vi_gguf_str *key, vi_gguf_vtype *type,
                        vi_gguf_vtype *elem_type, vi_error *err)
{
    if (!g || i < 0 || i >= g->n_kv)
        return vi_fail(err, VI_ERR_NOT_FOUND, "kv %lld is out of range (the file has %lld)",
                       (long long)i, (long long)(g ? g->n_kv : 0));
    const vi_gguf_kv *kv = &g->kv[i];
    if (key)
        *key = kv->key;
    if (type)
        *type = kv->type;
    if (elem_type)
        *elem_type = kv->type == VI_GGUF_ARRAY ? kv->elem_type : kv->type;
    return VI_OK;
}

int vi_gguf_has_key(const vi_gguf *g, const char *key)
{
    return vi_gguf_kv_find(g, key) != NULL;
}

int vi_gguf_str_eq(vi_gguf_str s, const char *c)
{
    size_t n = strlen(c);
    return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

/* ==== Numbers ==== */

/* An integer value widened without loss: signed types into s, unsigned into u. */
typedef struct {
    int is_signed;
    int64_t s;
    uint64_t u;
} int_val;

static int is_int_type(vi_gguf_vtype t)
{
    return t == VI_GGUF_U8 || t == VI_GGUF_I8 || t == VI_GGUF_U16 || t == VI_GGUF_I16 ||
           t == VI_GGUF_U32 || t == VI_GGUF_I32 || t == VI_GGUF_U64 || t == VI_GGUF_I64;
}

static int_val load_int(vi_gguf_vtype t, const uint8_t *p)
{
    int_val v = {0, 0, 0};
    switch (t) {
    case VI_GGUF_U8:
        v.u = p[0];
        break;
    case VI_GGUF_I8:
        v.is_signed = 1, v.s = (int8_t)p[0];
        break;
    case VI_GGUF_U16: {
        uint16_t x;
        memcpy(&x, p, 2);
        v.u = x;
        break;
    }
    case VI_GGUF_I16: {
        int16_t x;
        memcpy(&x, p, 2);
        v.is_signed = 1, v.s = x;
        break;
    }
    case VI_GGUF_U32: {
        uint32_t x;
        memcpy(&x, p, 4);
        v.u = x;
        break;
    }
    case VI_GGUF_I32: {
        int32_t x;
        memcpy(&x, p, 4);
        v.is_signed = 1, v.s = x;
        break;
    }
    case VI_GGUF_U64:
        memcpy(&v.u, p, 8);
        break;
    case VI_GGUF_I64:
        v.is_signed = 1;
        memcpy(&v.s, p, 8);
        break;
    default:
        break;
    }
    return v;
}

/* 1 if v lies in [lo, hi] (lo <= 0). */
static int int_fits(int_val v, int64_t lo, uint64_t hi)
{
    if (!v.is_signed)
        return v.u <= hi;
    if (v.s < lo)
        return 0;
    return v.s < 0 || (uint64_t)v.s <= hi;
}

/* Which of the requested integer results an accessor wants. */
typedef enum { WANT_U32, WANT_I32, WANT_U64, WANT_I64 } int_want;

static const char *const WANT_NAMES[] = {"u32", "i32", "u64", "i64"};

/* Converts the integer at p (type t) into *out as `want`; what names the
 * value for messages ("key 'x'" or "key 'x' element 3"). */
static vi_status convert_int(vi_gguf_vtype t, const uint8_t *p, int_want want, void *out,
                             const char *key, uint64_t elem, vi_error *err)
{
    static const int64_t LO[] = {0, INT32_MIN, 0, INT64_MIN};
    static const uint64_t HI[] = {UINT32_MAX, INT32_MAX, UINT64_MAX, INT64_MAX};
    int_val v = load_int(t, p);
    if (!int_fits(v, LO[want], HI[want])) {
        char el[40] = "";
        if (elem != UINT64_MAX)
            snprintf(el, sizeof el, " element %llu", (unsigned long long)elem);
        if (v.is_signed)
            return vi_fail(err, VI_ERR_INVALID, "key '%s'%s: value %lld (%s) does not fit in %s",
                           key, el, (long long)v.s, vi_gguf_vtype_name(t), WANT_NAMES[want]);
        return vi_fail(err, VI_ERR_INVALID, "key '%s'%s: value %llu (%s) does not fit in %s", key,
                       el, (unsigned long long)v.u, vi_gguf_vtype_name(t), WANT_NAMES[want]);
    }
    switch (want) {
    case WANT_U32:
        *(uint32_t *)out = (uint32_t)(v.is_signed ? (uint64_t)v.s : v.u);
        break;
    case WANT_I32:
        *(int32_t *)out = (int32_t)(v.is_signed ? v.s : (int64_t)v.u);
        break;
    case WANT_U64:
        *(uint64_t *)out = v.is_signed ? (uint64_t)v.s : v.u;
        break;
    case WANT_I64:
        *(int64_t *)out = v.is_signed ? v.s : (int64_t)v.u;
        break;
    }
    return VI_OK;
}

/* F32 as is, F64 only when it narrows to f32 exactly (no libm: compares the
 * round trip). */
static vi_status convert_f32(vi_gguf_vtype t, const uint8_t *p, float *out, const char *key,
                             uint64_t elem, vi_error *err)
{
    if (t == VI_GGUF_F32) {
        memcpy(out, p, 4);
        return VI_OK;
    }
    double d;
    memcpy(&d, p, 8);
    /* beyond the float range (but finite) or NaN: no exact f32; checked
     * before converting so no out-of-range conversion happens */
    int finite_out =
        (d > FLT_MAX || d < -FLT_MAX) && d != (double)INFINITY && d != -(double)INFINITY;
    float f = d != d || finite_out ? 0.0f : (float)d;
    if (d != d || finite_out || (double)f != d) {
        char el[40] = "";
        if (elem != UINT64_MAX)
            snprintf(el, sizeof el, " element %llu", (unsigned long long)elem);
        return vi_fail(err, VI_ERR_INVALID,
                       "key '%s'%s: F64 value %.17g does not convert to f32 exactly", key, el, d);
    }
    *out = f;
    return VI_OK;
}

/* ==== Scalar getters ==== */

/* The entry for key, or VI_ERR_NOT_FOUND. */
static vi_status find(const vi_gguf *g, const char *key, const vi_gguf_kv **kv, vi_error *err)
{
    if (!key)
        return vi_fail(err, VI_ERR_INVALID, "metadata key is NULL");
    *kv = vi_gguf_kv_find(g, key);
    if (!*kv)
        return vi_fail(err, VI_ERR_NOT_FOUND, "metadata key '%s' is absent", key);
    return VI_OK;
}

static vi_status wrong_type(const vi_gguf_kv *kv, const char *key, const char *expected,
                            vi_error *err)
{
    if (kv->type == VI_GGUF_ARRAY)
        return vi_fail(err, VI_ERR_INVALID, "key '%s' has type ARRAY of %s, expected %s", key,
                       vi_gguf_vtype_name(kv->elem_type), expected);
    return vi_fail(err, VI_ERR_INVALID, "key '%s' has type %s, expected %s", key,
                   vi_gguf_vtype_name(kv->type), expected);
}

static vi_status get_int(const vi_gguf *g, const char *key, int_want want, void *out, vi_error *err)
{
    static const char *const EXPECT[] = {"an integer (u32)", "an integer (i32)", "an integer (u64)",
                                         "an integer (i64)"};
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (!is_int_type(kv->type))
        return wrong_type(kv, key, EXPECT[want], err);
    return convert_int(kv->type, kv->val, want, out, key, UINT64_MAX, err);
}

vi_status vi_gguf_get_u32(const vi_gguf *g, const char *key, uint32_t *out, vi_error *err)
{
    return get_int(g, key, WANT_U32, out, err);
}

vi_status vi_gguf_get_i32(const vi_gguf *g, const char *key, int32_t *out, vi_error *err)
{
    return get_int(g, key, WANT_I32, out, err);
}

vi_status vi_gguf_get_u64(const vi_gguf *g, const char *key, uint64_t *out, vi_error *err)
{
    return get_int(g, key, WANT_U64, out, err);
}

vi_status vi_gguf_get_i64(const vi_gguf *g, const char *key, int64_t *out, vi_error *err)
{
    return get_int(g, key, WANT_I64, out, err);
}

vi_status vi_gguf_get_f32(const vi_gguf *g, const char *key, float *out, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != VI_GGUF_F32 && kv->type != VI_GGUF_F64)
        return wrong_type(kv, key, "F32", err);
    return convert_f32(kv->type, kv->val, out, key, UINT64_MAX, err);
}

vi_status vi_gguf_get_f64(const vi_gguf *g, const char *key, double *out, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type == VI_GGUF_F64) {
        memcpy(out, kv->val, 8);
    } else if (kv->type == VI_GGUF_F32) {
        float f;
        memcpy(&f, kv->val, 4);
        *out = f;
    } else {
        return wrong_type(kv, key, "F64", err);
    }
    return VI_OK;
}

vi_status vi_gguf_get_bool(const vi_gguf *g, const char *key, int *out, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != VI_GGUF_BOOL)
        return wrong_type(kv, key, "BOOL", err);
    *out = kv->val[0];
    return VI_OK;
}

/* The string whose u64 length prefix is at p (validated on open). */
static vi_gguf_str str_at(const uint8_t *p)
{
    vi_gguf_str s;
    memcpy(&s.len, p, 8);
    s.ptr = (const char *)p + 8;
    return s;
}

vi_status vi_gguf_get_str(const vi_gguf *g, const char *key, vi_gguf_str *out, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != VI_GGUF_STRING)
        return wrong_type(kv, key, "STRING", err);
    *out = str_at(kv->val);
    return VI_OK;
}

/* ==== Arrays ==== */

vi_status vi_gguf_get_array(const vi_gguf *g, const char *key, vi_gguf_vtype *elem_type,
                            uint64_t *count, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != VI_GGUF_ARRAY)
        return wrong_type(kv, key, "ARRAY", err);
    if (elem_type)
        *elem_type = kv->elem_type;
    if (count)
        *count = kv->count;
    return VI_OK;
}

/* The array entry for key whose element i exists; ok(elem_type) decides
 * whether the element type is acceptable (expected names it otherwise). */
static vi_status array_elem(const vi_gguf *g, const char *key, uint64_t i, int (*ok)(vi_gguf_vtype),
                            const char *expected, const vi_gguf_kv **out, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != VI_GGUF_ARRAY || !ok(kv->elem_type))
        return wrong_type(kv, key, expected, err);
    if (i >= kv->count)
        return vi_fail(err, VI_ERR_INVALID, "key '%s': index %llu is out of range (%llu elements)",
                       key, (unsigned long long)i, (unsigned long long)kv->count);
    *out = kv;
    return VI_OK;
}

static int is_string(vi_gguf_vtype t)
{
    return t == VI_GGUF_STRING;
}

static int is_float(vi_gguf_vtype t)
{
    return t == VI_GGUF_F32 || t == VI_GGUF_F64;
}

vi_status vi_gguf_array_str(const vi_gguf *g, const char *key, uint64_t i, vi_gguf_str *out,
                            vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = array_elem(g, key, i, is_string, "ARRAY of STRING", &kv, err);
    if (rc)
        return rc;
    *out = str_at(g->base + g->str_off[kv->str_first + i]);
    return VI_OK;
}

vi_status vi_gguf_array_i32(const vi_gguf *g, const char *key, uint64_t i, int32_t *out,
                            vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = array_elem(g, key, i, is_int_type, "ARRAY of an integer type", &kv, err);
    if (rc)
        return rc;
    const uint8_t *p = kv->val + i * vi_gguf_vtype_size(kv->elem_type);
    return convert_int(kv->elem_type, p, WANT_I32, out, key, i, err);
}

vi_status vi_gguf_array_f32(const vi_gguf *g, const char *key, uint64_t i, float *out,
                            vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = array_elem(g, key, i, is_float, "ARRAY of F32", &kv, err);
    if (rc)
        return rc;
    const uint8_t *p = kv->val + i * vi_gguf_vtype_size(kv->elem_type);
    return convert_f32(kv->elem_type, p, out, key, i, err);
}

vi_status vi_gguf_array_data(const vi_gguf *g, const char *key, vi_gguf_vtype *elem_type,
                             uint64_t *count, const void **data, vi_error *err)
{
    const vi_gguf_kv *kv = NULL;
    vi_status rc = find(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != VI_GGUF_ARRAY || kv->elem_type == VI_GGUF_STRING)
        return wrong_type(kv, key, "ARRAY of a fixed-size type", err);
    if (elem_type)
        *elem_type = kv->elem_type;
    if (count)
        *count = kv->count;
    if (data)
        *data = kv->val;
    return VI_OK;
}
