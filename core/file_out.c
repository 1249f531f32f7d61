/* core/file_out.c — whole-or-nothing file writing (see file_out.h). */
#include "file_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(vi_file_out *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
}

vi_status vi_file_out_open(vi_file_out *f, const char *path, vi_error *err)
{
    char eb[128];
    size_t plen = strlen(path);
    f->fd = -1;
    f->path = strdup(path);
    f->tmp = malloc(plen + 5);
    if (!f->path || !f->tmp) {
        release(f);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    }
    memcpy(f->tmp, path, plen);
    memcpy(f->tmp + plen, ".tmp", 5);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        vi_status st = vi_fail(err, VI_ERR_IO, "%s: cannot create: %s", f->tmp,
                               strerror_r(errno, eb, sizeof eb));
        release(f);
        return st;
    }
    return VI_OK;
}

vi_status vi_file_out_write(vi_file_out *f, const void *p, uint64_t n, vi_error *err)
{
    const uint8_t *c = p;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t k = write(f->fd, c, chunk);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            char eb[128];
            return vi_fail(err, VI_ERR_IO, "%s: write failed: %s", f->tmp,
                           strerror_r(errno, eb, sizeof eb));
        }
        c += k;
        n -= (uint64_t)k;
    }
    return VI_OK;
}

vi_status vi_file_out_zeros(vi_file_out *f, uint64_t n, vi_error *err)
{
    static const uint8_t zeros[4096];
    while (n > 0) {
        uint64_t k = n > sizeof zeros ? sizeof zeros : n;
        vi_status st = vi_file_out_write(f, zeros, k, err);
        if (st != VI_OK)
            return st;
        n -= k;
    }
    return VI_OK;
}

vi_status vi_file_out_commit(vi_file_out *f, vi_error *err)
{
    char eb[128];
    vi_status st = VI_OK;
    if (fsync(f->fd) != 0)
        st = vi_fail(err, VI_ERR_IO, "%s: fsync failed: %s", f->tmp,
                     strerror_r(errno, eb, sizeof eb));
    int cr = close(f->fd);
    f->fd = -1;
    if (st == VI_OK && cr != 0)
        st = vi_fail(err, VI_ERR_IO, "%s: close failed: %s", f->tmp,
                     strerror_r(errno, eb, sizeof eb));
    if (st == VI_OK && rename(f->tmp, f->path) != 0)
        st = vi_fail(err, VI_ERR_IO, "%s: cannot rename to %s: %s", f->tmp, f->path,
                     strerror_r(errno, eb, sizeof eb));
    if (st != VI_OK)
        unlink(f->tmp);
    release(f);
    return st;
}

void vi_file_out_abort(vi_file_out *f)
{
    if (!f->tmp)
        return;
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    unlink(f->tmp);
    release(f);
}
