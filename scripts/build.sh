#!/usr/bin/env bash
# Configures and builds Ember into build/ (Release, warnings as errors). Runs setup.sh first so
# a fresh machine needs nothing else. Extra arguments go to CMake (e.g. -DEMBER_CUDA=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
