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

#endif
