// GPU Philox against the CPU: every uniform bit-identical, at awkward sizes (not multiples of
// 4 or of the block), so CPU and GPU dropout masks can be compared exactly.
#include <catch2/catch.hpp>

#include <cuda_runtime.h>

#include <cstring>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/rng_cuda.h"
#include "engine/core/tensor.h"

using namespace ember;

TEST_CASE("GPU philox uniforms equal the CPU's bit for bit", "[gpu][rng]") {
  for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{4}, int64_t{5}, int64_t{1023}, int64_t{4097},
                    int64_t{1000003}}) {
    for (uint64_t offset : {uint64_t{0}, dropout_offset(17, 3, 1), ~uint64_t{0}}) {
      Tensor d = Tensor::empty({n}, DType::kFloat32, Device::cuda(0));
      cuda::philox_uniform_fill(1337, offset, n, d.data<float>(), nullptr);
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      Tensor h = Tensor::empty({n}, DType::kFloat32);
      h.copy_from(d);
      int64_t mismatches = 0;
      for (int64_t i = 0; i < n; ++i) {
        float cpu = philox_uniform(1337, offset, i);
        mismatches += std::memcmp(&cpu, h.data<float>() + i, sizeof(float)) != 0;
      }
      INFO("n=" << n << " offset=" << offset);
      CHECK(mismatches == 0);
    }
  }
}
