/* cuda/emu/emu.h — the host emulation of the CUDA subset verinfer's kernels
 * use, so that the CPU test suite executes every kernel's own source
 * (docs/cuda.md, "Emulation"). Included through cuda/compat.h when a .cu file
 * is compiled as C++17 with -DVI_CUDA_EMU; never under nvcc.
 *
 * Kernel side: the CUDA qualifiers, dim3/uint3, blockIdx/threadIdx/blockDim/
 * gridDim (per-fiber values), warpSize, __syncthreads, __syncwarp, the warp
 * shuffles and a few exact intrinsics. Each thread of a block is a ucontext
 * fiber; a block's fibers run in thread order until each blocks at a barrier
 * or ends, so a missing barrier shows up as a stale read. __shared__ is
 * `static thread_local`: one block runs at a time per OS thread, so a
 * function-static array is exactly the block's shared memory (declare
 * __shared__ arrays only inside kernels, with compile-time sizes; shared
 * memory keeps its contents from the previous block, as uninitialised shared
 * memory may on a GPU, and dynamic `extern __shared__` is not emulated).
 *
 * Host side: the CUDA runtime subset the backend uses, with "device memory"
 * = host memory (tracked, so a host pointer handed to the device side is an
 * error) and synchronous streams. */
#ifndef VI_CUDA_EMU_H
#define VI_CUDA_EMU_H

#ifndef __cplusplus
#error "cuda/emu/emu.h is C++: C code includes cuda/emu/emu_control.h"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda/emu/emu_control.h"

/* ==== Qualifiers ==== */

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __shared__ static thread_local
#define __constant__ static
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

/* ==== Vector and index types ==== */

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
        : x(vx), y(vy), z(vz)
    {
    }
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z)
    {
    }
    constexpr operator uint3() const
    {
        return uint3{x, y, z};
    }
};

struct __align__(8) float2
{
    float x, y;
};
struct __align__(16) float4
{
    float x, y, z, w;
};
struct __align__(8) int2
{
    int x, y;
};
struct __align__(16) int4
{
    int x, y, z, w;
};
static inline float2 make_float2(float x, float y)
{
    return float2{x, y};
}
static inline float4 make_float4(float x, float y, float z, float w)
{
    return float4{x, y, z, w};
}
static inline int2 make_int2(int x, int y)
{
    return int2{x, y};
}
static inline int4 make_int4(int x, int y, int z, int w)
{
    return int4{x, y, z, w};
}

static constexpr int warpSize = 32;

/* ==== The current fiber ==== */

namespace vi_emu
{

struct block_state;

/* What kernel code sees of its thread. */
struct fiber_view {
    uint3 thread_idx;
    const block_state *block;
};

struct block_state {
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
};

/* The fiber running on this OS thread (NULL outside a kernel). */
extern thread_local const fiber_view *current;

/* Aborts with a message naming the kernel when device-only code runs outside
 * a kernel; returns the current fiber otherwise. */
const fiber_view *self_slow();

inline const fiber_view *self()
{
    const fiber_view *f = current;
    return f ? f : self_slow();
}

} // namespace vi_emu

#define threadIdx (static_cast<const uint3 &>(vi_emu::self()->thread_idx))
#define blockIdx (static_cast<const uint3 &>(vi_emu::self()->block->block_idx))
#define blockDim (static_cast<const dim3 &>(vi_emu::self()->block->block_dim))
#define gridDim (static_cast<const dim3 &>(vi_emu::self()->block->grid_dim))

/* ==== Barriers and warp primitives ==== */

/* Waits until every thread of the block has reached its barrier. */
void __syncthreads();
/* Waits until every existing lane of the warp has reached it (mask must
 * cover them). */
void __syncwarp(unsigned int mask = 0xffffffffu);
/* Memory fences are no-ops: the fibers of a block share one OS thread. */
static inline void __threadfence_block()
{
}
static inline void __threadfence()
{
}

