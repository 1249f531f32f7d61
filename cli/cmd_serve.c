/* cli/cmd_serve.c — `verinfer serve --model-repo DIR ...`: the KServe v2
 * REST server. Parses the flags, loads the repository (one backend per
 * model, plus workers sharing its weights on a GPU), starts the HTTP daemon,
 * announces the port (--ready-file), then waits for SIGTERM/SIGINT in
 * sigwait (no signal handler): stop accepting, let queued and running
 * requests finish, free everything, exit 0. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/hex.h"
#include "core/keys.h"
#include "cpu/cpu_backend.h"
#include "cpu/threadpool.h"
#include "server/bg_worker.h"
#include "server/http.h"
#include "server/llm_sched.h"
#include "server/repo.h"
#include "server/routes.h"

static void serve_usage(FILE *f)
{
    fprintf(f,
            "usage: verinfer serve --model-repo DIR [options]\n\n"
            "Serves every model of DIR (each subdirectory with a model.json; the directory\n"
            "name is the model name) over the KServe v2 / Open Inference Protocol REST API\n"
            "with Triton's binary tensor, repository and configuration extensions. Requests\n"
            "are batched dynamically; every answer is bit-identical to 'verinfer run' of the\n"
            "same request and carries a receipt. docs/server.md describes the endpoints.\n"
            "A request may ask for fast mode (\"parameters\": {\"verinfer_mode\": \"fast\"}, or\n"
            "model.json \"mode\"): cuBLAS with TF32 on a GPU, exact kernels on the CPU; its\n"
            "receipt says mode \"fast\" and the tolerance it claims (docs/fast-mode.md).\n\n"
            "options:\n"
            "  --model-repo DIR          the model repository (required)\n"
            "  --host HOST               address to listen on (default 127.0.0.1: this machine\n"
            "                            only; 0.0.0.0 or :: listens on every interface)\n"
            "  --port N                  TCP port (default 8000; 0 picks a free port)\n"
            "  --ready-file PATH         once listening, write the port number to PATH\n"
            "                            (atomically: temporary file + rename); removed at exit\n"
            "  --key KEYFILE             sign receipts with this Ed25519 key (default:\n"
            "                            $VERINFER_KEY); without a key receipts are unsigned\n"
            "  --threads N               compute threads per model (default: the online\n"
            "                            CPUs, at most 64)\n"
            "  --isa NAME                auto|scalar|avx2|avx512 (default auto)\n"
            "  --backend B               auto (a working GPU, else the CPU; default), cpu, cuda\n"
            "  --device N                CUDA device index (default 0)\n"
            "                            (threads, ISA and backend never change a bit)\n"
            "  --http-threads N          HTTP handler threads, epoll thread pool (default:\n"
            "                            online CPUs, at most 16)\n"
            "  --connection-timeout S    close connections idle for S seconds (default 30;\n"
            "                            0 = never)\n"
            "  --max-body-bytes N        largest request body (default 67108864 = 64 MiB);\n"
            "                            larger ones get 413\n"
            "  --max-elements N          largest tensor in a request, in elements (default\n"
            "                            16777216 = 2^24)\n"
            "  --max-json-depth N        deepest JSON nesting in a request (default 64)\n"
            "  --max-batch-size N        rows per engine execution for every model (default:\n"
            "                            each model's max_batch_size; a request may never have\n"
            "                            more rows than its model's max_batch_size)\n"
            "  --max-queue-delay-us N    how long the oldest queued request may wait for\n"
            "                            others (default: model.json dynamic_batching, else 0)\n"
            "  --preferred-batch-size A,B  preferred batch sizes in rows, ascending (default:\n"
            "                            model.json dynamic_batching, else none)\n"
            "  --max-queue-size N        requests waiting per model before 503 (default:\n"
            "                            model.json dynamic_batching, else 0 = unbounded)\n"
            "  --llm PATH.gguf[:NAME]    also serve this llama GGUF language model under the\n"
            "                            OpenAI-compatible /v1 API (repeatable; NAME defaults\n"
            "                            to the file stem); --model-repo is then optional\n"
            "  --llm-max-seqs N          sequences generated at once per LLM (default 8)\n"
            "  --llm-ctx N               context per sequence (default 2048, capped by the\n"
            "                            model's)\n"
            "  --llm-step-tokens N       prompt tokens prefilled per scheduler step (default 256)\n"
            "  --llm-max-queue N         completions waiting per LLM before 503 (default 64)\n"
            "  --llm-verify-queue N      /v1/verify re-executions waiting before 503 (default\n"
            "                            16; they run on a background thread, one at a time)\n"
            "  --no-access-log           do not write one line per request to stderr\n"
            "  -h, --help                this text\n\n"
            "SIGTERM or SIGINT: stop accepting connections, finish queued requests, exit 0.\n"
            "exit status: 0 after a signal, 1 the server could not start, 2 usage error\n");
}

typedef struct serve_opts {
    const char *repo, *host, *ready_file, *key_path;
    long port, http_threads, timeout, max_elements, max_depth;
    long max_body;
    int access_log;
    cli_backend_opts backend;
    vi_repo_batch_overrides batch;
    const char *llm[16];
    int n_llm;
    long llm_max_seqs, llm_ctx, llm_step, llm_queue, llm_verify_queue;
} serve_opts;

/* --preferred-batch-size A,B,...: ascending positive integers. */
static int parse_preferred(const char *v, vi_repo_batch_overrides *b)
{
    b->n_preferred = 0;
    const char *p = v;
    while (*p) {
        char *end = NULL;
        errno = 0;
        long n = strtol(p, &end, 10);
        if (end == p || errno || n < 1 || n > (1L << 30) ||
            (b->n_preferred > 0 && n <= b->preferred[b->n_preferred - 1]) ||
            b->n_preferred == VI_BATCH_MAX_PREFERRED || (*end != ',' && *end != '\0')) {
            fprintf(stderr,
                    "verinfer serve: --preferred-batch-size needs up to %d ascending positive "
                    "integers separated by commas (got '%s')\n",
                    VI_BATCH_MAX_PREFERRED, v);
            return -1;
        }
        b->preferred[b->n_preferred++] = (int)n;
        p = *end ? end + 1 : end;
    }
    if (b->n_preferred == 0) {
        fprintf(stderr, "verinfer serve: --preferred-batch-size needs at least one size\n");
        return -1;
    }
    return 0;
}

