// Thread-block clusters: every block of a cluster runs in one scheduler, cluster.sync() is a
// barrier over all of them, and map_shared_rank() reaches another block's static and dynamic
// shared memory. Checked for clusters of 1, 2, 4, 8 and (with the non-portable flag) 16 blocks,
// a 2-D cluster, the cluster queries, and the occupancy model.
#include <catch2/catch.hpp>

#include <cooperative_groups.h>

#include <vector>

#include "emu_test_util.h"

namespace cg = cooperative_groups;
using emu_test::DeviceBuffer;
using emu_test::grid;

namespace {

// Ring exchange over `rounds` steps: each block writes its value into the next block's slot
// (static shared) and a copy into the previous block's dynamic shared memory; after each
// cluster.sync every block reads what its neighbours wrote.
__global__ void ring(int rounds, int* out) {
  EMU_SHARED(int, slot, 2);
  int* dyn = static_cast<int*>(emu::dynamic_shared());
  cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank(), n = cluster.num_blocks();
  int* next = cluster.map_shared_rank(slot, (rank + 1) % n);
  int* prev = cluster.map_shared_rank(dyn, (rank + n - 1) % n);
  int value = static_cast<int>(rank) * 100;
  int from_prev = 0, from_next = 0;
  cluster.sync();
  for (int r = 0; r < rounds; ++r) {
    if (threadIdx.x == 0) {
      next[r & 1] = value;
      prev[r & 1] = value + 1;
    }
    cluster.sync();
    from_prev = slot[r & 1];
    from_next = dyn[r & 1];
    value = from_prev + 1;
  }
  if (threadIdx.x == blockDim.x - 1) {
    out[blockIdx.x * 2] = from_prev;
    out[blockIdx.x * 2 + 1] = from_next;
  }
  cluster.sync();  // no block exits while a neighbour may still read its memory
}

__global__ void cluster_queries(unsigned* out) {
  cg::cluster_group cluster = cg::this_cluster();
  cg::thread_block block = cg::this_thread_block();
  EMU_SHARED(int, probe, 1);
  if (block.thread_rank() != 0) return;
  const unsigned b = (blockIdx.y * gridDim.x) + blockIdx.x;
  const dim3 idx = cluster.block_index(), dims = cluster.dim_blocks();
  out[b * 6 + 0] = cluster.block_rank();
  out[b * 6 + 1] = cluster.num_blocks();
  out[b * 6 + 2] = idx.x | (idx.y << 8);
  out[b * 6 + 3] = dims.x | (dims.y << 8);
  out[b * 6 + 4] = cluster.thread_rank();
  out[b * 6 + 5] = cluster.query_shared_rank(cluster.map_shared_rank(probe, cluster.block_rank()));
}

// The reference for ring(): block values after `rounds` steps of value = prev's value + 1.
std::vector<int> ring_expected(int blocks, int cluster, int rounds) {
  std::vector<int> out(blocks * 2);
  for (int c0 = 0; c0 < blocks; c0 += cluster) {
    std::vector<int> v(cluster);
    for (int r = 0; r < cluster; ++r) v[r] = r * 100;
    std::vector<int> prev(cluster), next(cluster);
    for (int s = 0; s < rounds; ++s) {
      for (int r = 0; r < cluster; ++r) {
        prev[r] = v[(r + cluster - 1) % cluster];
        next[r] = v[(r + 1) % cluster] + 1;
      }
      for (int r = 0; r < cluster; ++r) v[r] = prev[r] + 1;
    }
    for (int r = 0; r < cluster; ++r) {
      out[(c0 + r) * 2] = prev[r];
      out[(c0 + r) * 2 + 1] = next[r];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("cluster exchange through map_shared_rank and cluster.sync", "[clusters]") {
  for (int size : {1, 2, 4, 8, 16}) {
    CAPTURE(size);
    if (size == 16)
      REQUIRE(cudaFuncSetAttribute(ring, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) ==
              cudaSuccess);
    const int blocks = size * 2, rounds = 5;
    DeviceBuffer<int> out(blocks * 2);
    emu_test::Launch l = grid(blocks, 64, 2 * sizeof(int));
    l.with_cluster = true;
    l.cluster = dim3(size);
    REQUIRE(l(ring, rounds, out.get()) == cudaSuccess);
    CHECK(out.download() == ring_expected(blocks, size, rounds));
  }
  REQUIRE(cudaFuncSetAttribute(ring, cudaFuncAttributeNonPortableClusterSizeAllowed, 0) ==
          cudaSuccess);
}

TEST_CASE("a launch without a cluster attribute is a cluster of one block", "[clusters]") {
  DeviceBuffer<int> out(6);
  REQUIRE(grid(3, 32, 2 * sizeof(int))(ring, 3, out.get()) == cudaSuccess);
  CHECK(out.download() == ring_expected(3, 1, 3));
}

TEST_CASE("cluster queries in a 2-D cluster", "[clusters]") {
  const dim3 g(4, 2), k(2, 2);
  DeviceBuffer<unsigned> out(8 * 6);
  emu_test::Launch l = grid(g, 16);
  l.with_cluster = true;
  l.cluster = k;
  REQUIRE(l(cluster_queries, out.get()) == cudaSuccess);
  const std::vector<unsigned> got = out.download();
  for (unsigned by = 0; by < g.y; ++by)
    for (unsigned bx = 0; bx < g.x; ++bx) {
      const unsigned* row = &got[(by * g.x + bx) * 6];
      const unsigned ix = bx % 2, iy = by % 2, rank = iy * 2 + ix;
      CHECK(row[0] == rank);
      CHECK(row[1] == 4u);
      CHECK(row[2] == (ix | (iy << 8)));
      CHECK(row[3] == (2u | (2u << 8)));
      CHECK(row[4] == rank * 16);
      CHECK(row[5] == rank);
    }
}

TEST_CASE("cudaOccupancyMaxActiveClusters follows shared memory and threads", "[clusters]") {
  cudaLaunchAttribute attr[1] = {};
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = 2;
  attr[0].val.clusterDim.y = attr[0].val.clusterDim.z = 1;
  cudaLaunchConfig_t c{};
  c.gridDim = dim3(2);
  c.blockDim = dim3(1024);
  c.attrs = attr;
  c.numAttrs = 1;
  int n = -1;
  // 2 blocks of 1024 threads per SM: 132 SMs hold 132 clusters of 2.
  REQUIRE(cudaOccupancyMaxActiveClusters(&n, ring, &c) == cudaSuccess);
  CHECK(n == 132);
  // 200 KiB per block: one block per SM, 66 clusters of 2.
  REQUIRE(cudaFuncSetAttribute(ring, cudaFuncAttributeMaxDynamicSharedMemorySize, 200 * 1024) ==
          cudaSuccess);
  c.dynamicSmemBytes = 200 * 1024;
  REQUIRE(cudaOccupancyMaxActiveClusters(&n, ring, &c) == cudaSuccess);
  CHECK(n == 66);
  // Clusters of 16 need the non-portable flag, then fit one per GPC (8 GPCs).
  attr[0].val.clusterDim.x = 16;
  c.gridDim = dim3(16);
  CHECK(cudaOccupancyMaxActiveClusters(&n, ring, &c) == cudaErrorInvalidClusterSize);
  cudaGetLastError();
  REQUIRE(cudaFuncSetAttribute(ring, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) ==
          cudaSuccess);
  REQUIRE(cudaOccupancyMaxActiveClusters(&n, ring, &c) == cudaSuccess);
  CHECK(n == 8);
  REQUIRE(cudaFuncSetAttribute(ring, cudaFuncAttributeNonPortableClusterSizeAllowed, 0) ==
          cudaSuccess);
  REQUIRE(cudaFuncSetAttribute(ring, cudaFuncAttributeMaxDynamicSharedMemorySize, 48 * 1024) ==
          cudaSuccess);
}
