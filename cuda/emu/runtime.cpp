/* cuda/emu/runtime.cpp — the CUDA runtime subset of the emulator: device
 * memory is host memory from posix_memalign (256-byte aligned, so ASan still
 * sees the exact end of every block), tracked in a table so that a host
 * pointer where device memory is due (or the reverse) is an error as on a
 * GPU; streams and events exist but work is synchronous; one device,
 * "verinfer CUDA emulator"; the last error is per OS thread. */
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include "cuda/emu/internal.h"

struct CUstream_st {
    unsigned int flags;
    long ops; /* operations enqueued on it (guarded by vi_emu::mu) */
};

struct CUevent_st {
    unsigned int flags;
    bool recorded;
    double ms;
};

namespace vi_emu
{

namespace
{

const int VERSION = 12000; /* the CUDA API level the emulator claims (12.0) */

struct block_info {
    size_t size;
    bool pinned; /* from cudaMallocHost */
};

std::mutex mu;
std::map<uintptr_t, block_info> blocks; /* base address -> block */
std::set<CUstream_st *> streams;
std::set<CUevent_st *> events;
std::atomic<int> ndevices{1};
std::atomic<long> allocs_left{-1};
std::atomic<long> launches{0};
thread_local cudaError_t last_error = cudaSuccess;
thread_local int cur_device = 0;

/* The block containing [p, p + n] (end included), or NULL; caller holds mu. */
const block_info *find_block(const void *p, size_t n, uintptr_t *base)
{
    uintptr_t a = (uintptr_t)p;
    auto it = blocks.upper_bound(a);
    if (it == blocks.begin())
        return nullptr;
    --it;
    if (a - it->first > it->second.size || n > it->second.size - (a - it->first))
        return nullptr;
    if (base)
        *base = it->first;
    return &it->second;
}

/* [p, p + n) lies in one device (not pinned) block. */
bool is_device_range(const void *p, size_t n)
{
    std::lock_guard<std::mutex> lock(mu);
    const block_info *b = find_block(p, n, nullptr);
    return b && !b->pinned;
}

/* p is not inside device (non-pinned) memory. */
bool is_host(const void *p)
{
    std::lock_guard<std::mutex> lock(mu);
    const block_info *b = find_block(p, 0, nullptr);
    return !b || b->pinned;
}

cudaError_t alloc_block(void **ptr, size_t size, bool pinned)
{
    if (!ptr)
        return record_error(cudaErrorInvalidValue);
    *ptr = nullptr;
    if (ndevices.load() < 1)
        return record_error(cudaErrorNoDevice);
    if (size == 0)
        return cudaSuccess;
    long left = allocs_left.load();
    while (left >= 0) {
        if (left == 0)
            return record_error(cudaErrorMemoryAllocation);
        if (allocs_left.compare_exchange_weak(left, left - 1))
            break;
    }
    void *p = nullptr;
    if (posix_memalign(&p, 256, size) != 0)
        return record_error(cudaErrorMemoryAllocation);
    std::lock_guard<std::mutex> lock(mu);
    blocks[(uintptr_t)p] = block_info{size, pinned};
    *ptr = p;
    return cudaSuccess;
}

cudaError_t free_block(void *p, bool pinned)
{
    if (!p)
        return cudaSuccess;
    {
        std::lock_guard<std::mutex> lock(mu);
        auto it = blocks.find((uintptr_t)p);
        if (it == blocks.end() || it->second.pinned != pinned)
            return record_error(cudaErrorInvalidValue);
        blocks.erase(it);
    }
    std::free(p);
    return cudaSuccess;
}

double now_ms()
{
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

size_t physical_memory()
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)1 << 30;
}

} // namespace

cudaError_t record_error(cudaError_t e)
{
    if (e != cudaSuccess)
        last_error = e;
    return e;
}

bool device_accessible(const void *p)
{
    std::lock_guard<std::mutex> lock(mu);
    return find_block(p, 0, nullptr) != nullptr;
}

bool stream_valid(cudaStream_t s)
{
    if (!s)
        return true;
    std::lock_guard<std::mutex> lock(mu);
    return streams.count(s) != 0;
}

int device_count()
{
    return ndevices.load();
}

void count_stream_op(cudaStream_t s)
{
    if (!s)
        return;
    std::lock_guard<std::mutex> lock(mu);
    if (streams.count(s) != 0)
        s->ops++;
}

void count_launch(cudaStream_t s)
{
    launches.fetch_add(1);
    count_stream_op(s);
}

} // namespace vi_emu

