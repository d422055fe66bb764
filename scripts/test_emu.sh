#!/usr/bin/env bash
# The sanitized suites: the GPU suite on the CUDA emulator (emu/) and the CPU suite, both under
# AddressSanitizer and UndefinedBehaviorSanitizer. Builds build-emu-san with clang
# (EMBER_CUDA_EMU=ON, EMBER_SANITIZE=ON, no benchmarks, no MPI; only what `ctest -L emu` and
# `ctest -L cpu` run: ember_gpu_tests, the emulator's own tests, ember_tests and ember), runs
# the CTest tests labelled emu and cpu, and prints how long the build and each suite took. The
# same build holds the libFuzzer targets (EMBER_FUZZ=ON), so scripts/fuzz.sh can run them from
# here (EMBER_FUZZ_BUILD_DIR) without building the sanitized library a second time. No GPU and
# no nvcc needed. Extra arguments go to CMake; EMBER_EMU_BUILD_DIR overrides the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dir=${EMBER_EMU_BUILD_DIR:-build-emu-san}
jobs=$(nproc)

t0=$(date +%s)
# RelWithDebInfo at -O2 so the emulated suite stays fast, with line tables only: the sanitizer
# reports carry file:line, and the build and link are quicker than with full -g.
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" -DEMBER_WERROR=ON \
  -DEMBER_CUDA_EMU=ON -DEMBER_SANITIZE=ON -DEMBER_FUZZ=ON -DEMBER_BENCH=OFF -DEMBER_MPI=OFF \
  "$@" >/dev/null
cmake --build "$dir" -j"$jobs" --target emu_checks ember_tests ember_fuzz_all
t1=$(date +%s)
echo "test_emu: build took $((t1 - t0)) s"

status=0
# Every sanitizer finding aborts the test binary (-fno-sanitize-recover, halt_on_error), so a
# finding is a failed test; the reports name the kernel and the source line.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
ctest --test-dir "$dir" -L emu --output-on-failure -j"$jobs" || status=$?
t2=$(date +%s)
echo "test_emu: the emulated GPU suite (ctest -L emu) took $((t2 - t1)) s"
ctest --test-dir "$dir" -L cpu --output-on-failure -j"$jobs" || status=$?
t3=$(date +%s)
echo "test_emu: the CPU suite under ASan and UBSan (ctest -L cpu) took $((t3 - t2)) s"
exit "$status"
