/* cuda/cuda_backend.h — C interface to the CUDA backend: the vi_backend table
 * (core/backend.h) whose ops run the fixed-order kernels of cuda/<op>.cu on a
 * GPU (or, in the test build, on the host emulation of cuda/compat.h). Every
 * op gives the bits of the CPU reference (core/order.h). */
#ifndef VI_CUDA_BACKEND_H
#define VI_CUDA_BACKEND_H

#ifdef __cplusplus
extern "C" {
#endif

/* inside the C linkage block: core/ is C, and the C++ files of cuda/ reach its
 * declarations (vi_fail, ...) through this header first */
#include "../core/backend.h"
#include "../core/status.h"

/* Creates the exact CUDA backend on device `device` (name "cuda", detail the
 * GPU name): a primary, owning the weights prepared on it. Returns NULL and
 * fills err when there is no device or driver ("no CUDA device: ..."), the
 * device index does not exist, or setup fails. Free with b->destroy(b). */
vi_backend *vi_cuda_backend_create(int device, vi_error *err);

/* Creates a worker of a CUDA backend: a backend on the same device that
 * shares `shared`'s prepared weights (it is made with the same
 * weights_domain, so vi_engine_init_view can give it an engine without a
 * second upload; weights it prepares itself land in the same place) but owns
 * its stream, pinned staging buffers and memory pool: one per worker thread
 * (batcher, verifier, fast mode). It starts with shared's forced linear path
 * and its detail. The weights stay alive until `shared` and every worker are
 * destroyed, in any order. NULL with err filled for a backend that is not a
 * CUDA one ("create_worker: backend 'cpu' is not a CUDA backend") or when
 * setup fails. Free with b->destroy(b). */
vi_backend *vi_cuda_backend_create_worker(vi_backend *shared, vi_error *err);

/* The stream a CUDA backend enqueues all its work on (a cudaStream_t, as an
 * opaque handle for tests and tools), or NULL for another backend. */
const void *vi_cuda_backend_stream(vi_backend *b);

/* Which linear/matmul kernel a CUDA backend uses. AUTO picks by shape; the
 * others force one kernel for every shape (tests use this to run each kernel
 * on every shape). The choice never changes a bit. */
typedef enum {
    VI_CUDA_LIN_AUTO = 0,
    VI_CUDA_LIN_SPLITK, /* one thread per (output column, K-chunk), rows in groups of 8 */
    VI_CUDA_LIN_TILE64, /* 64x64 output tiles, 4x4 per thread */
    VI_CUDA_LIN_TILE128 /* 128x128 output tiles, 8x8 per thread */
} vi_cuda_lin_path;

/* Forces the linear/matmul kernel (a vi_cuda_lin_path value, passed as int so
 * any value can be checked) of a backend made by vi_cuda_backend_create.
 * VI_ERR_INVALID (with a message) for another backend or an unknown path. */
vi_status vi_cuda_backend_set_linear_path(vi_backend *b, int path, vi_error *err);

#ifdef __cplusplus
}
#endif

#endif
