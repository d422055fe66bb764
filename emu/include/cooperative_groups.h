// CPU emulator stand-in for cooperative_groups.h: the thread block and the thread-block cluster
// (sm_90) groups. All blocks of a cluster run in one scheduler, so cluster.sync() is a barrier
// over every thread of the cluster and map_shared_rank() returns the same offset inside another
// block's shared allocation (static block_shared arrays and dynamic shared memory alike). A
// launch without a cluster attribute is a cluster of one block, as on sm_90. tiled_partition,
// coalesced_threads and grid groups are not emulated.
#pragma once

#include <cuda_runtime.h>

namespace emu::detail {
unsigned cluster_block_rank();
unsigned cluster_num_blocks();
dim3 cluster_dim_blocks();
dim3 cluster_block_index();
// Split cluster barrier: arrive returns the phase the caller arrived in; wait blocks until that
// phase has completed (every thread of the cluster arrived).
unsigned long long cluster_arrive(Site site);
void cluster_wait(unsigned long long phase, Site site);
void* cluster_map_shared_rank(const void* addr, unsigned rank, Site site);
unsigned cluster_query_shared_rank(const void* addr, Site site);
}  // namespace emu::detail

namespace cooperative_groups {

class thread_block {
 public:
  void sync(const char* file = __builtin_FILE(), int line = __builtin_LINE()) const {
    __syncthreads(file, line);
  }
  unsigned thread_rank() const {
    return (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  }
  unsigned size() const { return blockDim.x * blockDim.y * blockDim.z; }
  unsigned num_threads() const { return size(); }
  dim3 group_index() const { return blockIdx; }
  dim3 thread_index() const { return threadIdx; }
  dim3 group_dim() const { return blockDim; }
  dim3 dim_threads() const { return blockDim; }
  bool is_valid() const { return ::emu::in_kernel(); }
};

inline thread_block this_thread_block() {
  return thread_block();
}

class cluster_group {
 public:
  struct arrival_token {
    unsigned long long phase;
  };

  void sync(const char* file = __builtin_FILE(), int line = __builtin_LINE()) const {
    const ::emu::detail::Site site{file, line};
    ::emu::detail::cluster_wait(::emu::detail::cluster_arrive(site), site);
  }
  arrival_token barrier_arrive(const char* file = __builtin_FILE(),
                               int line = __builtin_LINE()) const {
    return arrival_token{::emu::detail::cluster_arrive({file, line})};
  }
  void barrier_wait(arrival_token&& token, const char* file = __builtin_FILE(),
                    int line = __builtin_LINE()) const {
    ::emu::detail::cluster_wait(token.phase, {file, line});
  }
  unsigned block_rank() const { return ::emu::detail::cluster_block_rank(); }
  unsigned num_blocks() const { return ::emu::detail::cluster_num_blocks(); }
  dim3 block_index() const { return ::emu::detail::cluster_block_index(); }
  dim3 dim_blocks() const { return ::emu::detail::cluster_dim_blocks(); }
  unsigned thread_rank() const { return block_rank() * threads_per_block() + local_rank(); }
  unsigned num_threads() const { return num_blocks() * threads_per_block(); }
  unsigned size() const { return num_threads(); }
  dim3 dim_threads() const {
    const dim3 b = dim_blocks();
    return dim3(b.x * blockDim.x, b.y * blockDim.y, b.z * blockDim.z);
  }
  bool is_valid() const { return ::emu::in_kernel(); }

  // The address at the same offset as `addr` (shared memory of the calling block) inside the
  // shared memory of the cluster's block `rank`.
  template <class T>
  T* map_shared_rank(T* addr, unsigned rank, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) const {
    return static_cast<T*>(
        ::emu::detail::cluster_map_shared_rank(static_cast<const void*>(addr), rank, {file, line}));
  }
  // The rank of the block whose shared memory holds `addr`.
  unsigned query_shared_rank(const void* addr, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) const {
    return ::emu::detail::cluster_query_shared_rank(addr, {file, line});
  }

 private:
  static unsigned threads_per_block() { return blockDim.x * blockDim.y * blockDim.z; }
  static unsigned local_rank() {
    return (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  }
};

inline cluster_group this_cluster() {
  return cluster_group();
}

template <class Group>
void sync(const Group& group, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  group.sync(file, line);
}

}  // namespace cooperative_groups
