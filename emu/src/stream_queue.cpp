// Stream queues (see stream_queue.h). In deferred mode an op depends on the previous op of its
// stream (the queue's order), on the ops its stream was told to wait for, and through the
// legacy default stream: an op on the legacy stream waits for the last op of every blocking
// stream, and an op on a blocking stream waits for the last legacy op. Dependencies always point
// to earlier ops, so a drain always progresses: the earliest pending op is always runnable.
#include "stream_queue.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "state.h"

namespace emu::detail {

namespace {

struct Queues {
  StreamQueue legacy, per_thread;
  std::vector<StreamQueue*> all;  // in creation order
  std::set<std::uint64_t> pending;
  std::uint64_t next_id = 1;
  bool draining = false;
  Queues() {
    legacy.order = 0;
    per_thread.order = 1;
    all = {&legacy, &per_thread};
  }
};

Queues& queues() {
  static Queues* q = new Queues;
  return *q;
}

bool blocking(const StreamQueue& q) {
  return &q != &queues().legacy && !(q.flags & cudaStreamNonBlocking);
}

std::uint64_t enqueue(cudaStream_t stream, std::function<void()> fn) {
  Queues& qs = queues();
  StreamQueue& q = queue_of(stream);
  Op op{qs.next_id++, std::move(q.waits), std::move(fn)};
  q.waits.clear();
  if (&q == &qs.legacy) {
    for (StreamQueue* o : qs.all)
      if (blocking(*o) && o->last && pending(o->last)) op.deps.push_back(o->last);
  } else if (blocking(q) && qs.legacy.last && pending(qs.legacy.last)) {
    op.deps.push_back(qs.legacy.last);
  }
  q.last = op.id;
  qs.pending.insert(op.id);
  q.ops.push_back(std::move(op));
  return q.last;
}

}  // namespace

namespace {
StreamMode initial_mode() {
  const char* v = std::getenv("EMBER_EMU_STREAMS");
  if (!v || !*v || std::strcmp(v, "immediate") == 0) return StreamMode::Immediate;
  if (std::strcmp(v, "deferred") == 0) return StreamMode::Deferred;
  if (std::strcmp(v, "deferred-reverse") == 0) return StreamMode::DeferredReverse;
  diag(std::string("EMBER_EMU_STREAMS=") + v +
       " is not one of immediate, deferred, deferred-reverse");
  std::abort();
}
StreamMode& mode() {
  static StreamMode m = initial_mode();
  return m;
}
}  // namespace

StreamMode stream_mode() {
  return mode();
}

StreamQueue& queue_of(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy) return queues().legacy;
  if (stream == cudaStreamPerThread) return queues().per_thread;
  return stream->q;
}

void register_queue(StreamQueue* q) {
  Queues& qs = queues();
  q->order = static_cast<unsigned>(qs.all.size());
  qs.all.push_back(q);
}

void unregister_queue(StreamQueue* q) {
  drain();  // CUDA lets a destroyed stream's work complete
  auto& all = queues().all;
  all.erase(std::remove(all.begin(), all.end(), q), all.end());
}

bool pending(std::uint64_t op) {
  return queues().pending.count(op) > 0;
}

void issue(cudaStream_t stream, std::function<void()> op) {
  if (stream_mode() == StreamMode::Immediate) {
    if (sticky_error() == cudaSuccess) op();
    return;
  }
  enqueue(stream, std::move(op));
}

std::uint64_t issue_marker(cudaStream_t stream, std::function<void()> op) {
  if (stream_mode() == StreamMode::Immediate) {
    op();
    return 0;
  }
  return enqueue(stream, std::move(op));
}

void wait_for(cudaStream_t stream, std::uint64_t marker) {
  if (marker && pending(marker)) queue_of(stream).waits.push_back(marker);
}

cudaError_t drain() {
  Queues& qs = queues();
  if (qs.draining) return sticky_error();  // an op never synchronises; be safe anyway
  qs.draining = true;
  const bool reverse = stream_mode() == StreamMode::DeferredReverse;
  while (!qs.pending.empty()) {
    std::vector<StreamQueue*> order = qs.all;
    if (reverse) std::reverse(order.begin(), order.end());
    bool progressed = false;
    for (StreamQueue* q : order) {
      // One stream as far as it can go before the next.
      while (!q->ops.empty() &&
             std::none_of(q->ops.front().deps.begin(), q->ops.front().deps.end(), pending)) {
        Op op = std::move(q->ops.front());
        q->ops.pop_front();
        qs.pending.erase(op.id);
        if (sticky_error() == cudaSuccess) op.run();  // after a fault, later work is dropped
        progressed = true;
      }
    }
    if (!progressed) {
      diag("internal error: queued stream operations wait for each other");
      std::abort();
    }
  }
  qs.draining = false;
  return sticky_error();
}

void drop_pending() {
  Queues& qs = queues();
  for (StreamQueue* q : qs.all) {
    q->ops.clear();
    q->waits.clear();
    q->last = 0;
  }
  qs.pending.clear();
}

}  // namespace emu::detail

emu::Streams emu::streams() {
  std::lock_guard<std::recursive_mutex> lock(detail::device_mutex());
  return detail::mode();
}

void emu::set_streams(Streams m) {
  std::lock_guard<std::recursive_mutex> lock(detail::device_mutex());
  detail::drain();
  detail::mode() = m;
}
