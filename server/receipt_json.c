/* server/receipt_json.c — receipt <-> JSON object, strict on the way in. */
#include "receipt_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/merkle.h"

/* The fields of every receipt object, in the order they are written; an
 * "ed25519-merkle" receipt has "batch" after them. */
static const char *const FIELDS[] = {
    "format_version", "model_name",    "model_version", "model_digest",
    "input_digest",   "output_digest", "engine_id",     "order_version",
    "mode",           "request_id",    "parameters",    "created",
    "receipt_digest", "signature",     "public_key",    "signature_algorithm",
};
#define N_FIELDS ((int)(sizeof FIELDS / sizeof FIELDS[0]))

/* ==== To JSON ==== */

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];
    vi_hex_encode(p, n, hex);
    return json_object_set_new(o, key, json_string(hex));
}

static int is_batch(const vi_receipt *r)
{
    return r->signature_algorithm == VI_SIG_ED25519_MERKLE;
}

/* 1 if the batch fields can be written (what the parser would accept). */
static int batch_writable(const vi_receipt *r)
{
    return r->batch_size >= 1 && r->batch_index < r->batch_size &&
           r->batch_proof_len == vi_merkle_path_len(r->batch_index, r->batch_size);
}

static json_t *batch_to_json(const vi_receipt *r)
{
    json_t *b = json_object();
    json_t *proof = json_array();
    int bad = !b || !proof;
    for (int i = 0; !bad && i < r->batch_proof_len; i++) {
        char hex[2 * VI_SHA256_LEN + 1];
        vi_hex_encode(r->batch_proof[i], VI_SHA256_LEN, hex);
        bad |= json_array_append_new(proof, json_string(hex));
    }
    if (bad) {
        json_decref(proof);
        json_decref(b);
        return NULL;
    }
    bad |= set_hex(b, "root", r->batch_root, VI_SHA256_LEN);
    bad |= json_object_set_new(b, "index", json_integer(r->batch_index));
    bad |= json_object_set_new(b, "size", json_integer(r->batch_size));
    bad |= json_object_set_new(b, "proof", proof);
    if (bad) {
        json_decref(b);
        return NULL;
    }
    return b;
}

json_t *vi_receipt_to_json(const vi_receipt *r)
{
    if (r->n_params < 0 || r->n_params > VI_RECEIPT_MAX_PARAMS)
        return NULL;
    if (is_batch(r) && !batch_writable(r))
        return NULL;
    const char *alg = vi_sig_alg_name(r->signature_algorithm);
    if (!alg)
        return NULL;
    json_t *o = json_object();
    json_t *params = json_object();
    int bad = !o || !params;
    for (int i = 0; !bad && i < r->n_params; i++)
        bad |= json_object_set_new(params, r->params[i].key, json_string(r->params[i].value));
    if (bad) {
        json_decref(params);
        json_decref(o);
        return NULL;
    }
    bad |= json_object_set_new(o, "format_version", json_integer(r->format_version));
    bad |= json_object_set_new(o, "model_name", json_string(r->model_name));
    bad |= json_object_set_new(o, "model_version", json_string(r->model_version));
    bad |= set_hex(o, "model_digest", r->model_digest, VI_SHA256_LEN);
    bad |= set_hex(o, "input_digest", r->input_digest, VI_SHA256_LEN);
    bad |= set_hex(o, "output_digest", r->output_digest, VI_SHA256_LEN);
    bad |= json_object_set_new(o, "engine_id", json_string(r->engine_id));
    bad |= json_object_set_new(o, "order_version", json_integer(r->order_version));
    bad |= json_object_set_new(o, "mode", json_string(r->mode));
    bad |= json_object_set_new(o, "request_id", json_string(r->request_id));
    bad |= json_object_set_new(o, "parameters", params);
    bad |= json_object_set_new(o, "created", json_string(r->created));
    bad |= set_hex(o, "receipt_digest", r->receipt_digest, VI_SHA256_LEN);
    if (r->signature_algorithm != VI_SIG_NONE) {
        bad |= set_hex(o, "signature", r->signature, VI_ED25519_SIG_LEN);
        bad |= set_hex(o, "public_key", r->public_key, VI_ED25519_KEY_LEN);
    } else {
        bad |= json_object_set_new(o, "signature", json_string(""));
        bad |= json_object_set_new(o, "public_key", json_string(""));
    }
    bad |= json_object_set_new(o, "signature_algorithm", json_string(alg));
    if (is_batch(r))
        bad |= json_object_set_new(o, "batch", batch_to_json(r));
    if (bad || json_object_size(o) != (size_t)N_FIELDS + (size_t)is_batch(r)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ==== To JSON text ==== */

static int put_key_str(vi_sb *sb, const char *key, const char *v)
{
    vi_sb_puts(sb, key);
    return vi_sb_put_jstr(sb, v, strlen(v));
}

static void put_key_hex(vi_sb *sb, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];
    vi_hex_encode(p, n, hex);
    vi_sb_puts(sb, key);
    vi_sb_putc(sb, '"');
    vi_sb_putn(sb, hex, 2 * n);
    vi_sb_putc(sb, '"');
}

/* The object route, for receipts whose parameters repeat a key (the object
 * keeps one entry per key). */
static int put_via_object(vi_sb *sb, const vi_receipt *r)
{
    json_t *o = vi_receipt_to_json(r);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!txt)
        return -1;
    vi_sb_puts(sb, txt);
    free(txt);
    return sb->failed ? -1 : 0;
}

