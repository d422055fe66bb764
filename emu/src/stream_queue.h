// Stream execution (internal). By default every stream operation runs when it is issued. With
// EMBER_EMU_STREAMS=deferred (or deferred-reverse) operations are queued per stream and run only
// at synchronisation points, in an order that respects exactly what CUDA promises — each
// stream's own order, the legacy default stream's implicit barriers with blocking streams, and
// cudaStreamWaitEvent — and otherwise runs one stream as far as it can before the next (streams
// in creation order, or the reverse), so a missing cross-stream wait changes the results.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace emu::detail {

struct Op {
  std::uint64_t id;
  std::vector<std::uint64_t> deps;  // ops of other streams that must run first
  std::function<void()> run;
};

// A stream's queue; also the legacy default stream's and the per-thread stream's.
struct StreamQueue {
  unsigned flags = 0;
  unsigned order = 0;  // creation order: 0 legacy, 1 per-thread, then created streams
  std::deque<Op> ops;
  std::uint64_t last = 0;            // the last op issued on it (0: none)
  std::vector<std::uint64_t> waits;  // event markers its next op waits for
};

using StreamMode = ::emu::Streams;
StreamMode stream_mode();

// Issues `op` on `stream` (a live handle): runs it now, or queues it.
void issue(cudaStream_t stream, std::function<void()> op);
// Runs everything queued (a synchronisation point); returns the sticky error.
cudaError_t drain();
// Queued operations are dropped (cudaDeviceReset).
void drop_pending();
bool pending(std::uint64_t op);

// Event support: the marker op a record issued, and a stream waiting for one.
std::uint64_t issue_marker(cudaStream_t stream, std::function<void()> op);
void wait_for(cudaStream_t stream, std::uint64_t marker);

StreamQueue& queue_of(cudaStream_t stream);
void register_queue(StreamQueue* q);
void unregister_queue(StreamQueue* q);

}  // namespace emu::detail

struct CUstream_st {
  emu::detail::StreamQueue q;
};

struct CUevent_st {
  unsigned flags;
  bool recorded;                               // a record was issued
  std::uint64_t marker;                        // the op of the last record
  std::chrono::steady_clock::time_point when;  // when that op ran
};
