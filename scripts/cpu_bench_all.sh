#!/usr/bin/env bash
# Ember vs tf_keras vs PyTorch training-step time on the CPU, same models, shapes and thread
# count, for every seed config (or the ones named): per config, ROUNDS rounds of Ember
# (bench_seed_step), Keras (bench/keras/seed_models.py) and PyTorch (bench/pytorch/
# seed_models.py) one after the other, so a shared or busy machine disturbs all three alike.
# Appends every JSON line to $OUT and prints, per config, the median over rounds of each
# framework's median step time and the ratios Keras_ms / Ember_ms and PyTorch_ms / Ember_ms,
# with the CPU model, its ISA flags and the thread count (bench/compare_frameworks.py).
# A framework whose Python cannot import it is reported and skipped; so is a run that fails.
# Usage: bash scripts/cpu_bench_all.sh [THREADS=1] [CONFIG_NAME...]  (default: configs/seed*.yaml)
# Env: STEPS (10), WARMUP (3), ROUNDS (2), PYTHON (/tmp/torchvenv/bin/python, see
# bench/pytorch/README.md), TF_PYTHON (/tmp/tfvenv/bin/python, see bench/keras/README.md),
# BUILD_DIR (build-bench; configured CPU-only if it has no cache), JOBS (build -j, nproc),
# OUT (bench/results/cpu_vs_frameworks.jsonl). scripts/cpu_bench.sh is the Ember-vs-PyTorch
# pair for one config.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-1}
shift || true
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-2}
PY=${PYTHON:-/tmp/torchvenv/bin/python}
TF_PY=${TF_PYTHON:-/tmp/tfvenv/bin/python}
BUILD_DIR=${BUILD_DIR:-build-bench}
JOBS=${JOBS:-$(nproc)}
OUT=${OUT:-bench/results/cpu_vs_frameworks.jsonl}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in configs/seed*.yaml; do names+=("$(basename "$f" .yaml)"); done
fi
for n in "${names[@]}"; do
  [ -f "configs/$n.yaml" ] || { echo "cpu_bench_all: no configs/$n.yaml" >&2; exit 2; }
done

# Which frameworks can run: a missing venv or package skips that framework, it does not stop
# the others.
have_keras=1 have_torch=1
if ! "$TF_PY" -c 'import tensorflow, tf_keras' >/dev/null 2>&1; then
  have_keras=0
  echo "cpu_bench_all: skipping Keras: '$TF_PY' cannot import tensorflow and tf_keras" \
    "(install: bench/keras/README.md; or set TF_PYTHON)" >&2
fi
if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
  have_torch=0
  echo "cpu_bench_all: skipping PyTorch: '$PY' cannot import torch" \
    "(install: bench/pytorch/README.md; or set PYTHON)" >&2
fi

bash scripts/build_bench.sh "$BUILD_DIR" "$JOBS"

# Every library gets the same thread budget (BLAS for Ember, intra-op for PyTorch, intra- and
# inter-op for TensorFlow, which the Keras script sets from --threads).
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run_lines=$tmp/run.jsonl
: >"$run_lines"

# run LABEL CMD...: runs one benchmark; its JSON line goes to $OUT and to this run's lines, its
# stderr (TensorFlow's start-up chatter included) is shown only when it failed.
run() {
  local label=$1 out rc=0
  shift
  out=$("$@" 2>"$tmp/stderr") || rc=$?
  out=$(printf '%s\n' "$out" | grep '^{' || true)
  if [ -n "$out" ]; then
    printf '%s\n' "$out" | tee -a "$OUT" >>"$run_lines"
  fi
  if [ "$rc" -ne 0 ]; then
    echo "cpu_bench_all: $label failed (exit $rc); its last stderr lines:" >&2
    tail -n 5 "$tmp/stderr" | sed 's/^/  /' >&2
  fi
}

for n in "${names[@]}"; do
  for r in $(seq 1 "$ROUNDS"); do
    echo "cpu_bench_all: $n round $r/$ROUNDS, $THREADS thread(s)" >&2
    run "ember $n" "$BUILD_DIR/bench/bench_seed_step" --config "configs/$n.yaml" --device cpu \
      --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS"
    if [ "$have_keras" = 1 ]; then
      run "keras $n" "$TF_PY" bench/keras/seed_models.py --model "$n" --device cpu \
        --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS"
    fi
    if [ "$have_torch" = 1 ]; then
      run "pytorch $n" "$PY" bench/pytorch/seed_models.py --model "$n" --device cpu \
        --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS"
    fi
  done
done

echo "cpu_bench_all: $(wc -l <"$run_lines") lines appended to $OUT" >&2
# THREADS 0 leaves each library its default pool, which each reports differently: no filter.
filter=()
[ "$THREADS" -gt 0 ] && filter=(--threads "$THREADS")
python3 bench/compare_frameworks.py "$run_lines" "${filter[@]}"