int vi_receipt_put_json(vi_sb *sb, const vi_receipt *r)
{
    if (r->n_params < 0 || r->n_params > VI_RECEIPT_MAX_PARAMS)
        return -1;
    if (is_batch(r) && !batch_writable(r))
        return -1;
    const char *alg = vi_sig_alg_name(r->signature_algorithm);
    if (!alg)
        return -1;
    for (int i = 0; i < r->n_params; i++)
        for (int k = 0; k < i; k++)
            if (strcmp(r->params[i].key, r->params[k].key) == 0)
                return put_via_object(sb, r);
    int bad = 0;
    vi_sb_puts(sb, "{\"format_version\":");
    vi_sb_put_i64(sb, (int64_t)r->format_version);
    bad |= put_key_str(sb, ",\"model_name\":", r->model_name);
    bad |= put_key_str(sb, ",\"model_version\":", r->model_version);
    put_key_hex(sb, ",\"model_digest\":", r->model_digest, VI_SHA256_LEN);
    put_key_hex(sb, ",\"input_digest\":", r->input_digest, VI_SHA256_LEN);
    put_key_hex(sb, ",\"output_digest\":", r->output_digest, VI_SHA256_LEN);
    bad |= put_key_str(sb, ",\"engine_id\":", r->engine_id);
    vi_sb_puts(sb, ",\"order_version\":");
    vi_sb_put_i64(sb, (int64_t)r->order_version);
    bad |= put_key_str(sb, ",\"mode\":", r->mode);
    bad |= put_key_str(sb, ",\"request_id\":", r->request_id);
    vi_sb_puts(sb, ",\"parameters\":{");
    for (int i = 0; i < r->n_params; i++) {
        if (i)
            vi_sb_putc(sb, ',');
        bad |= vi_sb_put_jstr(sb, r->params[i].key, strlen(r->params[i].key));
        vi_sb_putc(sb, ':');
        bad |= vi_sb_put_jstr(sb, r->params[i].value, strlen(r->params[i].value));
    }
    vi_sb_putc(sb, '}');
    bad |= put_key_str(sb, ",\"created\":", r->created);
    put_key_hex(sb, ",\"receipt_digest\":", r->receipt_digest, VI_SHA256_LEN);
    if (r->signature_algorithm != VI_SIG_NONE) {
        put_key_hex(sb, ",\"signature\":", r->signature, VI_ED25519_SIG_LEN);
        put_key_hex(sb, ",\"public_key\":", r->public_key, VI_ED25519_KEY_LEN);
    } else {
        vi_sb_puts(sb, ",\"signature\":\"\",\"public_key\":\"\"");
    }
    bad |= put_key_str(sb, ",\"signature_algorithm\":", alg);
    if (is_batch(r)) {
        put_key_hex(sb, ",\"batch\":{\"root\":", r->batch_root, VI_SHA256_LEN);
        vi_sb_puts(sb, ",\"index\":");
        vi_sb_put_i64(sb, (int64_t)r->batch_index);
        vi_sb_puts(sb, ",\"size\":");
        vi_sb_put_i64(sb, (int64_t)r->batch_size);
        vi_sb_puts(sb, ",\"proof\":[");
        for (int i = 0; i < r->batch_proof_len; i++)
            put_key_hex(sb, i ? "," : "", r->batch_proof[i], VI_SHA256_LEN);
        vi_sb_puts(sb, "]}");
    }
    vi_sb_putc(sb, '}');
    return bad || sb->failed ? -1 : 0;
}

/* ==== From JSON ==== */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* The string value v of the field named `label` in messages (present, a
 * string, no NUL inside). */
static vi_status string_value(const json_t *v, const char *label, const char **out, vi_error *err)
{
    if (!json_is_string(v))
        return vi_fail(err, VI_ERR_INVALID, "receipt field '%s' must be a string (got %s)", label,
                       type_name(v));
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v))
        return vi_fail(err, VI_ERR_INVALID, "receipt field '%s' contains a NUL character", label);
    return VI_OK;
}