using vi_emu::record_error;

/* ==== Test hooks ==== */

extern "C" void vi_emu_set_device_count(int count)
{
    vi_emu::ndevices.store(count < 0 ? 0 : count);
}

extern "C" void vi_emu_fail_alloc_after(long n)
{
    vi_emu::allocs_left.store(n < 0 ? -1 : n);
}

extern "C" long vi_emu_live_allocations(void)
{
    std::lock_guard<std::mutex> lock(vi_emu::mu);
    return (long)vi_emu::blocks.size();
}

extern "C" long vi_emu_launch_count(void)
{
    return vi_emu::launches.load();
}

extern "C" long vi_emu_stream_ops(const void *stream)
{
    std::lock_guard<std::mutex> lock(vi_emu::mu);
    CUstream_st *s = (CUstream_st *)const_cast<void *>(stream);
    return s && vi_emu::streams.count(s) != 0 ? s->ops : -1;
}

/* ==== Memory ==== */

cudaError_t cudaMalloc(void **dev_ptr, size_t size)
{
    return vi_emu::alloc_block(dev_ptr, size, false);
}

cudaError_t cudaFree(void *dev_ptr)
{
    return vi_emu::free_block(dev_ptr, false);
}

cudaError_t cudaMallocHost(void **ptr, size_t size)
{
    return vi_emu::alloc_block(ptr, size, true);
}

