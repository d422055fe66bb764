// Planted defects are caught: each kernel below has one bug, and the launch must fail with
// cudaErrorLaunchFailure (sticky until the reset) and a message naming the kernel, the thread
// and the problem; configuration errors must be rejected at launch with the CUDA error code.
#include <catch2/catch.hpp>

#include <cooperative_groups.h>

#include "emu_test_util.h"

namespace cg = cooperative_groups;
using emu_test::DeviceBuffer;
using emu_test::fault_mentions;
using emu_test::grid;
using emu_test::ResetAfter;

namespace {

__global__ void early_return(int* out, int n) {
  if (static_cast<int>(threadIdx.x) >= n) return;  // the bug: the others still sync below
  out[threadIdx.x] = 1;
  __syncthreads();
  out[threadIdx.x] += out[(threadIdx.x + 1) % n];
}

__global__ void two_barriers(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
    out[0] = 1;
  } else {
    __syncthreads();
    out[1] = 2;
  }
}

// Lanes of warp 0 wait in a shuffle for lane 1, which waits at __syncthreads first.
__global__ void deadlock(int* out) {
  int v = static_cast<int>(threadIdx.x);
  if (threadIdx.x == 1) __syncthreads();
  v = __shfl_xor_sync(0xffffffffu, v, 1);
  if (threadIdx.x != 1) __syncthreads();
  out[threadIdx.x] = v;
}

__global__ void mask_without_self(int* out) {
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, 1, 0);  // lanes 16-31 are not in their own mask
}

__global__ void shuffle_after_exit(int* out, int n) {
  if (static_cast<int>(threadIdx.x) >= n) return;  // lanes n.. exit, but the mask names them
  int v = static_cast<int>(threadIdx.x);
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[threadIdx.x] = v;
}

__global__ void read_outside_mask(int* out) {
  // Lane 15 reads lane 16, which is not in the mask.
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_down_sync(0x0000ffffu, 1, 1, 32);
}

__global__ void full_mask_partial_warp(int* out) {
  out[threadIdx.x] = __ballot_sync(0xffffffffu, 1);  // a block of 40: warp 1 has 8 lanes
}

__global__ void touch_dynamic(int* out) {
  static_cast<int*>(emu::dynamic_shared())[threadIdx.x] = 1;
  if (threadIdx.x == 0) out[0] = 0;
}

__global__ void big_static(int* out) {
  EMU_SHARED(char, a, 40 * 1024);
  EMU_SHARED(char, b, 16 * 1024);
  a[threadIdx.x] = 1;
  b[threadIdx.x] = 2;
  out[0] = a[0] + b[0];
}

__global__ void cluster_kernel(int* out) {
  cg::cluster_group c = cg::this_cluster();
  c.sync();
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<int>(c.block_rank());
}

__global__ void map_host_pointer(int* out) {
  cg::cluster_group c = cg::this_cluster();
  *c.map_shared_rank(out, 0) = 1;  // `out` is global memory, not shared
}

__global__ void cluster_early_exit(int* out) {
  cg::cluster_group c = cg::this_cluster();
  if (blockIdx.x == 1) return;  // block 1 never reaches the cluster barrier
  c.sync();
  out[0] = 1;
}

__global__ void throws(int*) {
  throw 42;
}

// Every kernel fault leaves the same state: a launch failure, sticky, with the message.
void expect_fault(cudaError_t e, std::initializer_list<const char*> parts) {
  // Run when issued (the default), the launch reports the fault; queued
  // (EMBER_EMU_STREAMS=deferred), the next synchronisation does, as on a GPU.
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(fault_mentions(parts));
  INFO("fault: " << emu::last_fault());
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);  // sticky
  void* p = nullptr;
  CHECK(cudaMalloc(&p, 16) == cudaErrorLaunchFailure);
  emu::reset_device();
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(emu::last_fault().empty());
}

}  // namespace

TEST_CASE("a thread returning before __syncthreads is a barrier error", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(64);
  emu_test::Launch l = grid(1, 64);
  l.name = "early_return";
  expect_fault(l(early_return, out.get(), 50),
               {"early_return", "thread (50,0,0)", "exited", "__syncthreads"});
}

TEST_CASE("threads at different __syncthreads call sites", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(2);
  expect_fault(grid(1, 32)(two_barriers, out.get()),
               {"thread (16,0,0)", "different barrier", "test_faults.cpp:"});
}

TEST_CASE("a deadlock is reported, not hung", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(32);
  expect_fault(grid(1, 32)(deadlock, out.get()), {"deadlock", "__shfl_xor_sync", "__syncthreads"});
}

TEST_CASE("shuffle masks are checked", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(64);
  expect_fault(grid(1, 32)(mask_without_self, out.get()),
               {"thread (16,0,0)", "does not name the calling lane 16"});
  expect_fault(grid(1, 32)(shuffle_after_exit, out.get(), 20), {"lane 20", "exited"});
  expect_fault(grid(1, 32)(read_outside_mask, out.get()),
               {"thread (15,0,0)", "reads lane 16", "not in the mask"});
  expect_fault(grid(1, 40)(full_mask_partial_warp, out.get()),
               {"lane 8", "does not exist", "block of 40 threads"});
}