/* Returns 0 to serve, or the exit code. */
static int parse_args(int argc, char **argv, serve_opts *o)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8000;
    o->http_threads = online < 1 ? 1 : online > 16 ? 16 : online;
    o->timeout = 30;
    o->max_body = 64L << 20;
    o->max_elements = 1L << 24;
    o->max_depth = 64;
    o->access_log = 1;
    o->key_path = getenv("VERINFER_KEY");
    cli_backend_opts_default(&o->backend);
    o->batch.max_batch_size = -1;
    o->batch.max_queue_delay_us = -1;
    o->batch.n_preferred = -1;
    o->batch.max_queue_size = -1;
    o->llm_max_seqs = 8;
    o->llm_ctx = 2048;
    o->llm_step = 256;
    o->llm_queue = 64;
    o->llm_verify_queue = 16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_backend_option(argc, argv, &i, &o->backend);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(a)) {
            serve_usage(stdout);
            return -1;
        }
        if (strcmp(a, "--no-access-log") == 0) {
            o->access_log = 0;
            continue;
        }
        if (a[0] != '-' || a[1] != '-') {
            fprintf(stderr, "verinfer serve: unexpected argument '%s'\n", a);
            serve_usage(stderr);
            return CLI_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "verinfer serve: %s needs a value\n", a);
            return CLI_USAGE;
        }
        const char *v = argv[++i];
        long n = 0;
        int bad = 0;
        if (strcmp(a, "--model-repo") == 0)
            o->repo = v;
        else if (strcmp(a, "--host") == 0)
            o->host = v;
        else if (strcmp(a, "--ready-file") == 0)
            o->ready_file = v;
        else if (strcmp(a, "--key") == 0)
            o->key_path = v;
        else if (strcmp(a, "--llm") == 0) {
            if (o->n_llm == (int)(sizeof o->llm / sizeof o->llm[0])) {
                fprintf(stderr, "verinfer serve: at most 16 --llm models\n");
                return CLI_USAGE;
            }
            o->llm[o->n_llm++] = v;
        } else if (strcmp(a, "--llm-max-seqs") == 0)
            bad = cli_parse_int(a, v, 1, 4096, &o->llm_max_seqs);
        else if (strcmp(a, "--llm-ctx") == 0)
            bad = cli_parse_int(a, v, 2, 1L << 24, &o->llm_ctx);
        else if (strcmp(a, "--llm-step-tokens") == 0)
            bad = cli_parse_int(a, v, 1, 1L << 20, &o->llm_step);
        else if (strcmp(a, "--llm-max-queue") == 0)
            bad = cli_parse_int(a, v, 1, 1L << 20, &o->llm_queue);
        else if (strcmp(a, "--llm-verify-queue") == 0)
            bad = cli_parse_int(a, v, 1, 1L << 20, &o->llm_verify_queue);
        else if (strcmp(a, "--port") == 0)
            bad = cli_parse_int(a, v, 0, 65535, &o->port);
        else if (strcmp(a, "--http-threads") == 0)
            bad = cli_parse_int(a, v, 1, 1024, &o->http_threads);
        else if (strcmp(a, "--connection-timeout") == 0)
            bad = cli_parse_int(a, v, 0, 86400, &o->timeout);
        else if (strcmp(a, "--max-body-bytes") == 0)
            bad = cli_parse_int(a, v, 1, 1L << 40, &o->max_body);
        else if (strcmp(a, "--max-elements") == 0)
            bad = cli_parse_int(a, v, 1, 1L << 40, &o->max_elements);
        else if (strcmp(a, "--max-json-depth") == 0)
            bad = cli_parse_int(a, v, 2, 10000, &o->max_depth);
        else if (strcmp(a, "--max-batch-size") == 0) {
            bad = cli_parse_int(a, v, 1, 1L << 30, &n);
            o->batch.max_batch_size = (int)n;
        } else if (strcmp(a, "--max-queue-delay-us") == 0) {
            bad = cli_parse_int(a, v, 0, 3600L * 1000000, &n);
            o->batch.max_queue_delay_us = n;
        } else if (strcmp(a, "--max-queue-size") == 0) {
            bad = cli_parse_int(a, v, 0, 1L << 30, &n);
            o->batch.max_queue_size = (int)n;
        } else if (strcmp(a, "--preferred-batch-size") == 0)
            bad = parse_preferred(v, &o->batch);
        else {
            fprintf(stderr, "verinfer serve: unknown option '%s'\n", a);
            serve_usage(stderr);
            return CLI_USAGE;
        }
        if (bad)
            return CLI_USAGE;
    }
    if (!o->repo && o->n_llm == 0) {
        fprintf(stderr, "verinfer serve: --model-repo DIR (or --llm PATH.gguf) is required\n");
        serve_usage(stderr);
        return CLI_USAGE;
    }
    return 0;
}

