// Correct kernels give the right answers under the emulator: block reduction with shuffles and
// __syncthreads, an inclusive block scan, a multi-block grid-stride loop, dynamic shared memory,
// 3-D block indices, the counting barriers, warp votes and every shuffle flavour with widths,
// atomics, and per-thread copies of kernel parameters.
#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include <cooperative_groups.h>

#include "emu_test_util.h"

using emu_test::DeviceBuffer;
using emu_test::grid;

namespace {

// Sum of x over the grid into out[blockIdx.x]: warp shuffles, then one value per warp in shared
// memory, then warp 0 reduces those.
__global__ void block_reduce(const float* x, float* out, int n) {
  EMU_SHARED(float, partial, 32);
  float v = 0;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
    if (lane == 0) out[blockIdx.x] = v;
  }
}

// Inclusive scan of one block's values (Hillis-Steele in shared memory, double-buffered).
__global__ void block_scan(const int* in, int* out) {
  EMU_SHARED(int, buf, 2 * 1024);
  const int t = threadIdx.x, n = blockDim.x;
  int src = 0;
  buf[t] = in[t];
  __syncthreads();
  for (int off = 1; off < n; off *= 2) {
    const int dst = 1 - src;
    buf[dst * n + t] = buf[src * n + t] + (t >= off ? buf[src * n + t - off] : 0);
    __syncthreads();
    src = dst;
  }
  out[t] = buf[src * n + t];
}

__global__ void saxpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = a * x[i] + y[i];
}

// Reverses each block's chunk through dynamic shared memory.
__global__ void reverse_chunks(const double* in, double* out) {
  double* s = static_cast<double*>(emu::dynamic_shared());
  const int n = blockDim.x, base = blockIdx.x * n;
  s[n - 1 - threadIdx.x] = in[base + threadIdx.x];
  __syncthreads();
  out[base + threadIdx.x] = s[threadIdx.x];
}

__global__ void indices_3d(uint32_t* out) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned local = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const unsigned per = blockDim.x * blockDim.y * blockDim.z;
  out[block * per + local] = (threadIdx.x << 24) | (threadIdx.y << 16) | (threadIdx.z << 12) |
                             (blockIdx.x << 8) | (blockIdx.y << 4) | blockIdx.z;
}

__global__ void counting_barriers(int* out) {
  const int t = threadIdx.x;
  const int count = __syncthreads_count(t % 3 == 0);
  const int all = __syncthreads_and(t < 1000);
  const int none = __syncthreads_and(t < 5);
  const int any = __syncthreads_or(t == 77);
  if (t == 0) {
    out[0] = count;
    out[1] = all;
    out[2] = none;
    out[3] = any;
  }
}

__global__ void votes(unsigned* out) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const unsigned ballot = __ballot_sync(0xffffffffu, lane % 2 == 1);
  const int any = __any_sync(0xffffffffu, lane == 31);
  const int all = __all_sync(0xffffffffu, lane < 31);
  // Lanes 0-15 and 16-31 vote separately with disjoint masks.
  const unsigned half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  const unsigned hb = __ballot_sync(half, lane == 3 || lane == 20);
  if (lane == 0) {
    out[warp * 4 + 0] = ballot;
    out[warp * 4 + 1] = static_cast<unsigned>(any);
    out[warp * 4 + 2] = static_cast<unsigned>(all);
  }
  if (lane == 16) out[warp * 4 + 3] = hb;
}

__global__ void shuffles(int* out) {
  const int lane = threadIdx.x;
  int* row = out + lane * 6;
  row[0] = __shfl_sync(0xffffffffu, lane * 10, 5);            // broadcast lane 5
  row[1] = __shfl_sync(0xffffffffu, lane * 10, lane + 1, 8);  // rotate within 8-lane segments
  row[2] = __shfl_up_sync(0xffffffffu, lane, 3);              // lanes < 3 keep their own
  row[3] = __shfl_down_sync(0xffffffffu, lane, 2, 16);        // within 16-lane segments
  row[4] = __shfl_xor_sync(0xffffffffu, lane, 1);
  const double d = __shfl_xor_sync(0xffffffffu, lane + 0.5, 4);
  const long long big = __shfl_sync(0xffffffffu, (1ll << 40) + lane, 31);
  row[5] = static_cast<int>(d * 2) + static_cast<int>(big - (1ll << 40)) * 1000;
}

