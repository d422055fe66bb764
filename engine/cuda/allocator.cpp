// CachingAllocator (see allocator.h).
#include "engine/cuda/allocator.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "engine/cuda/check.h"

namespace ember::cuda {

size_t CachingAllocator::round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t{2} << 20, kLimit = size_t{1} << 20;
  if (bytes == 0) return kSmall;
  const size_t unit = bytes < kLimit ? kSmall : kLarge;
  return (bytes + unit - 1) / unit * unit;
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_.lower_bound(size);
  if (it != free_.end() && it->first < 2 * size) {
    void* p = it->second;
    const size_t got = it->first;
    free_.erase(it);
    in_use_[p] = got;
    stats_.cached -= got;
    stats_.in_use += got;
    stats_.cache_hits++;
    if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
    return p;
  }
  EMBER_CUDA_CHECK(cudaSetDevice(device_));
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, size);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it, give the cache back, try once more
    for (auto& [s, q] : free_) cudaFree(q);
    free_.clear();
    stats_.cached = 0;
    e = cudaMalloc(&p, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw std::runtime_error("CUDA out of memory on device " + std::to_string(device_) +
                             ": asked for " + std::to_string(bytes) + " bytes (" +
                             std::to_string(size) + " rounded), " + std::to_string(free_b) +
                             " of " + std::to_string(total_b) + " bytes free, " +
                             std::to_string(stats_.in_use) + " in use by ember");
  }
  in_use_[p] = size;
  stats_.in_use += size;
  stats_.device_mallocs++;
  if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  return p;
}

void CachingAllocator::release(void* ptr) noexcept {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_use_.find(ptr);
  if (it == in_use_.end()) return;  // not ours: nothing sensible to do in a destructor path
  free_.emplace(it->second, ptr);
  stats_.in_use -= it->second;
  stats_.cached += it->second;
  in_use_.erase(it);
}

void CachingAllocator::empty_cache() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  cudaSetDevice(device_);
  for (auto& [size, p] : free_) EMBER_CUDA_CHECK_LOG(cudaFree(p));
  free_.clear();
  stats_.cached = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

CachingAllocator::~CachingAllocator() {
  empty_cache();
  // Blocks still in use belong to tensors that outlive the allocator (process exit): leave
  // them to the driver's teardown.
}

}  // namespace ember::cuda
