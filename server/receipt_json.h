/* server/receipt_json.h — a receipt as a JSON object (jansson): digests,
 * keys and signatures in lowercase hex, parameters as an object of strings,
 * and for "ed25519-merkle" receipts a "batch" object {"root", "index",
 * "size", "proof": [hex, ...]}. The JSON form carries the same fields as
 * core/receipt.h, nothing more. */
#ifndef VI_RECEIPT_JSON_H
#define VI_RECEIPT_JSON_H

#include <jansson.h>

#include "core/receipt.h"
#include "core/status.h"
#include "server/json_num.h"

/* The receipt as a new JSON object (fields in the order of docs/receipts.md);
 * NULL if memory runs out or a string field is not valid UTF-8. */
json_t *vi_receipt_to_json(const vi_receipt *r);

/* Appends the receipt as compact JSON text to sb: exactly the bytes
 * json_dumps(vi_receipt_to_json(r), JSON_COMPACT) gives, without building
 * the object. Returns 0, or -1 (sb then holds a partial text) in the cases
 * where vi_receipt_to_json returns NULL or an append failed. */
int vi_receipt_put_json(vi_sb *sb, const vi_receipt *r);

/* Parses a receipt object strictly: every field present with its type, no
 * unknown field, hex of the exact length, strings that fit; "batch" present
 * exactly when signature_algorithm is "ed25519-merkle", with 1 <= size,
 * index < size and as many proof hashes as the RFC 6962 audit path of leaf
 * index in a tree of size leaves has. Fills r (zeroed
 * first) or fails naming the field: VI_ERR_INVALID, or VI_ERR_LIMIT for a
 * string longer than its field. It does not check the digest or the
 * signature (vi_receipt_check does). Duplicate keys are the parser's to
 * refuse (json_loads with JSON_REJECT_DUPLICATES). */
vi_status vi_receipt_from_json(const json_t *j, vi_receipt *r, vi_error *err);

#endif
