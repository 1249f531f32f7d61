/* bench/bench_http.c — HTTP load benchmark of `verinfer serve`: requests/s,
 * rows/s and p50/p99 latency of KServe v2 inference over keep-alive
 * connections at concurrency 1, 16, 64, 256, JSON vs binary tensor data, for
 * a small MLP (16-64-64-4) and a wide one (1024-1024-1024-16), each next to
 * the in-process throughput of the same model, rows and compute threads
 * (vi_infer_run_batch in a loop over the batch the server's batcher would form:
 * min(concurrency, max_batch_size / rows) requests, its receipts signed with
 * one signature as the batcher signs them, or one per receipt with
 * --sign-per-request) and the ratio HTTP / in-process; then GET /v2/health/ready at concurrency 64
 * (and wrk's figure for it when --wrk is given and wrk is installed).
 *
 * CPU time is read from /proc: "srv us/req" is the server process's CPU time
 * (all threads, user + system) per request answered in the measured window,
 * "cpu us/req" the same for the in-process loop. With --server-cpus and
 * --client-cpus the server and the in-process engine are pinned to one set of
 * CPUs and the load generator to the other, so that the ratio compares equal
 * CPUs and the client's work is not taken from the server's.
 *
 * Before anything is timed, every request of the pool is sent once in each
 * format and its decoded outputs and receipt output_digest must equal the
 * in-process run of the same request. During timing every response's status
 * and body length are checked (a body differing in length counts as an error;
 * the receipt's "batch" object, whose length depends on the request's place
 * in its batch, is not counted).
 *
 * The load generator is an epoll loop (one client thread by default) driving
 * `conc` keep-alive connections, each with one request in flight: closed-loop
 * load. It uses libc and pthreads only; the library is used for the models,
 * the in-process baseline and the validation.
 *
 * Usage: bench_http [--duration S] [--quick] [--url HOST:PORT] [--workdir DIR]
 *                   [--verinfer PATH] [--threads T] [--http-threads H] [--rows R]
 *                   [--concurrency 1,16,64,256] [--client-threads N] [--models small,wide]
 *                   [--wrk] [--sign-per-request] [--server-cpus LIST --client-cpus LIST]
 *   --duration S       seconds measured per cell (default 5; 0.5 s warm-up before)
 *   --quick            a 0.2 s warm-up and, unless --duration is given, 1 s per cell
 *   --url HOST:PORT    use a running server instead of starting one; it must serve
 *                      WORKDIR/repo (models mlp-small and mlp-wide as generated here)
 *   --workdir DIR      where the repository and key are written (default: a new
 *                      directory under /tmp); existing models and key are reused
 *   --verinfer PATH    the binary to start (default: verinfer beside this program)
 *   --threads T        compute threads of the server and of the in-process engine
 *                      (default: online CPUs, or the number of --server-cpus)
 *   --http-threads H   the server's --http-threads (default: the server's default)
 *   --rows R           batch rows per request (default 1)
 *   --wrk              also measure /v2/health/ready and the small model with wrk
 *   --sign-per-request the in-process loop signs each receipt alone (as the
 *                      server did before receipts were signed per batch)
 *   --server-cpus LIST CPUs (e.g. 0-3,6) of the server and the in-process engine;
 *   --client-cpus LIST CPUs of the load generator (and of wrk); give both or
 *                      neither, without a CPU in common. The server's HTTP
 *                      threads then default to the number of server CPUs. */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <pthread.h>

#include "core/hex.h"
#include "core/keys.h"
#include "cpu/cpu_backend.h"
#include "models/gen_model.h"
#include "server/infer.h"
#include "server/kserve.h"
#include "server/receipt_json.h"

#define POOL 16       /* distinct requests per model and format */
#define MAX_CONC 1024 /* most connections of one cell */
#define MAX_BATCH 64  /* max_batch_size of the generated models */

/* ==== options and small helpers ==== */

typedef struct {
    double duration, warmup;
    const char *url;
    char workdir[512];
    char verinfer[1024];
    int threads, http_threads, rows, client_threads, wrk, sign_per_request;
    int conc[8], n_conc;
    int model_mask; /* bit 0 small, bit 1 wide */
    int pin;        /* --server-cpus and --client-cpus given */
    cpu_set_t server_cpus, client_cpus;
    const char *client_cpus_text; /* as given, for taskset */
} options;

static options O;
static char g_host[256] = "127.0.0.1";
static int g_port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "bench_http: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    exit(1);
}

/* splitmix64 -> uniform float in [-1, 1), exact in binary32 and in %.9g */
static float rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)((int32_t)(z >> 40) - (1 << 23)) * (1.0f / 8388608.0f);
}

/* A growing byte buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            die("out of memory%s%s", "", "");
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("bad format%s%s", "", "");
    if ((size_t)n < sizeof tmp) {
        buf_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        die("out of memory%s%s", "", "");
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)n);
    free(big);
}

/* "0-1,3" -> set; 0 when malformed or empty. */
static int parse_cpu_list(const char *v, cpu_set_t *set)
{
    CPU_ZERO(set);
    for (const char *p = v; *p;) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0 || a >= CPU_SETSIZE)
            return 0;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a || b >= CPU_SETSIZE)
                return 0;
        }
        for (long c = a; c <= b; c++)
            CPU_SET((int)c, set);
        if ((*end != ',' && *end != '\0') || (*end == ',' && end[1] == '\0'))
            return 0;
        p = *end ? end + 1 : end;
    }
    return CPU_COUNT(set) > 0;
}

