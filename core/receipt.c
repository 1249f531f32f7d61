/* core/receipt.c — receipt fields: setters, validation and the canonical
 * encoding hashed into receipt_digest (signing lives in receipt_sign.c). */
#include "receipt.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "order.h"
#include "utf8.h"

/* The string fields settable by name, in no particular order. */
static const struct {
    const char *name;
    size_t offset, cap;
    int required; /* must be non-empty in a sealed receipt */
} STR_FIELDS[] = {
    {"model_name", offsetof(vi_receipt, model_name), VI_RECEIPT_NAME_MAX, 1},
    {"model_version", offsetof(vi_receipt, model_version), VI_RECEIPT_VERSION_MAX, 0},
    {"engine_id", offsetof(vi_receipt, engine_id), VI_RECEIPT_ENGINE_MAX, 1},
    {"mode", offsetof(vi_receipt, mode), VI_RECEIPT_MODE_MAX, 1},
    {"request_id", offsetof(vi_receipt, request_id), VI_RECEIPT_REQUEST_ID_MAX, 0},
    {"created", offsetof(vi_receipt, created), VI_RECEIPT_CREATED_MAX, 1},
};
#define N_STR_FIELDS ((int)(sizeof STR_FIELDS / sizeof STR_FIELDS[0]))

void vi_receipt_init(vi_receipt *r)
{
    memset(r, 0, sizeof *r);
    r->format_version = VI_RECEIPT_FORMAT_VERSION;
    r->order_version = VI_ORDER_VERSION;
    memcpy(r->mode, "exact", sizeof "exact");
    r->signature_algorithm = VI_SIG_NONE;
}

/* What a message calls a checked string; formatted only when a check fails,
 * so that receipts built per request pay nothing for their labels. */
typedef enum {
    L_FIELD,           /* field 'NAME' */
    L_PARAM_KEY,       /* parameter key 'KEY' (cut at 40 bytes) */
    L_PARAM_VALUE,     /* parameter 'KEY' value (cut at 40 bytes) */
    L_PARAM_VALUE_ALL, /* parameter 'KEY' value */
    L_PARAM_INDEX_KEY  /* parameter INDEX key */
} label_kind;

typedef struct label {
    label_kind kind;
    const char *name; /* field name or parameter key */
    int index;        /* parameter index (L_PARAM_INDEX_KEY) */
} label;

static const char *label_text(const label *l, char *buf, size_t size)
{
    switch (l->kind) {
    case L_FIELD:
        snprintf(buf, size, "field '%s'", l->name);
        break;
    case L_PARAM_KEY:
        snprintf(buf, size, "parameter key '%.40s'", l->name);
        break;
    case L_PARAM_VALUE:
        snprintf(buf, size, "parameter '%.40s' value", l->name);
        break;
    case L_PARAM_VALUE_ALL:
        snprintf(buf, size, "parameter '%s' value", l->name);
        break;
    case L_PARAM_INDEX_KEY:
        snprintf(buf, size, "parameter %d key", l->index);
        break;
    }
    return buf;
}

/* Copies value into a zero-padded fixed field; VI_ERR_LIMIT if it does not fit. */
static vi_status copy_field(char *dst, size_t cap, label what, const char *value, vi_error *err)
{
    char w[96];
    if (!value)
        return vi_fail(err, VI_ERR_INVALID, "receipt %s is NULL", label_text(&what, w, sizeof w));
    size_t len = strlen(value);
    if (len >= cap)
        return vi_fail(err, VI_ERR_LIMIT, "receipt %s is %zu bytes long (at most %zu)",
                       label_text(&what, w, sizeof w), len, cap - 1);
    memset(dst, 0, cap);
    memcpy(dst, value, len);
    return VI_OK;
}

vi_status vi_receipt_set_string(vi_receipt *r, const char *field, const char *value, vi_error *err)
{
    for (int i = 0; field && i < N_STR_FIELDS; i++)
        if (strcmp(field, STR_FIELDS[i].name) == 0)
            return copy_field((char *)r + STR_FIELDS[i].offset, STR_FIELDS[i].cap,
                              (label){L_FIELD, STR_FIELDS[i].name, 0}, value, err);
    return vi_fail(err, VI_ERR_INVALID, "receipt has no string field '%s'",
                   field ? field : "(null)");
}

