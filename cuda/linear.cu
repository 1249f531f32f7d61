/* cuda/linear.cu — linear and matmul on the GPU, the twins of cpu/linear.c.
 *
 * Every output element is computed in vi_dot_ref's order (core/order.h):
 *     y = +0; for each K-chunk of VI_DOT_CHUNK = 128 in increasing order:
 *     { p = +0; p = fmaf(x[k], w[k], p) for k increasing; y = y + p };
 *     y = y + bias (if any); y = vi_canon_nan(y).
 * Two kernels split this work differently, never the per-output sequence:
 *
 *  - tiled (many rows): a block owns a BM x BN tile of y; K is walked in
 *    K-tiles of BK (BK divides 128, so a tile never straddles a chunk)
 *    staged through shared memory with double buffering; each thread keeps
 *    a TM x TN register block of chunk partials p and of sums y, feeds p by
 *    fmaf in increasing k, and adds p to y when a chunk ends.
 *  - split-K (few rows, decode): one thread per (column, chunk, group of up
 *    to 8 rows) computes the chunk partials p into a workspace; a second
 *    kernel adds them to y from +0 in increasing chunk order, then the bias.
 *
 * The weight is [K, ldw] (k-major, columns contiguous); a prepared weight
 * has ldw a multiple of 128 with zero columns from N, so tiles read it with
 * 16-byte vector loads and never leave it. */
#include "cuda/compat.h"

#include "cuda/cuda_ops.h"

/* ==== tiled kernel ==== */

/* Tile shapes: BM x BN outputs per block of 256 threads, TM x TN per thread
 * (in groups of 4 consecutive rows / columns spread over the tile so shared
 * memory reads are conflict-free), K-tiles of BK. */
struct vi_tile64 {
    static const int BM = 64, BN = 64, BK = 32, TM = 4, TN = 4;
};
struct vi_tile128 {
    static const int BM = 128, BN = 128, BK = 16, TM = 8, TN = 8;
};

#define VI_TILE_THREADS 256

/* Global-to-register staging of one K-tile: A (x rows) and B (weight rows). */
template <class C> struct vi_tile_stage {
    float a[C::BM * C::BK / VI_TILE_THREADS];
    float b[C::BK * C::BN / VI_TILE_THREADS];
};

/* Loads K-tile [k0, k0 + BK) of x rows [m0, m0 + BM) and of weight columns
 * [n0, n0 + BN) into registers: element 4v + q of a thread is row r, column
 * c + q of its step v below, fetched with one vector load where aligned.
 * Elements outside the matrices load as 0 (they are never used: the fma
 * loop stops at K, the epilogue at M and N). */
template <class C>
__device__ __forceinline__ void vi_tile_load(const vi_cuda_gemm &g, const float *x, const float *w,
                                             int64_t m0, int64_t n0, int64_t k0, bool x_vec,
                                             vi_tile_stage<C> &st)
{
    const int tid = (int)threadIdx.x;
    VI_UNROLL
    for (int v = 0; v < C::BM * C::BK / VI_TILE_THREADS / 4; v++) {
        const int e = tid + v * VI_TILE_THREADS;
        const int r = e / (C::BK / 4), c = (e % (C::BK / 4)) * 4;
        vi_f4 q = {0.0f, 0.0f, 0.0f, 0.0f};
        if (m0 + r < g.M) {
            const float *src = x + (m0 + r) * g.K + k0 + c;
            if (x_vec) {
                if (k0 + c < g.K)
                    q = vi_ld4(src); /* K % 4 == 0: all four are inside */
            } else {
                q.x = k0 + c < g.K ? src[0] : 0.0f;
                q.y = k0 + c + 1 < g.K ? src[1] : 0.0f;
                q.z = k0 + c + 2 < g.K ? src[2] : 0.0f;
                q.w = k0 + c + 3 < g.K ? src[3] : 0.0f;
            }
        }
        st.a[v * 4 + 0] = q.x;
        st.a[v * 4 + 1] = q.y;
        st.a[v * 4 + 2] = q.z;
        st.a[v * 4 + 3] = q.w;
    }
    VI_UNROLL
    for (int v = 0; v < C::BK * C::BN / VI_TILE_THREADS / 4; v++) {
        const int e = tid + v * VI_TILE_THREADS;
        const int r = e / (C::BN / 4), c = (e % (C::BN / 4)) * 4;
        vi_f4 q = {0.0f, 0.0f, 0.0f, 0.0f};
        if (k0 + r < g.K) {
            const float *src = w + (k0 + r) * g.ldw + n0 + c;
            if (g.w_padded) {
                q = vi_ld4(src); /* inside the zero-padded columns */
            } else {
                q.x = n0 + c < g.N ? src[0] : 0.0f;
                q.y = n0 + c + 1 < g.N ? src[1] : 0.0f;
                q.z = n0 + c + 2 < g.N ? src[2] : 0.0f;
                q.w = n0 + c + 3 < g.N ? src[3] : 0.0f;
            }
        }
        st.b[v * 4 + 0] = q.x;
        st.b[v * 4 + 1] = q.y;
        st.b[v * 4 + 2] = q.z;
        st.b[v * 4 + 3] = q.w;
    }
}