__global__ void atomics(int* counter, unsigned long long* big, float* fsum, double* dsum, int* mx,
                        unsigned* wrap) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(counter, 1);
  atomicAdd(big, 1ull << 33);
  atomicAdd(fsum, 0.5f);
  atomicAdd(dsum, 0.25);
  atomicMax(mx, (t * 37) % 1001);
  atomicInc(wrap, 9u);  // counts 0..9 and wraps
}

// Each thread modifies its own copy of the by-value parameter.
__global__ void param_copies(int base, int* out) {
  base += static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = base;
}

}  // namespace

TEST_CASE("block reduction with shuffles and __syncthreads", "[kernels]") {
  const int n = 100003;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i % 7) - 2.0f;
  DeviceBuffer<float> dx(x), dout(13);
  REQUIRE(grid(13, 256)(block_reduce, dx.get(), dout.get(), n) == cudaSuccess);
  const std::vector<float> part = dout.download();
  double got = 0, want = 0;
  for (float p : part) got += p;
  for (float v : x) want += v;
  CHECK(got == Approx(want));
}

TEST_CASE("inclusive block scan", "[kernels]") {
  for (int threads : {1, 32, 100, 1024}) {
    std::vector<int> in(threads);
    for (int i = 0; i < threads; ++i) in[i] = (i * 7919) % 13 - 6;
    DeviceBuffer<int> din(in), dout(threads);
    REQUIRE(grid(1, threads)(block_scan, din.get(), dout.get()) == cudaSuccess);
    std::vector<int> want(threads);
    std::partial_sum(in.begin(), in.end(), want.begin());
    CHECK(dout.download() == want);
  }
}

TEST_CASE("multi-block grid-stride loop", "[kernels]") {
  const int64_t n = 50001;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i);
    y[i] = 1.0f;
  }
  DeviceBuffer<float> dx(x), dy(y);
  REQUIRE(grid(7, 96)(saxpy, 2.0f, dx.get(), dy.get(), n) == cudaSuccess);
  const std::vector<float> got = dy.download();
  for (int64_t i = 0; i < n; i += 997) CHECK(got[i] == 2.0f * static_cast<float>(i) + 1.0f);
  CHECK(got[n - 1] == 2.0f * static_cast<float>(n - 1) + 1.0f);
}

TEST_CASE("dynamic shared memory", "[kernels]") {
  const int threads = 200, blocks = 3;
  std::vector<double> in(threads * blocks);
  std::iota(in.begin(), in.end(), 0.0);
  DeviceBuffer<double> din(in), dout(in.size());
  REQUIRE(grid(blocks, threads, threads * sizeof(double))(reverse_chunks, din.get(), dout.get()) ==
          cudaSuccess);
  const std::vector<double> got = dout.download();
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t)
      CHECK(got[b * threads + t] == in[b * threads + threads - 1 - t]);
}

TEST_CASE("3-D grid and block indices", "[kernels]") {
  const dim3 g(3, 2, 2), b(4, 3, 2);
  const unsigned per = b.x * b.y * b.z, total = per * g.x * g.y * g.z;
  DeviceBuffer<uint32_t> d(total);
  REQUIRE(grid(g, b)(indices_3d, d.get()) == cudaSuccess);
  const std::vector<uint32_t> got = d.download();
  unsigned k = 0;
  for (unsigned bz = 0; bz < g.z; ++bz)
    for (unsigned by = 0; by < g.y; ++by)
      for (unsigned bx = 0; bx < g.x; ++bx)
        for (unsigned tz = 0; tz < b.z; ++tz)
          for (unsigned ty = 0; ty < b.y; ++ty)
            for (unsigned tx = 0; tx < b.x; ++tx, ++k)
              CHECK(got[k] == ((tx << 24) | (ty << 16) | (tz << 12) | (bx << 8) | (by << 4) | bz));
}

TEST_CASE("__syncthreads_count, _and, _or", "[kernels]") {
  DeviceBuffer<int> d(4);
  REQUIRE(grid(1, 300)(counting_barriers, d.get()) == cudaSuccess);
  CHECK(d.download() == std::vector<int>{100, 1, 0, 1});
}

TEST_CASE("warp votes, including disjoint masks in one warp", "[kernels]") {
  DeviceBuffer<unsigned> d(8);
  REQUIRE(grid(1, 64)(votes, d.get()) == cudaSuccess);
  const std::vector<unsigned> got = d.download();
  for (int w = 0; w < 2; ++w) {
    CHECK(got[w * 4 + 0] == 0xaaaaaaaau);
    CHECK(got[w * 4 + 1] == 1u);
    CHECK(got[w * 4 + 2] == 0u);
    CHECK(got[w * 4 + 3] == (1u << 20));
  }
}

