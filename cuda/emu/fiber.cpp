/* cuda/emu/fiber.cpp — kernel execution in the CUDA emulator: a launch runs
 * its grid block by block on the calling OS thread; each thread of a block
 * is a ucontext fiber on its own mmap'ed stack (with a guard page, reused
 * across blocks and launches). Fibers run in thread order until each blocks
 * at __syncthreads, a warp operation, or returns; then the barriers that
 * every participant has reached are released and the round repeats. A round
 * that releases nothing while threads still wait is a deadlock: the process
 * aborts with a message naming the kernel launch, the block and the threads. */
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cuda/emu/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define VI_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VI_EMU_ASAN 1
#endif
#endif
#ifdef VI_EMU_ASAN
#include <sanitizer/common_interface_defs.h>
#define VI_EMU_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define VI_EMU_NO_ASAN
#endif

namespace vi_emu
{

thread_local const fiber_view *current = nullptr;

namespace
{

const unsigned MAX_THREADS = 1024;
/* usable stack per fiber; pages are only committed when touched */
#ifdef VI_EMU_ASAN
const size_t STACK_BYTES = 512 * 1024;
#else
const size_t STACK_BYTES = 128 * 1024;
#endif

enum fiber_state { F_RUN, F_BARRIER, F_WARP, F_DONE };
enum warp_op { W_SYNCWARP, W_SHFL };

struct fiber {
    fiber_view view;
    ucontext_t ctx;
    char *map;   /* the mapping: guard page, then the stack */
    char *stack; /* lowest usable stack byte */
    int state;
    int warp_op;
    unsigned long barriers; /* __syncthreads passed or waited at */
    unsigned long warp_ops; /* warp operations passed or waited at */
    void *asan_fake;
};

struct engine {
    fiber *fibers[MAX_THREADS] = {};
    size_t page = 0;
    ucontext_t sched;
    block_state blk;
    const launch_desc *launch = nullptr;
    unsigned nthreads = 0;
    fiber *running = nullptr;
    uint64_t slots[2][MAX_THREADS];
    const void *sched_bottom = nullptr;
    size_t sched_size = 0;

