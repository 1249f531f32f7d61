/* cuda/cuda_ops.h — the launchers of the CUDA kernels (one cuda/<op>.cu per
 * op, the twins of cpu/<op>.c) as called by cuda/cuda_backend.cu, and the
 * small device helpers they share. C++ (nvcc or the host emulation).
 *
 * Launchers take device pointers, enqueue on `stream` and return the launch
 * status (cudaGetLastError); they do not check their arguments (the backend
 * does) and accept n == 0 / rows == 0 by launching nothing. Every kernel
 * computes each output in the canonical order of core/order.h. */
#ifndef VI_CUDA_OPS_H
#define VI_CUDA_OPS_H

#include "cuda/compat.h"

#include "cuda/cuda_backend.h" /* first: it includes core/ with C linkage */

#include <stdint.h>
#include <string.h>

#include "core/order.h"

extern "C" {
#include "core/gguf.h"
}

/* Largest grid.y / grid.z of a launch. */
#define VI_CUDA_GRID_YZ_MAX 65535
/* Blocks of a grid-stride launch at most (elementwise ops). */
#define VI_CUDA_GRID_STRIDE_BLOCKS 8192

/* ==== device helpers ==== */

/* nvcc-only hints; the host emulation compiles the same loops without them. */
#if defined(__CUDACC__)
#define VI_UNROLL _Pragma("unroll")
#define VI_LAUNCH_BOUNDS(n) __launch_bounds__(n)
#else
#define VI_UNROLL
#define VI_LAUNCH_BOUNDS(n)
#endif

/* Four floats, 16-byte aligned: one vector load or store on the device. */
struct alignas(16) vi_f4 {
    float x, y, z, w;
};

/* Loads four floats from a 16-byte aligned address. */
__device__ __forceinline__ vi_f4 vi_ld4(const float *p)
{
#if defined(__CUDA_ARCH__)
    float4 v = *reinterpret_cast<const float4 *>(p);
    vi_f4 r = {v.x, v.y, v.z, v.w};
    return r;
#else
    vi_f4 r;
    memcpy(&r, p, sizeof r);
    return r;
#endif
}

/* Stores four floats to a 16-byte aligned address. */
__device__ __forceinline__ void vi_st4(float *p, vi_f4 v)
{
#if defined(__CUDA_ARCH__)
    *reinterpret_cast<float4 *>(p) = make_float4(v.x, v.y, v.z, v.w);
#else
    memcpy(p, &v, sizeof v);
#endif
}

/* Blocks for a grid-stride loop over n items with `threads` per block. */
static inline unsigned vi_cuda_stride_blocks(int64_t n, int threads)
{
    int64_t b = (n + threads - 1) / threads;
    if (b > VI_CUDA_GRID_STRIDE_BLOCKS)
        b = VI_CUDA_GRID_STRIDE_BLOCKS;
    return (unsigned)(b < 1 ? 1 : b);
}

/* ==== linear / matmul (cuda/linear.cu) ==== */

/* One product y[z] = x[z] @ W[z] (+ bias) for z in [0, batch):
 * x [M, K] row-major (row stride K), W [K, ldw] row-major holding columns
 * [0, N) (ldw >= N), y [M, N] row-major; items `sx`, `sw`, `sy` floats apart.
 * w_padded: W has ldw % 128 == 0, zero columns up to ldw, 16-byte aligned
 * rows (a prepared weight); then tiles load it with vector loads. */
typedef struct vi_cuda_gemm {
    const float *x;
    const float *w;
    const float *bias; /* [N] or NULL */
    float *y;
    int64_t M, N, K, ldw;
    int64_t batch, sx, sw, sy;
    int w_padded;
} vi_cuda_gemm;

/* Floats of device workspace the path needs for this product (0: none);
 * -1 when the count overflows int64. */
int64_t vi_cuda_gemm_work_floats(const vi_cuda_gemm *g, vi_cuda_lin_path path);

/* Runs the product with a resolved path (SPLITK, TILE64 or TILE128) and
 * `work` holding vi_cuda_gemm_work_floats floats. K >= 1. */
cudaError_t vi_cuda_gemm_launch(const vi_cuda_gemm *g, vi_cuda_lin_path path, float *work,
                                cudaStream_t stream);

/* ==== quantised linear (cuda/qlinear.cu; host API in cuda/qlinear_cuda.h) ==== */

