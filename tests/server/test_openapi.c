/* tests/server/test_openapi.c — api/openapi.yaml documents exactly the
 * routing table of `verinfer serve`: every (method, path) of
 * vi_server_routes has its path and operation in the document, and every
 * operation of the document is a route ({m} and {v} of the table are
 * {model} and {version} there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "server/routes.h"
#include "test_util.h"

static char *read_doc(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/api/openapi.yaml", vt_src());
    char *s = vt_read_file(path, NULL);
    if (!s)
        fail_msg("cannot read %s", path);
    return s;
}

/* The table's path in the document's spelling. */
static void doc_path(const char *route, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = route; *p && o + 10 < size; p++) {
        if (strncmp(p, "{m}", 3) == 0) {
            o += (size_t)snprintf(out + o, size - o, "{model}");
            p += 2;
        } else if (strncmp(p, "{v}", 3) == 0) {
            o += (size_t)snprintf(out + o, size - o, "{version}");
            p += 2;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* The block of path `path` under "paths:" (from its line to the next path), or NULL. */
static const char *path_block(const char *doc, const char *path, size_t *len)
{
    char key[600];
    snprintf(key, sizeof key, "\n  %s:\n", path);
    const char *b = strstr(doc, key);
    if (!b)
        return NULL;
    b += strlen(key);
    const char *e = b;
    while ((e = strstr(e, "\n  ")) != NULL && e[3] == ' ')
        e++;
    *len = e ? (size_t)(e - b) : strlen(b);
    return b;
}

static int has_operation(const char *block, size_t len, const char *method)
{
    char key[32];
    snprintf(key, sizeof key, "    %s:\n", method);
    for (size_t i = 0; i + strlen(key) <= len; i++)
        if ((i == 0 || block[i - 1] == '\n') && strncasecmp(block + i, key, strlen(key)) == 0)
            return 1;
    return 0;
}

static void test_every_route_is_documented(void **state)
{
    (void)state;
    char *doc = read_doc();
    int n;
    const vi_http_route *routes = vi_server_routes(&n);
    assert_true(n > 20);
    for (int i = 0; i < n; i++) {
        char path[512];
        doc_path(routes[i].pattern, path, sizeof path);
        size_t len = 0;
        const char *block = path_block(doc, path, &len);
        if (!block)
            fail_msg("api/openapi.yaml has no path %s", path);
        if (!has_operation(block, len, routes[i].method))
            fail_msg("api/openapi.yaml documents no %s on %s", routes[i].method, path);
    }
    free(doc);
}

static void test_every_documented_operation_is_a_route(void **state)
{
    (void)state;
    char *doc = read_doc();
    int n;
    const vi_http_route *routes = vi_server_routes(&n);
    const char *paths = strstr(doc, "\npaths:\n");
    assert_non_null(paths);
    const char *end = strstr(paths + 1, "\ncomponents:");
    assert_non_null(end);
    int operations = 0;
    const char *cur = NULL;
    size_t cur_len = 0;
    for (const char *p = paths + 8; p < end;) {
        const char *eol = strchr(p, '\n');
        if (!eol || eol > end)
            eol = end;
        if (p[0] == ' ' && p[1] == ' ' && p[2] == '/') { /* "  /path:" */
            cur = p + 2;
            cur_len = (size_t)(eol - cur) - 1;
        } else if (cur && strncmp(p, "    ", 4) == 0 && p[4] != ' ') {
            const char *colon = memchr(p + 4, ':', (size_t)(eol - p - 4));
            size_t ml = colon ? (size_t)(colon - p - 4) : 0;
            if (ml == 3 || ml == 4) { /* get, put, post */
                char method[8], path[512];
                snprintf(method, sizeof method, "%.*s", (int)ml, p + 4);
                int found = 0;
                for (int i = 0; i < n && !found; i++) {
                    doc_path(routes[i].pattern, path, sizeof path);
                    found = strlen(path) == cur_len && strncmp(path, cur, cur_len) == 0 &&
                            strcasecmp(routes[i].method, method) == 0;
                }
                if (!found)
                    fail_msg("api/openapi.yaml documents %s %.*s, which is no route", method,
                             (int)cur_len, cur);
                operations++;
            }
        }
        p = eol + 1;
    }
    assert_int_equal(operations, n);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_documented_operation_is_a_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
