#!/usr/bin/env bash
# Ember vs PyTorch on the GPU machine, in one device call (run THERE, from the repository root,
# with .devdeps carried; see scripts/gpu_fetch_deps.sh). Builds the two benchmark binaries in
# build-gpu with scripts/gpu_check.sh's settings (so a tree gpu_check.sh built is reused), then:
#   1. build-gpu/bench/gpu_kernels: roofs (memcpy, SGEMM), kernels and LSTM layers per
#      implementation, each validated against the CPU reference;
#   2. for every configs/seed*.yaml: Ember's training step (bench_seed_step, once per LSTM
#      implementation in $IMPLS) and PyTorch's (bench/pytorch/seed_models.py, cuDNN), the
#      latter with PyTorch's defaults (TF32 allowed in cuDNN) and with --fp32 (Ember's math);
#   3. bench/plot_results.py: kernels.svg, steps.svg and summary.md (ratio PyTorch_ms / Ember_ms).
# Everything lands under $OUT (default ./gpu_bench_out). The tree there has no .git: pass the
# commit as EMBER_COMMIT=<hash>. Knobs: STEPS (20), WARMUP (5), IMPLS ("auto cudnn persistent"),
# SKIP_KERNELS=1, QUICK=1 (fewer kernel repetitions), PYTHON (python3).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-$PWD/gpu_bench_out}
mkdir -p "$OUT"
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-5}
IMPLS=${IMPLS:-auto cudnn persistent}
PY=${PYTHON:-python3}
export EMBER_COMMIT=${EMBER_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
root=$PWD/.devdeps/root
[ -d "$root" ] || { echo "gpu_bench: .devdeps missing: run scripts/gpu_fetch_deps.sh here and carry .devdeps"; exit 2; }

# PyTorch runs with the environment it came with; Ember's binaries get the carried Debian
# libraries and the cuDNN/cuBLAS of PyTorch's wheels (as in gpu_check.sh).
torch_env=(env LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}")
wheel_dir() { "$PY" -c "import importlib, os; m = importlib.import_module('$1'); print(os.path.dirname(m.__file__ if m.__file__ else list(m.__path__)[0]))" 2>/dev/null; }
cudnn=$(wheel_dir nvidia.cudnn)
cublas=$(wheel_dir nvidia.cublas)
multiarch=$root/usr/lib/x86_64-linux-gnu
ember_ld="$multiarch:$multiarch/openblas-pthread:${cudnn:+$cudnn/lib:}${cublas:+$cublas/lib:}${LD_LIBRARY_PATH:-}"

{
  echo "device: $(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader 2>&1 | head -1)"
  echo "commit: $EMBER_COMMIT"
  echo "torch: $("${torch_env[@]}" "$PY" -c 'import torch; print(torch.__version__, "cudnn", torch.backends.cudnn.version())' 2>&1 | tail -1)"
  echo "steps: $STEPS timed after $WARMUP warm-up; Ember LSTM implementations: $IMPLS"
} | tee "$OUT/summary.txt"

start=$(date +%s)
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA=ON -DEMBER_WERROR=ON -DEMBER_BENCH=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH="$root/usr" -DCUDNN_ROOT="$cudnn" \
  -DCBLAS_INCLUDE_DIR="$root/usr/include/x86_64-linux-gnu/openblas-pthread" \
  >"$OUT/build.log" 2>&1 &&
  cmake --build build-gpu -j"$(nproc)" --target gpu_kernels bench_seed_step >>"$OUT/build.log" 2>&1
build_rc=$?
echo "build: rc=$build_rc ($(( $(date +%s) - start )) s)" | tee -a "$OUT/summary.txt"
[ $build_rc -eq 0 ] || { tail -40 "$OUT/build.log"; exit 1; }

summarize() {
  "$PY" bench/plot_results.py --kernels "$OUT/gpu_kernels.jsonl" --steps "$OUT/steps.jsonl" \
    --out-dir "$OUT" --markdown "$OUT/summary.md" --kernels-markdown "$OUT/kernels.md" \
    >/dev/null 2>>"$OUT/plot.log" || true
}
touch "$OUT/gpu_kernels.jsonl" "$OUT/steps.jsonl"

# Kernels first (bounded, so the step table below always gets its time); a call that runs
# out of time still brings back whatever is under $OUT.
if [ "${SKIP_KERNELS:-0}" != 1 ]; then
  quick=(); [ "${QUICK:-0}" = 1 ] && quick=(--quick)
  LD_LIBRARY_PATH="$ember_ld" timeout 300 build-gpu/bench/gpu_kernels --out "$OUT/gpu_kernels.jsonl" \
    --commit "$EMBER_COMMIT" "${quick[@]}" >"$OUT/gpu_kernels.txt" 2>&1
  echo "gpu_kernels: rc=$? ($(( $(date +%s) - start )) s)" | tee -a "$OUT/summary.txt"
  tail -n 80 "$OUT/gpu_kernels.txt"
fi
# Then every seed config: Ember's step per LSTM implementation, and PyTorch's.
for cfg in configs/seed*.yaml; do
  name=$(basename "$cfg" .yaml)
  for impl in $IMPLS; do
    arg=(); [ "$impl" = auto ] || arg=(--lstm-impl "$impl")
    LD_LIBRARY_PATH="$ember_ld" timeout 180 build-gpu/bench/bench_seed_step --config "$cfg" \
      --device cuda --steps "$STEPS" --warmup "$WARMUP" "${arg[@]}" \
      >>"$OUT/steps.jsonl" 2>>"$OUT/steps.log"
    echo "ember $name $impl: rc=$?" >>"$OUT/steps.log"
  done
  # PyTorch as it comes (cuDNN may use TF32 tensor cores), then with Ember's FP32 math.
  for mode in default fp32; do
    arg=(); [ "$mode" = fp32 ] && arg=(--fp32)
    "${torch_env[@]}" timeout 240 "$PY" bench/pytorch/seed_models.py --model "$name" --device cuda \
      --steps "$STEPS" --warmup "$WARMUP" "${arg[@]}" >>"$OUT/steps.jsonl" 2>>"$OUT/steps.log"
    echo "pytorch $name $mode: rc=$?" >>"$OUT/steps.log"
  done
  summarize
done
echo "steps: done ($(( $(date +%s) - start )) s)" | tee -a "$OUT/summary.txt"
grep -E '^(ember|pytorch) ' "$OUT/steps.log" | tee -a "$OUT/summary.txt"

summarize
echo
cat "$OUT/summary.md"
