/* server/http.c — libmicrohttpd daemon, routing, request contexts, bodies,
 * replies, suspension and the access log (see http.h). */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"

struct vi_http {
    struct MHD_Daemon *daemon;
    int listen_fd; /* -1 once handed back by quiesce */
    int port;
    const vi_http_route *routes;
    int n_routes;
    void *app;
    vi_http_config cfg;
    atomic_llong active; /* request contexts alive */
};

/* One request: the public part first, so a vi_http_req* is a req_ctx*. */
typedef struct req_ctx {
    vi_http_req pub;
    vi_http *h;
    struct MHD_Connection *conn;
    const vi_http_route *route;
    char method[16];
    char *body;
    size_t body_len, body_cap;
    size_t body_expect; /* Content-Length + 1 when announced, else 0 */
    int too_large;      /* the body went past max_body_bytes: discarded */
    int no_memory;      /* the body could not be stored: discarded */
    int handled;        /* the route's handler has run */
    int suspended;      /* waiting for vi_http_resume */
    int replied;
    unsigned status;
    int64_t start_ns;
    vi_http_stream_fn stream_fn; /* a streamed reply: its reader and argument */
    void *stream_arg;
} req_ctx;

void vi_http_config_default(vi_http_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 8000;
    cfg->threads = 4;
    cfg->max_body_bytes = 64ull << 20;
    cfg->connection_timeout_s = 30;
    cfg->log_fd = 2;
}

/* ==== Logging ==== */

/* Writes one line in a single write() so that lines of concurrent requests
 * never interleave. */