/* CPU seconds (user + system, all threads) used so far by process `pid`; -1 if unknown. */
static double process_cpu_s(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')'); /* the command name may hold spaces */
    unsigned long long ut, st;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ==== HTTP/1.1 response parsing (shared by the validation and the load loop) ==== */

/* Value of header `name` within head[0..n) (status line and headers). */
static int header_value(const char *head, size_t n, const char *name, char *out, size_t outsize)
{
    size_t nl = strlen(name);
    const char *p = head, *end = head + n;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            size_t vl = (size_t)(eol - v) < outsize - 1 ? (size_t)(eol - v) : outsize - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        p = eol + 2;
    }
    return 0;
}

/* Progress of one response in a buffer: 0 incomplete, 1 complete, -1 malformed. */
typedef struct {
    size_t hdr_end; /* bytes of status line + headers + blank line; 0 until seen */
    size_t total;   /* hdr_end + Content-Length */
    int status;
    int close; /* "Connection: close" */
} resp_state;

static int resp_feed(const char *b, size_t len, resp_state *rs)
{
    if (!rs->hdr_end) {
        const char *e = len >= 4 ? memmem(b, len, "\r\n\r\n", 4) : NULL;
        if (!e)
            return 0;
        rs->hdr_end = (size_t)(e - b) + 4;
        if (sscanf(b, "HTTP/1.%*d %d", &rs->status) != 1)
            return -1;
        char v[64];
        if (!header_value(b, rs->hdr_end, "Content-Length", v, sizeof v))
            return -1;
        rs->total = rs->hdr_end + (size_t)strtoull(v, NULL, 10);
        rs->close =
            header_value(b, rs->hdr_end, "Connection", v, sizeof v) && strcasecmp(v, "close") == 0;
    }
    return len >= rs->total ? 1 : 0;
}

static int connect_server(void)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    char port[16];
    snprintf(port, sizeof port, "%d", g_port);
    if (getaddrinfo(g_host, port, &hints, &ai) != 0 || !ai)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* One request on a fresh blocking connection; the whole response in *out. */
static int http_once(const char *raw, size_t len, buf *out, resp_state *rs)
{
    int fd = connect_server();
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, raw + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    memset(rs, 0, sizeof *rs);
    out->len = 0;
    int st = 0;
    while (st == 0) {
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) {
            st = -1;
            break;
        }
        buf_add(out, tmp, (size_t)n);
        st = resp_feed(out->p, out->len, rs);
    }
    close(fd);
    return st == 1 ? 0 : -1;
}

/* A raw HTTP request: request line, headers, body. */
static char *raw_request(const char *method, const char *path, const char *extra, const void *body,
                         size_t body_len, size_t *out_len)
{
    buf b = {0};
    buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n%s", method, path, g_host, extra ? extra : "");
    if (body)
        buf_printf(&b, "Content-Length: %zu\r\n", body_len);
    buf_add(&b, "\r\n", 2);
    if (body)
        buf_add(&b, body, body_len);
    *out_len = b.len;
    return b.p;
}

/* Bytes by which a response body with a batch-signed receipt is longer than
 * with a plain signed one: the ,"batch":{...} member (its length depends on
 * the request's place in its batch) and the "-merkle" of "ed25519-merkle".
 * 0 for a plain signed receipt. */
static size_t batch_member_len(const char *body, size_t n)
{
    static const char KEY[] = ",\"batch\":{";
    const char *p = memmem(body, n, KEY, sizeof KEY - 1);
    const char *end = p ? memchr(p, '}', n - (size_t)(p - body)) : NULL;
    return end ? (size_t)(end - p) + 1 + strlen("-merkle") : 0;
}

/* ==== workloads: what the load loop sends ==== */

typedef struct {
    const char *what;
    int n;           /* distinct requests (1..POOL) */
    char *raw[POOL]; /* complete HTTP requests */
    size_t raw_len[POOL];
    size_t expect_len[POOL]; /* response body length seen at validation */
    int expect_status;
} workload;

static void workload_free(workload *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->raw[i]);
    memset(w, 0, sizeof *w);
}

/* ==== the load loop: epoll, closed loop, one request in flight per connection ==== */

typedef struct {
    int fd;
    int idx;      /* which request of the workload */
    int want_out; /* EPOLLOUT is in the registered interest */
    size_t sent;
    int64_t t0;
    buf in;
    resp_state rs;
} conn;

typedef struct {
    const workload *wl;
    conn *conns;
    int n_conns;
    int64_t *lat; /* ns, completions inside the measured window */
    size_t n_lat, cap_lat;
    uint64_t errors;
    char first_error[256];
    pthread_t thread;
} loop;

enum { PHASE_WARM, PHASE_MEASURE, PHASE_STOP };
static atomic_int g_phase;

static void loop_error(loop *l, const char *fmt, int a, long long b)
{
    if (!l->errors++)
        snprintf(l->first_error, sizeof l->first_error, fmt, a, b);
}

