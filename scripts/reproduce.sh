#!/usr/bin/env bash
# Trains one seed config and prints its test metrics:
#
#   bash scripts/reproduce.sh configs/seed001_model_b.yaml [ember train args, e.g. --device cpu]
#
# Builds Ember first if needed (scripts/build.sh on a fresh checkout, else an incremental build
# of the `ember` target), reads the data from ${EMBER_DATA:-../shared/data} (the default is
# relative to the repository root) and writes the run to runs/<config name> (the config's file
# name without .yaml). Then prints the run's metrics.json. An --out or --data-dir among the
# extra arguments replaces the default one.
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
prev=""
for a in "$@"; do
  case "$a" in
    --out=*) out=${a#--out=}; own_out=0 ;;
    --data-dir|--data-dir=*) own_data=0 ;;
  esac
  [ "$prev" = "--out" ] && { out=$a; own_out=0; }
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

if [ ! -f "$out/metrics.json" ]; then
  echo "reproduce: $out/metrics.json was not written (the config has no test split?)" >&2
  exit 1
fi
cat "$out/metrics.json"
