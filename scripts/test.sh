#!/usr/bin/env bash
# README's test command: set-up, build, then every CTest test. CPU tests run everywhere; the
# GPU binary (label gpu) reports "skipped" on a machine without a device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
cd build
ctest --output-on-failure -j"$(nproc)"