static int conn_open(loop *l, conn *c, int ep)
{
    c->fd = connect_server();
    if (c->fd < 0)
        return -1;
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    (void)l;
    c->want_out = 0;
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Sends what it can of the current request; asks for EPOLLOUT if it must wait. */
static int conn_send(conn *c, const workload *wl, int ep)
{
    const char *raw = wl->raw[c->idx];
    size_t len = wl->raw_len[c->idx];
    while (c->sent < len) {
        ssize_t w = send(c->fd, raw + c->sent, len - c->sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0)
            return -1;
        c->sent += (size_t)w;
    }
    /* the interest changes only when a send must wait (or the wait ends): the
     * common request costs no epoll_ctl */
    int want_out = c->sent < len;
    if (want_out == c->want_out)
        return 0;
    c->want_out = want_out;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int conn_start(conn *c, const workload *wl, int ep)
{
    c->sent = 0;
    c->in.len = 0;
    memset(&c->rs, 0, sizeof c->rs);
    c->t0 = now_ns();
    return conn_send(c, wl, ep);
}

static void conn_reopen(loop *l, conn *c, int ep)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (conn_open(l, c, ep) != 0 || conn_start(c, l->wl, ep) != 0) {
        loop_error(l, "cannot reconnect (connection %d, errno %lld)", (int)(c - l->conns),
                   (long long)errno);
        c->fd = -1;
    }
}

static void loop_record(loop *l, int64_t ns)
{
    if (l->n_lat == l->cap_lat) {
        l->cap_lat = l->cap_lat ? 2 * l->cap_lat : 65536;
        l->lat = realloc(l->lat, l->cap_lat * sizeof *l->lat);
        if (!l->lat)
            die("out of memory%s%s", "", "");
    }
    l->lat[l->n_lat++] = ns;
}

static void conn_readable(loop *l, conn *c, int ep)
{
    for (;;) {
        if (c->in.cap - c->in.len < 16384) {
            c->in.cap = c->in.cap ? 2 * c->in.cap : 65536;
            c->in.p = realloc(c->in.p, c->in.cap);
            if (!c->in.p)
                die("out of memory%s%s", "", "");
        }
        ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            loop_error(l, "connection %d closed by the server mid-request (recv %lld)",
                       (int)(c - l->conns), (long long)n);
            conn_reopen(l, c, ep);
            return;
        }
        c->in.len += (size_t)n;
        int st = resp_feed(c->in.p, c->in.len, &c->rs);
        if (st < 0) {
            loop_error(l, "malformed response on connection %d%lld", (int)(c - l->conns), 0);
            conn_reopen(l, c, ep);
            return;
        }
        if (st == 0)
            continue;
        int64_t t = now_ns();
        if (atomic_load(&g_phase) == PHASE_MEASURE)
            loop_record(l, t - c->t0);
        size_t body = c->rs.total - c->rs.hdr_end;
        body -= batch_member_len(c->in.p + c->rs.hdr_end, body);
        if (c->rs.status != l->wl->expect_status)
            loop_error(l, "status %d (request %lld)", c->rs.status, (long long)c->idx);
        else if (body != l->wl->expect_len[c->idx])
            loop_error(l, "body of %d bytes (request %lld)", (int)body, (long long)c->idx);
        if (atomic_load(&g_phase) == PHASE_STOP)
            return;
        if (c->rs.close)
            conn_reopen(l, c, ep);
        else if (conn_start(c, l->wl, ep) != 0)
            conn_reopen(l, c, ep);
        return;
    }
}

static void *loop_main(void *arg)
{
    loop *l = arg;
    if (O.pin)
        pthread_setaffinity_np(pthread_self(), sizeof O.client_cpus, &O.client_cpus);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < l->n_conns; i++) {
        conn *c = &l->conns[i];
        if (conn_open(l, c, ep) != 0 || conn_start(c, l->wl, ep) != 0) {
            loop_error(l, "cannot connect (connection %d, errno %lld)", i, (long long)errno);
            c->fd = -1;
        }
    }
    struct epoll_event evs[256];
    while (atomic_load(&g_phase) != PHASE_STOP) {
        int n = epoll_wait(ep, evs, 256, 20);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                loop_error(l, "socket error on connection %d%lld", (int)(c - l->conns), 0);
                conn_reopen(l, c, ep);
                continue;
            }
            if ((evs[i].events & EPOLLOUT) && conn_send(c, l->wl, ep) != 0) {
                conn_reopen(l, c, ep);
                continue;
            }
            if (evs[i].events & EPOLLIN)
                conn_readable(l, c, ep);
        }
    }
    for (int i = 0; i < l->n_conns; i++) {
        if (l->conns[i].fd >= 0)
            close(l->conns[i].fd);
        free(l->conns[i].in.p);
    }
    close(ep);
    return NULL;
}

static pid_t g_server; /* 0 with --url */

typedef struct {
    double rps, p50_ms, p99_ms;
    double server_us; /* server CPU time per request in the measured window; -1 unknown */
    uint64_t errors;
    char first_error[256];
} load_result;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* conc connections over min(conc, client_threads) epoll threads. */
static load_result run_load(const workload *wl, int conc)
{
    int nt = O.client_threads < conc ? O.client_threads : conc;
    loop *loops = calloc((size_t)nt, sizeof *loops);
    conn *conns = calloc((size_t)conc, sizeof *conns);
    for (int i = 0; i < conc; i++) {
        conns[i].idx = i % wl->n;
        conns[i].fd = -1;
    }
    atomic_store(&g_phase, PHASE_WARM);
    for (int t = 0, first = 0; t < nt; t++) {
        int n = conc / nt + (t < conc % nt);
        loops[t].wl = wl;
        loops[t].conns = conns + first;
        loops[t].n_conns = n;
        first += n;
        pthread_create(&loops[t].thread, NULL, loop_main, &loops[t]);
    }
    sleep_s(O.warmup);
    double t1 = now_s(), cpu1 = g_server ? process_cpu_s(g_server) : -1;
    atomic_store(&g_phase, PHASE_MEASURE);
    sleep_s(O.duration);
    atomic_store(&g_phase, PHASE_STOP);
    double t2 = now_s(), cpu2 = g_server ? process_cpu_s(g_server) : -1;
    load_result r = {0};
    size_t total = 0;
    for (int t = 0; t < nt; t++) {
        pthread_join(loops[t].thread, NULL);
        total += loops[t].n_lat;
    }
    int64_t *all = malloc((total + 1) * sizeof *all);
    size_t k = 0;
    for (int t = 0; t < nt; t++) {
        memcpy(all + k, loops[t].lat, loops[t].n_lat * sizeof *all);
        k += loops[t].n_lat;
        if (loops[t].errors && !r.errors)
            snprintf(r.first_error, sizeof r.first_error, "%s", loops[t].first_error);
        r.errors += loops[t].errors;
        free(loops[t].lat);
    }
    qsort(all, total, sizeof *all, cmp_i64);
    r.rps = (double)total / (t2 - t1);
    r.server_us = cpu1 >= 0 && cpu2 >= 0 && total ? (cpu2 - cpu1) * 1e6 / (double)total : -1;
    if (total) {
        r.p50_ms = (double)all[(total - 1) / 2] * 1e-6;
        r.p99_ms = (double)all[(size_t)((double)(total - 1) * 0.99)] * 1e-6;
    }
    free(all);
    free(conns);
    free(loops);
    return r;
}

