#!/usr/bin/env bash
# Trains one seed config and prints its test metrics:
#
#   bash scripts/reproduce.sh configs/seed001_model_b.yaml [ember train args, e.g. --device cpu]
#
# Builds Ember first if needed (scripts/build.sh on a fresh checkout, else an incremental build
# of the `ember` target), reads the data from ${EMBER_DATA:-../shared/data} (the default is
# relative to the repository root) and writes the run to runs/<config name> (the config's file
# name without .yaml). Then scores `ember baseline` into the same directory and prints the
# run's metrics.json. An --out or --data-dir among the extra arguments replaces the default.
set -euo pipefail

usage() { echo "usage: bash scripts/reproduce.sh CONFIG [ember train args]" >&2; exit 2; }
[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; esac

config=$(realpath -e -- "$1") || { echo "reproduce: no such config: $1" >&2; exit 2; }
shift
root=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$config")
name=${name%.yaml}
name=${name%.yml}

if [ -n "${EMBER_DATA:-}" ]; then
  data_dir=$(realpath -m -- "$EMBER_DATA")  # relative to where the script was called from
else
  data_dir=$(realpath -m -- "$root/../shared/data")
fi

# An --out / --data-dir given by the caller wins over ours.
out="$root/runs/$name"
own_out=1
own_data=1
seed_args=()
prev=""
for a in "$@"; do
  case "$a" in
    --out=*) out=${a#--out=}; own_out=0 ;;
    --data-dir=*) data_dir=$(realpath -m -- "${a#--data-dir=}"); own_data=0 ;;
    --data-dir) own_data=0 ;;
    --seed=*) seed_args=("$a") ;;
  esac
  [ "$prev" = "--seed" ] && seed_args=(--seed "$a")
  [ "$prev" = "--out" ] && { out=$a; own_out=0; }
  [ "$prev" = "--data-dir" ] && data_dir=$(realpath -m -- "$a")
  prev=$a
done
out=$(realpath -m -- "$out")  # relative to where the script was called from

cd "$root"
if [ -x build/ember ] && [ -f build/CMakeCache.txt ]; then
  cmake --build build --target ember -j"$(nproc)" >/dev/null
else
  bash scripts/build.sh >/dev/null
fi

args=()
[ "$own_data" -eq 1 ] && args+=(--data-dir "$data_dir")
[ "$own_out" -eq 1 ] && args+=(--out "$out")
echo "reproduce: $name -> $out" >&2
./build/ember train "$config" "${args[@]}" "$@"

# The table's baseline column: majority class and bag-of-words logistic regression on the same
# data, written beside the run's own metrics (baseline_*_metrics.json).
if ! ./build/ember baseline "$config" --data-dir "$data_dir" "${seed_args[@]+"${seed_args[@]}"}" \
  --out "$out" >&2; then
  echo "reproduce: ember baseline failed (above); the run itself is complete" >&2
fi

if [ ! -f "$out/metrics.json" ]; then
  echo "reproduce: $out/metrics.json was not written (the config has no test split?)" >&2
  exit 1
fi
cat "$out/metrics.json"