cudaError_t cudaFreeHost(void *ptr)
{
    return vi_emu::free_block(ptr, true);
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, cudaMemcpyKind kind)
{
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
        return record_error(cudaErrorInvalidMemcpyDirection);
    if (count == 0)
        return cudaSuccess;
    if (!dst || !src)
        return record_error(cudaErrorInvalidValue);
    bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyDefault) {
        dst_dev = !vi_emu::is_host(dst);
        src_dev = !vi_emu::is_host(src);
    }
    bool ok_dst = dst_dev ? vi_emu::is_device_range(dst, count) : vi_emu::is_host(dst);
    bool ok_src = src_dev ? vi_emu::is_device_range(src, count) : vi_emu::is_host(src);
    if (!ok_dst || !ok_src)
        return record_error(cudaErrorInvalidValue);
    std::memmove(dst, src, count);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t stream)
{
    if (!vi_emu::stream_valid(stream))
        return record_error(cudaErrorInvalidResourceHandle);
    vi_emu::count_stream_op(stream);
    return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemset(void *dev_ptr, int value, size_t count)
{
    if (count == 0)
        return cudaSuccess;
    if (!dev_ptr || !vi_emu::is_device_range(dev_ptr, count))
        return record_error(cudaErrorInvalidValue);
    std::memset(dev_ptr, value, count);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *dev_ptr, int value, size_t count, cudaStream_t stream)
{
    if (!vi_emu::stream_valid(stream))
        return record_error(cudaErrorInvalidResourceHandle);
    vi_emu::count_stream_op(stream);
    return cudaMemset(dev_ptr, value, count);
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    if (!free_bytes || !total_bytes)
        return record_error(cudaErrorInvalidValue);
    size_t total = vi_emu::physical_memory(), used = 0;
    {
        std::lock_guard<std::mutex> lock(vi_emu::mu);
        for (const auto &b : vi_emu::blocks)
            used += b.second.pinned ? 0 : b.second.size;
    }
    *total_bytes = total;
    *free_bytes = used < total ? total - used : 0;
    return cudaSuccess;
}

/* ==== Streams and events ==== */

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags)
{
    if (!stream)
        return record_error(cudaErrorInvalidValue);
    if (vi_emu::ndevices.load() < 1)
        return record_error(cudaErrorNoDevice);
    CUstream_st *s = new CUstream_st{flags, 0};
    std::lock_guard<std::mutex> lock(vi_emu::mu);
    vi_emu::streams.insert(s);
    *stream = s;
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *stream)
{
    return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream)
{
    {
        std::lock_guard<std::mutex> lock(vi_emu::mu);
        if (!stream || vi_emu::streams.erase(stream) == 0)
            return record_error(cudaErrorInvalidResourceHandle);
    }
    delete stream;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    if (!vi_emu::stream_valid(stream))
        return record_error(cudaErrorInvalidResourceHandle);
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
    if (vi_emu::ndevices.load() < 1)
        return record_error(cudaErrorNoDevice);
    return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
{
    if (!event)
        return record_error(cudaErrorInvalidValue);
    if (vi_emu::ndevices.load() < 1)
        return record_error(cudaErrorNoDevice);
    CUevent_st *e = new CUevent_st{flags, false, 0.0};
    std::lock_guard<std::mutex> lock(vi_emu::mu);
    vi_emu::events.insert(e);
    *event = e;
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t *event)
{
    return cudaEventCreateWithFlags(event, cudaEventDefault);
}

static bool event_valid(cudaEvent_t e)
{
    std::lock_guard<std::mutex> lock(vi_emu::mu);
    return e && vi_emu::events.count(e) != 0;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
    if (!event_valid(event) || !vi_emu::stream_valid(stream))
        return record_error(cudaErrorInvalidResourceHandle);
    event->recorded = true;
    event->ms = vi_emu::now_ms();
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event)
{
    if (!event_valid(event))
        return record_error(cudaErrorInvalidResourceHandle);
    return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    if (!ms)
        return record_error(cudaErrorInvalidValue);
    if (!event_valid(start) || !event_valid(end) || !start->recorded || !end->recorded ||
        (start->flags & cudaEventDisableTiming) || (end->flags & cudaEventDisableTiming))
        return record_error(cudaErrorInvalidResourceHandle);
    *ms = (float)(end->ms - start->ms);
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event)
{
    {
        std::lock_guard<std::mutex> lock(vi_emu::mu);
        if (!event || vi_emu::events.erase(event) == 0)
            return record_error(cudaErrorInvalidResourceHandle);
    }
    delete event;
    return cudaSuccess;
}

/* ==== Device ==== */

cudaError_t cudaGetDeviceCount(int *count)
{
    if (!count)
        return record_error(cudaErrorInvalidValue);
    *count = vi_emu::ndevices.load();
    return *count < 1 ? record_error(cudaErrorNoDevice) : cudaSuccess;
}

static cudaError_t check_device(int device)
{
    int n = vi_emu::ndevices.load();
    if (n < 1)
        return record_error(cudaErrorNoDevice);
    if (device < 0 || device >= n)
        return record_error(cudaErrorInvalidDevice);
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device)
{
    cudaError_t rc = check_device(device);
    if (rc == cudaSuccess)
        vi_emu::cur_device = device;
    return rc;
}

cudaError_t cudaGetDevice(int *device)
{
    if (!device)
        return record_error(cudaErrorInvalidValue);
    *device = vi_emu::cur_device;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device)
{
    if (!prop)
        return record_error(cudaErrorInvalidValue);
    cudaError_t rc = check_device(device);
    if (rc != cudaSuccess)
        return rc;
    std::memset(prop, 0, sizeof *prop);
    std::strncpy(prop->name, "verinfer CUDA emulator", sizeof prop->name - 1);
    prop->totalGlobalMem = vi_emu::physical_memory();
    prop->sharedMemPerBlock = 48 * 1024;
    prop->regsPerBlock = 65536;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = 1024;
    prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 2147483647;
    prop->maxGridSize[1] = 65535;
    prop->maxGridSize[2] = 65535;
    prop->totalConstMem = 64 * 1024;
    prop->major = 8;
    prop->minor = 0;
    prop->multiProcessorCount = 1;
    prop->maxThreadsPerMultiProcessor = 1024;
    prop->sharedMemPerMultiprocessor = 48 * 1024;
    prop->unifiedAddressing = 1;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *version)
{
    if (!version)
        return record_error(cudaErrorInvalidValue);
    *version = vi_emu::VERSION;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *version)
{
    if (!version)
        return record_error(cudaErrorInvalidValue);
    *version = vi_emu::VERSION;
    return cudaSuccess;
}

/* ==== Errors ==== */

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = vi_emu::last_error;
    vi_emu::last_error = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void)
{
    return vi_emu::last_error;
}

namespace
{

struct error_text {
    cudaError_t code;
    const char *name;
    const char *text;
};

/* The names and texts of the CUDA runtime for the codes the emulator returns. */
const error_text ERRORS[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

const error_text *lookup(cudaError_t e)
{
    for (const error_text &t : ERRORS)
        if (t.code == e)
            return &t;
    return nullptr;
}

} // namespace

const char *cudaGetErrorString(cudaError_t error)
{
    const error_text *t = lookup(error);
    return t ? t->text : "unrecognized error code";
}

const char *cudaGetErrorName(cudaError_t error)
{
    const error_text *t = lookup(error);
    return t ? t->name : "unrecognized error code";
}