/* Stores staged registers into the shared buffers As [BK][BM] (x
 * transposed: k-major) and Bs [BK][BN], with vi_tile_load's mapping. */
template <class C>
__device__ __forceinline__ void vi_tile_store(const vi_tile_stage<C> &st, float (*As)[C::BM],
                                              float (*Bs)[C::BN])
{
    const int tid = (int)threadIdx.x;
    VI_UNROLL
    for (int v = 0; v < C::BM * C::BK / VI_TILE_THREADS / 4; v++) {
        const int e = tid + v * VI_TILE_THREADS;
        const int r = e / (C::BK / 4), c = (e % (C::BK / 4)) * 4;
        VI_UNROLL
        for (int q = 0; q < 4; q++)
            As[c + q][r] = st.a[v * 4 + q];
    }
    VI_UNROLL
    for (int v = 0; v < C::BK * C::BN / VI_TILE_THREADS / 4; v++) {
        const int e = tid + v * VI_TILE_THREADS;
        const int r = e / (C::BN / 4), c = (e % (C::BN / 4)) * 4;
        vi_f4 q = {st.b[v * 4], st.b[v * 4 + 1], st.b[v * 4 + 2], st.b[v * 4 + 3]};
        vi_st4(&Bs[r][c], q);
    }
}

/* Row (or column) of the tile owned by register i of a thread at position t:
 * groups of 4 consecutive rows, the groups spread over the tile. */
template <int BM, int TM> __device__ __forceinline__ int vi_tile_pos(int t, int i)
{
    return (i / 4) * (BM / (TM / 4)) + t * 4 + (i % 4);
}

/* p[i][j] = fmaf(A[k][row i], B[k][col j], p[i][j]) for k in [0, klen),
 * in increasing k. */
template <class C, bool FULL>
__device__ __forceinline__ void vi_tile_fma(const float (*As)[C::BM], const float (*Bs)[C::BN],
                                            int klen, int ty, int tx, float (&p)[C::TM][C::TN])
{
    const int kend = FULL ? C::BK : klen;
    VI_UNROLL
    for (int kk = 0; kk < kend; kk++) {
        float a[C::TM], b[C::TN];
        VI_UNROLL
        for (int i = 0; i < C::TM; i += 4) {
            vi_f4 q = vi_ld4(&As[kk][vi_tile_pos<C::BM, C::TM>(ty, i)]);
            a[i] = q.x;
            a[i + 1] = q.y;
            a[i + 2] = q.z;
            a[i + 3] = q.w;
        }
        VI_UNROLL
        for (int j = 0; j < C::TN; j += 4) {
            vi_f4 q = vi_ld4(&Bs[kk][vi_tile_pos<C::BN, C::TN>(tx, j)]);
            b[j] = q.x;
            b[j + 1] = q.y;
            b[j + 2] = q.z;
            b[j + 3] = q.w;
        }
        VI_UNROLL
        for (int i = 0; i < C::TM; i++) {
            VI_UNROLL
            for (int j = 0; j < C::TN; j++)
                p[i][j] = VI_FMAF(a[i], b[j], p[i][j]);
        }
    }
}

