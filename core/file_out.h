/* core/file_out.h — writing a file so that it appears whole or not at all:
 * the bytes go to "<path>.tmp", which is fsync'ed and renamed over path on
 * commit, and removed on abort. Used by the safetensors and GGUF writers. */
#ifndef VI_FILE_OUT_H
#define VI_FILE_OUT_H

#include <stdint.h>

#include "status.h"

typedef struct vi_file_out {
    int fd;     /* -1 when closed */
    char *tmp;  /* "<path>.tmp" (malloc'ed) */
    char *path; /* the final name (malloc'ed) */
} vi_file_out;

/* Creates "<path>.tmp" (mode 0644, truncated). VI_ERR_IO naming the file,
 * VI_ERR_NOMEM. On failure nothing is left to release. */
vi_status vi_file_out_open(vi_file_out *f, const char *path, vi_error *err);

/* Appends n bytes (any size; retried on EINTR). VI_ERR_IO naming the file. */
vi_status vi_file_out_write(vi_file_out *f, const void *p, uint64_t n, vi_error *err);

/* Appends n zero bytes. */
vi_status vi_file_out_zeros(vi_file_out *f, uint64_t n, vi_error *err);

/* fsync, close and rename over the final path; on failure the temporary
 * file is removed. Either way f is released. */
vi_status vi_file_out_commit(vi_file_out *f, vi_error *err);

/* Closes and removes the temporary file and releases f; a no-op on a
 * released f. */
void vi_file_out_abort(vi_file_out *f);

#endif
