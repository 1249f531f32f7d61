/* tests/test_util.c — shared test helpers (see test_util.h). */
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t vt_next(vt_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float vt_uniform(vt_rng *r, float lo, float hi)
{
    float u = (float)(vt_next(r) >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
}

int64_t vt_range(vt_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(vt_next(r) % (uint64_t)(hi - lo + 1));
}

char *vt_tmpdir(const char *tag, char *out, size_t outsize)
{
    const char *base = getenv("VERINFER_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(out, outsize, "%s/%s-XXXXXX", base, tag);
    if (!mkdtemp(out)) {
        fprintf(stderr, "mkdtemp(%s): %s\n", out, strerror(errno));
        abort();
    }
    return out;
}

int vt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return (n == len && rc == 0) ? 0 : -1;
}

char *vt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (used + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        if (n == 0)
            break;
        used += n;
    }
    fclose(f);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}

const char *vt_bin(void)
{
    const char *b = getenv("VERINFER_BIN");
    return b ? b : "./verinfer";
}

const char *vt_src(void)
{
    const char *s = getenv("VERINFER_SRC");
    return s ? s : ".";
}

int vt_run(const char *cmd, char **out, char **err)
{
    char dir[512], full[8192], outp[600], errp[600];
    vt_tmpdir("run", dir, sizeof dir);
    snprintf(outp, sizeof outp, "%s/stdout", dir);
    snprintf(errp, sizeof errp, "%s/stderr", dir);
    snprintf(full, sizeof full, "%s >'%s' 2>'%s' </dev/null", cmd, outp, errp);
    int st = system(full);
    if (out)
        *out = vt_read_file(outp, NULL);
    if (err)
        *err = vt_read_file(errp, NULL);
    unlink(outp);
    unlink(errp);
    rmdir(dir);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* ==== HTTP client ==== */

int vt_http_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends everything it can; a server that answers early may close first. */
static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

char *vt_http_header(const char *headers_text, const char *name, char *out, size_t outsize)
{
    size_t nl = strlen(name);
    const char *line = strstr(headers_text, "\r\n");
    while (line && line[2] != '\r' && line[2] != '\0') {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strcspn(v, "\r\n");
            if (vl >= outsize)
                vl = outsize - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

int vt_http_on(int fd, const char *method, const char *path, const char *extra_headers,
               const void *body, size_t body_len, int *status, char **headers_text, char **body_out,
               size_t *body_len_out)
{
    char head[8192];
    int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                      extra_headers ? extra_headers : "");
    if (body && hl > 0 && (size_t)hl < sizeof head)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "Content-Length: %zu\r\n", body_len);
    if (hl > 0 && (size_t)hl < sizeof head)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "\r\n");
    if (hl <= 0 || (size_t)hl >= sizeof head)
        return -1;
    send_all(fd, head, (size_t)hl);
    if (body && body_len)
        send_all(fd, body, body_len);

    size_t cap = 1 << 16, used = 0, hdr_end = 0, want = (size_t)-1;
    char *buf = malloc(cap);
    for (;;) {
        if (!hdr_end) {
            char *e = used ? memmem(buf, used, "\r\n\r\n", 4) : NULL;
            if (e) {
                hdr_end = (size_t)(e - buf) + 4;
                buf[hdr_end - 2] = '\0';
                char cl[32];
                if (vt_http_header(buf, "Content-Length", cl, sizeof cl))
                    want = hdr_end + (size_t)strtoull(cl, NULL, 10);
                buf[hdr_end - 2] = '\r';
            }
        }
        if (hdr_end && used >= want)
            break;
        if (used + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t n = recv(fd, buf + used, cap - used - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    if (!hdr_end || (want != (size_t)-1 && used < want) ||
        sscanf(buf, "HTTP/1.%*d %d", status) != 1) {
        free(buf);
        return -1;
    }
    if (want == (size_t)-1)
        want = used;
    if (headers_text) {
        *headers_text = malloc(hdr_end + 1);
        memcpy(*headers_text, buf, hdr_end);
        (*headers_text)[hdr_end] = '\0';
    }
    if (body_out) {
        *body_out = malloc(want - hdr_end + 1);
        memcpy(*body_out, buf + hdr_end, want - hdr_end);
        (*body_out)[want - hdr_end] = '\0';
    }
    if (body_len_out)
        *body_len_out = want - hdr_end;
    free(buf);
    return 0;
}

int vt_http(int port, const char *method, const char *path, const char *extra_headers,
            const void *body, size_t body_len, int *status, char **headers_text, char **body_out,
            size_t *body_len_out)
{
    int fd = vt_http_connect(port);
    if (fd < 0)
        return -1;
    char hdrs[4096];
    snprintf(hdrs, sizeof hdrs, "Connection: close\r\n%s", extra_headers ? extra_headers : "");
    int rc = vt_http_on(fd, method, path, hdrs, body, body_len, status, headers_text, body_out,
                        body_len_out);
    close(fd);
    return rc;
}

/* ==== Server process ==== */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int vt_server_start(const char *args, int *pid, int *port)
{
    char dir[512], ready[600], cmd[8192];
    vt_tmpdir("serve", dir, sizeof dir);
    snprintf(ready, sizeof ready, "%s/port", dir);
    snprintf(cmd, sizeof cmd, "exec '%s' serve %s --port 0 --ready-file '%s'", vt_bin(), args,
             ready);
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    *pid = (int)child;
    for (int waited = 0; waited < 60000; waited += 10) {
        char *text = vt_read_file(ready, NULL);
        int p = text ? atoi(text) : 0;
        free(text);
        if (p > 0) {
            *port = p;
            unlink(ready); /* the server's own unlink at exit then finds nothing */
            rmdir(dir);
            return 0;
        }
        int st;
        if (waitpid(child, &st, WNOHANG) == child) {
            fprintf(stderr, "vt_server_start: the server exited (status %d)\n", st);
            return -1;
        }
        sleep_ms(10);
    }
    vt_server_stop((int)child);
    return -1;
}

int vt_server_stop(int pid)
{
    int st = 0;
    if (kill((pid_t)pid, SIGTERM) != 0)
        return -1;
    for (int waited = 0; waited < 20000; waited += 10) {
        pid_t w = waitpid((pid_t)pid, &st, WNOHANG);
        if (w == (pid_t)pid)
            return st;
        if (w < 0)
            return -1;
        sleep_ms(10);
    }
    fprintf(stderr, "vt_server_stop: pid %d ignored SIGTERM for 20 s: SIGKILL\n", pid);
    kill((pid_t)pid, SIGKILL);
    return waitpid((pid_t)pid, &st, 0) == (pid_t)pid ? st : -1;
}
