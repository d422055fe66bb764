// Main of the GPU test binary: with no CUDA device it prints why and exits 77, which CTest
// (SKIP_RETURN_CODE) reports as skipped rather than passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "engine/device.h"

int main(int argc, char** argv) {
  if (ember::cuda_device_count() == 0) {
    std::printf("ember_gpu_tests: no CUDA device visible; GPU tests skipped\n");
    return 77;
  }
  std::printf("ember_gpu_tests: running on %s\n", ember::cuda_device_name(0).c_str());
  return Catch::Session().run(argc, argv);
}