/* grid: x = column tiles, y = row tiles (from row tile mt0), z = batch items (from z0). */
template <class C>
__global__ void VI_LAUNCH_BOUNDS(VI_TILE_THREADS)
    vi_linear_tile_kernel(vi_cuda_gemm g, int64_t mt0, int64_t z0, int x_vec_i)
{
    __shared__ float As[2][C::BK][C::BM];
    __shared__ float Bs[2][C::BK][C::BN];
    const bool x_vec = x_vec_i != 0;
    const int64_t z = z0 + blockIdx.z;
    const float *x = g.x + z * g.sx;
    const float *w = g.w + z * g.sw;
    const int64_t m0 = (mt0 + blockIdx.y) * C::BM, n0 = (int64_t)blockIdx.x * C::BN;
    const int tx = (int)threadIdx.x % (C::BN / C::TN), ty = (int)threadIdx.x / (C::BN / C::TN);

    float p[C::TM][C::TN], acc[C::TM][C::TN];
    VI_UNROLL
    for (int i = 0; i < C::TM; i++) {
        VI_UNROLL
        for (int j = 0; j < C::TN; j++) {
            p[i][j] = 0.0f;
            acc[i][j] = 0.0f;
        }
    }

    const int64_t ntiles = (g.K + C::BK - 1) / C::BK;
    const int64_t tiles_per_chunk = VI_DOT_CHUNK / C::BK;
    vi_tile_stage<C> st;
    vi_tile_load<C>(g, x, w, m0, n0, 0, x_vec, st);
    vi_tile_store<C>(st, As[0], Bs[0]);
    __syncthreads();
    for (int64_t t = 0; t < ntiles; t++) {
        const int buf = (int)(t & 1);
        if (t + 1 < ntiles)
            vi_tile_load<C>(g, x, w, m0, n0, (t + 1) * C::BK, x_vec, st);
        const int64_t krest = g.K - t * C::BK;
        if (krest >= C::BK)
            vi_tile_fma<C, true>(As[buf], Bs[buf], C::BK, ty, tx, p);
        else
            vi_tile_fma<C, false>(As[buf], Bs[buf], (int)krest, ty, tx, p);
        if ((t + 1) % tiles_per_chunk == 0 || t + 1 == ntiles) {
            /* a chunk ends: y = y + p, then a fresh partial from +0 */
            VI_UNROLL
            for (int i = 0; i < C::TM; i++) {
                VI_UNROLL
                for (int j = 0; j < C::TN; j++) {
                    acc[i][j] = acc[i][j] + p[i][j];
                    p[i][j] = 0.0f;
                }
            }
        }
        if (t + 1 < ntiles)
            vi_tile_store<C>(st, As[buf ^ 1], Bs[buf ^ 1]);
        __syncthreads();
    }

    float *y = g.y + z * g.sy;
    VI_UNROLL
    for (int i = 0; i < C::TM; i++) {
        const int64_t m = m0 + vi_tile_pos<C::BM, C::TM>(ty, i);
        if (m >= g.M)
            continue;
        VI_UNROLL
        for (int j = 0; j < C::TN; j++) {
            const int64_t n = n0 + vi_tile_pos<C::BN, C::TN>(tx, j);
            if (n >= g.N)
                continue;
            float v = acc[i][j];
            if (g.bias)
                v = v + g.bias[n];
            y[m * g.N + n] = vi_canon_nan(v);
        }
    }
}

/* ==== split-K kernels ==== */

