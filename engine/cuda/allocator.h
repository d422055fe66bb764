// Caching device allocator: training allocates the same buffers every step, and cudaMalloc /
// cudaFree synchronise the device, so freed blocks are kept and handed out again. Requests are
// rounded (512 B below 1 MiB, 2 MiB above) and served best-fit from the cache, never with a
// block more than twice the rounded size. Blocks are reused in the order of the main stream:
// work on a side stream must be joined back to it before its tensors are released. Out of
// memory empties the cache and retries once, then throws naming the bytes asked for and free.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

namespace ember::cuda {

class CachingAllocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t bytes);
  void release(void* ptr) noexcept;  // back to the cache
  void empty_cache() noexcept;       // cached blocks back to the driver

  struct Stats {
    size_t in_use = 0, cached = 0, peak_in_use = 0;
    size_t device_mallocs = 0, cache_hits = 0;
  };
  Stats stats() const;

  static size_t round_size(size_t bytes);

 private:
  int device_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;         // rounded size -> cached block
  std::unordered_map<void*, size_t> in_use_;  // block -> rounded size
  Stats stats_;
};

}  // namespace ember::cuda
