// The scheduler (see scheduler.h): sets up one cluster's blocks and threads, resumes runnable
// threads round-robin in thread order until all have exited, and turns a state where no thread
// can proceed into a deadlock fault that says what each side waits for. Thread exit is checked
// here too: a thread that exits while others of its block wait at a __syncthreads, or while a
// cluster barrier phase it never joined is under way, is a fault (CUDA leaves it undefined).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>

#include "scheduler.h"
#include "state.h"

__thread uint3 threadIdx;
__thread uint3 blockIdx;
__thread dim3 blockDim;
__thread dim3 gridDim;

namespace emu::detail {

__thread Thread* tl_thread = nullptr;
__thread Run* tl_run = nullptr;

namespace {
// Happens-before edges from the host to every thread of a run and back (TSan).
char g_tsan_start, g_tsan_end;

std::string dims(uint3 v) {
  std::ostringstream o;
  o << '(' << v.x << ',' << v.y << ',' << v.z << ')';
  return o.str();
}
}  // namespace

std::string where(const Thread& t) {
  return "block " + dims(t.block->bid) + " thread " + dims(t.tid);
}

std::string where(const Site& s) {
  if (!s.file) return "?";
  const char* base = s.file;
  for (const char* p = s.file; *p; ++p)
    if (*p == '/') base = p + 1;
  return std::string(base) + ":" + std::to_string(s.line);
}

const char* kind_name(WarpKind k) {
  switch (k) {
    case WarpKind::Sync:
      return "__syncwarp";
    case WarpKind::Idx:
      return "__shfl_sync";
    case WarpKind::Up:
      return "__shfl_up_sync";
    case WarpKind::Down:
      return "__shfl_down_sync";
    case WarpKind::Xor:
      return "__shfl_xor_sync";
    case WarpKind::Ballot:
      return "__ballot_sync";
    case WarpKind::Any:
      return "__any_sync";
    case WarpKind::All:
      return "__all_sync";
  }
  return "?";
}

const char* kind_name(BarrierKind k) {
  switch (k) {
    case BarrierKind::Plain:
      return "__syncthreads";
    case BarrierKind::Count:
      return "__syncthreads_count";
    case BarrierKind::And:
      return "__syncthreads_and";
    case BarrierKind::Or:
      return "__syncthreads_or";
  }
  return "?";
}

std::string waiting_at(const Thread& t) {
  switch (t.state) {
    case State::AtBarrier:
      return std::string(kind_name(t.block->bar_kind)) + " (" + where(t.site) + ")";
    case State::AtCluster:
      return "the cluster barrier (" + where(t.site) + ")";
    case State::AtWarp:
      return std::string(kind_name(t.wkind)) + " (mask " + hex(t.wmask) + ", " + where(t.site) +
             ")";
    case State::Done:
      return "exit (it has returned)";
    case State::NotStarted:
      return "its start (not yet run)";
    case State::Runnable:
      return "no barrier (runnable)";
    case State::Abandoned:
      return "a fault";
  }
  return "?";
}

Thread& current(const char* what) {
  if (!tl_thread) {
    std::fprintf(stderr, "emu: %s called outside a kernel\n", what);
    std::abort();
  }
  return *tl_thread;
}

namespace {
std::string fault_prefix(const Run& run) {
  const LaunchInfo& l = *run.launch;
  std::string s =
      "emu: kernel fault in '" + l.name + "' (grid " + dims(l.grid) + ", block " + dims(l.block);
  if (l.cluster.x * l.cluster.y * l.cluster.z > 1) s += ", cluster " + dims(l.cluster);
  return s + "): ";
}
}  // namespace

void fault_run(Run& run, const std::string& what) {
  if (!run.faulted) set_sticky(cudaErrorLaunchFailure, fault_prefix(run) + what);
  run.faulted = true;
}

void record_fault(const std::string& what, const Thread* who) {
  Thread& t = current("a fault check");
  fault_run(*tl_run, where(who ? *who : t) + ": " + what);
  tsan_release(&g_tsan_end);  // the host reads the message and this thread's writes
}

void leave_faulted() {
  tl_thread->state = State::Abandoned;
  tl_thread->fiber->dirty = true;  // its frames stay on the stack
  leave_fiber();
}

void run_thread(Thread& t) {
  tsan_acquire(&g_tsan_start);
  bool threw = false;
  {
    // Scoped so the message is freed before the fiber is left.
    std::string thrown;
    try {
      const LaunchInfo& l = *tl_run->launch;
      l.invoke(l.kernel, l.params);
    } catch (const std::exception& e) {
      thrown = std::string("the kernel threw an exception: ") + e.what();
    } catch (...) {
      thrown = "the kernel threw an exception";
    }
    // Outside the handler: leaving the fiber inside one would strand the exception.
    if (!thrown.empty()) {
      record_fault(thrown, nullptr);
      threw = true;
    }
  }
  if (threw) leave_faulted();

  Run& run = *tl_run;
  Block& b = *t.block;
  t.state = State::Done;
  ++b.exited;
  ++run.done;
  if (b.bar_arrived > 0) {
    const Thread* w = nullptr;
    for (unsigned i = 0; i < b.nthreads && !w; ++i)
      if (b.threads[i].state == State::AtBarrier) w = &b.threads[i];
    fault([&] {
      return std::string("exited while " + std::to_string(b.bar_arrived) +
                         " thread(s) of its block wait at " + kind_name(b.bar_kind) + " (" +
                         where(b.bar_site) + "), e.g. thread " + dims(w ? w->tid : uint3{0, 0, 0}) +
                         "; every thread of a block must reach each __syncthreads");
    });
  }
  if (run.cl_arrived > 0 && t.arrived_in != run.phase + 1)
    fault([&] {
      return std::string("exited while " + std::to_string(run.cl_arrived) + " of the cluster's " +
                         std::to_string(run.nthreads) + " threads wait at the cluster barrier (" +
                         where(run.cl_site) + ")");
    });
  check_exit_warp(t);
  tsan_release(&g_tsan_end);
}

namespace {

// Why nothing can proceed: the first waiting thread, what it waits for, and a thread that
// would have to arrive there but is elsewhere.
std::string explain_deadlock(const Run& run) {
  const Thread* first = nullptr;
  for (const Thread& t : run.threads)
    if (t.state != State::Done) {
      first = &t;
      break;
    }
  if (!first) return "deadlock with no waiting thread";
  std::string s =
      "deadlock: no thread can proceed. " + where(*first) + " waits at " + waiting_at(*first);
  const Thread* other = nullptr;
  if (first->state == State::AtBarrier) {
    const Block& b = *first->block;
    for (unsigned i = 0; i < b.nthreads && !other; ++i)
      if (b.threads[i].state != State::AtBarrier) other = &b.threads[i];
  } else if (first->state == State::AtWarp) {
    const Block& b = *first->block;
    const unsigned base = first->linear & ~31u;
    for (unsigned l = 0; l < 32 && !other; ++l)
      if ((first->wmask >> l & 1u) && base + l < b.nthreads) {
        const Thread& o = b.threads[base + l];
        if (o.state != State::AtWarp || o.wmask != first->wmask) other = &o;
      }
  } else if (first->state == State::AtCluster) {
    for (const Thread& t : run.threads)
      if (t.state != State::AtCluster) {
        other = &t;
        break;
      }
  }
  if (other) s += ", but " + where(*other) + " waits at " + waiting_at(*other);
  return s;
}

uint3 unflatten(unsigned i, dim3 d) {
  return uint3{i % d.x, (i / d.x) % d.y, i / (d.x * d.y)};
}

}  // namespace

void abandon_if_faulted() {
  if (!tl_run->faulted) return;
  tsan_release(&g_tsan_end);
  leave_faulted();
}

bool run_cluster(const LaunchInfo& launch, uint3 cidx, std::size_t& static_peak) {
  static thread_local Run run;
  const dim3 bd = launch.block, cd = launch.cluster;
  const unsigned bt = bd.x * bd.y * bd.z, nb = cd.x * cd.y * cd.z, nw = (bt + 31) / 32;
  const unsigned nt = bt * nb;
  run.launch = &launch;
  run.cluster_idx = cidx;
  run.blocks.resize(nb);
  run.threads.resize(nt);
  run.warps.resize(static_cast<std::size_t>(nw) * nb);
  run.nthreads = nt;
  run.done = 0;
  run.phase = 0;
  run.cl_arrived = 0;
  run.faulted = false;
  Fiber** fibers = fiber_pool(nt);
  for (unsigned r = 0; r < nb; ++r) {
    Block& b = run.blocks[r];
    const uint3 in = unflatten(r, cd);
    b.bid = uint3{cidx.x * cd.x + in.x, cidx.y * cd.y + in.y, cidx.z * cd.z + in.z};
    b.rank = r;
    b.threads = &run.threads[static_cast<std::size_t>(r) * bt];
    b.nthreads = bt;
    b.exited = 0;
    b.warps = &run.warps[static_cast<std::size_t>(r) * nw];
    b.bar_arrived = 0;
    b.bar_gen = 0;
    b.bar_count = b.bar_result = 0;
    for (unsigned w = 0; w < nw; ++w) {
      Warp& wp = b.warps[w];
      const unsigned lanes = bt - w * 32 < 32 ? bt - w * 32 : 32;
      wp.exists = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
      wp.exited = 0;
      wp.ngroups = 0;
    }
    for (unsigned i = 0; i < bt; ++i) {
      Thread& t = b.threads[i];
      t.tid = unflatten(i, bd);
      t.linear = i;
      t.block = &b;
      t.fiber = fibers[static_cast<std::size_t>(r) * bt + i];
      t.state = State::NotStarted;
      t.site = Site{nullptr, 0};
      t.phase = t.arrived_in = 0;
    }
    shared_begin_block(b, launch);
  }

  Run* outer = tl_run;
  tl_run = &run;
  blockDim = bd;
  gridDim = launch.grid;
  tsan_release(&g_tsan_start);
  for (;;) {
    bool progressed = false;
    for (unsigned i = 0; i < nt && !run.faulted; ++i) {
      Thread& t = run.threads[i];
      if (t.state == State::Runnable || t.state == State::NotStarted) {
        resume(t);
        progressed = true;
      }
    }
    if (run.faulted || run.done == nt) break;
    if (!progressed) fault_run(run, explain_deadlock(run));
  }
  if (run.faulted) {
    // Resume every suspended thread once so that it hands its writes over to the host (TSan)
    // and leaves at once (abandon_if_faulted); threads not yet started stay so.
    for (Thread& t : run.threads)
      if (t.state == State::Runnable || t.state == State::AtBarrier || t.state == State::AtWarp ||
          t.state == State::AtCluster)
        resume(t);
  }
  tsan_acquire(&g_tsan_end);
  tl_run = outer;

  for (Thread& t : run.threads)
    if (t.state != State::Done && t.state != State::NotStarted) t.fiber->dirty = true;
  for (Block& b : run.blocks) {
    if (b.static_bytes > static_peak) static_peak = b.static_bytes;
    shared_end_block(b);
  }
  return !run.faulted;
}

}  // namespace emu::detail

bool emu::in_kernel() {
  return emu::detail::tl_thread != nullptr;
}
