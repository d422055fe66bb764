#!/usr/bin/env bash
# The GPU check in ONE device call, inside 7 minutes on an H200. Here, first:
#   bash scripts/gpu_pack.sh            (builds for sm_90 and packs into .gpupack/)
# then the device tool's run with carry [".gpupack"], timeout_s 420, command
#   bash scripts/gpu_check.sh
# Stages, each with its own time limit and log, none stopping the later ones:
#   probe      GPU, driver, nvcc, compute-sanitizer, cmake/ninja, python; cuDNN and cuBLAS in
#              PyTorch's wheels (scripts/gpu_find_libs.py), versions
#   binaries   unpack .gpupack, check it was built from this tree, check its binaries load
#   rebuild    only if they do not: build the GPU targets there (scripts/gpu_env.sh)
#   gpu_tests  ember_gpu_tests, every case (the CPU suite is CI's)
#   memcheck   compute-sanitizer memcheck on the small [sanitize] cases (no out-of-memory test,
#   racecheck  API errors not reported), then racecheck on the same
#   bench      gpu_kernels --quick at seed001_model_b's shapes
# Back in $OUT: summary.txt (device, driver, commit, path taken, per-stage status and seconds,
# test counts, sanitizer verdicts, worst parity error per op), logs.tar.gz (every log) and
# gpu_kernels.jsonl. Exit status 0 only when every stage passed.
#
# `bash scripts/gpu_check.sh --simulate` runs the same here, without a GPU
# (scripts/gpu_simulate.sh): packing, loading with Debian's libraries hidden, the library path,
# the rebuild's configure step, up to the GPU tests' "no device" exit (77). CI runs it.
# Knobs: GPU_CHECK_SECONDS (400: the whole run, a margin under the call's 420),
# GPU_TESTS_SECONDS (150), GPU_SANITIZE_SECONDS (90, racecheck 2/3 of it), GPU_BENCH_SECONDS (60).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

mode=device
case ${1:-} in
  "") ;;
  --simulate) shift; exec bash scripts/gpu_simulate.sh "$@" ;;
  --simulate-inside) mode=simulate ;;  # scripts/gpu_simulate.sh, inside its mount namespace
  *) echo "usage: bash scripts/gpu_check.sh [--simulate]" >&2; exit 2 ;;