vi_status vi_receipt_set_param(vi_receipt *r, const char *key, const char *value, vi_error *err)
{
    if (!key || !key[0])
        return vi_fail(err, VI_ERR_INVALID, "receipt parameter key is empty");
    if (r->n_params < 0 || r->n_params > VI_RECEIPT_MAX_PARAMS)
        return vi_fail(err, VI_ERR_INVALID, "receipt has %d parameters (at most %d)", r->n_params,
                       VI_RECEIPT_MAX_PARAMS);
    if (strlen(key) >= VI_RECEIPT_KEY_MAX) {
        char w[96];
        return vi_fail(err, VI_ERR_LIMIT, "receipt %s is %zu bytes long (at most %d)",
                       label_text(&(label){L_PARAM_KEY, key, 0}, w, sizeof w), strlen(key),
                       VI_RECEIPT_KEY_MAX - 1);
    }
    int at = 0;
    while (at < r->n_params && strcmp(r->params[at].key, key) < 0)
        at++;
    vi_receipt_param p;
    memset(&p, 0, sizeof p);
    memcpy(p.key, key, strlen(key));
    vi_status st =
        copy_field(p.value, VI_RECEIPT_VALUE_MAX, (label){L_PARAM_VALUE, key, 0}, value, err);
    if (st != VI_OK)
        return st;
    if (at < r->n_params && strcmp(r->params[at].key, key) == 0) {
        r->params[at] = p;
        return VI_OK;
    }
    if (r->n_params == VI_RECEIPT_MAX_PARAMS)
        return vi_fail(err, VI_ERR_LIMIT, "receipt already has %d parameters; cannot add '%s'",
                       VI_RECEIPT_MAX_PARAMS, key);
    memmove(&r->params[at + 1], &r->params[at], (size_t)(r->n_params - at) * sizeof p);
    r->params[at] = p;
    r->n_params++;
    return VI_OK;
}

vi_status vi_receipt_set_created(vi_receipt *r, int64_t unix_seconds, vi_error *err)
{
    /* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
    if (unix_seconds < -62167219200LL || unix_seconds > 253402300799LL)
        return vi_fail(err, VI_ERR_INVALID, "time %lld is outside years 0000..9999",
                       (long long)unix_seconds);
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return vi_fail(err, VI_ERR_INVALID, "cannot convert time %lld to UTC",
                       (long long)unix_seconds);
    /* YYYY-MM-DDTHH:MM:SSZ, the year 0000..9999 by the check above */
    const int parts[6] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    char buf[21];
    char *o = buf;
    for (int i = 0; i < 6; i++) {
        int v = parts[i];
        if (i == 0) {
            *o++ = (char)('0' + v / 1000);
            *o++ = (char)('0' + v / 100 % 10);
        }
        *o++ = (char)('0' + v / 10 % 10);
        *o++ = (char)('0' + v % 10);
        *o++ = "--T::Z"[i];
    }
    *o = '\0';
    return copy_field(r->created, sizeof r->created, (label){L_FIELD, "created", 0}, buf, err);
}

vi_status vi_engine_id(char *out, size_t size, const char *backend, const char *isa, vi_error *err)
{
    if (!backend || !backend[0])
        return vi_fail(err, VI_ERR_INVALID, "engine id needs a backend name");
    int n;
    if (isa && isa[0])
        n = snprintf(out, size, "verinfer/%s order/%d backend/%s isa/%s", VERINFER_VERSION,
                     VI_ORDER_VERSION, backend, isa);
    else
        n = snprintf(out, size, "verinfer/%s order/%d backend/%s", VERINFER_VERSION,
                     VI_ORDER_VERSION, backend);
    if (n < 0 || (size_t)n >= size)
        return vi_fail(err, VI_ERR_LIMIT, "engine id does not fit in %zu bytes", size);
    return VI_OK;
}

/* ==== Validation ==== */

/* Checks one fixed string field: NUL-terminated, UTF-8, non-empty if required. */
static vi_status check_string(const char *s, size_t cap, label what, int required, vi_error *err)
{
    char w[96];
    size_t len = strnlen(s, cap);
    if (len == cap)
        return vi_fail(err, VI_ERR_INVALID, "receipt %s is not NUL-terminated",
                       label_text(&what, w, sizeof w));
    if (required && len == 0)
        return vi_fail(err, VI_ERR_INVALID, "receipt %s is empty", label_text(&what, w, sizeof w));
    size_t bad = vi_utf8_invalid_at(s, len);
    if (bad != len)
        return vi_fail(err, VI_ERR_INVALID, "receipt %s is not valid UTF-8 (byte %zu)",
                       label_text(&what, w, sizeof w), bad);
    return VI_OK;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Accepts exactly "YYYY-MM-DDTHH:MM:SSZ" with a real calendar date. */
static int created_valid(const char *s)
{
    static const char PATTERN[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof PATTERN - 1)
        return 0;
    for (size_t i = 0; i < sizeof PATTERN - 1; i++) {
        if (PATTERN[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != PATTERN[i])
            return 0;
    }
#define NUM2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int year = NUM2(0) * 100 + NUM2(2), month = NUM2(5), day = NUM2(8);
    int hour = NUM2(11), min = NUM2(14), sec = NUM2(17);
#undef NUM2
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1)
        return 0;
    int mdays = DAYS[month - 1] + (month == 2 && is_leap(year));
    return day <= mdays && hour <= 23 && min <= 59 && sec <= 60;
}

vi_status vi_receipt_validate(const vi_receipt *r, vi_error *err)
{
    if (r->format_version != VI_RECEIPT_FORMAT_VERSION)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "unsupported receipt format_version %u (this build handles version %d)",
                       (unsigned)r->format_version, VI_RECEIPT_FORMAT_VERSION);
    if (r->order_version < 1)
        return vi_fail(err, VI_ERR_INVALID, "receipt order_version is 0");
    for (int i = 0; i < N_STR_FIELDS; i++) {
        vi_status st =
            check_string((const char *)r + STR_FIELDS[i].offset, STR_FIELDS[i].cap,
                         (label){L_FIELD, STR_FIELDS[i].name, 0}, STR_FIELDS[i].required, err);
        if (st != VI_OK)
            return st;
    }
    if (!created_valid(r->created))
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt field 'created' is \"%s\"; "
                       "expected UTC time as YYYY-MM-DDTHH:MM:SSZ",
                       r->created);
    if (r->n_params < 0 || r->n_params > VI_RECEIPT_MAX_PARAMS)
        return vi_fail(err, VI_ERR_INVALID, "receipt has %d parameters (at most %d)", r->n_params,
                       VI_RECEIPT_MAX_PARAMS);
    for (int i = 0; i < r->n_params; i++) {
        const vi_receipt_param *p = &r->params[i];
        vi_status st =
            check_string(p->key, sizeof p->key, (label){L_PARAM_INDEX_KEY, NULL, i}, 1, err);
        if (st == VI_OK)
            st = check_string(p->value, sizeof p->value, (label){L_PARAM_VALUE_ALL, p->key, 0}, 0,
                              err);
        if (st != VI_OK)
            return st;
        if (i > 0 && strcmp(r->params[i - 1].key, p->key) >= 0)
            return vi_fail(err, VI_ERR_INVALID,
                           "receipt parameters are not sorted and unique: '%s' follows '%s'",
                           p->key, r->params[i - 1].key);
    }
    return VI_OK;
}