    ~engine()
    {
        for (unsigned i = 0; i < MAX_THREADS; i++) {
            if (fibers[i]) {
                munmap(fibers[i]->map, STACK_BYTES + page);
                delete fibers[i];
            }
        }
    }
};

thread_local std::unique_ptr<engine> tls_engine;

void describe_launch(char *buf, size_t size, const launch_desc *d)
{
    snprintf(buf, size, "VI_LAUNCH(%s) grid (%u,%u,%u) block (%u,%u,%u)", d->kernel, d->grid.x,
             d->grid.y, d->grid.z, d->block.x, d->block.y, d->block.z);
}

/* Prints "verinfer CUDA emulator: <launch>: <message>" and aborts. */
[[noreturn]] __attribute__((format(printf, 2, 3))) void fatal(const launch_desc *d, const char *fmt,
                                                              ...)
{
    char where[512] = "outside any kernel launch";
    if (d)
        describe_launch(where, sizeof where, d);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "verinfer CUDA emulator: %s: %s\n", where, msg);
    fflush(stderr);
    abort();
}

inline void asan_start(void **fake, const void *bottom, size_t size)
{
#ifdef VI_EMU_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
}

inline void asan_finish(void *fake, const void **bottom, size_t *size)
{
#ifdef VI_EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
}

engine *get_engine()
{
    if (!tls_engine) {
        tls_engine.reset(new engine());
        tls_engine->page = (size_t)sysconf(_SC_PAGESIZE);
    }
    return tls_engine.get();
}

/* The fiber running kernel code, or an abort naming `what`. */
fiber *running_fiber(const char *what)
{
    engine *e = tls_engine.get();
    if (!e || !e->running)
        fatal(nullptr, "%s called outside a kernel", what);
    return e->running;
}

unsigned linear_tid(const fiber *f, const dim3 &bd)
{
    return f->view.thread_idx.x + bd.x * (f->view.thread_idx.y + bd.y * f->view.thread_idx.z);
}

/* Entry of every fiber: runs the kernel body for this thread, then returns to
 * the scheduler for good. Not instrumented, so that the frame it leaves on a
 * reused stack carries no ASan poisoning. */
VI_EMU_NO_ASAN void fiber_main()
{
    engine *e = tls_engine.get();
    asan_finish(nullptr, &e->sched_bottom, &e->sched_size);
    e->launch->body(e->launch->arg);
    e->running->state = F_DONE;
    asan_start(nullptr, e->sched_bottom, e->sched_size);
    setcontext(&e->sched);
}

fiber *make_fiber(engine *e, const launch_desc *d)
{
    fiber *f = new fiber();
    void *m = mmap(nullptr, STACK_BYTES + e->page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        fatal(d, "cannot map a %zu-byte fiber stack", STACK_BYTES);
    if (mprotect(m, e->page, PROT_NONE) != 0)
        fatal(d, "cannot protect a fiber stack guard page");
    f->map = static_cast<char *>(m);
    f->stack = f->map + e->page;
    if (getcontext(&f->ctx) != 0)
        fatal(d, "getcontext failed");
    return f;
}

/* Switches from the scheduler to f until f blocks or ends. */
void resume(engine *e, fiber *f)
{
    e->running = f;
    current = &f->view;
    void *fake = nullptr;
    asan_start(&fake, f->stack, STACK_BYTES);
    swapcontext(&e->sched, &f->ctx);
    asan_finish(fake, nullptr, nullptr);
    current = nullptr;
    e->running = nullptr;
}

/* Switches from the running fiber back to the scheduler. */
void yield(engine *e, fiber *f)
{
    asan_start(&f->asan_fake, e->sched_bottom, e->sched_size);
    swapcontext(&f->ctx, &e->sched);
    asan_finish(f->asan_fake, &e->sched_bottom, &e->sched_size);
}

void describe_thread(char *buf, size_t size, const fiber *f)
{
    snprintf(buf, size, "(%u,%u,%u)", f->view.thread_idx.x, f->view.thread_idx.y,
             f->view.thread_idx.z);
}

/* No barrier can be released although threads wait: say who waits where. */
[[noreturn]] void deadlock(engine *e)
{
    const fiber *at_bar = nullptr, *done = nullptr, *at_warp = nullptr;
    for (unsigned i = 0; i < e->nthreads; i++) {
        const fiber *f = e->fibers[i];
        if (f->state == F_BARRIER && !at_bar)
            at_bar = f;
        else if (f->state == F_DONE && !done)
            done = f;
        else if (f->state == F_WARP && !at_warp)
            at_warp = f;
    }
    char msg[768] = "", t[64];
    size_t len = 0;
    if (at_bar) {
        describe_thread(t, sizeof t, at_bar);
        len += (size_t)snprintf(msg + len, sizeof msg - len,
                                "thread %s waits at __syncthreads #%lu", t, at_bar->barriers);
    }
    if (at_warp && len < sizeof msg) {
        describe_thread(t, sizeof t, at_warp);
        len += (size_t)snprintf(msg + len, sizeof msg - len,
                                "%sthread %s waits at warp operation #%lu (%s) of warp %u",
                                len ? "; " : "", t, at_warp->warp_ops,
                                at_warp->warp_op == W_SHFL ? "shuffle" : "__syncwarp",
                                linear_tid(at_warp, e->blk.block_dim) / 32);
    }
    if (done && len < sizeof msg) {
        describe_thread(t, sizeof t, done);
        snprintf(msg + len, sizeof msg - len, "%sthread %s has returned", len ? "; " : "", t);
    }
    fatal(e->launch, "deadlock in block (%u,%u,%u): a barrier is not reached by all threads: %s",
          e->blk.block_idx.x, e->blk.block_idx.y, e->blk.block_idx.z, msg);
}

/* Releases every barrier all of whose participants have arrived; returns
 * whether any was released. */
bool release_barriers(engine *e)
{
    unsigned n = e->nthreads, at_bar = 0;
    for (unsigned i = 0; i < n; i++)
        at_bar += e->fibers[i]->state == F_BARRIER;
    if (at_bar == n) {
        for (unsigned i = 0; i < n; i++)
            e->fibers[i]->state = F_RUN;
        return true;
    }
    bool released = false;
    for (unsigned w = 0; w * 32 < n; w++) {
        unsigned lo = w * 32, hi = lo + 32 < n ? lo + 32 : n;
        bool all = true;
        for (unsigned i = lo; i < hi && all; i++)
            all = e->fibers[i]->state == F_WARP;
        if (!all)
            continue;
        for (unsigned i = lo + 1; i < hi; i++) {
            if (e->fibers[i]->warp_op != e->fibers[lo]->warp_op) {
                char a[64], b[64];
                describe_thread(a, sizeof a, e->fibers[lo]);
                describe_thread(b, sizeof b, e->fibers[i]);
                fatal(e->launch,
                      "divergent warp operations in block (%u,%u,%u), warp %u: thread %s is at "
                      "a %s, thread %s at a %s",
                      e->blk.block_idx.x, e->blk.block_idx.y, e->blk.block_idx.z, w, a,
                      e->fibers[lo]->warp_op == W_SHFL ? "shuffle" : "__syncwarp", b,
                      e->fibers[i]->warp_op == W_SHFL ? "shuffle" : "__syncwarp");
            }
        }
        for (unsigned i = lo; i < hi; i++)
            e->fibers[i]->state = F_RUN;
        released = true;
    }
    return released;
}

void run_block(engine *e)
{
    const dim3 &bd = e->blk.block_dim;
    unsigned n = e->nthreads;
    for (unsigned i = 0; i < n; i++) {
        fiber *f = e->fibers[i];
        f->view.thread_idx = uint3{i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y)};
        f->view.block = &e->blk;
        f->state = F_RUN;
        f->barriers = 0;
        f->warp_ops = 0;
        f->asan_fake = nullptr;
        f->ctx.uc_stack.ss_sp = f->stack;
        f->ctx.uc_stack.ss_size = STACK_BYTES;
        f->ctx.uc_link = nullptr;
        makecontext(&f->ctx, fiber_main, 0);
#ifdef VI_EMU_ASAN
        /* switches no longer need the stack bounds; without them ASan's
         * swapcontext interceptor stops clearing the whole stack's shadow on
         * every resume (slow, and it would unpoison live frames) */
        f->ctx.uc_stack.ss_sp = nullptr;
        f->ctx.uc_stack.ss_size = 0;
#endif
    }
    unsigned done = 0;
    for (;;) {
        for (unsigned i = 0; i < n; i++) {
            fiber *f = e->fibers[i];
            if (f->state != F_RUN)
                continue;
            resume(e, f);
            done += f->state == F_DONE;
        }
        if (done == n)
            return;
        if (!release_barriers(e))
            deadlock(e);
    }
}

/* Checks that `mask` names every existing lane of f's warp; returns f's lane
 * and the number of existing lanes in its warp through *lanes. */
unsigned check_warp_mask(engine *e, fiber *f, unsigned mask, const char *what, unsigned *lanes)
{
    unsigned tid = linear_tid(f, e->blk.block_dim);
    unsigned base = tid & ~31u;
    *lanes = e->nthreads - base < 32 ? e->nthreads - base : 32;
    unsigned need = *lanes == 32 ? 0xffffffffu : (1u << *lanes) - 1u;
    if ((mask & need) != need) {
        char t[64];
        describe_thread(t, sizeof t, f);
        fatal(e->launch,
              "%s with mask 0x%08x in thread %s: the mask must name all %u existing lanes of "
              "the warp (partial-warp masks are not emulated)",
              what, mask, t, *lanes);
    }
    return tid & 31u;
}

void warp_wait(engine *e, fiber *f, int op)
{
    f->warp_ops++;
    f->warp_op = op;
    f->state = F_WARP;
    yield(e, f);
}

} // namespace

