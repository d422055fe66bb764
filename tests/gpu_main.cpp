// Main of the GPU test binary: with no CUDA device it prints why and exits 77, which CTest
// (SKIP_RETURN_CODE) reports as skipped rather than passed. Built for the CUDA emulator
// (EMBER_CUDA_EMU), cuDNN cannot run: the cases tagged [cudnn] are left out when no test spec
// is given (CTest's emu_gpu_tests passes the same exclusion), and each case left out is
// printed as "skipped (emulator): ..." so a skip is never a silent pass. Catch2 2.13 has no
// per-case SKIP(), hence the tag.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include "engine/core/device.h"

namespace {

#ifdef EMBER_CUDA_EMU
// Prints every [cudnn] case that the session's test spec leaves out.
void report_emulator_skips(Catch::Config& config) {
  for (const Catch::TestCase& tc : Catch::getAllTestCasesSorted(config)) {
    const bool cudnn =
        std::find(tc.lcaseTags.begin(), tc.lcaseTags.end(), "cudnn") != tc.lcaseTags.end();
    if (!cudnn || Catch::matchTest(tc, config.testSpec(), config)) continue;
    std::printf("skipped (emulator): \"%s\": cuDNN cannot be emulated\n", tc.name.c_str());
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (ember::cuda_device_count() == 0) {
    std::printf("ember_gpu_tests: no CUDA device visible; GPU tests skipped\n");
    return 77;
  }
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
#ifdef EMBER_CUDA_EMU
  std::printf("ember_gpu_tests: running on the CUDA emulator (%s)\n",
              ember::cuda_device_name(0).c_str());
  if (session.configData().testsOrTags.empty())
    session.configData().testsOrTags.push_back("~[.]~[cudnn]");
  report_emulator_skips(session.config());
#else
  std::printf("ember_gpu_tests: running on %s\n", ember::cuda_device_name(0).c_str());
#endif
  return session.run();
}
