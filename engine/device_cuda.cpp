// CUDA runtime half of engine/device.h. Plain cudaMalloc for now: the caching allocator of the
// CUDA backend replaces malloc/free here without touching Tensor. A machine with the toolkit
// but no driver or device reports 0 devices instead of failing.
#include <cuda_runtime.h>

#include <string>

#include "engine/device.h"

namespace ember {

bool built_with_cuda() { return true; }

namespace cuda_rt {
namespace {
void check(cudaError_t e, const char* call, size_t bytes = 0) {
  if (e == cudaSuccess) return;
  std::string msg = std::string(call) + ": " + cudaGetErrorString(e);
  if (e == cudaErrorMemoryAllocation) {
    size_t free_b = 0, total_b = 0;
    cudaGetLastError();
    cudaMemGetInfo(&free_b, &total_b);
    msg += " (asked for " + std::to_string(bytes) + " bytes, " + std::to_string(free_b) +
           " free of " + std::to_string(total_b) + ")";
  }
  throw std::runtime_error(msg);
}
}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string device_name(int index) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, index) != cudaSuccess) return "unknown";
  return p.name;
}

void* malloc(size_t bytes, int device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  void* p = nullptr;
  if (bytes) check(cudaMalloc(&p, bytes), "cudaMalloc", bytes);
  return p;
}

void free(void* ptr, int device) {
  if (!ptr) return;
  cudaSetDevice(device);
  cudaFree(ptr);  // destructors never throw
}

void memset_zero(void* ptr, size_t bytes, int device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaMemset(ptr, 0, bytes), "cudaMemset");
}

void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  cudaMemcpyKind kind = dst_dev.is_cpu() ? cudaMemcpyDeviceToHost
                        : src_dev.is_cpu() ? cudaMemcpyHostToDevice
                                           : cudaMemcpyDeviceToDevice;
  check(cudaMemcpy(dst, src, bytes, kind), "cudaMemcpy");
}
}  // namespace cuda_rt

}  // namespace ember
