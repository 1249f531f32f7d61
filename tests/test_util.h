/* tests/test_util.h — helpers shared by the cmocka tests: a deterministic
 * PRNG, scratch directories, running the verinfer binary. */
#ifndef VI_TEST_UTIL_H
#define VI_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64-based generator: same sequence on every machine. */
typedef struct {
    uint64_t s;
} vt_rng;

uint64_t vt_next(vt_rng *r);
/* Uniform float in [lo, hi). */
float vt_uniform(vt_rng *r, float lo, float hi);
/* Uniform integer in [lo, hi]. */
int64_t vt_range(vt_rng *r, int64_t lo, int64_t hi);

/* Creates a fresh empty directory under $VERINFER_TMP (or /tmp) whose name
 * starts with `tag`, writes its path into out and returns out. */
char *vt_tmpdir(const char *tag, char *out, size_t outsize);

/* Writes len bytes to path; returns 0 on success. */
int vt_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file (NUL-terminated); returns NULL on failure. *len may be NULL. */
char *vt_read_file(const char *path, size_t *len);

/* Path of the verinfer binary ($VERINFER_BIN) and the source tree ($VERINFER_SRC). */
const char *vt_bin(void);
const char *vt_src(void);

/* Runs a shell command, captures stdout and stderr (each NUL-terminated,
 * malloc'ed, may be NULL if not wanted) and returns the exit status (or -1). */
int vt_run(const char *cmd, char **out, char **err);

/* ==== HTTP/1.1 client over loopback TCP (for the server tests) ==== */

/* Opens a connection to 127.0.0.1:port; returns the socket or -1. */
int vt_http_connect(int port);

/* Sends one request on an open connection and reads one response (by its
 * Content-Length; to the end of the stream without one). extra_headers is
 * NULL or "Name: value\r\n" lines; a Content-Length is added when body is
 * not NULL. *headers_text (status line and headers, NUL-terminated) and
 * *body_out (NUL-terminated, *body_len bytes) are malloc'ed; either pointer
 * may be NULL if not wanted. Returns 0, or -1 on a socket or parse error. */
int vt_http_on(int fd, const char *method, const char *path, const char *extra_headers,
               const void *body, size_t body_len, int *status, char **headers_text, char **body_out,
               size_t *body_len_out);

/* One request on a fresh connection ("Connection: close"); as vt_http_on. */
int vt_http(int port, const char *method, const char *path, const char *extra_headers,
            const void *body, size_t body_len, int *status, char **headers_text, char **body_out,
            size_t *body_len_out);

/* Value of header `name` (case-insensitive) in headers_text, copied into out
 * (NUL-terminated); returns out, or NULL if absent. */
char *vt_http_header(const char *headers_text, const char *name, char *out, size_t outsize);

/* ==== Running the server ==== */

/* Starts `$VERINFER_BIN serve ARGS --port 0 --ready-file F` through /bin/sh
 * (so ARGS may hold redirections such as 2>LOG), waits (up to 60 s) for the
 * port to be announced and fills *pid and *port. The server dies with the
 * test process. Returns 0, or -1 when it exited or never became ready. */
int vt_server_start(const char *args, int *pid, int *port);

/* Sends SIGTERM and waits up to 20 s for the process (then SIGKILL and
 * waits). Returns the waitpid status, or -1. */
int vt_server_stop(int pid);

#endif
