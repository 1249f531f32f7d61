/* cli/loaded.c — loading a model directory onto a backend for run/verify,
 * with a fast-mode worker (cuBLAS, sharing the weights) on a CUDA backend. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_load(const char *cmd, const char *dir, cli_backend_opts *o, vi_mode mode, cli_loaded *l)
{
    memset(l, 0, sizeof *l);
    vi_error err = {{0}};
    if (vi_model_load(&l->model, dir, &err) != VI_OK) {
        fprintf(stderr, "verinfer %s: %s\n", cmd, err.msg);
        return -1;
    }
    l->backend = cli_backend_create(o);
    if (!l->backend)
        goto fail;
    if (vi_engine_init(&l->engine, &l->model, l->backend, &err) != VI_OK ||
        vi_infer_model_init(&l->im, &l->model, &l->engine, &err) != VI_OK ||
        (vi_mode_resolve(&l->model.graph, mode) == VI_MODE_FAST &&
         cli_backend_worker(l->backend, 1, &l->fast_backend, &err) != VI_OK) ||
        (l->fast_backend &&
         vi_engine_init_view(&l->fast_engine, &l->engine, l->fast_backend, &err) != VI_OK)) {
        fprintf(stderr, "verinfer %s: %s\n", cmd, err.msg);
        goto fail;
    }
    if (l->fast_backend)
        vi_infer_model_set_fast(&l->im, &l->fast_engine);
    return 0;
fail:
    cli_unload(l);
    return -1;
}

void cli_unload(cli_loaded *l)
{
    vi_engine_free(&l->fast_engine);
    if (l->fast_backend)
        l->fast_backend->destroy(l->fast_backend);
    vi_engine_free(&l->engine);
    if (l->backend)
        l->backend->destroy(l->backend);
    vi_model_free(&l->model);
    memset(l, 0, sizeof *l);
}