/* ==== models: generation, in-process engine, request pool ==== */

typedef struct {
    const char *name;
    int bit;
    int inputs, hidden[2], classes;
    /* runtime */
    char dir[1024];
    vi_model m;
    vi_backend *be;
    vi_engine e;
    vi_infer_model im;
    char *json[POOL]; /* the pool's requests with JSON data */
    float *x[POOL];   /* their inputs [rows, inputs] */
    vi_kserve_request req[POOL];
    vi_infer_result solo[POOL]; /* in-process answers, for validation */
    workload wl[2];             /* 0 json, 1 binary */
} model;

static model MODELS[] = {
    {.name = "mlp-small", .bit = 1, .inputs = 16, .hidden = {64, 64}, .classes = 4},
    {.name = "mlp-wide", .bit = 2, .inputs = 1024, .hidden = {1024, 1024}, .classes = 16},
};
#define N_MODELS ((int)(sizeof MODELS / sizeof MODELS[0]))

static const char *FORMATS[2] = {"json", "binary"};

static void check(vi_status st, const vi_error *err, const char *what)
{
    if (st != VI_OK)
        die("%s: %s", what, err->msg);
}

static void model_generate(model *md, const char *repo)
{
    vi_error err = {{0}};
    if ((size_t)snprintf(md->dir, sizeof md->dir, "%s/%s", repo, md->name) >= sizeof md->dir)
        die("path too long: %s/%s", repo, md->name);
    char mj[1100];
    snprintf(mj, sizeof mj, "%s/model.json", md->dir);
    if (access(mj, F_OK) != 0) {
        vi_gen_options opt;
        vi_gen_options_default(&opt);
        snprintf(opt.name, sizeof opt.name, "%s", md->name);
        opt.n_inputs = md->inputs;
        opt.hidden[0] = md->hidden[0];
        opt.hidden[1] = md->hidden[1];
        opt.n_hidden = 2;
        opt.n_classes = md->classes;
        opt.max_batch_size = MAX_BATCH;
        check(vi_gen_model(&opt, md->dir, &err), &err, md->name);
    }
}

static void model_open(model *md)
{
    vi_error err = {{0}};
    check(vi_model_load(&md->m, md->dir, &err), &err, md->dir);
    md->be = vi_cpu_backend_create(O.threads, VI_ISA_AUTO, &err);
    if (!md->be)
        die("backend: %s%s", err.msg, "");
    check(vi_engine_init(&md->e, &md->m, md->be, &err), &err, md->name);
    check(vi_infer_model_init(&md->im, &md->m, &md->e, &err), &err, md->name);
}

static void model_close(model *md)
{
    for (int i = 0; i < POOL; i++) {
        vi_infer_result_free(&md->solo[i]);
        vi_kserve_request_free(&md->req[i]);
        free(md->json[i]);
        free(md->x[i]);
    }
    workload_free(&md->wl[0]);
    workload_free(&md->wl[1]);
    vi_engine_free(&md->e);
    if (md->be)
        md->be->destroy(md->be);
    vi_model_free(&md->m);
}

/* The pool: POOL requests of O.rows rows, as JSON and as binary HTTP requests,
 * and their in-process answers. */
static void model_pool(model *md, int model_index)
{
    vi_error err = {{0}};
    int rows = O.rows, f = md->inputs;
    size_t nbytes = (size_t)rows * (size_t)f * sizeof(float);
    char path[256];
    snprintf(path, sizeof path, "/v2/models/%s/infer", md->name);
    for (int i = 0; i < POOL; i++) {
        uint64_t s = 0x5eed0000u + (uint64_t)model_index * 1000 + (uint64_t)i;
        md->x[i] = malloc(nbytes);
        for (int k = 0; k < rows * f; k++)
            md->x[i][k] = rnd(&s);
        buf j = {0};
        buf_printf(&j,
                   "{\"id\":\"bench-%d\",\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\","
                   "\"shape\":[%d,%d],\"data\":[",
                   i, rows, f);
        for (int k = 0; k < rows * f; k++)
            buf_printf(&j, "%s%.9g", k ? "," : "", (double)md->x[i][k]);
        buf_add(&j, "]}]}", 4);
        md->json[i] = j.p;
        check(vi_kserve_parse_request(j.p, j.len, NULL, 0, NULL, &md->req[i], &err), &err,
              "pool request");
        check(vi_infer_run(&md->im, &md->req[i], NULL, 0, &md->solo[i], &err), &err,
              "in-process run");

        md->wl[0].raw[i] = raw_request("POST", path, NULL, j.p, j.len, &md->wl[0].raw_len[i]);

        buf b = {0};
        buf_printf(&b,
                   "{\"id\":\"bench-%d\",\"parameters\":{\"binary_data_output\":true},"
                   "\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[%d,%d],"
                   "\"parameters\":{\"binary_data_size\":%zu}}]}",
                   i, rows, f, nbytes);
        size_t hl = b.len;
        buf_add(&b, md->x[i], nbytes);
        char extra[96];
        snprintf(extra, sizeof extra, "Inference-Header-Content-Length: %zu\r\n", hl);
        md->wl[1].raw[i] = raw_request("POST", path, extra, b.p, b.len, &md->wl[1].raw_len[i]);
        free(b.p);
    }
    for (int w = 0; w < 2; w++) {
        md->wl[w].what = FORMATS[w];
        md->wl[w].n = POOL;
        md->wl[w].expect_status = 200;
    }
}

