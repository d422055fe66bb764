// Fiber stacks and switches (see fiber.h). The scheduler runs on the launching host thread's
// stack; a CUDA thread's fiber is started lazily, the first time the scheduler resumes it, and
// each switch is a pair of fcontext jumps (scheduler -> fiber -> scheduler) with no heap
// allocation. Stack size: EMBER_EMU_STACK_KB (default 64 KiB, 256 KiB when a sanitizer runtime
// is linked, whose instrumented frames and reports need more).
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "scheduler.h"

// Sanitizer hooks, resolved only when the binary links that sanitizer's runtime.
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size)
    __attribute__((weak));
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old) __attribute__((weak));
void __asan_unpoison_memory_region(const volatile void* addr, std::size_t size)
    __attribute__((weak));
void* __tsan_get_current_fiber() __attribute__((weak));
void* __tsan_create_fiber(unsigned flags) __attribute__((weak));
void __tsan_destroy_fiber(void* fiber) __attribute__((weak));
void __tsan_switch_to_fiber(void* fiber, unsigned flags) __attribute__((weak));
void __tsan_acquire(void* addr) __attribute__((weak));
void __tsan_release(void* addr) __attribute__((weak));
void __tsan_set_fiber_name(void* fiber, const char* name) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));
void AnnotateIgnoreWritesBegin(const char* file, int line) __attribute__((weak));
void AnnotateIgnoreWritesEnd(const char* file, int line) __attribute__((weak));
}

namespace ctx = boost::context::detail;

