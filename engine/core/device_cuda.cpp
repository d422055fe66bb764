// CUDA runtime half of engine/core/device.h. Device memory comes from the per-device caching
// allocator (engine/cuda/context.h); memsets run on the context's stream. A machine with the
// toolkit but no driver or device reports 0 devices instead of failing.
#include <cuda_runtime.h>

#include <string>

#include "engine/core/device.h"
#include "engine/cuda/check.h"
#include "engine/cuda/context.h"

namespace ember {

bool built_with_cuda() {
  return true;
}

namespace cuda_rt {

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
  return cuda::Context::get(device).allocator().allocate(bytes);
}

void free(void* ptr, int device) {
  if (ptr) cuda::Context::get(device).allocator().release(ptr);  // never throws
}

void memset_zero(void* ptr, size_t bytes, int device) {
  cuda::Context& ctx = cuda::Context::get(device);
  EMBER_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, ctx.stream()));
}

void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  cudaMemcpyKind kind = dst_dev.is_cpu()   ? cudaMemcpyDeviceToHost
                        : src_dev.is_cpu() ? cudaMemcpyHostToDevice
                                           : cudaMemcpyDeviceToDevice;
  // On the legacy default stream, which the context's blocking streams order against in both
  // directions, so a copy never races a kernel on any of them. Host to device is queued
  // asynchronously: from pageable memory the driver stages the bytes before returning (the
  // caller may free its buffer at once) and need not wait for the device (the CUDA docs allow
  // it to when its staging memory is busy), where cudaMemcpy always waits for the stream
  // first. Device to host must wait (the caller reads the bytes); device to device never
  // blocks the host. A pinned ring of staging buffers would make uploads always asynchronous.
  if (kind == cudaMemcpyHostToDevice)
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, cudaStreamLegacy));
  else
    EMBER_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
}
}  // namespace cuda_rt

}  // namespace ember