namespace vi_emu
{

enum shfl_mode { SHFL_IDX = 0, SHFL_UP, SHFL_DOWN, SHFL_XOR };

/* One lockstep exchange among the existing lanes of the calling warp:
 * every lane deposits `bits`, all wait, each reads its source lane's value
 * (PTX shfl.sync rules for mode/b/width; a source lane outside the segment,
 * or one that does not exist in a partial last warp, gives the caller's own
 * value). Aborts on a mask missing an existing lane or a bad width. */
uint64_t shfl(unsigned int mask, uint64_t bits, shfl_mode mode, int b, int width);

template <class T> inline T shfl_typed(unsigned int mask, T v, shfl_mode mode, int b, int width)
{
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8,
                  "emulated shuffles move trivially copyable values of at most 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    bits = shfl(mask, bits, mode, b, width);
    T r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
}

} // namespace vi_emu

template <class T> inline T __shfl_sync(unsigned int mask, T var, int src_lane, int width = 32)
{
    return vi_emu::shfl_typed(mask, var, vi_emu::SHFL_IDX, src_lane, width);
}
template <class T>
inline T __shfl_up_sync(unsigned int mask, T var, unsigned int delta, int width = 32)
{
    return vi_emu::shfl_typed(mask, var, vi_emu::SHFL_UP, (int)delta, width);
}
template <class T>
inline T __shfl_down_sync(unsigned int mask, T var, unsigned int delta, int width = 32)
{
    return vi_emu::shfl_typed(mask, var, vi_emu::SHFL_DOWN, (int)delta, width);
}
template <class T> inline T __shfl_xor_sync(unsigned int mask, T var, int lane_mask, int width = 32)
{
    return vi_emu::shfl_typed(mask, var, vi_emu::SHFL_XOR, lane_mask, width);
}

/* ==== Exact intrinsics (IEEE round-to-nearest, as on the device) ==== */

static inline float __fmaf_rn(float a, float b, float c)
{
    return __builtin_fmaf(a, b, c);
}
static inline float __fadd_rn(float a, float b)
{
    return a + b;
}
static inline float __fmul_rn(float a, float b)
{
    return a * b;
}
static inline float __fdiv_rn(float a, float b)
{
    return a / b;
}
static inline float __fsqrt_rn(float a)
{
    return __builtin_sqrtf(a);
}
static inline unsigned int __float_as_uint(float f)
{
    unsigned int u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}
static inline float __uint_as_float(unsigned int u)
{
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}
static inline int __float_as_int(float f)
{
    int i;
    std::memcpy(&i, &f, sizeof i);
    return i;
}
static inline float __int_as_float(int i)
{
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}
template <class T> inline T __ldg(const T *p)
{
    return *p;
}

/* ==== Runtime types ==== */

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorNotReady = 600,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchFailure = 719,
    cudaErrorUnknown = 999
} cudaError_t;

typedef enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
} cudaMemcpyKind;

typedef struct CUstream_st *cudaStream_t;
typedef struct CUevent_st *cudaEvent_t;

#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventDisableTiming 0x02

/* The device the emulator describes (the fields the backend reads). */
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlock;
    int regsPerBlock;
    int warpSize;
    int maxThreadsPerBlock;
    int maxThreadsDim[3];
    int maxGridSize[3];
    int clockRate;
    size_t totalConstMem;
    int major;
    int minor;
    int multiProcessorCount;
    int l2CacheSize;
    int maxThreadsPerMultiProcessor;
    size_t sharedMemPerMultiprocessor;
    int memoryClockRate;
    int memoryBusWidth;
    int pciBusID;
    int pciDeviceID;
    int pciDomainID;
    int integrated;
    int unifiedAddressing;
    int concurrentKernels;
    int ECCEnabled;
};

/* ==== Runtime API (C linkage, as in the CUDA runtime) ==== */

