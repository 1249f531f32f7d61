/* tests/cuda/test_emu.cpp — the CUDA host emulation itself (cuda/emu/): block
 * barriers and shared memory, warp shuffles (xor/down/up/idx, widths, a
 * partial last warp), 3-D grid and block indices, aborts on deadlocks and
 * bad launches (in forked children), and the runtime subset (memory round
 * trips, pointer checks, errors, streams, events, test hooks). Its own small
 * kernels go through VI_LAUNCH exactly as cuda/<op>.cu do. */
#include "cuda/compat.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" {
#include <cmocka.h>

#include "test_util.h"
}

#define FULL 0xffffffffu

/* ==== Kernels ==== */

/* out[block] = sum of x[block*256 + t]: tree in shared memory, a barrier per level. */
__global__ void block_sum_kernel(const int *x, int *out, int n)
{
    __shared__ int s[1024];
    unsigned t = threadIdx.x;
    int i = (int)(blockIdx.x * blockDim.x + t);
    s[t] = i < n ? x[i] : 0;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (t < stride)
            s[t] += s[t + stride];
        __syncthreads();
    }
    if (t == 0)
        out[blockIdx.x] = s[0];
}

/* Each thread publishes tag*1000 + t and reads its right neighbour's value,
 * with (barrier = 1) or without a barrier in between. */
__global__ void neighbour_kernel(int *out, int tag, int barrier)
{
    __shared__ int s[64];
    unsigned t = threadIdx.x;
    s[t] = tag * 1000 + (int)t;
    if (barrier)
        __syncthreads();
    out[t] = s[(t + 1) % blockDim.x];
}

/* v = x[t]; butterfly (xor) or shift-down sums over the warp. */
__global__ void warp_tree_kernel(const float *x, float *y, int down)
{
    unsigned t = threadIdx.x;
    float v = x[t];
    for (int off = 16; off > 0; off >>= 1)
        v += down ? __shfl_down_sync(FULL, v, (unsigned)off) : __shfl_xor_sync(FULL, v, off);
    y[t] = v;
}

/* Integer shuffles with widths: idx from lane `src` of each width-segment,
 * up and down by `delta`, xor with `xmask`. */
__global__ void shfl_width_kernel(int *out, int src, int delta, int xmask, int width)
{
    int t = (int)threadIdx.x, n = (int)blockDim.x;
    out[t] = __shfl_sync(FULL, t * 10, src, width);
    out[n + t] = __shfl_up_sync(FULL, t * 10, (unsigned)delta, width);
    out[2 * n + t] = __shfl_down_sync(FULL, t * 10, (unsigned)delta, width);
    out[3 * n + t] = __shfl_xor_sync(FULL, t * 10, xmask, width);
}

/* Writes a code of (block, thread) at the thread's global 3-D position. */
__global__ void index_kernel(int *out, int *bad)
{
    unsigned gx = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned gy = blockIdx.y * blockDim.y + threadIdx.y;
    unsigned gz = blockIdx.z * blockDim.z + threadIdx.z;
    unsigned w = gridDim.x * blockDim.x, h = gridDim.y * blockDim.y;
    int code = (int)((((((blockIdx.x * 8 + blockIdx.y) * 8 + blockIdx.z) * 8 + threadIdx.x) * 8 +
                       threadIdx.y) *
                          8 +
                      threadIdx.z) +
                     1);
    out[(gz * h + gy) * w + gx] += code;
    if (gridDim.x != 3 || gridDim.y != 5 || gridDim.z != 2 || blockDim.x != 4 || blockDim.y != 3 ||
        blockDim.z != 2)
        *bad = 1;
}

__global__ void scale_kernel(float *y, const float *x, float a, int n)
{
    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n)
        y[i] = x[i] * a;
}

/* Threads below `quit` return before the barrier the others wait at. */
__global__ void early_return_kernel(int quit)
{
    if ((int)threadIdx.x < quit)
        return;
    __syncthreads();
}

