#!/usr/bin/env bash
# Builds bench_seed_step (Ember's side of the CPU framework benchmarks) into BUILD_DIR, which is
# configured Release and CPU-only (no tests) when it has no CMake cache yet.
# Usage: bash scripts/build_bench.sh BUILD_DIR [JOBS=nproc]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
jobs=${2:-$(nproc)}
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA=OFF -DEMBER_TESTS=OFF \
    -DEMBER_BENCH=ON -DEMBER_WERROR=ON >/dev/null
fi
cmake --build "$dir" -j"$jobs" --target bench_seed_step >/dev/null