static vi_status get_string(const json_t *o, const char *key, const char **out, vi_error *err)
{
    return string_value(json_object_get(o, key), key, out, err);
}

/* An integer field in [min, max]. */
static vi_status get_uint(const json_t *o, const char *key, const char *label, uint32_t min,
                          uint32_t max, uint32_t *out, vi_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return vi_fail(err, VI_ERR_INVALID, "receipt field '%s' must be an integer (got %s)", label,
                       type_name(v));
    json_int_t x = json_integer_value(v);
    if (x < (json_int_t)min || x > (json_int_t)max)
        return vi_fail(err, VI_ERR_INVALID, "receipt field '%s' is %lld, outside [%u, %u]", label,
                       (long long)x, (unsigned)min, (unsigned)max);
    *out = (uint32_t)x;
    return VI_OK;
}

static vi_status get_u32(const json_t *o, const char *key, uint32_t *out, vi_error *err)
{
    return get_uint(o, key, key, 0, UINT32_MAX, out, err);
}

/* The n bytes written as hex in value v of the field named `label`. */
static vi_status hex_value(const json_t *v, const char *label, uint8_t *out, size_t n,
                           vi_error *err)
{
    const char *s = NULL;
    vi_status st = string_value(v, label, &s, err);
    if (st != VI_OK)
        return st;
    char what[64];
    snprintf(what, sizeof what, "receipt field '%s'", label);
    return vi_hex_decode(s, out, n, what, err);
}

static vi_status get_hex(const json_t *o, const char *key, uint8_t *out, size_t n, vi_error *err)
{
    return hex_value(json_object_get(o, key), key, out, n, err);
}

static vi_status get_params(const json_t *o, vi_receipt *r, vi_error *err)
{
    const json_t *p = json_object_get(o, "parameters");
    if (!json_is_object(p))
        return vi_fail(err, VI_ERR_INVALID, "receipt field 'parameters' must be an object (got %s)",
                       type_name(p));
    if (json_object_size(p) > VI_RECEIPT_MAX_PARAMS)
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt field 'parameters' has %zu entries (at most %d)",
                       json_object_size(p), VI_RECEIPT_MAX_PARAMS);
    json_t *obj = (json_t *)p; /* the iterator API takes non-const objects */
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        const json_t *v = json_object_iter_value(it);
        if (strlen(key) != json_object_iter_key_len(it))
            return vi_fail(err, VI_ERR_INVALID, "receipt parameter key contains a NUL character");
        if (!json_is_string(v))
            return vi_fail(err, VI_ERR_INVALID, "receipt parameter '%s' must be a string (got %s)",
                           key, type_name(v));
        if (strlen(json_string_value(v)) != json_string_length(v))
            return vi_fail(err, VI_ERR_INVALID, "receipt parameter '%s' contains a NUL character",
                           key);
        vi_status st = vi_receipt_set_param(r, key, json_string_value(v), err);
        if (st != VI_OK)
            return st;
    }
    return VI_OK;
}

/* The "batch" object of an "ed25519-merkle" receipt: root, index, size and
 * an audit path exactly as long as the RFC 6962 path of leaf index in a tree
 * of size leaves. */
static vi_status get_batch(const json_t *o, vi_receipt *r, vi_error *err)
{
    static const char *const KEYS[] = {"root", "index", "size", "proof"};
    const json_t *b = json_object_get(o, "batch");
    if (!b)
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt has signature_algorithm \"ed25519-merkle\" but no field 'batch'");
    if (!json_is_object(b))
        return vi_fail(err, VI_ERR_INVALID, "receipt field 'batch' must be an object (got %s)",
                       type_name(b));
    json_t *obj = (json_t *)b; /* the iterator API takes non-const objects */
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        int known = 0;
        for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0] && !known; i++)
            known = strcmp(key, KEYS[i]) == 0 && strlen(key) == json_object_iter_key_len(it);
        if (!known)
            return vi_fail(err, VI_ERR_INVALID, "receipt field 'batch' has an unknown field '%s'",
                           key);
    }
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++)
        if (!json_object_get(b, KEYS[i]))
            return vi_fail(err, VI_ERR_INVALID, "receipt field 'batch.%s' is missing", KEYS[i]);
    vi_status st =
        hex_value(json_object_get(b, "root"), "batch.root", r->batch_root, VI_SHA256_LEN, err);
    if (st == VI_OK)
        st = get_uint(b, "size", "batch.size", 1, UINT32_MAX, &r->batch_size, err);
    if (st == VI_OK)
        st = get_uint(b, "index", "batch.index", 0, UINT32_MAX, &r->batch_index, err);
    if (st != VI_OK)
        return st;
    if (r->batch_index >= r->batch_size)
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt field 'batch.index' is %u, not below batch.size %u",
                       (unsigned)r->batch_index, (unsigned)r->batch_size);
    const json_t *proof = json_object_get(b, "proof");
    if (!json_is_array(proof))
        return vi_fail(err, VI_ERR_INVALID, "receipt field 'batch.proof' must be an array (got %s)",
                       type_name(proof));
    int want = vi_merkle_path_len(r->batch_index, r->batch_size);
    if (json_array_size(proof) != (size_t)want)
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt field 'batch.proof' has %zu hashes, but leaf %u of a batch of %u "
                       "has an audit path of %d",
                       json_array_size(proof), (unsigned)r->batch_index, (unsigned)r->batch_size,
                       want);
    for (int i = 0; i < want; i++) {
        char label[32];
        snprintf(label, sizeof label, "batch.proof[%d]", i);
        st = hex_value(json_array_get(proof, (size_t)i), label, r->batch_proof[i], VI_SHA256_LEN,
                       err);
        if (st != VI_OK)
            return st;
    }
    r->batch_proof_len = want;
    return VI_OK;
}