esac
source scripts/gpu_env.sh
source scripts/gpu_report.sh
export GPU_MODE=$mode
gpu_init "${OUT:-$PWD/gpu_out}" "${GPU_CHECK_SECONDS:-400}"
# The simulated run's earlier stages (pack, hiding the system's libraries) come first.
if [ "$mode" = simulate ]; then
  cat "${GPU_SIM_DIR:?}/stages.txt" >>"$GPU_STAGES"
  cp "$GPU_SIM_DIR"/*.log "$GPU_LOGS/"
fi
export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 EMBER_NUM_THREADS=1 EMBER_CPU_ISA=generic  # as CTest runs the suites
commit=$(gpu_manifest commit_short)

# Stage functions (run by gpu_stage in a child bash: exported, they see $GPU_STATE's values).
gpu_run_tests() {
  LD_LIBRARY_PATH=$GPU_LD "$GPU_TESTS_BIN" --list-test-names-only >"$GPU_LOGS/test_names.txt" 2>&1
  # 77: no device (the binary's main); otherwise Catch2's listing returns the count.
  [ $? -eq 77 ] && rm -f "$GPU_LOGS/test_names.txt"
  LD_LIBRARY_PATH=$GPU_LD "$GPU_TESTS_BIN" --durations yes
}
gpu_sanitize() {  # memcheck | racecheck, on the [sanitize] cases only
  [ -n "$GPU_TOOL_SANITIZER" ] || { echo "compute-sanitizer not found"; return 3; }
  LD_LIBRARY_PATH=$GPU_LD "$GPU_TOOL_SANITIZER" --tool "$1" --report-api-errors no \
    --error-exitcode 9 --print-limit 100 "$GPU_TESTS_BIN" "[sanitize]" --durations yes
}
gpu_quick_bench() {  # the CPU references may use every core here
  env -u OPENBLAS_NUM_THREADS LD_LIBRARY_PATH="$GPU_LD" "$GPU_KERNELS_BIN" --quick \
    --filter seed001_model_a/b,seed001_model_b --out "$GPU_WORK/gpu_kernels.jsonl" \
    --commit "${commit:-unknown}"
}
export -f gpu_run_tests gpu_sanitize gpu_quick_bench
export commit

tests_rc=
gpu_prepare
ready=$?
# The rebuild's configure step against the pack alone: what the device falls back to
# (GPU_SIM_REBUILD=1: the whole rebuild, a test by hand: minutes of nvcc; raise
# GPU_REBUILD_SECONDS and GPU_CHECK_SECONDS with it).
if [ "$mode" = simulate ] && [ -d "$GPU_WORK/pack/dev" ]; then
  if [ "${GPU_SIM_REBUILD:-0}" = 1 ]; then
    gpu_stage rebuild "${GPU_REBUILD_SECONDS:-240}" gpu_rebuild
  else
    gpu_stage rebuild_configure 120 gpu_rebuild --configure-only
  fi
fi
if [ $ready -eq 0 ]; then
  gpu_stage gpu_tests "${GPU_TESTS_SECONDS:-150}" gpu_run_tests
  tests_rc=$?
  if [ "$mode" = simulate ]; then
    # The first point that needs a GPU: the binary must get there and say so.
    if [ "$tests_rc" = 77 ] && grep -q "no CUDA device" "$GPU_LOGS/gpu_tests.log"; then
      sed -i '$ s/\tfailed (rc=77)\t/\texpected: no device (rc=77)\t/' "$GPU_STAGES"
    fi
    for s in memcheck racecheck bench; do gpu_note "$s" "not reached: needs a GPU"; done
  else
    sane=${GPU_SANITIZE_SECONDS:-90}
    gpu_stage memcheck "$sane" gpu_sanitize memcheck
    gpu_stage racecheck $((sane * 2 / 3)) gpu_sanitize racecheck
    gpu_stage bench "${GPU_BENCH_SECONDS:-60}" gpu_quick_bench
    [ -s "$GPU_WORK/gpu_kernels.jsonl" ] && cp "$GPU_WORK/gpu_kernels.jsonl" "$GPU_OUT/"
  fi
else
  for s in gpu_tests memcheck racecheck bench; do gpu_note "$s" "not run: no binaries that load"; done
fi

# ---- summary ----------------------------------------------------------------------------------
summary() {
  local counts passed failed not_run listed
  echo "ember gpu_check ($mode), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - GPU_T0)) s"
  echo "device (name, driver, memory, compute capability): ${GPU_DEVICE:-unknown}"
  echo "commit: ${commit:-unknown} (dirty: $(gpu_manifest dirty | cut -d' ' -f1)), packed $(gpu_manifest packed_at) on $(gpu_manifest packed_on)"
  echo "binaries: ${GPU_PATH_TAKEN:-none${GPU_NEED_REBUILD:+ (rebuild needed: $GPU_NEED_REBUILD)}}"
  echo "built with: $(gpu_manifest nvcc); cuDNN headers $(gpu_manifest cudnn_headers); needs glibc $(gpu_manifest needs_glibc), GLIBCXX $(gpu_manifest needs_glibcxx)"
  echo "cuDNN: ${GPU_CUDNN_VERSION:-version unknown} at ${GPU_CUDNN_LIB:-not found}"
  echo "cuBLAS: ${GPU_CUBLAS_VERSION:-version unknown} at ${GPU_CUBLAS_LIB:-not found}"
  echo "tools: nvcc ${GPU_TOOL_NVCC:-none}; compute-sanitizer ${GPU_TOOL_SANITIZER:-none}; ninja ${GPU_TOOL_NINJA:-none}; python ${GPU_TOOL_PYTHON:-none}"
  echo "stages:"
  gpu_stage_table
  if [ -f "$GPU_LOGS/gpu_tests.log" ]; then
    if [ "$tests_rc" = 77 ]; then
      echo "tests: none run: no CUDA device (ember_gpu_tests exit 77: all skipped)"
    else
      read -r passed failed not_run listed <<<"$(gpu_test_counts "$GPU_LOGS/gpu_tests.log" "$GPU_LOGS/test_names.txt")"
      echo "tests: $passed passed, $failed failed, $not_run skipped or not reached (of $listed listed)"
      gpu_failed_cases "$GPU_LOGS/gpu_tests.log" | sed 's/^/  FAILED: /'
    fi
  fi
  for s in memcheck racecheck; do
    [ -f "$GPU_LOGS/$s.log" ] && echo "$s: $(gpu_sanitizer_verdict "$GPU_LOGS/$s.log" || true)"
  done
  if [ -s "$GPU_WORK/gpu_kernels.jsonl" ]; then
    echo "bench: $(grep -c . "$GPU_WORK/gpu_kernels.jsonl") lines; status counts: $(grep -o '"status":"[^"]*"' "$GPU_WORK/gpu_kernels.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  fi
  echo "parity, worst per op (max_rel = max |gpu - cpu| / max |cpu|):"
  gpu_parity "$GPU_LOGS/gpu_tests.log" | head -60
  echo "files: $(cd "$GPU_OUT" && ls | tr '\n' ' ')logs.tar.gz"
}
summary >"$GPU_OUT/summary.txt"
gpu_pack_logs
if gpu_out_limits "$GPU_OUT" >"$GPU_WORK/limits.txt"; then limits=ok; else limits=failed; fi
cat "$GPU_WORK/limits.txt" >>"$GPU_OUT/summary.txt"
cat "$GPU_OUT/summary.txt"
if gpu_stages_ok && [ $limits = ok ]; then
  echo "gpu_check: PASS"
  rm -rf "$GPU_WORK"
  exit 0
fi
echo "gpu_check: FAIL (stages or output limits above; logs in logs.tar.gz)"
rm -rf "$GPU_WORK"
exit 1
