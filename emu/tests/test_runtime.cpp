// The runtime API: device properties of the H100 profile, memory accounting and the pointer
// checks of memcpy/memset (host/device confusion, overruns, 1 PiB requests), streams and events
// (order, timing, stale handles), and the error names.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "emu_test_util.h"

using emu_test::DeviceBuffer;
using emu_test::grid;

namespace {
__global__ void add_one(int* x, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) x[i] += 1;
}

__global__ void launches_a_kernel(int* x, cudaError_t* result) {
  if (threadIdx.x == 0) *result = grid(1, 1)(add_one, x, 1);
}
}  // namespace

TEST_CASE("device properties and attributes: the H100 profile", "[runtime]") {
  int n = 0;
  REQUIRE(cudaGetDeviceCount(&n) == cudaSuccess);
  CHECK(n == 1);
  cudaDeviceProp p{};
  REQUIRE(cudaGetDeviceProperties(&p, 0) == cudaSuccess);
  CHECK(std::string(p.name) == "Emulated NVIDIA H100 (ember emu)");
  CHECK(p.major == 9);
  CHECK(p.minor == 0);
  CHECK(p.multiProcessorCount == 132);
  CHECK(p.totalGlobalMem == (size_t{80} << 30));
  CHECK(p.sharedMemPerBlock == 48 * 1024);
  CHECK(p.sharedMemPerBlockOptin == 227 * 1024);
  CHECK(p.sharedMemPerMultiprocessor == 228 * 1024);
  CHECK(p.maxThreadsPerBlock == 1024);
  CHECK(p.warpSize == 32);
  CHECK(p.l2CacheSize == 50 * 1024 * 1024);
  int v = 0;
  REQUIRE(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0) == cudaSuccess);
  CHECK(v == 227 * 1024);
  REQUIRE(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, 0) == cudaSuccess);
  CHECK(v == 9);
  REQUIRE(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0) == cudaSuccess);
  CHECK(v == 132);
  CHECK(cudaSetDevice(1) == cudaErrorInvalidDevice);
  CHECK(cudaGetLastError() == cudaErrorInvalidDevice);
  CHECK(cudaSetDevice(0) == cudaSuccess);
  CHECK(cudaGetDeviceProperties(&p, 3) == cudaErrorInvalidDevice);
  cudaGetLastError();
}

TEST_CASE("memory accounting and 1 PiB requests", "[runtime]") {
  size_t free0 = 0, total = 0;
  REQUIRE(cudaMemGetInfo(&free0, &total) == cudaSuccess);
  CHECK(total == (size_t{80} << 30));
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, 1000) == cudaSuccess);
  CHECK(reinterpret_cast<uintptr_t>(p) % 256 == 0);
  size_t free1 = 0;
  REQUIRE(cudaMemGetInfo(&free1, &total) == cudaSuccess);
  CHECK(free0 - free1 == 1000);
  void* huge = reinterpret_cast<void*>(1);
  CHECK(cudaMalloc(&huge, size_t{1} << 50) == cudaErrorMemoryAllocation);
  CHECK(huge == nullptr);
  CHECK(cudaGetLastError() == cudaErrorMemoryAllocation);
  CHECK(cudaFree(p) == cudaSuccess);
  CHECK(cudaFree(nullptr) == cudaSuccess);
  CHECK(cudaFree(p) == cudaErrorInvalidValue);  // freed twice
  int local = 0;
  CHECK(cudaFree(&local) == cudaErrorInvalidValue);
  cudaGetLastError();
}