#define VI_SK_ROWS 8      /* rows sharing one pass over a weight chunk */
#define VI_SK_THREADS 128 /* columns per block */

/* Chunk partials: part[((z * nchunks + c) * M + m) * N + n] = p of output
 * (z, m, n) over chunk c. grid: x = column blocks, y = chunks (from c0),
 * z = (item, row group) pairs (from zr0). */
__global__ void VI_LAUNCH_BOUNDS(VI_SK_THREADS)
    vi_linear_splitk_kernel(vi_cuda_gemm g, float *part, int64_t c0, int64_t zr0)
{
    __shared__ float xs[VI_SK_ROWS][VI_DOT_CHUNK];
    const int64_t ngroups = (g.M + VI_SK_ROWS - 1) / VI_SK_ROWS;
    const int64_t nchunks = (g.K + VI_DOT_CHUNK - 1) / VI_DOT_CHUNK;
    const int64_t zr = zr0 + blockIdx.z;
    const int64_t z = zr / ngroups, m0 = (zr % ngroups) * VI_SK_ROWS;
    const int64_t c = c0 + blockIdx.y, k0 = c * VI_DOT_CHUNK;
    const int mr = (int)(g.M - m0 < VI_SK_ROWS ? g.M - m0 : VI_SK_ROWS);
    const int kc = (int)(g.K - k0 < VI_DOT_CHUNK ? g.K - k0 : VI_DOT_CHUNK);
    const float *x = g.x + z * g.sx + m0 * g.K + k0;

    for (int e = (int)threadIdx.x; e < VI_SK_ROWS * VI_DOT_CHUNK; e += VI_SK_THREADS) {
        int r = e / VI_DOT_CHUNK, kk = e % VI_DOT_CHUNK;
        xs[r][kk] = r < mr && kk < kc ? x[(int64_t)r * g.K + kk] : 0.0f;
    }
    __syncthreads();

    const int64_t n = (int64_t)blockIdx.x * VI_SK_THREADS + threadIdx.x;
    if (n >= g.N)
        return;
    const float *w = g.w + z * g.sw + k0 * g.ldw + n;
    float p[VI_SK_ROWS];
    VI_UNROLL
    for (int r = 0; r < VI_SK_ROWS; r++)
        p[r] = 0.0f;
    for (int kk = 0; kk < kc; kk++) {
        const float wv = w[(int64_t)kk * g.ldw];
        VI_UNROLL
        for (int r = 0; r < VI_SK_ROWS; r++)
            p[r] = VI_FMAF(xs[r][kk], wv, p[r]); /* rows >= mr are never stored */
    }
    float *dst = part + ((z * nchunks + c) * g.M + m0) * g.N + n;
    VI_UNROLL
    for (int r = 0; r < VI_SK_ROWS; r++)
        if (r < mr)
            dst[(int64_t)r * g.N] = p[r];
}

/* y = +0; y = y + part over chunks in increasing order; + bias; canonical NaN. */
__global__ void vi_linear_splitk_sum_kernel(vi_cuda_gemm g, const float *part)
{
    const int64_t nchunks = (g.K + VI_DOT_CHUNK - 1) / VI_DOT_CHUNK;
    const int64_t mn = g.M * g.N, total = g.batch * mn;
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const int64_t z = e / mn, r = e - z * mn, n = r % g.N;
        const float *src = part + z * nchunks * mn + r;
        float v = 0.0f;
        for (int64_t c = 0; c < nchunks; c++)
            v = v + src[c * mn];
        if (g.bias)
            v = v + g.bias[n];
        g.y[z * g.sy + r] = vi_canon_nan(v);
    }
}

/* ==== launchers ==== */

