/* core/status.h — status codes and error messages shared by every module.
 *
 * Library code never exits: a function that can fail returns a vi_status
 * (0 ok, negative failure) and, where it takes a vi_error*, fills in a
 * human-readable message saying what is wrong and, where useful, what to do. */
#ifndef VI_STATUS_H
#define VI_STATUS_H

#include <stddef.h>

typedef enum {
    VI_OK = 0,
    VI_ERR_INVALID = -1,     /* malformed or inconsistent input (HTTP 400) */
    VI_ERR_NOT_FOUND = -2,   /* a named thing does not exist (HTTP 404) */
    VI_ERR_IO = -3,          /* file or system error */
    VI_ERR_NOMEM = -4,       /* allocation failed */
    VI_ERR_UNSUPPORTED = -5, /* valid but not implemented (HTTP 501) */
    VI_ERR_LIMIT = -6,       /* a configured size limit was exceeded (HTTP 413/400) */
    VI_ERR_INTERNAL = -7,    /* a bug: an invariant did not hold (HTTP 500) */
    VI_ERR_VERIFY = -8       /* a verification found a mismatch */
} vi_status;

#define VI_ERROR_MSG_MAX 512

typedef struct vi_error {
    char msg[VI_ERROR_MSG_MAX];
} vi_error;

/* Returns a short constant name for a status ("ok", "invalid argument", ...). */
const char *vi_status_str(vi_status st);

/* Writes a printf-style message into err (if err is not NULL) and returns st,
 * so callers can write `return vi_fail(err, VI_ERR_INVALID, "...", ...);`. */
vi_status vi_fail(vi_error *err, vi_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (for adding context on the way up). */
void vi_error_prefix(vi_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
