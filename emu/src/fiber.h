// Fibers for the emulator: pooled stacks (mmap'ed with a guard page below, reused across blocks
// and launches) and the switches between the scheduler (the launching host thread's own stack)
// and one CUDA thread's fiber, on Boost.Context's fcontext. Switches are annotated for
// AddressSanitizer (__sanitizer_start/finish_switch_fiber) and ThreadSanitizer (one TSan fiber
// per pooled stack, switched to without synchronisation so that only barriers order memory).
// The sanitizer hooks are weak symbols: they are used when the binary links that runtime.
#pragma once

#include <cstddef>
#include <vector>

namespace emu::detail {

struct Thread;

struct Fiber {
  char* lo = nullptr;    // lowest usable byte (the guard page is below it)
  std::size_t size = 0;  // usable bytes
  void* ctx = nullptr;   // the suspended fcontext
  void* tsan = nullptr;  // TSan fiber bound to this stack
  void* asan_fake = nullptr;
  bool dirty = false;  // abandoned mid-kernel: frames left on the stack
};

// The first `n` fibers of the pool (created on demand; addresses are stable).
Fiber** fiber_pool(std::size_t n);
std::size_t fiber_stack_bytes();

// Scheduler side: start or continue `t` on its fiber; returns when it yields, exits or faults.
void resume(Thread& t);
// Fiber side: back to the scheduler; returns when the scheduler resumes this thread.
void yield_to_scheduler();
// Fiber side: leave for good (the thread exited or faulted); never returns.
[[noreturn]] void leave_fiber();
// Before a fiber whose previous run was abandoned is reused.
void clean_fiber(Fiber& f);

// Registers the sanitizer death callback that names the CUDA thread (once).
void install_death_callback();

// ThreadSanitizer happens-before edges (no-ops without TSan).
void tsan_release(void* addr);
void tsan_acquire(void* addr);
// Writes by the emulator itself that TSan should not attribute to the running fiber.
void tsan_ignore_writes(bool begin);

}  // namespace emu::detail
