/* server/routes_metrics.c — GET /metrics: every model's counters in the
 * Prometheus text exposition format (server/metrics.c renders them). */
#include <string.h>

#include "routes.h"

void vi_route_metrics(vi_http_req *r)
{
    vi_server *s = r->app;
    char *text = vi_repo_metrics(s->repo);
    if (!text) {
        vi_http_reply_error(r, 500, "out of memory rendering the metrics");
        return;
    }
    vi_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text), 1, NULL);
}