/* Sends every pool request once per format: outputs and output digest must
 * equal the in-process answer. Records each response's body length. */
static void model_validate(model *md)
{
    for (int w = 0; w < 2; w++) {
        for (int i = 0; i < POOL; i++) {
            buf out = {0};
            resp_state rs;
            if (http_once(md->wl[w].raw[i], md->wl[w].raw_len[i], &out, &rs) != 0)
                die("validation of %s: no response from the server%s", md->name, "");
            if (rs.status != 200)
                die("validation: the server answered %s", out.p, "");
            const char *body = out.p + rs.hdr_end;
            size_t body_len = rs.total - rs.hdr_end, jl = body_len;
            char v[32];
            if (header_value(out.p, rs.hdr_end, "Inference-Header-Content-Length", v, sizeof v))
                jl = (size_t)strtoull(v, NULL, 10);
            if ((w == 1) != (jl < body_len))
                die("validation of %s: the %s request did not get %s outputs", md->name,
                    FORMATS[w]);
            vi_kserve_response got = {0};
            vi_error err = {{0}};
            check(vi_kserve_parse_response(body, jl, (const uint8_t *)body + jl, body_len - jl,
                                           &got, &err),
                  &err, "validation: response");
            const vi_infer_result *want = &md->solo[i];
            int same = got.n_outputs == want->n_outputs;
            for (int k = 0; same && k < got.n_outputs; k++) {
                size_t bytes = (size_t)vi_tensor_numel(&want->outputs[k]) *
                               vi_dtype_size(want->outputs[k].dtype);
                same = vi_tensor_numel(&got.outputs[k]) == vi_tensor_numel(&want->outputs[k]) &&
                       got.outputs[k].dtype == want->outputs[k].dtype &&
                       memcmp(got.outputs[k].data, want->outputs[k].data, bytes) == 0;
            }
            char hex[65];
            vi_hex_encode(want->receipt.output_digest, 32, hex);
            const char *od = json_string_value(json_object_get(got.receipt, "output_digest"));
            if (!same || !od || strcmp(od, hex) != 0)
                die("validation of %s (%s): the response differs from the in-process run", md->name,
                    FORMATS[w]);
            md->wl[w].expect_len[i] = body_len - batch_member_len(body, body_len);
            vi_kserve_response_free(&got);
            free(out.p);
        }
    }
}

/* In-process requests/s: batches of k pool requests through vi_infer_run_batch
 * (engine, output split, digests) and vi_receipt_seal_batch (one signature),
 * as the batcher runs them; with --sign-per-request one signature each. */
static double inproc_rate(model *md, int k, EVP_PKEY *key, double *cpu_us)
{
    vi_error err = {{0}};
    vi_infer_job *jobs = calloc((size_t)k, sizeof *jobs);
    vi_infer_job **ptrs = calloc((size_t)k, sizeof *ptrs);
    vi_receipt **receipts = calloc((size_t)k, sizeof *receipts);
    for (int j = 0; j < k; j++) {
        check(vi_infer_prepare(&md->im, &md->req[j % POOL], &jobs[j], &err), &err, "prepare");
        ptrs[j] = &jobs[j];
    }
    double t0 = now_s(), t1 = 0, cpu1 = 0;
    long batches = 0;
    for (int measuring = 0;;) {
        check(vi_infer_run_batch(&md->im, ptrs, k, O.sign_per_request ? key : NULL,
                                 (int64_t)time(NULL), &err),
              &err, "in-process batch");
        for (int j = 0; j < k; j++) {
            if (jobs[j].status != VI_OK)
                die("in-process job: %s%s", jobs[j].err.msg, "");
            receipts[j] = &jobs[j].res.receipt;
        }
        if (!O.sign_per_request)
            check(vi_receipt_seal_batch(receipts, k, key, &err), &err, "in-process signing");
        for (int j = 0; j < k; j++)
            vi_infer_result_free(&jobs[j].res);
        double t = now_s();
        if (!measuring && t - t0 >= O.warmup) {
            measuring = 1;
            t1 = t;
            cpu1 = process_cpu_s(getpid());
            batches = 0;
        } else if (measuring) {
            batches++;
            if (t - t1 >= O.duration)
                break;
        }
    }
    double rate = (double)batches * k / (now_s() - t1);
    *cpu_us = (process_cpu_s(getpid()) - cpu1) * 1e6 / ((double)batches * k);
    for (int j = 0; j < k; j++)
        vi_infer_job_free(&jobs[j]);
    free(jobs);
    free(ptrs);
    free(receipts);
    return rate;
}

/* ==== the server ==== */