TEST_CASE("memcpy and memset check which side is device memory", "[runtime]") {
  std::vector<int> host(16, 7), back(16, 0);
  DeviceBuffer<int> d(16);
  CHECK(cudaMemcpy(d.get(), host.data(), 64, cudaMemcpyHostToDevice) == cudaSuccess);
  // A host pointer claimed as device memory (the kinds swapped).
  CHECK(cudaMemcpy(d.get(), host.data(), 64, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(host.data(), d.get(), 64, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  // Past the end of the allocation.
  CHECK(cudaMemcpy(back.data(), d.get() + 8, 64, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(cudaMemset(d.get() + 1, 0, 64) == cudaErrorInvalidValue);
  CHECK(cudaMemset(host.data(), 0, 4) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(back.data(), d.get(), 64, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(back == host);
  CHECK(cudaMemcpy(back.data(), d.get(), 64, cudaMemcpyDefault) == cudaSuccess);
  // 2-D: rows of 3 ints at a pitch of 4 ints.
  REQUIRE(cudaMemset2DAsync(d.get(), 16, 0, 12, 4, nullptr) == cudaSuccess);
  CHECK(cudaMemset2D(d.get(), 16, 0, 12, 5) == cudaErrorInvalidValue);  // 5 rows overrun
  cudaGetLastError();
  back = d.download();
  for (int i = 0; i < 16; ++i) CHECK(back[i] == (i % 4 == 3 ? 7 : 0));
}

TEST_CASE("streams run in order; events time them", "[runtime]") {
  cudaStream_t a = nullptr, b = nullptr;
  REQUIRE(cudaStreamCreate(&a) == cudaSuccess);
  REQUIRE(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking) == cudaSuccess);
  cudaEvent_t start, stop, join;
  REQUIRE(cudaEventCreate(&start) == cudaSuccess);
  REQUIRE(cudaEventCreate(&stop) == cudaSuccess);
  REQUIRE(cudaEventCreateWithFlags(&join, cudaEventDisableTiming) == cudaSuccess);
  std::vector<int> h(1000, 0);
  DeviceBuffer<int> d(h);
  REQUIRE(cudaEventRecord(start, a) == cudaSuccess);
  emu_test::Launch l = grid(4, 256);
  l.stream = a;
  for (int i = 0; i < 3; ++i) REQUIRE(l(add_one, d.get(), 1000) == cudaSuccess);
  REQUIRE(cudaEventRecord(join, a) == cudaSuccess);
  REQUIRE(cudaStreamWaitEvent(b, join, 0) == cudaSuccess);
  l.stream = b;
  REQUIRE(l(add_one, d.get(), 1000) == cudaSuccess);
  REQUIRE(cudaMemcpyAsync(h.data(), d.get(), 4000, cudaMemcpyDeviceToHost, b) == cudaSuccess);
  REQUIRE(cudaEventRecord(stop, b) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(b) == cudaSuccess);
  REQUIRE(cudaEventSynchronize(stop) == cudaSuccess);
  CHECK(cudaEventQuery(stop) == cudaSuccess);
  CHECK(cudaStreamQuery(a) == cudaSuccess);
  for (int v : h) CHECK(v == 4);
  float ms = -1;
  REQUIRE(cudaEventElapsedTime(&ms, start, stop) == cudaSuccess);
  CHECK(ms >= 0);
  CHECK(cudaEventElapsedTime(&ms, start, join) == cudaErrorInvalidResourceHandle);
  cudaEvent_t unrecorded;
  REQUIRE(cudaEventCreate(&unrecorded) == cudaSuccess);
  CHECK(cudaEventElapsedTime(&ms, start, unrecorded) == cudaErrorInvalidResourceHandle);
  for (cudaEvent_t e : {start, stop, join, unrecorded}) CHECK(cudaEventDestroy(e) == cudaSuccess);
  CHECK(cudaStreamDestroy(a) == cudaSuccess);
  // A destroyed stream is a stale handle.
  l.stream = a;
  CHECK(l(add_one, d.get(), 1000) == cudaErrorInvalidResourceHandle);
  CHECK(cudaStreamSynchronize(a) == cudaErrorInvalidResourceHandle);
  CHECK(cudaStreamDestroy(b) == cudaSuccess);
  CHECK(cudaMemcpyAsync(h.data(), d.get(), 4, cudaMemcpyDeviceToHost, cudaStreamLegacy) ==
        cudaSuccess);
  cudaGetLastError();
}

TEST_CASE("error names and strings", "[runtime]") {
  CHECK(std::string(cudaGetErrorName(cudaErrorMemoryAllocation)) == "cudaErrorMemoryAllocation");
  CHECK(std::string(cudaGetErrorString(cudaErrorMemoryAllocation)) == "out of memory");
  CHECK(std::string(cudaGetErrorName(cudaErrorLaunchFailure)) == "cudaErrorLaunchFailure");
  CHECK(static_cast<int>(cudaErrorInvalidClusterSize) == 912);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaPeekAtLastError() == cudaSuccess);
}

TEST_CASE("2-D copies, the PCI bus id, no device, and launches from a kernel", "[runtime]") {
  // A 3x4 block of a 5-wide host matrix into a 4-wide device one and back.
  std::vector<int> host(5 * 3), back(5 * 3, -1);
  for (int i = 0; i < 15; ++i) host[i] = i;
  DeviceBuffer<int> d(4 * 3);
  REQUIRE(cudaMemcpy2D(d.get(), 16, host.data(), 20, 16, 3, cudaMemcpyHostToDevice) == cudaSuccess);
  REQUIRE(cudaMemcpy2DAsync(back.data(), 20, d.get(), 16, 16, 3, cudaMemcpyDeviceToHost, nullptr) ==
          cudaSuccess);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 5; ++c) CHECK(back[r * 5 + c] == (c < 4 ? r * 5 + c : -1));
  CHECK(cudaMemcpy2D(d.get(), 16, host.data(), 20, 16, 4, cudaMemcpyHostToDevice) ==
        cudaErrorInvalidValue);  // a fourth row does not fit
  CHECK(cudaMemcpy2D(d.get(), 8, host.data(), 20, 16, 2, cudaMemcpyHostToDevice) ==
        cudaErrorInvalidPitchValue);
  cudaGetLastError();

  char bus[32] = {};
  REQUIRE(cudaDeviceGetPCIBusId(bus, sizeof bus, 0) == cudaSuccess);
  CHECK(std::string(bus) == "0000:00:00.0");

  setenv("EMBER_EMU_NO_DEVICE", "1", 1);
  int n = -1;
  CHECK(cudaGetDeviceCount(&n) == cudaErrorNoDevice);
  CHECK(n == 0);
  void* p = nullptr;
  CHECK(cudaMalloc(&p, 4) == cudaErrorNoDevice);
  unsetenv("EMBER_EMU_NO_DEVICE");
  cudaGetLastError();
  REQUIRE(cudaGetDeviceCount(&n) == cudaSuccess);
  CHECK(n == 1);

  // Dynamic parallelism is not emulated: refused, not run.
  DeviceBuffer<cudaError_t> result(1);
  REQUIRE(grid(1, 1)(launches_a_kernel, d.get(), result.get()) == cudaSuccess);
  CHECK(result.download()[0] == cudaErrorNotSupported);
  cudaGetLastError();
}