namespace emu::detail {

namespace {

constexpr unsigned kTsanNoSync = 1;  // __tsan_switch_to_fiber_no_sync

bool have_asan() {
  return __sanitizer_start_switch_fiber != nullptr;
}
bool have_tsan() {
  return __tsan_switch_to_fiber != nullptr;
}

// The scheduler's side of the switches, per host thread.
__thread void* tl_sched_ctx = nullptr;   // its suspended context while a fiber runs
__thread void* tl_sched_tsan = nullptr;  // its TSan fiber
__thread void* tl_sched_fake = nullptr;  // its ASan fake stack while away
__thread const void* tl_sched_bottom = nullptr;
__thread std::size_t tl_sched_size = 0;

std::size_t page_size() {
  return static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

Fiber* new_fiber() {
  const std::size_t page = page_size();
  const std::size_t size = (fiber_stack_bytes() + page - 1) / page * page;
  void* m = mmap(nullptr, size + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    std::fprintf(stderr, "emu: cannot map a %zu-byte fiber stack\n", size + page);
    std::abort();
  }
  // The lowest page stays inaccessible: a stack overflow faults instead of corrupting memory.
  mprotect(m, page, PROT_NONE);
  auto* f = new Fiber;
  f->lo = static_cast<char*>(m) + page;
  f->size = size;
  return f;
}

void entry(ctx::transfer_t from) {
  tl_sched_ctx = from.fctx;
  if (have_asan()) __sanitizer_finish_switch_fiber(nullptr, &tl_sched_bottom, &tl_sched_size);
  Thread& t = *static_cast<Thread*>(from.data);
  run_thread(t);  // returns when the kernel returned and the exit was checked
  leave_fiber();
}

}  // namespace

std::size_t fiber_stack_bytes() {
  static const std::size_t bytes = [] {
    std::size_t kb = (have_asan() || have_tsan()) ? 256 : 64;
    if (const char* env = std::getenv("EMBER_EMU_STACK_KB")) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(env, &end, 10);
      if (end == env || *end != '\0' || v < 16 || v > (1ul << 20)) {
        std::fprintf(stderr, "emu: EMBER_EMU_STACK_KB=%s is not a size in KiB in [16, 2^20]\n",
                     env);
        std::abort();
      }
      kb = v;
    }
    return kb * 1024;
  }();
  return bytes;
}

Fiber** fiber_pool(std::size_t n) {
  static std::vector<Fiber*>* pool = new std::vector<Fiber*>;  // never freed: stacks are reused
  static std::size_t tsan_high = 0;  // pool entries [0, tsan_high) may hold a TSan fiber
  while (pool->size() < n) pool->push_back(new_fiber());
  if (have_tsan()) {
    // TSan tracks a bounded number of threads precisely (256 slots); every TSan fiber counts.
    // Keep only as many as this run has threads, created on first use (resume). A stack whose
    // TSan fiber is destroyed and later recreated has no false history: its old owner
    // released to the host when it exited and the new one acquires from the host at start.
    for (std::size_t i = n; i < tsan_high; ++i) {
      Fiber& f = *(*pool)[i];
      if (f.tsan) __tsan_destroy_fiber(f.tsan);
      f.tsan = nullptr;
    }
    tsan_high = n;
  }
  return pool->data();
}

void clean_fiber(Fiber& f) {
  if (!f.dirty) return;
  // Frames of the abandoned kernel are still poisoned (ASan) or on TSan's shadow stack.
  if (__asan_unpoison_memory_region) __asan_unpoison_memory_region(f.lo, f.size);
  if (f.tsan) {
    __tsan_destroy_fiber(f.tsan);
    f.tsan = nullptr;
  }
  f.asan_fake = nullptr;
  f.dirty = false;
}

void resume(Thread& t) {
  Fiber& f = *t.fiber;
  if (t.state == State::NotStarted) {
    clean_fiber(f);
    if (have_tsan()) {
      if (!f.tsan) f.tsan = __tsan_create_fiber(0);
      // TSan's reports then say which CUDA thread a "thread" is.
      char name[96];
      std::snprintf(name, sizeof name, "block (%u,%u,%u) thread (%u,%u,%u)", t.block->bid.x,
                    t.block->bid.y, t.block->bid.z, t.tid.x, t.tid.y, t.tid.z);
      __tsan_set_fiber_name(f.tsan, name);
    }
    f.ctx = ctx::make_fcontext(f.lo + f.size, f.size, &entry);
    t.state = State::Runnable;
  }
  tl_thread = &t;
  threadIdx = t.tid;
  blockIdx = t.block->bid;
  if (have_tsan()) {
    if (!tl_sched_tsan) tl_sched_tsan = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(f.tsan, kTsanNoSync);
  }
  if (have_asan()) __sanitizer_start_switch_fiber(&tl_sched_fake, f.lo, f.size);
  const ctx::transfer_t back = ctx::jump_fcontext(f.ctx, &t);
  if (have_asan()) __sanitizer_finish_switch_fiber(tl_sched_fake, nullptr, nullptr);
  f.ctx = back.fctx;
  tl_thread = nullptr;
}

void yield_to_scheduler() {
  Fiber& f = *tl_thread->fiber;
  if (have_tsan()) __tsan_switch_to_fiber(tl_sched_tsan, kTsanNoSync);
  if (have_asan()) __sanitizer_start_switch_fiber(&f.asan_fake, tl_sched_bottom, tl_sched_size);
  const ctx::transfer_t back = ctx::jump_fcontext(tl_sched_ctx, nullptr);
  tl_sched_ctx = back.fctx;
  if (have_asan()) __sanitizer_finish_switch_fiber(f.asan_fake, &tl_sched_bottom, &tl_sched_size);
  abandon_if_faulted();
}

void leave_fiber() {
  if (have_tsan()) __tsan_switch_to_fiber(tl_sched_tsan, kTsanNoSync);
  // A null fake-stack slot tells ASan this fiber's stack is finished with.
  if (have_asan()) __sanitizer_start_switch_fiber(nullptr, tl_sched_bottom, tl_sched_size);
  ctx::jump_fcontext(tl_sched_ctx, nullptr);
  __builtin_unreachable();
}

namespace {
// A sanitizer that dies inside a kernel (ASan, UBSan with -fno-sanitize-recover) has printed
// its report with host frames only; say which kernel, block and thread it was.
void on_sanitizer_death() {
  if (!tl_thread || !tl_run) return;
  std::fprintf(stderr, "emu: the report above happened in kernel '%s', %s\n",
               tl_run->launch->name.c_str(), where(*tl_thread).c_str());
}
}  // namespace

void install_death_callback() {
  static bool done = false;
  if (!done && __sanitizer_set_death_callback) __sanitizer_set_death_callback(&on_sanitizer_death);
  done = true;
}

void tsan_release(void* addr) {
  if (__tsan_release) __tsan_release(addr);
}
void tsan_acquire(void* addr) {
  if (__tsan_acquire) __tsan_acquire(addr);
}
void tsan_ignore_writes(bool begin) {
  if (begin && AnnotateIgnoreWritesBegin) AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  if (!begin && AnnotateIgnoreWritesEnd) AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
}

}  // namespace emu::detail
