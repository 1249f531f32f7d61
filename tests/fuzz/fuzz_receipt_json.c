/* tests/fuzz/fuzz_receipt_json.c — feeds the input, parsed by jansson, to
 * vi_receipt_from_json; an accepted receipt is written back with
 * vi_receipt_put_json / vi_receipt_to_json and must parse to the same bits. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "server/json_num.h"
#include "server/receipt_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, 0, &jerr);
    if (!j)
        return 0;
    vi_receipt r1, r2;
    vi_error err;
    vi_status st = vi_receipt_from_json(j, &r1, &err);
    json_decref(j);
    if (st != VI_OK)
        return 0;

    /* The text writer. */
    vi_sb sb;
    vi_sb_init(&sb);
    if (vi_receipt_put_json(&sb, &r1) != 0)
        abort(); /* an accepted receipt must be writable */
    size_t len = 0;
    char *text = vi_sb_take(&sb, &len);
    if (!text)
        abort();
    json_t *j2 = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j2)
        abort(); /* the writer's text must parse */
    if (vi_receipt_from_json(j2, &r2, &err) != VI_OK)
        abort(); /* and be accepted again */
    if (memcmp(&r1, &r2, sizeof r1) != 0)
        abort(); /* with the same fields */

    /* The object writer: equal to the reparsed text, and dumps to the same bytes. */
    json_t *o = vi_receipt_to_json(&r1);
    if (!o)
        abort();
    if (!json_equal(o, j2))
        abort();
    char *dump = json_dumps(o, JSON_COMPACT);
    if (!dump)
        abort();
    if (strlen(dump) != len || memcmp(dump, text, len) != 0)
        abort(); /* vi_receipt_put_json promises json_dumps' exact bytes */
    free(dump);
    json_decref(o);
    json_decref(j2);
    free(text);
    return 0;
}