const fiber_view *self_slow()
{
    fatal(nullptr, "threadIdx/blockIdx/blockDim/gridDim read outside a kernel");
}

uint64_t shfl(unsigned int mask, uint64_t bits, shfl_mode mode, int b, int width)
{
    fiber *f = running_fiber("a warp shuffle");
    engine *e = tls_engine.get();
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
        char t[64];
        describe_thread(t, sizeof t, f);
        fatal(e->launch, "shuffle width %d in thread %s: must be a power of two from 1 to 32",
              width, t);
    }
    unsigned lanes;
    unsigned lane = check_warp_mask(e, f, mask, "shuffle", &lanes);
    unsigned tid = linear_tid(f, e->blk.block_dim);
    unsigned parity = (unsigned)(f->warp_ops & 1u);
    e->slots[parity][tid] = bits;
    warp_wait(e, f, W_SHFL);
    /* PTX shfl.sync: segmask = 32 - width selects the segment; the clamp is
     * the segment's last lane (its first for "up") */
    unsigned seg = (unsigned)(32 - width) & 31u, bval = (unsigned)b & 31u;
    unsigned first = lane & seg, last = first | (31u & ~seg);
    int j;
    bool ok;
    switch (mode) {
    case SHFL_UP:
        j = (int)lane - (int)bval;
        ok = j >= (int)first;
        break;
    case SHFL_DOWN:
        j = (int)(lane + bval);
        ok = j <= (int)last;
        break;
    case SHFL_XOR:
        j = (int)(lane ^ bval);
        ok = j <= (int)last;
        break;
    default:
        j = (int)(first | (bval & ~seg));
        ok = true;
        break;
    }
    if (!ok || (unsigned)j >= lanes)
        return bits;
    return e->slots[parity][(tid & ~31u) + (unsigned)j];
}

