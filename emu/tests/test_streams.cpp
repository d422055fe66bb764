// Deferred stream execution (emu::set_streams): queued operations run at synchronisation points
// in an order that respects only what CUDA orders, so a missing cross-stream wait gives wrong
// results in one of the two drain orders, and the correct program gives the right ones in both.
// Also: the legacy stream's implicit barriers (blocking vs non-blocking streams), staging of
// pageable uploads, synchronous downloads into pageable memory, and faults surfacing at the next
// synchronisation, as on a GPU.
#include <catch2/catch.hpp>

#include <vector>

#include "emu_test_util.h"

using emu_test::DeviceBuffer;
using emu_test::grid;

namespace {

__global__ void fill(int* x, int value, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) x[i] = value;
}

__global__ void plus_one(const int* x, int* y, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) y[i] = x[i] + 1;
}

__global__ void broken(int* x) {
  if (threadIdx.x == 0) return;
  __syncthreads();
  x[0] = 1;
}

// Restores the mode the process started with.
struct StreamsMode {
  emu::Streams saved = emu::streams();
  explicit StreamsMode(emu::Streams m) { emu::set_streams(m); }
  ~StreamsMode() { emu::set_streams(saved); }
};

// Stream b fills x with 1; stream a computes y = x + 1, waiting for b through an event or not.
std::vector<int> producer_consumer(bool with_wait) {
  const int n = 100;
  cudaStream_t a, b;
  cudaStreamCreate(&a);
  cudaStreamCreate(&b);
  cudaEvent_t done;
  cudaEventCreateWithFlags(&done, cudaEventDisableTiming);
  DeviceBuffer<int> x(std::vector<int>(n, 0)), y(n);
  emu_test::Launch on_b = grid(1, 128), on_a = grid(1, 128);
  on_b.stream = b;
  on_a.stream = a;
  on_b(fill, x.get(), 1, n);
  if (with_wait) {
    cudaEventRecord(done, b);
    cudaStreamWaitEvent(a, done, 0);
  }
  on_a(plus_one, x.get(), y.get(), n);
  std::vector<int> got = y.download();  // a synchronous copy: runs everything queued
  cudaEventDestroy(done);
  cudaStreamDestroy(a);
  cudaStreamDestroy(b);
  return got;
}

}  // namespace

TEST_CASE("deferred streams expose a missing cross-stream wait", "[streams]") {
  const std::vector<int> right(100, 2), stale(100, 1);
  {
    StreamsMode mode(emu::Streams::Immediate);
    CHECK(producer_consumer(false) == right);  // issue order hides the bug
  }
  {
    // Stream a was created first, so it runs first: it reads x before b has filled it.
    StreamsMode mode(emu::Streams::Deferred);
    CHECK(producer_consumer(false) == stale);
    CHECK(producer_consumer(true) == right);
  }
  {
    StreamsMode mode(emu::Streams::DeferredReverse);
    CHECK(producer_consumer(true) == right);
  }
}

TEST_CASE("deferred streams: the legacy stream orders blocking streams only", "[streams]") {
  StreamsMode mode(emu::Streams::Deferred);
  const int n = 64;
  for (unsigned flags : {unsigned{cudaStreamDefault}, unsigned{cudaStreamNonBlocking}}) {
    CAPTURE(flags);
    cudaStream_t s;
    REQUIRE(cudaStreamCreateWithFlags(&s, flags) == cudaSuccess);
    DeviceBuffer<int> x(std::vector<int>(n, 0)), z(std::vector<int>(n, -1));
    emu_test::Launch l = grid(1, 64);
    l.stream = s;
    REQUIRE(l(fill, x.get(), 7, n) == cudaSuccess);
    // A copy on the legacy stream: after the fill when s is blocking, unordered when not (and
    // the legacy queue runs first).
    REQUIRE(cudaMemcpyAsync(z.get(), x.get(), n * sizeof(int), cudaMemcpyDeviceToDevice, 0) ==
            cudaSuccess);
    const std::vector<int> got = z.download();
    CHECK(got == std::vector<int>(n, flags == cudaStreamNonBlocking ? 0 : 7));
    REQUIRE(cudaStreamDestroy(s) == cudaSuccess);
  }
}

TEST_CASE("deferred streams: pageable uploads are staged, downloads wait", "[streams]") {
  StreamsMode mode(emu::Streams::Deferred);
  cudaStream_t s;
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  std::vector<int> host(32, 5), back(32, 0);
  DeviceBuffer<int> d(32);
  REQUIRE(cudaMemcpyAsync(d.get(), host.data(), 128, cudaMemcpyHostToDevice, s) == cudaSuccess);
  host.assign(32, 9);  // the caller may reuse its buffer at once: the bytes were taken
  emu_test::Launch l = grid(1, 32);
  l.stream = s;
  REQUIRE(l(plus_one, d.get(), d.get(), 32) == cudaSuccess);
  REQUIRE(cudaMemcpyAsync(back.data(), d.get(), 128, cudaMemcpyDeviceToHost, s) == cudaSuccess);
  CHECK(back == std::vector<int>(32, 6));  // into pageable memory: complete on return
  REQUIRE(cudaStreamDestroy(s) == cudaSuccess);
}

TEST_CASE("deferred streams: a kernel fault surfaces at the next synchronisation", "[streams]") {
  emu_test::ResetAfter reset;
  StreamsMode mode(emu::Streams::Deferred);
  DeviceBuffer<int> x(32);
  REQUIRE(grid(1, 32)(broken, x.get()) == cudaSuccess);  // queued, not yet run
  CHECK(emu::last_fault().empty());
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
  CHECK(emu_test::fault_mentions({"exited", "__syncthreads"}));
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
}

TEST_CASE("deferred streams: events order, time and survive stream destruction", "[streams]") {
  StreamsMode mode(emu::Streams::DeferredReverse);
  cudaStream_t a, b;
  REQUIRE(cudaStreamCreate(&a) == cudaSuccess);
  REQUIRE(cudaStreamCreate(&b) == cudaSuccess);
  cudaEvent_t start, stop;
  REQUIRE(cudaEventCreate(&start) == cudaSuccess);
  REQUIRE(cudaEventCreate(&stop) == cudaSuccess);
  DeviceBuffer<int> x(std::vector<int>(16, 0)), y(16);
  emu_test::Launch la = grid(1, 16), lb = grid(1, 16);
  la.stream = a;
  lb.stream = b;
  REQUIRE(cudaEventRecord(start, a) == cudaSuccess);
  REQUIRE(la(fill, x.get(), 3, 16) == cudaSuccess);
  REQUIRE(cudaEventRecord(stop, a) == cudaSuccess);
  REQUIRE(cudaStreamWaitEvent(b, stop, 0) == cudaSuccess);
  REQUIRE(lb(plus_one, x.get(), y.get(), 16) == cudaSuccess);
  REQUIRE(cudaStreamDestroy(a) == cudaSuccess);  // its queued work still runs
  REQUIRE(cudaEventSynchronize(stop) == cudaSuccess);
  float ms = -1;
  REQUIRE(cudaEventElapsedTime(&ms, start, stop) == cudaSuccess);
  CHECK(ms >= 0);
  CHECK(y.download() == std::vector<int>(16, 4));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  REQUIRE(cudaStreamDestroy(b) == cudaSuccess);
}
