// The latency of one thread-block cluster barrier (cooperative_groups cluster.sync()) on this
// device: the per-step cost the persistent LSTM cannot go below (one barrier per step), which
// the benchmark reports as the LSTM's floor beside T * this. One cluster of `cluster` CTAs x
// 128 threads runs `iters` barriers, each after a distributed-shared-memory store to the next
// CTA (as the LSTM's h exchange does) so neither the store nor the barrier can be elided; CUDA
// events time the whole kernel, and the launch is amortised over the iterations.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include "bench/gpu_kernels.h"
#include "engine/cuda/check.h"
#include "engine/cuda/launch.cuh"

namespace ember::bench {

namespace {

namespace cg = cooperative_groups;

__global__ void cluster_sync_loop(int iters, int* out) {
#if (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900) || defined(EMBER_CUDA_EMU)
  EMBER_SHARED(int, slot, 2);
  cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank();
  const unsigned next = (rank + 1) % cluster.num_blocks();
  int* remote = cluster.map_shared_rank(slot, next);
  if (threadIdx.x == 0) slot[0] = slot[1] = 0;
  cluster.sync();
  int acc = 0;
  for (int i = 0; i < iters; ++i) {
    if (threadIdx.x == 0) remote[i & 1] = i + static_cast<int>(rank);  // the neighbour's buffer
    cluster.sync();
    acc += slot[i & 1];  // what the previous CTA wrote before the barrier
  }
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
#else
  (void)iters;
  (void)out;
#endif
}

}  // namespace

double cluster_barrier_us(int device, int cluster, int iters, cudaStream_t stream) {
  int major = 0;
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  if (major < 9) return 0.0;  // no clusters before sm_90
  int* out = nullptr;
  EMBER_CUDA_CHECK(cudaMalloc(&out, sizeof(int) * cluster));
  const unsigned n = static_cast<unsigned>(cluster);
  EMBER_LAUNCH_CLUSTER(cluster_sync_loop, n, 128, n, 0, stream, 100, out);  // warm-up
  cudaEvent_t start, stop;
  EMBER_CUDA_CHECK(cudaEventCreate(&start));
  EMBER_CUDA_CHECK(cudaEventCreate(&stop));
  EMBER_CUDA_CHECK(cudaEventRecord(start, stream));
  EMBER_LAUNCH_CLUSTER(cluster_sync_loop, n, 128, n, 0, stream, iters, out);
  EMBER_CUDA_CHECK(cudaEventRecord(stop, stream));
  EMBER_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  EMBER_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  EMBER_CUDA_CHECK(cudaEventDestroy(start));
  EMBER_CUDA_CHECK(cudaEventDestroy(stop));
  EMBER_CUDA_CHECK(cudaFree(out));
  return 1e3 * static_cast<double>(ms) / iters;
}

}  // namespace ember::bench