/* Half a warp shuffles while the other half does __syncwarp. */
__global__ void divergent_warp_kernel(float *y)
{
    float v = 1.0f;
    if (threadIdx.x < 16)
        v = __shfl_xor_sync(FULL, v, 1);
    else
        __syncwarp();
    y[threadIdx.x] = v;
}

__global__ void partial_mask_kernel(float *y)
{
    y[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, 1.0f, 1);
}

__global__ void empty_kernel(int *p)
{
    (void)p;
}

/* ==== Helpers ==== */

static int *dev_ints(const int *host, size_t n)
{
    int *d = NULL;
    assert_int_equal(cudaMalloc(&d, n * sizeof(int)), cudaSuccess);
    if (host)
        assert_int_equal(cudaMemcpy(d, host, n * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
    else
        assert_int_equal(cudaMemset(d, 0, n * sizeof(int)), cudaSuccess);
    return d;
}

static float *dev_floats(const float *host, size_t n)
{
    float *d = NULL;
    assert_int_equal(cudaMalloc(&d, n * sizeof(float)), cudaSuccess);
    assert_int_equal(cudaMemcpy(d, host, n * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
    return d;
}

/* Runs fn(arg) in a child with stderr captured; asserts that the child died
 * of SIGABRT and that its stderr contains every string of `want`. */
static void expect_abort(void (*fn)(void *), void *arg, const char *const *want, int nwant)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    char buf[8192];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("child did not abort (status 0x%x); stderr: %s", status, buf);
    for (int i = 0; i < nwant; i++)
        if (!strstr(buf, want[i]))
            fail_msg("stderr lacks \"%s\": %s", want[i], buf);
}

/* ==== Block barriers and shared memory ==== */

static void test_block_sum(void **state)
{
    (void)state;
    static const int SIZES[] = {256, 1024, 64};
    vt_rng rng = {7};
    for (int s = 0; s < 3; s++) {
        unsigned bs = (unsigned)SIZES[s];
        int n = 3 * (int)bs - 17, nb = 3;
        int *x = (int *)malloc((size_t)n * sizeof(int));
        for (int i = 0; i < n; i++)
            x[i] = (int)vt_range(&rng, -100000, 100000);
        int *dx = dev_ints(x, (size_t)n), *dout = dev_ints(NULL, (size_t)nb);
        VI_LAUNCH(block_sum_kernel, nb, bs, 0, 0, dx, dout, n);
        assert_int_equal(cudaGetLastError(), cudaSuccess);
        int out[3];
        assert_int_equal(cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost), cudaSuccess);
        for (int b = 0; b < nb; b++) {
            int want = 0;
            for (int i = b * (int)bs; i < (b + 1) * (int)bs && i < n; i++)
                want += x[i];
            if (out[b] != want)
                fail_msg("block size %u, block %d: sum %d, want %d", bs, b, out[b], want);
        }
        cudaFree(dx);
        cudaFree(dout);
        free(x);
    }
}

static void test_missing_barrier_reads_stale(void **state)
{
    (void)state;
    int *d = dev_ints(NULL, 64);
    int out[64];
    /* with the barrier every thread sees its neighbour's value of this launch */
    VI_LAUNCH(neighbour_kernel, 1, 64, 0, 0, d, 1, 1);
    assert_int_equal(cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost), cudaSuccess);
    for (int t = 0; t < 64; t++)
        assert_int_equal(out[t], 1000 + (t + 1) % 64);
    /* without it, fibers run in thread order to the end: threads 0..62 read
     * the value left by the previous launch, only thread 63 reads thread 0's */
    VI_LAUNCH(neighbour_kernel, 1, 64, 0, 0, d, 2, 0);
    assert_int_equal(cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost), cudaSuccess);
    for (int t = 0; t < 63; t++)
        assert_int_equal(out[t], 1000 + t + 1);
    assert_int_equal(out[63], 2000);
    cudaFree(d);
}