static void log_line(const vi_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(const vi_http *h, const char *fmt, ...)
{
    if (h->cfg.log_fd < 0)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(h->cfg.log_fd, buf, (size_t)n);
    (void)w; /* nothing sensible to do when the log cannot be written */
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_line(cls, "verinfer: http: %s", msg);
}

static void access_log(const req_ctx *c, enum MHD_RequestTerminationCode toe)
{
    if (c->h->cfg.log_fd < 0)
        return; /* --no-access-log: nothing to format */
    char status[16], rows[32], batch[16];
    double ms = (double)(vi_monotonic_ns() - c->start_ns) / 1e6;
    if (c->replied)
        snprintf(status, sizeof status, "%u", c->status);
    else
        snprintf(status, sizeof status, "-");
    if (c->pub.log_rows >= 0)
        snprintf(rows, sizeof rows, "%lld", (long long)c->pub.log_rows);
    else
        snprintf(rows, sizeof rows, "-");
    if (c->pub.log_batch >= 0)
        snprintf(batch, sizeof batch, "%d", c->pub.log_batch);
    else
        snprintf(batch, sizeof batch, "-");
    const char *end = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK      ? ""
                      : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? " closed=timeout"
                      : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? " closed=client"
                      : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? " closed=shutdown"
                                                                      : " closed=error";
    log_line(c->h, "verinfer: access %s %s status=%s model=%s rows=%s batch=%s ms=%.3f%s",
             c->method, c->pub.path, status, c->pub.log_model[0] ? c->pub.log_model : "-", rows,
             batch, ms, end);
}

/* ==== Replies ==== */

unsigned vi_http_status_of(vi_status st)
{
    switch (st) {
    case VI_OK:
        return 200;
    case VI_ERR_INVALID:
    case VI_ERR_LIMIT:
    case VI_ERR_VERIFY:
        return 400;
    case VI_ERR_NOT_FOUND:
        return 404;
    case VI_ERR_UNSUPPORTED:
        return 501;
    default:
        return 500;
    }
}

/* Adds the headers to resp, queues it and releases our reference. */
static void queue_reply(req_ctx *c, unsigned status, struct MHD_Response *resp,
                        const char *content_type, const char *const *headers)
{
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (int i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    if (MHD_queue_response(c->conn, status, resp) == MHD_YES) {
        c->replied = 1;
        c->status = status;
    } else {
        log_line(c->h, "verinfer: http: could not queue the %u reply to %s %s", status, c->method,
                 c->pub.path);
    }
    MHD_destroy_response(resp);
}

void vi_http_reply(vi_http_req *r, unsigned status, const char *content_type, void *data,
                   size_t len, int take, const char *const *headers)
{
    req_ctx *c = (req_ctx *)r;
    if (c->replied) {
        log_line(c->h, "verinfer: internal error: a second reply to %s %s was dropped", c->method,
                 r->path);
        if (take)
            free(data);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, len ? data : (void *)"", take && len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (take && !len)
        free(data);
    if (!resp) {
        log_line(c->h, "verinfer: out of memory creating the reply to %s %s", c->method, r->path);
        if (take && len)
            free(data);
        return; /* the connection is closed without a reply */
    }
    queue_reply(c, status, resp, content_type, headers);
}

void vi_http_reply_json(vi_http_req *r, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        static const char OOM[] = "{\"error\":\"out of memory encoding the reply\"}";
        vi_http_reply(r, 500, "application/json", (void *)OOM, sizeof OOM - 1, 0, NULL);
        return;
    }
    vi_http_reply(r, status, "application/json", text, strlen(text), 1, NULL);
}

static void reply_error_v(vi_http_req *r, unsigned status, const char *const *headers,
                          const char *fmt, va_list ap)
{
    char msg[VI_ERROR_MSG_MAX + 256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const vi_http *h = ((req_ctx *)r)->h;
    json_t *custom = h->cfg.error_body ? h->cfg.error_body(r->path, status, msg) : NULL;
    if (custom) {
        char *t = json_dumps(custom, JSON_COMPACT);
        json_decref(custom);
        if (t) {
            vi_http_reply(r, status, "application/json", t, strlen(t), 1, headers);
            return;
        }
    }
    json_t *j = json_object();
    /* a message that is not valid UTF-8 (it quotes client bytes) is still sent, escaped */
    json_t *s = json_string(msg);
    if (!s)
        s = json_string("(the error message is not valid UTF-8)");
    char *text = NULL;
    if (j && s && json_object_set_new(j, "error", s) == 0) {
        s = NULL;
        text = json_dumps(j, JSON_COMPACT);
    }
    json_decref(s);
    json_decref(j);
    if (!text) {
        static const char OOM[] = "{\"error\":\"out of memory encoding the reply\"}";
        vi_http_reply(r, 500, "application/json", (void *)OOM, sizeof OOM - 1, 0, NULL);
        return;
    }
    vi_http_reply(r, status, "application/json", text, strlen(text), 1, headers);
}

void vi_http_reply_error(vi_http_req *r, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_error_v(r, status, NULL, fmt, ap);
    va_end(ap);
}

void vi_http_reply_error_h(vi_http_req *r, unsigned status, const char *const *headers,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_error_v(r, status, headers, fmt, ap);
    va_end(ap);
}

/* ==== Streamed replies ==== */

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    req_ctx *c = cls;
    (void)pos;
    long n = c->stream_fn(&c->pub, c->stream_arg, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)n;
}

void vi_http_reply_stream(vi_http_req *r, unsigned status, const char *content_type,
                          const char *const *headers, vi_http_stream_fn fn, void *arg)
{
    req_ctx *c = (req_ctx *)r;
    if (c->replied) {
        log_line(c->h, "verinfer: internal error: a second reply to %s %s was dropped", c->method,
                 r->path);
        return;
    }
    c->stream_fn = fn;
    c->stream_arg = arg;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, c, NULL);
    if (!resp) {
        log_line(c->h, "verinfer: out of memory creating the reply to %s %s", c->method, r->path);
        return;
    }
    queue_reply(c, status, resp, content_type, headers);
}

const char *vi_http_header(vi_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(((req_ctx *)r)->conn, MHD_HEADER_KIND, name);
}

/* ==== Suspension ==== */

void vi_http_suspend(vi_http_req *r, vi_http_handler resume)
{
    req_ctx *c = (req_ctx *)r;
    r->resume = resume;
    c->suspended = 1;
    MHD_suspend_connection(c->conn);
}

void vi_http_resume(vi_http_req *r)
{
    MHD_resume_connection(((req_ctx *)r)->conn);
}

/* ==== Routing ==== */

/* Whether path matches pattern segment by segment; {x} segments are copied
 * into params (at most VI_HTTP_MAX_PARAMS, each shorter than VI_NAME_MAX). */
static int match_pattern(const char *pattern, const char *path,
                         char params[VI_HTTP_MAX_PARAMS][VI_NAME_MAX], int *n_params)
{
    const char *p = pattern, *u = path;
    int n = 0;
    while (*p == '/' && *u == '/') {
        p++;
        u++;
        size_t pl = strcspn(p, "/"), ul = strcspn(u, "/");
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (ul == 0 || ul >= VI_NAME_MAX || n >= VI_HTTP_MAX_PARAMS)
                return 0;
            memcpy(params[n], u, ul);
            params[n][ul] = '\0';
            n++;
        } else if (pl != ul || memcmp(p, u, pl) != 0) {
            return 0;
        }
        p += pl;
        u += ul;
    }
    *n_params = n;
    return *p == '\0' && *u == '\0';
}

