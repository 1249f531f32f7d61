/* server/http.h — the HTTP layer of `verinfer serve` on libmicrohttpd: one
 * daemon with an internal thread pool (epoll), a routing table of
 * {method, path pattern, handler}, a per-request context (allocated on the
 * first callback, freed in the completion callback) that accumulates the
 * body up to a limit (413 beyond it), the reply helpers every handler uses
 * (so every error is {"error": "..."} as application/json), connection
 * suspension for requests answered from another thread, and the access log.
 *
 * Handlers know nothing of libmicrohttpd: they see a vi_http_req. */
#ifndef VI_HTTP_H
#define VI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"
#include "core/tensor.h"

#define VI_HTTP_MAX_PARAMS 2 /* captured path segments ({m}, {v}) */
#define VI_HTTP_PATH_MAX 512

typedef struct vi_http vi_http;
typedef struct vi_http_req vi_http_req;

/* A handler answers with exactly one vi_http_reply* call, or suspends the
 * request (vi_http_suspend) and answers when it is resumed. */
typedef void (*vi_http_handler)(vi_http_req *r);

typedef struct vi_http_route {
    const char *method;  /* "GET", "POST" */
    const char *pattern; /* "/v2/models/{m}/versions/{v}/infer": {x} captures one segment */
    vi_http_handler handler;
} vi_http_route;

struct vi_http_req {
    void *app;                                   /* the application context of vi_http_start */
    const char *method;                          /* as received */
    char path[VI_HTTP_PATH_MAX];                 /* decoded path, without the query */
    char param[VI_HTTP_MAX_PARAMS][VI_NAME_MAX]; /* captured segments, in pattern order */
    int n_params;
    const char *body; /* the whole request body (NUL-terminated), body_len bytes */
    size_t body_len;

    /* filled by handlers for the access log */
    char log_model[VI_NAME_MAX];
    int64_t log_rows; /* -1: not applicable */
    int log_batch;    /* rows of the engine execution; -1: unknown */

    /* continuation of a suspended request, and state freed with the request */
    vi_http_handler resume;
    void *state;
    void (*state_free)(vi_http_req *r, void *state);
};

typedef struct vi_http_config {
    const char *host;              /* numeric IPv4/IPv6 address or a host name; "127.0.0.1" */
    int port;                      /* 0 picks a free port */
    int threads;                   /* handler threads (libmicrohttpd thread pool), >= 1 */
    uint64_t max_body_bytes;       /* larger bodies are refused with 413 */
    unsigned connection_timeout_s; /* idle connections are closed after this; 0 = never */
    int log_fd;                    /* access log and libmicrohttpd errors; -1 = none */
    /* Optional: the JSON body of an error reply to `path` (the errors of this
     * layer: unknown endpoint, wrong method, body too large; and every
     * vi_http_reply_error). NULL, or a NULL result, gives {"error": message}. */
    json_t *(*error_body)(const char *path, unsigned status, const char *message);
} vi_http_config;

/* Fills cfg with the defaults: 127.0.0.1, port 8000, 4 threads, 64 MiB
 * bodies, 30 s connection timeout, log to fd 2. */
void vi_http_config_default(vi_http_config *cfg);

/* Binds, listens and starts serving the routes (the table must outlive the
 * daemon; app is handed to every handler). VI_ERR_IO when the address cannot
 * be resolved or bound, VI_ERR_INTERNAL when libmicrohttpd refuses to start. */
vi_status vi_http_start(const vi_http_config *cfg, const vi_http_route *routes, int n_routes,
                        void *app, vi_http **out, vi_error *err);

/* The port actually listened on (useful with port 0). */
int vi_http_port(const vi_http *h);

/* Stops accepting new connections; requests on open connections still run. */
void vi_http_quiesce(vi_http *h);

/* Requests received and not yet completed (their reply not yet sent). */
int64_t vi_http_active(const vi_http *h);

/* Stops the daemon, closing every connection, and frees h; accepts NULL. */
void vi_http_stop(vi_http *h);

/* ==== Inside a handler ==== */

/* Value of a request header (case-insensitive name), or NULL. */
const char *vi_http_header(vi_http_req *r, const char *name);

/* Sends status with a body. content_type may be NULL (no body type); data is
 * copied unless take is 1, in which case data (malloc'ed) is freed by the
 * daemon. headers: NULL or name/value pairs ending with NULL. */
void vi_http_reply(vi_http_req *r, unsigned status, const char *content_type, void *data,
                   size_t len, int take, const char *const *headers);

/* Sends a JSON value (compact) as application/json; consumes the reference. */
void vi_http_reply_json(vi_http_req *r, unsigned status, json_t *j);

/* Sends {"error": "<message>"} as application/json. */
void vi_http_reply_error(vi_http_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same with extra headers (name/value pairs ending with NULL), e.g. Retry-After. */
void vi_http_reply_error_h(vi_http_req *r, unsigned status, const char *const *headers,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* HTTP status for a library status: 400 invalid/limit/verify, 404 not found,
 * 501 unsupported, 500 otherwise. */
unsigned vi_http_status_of(vi_status st);

/* A streamed body (chunked transfer encoding, e.g. server-sent events).
 * The reader copies up to max bytes into buf and returns how many (> 0),
 * 0 when nothing is ready yet (it is called again: a reader with nothing to
 * send should wait a bounded time for data before returning 0, so that the
 * daemon thread does not spin), or -1 when the body is complete. It runs on
 * a daemon thread. */
typedef long (*vi_http_stream_fn)(vi_http_req *r, void *arg, char *buf, size_t max);

/* Answers with status and a body produced by fn (arg is handed to it;
 * its lifetime is the caller's business, e.g. the request's state). */
void vi_http_reply_stream(vi_http_req *r, unsigned status, const char *content_type,
                          const char *const *headers, vi_http_stream_fn fn, void *arg);

/* Suspends the request: the handler returns without replying, and `resume`
 * runs (on a daemon thread) after vi_http_resume. */
void vi_http_suspend(vi_http_req *r, vi_http_handler resume);

/* Wakes a suspended request; callable from any thread, exactly once per
 * vi_http_suspend. */
void vi_http_resume(vi_http_req *r);

#endif