TEST_CASE("shuffle flavours and widths", "[kernels]") {
  DeviceBuffer<int> d(32 * 6);
  REQUIRE(grid(1, 32)(shuffles, d.get()) == cudaSuccess);
  const std::vector<int> got = d.download();
  for (int l = 0; l < 32; ++l) {
    const int* row = &got[l * 6];
    CHECK(row[0] == 50);
    CHECK(row[1] == ((l & ~7) + ((l + 1) & 7)) * 10);
    CHECK(row[2] == (l >= 3 ? l - 3 : l));
    CHECK(row[3] == ((l % 16) + 2 < 16 ? l + 2 : l));
    CHECK(row[4] == (l ^ 1));
    CHECK(row[5] == static_cast<int>(((l ^ 4) + 0.5) * 2) + 31 * 1000);
  }
}

TEST_CASE("atomics", "[kernels]") {
  DeviceBuffer<int> counter(1), mx(1);
  DeviceBuffer<unsigned long long> big(1);
  DeviceBuffer<float> fsum(1);
  DeviceBuffer<double> dsum(1);
  DeviceBuffer<unsigned> wrap(1);
  cudaMemset(counter.get(), 0, sizeof(int));
  cudaMemset(mx.get(), 0, sizeof(int));
  cudaMemset(big.get(), 0, 8);
  cudaMemset(fsum.get(), 0, 4);
  cudaMemset(dsum.get(), 0, 8);
  cudaMemset(wrap.get(), 0, 4);
  REQUIRE(grid(5, 128)(atomics, counter.get(), big.get(), fsum.get(), dsum.get(), mx.get(),
                       wrap.get()) == cudaSuccess);
  const int n = 5 * 128;
  CHECK(counter.download()[0] == n);
  CHECK(big.download()[0] == static_cast<unsigned long long>(n) << 33);
  CHECK(fsum.download()[0] == 0.5f * n);
  CHECK(dsum.download()[0] == 0.25 * n);
  int want_max = 0;
  for (int t = 0; t < n; ++t) want_max = std::max(want_max, (t * 37) % 1001);
  CHECK(mx.download()[0] == want_max);
  CHECK(wrap.download()[0] == static_cast<unsigned>(n % 10));
}

TEST_CASE("every thread gets its own copy of the kernel's parameters", "[kernels]") {
  DeviceBuffer<int> d(64);
  REQUIRE(grid(1, 64)(param_copies, 1000, d.get()) == cudaSuccess);
  const std::vector<int> got = d.download();
  for (int t = 0; t < 64; ++t) CHECK(got[t] == 1000 + t);
}

TEST_CASE("uninitialised shared memory reads as NaN", "[kernels]") {
  struct K {
    static __global__ void read_unset(float* out) {
      EMU_SHARED(float, s, 4);
      out[threadIdx.x] = s[threadIdx.x];
    }
  };
  DeviceBuffer<float> d(4);
  REQUIRE(grid(1, 4)(K::read_unset, d.get()) == cudaSuccess);
  for (float v : d.download()) CHECK(v != v);
}

namespace {
// Thread-block group queries, __syncwarp between a shared-memory write and a neighbour's read,
// and the split cluster barrier (arrive, independent work, wait).
__global__ void groups(int* out) {
  namespace cg = cooperative_groups;
  EMU_SHARED(int, s, 64);
  cg::thread_block block = cg::this_thread_block();
  const unsigned r = block.thread_rank();
  s[r] = static_cast<int>(r) * 2;
  __syncwarp();
  const int neighbour = s[(r ^ 1) % 64];
  cg::cluster_group cluster = cg::this_cluster();
  auto token = cluster.barrier_arrive();
  const int local = static_cast<int>(block.size() + block.group_index().x);
  cluster.barrier_wait(std::move(token));
  block.sync();
  out[blockIdx.x * 64 + r] = neighbour * 1000 + local;
}
}  // namespace

TEST_CASE("thread_block queries, __syncwarp and the split cluster barrier", "[kernels]") {
  DeviceBuffer<int> d(2 * 64);
  emu_test::Launch l = grid(2, 64);
  l.with_cluster = true;
  l.cluster = dim3(2);
  REQUIRE(l(groups, d.get()) == cudaSuccess);
  const std::vector<int> got = d.download();
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 64; ++r) CHECK(got[b * 64 + r] == (r ^ 1) * 2 * 1000 + 64 + b);
}
