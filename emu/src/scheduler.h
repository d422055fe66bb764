// The emulator's execution state (internal). One Run executes one cluster (a single block when
// the launch has no cluster attribute): every CUDA thread of its blocks is a Thread with its own
// fiber, and the scheduler resumes runnable threads round-robin in thread order (block rank,
// then linear thread id) until all have exited. Threads switch only at barriers, warp
// operations and exit. A fault (barrier misuse, deadlock, bad warp mask, shared-memory misuse)
// ends the Run: the first message is kept, the other fibers are abandoned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "fiber.h"

namespace emu::detail {

// Abandoned: the thread faulted and left its fiber for good (never resumed).
enum class State : unsigned char {
  NotStarted,
  Runnable,
  AtBarrier,
  AtCluster,
  AtWarp,
  Done,
  Abandoned
};

struct LaunchInfo {
  std::string name;  // the kernel's source name, or its address
  const void* kernel;
  Invoker invoke;
  void* params;
  dim3 grid, block, cluster;
  std::size_t dynamic_smem;
  std::size_t smem_limit;  // static + dynamic bytes a block may hold
};

struct Block;

struct Thread {
  uint3 tid;
  unsigned linear;  // (z * blockDim.y + y) * blockDim.x + x
  Block* block;
  Fiber* fiber;
  State state;
  Site site;  // where it waits (diagnostics)
  // Warp operation in flight.
  WarpKind wkind;
  unsigned wmask;
  int warg, wwidth;
  std::uint64_t win, wout;
  // Cluster barrier: the phase it waits for; 1 + the phase it last arrived in (0: none).
  unsigned long long phase, arrived_in;
};

// Lanes of one warp waiting in one warp operation with one mask.
struct WarpGroup {
  unsigned mask, arrived;
  WarpKind kind;
  int width;
  Site site;
};

struct Warp {
  unsigned exists;  // lanes that exist in this (possibly partial) warp
  unsigned exited;
  int ngroups;
  WarpGroup groups[32];
  char tsan_sync;  // address for __syncwarp's happens-before edges
};

struct SharedAlloc {
  const void* site;  // nullptr: the dynamic shared memory
  char* ptr;
  std::size_t bytes;
};

struct Block {
  uint3 bid;
  unsigned rank;  // in the cluster
  Thread* threads;
  unsigned nthreads, exited;
  Warp* warps;
  // __syncthreads in progress
  unsigned bar_arrived;
  unsigned bar_gen;
  Site bar_site;
  BarrierKind bar_kind;
  int bar_count, bar_result;
  char tsan_bar[2];  // happens-before edges, one per barrier parity
  // shared memory
  std::vector<SharedAlloc> shared;  // [0] is the dynamic allocation
  std::size_t static_bytes;
};

struct Run {
  const LaunchInfo* launch;
  uint3 cluster_idx;
  std::vector<Block> blocks;
  std::vector<Thread> threads;
  std::vector<Warp> warps;
  unsigned nthreads, done;
  // cluster barrier
  unsigned long long phase;
  unsigned cl_arrived;
  Site cl_site;
  char tsan_cluster[2];
  bool faulted;
};

extern __thread Thread* tl_thread;  // the running CUDA thread (nullptr on the host)
extern __thread Run* tl_run;

// Runs one cluster of `launch` at cluster index `cidx`; false when it faulted. Updates
// `static_peak` with the most static shared memory one of its blocks used.
bool run_cluster(const LaunchInfo& launch, uint3 cidx, std::size_t& static_peak);
// Fiber side: the body of one CUDA thread (the kernel call, then the exit checks).
void run_thread(Thread& t);
// The running thread; aborts with a message naming `what` when called outside a kernel.
Thread& current(const char* what);

// "block (1,0,0) thread (37,0,0)"
std::string where(const Thread& t);
std::string where(const Site& s);
const char* kind_name(WarpKind k);
const char* kind_name(BarrierKind k);

// Fiber side: record `what` as the launch's fault (prefixed with the kernel and `who`, default
// the running thread). The fiber is then abandoned, never resumed: it must hold no heap objects
// when it leaves, so callers pass a function that builds the message inside fault(), where
// every temporary dies before the switch.
void record_fault(const std::string& what, const Thread* who);
[[noreturn]] void leave_faulted();
// Fiber side, after every yield: a thread resumed after its run faulted leaves for good.
void abandon_if_faulted();
template <class MakeMessage>
[[noreturn]] void fault(MakeMessage&& make, const Thread* who = nullptr) {
  record_fault(make(), who);
  leave_faulted();
}
// Scheduler side: record a fault of the run (deadlock).
void fault_run(Run& run, const std::string& what);

// Shared memory of a block (shared_memory.cpp).
void shared_begin_block(Block& b, const LaunchInfo& launch);
void shared_end_block(Block& b);

// Called by a thread that exits: faults if lanes of its warp wait for it (warp.cpp).
void check_exit_warp(Thread& t);
// "__syncthreads (file:line)", "__shfl_xor_sync (mask 0xffffffff, file:line)", ...: what a
// waiting thread waits in, for deadlock messages.
std::string waiting_at(const Thread& t);

}  // namespace emu::detail
