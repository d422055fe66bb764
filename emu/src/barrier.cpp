// Block and cluster barriers. __syncthreads is a counted barrier per block: the last thread to
// arrive releases the others and carries on. Every thread of the block must arrive at the same
// call site with the same kind; a thread arriving elsewhere, or arriving after another thread of
// the block has exited, is a fault (the exit side is checked in scheduler.cpp). The cluster
// barrier (cluster.sync() = arrive + wait) counts phases over every thread of the cluster. Each
// barrier is a release/acquire for ThreadSanitizer, on one sync address per phase parity, so
// writes after a barrier are not ordered before another thread's reads after the same barrier.
#include <cstring>

#include "scheduler.h"
#include "state.h"

namespace emu::detail {

namespace {

bool same_site(const Site& a, const Site& b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

const Thread* first_in(const Block& b, State s) {
  for (unsigned i = 0; i < b.nthreads; ++i)
    if (b.threads[i].state == s) return &b.threads[i];
  return nullptr;
}

const Thread* first_done(const Thread* begin, const Thread* end) {
  for (const Thread* t = begin; t != end; ++t)
    if (t->state == State::Done) return t;
  return nullptr;
}

}  // namespace

int block_barrier(BarrierKind kind, int predicate, Site site) {
  Thread& t = current("__syncthreads");
  Block& b = *t.block;
  if (b.exited > 0) {
    const Thread* d = first_done(b.threads, b.threads + b.nthreads);
    fault([&] {
      return std::string(std::string("reached ") + kind_name(kind) + " (" + where(site) + ") but " +
                         where(*d) + " has exited, so the barrier can never complete");
    });
  }
  if (b.bar_arrived == 0) {
    b.bar_site = site;
    b.bar_kind = kind;
    b.bar_count = 0;
  } else if (b.bar_kind != kind || !same_site(b.bar_site, site)) {
    const Thread* w = first_in(b, State::AtBarrier);
    fault([&] {
      return std::string(std::string("waits at ") + kind_name(kind) + " (" + where(site) +
                         ") while " + std::to_string(b.bar_arrived) +
                         " thread(s) of its block wait at a different barrier, " +
                         kind_name(b.bar_kind) + " (" + where(b.bar_site) + "), e.g. " + where(*w));
    });
  }
  b.bar_count += predicate != 0;
  const unsigned gen = b.bar_gen;
  tsan_release(&b.tsan_bar[gen & 1]);
  if (++b.bar_arrived == b.nthreads) {
    switch (kind) {
      case BarrierKind::Plain:
        b.bar_result = 0;
        break;
      case BarrierKind::Count:
        b.bar_result = b.bar_count;
        break;
      case BarrierKind::And:
        b.bar_result = b.bar_count == static_cast<int>(b.nthreads);
        break;
      case BarrierKind::Or:
        b.bar_result = b.bar_count > 0;
        break;
    }
    for (unsigned i = 0; i < b.nthreads; ++i)
      if (b.threads[i].state == State::AtBarrier) b.threads[i].state = State::Runnable;
    b.bar_arrived = 0;
    ++b.bar_gen;
  } else {
    t.state = State::AtBarrier;
    t.site = site;
    yield_to_scheduler();
  }
  tsan_acquire(&b.tsan_bar[gen & 1]);
  return b.bar_result;  // stable until every thread has left: the next barrier needs them all
}

unsigned cluster_block_rank() {
  return current("cluster.block_rank()").block->rank;
}

unsigned cluster_num_blocks() {
  current("cluster.num_blocks()");
  return static_cast<unsigned>(tl_run->blocks.size());
}

dim3 cluster_dim_blocks() {
  current("cluster.dim_blocks()");
  return tl_run->launch->cluster;
}

dim3 cluster_block_index() {
  const Thread& t = current("cluster.block_index()");
  const dim3 c = tl_run->launch->cluster;
  return dim3(t.block->bid.x % c.x, t.block->bid.y % c.y, t.block->bid.z % c.z);
}

unsigned long long cluster_arrive(Site site) {
  Thread& t = current("cluster.sync()");
  Run& run = *tl_run;
  if (run.done > 0) {
    const Thread* d = first_done(run.threads.data(), run.threads.data() + run.threads.size());
    fault([&] {
      return std::string("reached the cluster barrier (" + where(site) + ") but " + where(*d) +
                         " has exited, so the barrier can never complete");
    });
  }
  const unsigned long long phase = run.phase;
  if (t.arrived_in == phase + 1)
    fault([&] {
      return std::string("arrived twice at the same cluster barrier phase (" + where(site) +
                         ") without waiting for it");
    });
  if (run.cl_arrived == 0) {
    run.cl_site = site;
  } else if (!same_site(run.cl_site, site)) {
    fault([&] {
      return std::string("arrives at the cluster barrier at " + where(site) + " while " +
                         std::to_string(run.cl_arrived) + " thread(s) of the cluster arrived at " +
                         where(run.cl_site));
    });
  }
  t.arrived_in = phase + 1;
  tsan_release(&run.tsan_cluster[phase & 1]);
  if (++run.cl_arrived == run.nthreads) {
    ++run.phase;
    run.cl_arrived = 0;
    for (Thread& o : run.threads)
      if (o.state == State::AtCluster) o.state = State::Runnable;
  }
  return phase;
}

void cluster_wait(unsigned long long phase, Site site) {
  Thread& t = current("cluster.sync()");
  Run& run = *tl_run;
  if (run.phase <= phase) {
    t.state = State::AtCluster;
    t.phase = phase;
    t.site = site;
    yield_to_scheduler();
  }
  tsan_acquire(&run.tsan_cluster[phase & 1]);
}

}  // namespace emu::detail