extern "C" {
cudaError_t cudaMalloc(void **dev_ptr, size_t size);
cudaError_t cudaFree(void *dev_ptr);
cudaError_t cudaMallocHost(void **ptr, size_t size);
cudaError_t cudaFreeHost(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t stream);
cudaError_t cudaMemset(void *dev_ptr, int value, size_t count);
cudaError_t cudaMemsetAsync(void *dev_ptr, int value, size_t count, cudaStream_t stream);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);

cudaError_t cudaStreamCreate(cudaStream_t *stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaDeviceSynchronize(void);

cudaError_t cudaEventCreate(cudaEvent_t *event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaEventDestroy(cudaEvent_t event);

cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int *device);
cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
cudaError_t cudaDriverGetVersion(int *version);
cudaError_t cudaRuntimeGetVersion(int *version);

cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char *cudaGetErrorString(cudaError_t error);
const char *cudaGetErrorName(cudaError_t error);
}

/* Default stream arguments and typed allocation, as the CUDA headers offer. */
static inline cudaError_t cudaEventRecord(cudaEvent_t event)
{
    return cudaEventRecord(event, (cudaStream_t)0);
}
template <class T> inline cudaError_t cudaMalloc(T **dev_ptr, size_t size)
{
    return cudaMalloc(reinterpret_cast<void **>(dev_ptr), size);
}
template <class T> inline cudaError_t cudaMallocHost(T **ptr, size_t size)
{
    return cudaMallocHost(reinterpret_cast<void **>(ptr), size);
}

/* ==== Kernel launch ==== */

namespace vi_emu
{

/* One launch, type-erased: body(arg) runs the kernel for the current fiber. */
struct launch_desc {
    const char *kernel; /* the kernel expression as written in VI_LAUNCH */
    dim3 grid, block;
    size_t shmem_bytes;
    cudaStream_t stream;
    void (*body)(void *arg);
    void *arg;
    const void *const *pointers; /* the pointer arguments, checked to be device memory */
    int npointers;
};

/* Runs every block of the grid on the calling OS thread, block after block,
 * each block's threads as fibers. Configuration errors go to the last error;
 * deadlocks, blocks over 1024 threads and host pointers abort. */
void launch(const launch_desc &d);

template <class T> inline void collect_pointer(const void **out, int *n, const T &v)
{
    if constexpr (std::is_pointer<T>::value)
        out[(*n)++] = static_cast<const void *>(v);
    else
        (void)v;
}

template <class Fn, class... A>
inline void launch_kernel(const char *kernel, dim3 grid, dim3 block, size_t shmem_bytes,
                          cudaStream_t stream, Fn fn, A &&...args)
{
    /* arguments are evaluated once and copied, as a launch passes them */
    typedef std::tuple<typename std::decay<A>::type...> args_t;
    struct holder {
        Fn *fn;
        args_t *args;
    };
    args_t tup(std::forward<A>(args)...);
    holder h = {&fn, &tup};
    const void *ptrs[sizeof...(A) + 1];
    int np = 0;
    std::apply([&](const auto &...a) { (collect_pointer(ptrs, &np, a), ...); }, tup);
    launch_desc d;
    d.kernel = kernel;
    d.grid = grid;
    d.block = block;
    d.shmem_bytes = shmem_bytes;
    d.stream = stream;
    d.body = [](void *p) {
        holder *hp = static_cast<holder *>(p);
        std::apply(*hp->fn, *hp->args);
    };
    d.arg = &h;
    d.pointers = ptrs;
    d.npointers = np;
    launch(d);
}

} // namespace vi_emu

#define VI_EMU_LAUNCH(kernel, grid, block, shmem_bytes, stream, ...)                               \
    vi_emu::launch_kernel(                                                                         \
        #kernel, dim3(grid), dim3(block), (size_t)(shmem_bytes), (cudaStream_t)(stream),           \
        [](auto &...vi_emu_a) { kernel(vi_emu_a...); }, ##__VA_ARGS__)

#endif