/* ==== Warp shuffles ==== */

static void test_warp_trees(void **state)
{
    (void)state;
    static const unsigned BLOCKS[] = {64, 40};
    vt_rng rng = {11};
    for (int down = 0; down < 2; down++) {
        for (int bi = 0; bi < 2; bi++) {
            unsigned n = BLOCKS[bi];
            float x[64], y[64], want[64];
            for (unsigned t = 0; t < n; t++)
                x[t] = vt_uniform(&rng, -1.0f, 1.0f) * (float)(1 << (t % 13));
            /* host model: lockstep steps; a source lane that is past the
             * warp's end or does not exist gives the lane's own value */
            memcpy(want, x, sizeof want);
            for (int off = 16; off > 0; off >>= 1) {
                float prev[64];
                memcpy(prev, want, sizeof prev);
                for (unsigned t = 0; t < n; t++) {
                    unsigned lane = t % 32, base = t - lane;
                    unsigned j = down ? lane + (unsigned)off : lane ^ (unsigned)off;
                    float other = (j < 32 && base + j < n) ? prev[base + j] : prev[t];
                    want[t] = prev[t] + other;
                }
            }
            float *dx = dev_floats(x, n), *dy = dev_floats(x, n);
            VI_LAUNCH(warp_tree_kernel, 1, n, 0, 0, dx, dy, down);
            assert_int_equal(cudaGetLastError(), cudaSuccess);
            assert_int_equal(cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost),
                             cudaSuccess);
            if (memcmp(y, want, n * sizeof(float)) != 0)
                fail_msg("%s tree, block %u: bits differ from the lockstep model",
                         down ? "down" : "xor", n);
            cudaFree(dx);
            cudaFree(dy);
        }
    }
    /* sanity of the model itself: a full xor tree gives every lane the same sum */
    float x[64], y[64];
    for (int t = 0; t < 64; t++)
        x[t] = (float)t;
    float *dx = dev_floats(x, 64), *dy = dev_floats(x, 64);
    VI_LAUNCH(warp_tree_kernel, 1, 64, 0, 0, dx, dy, 0);
    assert_int_equal(cudaMemcpy(y, dy, sizeof y, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_true(y[0] == 496.0f && y[31] == 496.0f && y[32] == 1520.0f && y[63] == 1520.0f);
    cudaFree(dx);
    cudaFree(dy);
}

static void test_shuffle_widths(void **state)
{
    (void)state;
    static const struct {
        int src, delta, xmask, width;
    } CASES[] = {{13, 3, 8, 8}, {37, 1, 5, 32}, {2, 5, 16, 16}, {0, 1, 1, 1}};
    int *dout = dev_ints(NULL, 4 * 64);
    int out[4 * 64];
    for (int c = 0; c < 4; c++) {
        int src = CASES[c].src, delta = CASES[c].delta, xm = CASES[c].xmask, w = CASES[c].width;
        VI_LAUNCH(shfl_width_kernel, 1, 64, 0, 0, dout, src, delta, xm, w);
        assert_int_equal(cudaGetLastError(), cudaSuccess);
        assert_int_equal(cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost), cudaSuccess);
        for (int t = 0; t < 64; t++) {
            int lane = t % 32, seg0 = t - lane % w;
            /* PTX shfl.sync: idx wraps within the segment; up/down/xor that
             * leave the segment upwards (or below it, for up) keep their own value */
            int want_idx = seg0 + (src & 31) % w;
            int want_up = lane % w >= delta ? t - delta : t;
            int want_down = lane % w + delta < w ? t + delta : t;
            int xl = lane ^ (xm & 31);
            int want_xor = xl / w <= lane / w ? t - lane + xl : t;
            if (out[t] != want_idx * 10 || out[64 + t] != want_up * 10 ||
                out[128 + t] != want_down * 10 || out[192 + t] != want_xor * 10)
                fail_msg("case %d thread %d: idx %d up %d down %d xor %d, want %d %d %d %d", c, t,
                         out[t], out[64 + t], out[128 + t], out[192 + t], want_idx * 10,
                         want_up * 10, want_down * 10, want_xor * 10);
        }
    }
    cudaFree(dout);
}