static void start_server(const char *repo, const char *key)
{
    char ready[700], log[700];
    snprintf(ready, sizeof ready, "%s/port", O.workdir);
    snprintf(log, sizeof log, "%s/server.log", O.workdir);
    unlink(ready);
    char threads[16], http_threads[16];
    snprintf(threads, sizeof threads, "%d", O.threads);
    snprintf(http_threads, sizeof http_threads, "%d", O.http_threads);
    const char *argv[24];
    int a = 0;
    argv[a++] = O.verinfer;
    argv[a++] = "serve";
    argv[a++] = "--model-repo";
    argv[a++] = repo;
    argv[a++] = "--key";
    argv[a++] = key;
    argv[a++] = "--port";
    argv[a++] = "0";
    argv[a++] = "--ready-file";
    argv[a++] = ready;
    argv[a++] = "--threads";
    argv[a++] = threads;
    argv[a++] = "--no-access-log";
    if (O.http_threads > 0) {
        argv[a++] = "--http-threads";
        argv[a++] = http_threads;
    }
    argv[a] = NULL;
    g_server = fork();
    if (g_server < 0)
        die("fork: %s%s", strerror(errno), "");
    if (g_server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (O.pin)
            sched_setaffinity(0, sizeof O.server_cpus, &O.server_cpus);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        execv(O.verinfer, (char *const *)argv);
        _exit(127);
    }
    for (int waited = 0; waited < 120000; waited += 10) {
        FILE *f = fopen(ready, "r");
        if (f) {
            int p = 0;
            if (fscanf(f, "%d", &p) == 1 && p > 0)
                g_port = p;
            fclose(f);
            if (g_port)
                return;
        }
        int st;
        if (waitpid(g_server, &st, WNOHANG) == g_server)
            die("the server exited at startup; see %s%s", log, "");
        sleep_s(0.01);
    }
    die("the server did not become ready; see %s%s", log, "");
}

static int stop_server(void)
{
    int st = 0;
    kill(g_server, SIGTERM);
    if (waitpid(g_server, &st, 0) != g_server)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A metric of one model from /metrics (for the mean batch size of a cell). */
static int64_t server_metric(const char *model_name, const char *series)
{
    size_t len;
    char *raw = raw_request("GET", "/metrics", NULL, NULL, 0, &len);
    buf out = {0};
    resp_state rs;
    int64_t v = -1;
    if (http_once(raw, len, &out, &rs) == 0 && rs.status == 200) {
        char needle[256];
        snprintf(needle, sizeof needle, "\n%s{model=\"%s\",version=\"1\"} ", series, model_name);
        const char *p = strstr(out.p, needle);
        if (p)
            v = strtoll(p + strlen(needle), NULL, 10);
    }
    free(out.p);
    free(raw);
    return v;
}

/* ==== wrk (optional) ==== */

/* Writes a wrk Lua script that POSTs `raw`'s body with its extra header. */
static void wrk_script(const char *path, const char *raw, size_t len)
{
    const char *body = memmem(raw, len, "\r\n\r\n", 4) + 4;
    size_t blen = len - (size_t)(body - raw);
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write %s%s", path, "");
    fprintf(f, "wrk.method = \"POST\"\n");
    char v[64];
    if (header_value(raw, (size_t)(body - raw), "Inference-Header-Content-Length", v, sizeof v))
        fprintf(f, "wrk.headers[\"Inference-Header-Content-Length\"] = \"%s\"\n", v);
    fprintf(f, "wrk.body = \"");
    for (size_t i = 0; i < blen; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            fputc(c, f);
        else
            fprintf(f, "\\%03u", c);
    }
    fprintf(f, "\"\n");
    fclose(f);
}

/* Runs wrk and prints its requests/s and latency lines. */
static void run_wrk(const char *label, const char *path, const char *script, int conc)
{
    char cmd[2048];
    /* pinned: wrk runs on the client CPUs, like the built-in load generator */
    char pin[1200] = "";
    if (O.pin &&
        (size_t)snprintf(pin, sizeof pin, "taskset -c '%s' ", O.client_cpus_text) >= sizeof pin)
        die("--client-cpus %s: the list is too long for taskset here%s", O.client_cpus_text, "");
    snprintf(cmd, sizeof cmd, "%swrk -t2 -c%d -d%ds --latency %s%s 'http://%s:%d%s' 2>&1", pin,
             conc, (int)(O.duration + 0.5) > 0 ? (int)(O.duration + 0.5) : 1, script ? "-s " : "",
             script ? script : "", g_host, g_port, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[512];
    printf("wrk %-34s c=%-4d", label, conc);
    while (fgets(line, sizeof line, p)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "\n")] = '\0';
        if (!strncmp(s, "Requests/sec:", 13) || !strncmp(s, "50%", 3) || !strncmp(s, "99%", 3) ||
            !strncmp(s, "Non-2xx", 7) || !strncmp(s, "Socket errors", 13))
            printf("  %s", s);
    }
    printf("\n");
    pclose(p);
}

