// GPU side of engine/core/rng.h: fills a device buffer with the same Philox uniforms the CPU draws,
// so tests can prove, bit for bit, that both sides share one random stream. Only built with
// CUDA (EMBER_HAVE_CUDA).
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace ember::cuda {

// out[i] = philox_uniform(seed, offset, i) for i in [0, n); out is device memory. Async on
// `stream`; the launch is checked.
void philox_uniform_fill(uint64_t seed, uint64_t offset, int64_t n, float* out,
                         cudaStream_t stream);

}  // namespace ember::cuda