vi_status vi_receipt_from_json(const json_t *j, vi_receipt *r, vi_error *err)
{
    static const char *const STRINGS[] = {"model_name", "model_version", "engine_id",
                                          "mode",       "request_id",    "created"};
    vi_receipt_init(r);
    r->mode[0] = '\0';
    if (!json_is_object(j))
        return vi_fail(err, VI_ERR_INVALID, "receipt must be a JSON object (got %s)",
                       j ? type_name(j) : "nothing");
    json_t *obj = (json_t *)j; /* the iterator API takes non-const objects */
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        int known = strcmp(key, "batch") == 0 && strlen(key) == json_object_iter_key_len(it);
        for (int i = 0; i < N_FIELDS && !known; i++)
            known = strcmp(key, FIELDS[i]) == 0 && strlen(key) == json_object_iter_key_len(it);
        if (!known)
            return vi_fail(err, VI_ERR_INVALID, "receipt has an unknown field '%s'", key);
    }
    for (int i = 0; i < N_FIELDS; i++)
        if (!json_object_get(j, FIELDS[i]))
            return vi_fail(err, VI_ERR_INVALID, "receipt field '%s' is missing", FIELDS[i]);

    vi_status st = get_u32(j, "format_version", &r->format_version, err);
    if (st == VI_OK)
        st = get_u32(j, "order_version", &r->order_version, err);
    for (size_t i = 0; st == VI_OK && i < sizeof STRINGS / sizeof STRINGS[0]; i++) {
        const char *s = NULL;
        st = get_string(j, STRINGS[i], &s, err);
        if (st == VI_OK)
            st = vi_receipt_set_string(r, STRINGS[i], s, err);
    }
    if (st == VI_OK)
        st = get_hex(j, "model_digest", r->model_digest, VI_SHA256_LEN, err);
    if (st == VI_OK)
        st = get_hex(j, "input_digest", r->input_digest, VI_SHA256_LEN, err);
    if (st == VI_OK)
        st = get_hex(j, "output_digest", r->output_digest, VI_SHA256_LEN, err);
    if (st == VI_OK)
        st = get_hex(j, "receipt_digest", r->receipt_digest, VI_SHA256_LEN, err);
    if (st == VI_OK)
        st = get_params(j, r, err);
    const char *alg = NULL;
    if (st == VI_OK)
        st = get_string(j, "signature_algorithm", &alg, err);
    if (st != VI_OK)
        return st;
    int a = vi_sig_alg_from_name(alg);
    if (a < 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt field 'signature_algorithm' must be \"ed25519\", "
                       "\"ed25519-merkle\" or \"none\" (got \"%s\")",
                       alg);
    r->signature_algorithm = a;
    if (a != VI_SIG_ED25519_MERKLE && json_object_get(j, "batch"))
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt has signature_algorithm \"%s\" but a field 'batch' (only "
                       "\"ed25519-merkle\" receipts have one)",
                       alg);
    if (a != VI_SIG_NONE) {
        st = get_hex(j, "signature", r->signature, VI_ED25519_SIG_LEN, err);
        if (st == VI_OK)
            st = get_hex(j, "public_key", r->public_key, VI_ED25519_KEY_LEN, err);
        if (st == VI_OK && a == VI_SIG_ED25519_MERKLE)
            st = get_batch(j, r, err);
        return st;
    }
    const char *sig = NULL, *pub = NULL;
    st = get_string(j, "signature", &sig, err);
    if (st == VI_OK)
        st = get_string(j, "public_key", &pub, err);
    if (st != VI_OK)
        return st;
    if (sig[0] || pub[0])
        return vi_fail(err, VI_ERR_INVALID,
                       "receipt has signature_algorithm \"none\" but a non-empty %s",
                       sig[0] ? "signature" : "public_key");
    return VI_OK;
}