/* ==== main ==== */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_http [--duration S] [--quick] [--url HOST:PORT] [--workdir DIR]\n"
            "                  [--verinfer PATH] [--threads T] [--http-threads H] [--rows R]\n"
            "                  [--concurrency 1,16,64,256] [--client-threads N]\n"
            "                  [--models small,wide] [--wrk] [--sign-per-request]\n"
            "                  [--server-cpus LIST --client-cpus LIST]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    O.duration = 5;
    O.warmup = 0.5;
    O.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    O.rows = 1;
    O.client_threads = 1;
    O.model_mask = 3;
    int c4[] = {1, 16, 64, 256};
    memcpy(O.conc, c4, sizeof c4);
    O.n_conc = 4;
    int quick = 0, duration_given = 0, threads_given = 0, server_cpus = 0, client_cpus = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--wrk")) {
            O.wrk = 1;
        } else if (!strcmp(a, "--sign-per-request")) {
            O.sign_per_request = 1;
        } else if (!v) {
            usage();
        } else if (!strcmp(a, "--duration")) {
            O.duration = atof(v), duration_given = 1, i++;
        } else if (!strcmp(a, "--url")) {
            O.url = v, i++;
        } else if (!strcmp(a, "--workdir")) {
            snprintf(O.workdir, sizeof O.workdir, "%s", v), i++;
        } else if (!strcmp(a, "--verinfer")) {
            snprintf(O.verinfer, sizeof O.verinfer, "%s", v), i++;
        } else if (!strcmp(a, "--threads")) {
            O.threads = atoi(v), threads_given = 1, i++;
        } else if (!strcmp(a, "--server-cpus")) {
            if (!parse_cpu_list(v, &O.server_cpus))
                usage();
            server_cpus = 1, i++;
        } else if (!strcmp(a, "--client-cpus")) {
            if (!parse_cpu_list(v, &O.client_cpus))
                usage();
            O.client_cpus_text = v;
            client_cpus = 1, i++;
        } else if (!strcmp(a, "--http-threads")) {
            O.http_threads = atoi(v), i++;
        } else if (!strcmp(a, "--rows")) {
            O.rows = atoi(v), i++;
        } else if (!strcmp(a, "--client-threads")) {
            O.client_threads = atoi(v), i++;
        } else if (!strcmp(a, "--models")) {
            O.model_mask = (strstr(v, "small") ? 1 : 0) | (strstr(v, "wide") ? 2 : 0), i++;
        } else if (!strcmp(a, "--concurrency")) {
            O.n_conc = 0;
            for (const char *p = v; *p && O.n_conc < 8;
                 p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
                O.conc[O.n_conc++] = atoi(p);
            i++;
        } else {
            usage();
        }
    }
    if (server_cpus != client_cpus)
        usage(); /* both or neither */
    O.pin = server_cpus;
    if (O.pin) {
        cpu_set_t both;
        CPU_AND(&both, &O.server_cpus, &O.client_cpus);
        if (CPU_COUNT(&both) > 0)
            usage(); /* the point is to keep them apart */
        if (!threads_given)
            O.threads = CPU_COUNT(&O.server_cpus);
        if (O.http_threads <= 0)
            O.http_threads = CPU_COUNT(&O.server_cpus);
    }
    if (quick) {
        if (!duration_given)
            O.duration = 1;
        O.warmup = 0.2;
    }
    if (O.duration <= 0 || O.threads < 1 || O.rows < 1 || O.rows > MAX_BATCH ||
        O.client_threads < 1 || !O.model_mask || O.n_conc < 1)
        usage();
    for (int i = 0; i < O.n_conc; i++)
        if (O.conc[i] < 1 || O.conc[i] > MAX_CONC)
            usage();
    if (!O.verinfer[0]) {
        char self[1024];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            die("cannot find this program's directory; give --verinfer%s%s", "", "");
        self[n] = '\0';
        snprintf(O.verinfer, sizeof O.verinfer, "%s/verinfer", dirname(self));
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    /* the in-process engine's threads (created by this thread) and the server
     * get the server CPUs; the client threads move to theirs */
    if (O.pin && sched_setaffinity(0, sizeof O.server_cpus, &O.server_cpus) != 0)
        die("--server-cpus: %s%s", strerror(errno), "");
    if (!O.workdir[0]) {
        snprintf(O.workdir, sizeof O.workdir, "/tmp/bench_http-XXXXXX");
        if (!mkdtemp(O.workdir))
            die("mkdtemp: %s%s", strerror(errno), "");
    }
    mkdir(O.workdir, 0700);
    char repo[700], keypath[700];
    snprintf(repo, sizeof repo, "%s/repo", O.workdir);
    snprintf(keypath, sizeof keypath, "%s/node.key", O.workdir);
    vi_error err = {{0}};
    if (access(keypath, F_OK) != 0)
        check(vi_key_generate(keypath, &err), &err, keypath);
    EVP_PKEY *key = NULL;
    check(vi_key_load(keypath, &key, &err), &err, keypath);

    for (int i = 0; i < N_MODELS; i++)
        if (O.model_mask & MODELS[i].bit)
            model_generate(&MODELS[i], repo);
    if (O.url) {
        const char *colon = strrchr(O.url, ':');
        if (!colon || colon == O.url)
            usage();
        snprintf(g_host, sizeof g_host, "%.*s", (int)(colon - O.url), O.url);
        g_port = atoi(colon + 1);
    } else {
        start_server(repo, keypath);
    }
    for (int i = 0; i < N_MODELS; i++) {
        if (!(O.model_mask & MODELS[i].bit))
            continue;
        model_open(&MODELS[i]);
        model_pool(&MODELS[i], i);
        model_validate(&MODELS[i]);
    }

    char cpu[256] = "?";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[512];
        while (fgets(line, sizeof line, ci))
            if (!strncmp(line, "model name", 10)) {
                snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
                cpu[strcspn(cpu, "\n")] = '\0';
                break;
            }
        fclose(ci);
    }
    char http_threads[64];
    if (O.http_threads > 0)
        snprintf(http_threads, sizeof http_threads, "%d", O.http_threads);
    else
        snprintf(http_threads, sizeof http_threads, "the server's default");
    printf("bench_http: %s on %s:%d; %ld CPUs (%s)\n"
           "bench_http: compute threads %d (server and in-process), HTTP threads %s, %d row(s) "
           "per request, %.1f s per cell after %.1f s warm-up, %d client thread(s)\n"
           "bench_http: validated: each of the %d pool requests per model and format equals the "
           "in-process run, bit for bit\n",
           O.url ? "running server" : "verinfer serve", g_host, g_port,
           sysconf(_SC_NPROCESSORS_ONLN), cpu, O.threads, http_threads, O.rows, O.duration,
           O.warmup, O.client_threads, POOL);
    if (O.pin) {
        char sc[256] = "", cc[256] = "";
        for (int c = 0, ns = 0, nc = 0; c < CPU_SETSIZE; c++) {
            if (CPU_ISSET(c, &O.server_cpus))
                ns += snprintf(sc + ns, sizeof sc - (size_t)ns, "%s%d", ns ? "," : "", c);
            if (CPU_ISSET(c, &O.client_cpus))
                nc += snprintf(cc + nc, sizeof cc - (size_t)nc, "%s%d", nc ? "," : "", c);
            if (ns >= (int)sizeof sc - 8 || nc >= (int)sizeof cc - 8)
                break;
        }
        printf("bench_http: server and in-process engine on CPU(s) %s; client on CPU(s) %s\n", sc,
               cc);
    }
    printf("bench_http: in-process receipts signed %s\n",
           O.sign_per_request ? "one by one (--sign-per-request)"
                              : "once per batch, as the server does");
    printf("\n%-10s %-6s %5s %10s %10s %8s %8s %9s %9s %6s | %12s %5s %9s %6s\n", "model", "format",
           "conc", "req/s", "rows/s", "p50 ms", "p99 ms", "rows/exec", "srv us/req", "errors",
           "in-proc req/s", "batch", "cpu us/req", "ratio");
    int failures = 0;
    for (int mi = 0; mi < N_MODELS; mi++) {
        model *md = &MODELS[mi];
        if (!(O.model_mask & md->bit))
            continue;
        double inproc[8], inproc_cpu_us[8];
        int batch[8];
        for (int ci2 = 0; ci2 < O.n_conc; ci2++) {
            int per = MAX_BATCH / O.rows > 0 ? MAX_BATCH / O.rows : 1;
            batch[ci2] = O.conc[ci2] < per ? O.conc[ci2] : per;
            inproc[ci2] = inproc_rate(md, batch[ci2], key, &inproc_cpu_us[ci2]);
        }
        for (int w = 0; w < 2; w++) {
            for (int ci2 = 0; ci2 < O.n_conc; ci2++) {
                int64_t rows0 = server_metric(md->name, "verinfer_inference_count");
                int64_t exec0 = server_metric(md->name, "verinfer_inference_exec_count");
                load_result r = run_load(&md->wl[w], O.conc[ci2]);
                int64_t rows1 = server_metric(md->name, "verinfer_inference_count");
                int64_t exec1 = server_metric(md->name, "verinfer_inference_exec_count");
                double per_exec =
                    exec1 > exec0 ? (double)(rows1 - rows0) / (double)(exec1 - exec0) : 0.0;
                char srv[32];
                if (r.server_us >= 0)
                    snprintf(srv, sizeof srv, "%.1f", r.server_us);
                else
                    snprintf(srv, sizeof srv, "-");
                printf(
                    "%-10s %-6s %5d %10.0f %10.0f %8.3f %8.3f %9.1f %9s %6llu | %12.0f %5d %9.1f "
                    "%6.2f\n",
                    md->name, FORMATS[w], O.conc[ci2], r.rps, r.rps * O.rows, r.p50_ms, r.p99_ms,
                    per_exec, srv, (unsigned long long)r.errors, inproc[ci2], batch[ci2],
                    inproc_cpu_us[ci2], r.rps / inproc[ci2]);
                if (r.errors) {
                    printf("    first error: %s\n", r.first_error);
                    failures++;
                }
                fflush(stdout);
            }
        }
    }

    workload health = {.what = "health", .n = 1, .expect_status = 200};
    health.raw[0] = raw_request("GET", "/v2/health/ready", NULL, NULL, 0, &health.raw_len[0]);
    load_result h = run_load(&health, 64);
    printf("\nGET /v2/health/ready  c=64: %.0f req/s, p50 %.3f ms, p99 %.3f ms, %llu errors\n",
           h.rps, h.p50_ms, h.p99_ms, (unsigned long long)h.errors);
    if (h.errors) {
        printf("    first error: %s\n", h.first_error);
        failures++;
    }
    workload_free(&health);

    if (O.wrk) {
        if (system("command -v wrk >/dev/null 2>&1") != 0) {
            printf("wrk: not installed\n");
        } else {
            run_wrk("GET /v2/health/ready", "/v2/health/ready", NULL, 64);
            for (int mi = 0; mi < N_MODELS; mi++) {
                model *md = &MODELS[mi];
                if (!(O.model_mask & md->bit))
                    continue;
                for (int w = 0; w < 2; w++) {
                    char script[800], path[256], label[128];
                    snprintf(script, sizeof script, "%s/wrk-%s-%s.lua", O.workdir, md->name,
                             FORMATS[w]);
                    wrk_script(script, md->wl[w].raw[0], md->wl[w].raw_len[0]);
                    snprintf(path, sizeof path, "/v2/models/%s/infer", md->name);
                    snprintf(label, sizeof label, "POST %s %s", md->name, FORMATS[w]);
                    run_wrk(label, path, script, 64);
                }
            }
        }
    }

    for (int i = 0; i < N_MODELS; i++)
        if (O.model_mask & MODELS[i].bit)
            model_close(&MODELS[i]);
    vi_key_free(key);
    if (!O.url) {
        int st = stop_server();
        printf("server stopped with exit status %d\n", st);
        if (st != 0)
            failures++;
    }
    printf("workdir: %s\n", O.workdir);
    return failures ? 1 : 0;
}