/* Picks the route; replies 404 or 405 itself and returns NULL when none fits. */
static const vi_http_route *route_request(req_ctx *c)
{
    vi_http *h = c->h;
    char params[VI_HTTP_MAX_PARAMS][VI_NAME_MAX];
    char allow[128] = "";
    size_t used = 0;
    for (int i = 0; i < h->n_routes; i++) {
        int n = 0;
        if (!match_pattern(h->routes[i].pattern, c->pub.path, params, &n))
            continue;
        if (strcmp(h->routes[i].method, c->method) == 0) {
            memcpy(c->pub.param, params, sizeof params);
            c->pub.n_params = n;
            return &h->routes[i];
        }
        if (!strstr(allow, h->routes[i].method)) {
            int w = snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "",
                             h->routes[i].method);
            if (w > 0 && (size_t)w < sizeof allow - used)
                used += (size_t)w;
        }
    }
    if (used) {
        const char *hdr[] = {MHD_HTTP_HEADER_ALLOW, allow, NULL};
        vi_http_reply_error_h(&c->pub, 405, hdr, "method %s is not allowed on %s (allowed: %s)",
                              c->method, c->pub.path, allow);
    } else {
        vi_http_reply_error(&c->pub, 404, "no such endpoint: %s %s", c->method, c->pub.path);
    }
    return NULL;
}

/* ==== libmicrohttpd callbacks ==== */

/* First callback of a request: context, route, early limit check. */
static void begin_request(req_ctx *c, const char *url, const char *method)
{
    snprintf(c->method, sizeof c->method, "%s", method);
    c->pub.method = c->method;
    c->pub.log_rows = -1;
    c->pub.log_batch = -1;
    c->pub.body = "";
    if (strlen(url) >= sizeof c->pub.path) {
        snprintf(c->pub.path, sizeof c->pub.path, "%.*s...", (int)sizeof c->pub.path - 4, url);
        vi_http_reply_error(&c->pub, 404, "no such endpoint: the path is longer than %zu bytes",
                            sizeof c->pub.path - 1);
        return;
    }
    snprintf(c->pub.path, sizeof c->pub.path, "%s", url);
    c->route = route_request(c);
    if (!c->route)
        return;
    const char *cl =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && *end == '\0') {
            if (n > c->h->cfg.max_body_bytes) {
                vi_http_reply_error(&c->pub, 413,
                                    "the request body of %llu bytes is larger than the limit of "
                                    "%llu bytes (--max-body-bytes)",
                                    n, (unsigned long long)c->h->cfg.max_body_bytes);
                return;
            }
            c->body_expect = (size_t)n + 1; /* grown to this as the bytes arrive */
        }
    }
}