void launch(const launch_desc &d)
{
    engine *e = get_engine();
    if (e->launch)
        fatal(&d, "launched from inside kernel %s (dynamic parallelism is not emulated)",
              e->launch->kernel);
    unsigned long long threads = (unsigned long long)d.block.x * d.block.y * d.block.z;
    if (d.block.x > 1024 || d.block.y > 1024 || d.block.z > 64 || threads > MAX_THREADS)
        fatal(&d, "a block of %llu threads: at most 1024 (x, y <= 1024, z <= 64)", threads);
    if (device_count() < 1) {
        record_error(cudaErrorNoDevice);
        return;
    }
    if (!stream_valid(d.stream)) {
        record_error(cudaErrorInvalidResourceHandle);
        return;
    }
    if (threads == 0 || d.grid.x == 0 || d.grid.y == 0 || d.grid.z == 0 || d.grid.x > 2147483647u ||
        d.grid.y > 65535u || d.grid.z > 65535u) {
        record_error(cudaErrorInvalidConfiguration);
        return;
    }
    if (d.shmem_bytes > 48 * 1024) {
        record_error(cudaErrorInvalidValue);
        return;
    }
    for (int i = 0; i < d.npointers; i++) {
        if (d.pointers[i] && !device_accessible(d.pointers[i]))
            fatal(&d,
                  "pointer argument %d (%p) is not device memory (not inside a cudaMalloc or "
                  "cudaMallocHost block)",
                  i + 1, d.pointers[i]);
    }
    for (unsigned i = 0; i < threads; i++) {
        if (!e->fibers[i])
            e->fibers[i] = make_fiber(e, &d);
    }
    e->launch = &d;
    e->nthreads = (unsigned)threads;
    e->blk.block_dim = d.block;
    e->blk.grid_dim = d.grid;
    for (unsigned z = 0; z < d.grid.z; z++) {
        for (unsigned y = 0; y < d.grid.y; y++) {
            for (unsigned x = 0; x < d.grid.x; x++) {
                e->blk.block_idx = uint3{x, y, z};
                run_block(e);
            }
        }
    }
    e->launch = nullptr;
    count_launch(d.stream);
}

} // namespace vi_emu

void __syncthreads()
{
    vi_emu::fiber *f = vi_emu::running_fiber("__syncthreads");
    f->barriers++;
    f->state = vi_emu::F_BARRIER;
    vi_emu::yield(vi_emu::tls_engine.get(), f);
}

void __syncwarp(unsigned int mask)
{
    vi_emu::fiber *f = vi_emu::running_fiber("__syncwarp");
    vi_emu::engine *e = vi_emu::tls_engine.get();
    unsigned lanes;
    vi_emu::check_warp_mask(e, f, mask, "__syncwarp", &lanes);
    vi_emu::warp_wait(e, f, vi_emu::W_SYNCWARP);
}
