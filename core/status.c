/* core/status.c — status names and error-message helpers. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *vi_status_str(vi_status st)
{
    switch (st) {
    case VI_OK:
        return "ok";
    case VI_ERR_INVALID:
        return "invalid argument";
    case VI_ERR_NOT_FOUND:
        return "not found";
    case VI_ERR_IO:
        return "i/o error";
    case VI_ERR_NOMEM:
        return "out of memory";
    case VI_ERR_UNSUPPORTED:
        return "unsupported";
    case VI_ERR_LIMIT:
        return "limit exceeded";
    case VI_ERR_INTERNAL:
        return "internal error";
    case VI_ERR_VERIFY:
        return "verification failed";
    }
    return "unknown status";
}

vi_status vi_fail(vi_error *err, vi_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void vi_error_prefix(vi_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[VI_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[VI_ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof prefix - 1);
    size_t room = sizeof err->msg - 1;
    size_t at = 0;
    memcpy(err->msg, prefix, n);
    at = n;
    if (at + 2 <= room) {
        memcpy(err->msg + at, ": ", 2);
        at += 2;
    }
    size_t m = strnlen(old, sizeof old - 1);
    if (m > room - at)
        m = room - at;
    memcpy(err->msg + at, old, m);
    err->msg[at + m] = '\0';
}
