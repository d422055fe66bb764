#!/usr/bin/env bash
# The whole GPU check in one device call (run THERE, from the repository root, with .devdeps
# carried; see scripts/gpu_fetch_deps.sh). Builds Ember for sm_90 against the carried Debian
# libraries and the cuDNN/cuBLAS of the machine's PyTorch wheels, then runs: the GPU test binary
# (every kernel against the CPU reference, fused LSTM vs cuDNN, GPU-vs-CPU training parity),
# the CPU suite, and compute-sanitizer memcheck and racecheck over the GPU tests. Writes logs
# and a summary (device, commit, pass/fail counts) under $OUT (default ./gpu_out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
root=$PWD/.devdeps/root
[ -d "$root" ] || { echo "gpu_check: .devdeps missing: run scripts/gpu_fetch_deps.sh here and carry .devdeps"; exit 2; }

py=$(command -v python3)
wheel_dir() { "$py" -c "import importlib, os; m = importlib.import_module('$1'); print(os.path.dirname(m.__file__ if m.__file__ else list(m.__path__)[0]))" 2>/dev/null; }
cudnn=$(wheel_dir nvidia.cudnn)
cublas=$(wheel_dir nvidia.cublas)
multiarch=$root/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH="$multiarch:$multiarch/openblas-pthread:${cudnn:+$cudnn/lib:}${cublas:+$cublas/lib:}${LD_LIBRARY_PATH:-}"
export OPENBLAS_CORETYPE=Haswell

{
  echo "device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | head -1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "nvcc: $(nvcc --version | tail -1)"
  echo "cudnn wheel: ${cudnn:-none}"
} | tee "$OUT/summary.txt"

cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA=ON -DEMBER_WERROR=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH="$root/usr" -DCUDNN_ROOT="$cudnn" \
  -DCBLAS_INCLUDE_DIR="$root/usr/include/x86_64-linux-gnu/openblas-pthread" \
  >"$OUT/build.log" 2>&1 && cmake --build build-gpu -j"$(nproc)" >>"$OUT/build.log" 2>&1
build_rc=$?
echo "build: rc=$build_rc" | tee -a "$OUT/summary.txt"
[ $build_rc -eq 0 ] || { tail -40 "$OUT/build.log"; exit 1; }

run() {  # name, command...
  local name=$1; shift
  "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "$name: rc=$rc $(grep -E '^(All tests passed|test cases:)' "$OUT/$name.log" | tail -1)" | tee -a "$OUT/summary.txt"
}
run gpu_tests build-gpu/tests/ember_gpu_tests
run cpu_tests build-gpu/tests/ember_tests
if command -v compute-sanitizer >/dev/null; then
  run memcheck compute-sanitizer --tool memcheck --error-exitcode 9 build-gpu/tests/ember_gpu_tests
  run racecheck compute-sanitizer --tool racecheck --error-exitcode 9 build-gpu/tests/ember_gpu_tests
else
  echo "compute-sanitizer: not found" | tee -a "$OUT/summary.txt"
fi
# Worst errors per op, as the parity tests print them ("parity <op>: max_abs=... max_rel=...").
grep -h '^parity ' "$OUT/gpu_tests.log" | sort -u >"$OUT/parity.txt" || true
cat "$OUT/parity.txt"