/* ==== Grid and block indices ==== */

static void test_3d_indices(void **state)
{
    (void)state;
    const int W = 12, H = 15, D = 4;
    int *dout = dev_ints(NULL, (size_t)(W * H * D)), *dbad = dev_ints(NULL, 1);
    VI_LAUNCH(index_kernel, dim3(3, 5, 2), dim3(4, 3, 2), 0, 0, dout, dbad);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    int out[12 * 15 * 4], bad = -1;
    assert_int_equal(cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_int_equal(cudaMemcpy(&bad, dbad, sizeof bad, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_int_equal(bad, 0);
    for (int z = 0; z < D; z++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int bx = x / 4, by = y / 3, bz = z / 2, tx = x % 4, ty = y % 3, tz = z % 2;
                int want = (((((bx * 8 + by) * 8 + bz) * 8 + tx) * 8 + ty) * 8 + tz) + 1;
                int got = out[(z * H + y) * W + x];
                if (got != want)
                    fail_msg("position (%d,%d,%d): %d, want %d", x, y, z, got, want);
            }
    cudaFree(dout);
    cudaFree(dbad);
}

/* ==== Aborts ==== */

static void run_early_return(void *arg)
{
    (void)arg;
    VI_LAUNCH(early_return_kernel, 2, 64, 0, 0, 5);
}

static void run_divergent_warp(void *arg)
{
    float *d = NULL;
    (void)arg;
    cudaMalloc(&d, 32 * sizeof(float));
    VI_LAUNCH(divergent_warp_kernel, 1, 32, 0, 0, d);
}

static void run_partial_mask(void *arg)
{
    float *d = NULL;
    (void)arg;
    cudaMalloc(&d, 32 * sizeof(float));
    VI_LAUNCH(partial_mask_kernel, 1, 32, 0, 0, d);
}

static void run_big_block(void *arg)
{
    (void)arg;
    VI_LAUNCH(empty_kernel, 1, dim3(1025), 0, 0, (int *)NULL);
}

static void run_host_pointer(void *arg)
{
    int host[4];
    (void)arg;
    VI_LAUNCH(empty_kernel, 1, 32, 0, 0, host);
}

static void run_syncthreads_on_host(void *arg)
{
    (void)arg;
    __syncthreads();
}

static void test_aborts(void **state)
{
    (void)state;
    const char *dead[] = {"VI_LAUNCH(early_return_kernel) grid (2,1,1) block (64,1,1)",
                          "deadlock in block (0,0,0)", "thread (5,0,0) waits at __syncthreads #1",
                          "thread (0,0,0) has returned"};
    expect_abort(run_early_return, NULL, dead, 4);
    const char *div[] = {"VI_LAUNCH(divergent_warp_kernel)", "divergent warp operations",
                         "thread (0,0,0) is at a shuffle, thread (16,0,0) at a __syncwarp"};
    expect_abort(run_divergent_warp, NULL, div, 3);
    const char *mask[] = {"VI_LAUNCH(partial_mask_kernel)", "mask 0x0000ffff",
                          "all 32 existing lanes"};
    expect_abort(run_partial_mask, NULL, mask, 3);
    const char *big[] = {"VI_LAUNCH(empty_kernel) grid (1,1,1) block (1025,1,1)",
                         "a block of 1025 threads: at most 1024"};
    expect_abort(run_big_block, NULL, big, 2);
    const char *host[] = {"VI_LAUNCH(empty_kernel)", "pointer argument 1", "is not device memory"};
    expect_abort(run_host_pointer, NULL, host, 3);
    const char *outside[] = {"outside any kernel launch", "__syncthreads called outside a kernel"};
    expect_abort(run_syncthreads_on_host, NULL, outside, 2);
}

/* ==== Launch configuration ==== */

static int bump(int *calls)
{
    (*calls)++;
    return 7;
}

static void test_launch_errors(void **state)
{
    (void)state;
    int *d = dev_ints(NULL, 1);
    long before = vi_emu_launch_count();
    /* arguments are evaluated once per launch, not once per thread */
    int calls = 0;
    VI_LAUNCH(scale_kernel, 2, 32, 0, 0, (float *)d, (const float *)d, 1.0f, bump(&calls) - 7);
    assert_int_equal(calls, 1);
    assert_int_equal(vi_emu_launch_count(), before + 1);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    /* an empty grid is a configuration error and runs nothing */
    VI_LAUNCH(empty_kernel, 0, 32, 0, 0, d);
    assert_int_equal(cudaPeekAtLastError(), cudaErrorInvalidConfiguration);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidConfiguration);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    VI_LAUNCH(empty_kernel, dim3(1, 65536), 32, 0, 0, d);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidConfiguration);
    VI_LAUNCH(empty_kernel, 1, 32, 64 * 1024, 0, d);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidValue);
    /* a stream that does not exist (destroyed) */
    cudaStream_t s = NULL;
    assert_int_equal(cudaStreamCreate(&s), cudaSuccess);
    VI_LAUNCH(empty_kernel, 1, 32, 0, s, d);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    assert_int_equal(cudaStreamDestroy(s), cudaSuccess);
    VI_LAUNCH(empty_kernel, 1, 32, 0, s, d);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidResourceHandle);
    assert_int_equal(vi_emu_launch_count(), before + 2);
    cudaFree(d);
}

