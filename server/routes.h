/* server/routes.h — the endpoints of `verinfer serve` (KServe v2 / Open
 * Inference Protocol, Triton's repository and configuration extensions,
 * verinfer's verify, Prometheus metrics): the server context that every
 * handler reads, the routing table, and the handlers, one group per file:
 *   routes_health.c   health, server and model metadata, model config
 *   routes_infer.c    inference through the model's batcher
 *   routes_verify.c   verification of a response by re-execution
 *   routes_repo.c     repository index, load, unload
 *   routes_metrics.c  Prometheus text
 *   routes_openai.c   OpenAI-compatible language-model endpoints (/v1/...)
 *   routes_common.c   the table and the model lookup shared by handlers */
#ifndef VI_ROUTES_H
#define VI_ROUTES_H

#include <openssl/types.h>

#include "core/receipt.h"
#include "server/http.h"
#include "server/kserve.h"
#include "server/llm_sched.h"
#include "server/repo.h"

/* All the state of one server; handlers reach it as vi_http_req.app. */
typedef struct vi_server {
    vi_repo *repo;
    EVP_PKEY *key;                                   /* NULL: receipts are unsigned */
    char public_key_hex[2 * VI_ED25519_KEY_LEN + 1]; /* "" when unsigned */
    char engine_id[VI_RECEIPT_ENGINE_MAX];           /* of the backend every model runs on */
    vi_kserve_limits limits;
    vi_llm **llms; /* language models served under /v1 (--llm) */
    int n_llms;
    int llm_threads; /* threads of a /v1/verify re-execution */
    vi_isa llm_isa;
    struct vi_bg *verify_worker; /* runs /v1/verify off the HTTP threads; NULL: inline */
} vi_server;

/* The routing table (static storage) and its length. */
const vi_http_route *vi_server_routes(int *n);

/* Takes a reference to the model named by the request's first path
 * parameter, checking the version parameter when there is one. On failure
 * replies (404 unknown model or version, `unavailable_status` for a model
 * that is not loaded) and returns NULL. Release with vi_repo_release. */
vi_repo_model *vi_route_model(vi_http_req *r, unsigned unavailable_status);

/* Each handler answers one endpoint of docs/server.md section 3 (errors as
 * {"error"} with the status listed there). */

/* GET /v2/health/live: 200, empty. */
void vi_route_live(vi_http_req *r);
/* GET /v2/health/ready: 200 when every model that should be loaded is; else 400. */
void vi_route_ready(vi_http_req *r);
/* GET /v2: name, version, extensions, public key, order version, engine id. */
void vi_route_server_metadata(vi_http_req *r);
/* GET /v2/models/{m}[/versions/{v}]: inputs and outputs (-1 = batch). */
void vi_route_model_metadata(vi_http_req *r);
/* GET .../ready: 200 when loaded, 400 when not, 404 unknown. */
void vi_route_model_ready(vi_http_req *r);
/* GET .../config: Triton-style configuration with dynamic_batching. */
void vi_route_model_config(vi_http_req *r);
/* POST .../infer: JSON or binary request through the batcher; reply with the receipt. */
void vi_route_infer(vi_http_req *r);
/* POST .../verify: re-executes a request and checks a response or receipt. */
void vi_route_verify(vi_http_req *r);
/* POST /v2/repository/index: [{"name","version","state","reason"}]. */
void vi_route_repo_index(vi_http_req *r);
/* POST /v2/repository/models/{m}/load: (re)load from the directory. */
void vi_route_repo_load(vi_http_req *r);
/* POST /v2/repository/models/{m}/unload. */
void vi_route_repo_unload(vi_http_req *r);
/* GET /metrics: Prometheus text of every model. */
void vi_route_metrics(vi_http_req *r);
/* GET /metrics with the language models' scheduler counters appended. */
void vi_route_metrics_all(vi_http_req *r);

/* OpenAI-compatible endpoints (docs/llm.md "Serving"); errors as
 * {"error": {"message", "type", "param", "code"}}. */

/* The HTTP layer's error body (vi_http_config.error_body): the OpenAI shape
 * under /v1 and for /tokenize and /detokenize, NULL (plain {"error"}) elsewhere. */
json_t *vi_route_error_body(const char *path, unsigned status, const char *message);
/* GET /v1/models. */
void vi_route_oai_models(vi_http_req *r);
/* POST /v1/completions. */
void vi_route_oai_completions(vi_http_req *r);
/* POST /v1/chat/completions. */
void vi_route_oai_chat(vi_http_req *r);
/* POST /v1/verify: re-executes a completion request and checks its response. */
void vi_route_oai_verify(vi_http_req *r);
/* POST /tokenize {"content", "add_special", "parse_special"} -> {"tokens"}. */
void vi_route_tokenize(vi_http_req *r);
/* POST /detokenize {"tokens"} -> {"content"}. */
void vi_route_detokenize(vi_http_req *r);

#endif