/* ==== Canonical encoding ==== */

/* Appends a fixed string field; fails if it is not NUL-terminated. */
static vi_status put_field(vi_sha256 *h, const char *s, size_t cap, const char *what, vi_error *err)
{
    size_t len = strnlen(s, cap);
    if (len == cap)
        return vi_fail(err, VI_ERR_INVALID, "receipt %s is not NUL-terminated", what);
    vi_sha256_str(h, s, len);
    return VI_OK;
}

vi_status vi_receipt_compute_digest(const vi_receipt *r, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    if (r->n_params < 0 || r->n_params > VI_RECEIPT_MAX_PARAMS)
        return vi_fail(err, VI_ERR_INVALID, "receipt has %d parameters (at most %d)", r->n_params,
                       VI_RECEIPT_MAX_PARAMS);
    vi_sha256 h;
    vi_status st = vi_sha256_begin(&h, err);
    if (st != VI_OK)
        return st;
    vi_sha256_cstr(&h, VI_TAG_RECEIPT);
    vi_sha256_u32(&h, r->format_version);
    st = put_field(&h, r->model_name, sizeof r->model_name, "field 'model_name'", err);
    if (st == VI_OK)
        st = put_field(&h, r->model_version, sizeof r->model_version, "field 'model_version'", err);
    if (st != VI_OK)
        goto fail;
    vi_sha256_bytes(&h, r->model_digest, VI_SHA256_LEN);
    vi_sha256_bytes(&h, r->input_digest, VI_SHA256_LEN);
    vi_sha256_bytes(&h, r->output_digest, VI_SHA256_LEN);
    st = put_field(&h, r->engine_id, sizeof r->engine_id, "field 'engine_id'", err);
    if (st != VI_OK)
        goto fail;
    vi_sha256_u32(&h, r->order_version);
    st = put_field(&h, r->mode, sizeof r->mode, "field 'mode'", err);
    if (st == VI_OK)
        st = put_field(&h, r->request_id, sizeof r->request_id, "field 'request_id'", err);
    if (st != VI_OK)
        goto fail;
    vi_sha256_u32(&h, (uint32_t)r->n_params);
    for (int i = 0; i < r->n_params && st == VI_OK; i++) {
        st = put_field(&h, r->params[i].key, sizeof r->params[i].key, "parameter key", err);
        if (st == VI_OK)
            st = put_field(&h, r->params[i].value, sizeof r->params[i].value, "parameter value",
                           err);
    }
    if (st == VI_OK)
        st = put_field(&h, r->created, sizeof r->created, "field 'created'", err);
    if (st != VI_OK)
        goto fail;
    return vi_sha256_final(&h, out, err);
fail:
    vi_sha256_abort(&h);
    return st;
}

const char *vi_sig_alg_name(int alg)
{
    switch (alg) {
    case VI_SIG_NONE:
        return "none";
    case VI_SIG_ED25519:
        return "ed25519";
    case VI_SIG_ED25519_MERKLE:
        return "ed25519-merkle";
    }
    return NULL;
}

int vi_sig_alg_from_name(const char *name)
{
    if (name && strcmp(name, "none") == 0)
        return VI_SIG_NONE;
    if (name && strcmp(name, "ed25519") == 0)
        return VI_SIG_ED25519;
    if (name && strcmp(name, "ed25519-merkle") == 0)
        return VI_SIG_ED25519_MERKLE;
    return -1;
}
