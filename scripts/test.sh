#!/usr/bin/env bash
# README's test command: set-up, build, then every CTest test. CPU tests run everywhere; the
# GPU binary (label gpu) reports "skipped" on a machine without a device. Then the sanitized
# suites (scripts/test_emu.sh: the GPU suite on the CUDA emulator and the CPU suite, under ASan
# and UBSan) and a bounded run of every fuzz target (scripts/fuzz.sh, FUZZ_SECONDS each,
# default 20 here), whose targets test_emu.sh's build already holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
cd build
ctest --output-on-failure -j"$(nproc)"
cd ..
# The GPU check's simulated run on build/'s CUDA binaries (scripts/gpu_check.sh --simulate):
# packing, loading them with Debian's libraries hidden as on the GPU machine, the rebuild's
# configure, up to the GPU tests' "no device" exit. A build without nvcc has nothing to pack.
if grep -q '^CMAKE_CUDA_COMPILER:[A-Z]*=.' build/CMakeCache.txt; then
  bash scripts/gpu_check.sh --simulate --build-dir build
else
  echo "test.sh: GPU check simulation skipped: build/ has no CUDA compiler (nvcc not found)"
fi
bash scripts/test_emu.sh
EMBER_FUZZ_BUILD_DIR=${EMBER_EMU_BUILD_DIR:-build-emu-san} FUZZ_SECONDS=${FUZZ_SECONDS:-20} \
  bash scripts/fuzz.sh