int64_t vi_cuda_gemm_work_floats(const vi_cuda_gemm *g, vi_cuda_lin_path path)
{
    if (path != VI_CUDA_LIN_SPLITK)
        return 0;
    const int64_t nchunks = (g->K + VI_DOT_CHUNK - 1) / VI_DOT_CHUNK;
    int64_t n = g->batch;
    const int64_t f[3] = {nchunks, g->M, g->N};
    for (int i = 0; i < 3; i++) {
        if (f[i] > 0 && n > INT64_MAX / f[i])
            return -1;
        n *= f[i];
    }
    return n;
}

static int64_t vi_min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

template <class C> static cudaError_t vi_tile_launch(const vi_cuda_gemm *g, cudaStream_t stream)
{
    const bool x_vec = g->K % 4 == 0 && ((uintptr_t)g->x % 16) == 0 && g->sx % 4 == 0;
    const int64_t nt = (g->N + C::BN - 1) / C::BN, mt = (g->M + C::BM - 1) / C::BM;
    if (nt > 0x7fffffff)
        return cudaErrorInvalidValue;
    for (int64_t z0 = 0; z0 < g->batch; z0 += VI_CUDA_GRID_YZ_MAX)
        for (int64_t m0 = 0; m0 < mt; m0 += VI_CUDA_GRID_YZ_MAX) {
            dim3 grid((unsigned)nt, (unsigned)vi_min64(mt - m0, VI_CUDA_GRID_YZ_MAX),
                      (unsigned)vi_min64(g->batch - z0, VI_CUDA_GRID_YZ_MAX));
            VI_LAUNCH(vi_linear_tile_kernel<C>, grid, dim3(VI_TILE_THREADS), 0, stream, *g, m0, z0,
                      (int)x_vec);
            cudaError_t rc = cudaGetLastError();
            if (rc != cudaSuccess)
                return rc;
        }
    return cudaSuccess;
}

static cudaError_t vi_splitk_launch(const vi_cuda_gemm *g, float *work, cudaStream_t stream)
{
    const int64_t nchunks = (g->K + VI_DOT_CHUNK - 1) / VI_DOT_CHUNK;
    const int64_t nzr = g->batch * ((g->M + VI_SK_ROWS - 1) / VI_SK_ROWS);
    const int64_t nb = (g->N + VI_SK_THREADS - 1) / VI_SK_THREADS;
    if (nb > 0x7fffffff)
        return cudaErrorInvalidValue;
    for (int64_t zr0 = 0; zr0 < nzr; zr0 += VI_CUDA_GRID_YZ_MAX)
        for (int64_t c0 = 0; c0 < nchunks; c0 += VI_CUDA_GRID_YZ_MAX) {
            dim3 grid((unsigned)nb, (unsigned)vi_min64(nchunks - c0, VI_CUDA_GRID_YZ_MAX),
                      (unsigned)vi_min64(nzr - zr0, VI_CUDA_GRID_YZ_MAX));
            VI_LAUNCH(vi_linear_splitk_kernel, grid, dim3(VI_SK_THREADS), 0, stream, *g, work, c0,
                      zr0);
            cudaError_t rc = cudaGetLastError();
            if (rc != cudaSuccess)
                return rc;
        }
    VI_LAUNCH(vi_linear_splitk_sum_kernel, dim3(vi_cuda_stride_blocks(g->batch * g->M * g->N, 256)),
              dim3(256), 0, stream, *g, (const float *)work);
    return cudaGetLastError();
}

cudaError_t vi_cuda_gemm_launch(const vi_cuda_gemm *g, vi_cuda_lin_path path, float *work,
                                cudaStream_t stream)
{
    if (g->batch < 1 || g->M < 1 || g->N < 1 || g->K < 1)
        return cudaSuccess;
    switch (path) {
    case VI_CUDA_LIN_SPLITK:
        return vi_splitk_launch(g, work, stream);
    case VI_CUDA_LIN_TILE64:
        return vi_tile_launch<vi_tile64>(g, stream);
    case VI_CUDA_LIN_TILE128:
        return vi_tile_launch<vi_tile128>(g, stream);
    default:
        return cudaErrorInvalidValue;
    }
}
