#!/usr/bin/env bash
# README's main job: set-up, build, then `ember train` on a config (default: the synthetic
# word-order model). Further arguments go to `ember train`, e.g. --device cpu --epochs 2.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/synthetic.yaml}
shift || true
bash scripts/build.sh >/dev/null
./build/ember train "$config" "$@"
