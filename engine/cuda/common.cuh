// Helpers shared by the CUDA kernels in kernels/*.cu, engine/ and optim/*.cu: the one set of
// launch helpers (block size, grid sizing, grid-stride index ranges; ceil_div and the time
// index helpers are in engine/cuda/index.h, which host code shares) and fixed-shape reductions.
// Every reduction here adds in an order fixed by the block shape alone (warp shuffles down a
// tree, then the warps' results in warp order), so a kernel that uses them gives the same bits
// on every run: no float atomics anywhere.
#pragma once

#include <cuda_runtime.h>

#include "engine/cuda/index.h"
#include "engine/cuda/launch.cuh"

#include <cstdint>

namespace ember::cuda {

constexpr int kBlockThreads = 256;  // default block size of the elementwise kernels
constexpr int kWarp = 32;

// Blocks for a kernel with one thread per item and no grid-stride loop (it returns for
// i >= n): exactly ceil(n / threads), no cap, since every item needs its own thread.
inline unsigned blocks_for(int64_t n, int threads = kBlockThreads) {
  return static_cast<unsigned>(ceil_div(n, threads));
}

// Blocks for a grid-stride loop over n items with `threads` per block: enough to cover n, at
// least 1, at most `max_blocks` (the loops stride over the rest).
inline unsigned grid_for(int64_t n, int threads = kBlockThreads, int64_t max_blocks = 8192) {
  int64_t blocks = ceil_div(n, threads);
  if (blocks < 1) blocks = 1;
  if (blocks > max_blocks) blocks = max_blocks;
  return static_cast<unsigned>(blocks);
}

// Device math for float and double under one name, so templated kernels call the float
// functions (expf, ...) in float, not the double ones through promotion.
// EMBER_DEVICE_MATH(name, float_fn, double_fn) defines name(T, ...) as one or the other.
#define EMBER_DEVICE_MATH(name, float_fn, double_fn)     \
  template <class T, class... Rest>                      \
  __device__ __forceinline__ T name(T v, Rest... rest) { \
    if constexpr (sizeof(T) == sizeof(float))            \
      return float_fn(v, rest...);                       \
    else                                                 \
      return double_fn(v, rest...);                      \
  }
EMBER_DEVICE_MATH(dev_exp, expf, exp)
EMBER_DEVICE_MATH(dev_log, logf, log)
EMBER_DEVICE_MATH(dev_log1p, log1pf, log1p)
EMBER_DEVICE_MATH(dev_tanh, tanhf, tanh)
// IEEE round-to-nearest arithmetic, which nvcc never contracts into FMAs: a kernel that must
// round exactly as the CPU reference's separate operations do (the optimizers) uses these.
EMBER_DEVICE_MATH(add_rn, __fadd_rn, __dadd_rn)
EMBER_DEVICE_MATH(sub_rn, __fsub_rn, __dsub_rn)
EMBER_DEVICE_MATH(mul_rn, __fmul_rn, __dmul_rn)
EMBER_DEVICE_MATH(div_rn, __fdiv_rn, __ddiv_rn)
EMBER_DEVICE_MATH(sqrt_rn, __fsqrt_rn, __dsqrt_rn)
#undef EMBER_DEVICE_MATH

__device__ __forceinline__ int64_t global_thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// Sum over the 32 lanes of a warp (all lanes must take part); every lane gets the result.
template <class A>
__device__ __forceinline__ A warp_sum(A v) {
  for (int off = kWarp / 2; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

template <class A>
__device__ __forceinline__ A warp_max(A v) {
  for (int off = kWarp / 2; off > 0; off /= 2) {
    const A o = __shfl_xor_sync(0xffffffffu, v, off);
    v = o > v ? o : v;
  }
  return v;
}

// Sum over a whole block of Threads threads (a multiple of 32, at most 1024); every thread must
// call it, and every thread gets the result. `scratch` holds Threads/32 values of shared memory.
template <int Threads, class A>
__device__ __forceinline__ A block_sum(A v, A* scratch) {
  static_assert(Threads % kWarp == 0 && Threads <= 1024, "block_sum: bad block size");
  constexpr int kWarps = Threads / kWarp;
  v = warp_sum(v);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  A total = scratch[0];
  for (int w = 1; w < kWarps; ++w) total += scratch[w];  // same order in every thread
  return total;
}

}  // namespace ember::cuda
