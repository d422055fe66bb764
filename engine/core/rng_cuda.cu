// philox_uniform_fill: one thread per block of 4 elements, each computing one Philox block and
// writing its 4 lanes, which is exactly how philox_uniform indexes on the CPU.
#include "engine/core/rng.h"
#include "engine/core/rng_cuda.h"
#include "engine/cuda/launch.cuh"

#include <stdexcept>
#include <string>

namespace ember::cuda {

namespace {
__global__ void philox_uniform_fill_kernel(uint64_t seed, uint64_t offset, int64_t n, float* out) {
  const int64_t block = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t first = block * 4;
  if (first >= n) return;
  const Philox4x32 r = philox_block(seed, offset, static_cast<uint64_t>(block));
  for (int lane = 0; lane < 4 && first + lane < n; ++lane)
    out[first + lane] = static_cast<float>(r.v[lane] >> 8) * (1.0f / 16777216.0f);
}
}  // namespace

void philox_uniform_fill(uint64_t seed, uint64_t offset, int64_t n, float* out,
                         cudaStream_t stream) {
  if (n <= 0) return;
  const int threads = 256;
  const int64_t blocks = (n + 4 * threads - 1) / (4 * threads);
  EMBER_LAUNCH(philox_uniform_fill_kernel, static_cast<unsigned>(blocks), threads, 0, stream, seed,
               offset, n, out);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("philox_uniform_fill_kernel launch: ") +
                             cudaGetErrorString(e));
}

}  // namespace ember::cuda
