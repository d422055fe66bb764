#!/usr/bin/env bash
# Trains one config once per seed and prints the mean ± sd of its test numbers:
#
#   bash scripts/seed_variance.sh configs/seed004_imdb_lstm.yaml 1337 2 3 [-- ember train args]
#
# Each seed runs through scripts/reproduce.sh (so it builds, and scores `ember baseline`) into
# runs/variance/<config name>/seed<N>; a run whose metrics.json already exists is kept, not
# retrained, so an interrupted series resumes. Then bench/variance.py prints the table and
# copies each run's small files into bench/results/variance/<config name>/.
set -euo pipefail

usage() { echo "usage: bash scripts/seed_variance.sh CONFIG SEED [SEED...] [-- ember train args]" >&2; exit 2; }
[ $# -ge 2 ] || usage
config=$1
shift
seeds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  [[ "$1" =~ ^[0-9]+$ ]] || { echo "seed_variance: a seed must be a number, got '$1'" >&2; exit 2; }
  seeds+=("$1")
  shift
done
[ "${1:-}" = "--" ] && shift
[ ${#seeds[@]} -ge 1 ] || usage

root=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$config")
name=${name%.yaml}
name=${name%.yml}
runs=()
for s in "${seeds[@]}"; do
  out="$root/runs/variance/$name/seed$s"
  runs+=("$out")
  if [ -f "$out/metrics.json" ]; then
    echo "seed_variance: $out is complete; kept" >&2
    continue
  fi
  bash "$root/scripts/reproduce.sh" "$config" --seed "$s" --out "$out" "$@" >/dev/null
done
python3 "$root/bench/variance.py" --out "$root/bench/results/variance" "${runs[@]}"
