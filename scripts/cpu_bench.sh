#!/usr/bin/env bash
# Ember vs PyTorch training-step time on the CPU, same model, shapes and thread count: seed 001
# Model B by default (batch 64, maxlen 370, Embedding(6000,128), SpatialDropout1D, LSTM(100),
# Adam, binary cross-entropy). Runs the two benchmarks alternately ROUNDS times, so a shared or
# busy machine disturbs both alike, appends every JSON line to $OUT, and prints each round's
# ratio PyTorch_ms / Ember_ms and the ratio of the best round medians.
# Usage: bash scripts/cpu_bench.sh [THREADS=1] [CONFIG_NAME=seed001_model_b]
# Env: STEPS (10), WARMUP (3), ROUNDS (2), PYTHON (/tmp/torchvenv/bin/python, see
# bench/pytorch/README.md), BUILD_DIR (build-bench; configured CPU-only if it has no cache),
# OUT (bench/results/cpu_vs_pytorch.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-1}
NAME=${2:-seed001_model_b}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-2}
PY=${PYTHON:-/tmp/torchvenv/bin/python}
BUILD_DIR=${BUILD_DIR:-build-bench}
OUT=${OUT:-bench/results/cpu_vs_pytorch.jsonl}
"$PY" -c 'import torch' 2>/dev/null || { echo "cpu_bench: $PY cannot import torch (bench/pytorch/README.md)"; exit 2; }

bash scripts/build_bench.sh "$BUILD_DIR" "$(nproc)"

# Both libraries get the same thread budget (BLAS for Ember, intra-op for PyTorch).
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
mkdir -p "$(dirname "$OUT")"
ember=() torch=()
for _ in $(seq 1 "$ROUNDS"); do
  e=$("$BUILD_DIR/bench/bench_seed_step" --config "configs/$NAME.yaml" --device cpu \
        --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS")
  t=$("$PY" bench/pytorch/seed_models.py --model "$NAME" --device cpu --steps "$STEPS" \
        --warmup "$WARMUP" --threads "$THREADS")
  printf '%s\n%s\n' "$e" "$t" >>"$OUT"
  ember+=("$e") torch+=("$t")
done
"$PY" - "$NAME" "$THREADS" "${ember[@]}" "${torch[@]}" <<'EOF'
import json, sys
name, threads, lines = sys.argv[1], sys.argv[2], [json.loads(s) for s in sys.argv[3:]]
n = len(lines) // 2
em, to = lines[:n], lines[n:]
for i, (e, t) in enumerate(zip(em, to), 1):
    print(f"round {i}: ember {e['step_ms_median']:.1f} ms, pytorch {t['step_ms_median']:.1f} ms, "
          f"PyTorch/Ember {t['step_ms_median'] / e['step_ms_median']:.2f} (loadavg {e.get('loadavg')})")
be = min(e["step_ms_median"] for e in em)
bt = min(t["step_ms_median"] for t in to)
print(f"{name}, {threads} thread(s), torch {to[0]['torch_version']}: best medians ember {be:.1f} ms, "
      f"pytorch {bt:.1f} ms, ratio PyTorch/Ember = {bt / be:.2f}")
EOF