/* ==== Runtime ==== */

static void test_memory_round_trip(void **state)
{
    (void)state;
    long live = vi_emu_live_allocations();
    const int n = 1000;
    float x[1000], y[1000];
    for (int i = 0; i < n; i++)
        x[i] = (float)i * 0.25f - 3.0f;
    float *dx = NULL, *dy = NULL, *dz = NULL;
    assert_int_equal(cudaMalloc(&dx, n * sizeof(float)), cudaSuccess);
    assert_int_equal(cudaMalloc(&dy, n * sizeof(float)), cudaSuccess);
    assert_int_equal(cudaMalloc(&dz, n * sizeof(float)), cudaSuccess);
    assert_int_equal((uintptr_t)dx % 256, 0);
    assert_int_equal(vi_emu_live_allocations(), live + 3);
    assert_int_equal(cudaMemcpy(dx, x, sizeof x, cudaMemcpyHostToDevice), cudaSuccess);
    VI_LAUNCH(scale_kernel, (n + 127) / 128, 128, 0, 0, dy, dx, 3.0f, n);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    assert_int_equal(cudaMemcpy(dz, dy, sizeof x, cudaMemcpyDeviceToDevice), cudaSuccess);
    assert_int_equal(cudaMemcpyAsync(y, dz, sizeof y, cudaMemcpyDeviceToHost, 0), cudaSuccess);
    for (int i = 0; i < n; i++)
        assert_true(y[i] == x[i] * 3.0f);
    assert_int_equal(cudaMemset(dz + 10, 0xff, 4 * sizeof(float)), cudaSuccess);
    assert_int_equal(cudaMemcpy(y, dz, sizeof y, cudaMemcpyDefault), cudaSuccess);
    uint32_t bits;
    memcpy(&bits, &y[12], 4);
    assert_int_equal(bits, 0xffffffffu);
    assert_true(y[9] == x[9] * 3.0f && y[14] == x[14] * 3.0f);

    /* host and device pointers are told apart, and ranges stay inside blocks */
    assert_int_equal(cudaMemcpy(y, x, sizeof x, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidValue);
    assert_int_equal(cudaMemcpy(dx, dy, sizeof x, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    assert_int_equal(cudaMemcpy(y, dx + 1, sizeof x, cudaMemcpyDeviceToHost),
                     cudaErrorInvalidValue);
    assert_int_equal(cudaMemcpy(y, dx + 1, sizeof x - 4, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_int_equal(cudaMemset(dx + 1, 0, sizeof x), cudaErrorInvalidValue);
    assert_int_equal(cudaMemcpy(dx, x, 4, (cudaMemcpyKind)7), cudaErrorInvalidMemcpyDirection);
    assert_int_equal(cudaMemcpy(dx, x, 0, cudaMemcpyHostToDevice), cudaSuccess);
    assert_int_equal(cudaFree(x), cudaErrorInvalidValue);
    assert_int_equal(cudaFree(dx + 1), cudaErrorInvalidValue);
    assert_int_equal(cudaFree(NULL), cudaSuccess);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidValue);

    /* pinned memory is host memory that kernels may read */
    float *pinned = NULL;
    assert_int_equal(cudaMallocHost(&pinned, sizeof x), cudaSuccess);
    memcpy(pinned, x, sizeof x);
    VI_LAUNCH(scale_kernel, 8, 128, 0, 0, dy, pinned, 0.5f, n);
    assert_int_equal(cudaMemcpy(pinned, dy, sizeof x, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_true(pinned[999] == x[999] * 0.5f);
    assert_int_equal(cudaFree(pinned), cudaErrorInvalidValue);
    assert_int_equal(cudaFreeHost(dx), cudaErrorInvalidValue);
    assert_int_equal(cudaFreeHost(pinned), cudaSuccess);

    void *zero = (void *)1;
    assert_int_equal(cudaMalloc(&zero, 0), cudaSuccess);
    assert_null(zero);
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(dz);
    assert_int_equal(vi_emu_live_allocations(), live);
    cudaGetLastError();
}

static void test_device_and_hooks(void **state)
{
    (void)state;
    int count = -1, dev = -1, ver = 0;
    assert_int_equal(cudaGetDeviceCount(&count), cudaSuccess);
    assert_int_equal(count, 1);
    assert_int_equal(cudaSetDevice(0), cudaSuccess);
    assert_int_equal(cudaGetDevice(&dev), cudaSuccess);
    assert_int_equal(dev, 0);
    assert_int_equal(cudaSetDevice(1), cudaErrorInvalidDevice);
    assert_string_equal(cudaGetErrorString(cudaGetLastError()), "invalid device ordinal");
    cudaDeviceProp prop;
    assert_int_equal(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
    assert_string_equal(prop.name, "verinfer CUDA emulator");
    assert_int_equal(prop.multiProcessorCount, 1);
    assert_int_equal(prop.warpSize, 32);
    assert_int_equal(prop.maxThreadsPerBlock, 1024);
    assert_int_equal(cudaDriverGetVersion(&ver), cudaSuccess);
    assert_int_equal(ver, 12000);
    assert_int_equal(cudaRuntimeGetVersion(&ver), cudaSuccess);
    assert_int_equal(ver, 12000);
    assert_string_equal(cudaGetErrorName(cudaErrorNoDevice), "cudaErrorNoDevice");
    assert_string_equal(cudaGetErrorString((cudaError_t)1000), "unrecognized error code");
    assert_string_equal(cudaGetErrorName((cudaError_t)1000), "unrecognized error code");

    /* no device: the calls a backend makes first all say so */
    vi_emu_set_device_count(0);
    assert_int_equal(cudaGetDeviceCount(&count), cudaErrorNoDevice);
    assert_int_equal(count, 0);
    assert_string_equal(cudaGetErrorString(cudaGetLastError()),
                        "no CUDA-capable device is detected");
    assert_int_equal(cudaSetDevice(0), cudaErrorNoDevice);
    assert_int_equal(cudaGetDeviceProperties(&prop, 0), cudaErrorNoDevice);
    void *p = NULL;
    assert_int_equal(cudaMalloc(&p, 16), cudaErrorNoDevice);
    VI_LAUNCH(empty_kernel, 1, 1, 0, 0, (int *)NULL);
    assert_int_equal(cudaGetLastError(), cudaErrorNoDevice);
    vi_emu_set_device_count(1);

    /* allocation failure after n successes */
    vi_emu_fail_alloc_after(2);
    void *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(cudaMalloc(&a, 16), cudaSuccess);
    assert_int_equal(cudaMallocHost(&b, 16), cudaSuccess);
    assert_int_equal(cudaMalloc(&c, 16), cudaErrorMemoryAllocation);
    assert_null(c);
    assert_string_equal(cudaGetErrorString(cudaGetLastError()), "out of memory");
    vi_emu_fail_alloc_after(-1);
    assert_int_equal(cudaMalloc(&c, 16), cudaSuccess);
    cudaFree(a);
    cudaFreeHost(b);
    cudaFree(c);

    /* streams and events */
    cudaStream_t s;
    cudaEvent_t e0, e1;
    assert_int_equal(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
    assert_int_equal(cudaEventCreate(&e0), cudaSuccess);
    assert_int_equal(cudaEventCreate(&e1), cudaSuccess);
    float ms = -1.0f;
    assert_int_equal(cudaEventElapsedTime(&ms, e0, e1), cudaErrorInvalidResourceHandle);
    assert_int_equal(cudaEventRecord(e0, s), cudaSuccess);
    assert_int_equal(cudaEventRecord(e1), cudaSuccess);
    assert_int_equal(cudaEventSynchronize(e1), cudaSuccess);
    assert_int_equal(cudaEventElapsedTime(&ms, e0, e1), cudaSuccess);
    assert_true(ms >= 0.0f && ms < 1000.0f);
    assert_int_equal(cudaStreamSynchronize(s), cudaSuccess);
    assert_int_equal(cudaDeviceSynchronize(), cudaSuccess);
    assert_int_equal(cudaEventDestroy(e0), cudaSuccess);
    assert_int_equal(cudaEventDestroy(e1), cudaSuccess);
    assert_int_equal(cudaEventDestroy(e1), cudaErrorInvalidResourceHandle);
    assert_int_equal(cudaStreamDestroy(s), cudaSuccess);
    assert_int_equal(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
    size_t fr = 0, total = 0;
    assert_int_equal(cudaMemGetInfo(&fr, &total), cudaSuccess);
    assert_true(total > 0 && fr <= total);
    cudaGetLastError();
}

/* ==== Several OS threads launch at once ==== */

typedef struct {
    int seed;
    int failures;
} worker_arg;

static void *launch_worker(void *p)
{
    worker_arg *w = (worker_arg *)p;
    int x[512], out[2];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 512; i++)
            x[i] = w->seed * 100000 + round * 1000 + i;
        int *dx = NULL, *dout = NULL;
        cudaMalloc(&dx, sizeof x);
        cudaMalloc(&dout, sizeof out);
        cudaMemcpy(dx, x, sizeof x, cudaMemcpyHostToDevice);
        VI_LAUNCH(block_sum_kernel, 2, 256, 0, 0, dx, dout, 512);
        cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost);
        for (int b = 0; b < 2; b++) {
            int want = 0;
            for (int i = 0; i < 256; i++)
                want += x[b * 256 + i];
            w->failures += out[b] != want;
        }
        cudaFree(dx);
        cudaFree(dout);
    }
    return NULL;
}

static void test_threads_launch_concurrently(void **state)
{
    (void)state;
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].seed = i + 1;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, launch_worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_sum),        cmocka_unit_test(test_missing_barrier_reads_stale),
        cmocka_unit_test(test_warp_trees),       cmocka_unit_test(test_shuffle_widths),
        cmocka_unit_test(test_3d_indices),       cmocka_unit_test(test_aborts),
        cmocka_unit_test(test_launch_errors),    cmocka_unit_test(test_memory_round_trip),
        cmocka_unit_test(test_device_and_hooks), cmocka_unit_test(test_threads_launch_concurrently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
