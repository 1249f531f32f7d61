/* core/backend.h — the interface every compute backend implements (cpu/, and
 * later cuda/). The engine (core/engine.c) knows backends only through this
 * table; core/ never names a backend.
 *
 * Pointers passed to the op functions are backend memory: for the CPU that is
 * host memory, for a GPU backend device memory obtained from alloc/upload.
 * Every op must reproduce the canonical order of core/order.h bit for bit;
 * backends differ only in how they split work, never in arithmetic. Shapes are
 * row-major; `rows` counts independent rows of the last axis. */
#ifndef VI_BACKEND_H
#define VI_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "status.h"

typedef struct vi_backend vi_backend;

struct vi_backend {
    const char *name; /* "cpu", "cuda" */
    char detail[128]; /* for the engine id: the ISA or device, e.g. "avx512" (never affects bits) */
    void *ctx;
    /* Backends with the same non-NULL value accept each other's prepared
     * weights (const_prepare, linear_prepare): a CUDA backend and its
     * workers. NULL: only the backend's own (vi_engine_init_view). */
    const void *weights_domain;

    /* ---- memory ---- */
    void *(*alloc)(vi_backend *b, size_t bytes); /* NULL on failure */
    void (*free)(vi_backend *b, void *p);        /* accepts NULL */
    vi_status (*upload)(vi_backend *b, void *dst, const void *src, size_t bytes);
    vi_status (*download)(vi_backend *b, void *dst, const void *src, size_t bytes);

    /* ---- constants (weights) ----
     * Makes a float32 weight usable by ops (the CPU returns the same pointer,
     * a GPU copies it to device memory). Released with const_release. */
    vi_status (*const_prepare)(vi_backend *b, const float *host, int64_t n, const float **out,
                               vi_error *err);
    void (*const_release)(vi_backend *b, const float *prepared);

    /* ---- linear ----
     * Prepares y[m, n] = sum_k x[m, k] * W(k, n) (+ bias[n]) for repeated use.
     * w is [N, K] when out_in is 1 (PyTorch layout) and [K, N] when 0; bias may
     * be NULL. The backend may repack (bits are unaffected). */
    vi_status (*linear_prepare)(vi_backend *b, const float *w, int64_t N, int64_t K, int out_in,
                                const float *bias, void **prepared, vi_error *err);
    void (*linear_release)(vi_backend *b, void *prepared);
    /* x [M, K] -> y [M, N]. */
    vi_status (*linear)(vi_backend *b, const void *prepared, const float *x, int64_t M, float *y);

    /* ---- matmul of two activations ----
     * For each of `batch` items: a [M, K] @ bm [K, N] -> y [M, N]. */
    vi_status (*matmul)(vi_backend *b, const float *a, const float *bm, int64_t batch, int64_t M,
                        int64_t K, int64_t N, float *y);

    /* ---- elementwise ----
     * binary: y[i] = a[i] (op) bv[i % nb] for i in [0, n); op is ADD or MUL; n % nb == 0.
     * unary:  y[i] = f(x[i]); op is RELU, GELU (gelu_tanh selects the form), TANH, SIGMOID. */
    vi_status (*binary)(vi_backend *b, vi_op op, const float *a, int64_t n, const float *bv,
                        int64_t nb, float *y);
    vi_status (*unary)(vi_backend *b, vi_op op, int gelu_tanh, const float *x, int64_t n, float *y);

    /* ---- row ops over the last axis (rows x D) ---- */
    vi_status (*softmax)(vi_backend *b, const float *x, int64_t rows, int64_t D, float *y);
    vi_status (*layer_norm)(vi_backend *b, const float *x, int64_t rows, int64_t D,
                            const float *gamma, const float *beta /* may be NULL */, float eps,
                            float *y);
    vi_status (*rms_norm)(vi_backend *b, const float *x, int64_t rows, int64_t D,
                          const float *gamma, float eps, float *y);
    /* y[r] = index of the max of x[r, 0..D) (first wins; a NaN counts as the max). */
    vi_status (*argmax)(vi_backend *b, const float *x, int64_t rows, int64_t D, int64_t *y);

    /* ---- embedding ----
     * y[i, :] = table[ids[i], :] for i in [0, n); ids already checked to be in [0, V). */
    vi_status (*embedding)(vi_backend *b, const int64_t *ids, int64_t n, const float *table,
                           int64_t V, int64_t D, float *y);

    /* Frees the backend and its context; accepts NULL. */
    void (*destroy)(vi_backend *b);
};

#endif