static vi_backend *make_backend(void *arg, vi_error *err)
{
    return cli_backend_make(arg, err);
}

/* Workers of a CUDA instance share its weights: the verification engine and
 * the fast-mode (cuBLAS) engine, each on its own stream. */
static vi_status make_worker(void *arg, vi_backend *main, int fast, vi_backend **out, vi_error *err)
{
    (void)arg;
    return cli_backend_worker(main, fast, out, err);
}

static void log_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "verinfer: %s\n", line);
}

/* Writes "PORT\n" to path through path.tmp and a rename. */
static int write_ready_file(const char *path, int port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%d\n", port) > 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Loads every --llm PATH[:NAME] and starts its scheduler; prints the error
 * and returns -1 on failure. */
static int load_llms(serve_opts *o, vi_server *srv)
{
    vi_error err = {{0}};
    srv->llm_threads = o->backend.threads > 0 ? o->backend.threads : vi_pool_default_threads();
    srv->llm_isa = o->backend.isa;
    if (o->n_llm == 0)
        return 0;
    srv->llms = calloc((size_t)o->n_llm, sizeof *srv->llms);
    if (!srv->llms) {
        fprintf(stderr, "verinfer serve: out of memory\n");
        return -1;
    }
    for (int i = 0; i < o->n_llm; i++) {
        char path[4096], name[VI_NAME_MAX];
        int too_long = snprintf(path, sizeof path, "%s", o->llm[i]) >= (int)sizeof path;
        char *colon = strrchr(path, ':'), *slash = strrchr(path, '/');
        const char *nm = NULL;
        if (colon && (!slash || colon > slash)) { /* PATH:NAME */
            *colon = '\0';
            nm = colon + 1;
        } else {
            nm = slash ? slash + 1 : path;
        }
        too_long |= snprintf(name, sizeof name, "%s", nm) >= (int)sizeof name;
        char *dot = colon && (!slash || colon > slash) ? NULL : strrchr(name, '.');
        if (dot && dot != name)
            *dot = '\0';
        if (too_long || !name[0]) {
            fprintf(stderr, "verinfer serve: --llm %s: bad path or name\n", o->llm[i]);
            return -1;
        }
        vi_llm *l = NULL;
        vi_llm_sched_config cfg;
        vi_llm_sched_config_default(&cfg);
        cfg.max_seqs = (int)o->llm_max_seqs;
        cfg.max_queue = (int)o->llm_queue;
        cfg.step_tokens = (int32_t)o->llm_step;
        cfg.threads = srv->llm_threads;
        cfg.isa = srv->llm_isa;
        if (vi_llm_open(&l, path, name, (int32_t)o->llm_ctx, &err) != VI_OK ||
            vi_llm_sched_start(l, &cfg, &err) != VI_OK) {
            fprintf(stderr, "verinfer serve: --llm %s: %s\n", o->llm[i], err.msg);
            vi_llm_close(l);
            return -1;
        }
        srv->llms[srv->n_llms++] = l;
        if (!srv->verify_worker &&
            vi_bg_start((int)o->llm_verify_queue, &srv->verify_worker, &err) != VI_OK) {
            fprintf(stderr, "verinfer serve: %s\n", err.msg);
            return -1;
        }
        char hex[2 * VI_SHA256_LEN + 1];
        vi_hex_encode(l->digest, VI_SHA256_LEN, hex);
        fprintf(stderr, "verinfer: llm '%s' from %s: digest %s, context %d, loaded in %.2f s\n",
                l->name, path, hex, (int)l->n_ctx, l->load_s);
    }
    return 0;
}

/* Stop accepting, let every held request finish, close. */
static void shut_down(vi_server *srv, vi_http *http)
{
    vi_http_quiesce(http);
    vi_repo_stop(srv->repo);        /* new infer requests get 503; queued ones still run */
    vi_bg_stop(srv->verify_worker); /* finish the queued verifications; later ones get 503 */
    for (int i = 0; i < srv->n_llms; i++) { /* finish every completion, then stop */
        vi_llm_close(srv->llms[i]);
        srv->llms[i] = NULL;
    }
    srv->n_llms = 0;
    for (int waited = 0; vi_repo_in_flight(srv->repo) > 0; waited += 10) {
        if (waited % 5000 == 0 && waited > 0)
            fprintf(stderr, "verinfer: waiting for %d requests to finish\n",
                    vi_repo_in_flight(srv->repo));
        sleep_ms(10);
    }
    /* replies already queued: give slow readers a moment before closing */
    for (int waited = 0; vi_http_active(http) > 0 && waited < 5000; waited += 10)
        sleep_ms(10);
    vi_http_stop(http);
}

int cmd_serve(int argc, char **argv)
{
    serve_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;

    /* every thread created from here on inherits the mask: only sigwait sees these */
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* batch buffers (a few hundred KiB, allocated and freed per execution)
     * stay in the heap instead of being mapped, faulted in and unmapped every
     * time: the server's working set is bounded by its limits anyway */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);

    vi_server srv;
    memset(&srv, 0, sizeof srv);
    vi_error err = {{0}};
    vi_http *http = NULL;
    int wrote_ready = 0;
    char empty_repo[4096] = "";
    rc = CLI_FAIL;
    vi_kserve_limits_default(&srv.limits);
    srv.limits.max_elements = o.max_elements;
    srv.limits.max_depth = (int)o.max_depth;

    if (o.key_path && *o.key_path) {
        if (vi_key_load(o.key_path, &srv.key, &err) != VI_OK ||
            vi_key_public_hex(srv.key, srv.public_key_hex, &err) != VI_OK) {
            fprintf(stderr, "verinfer serve: %s\n", err.msg);
            goto done;
        }
        fprintf(stderr, "verinfer: receipts are signed with Ed25519 public key %s\n",
                srv.public_key_hex);
    } else {
        fprintf(stderr, "verinfer: receipts are unsigned (pass --key KEYFILE; create one with "
                        "'verinfer keygen KEYFILE')\n");
    }
    vi_backend *probe = make_backend(&o.backend, &err);
    if (!probe || vi_engine_id(srv.engine_id, sizeof srv.engine_id, probe->name,
                               probe->detail[0] ? probe->detail : NULL, &err) != VI_OK) {
        fprintf(stderr, "verinfer serve: %s\n", err.msg);
        if (probe)
            probe->destroy(probe);
        goto done;
    }
    probe->destroy(probe);
    fprintf(stderr, "verinfer: engine %s\n", srv.engine_id);

    if (!o.repo) { /* only language models: an empty repository for the KServe routes */
        snprintf(empty_repo, sizeof empty_repo, "%s/verinfer-serve-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(empty_repo)) {
            fprintf(stderr, "verinfer serve: cannot create %s: %s\n", empty_repo, strerror(errno));
            empty_repo[0] = '\0';
            goto done;
        }
        o.repo = empty_repo;
    }
    if (load_llms(&o, &srv) != 0)
        goto done;
    vi_repo_config rcfg = {
        .dir = o.repo,
        .make_backend = make_backend,
        .make_worker = make_worker,
        .backend_arg = &o.backend,
        .key = srv.key,
        .batch = o.batch,
        .log = log_stderr,
    };
    if (vi_repo_open(&srv.repo, &rcfg, &err) != VI_OK) {
        fprintf(stderr, "verinfer serve: %s\n", err.msg);
        goto done;
    }

    int n_routes = 0;
    const vi_http_route *routes = vi_server_routes(&n_routes);
    vi_http_config hcfg;
    vi_http_config_default(&hcfg);
    hcfg.host = o.host;
    hcfg.port = (int)o.port;
    hcfg.threads = (int)o.http_threads;
    hcfg.error_body = vi_route_error_body;
    hcfg.max_body_bytes = (uint64_t)o.max_body;
    hcfg.connection_timeout_s = (unsigned)o.timeout;
    hcfg.log_fd = o.access_log ? 2 : -1;
    if (vi_http_start(&hcfg, routes, n_routes, &srv, &http, &err) != VI_OK) {
        fprintf(stderr, "verinfer serve: %s\n", err.msg);
        goto done;
    }
    int port = vi_http_port(http);
    int v6 = strchr(o.host, ':') != NULL;
    fprintf(stderr, "verinfer: listening on http://%s%s%s:%d\n", v6 ? "[" : "", o.host,
            v6 ? "]" : "", port);
    if (o.ready_file && (wrote_ready = write_ready_file(o.ready_file, port) == 0) == 0) {
        fprintf(stderr, "verinfer serve: cannot write --ready-file %s: %s\n", o.ready_file,
                strerror(errno));
        shut_down(&srv, http);
        http = NULL;
        goto done;
    }

    int sig = 0;
    while (sigwait(&stop_sigs, &sig) != 0)
        ;
    fprintf(stderr, "verinfer: %s received: finishing queued requests\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    shut_down(&srv, http);
    http = NULL;
    fprintf(stderr, "verinfer: stopped\n");
    rc = CLI_OK;
done:
    if (http) {
        vi_repo_stop(srv.repo);
        vi_http_stop(http);
    }
    if (wrote_ready)
        unlink(o.ready_file);
    vi_repo_close(srv.repo);
    vi_bg_free(srv.verify_worker);
    for (int i = 0; i < srv.n_llms; i++)
        vi_llm_close(srv.llms[i]);
    free(srv.llms);
    if (empty_repo[0])
        rmdir(empty_repo);
    vi_key_free(srv.key);
    return rc;
}