/* y[m][n] = vi_qdot_ref(t, row n of w, x[m], K) for m < M, n < N: w holds N
 * rows of K elements of type t in GGUF layout (K a positive multiple of the
 * block), x [M, K] and y [M, N] row-major. prefill 0: each lane feeds one
 * row; 1: eight rows per dequantised weight. Same bits either way. */
cudaError_t vi_cuda_qlinear_launch(vi_ggml_type t, const uint8_t *w, int64_t N, int64_t K,
                                   const float *x, int64_t M, float *y, int prefill,
                                   cudaStream_t stream);

/* ==== elementwise (cuda/elementwise.cu) ==== */

/* y[i] = f(x[i]), op RELU, GELU (gelu_tanh: the tanh form), TANH or SIGMOID. */
cudaError_t vi_cuda_unary_launch(vi_op op, int gelu_tanh, const float *x, int64_t n, float *y,
                                 cudaStream_t stream);

/* y[i] = a[i] (op) b[i % nb], op ADD or MUL. */
cudaError_t vi_cuda_binary_launch(vi_op op, const float *a, int64_t n, const float *b, int64_t nb,
                                  float *y, cudaStream_t stream);

/* ==== row ops (cuda/softmax.cu, cuda/norm.cu, cuda/argmax.cu) ====
 * One half-warp (16 lanes = the 16 lanes of the canonical reduction) per row. */

cudaError_t vi_cuda_softmax_launch(const float *x, int64_t rows, int64_t D, float *y,
                                   cudaStream_t stream);
cudaError_t vi_cuda_layer_norm_launch(const float *x, int64_t rows, int64_t D, const float *gamma,
                                      const float *beta, float eps, float *y, cudaStream_t stream);
cudaError_t vi_cuda_rms_norm_launch(const float *x, int64_t rows, int64_t D, const float *gamma,
                                    float eps, float *y, cudaStream_t stream);
cudaError_t vi_cuda_argmax_launch(const float *x, int64_t rows, int64_t D, int64_t *y,
                                  cudaStream_t stream);

/* ==== embedding (cuda/embedding.cu) ==== */

/* y[i, :] = table[ids[i], :] for i in [0, n); an id outside [0, V) writes
 * nothing for its row and sets *bad (device int) to 1. */
cudaError_t vi_cuda_embedding_launch(const int64_t *ids, int64_t n, const float *table, int64_t V,
                                     int64_t D, float *y, int *bad, cudaStream_t stream);

/* Rows handled by one block of the row kernels (16 threads each). */
#define VI_CUDA_ROWS_PER_BLOCK 16
#define VI_CUDA_ROW_THREADS (VI_CUDA_ROWS_PER_BLOCK * VI_REDUCE_LANES)

/* The canonical 16-lane tree (vi_lanes_sum) over the half-warp holding this
 * lane: lane l of the half combines s[l] with s[l+8], s[l+4], s[l+2], s[l+1],
 * the lower lane always the left operand. Returns the result on every lane
 * of the half. All 32 lanes of the warp must call it. */
__device__ __forceinline__ float vi_half_sum(float s)
{
    s = s + __shfl_down_sync(0xffffffffu, s, 8);
    s = s + __shfl_down_sync(0xffffffffu, s, 4);
    s = s + __shfl_down_sync(0xffffffffu, s, 2);
    s = s + __shfl_down_sync(0xffffffffu, s, 1);
    return __shfl_sync(0xffffffffu, s, (int)(threadIdx.x & 16u));
}

/* The same tree with vi_max_nan (vi_lanes_max). */
__device__ __forceinline__ float vi_half_max(float s)
{
    s = vi_max_nan(s, __shfl_down_sync(0xffffffffu, s, 8));
    s = vi_max_nan(s, __shfl_down_sync(0xffffffffu, s, 4));
    s = vi_max_nan(s, __shfl_down_sync(0xffffffffu, s, 2));
    s = vi_max_nan(s, __shfl_down_sync(0xffffffffu, s, 1));
    return __shfl_sync(0xffffffffu, s, (int)(threadIdx.x & 16u));
}

/* Blocks for `rows` rows of a row kernel. */
static inline unsigned vi_cuda_row_blocks(int64_t rows)
{
    return (unsigned)((rows + VI_CUDA_ROWS_PER_BLOCK - 1) / VI_CUDA_ROWS_PER_BLOCK);
}

#endif