TEST_CASE("shared memory limits: the kernel attribute and the hardware maximum", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(1);
  // Above the default 48 KiB without the attribute: rejected at launch, not sticky.
  CHECK(grid(1, 32, 64 * 1024)(touch_dynamic, out.get()) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);
  REQUIRE(cudaFuncSetAttribute(touch_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               100 * 1024) == cudaSuccess);
  CHECK(grid(1, 32, 64 * 1024)(touch_dynamic, out.get()) == cudaSuccess);
  CHECK(grid(1, 32, 101 * 1024)(touch_dynamic, out.get()) == cudaErrorInvalidValue);
  // The attribute itself cannot go past the device's opt-in maximum (227 KiB on an H100).
  CHECK(cudaFuncSetAttribute(touch_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             228 * 1024) == cudaErrorInvalidValue);
  REQUIRE(cudaFuncSetAttribute(touch_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               227 * 1024) == cudaSuccess);
  CHECK(grid(1, 32, 227 * 1024)(touch_dynamic, out.get()) == cudaSuccess);
  CHECK(grid(1, 32, 227 * 1024 + 1)(touch_dynamic, out.get()) == cudaErrorInvalidValue);
  cudaGetLastError();
  // 56 KiB of static __shared__ arrays: above the 48 KiB a block may declare.
  expect_fault(grid(1, 32)(big_static, out.get()), {"static __shared__", "48 KiB"});
}

TEST_CASE("launch configuration errors", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(64);
  CHECK(grid(1, 1025)(early_return, out.get(), 1) == cudaErrorInvalidConfiguration);
  CHECK(grid(1, dim3(32, 1, 65))(early_return, out.get(), 1) == cudaErrorInvalidConfiguration);
  CHECK(grid(dim3(1, 65536), 32)(early_return, out.get(), 1) == cudaErrorInvalidConfiguration);
  CHECK(grid(0, 32)(early_return, out.get(), 1) == cudaErrorInvalidConfiguration);
  emu_test::Launch l = grid(16, 32);
  l.with_cluster = true;
  l.cluster = dim3(16);
  CHECK(l(cluster_kernel, out.get()) == cudaErrorInvalidClusterSize);  // 16 needs the flag
  REQUIRE(cudaFuncSetAttribute(cluster_kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) ==
          cudaSuccess);
  CHECK(l(cluster_kernel, out.get()) == cudaSuccess);
  l.grid = dim3(32);
  l.cluster = dim3(32);
  CHECK(l(cluster_kernel, out.get()) == cudaErrorInvalidClusterSize);  // 16 is the most
  l.grid = dim3(12);
  l.cluster = dim3(8);
  CHECK(l(cluster_kernel, out.get()) == cudaErrorInvalidClusterSize);  // 8 does not divide 12
  l.grid = dim3(12);
  l.cluster = dim3(4);
  CHECK(l(cluster_kernel, out.get()) == cudaSuccess);
  CHECK(cudaFuncSetAttribute(cluster_kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 0) ==
        cudaSuccess);
  // None of these is sticky.
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  cudaGetLastError();
}

TEST_CASE("map_shared_rank of a non-shared address", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(1);
  expect_fault(grid(1, 1)(map_host_pointer, out.get()), {"map_shared_rank", "not shared memory"});
}

TEST_CASE("a block exiting before the cluster barrier", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(1);
  emu_test::Launch l = grid(2, 4);
  l.with_cluster = true;
  l.cluster = dim3(2);
  expect_fault(l(cluster_early_exit, out.get()), {"cluster barrier", "exited"});
}

TEST_CASE("an exception escaping a kernel is a fault", "[faults]") {
  ResetAfter reset;
  DeviceBuffer<int> out(1);
  expect_fault(grid(1, 2)(throws, out.get()), {"thread (0,0,0)", "threw an exception"});
}

TEST_CASE("cudaDeviceReset clears the sticky error and frees memory", "[faults]") {
  int* out = nullptr;
  REQUIRE(cudaMalloc(&out, 64 * sizeof(int)) == cudaSuccess);
  cudaError_t e = grid(1, 64)(early_return, out, 10);
  if (e == cudaSuccess) e = cudaDeviceSynchronize();  // deferred streams
  REQUIRE(e == cudaErrorLaunchFailure);
  size_t free_bytes = 0, total = 0;
  CHECK(cudaMemGetInfo(&free_bytes, &total) == cudaErrorLaunchFailure);
  REQUIRE(cudaDeviceReset() == cudaSuccess);
  CHECK(emu::last_fault().empty());
  CHECK(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess);
  CHECK(free_bytes == total);  // `out` was freed by the reset
  CHECK(cudaFree(out) == cudaErrorInvalidValue);
  cudaGetLastError();
}
