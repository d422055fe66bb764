// Streams and events (the API; execution is in stream_queue.cpp). By default every stream
// operation (kernel, copy, memset, GEMM, sort) runs to completion when it is issued, so streams
// are trivially in order and a synchronisation only reports the sticky error; with
// EMBER_EMU_STREAMS=deferred operations wait in per-stream queues until a synchronisation point.
// Handles are checked against the live ones: a destroyed stream or event is
// cudaErrorInvalidResourceHandle, as a stale handle should be. An event takes the host time when
// its record runs; cudaEventElapsedTime gives milliseconds between two recorded events.
#include <chrono>
#include <set>

#include "state.h"
#include "stream_queue.h"

namespace emu::detail {

namespace {
struct Handles {
  std::set<CUstream_st*> streams;
  std::set<CUevent_st*> events;
};
Handles& handles() {
  static Handles* h = new Handles;
  return *h;
}
bool valid_event(cudaEvent_t e) {
  return e && handles().events.count(e) > 0;
}
}  // namespace

bool valid_stream(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> lock(device_mutex());
  return s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread ||
         handles().streams.count(s) > 0;
}

void destroy_all_streams_and_events() {
  drop_pending();
  for (CUstream_st* s : handles().streams) {
    unregister_queue(&s->q);
    delete s;
  }
  for (CUevent_st* e : handles().events) delete e;
  handles().streams.clear();
  handles().events.clear();
}

}  // namespace emu::detail

using namespace emu::detail;

namespace {
using Lock = std::lock_guard<std::recursive_mutex>;

cudaError_t bad_handle(const char* call, const void* h) {
  diag(std::string(call) + ": " + hex(h) + " is not a live handle");
  return set_error(cudaErrorInvalidResourceHandle);
}
}  // namespace

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, 0);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  Lock lock(device_mutex());
  if (!stream || (flags & ~unsigned{cudaStreamNonBlocking}))
    return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = sticky_error()) return set_error(e);
  auto* s = new CUstream_st;
  s->q.flags = flags;
  register_queue(&s->q);
  handles().streams.insert(s);
  *stream = s;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!stream || !handles().streams.erase(stream)) return bad_handle("cudaStreamDestroy", stream);
  unregister_queue(&stream->q);  // runs what is still queued first
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!valid_stream(stream)) return bad_handle("cudaStreamSynchronize", stream);
  return set_error(drain());
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!valid_stream(stream)) return bad_handle("cudaStreamQuery", stream);
  // Never cudaErrorNotReady: queued work runs now, so a polling loop makes progress.
  return set_error(drain());
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  Lock lock(device_mutex());
  if (!valid_stream(stream)) return bad_handle("cudaStreamWaitEvent", stream);
  if (!valid_event(event)) return bad_handle("cudaStreamWaitEvent", event);
  if (flags != 0) return set_error(cudaErrorInvalidValue);
  if (event->recorded) wait_for(stream, event->marker);
  return set_error(sticky_error());
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, 0);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  Lock lock(device_mutex());
  if (!event || (flags & ~unsigned{cudaEventBlockingSync | cudaEventDisableTiming}))
    return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = sticky_error()) return set_error(e);
  auto* e = new CUevent_st{flags, false, 0, {}};
  handles().events.insert(e);
  *event = e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!valid_event(event)) return bad_handle("cudaEventRecord", event);
  if (!valid_stream(stream)) return bad_handle("cudaEventRecord", stream);
  if (cudaError_t e = sticky_error()) return set_error(e);
  event->recorded = true;
  event->marker = issue_marker(stream, [event] { event->when = std::chrono::steady_clock::now(); });
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!valid_event(event)) return bad_handle("cudaEventSynchronize", event);
  return set_error(drain());
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!valid_event(event)) return bad_handle("cudaEventQuery", event);
  return set_error(drain());
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  Lock lock(device_mutex());
  if (!ms) return set_error(cudaErrorInvalidValue);
  if (!valid_event(start)) return bad_handle("cudaEventElapsedTime", start);
  if (!valid_event(end)) return bad_handle("cudaEventElapsedTime", end);
  if (cudaError_t e = drain()) return set_error(e);
  if ((start->flags | end->flags) & cudaEventDisableTiming) {
    diag("cudaEventElapsedTime: an event was created with cudaEventDisableTiming");
    return set_error(cudaErrorInvalidResourceHandle);
  }
  if (!start->recorded || !end->recorded) {
    diag("cudaEventElapsedTime: an event has not been recorded");
    return set_error(cudaErrorInvalidResourceHandle);
  }
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!event || !handles().events.erase(event)) return bad_handle("cudaEventDestroy", event);
  if (event->recorded && pending(event->marker)) drain();  // its marker op refers to it
  delete event;
  return cudaSuccess;
}