/* Appends body bytes; past the limit the body is dropped and the rest discarded. */
static void take_body(req_ctx *c, const char *data, size_t n)
{
    uint64_t max = c->h->cfg.max_body_bytes;
    if (c->too_large)
        return;
    if ((uint64_t)c->body_len + n > max) {
        c->too_large = 1;
        free(c->body);
        c->body = NULL;
        c->body_len = 0;
        return;
    }
    if (!c->body || c->body_len + n + 1 > c->body_cap) {
        /* grow by doubling (a client announcing a large body but sending little
         * costs little), never past the announced length or the limit */
        size_t limit = c->body_expect ? c->body_expect : (size_t)max + 1;
        size_t cap = c->body ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        if (cap < c->body_len + n + 1) /* more than announced: MHD would not pass it */
            cap = c->body_len + n + 1;
        char *nb = realloc(c->body, cap);
        if (!nb) {
            c->too_large = c->no_memory = 1;
            free(c->body);
            c->body = NULL;
            c->body_len = 0;
            return;
        }
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
    c->body[c->body_len] = '\0';
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
    vi_http *h = cls;
    req_ctx *c = *con_cls;
    (void)version;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        c->h = h;
        c->conn = conn;
        c->pub.app = h->app;
        c->start_ns = vi_monotonic_ns();
        *con_cls = c;
        atomic_fetch_add(&h->active, 1);
        begin_request(c, url, method);
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(c, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (c->replied)
        return MHD_YES;
    if (c->suspended) {
        vi_http_handler next = c->pub.resume;
        c->suspended = 0;
        c->pub.resume = NULL;
        if (next)
            next(&c->pub);
    } else if (!c->handled) {
        c->handled = 1;
        if (c->no_memory) {
            vi_http_reply_error(&c->pub, 500, "out of memory receiving the request body");
        } else if (c->too_large) {
            vi_http_reply_error(&c->pub, 413,
                                "the request body is larger than the limit of %llu bytes "
                                "(--max-body-bytes)",
                                (unsigned long long)h->cfg.max_body_bytes);
        } else {
            if (c->body) {
                c->pub.body = c->body;
                c->pub.body_len = c->body_len;
            }
            c->route->handler(&c->pub);
        }
    }
    if (!c->replied && !c->suspended)
        vi_http_reply_error(&c->pub, 500, "internal error: %s %s produced no reply", c->method,
                            c->pub.path);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    vi_http *h = cls;
    req_ctx *c = *con_cls;
    (void)conn;
    if (!c)
        return;
    access_log(c, toe);
    if (c->pub.state_free)
        c->pub.state_free(&c->pub, c->pub.state);
    free(c->body);
    free(c);
    *con_cls = NULL;
    atomic_fetch_sub(&h->active, 1);
}

/* ==== Daemon ==== */

/* Creates, binds and listens on a non-blocking socket for host:port. */
static vi_status open_listener(const vi_http_config *cfg, int *fd_out, int *port_out, vi_error *err)
{
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int gr = getaddrinfo(cfg->host, port, &hints, &ai);
    if (gr != 0)
        return vi_fail(err, VI_ERR_IO, "cannot resolve host '%s': %s", cfg->host, gai_strerror(gr));
    vi_status st = VI_OK;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        st = vi_fail(err, VI_ERR_IO, "socket: %s", strerror(errno));
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        st = vi_fail(err, VI_ERR_IO, "setsockopt(SO_REUSEADDR): %s", strerror(errno));
    else if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        st = vi_fail(err, VI_ERR_IO, "cannot listen on %s port %d: %s", cfg->host, cfg->port,
                     strerror(errno));
    else if (listen(fd, 1024) != 0)
        st = vi_fail(err, VI_ERR_IO, "listen on %s port %d: %s", cfg->host, cfg->port,
                     strerror(errno));
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    if (st == VI_OK && getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        st = vi_fail(err, VI_ERR_IO, "getsockname: %s", strerror(errno));
    if (st != VI_OK) {
        if (fd >= 0)
            close(fd);
        return st;
    }
    *port_out = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&sa)->sin_port);
    *fd_out = fd;
    return VI_OK;
}

vi_status vi_http_start(const vi_http_config *cfg, const vi_http_route *routes, int n_routes,
                        void *app, vi_http **out, vi_error *err)
{
    *out = NULL;
    if (cfg->threads < 1 || cfg->threads > 1024)
        return vi_fail(err, VI_ERR_INVALID, "http threads must be 1 to 1024 (got %d)",
                       cfg->threads);
    vi_http *h = calloc(1, sizeof *h);
    if (!h)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory");
    h->cfg = *cfg;
    h->routes = routes;
    h->n_routes = n_routes;
    h->app = app;
    h->listen_fd = -1;
    atomic_init(&h->active, 0);
    vi_status st = open_listener(cfg, &h->listen_fd, &h->port, err);
    if (st != VI_OK) {
        free(h);
        return st;
    }
    /* epoll through an internal thread pool: never a thread per connection */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    struct MHD_OptionItem pool[] = {
        {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)cfg->threads,
         NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    h->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger,
                         h, MHD_OPTION_LISTEN_SOCKET, h->listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
                         MHD_OPTION_ARRAY, pool, MHD_OPTION_END);
    if (!h->daemon) {
        close(h->listen_fd);
        free(h);
        return vi_fail(err, VI_ERR_INTERNAL, "libmicrohttpd could not start on %s port %d",
                       cfg->host, cfg->port);
    }
    *out = h;
    return VI_OK;
}

int vi_http_port(const vi_http *h)
{
    return h->port;
}

void vi_http_quiesce(vi_http *h)
{
    if (!h || h->listen_fd < 0)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    h->listen_fd = -1;
}

int64_t vi_http_active(const vi_http *h)
{
    return atomic_load(&((vi_http *)h)->active);
}

void vi_http_stop(vi_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
