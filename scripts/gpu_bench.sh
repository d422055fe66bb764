#!/usr/bin/env bash
# Ember vs PyTorch on the GPU machine in two device calls of at most 7 minutes each. Here
# first: bash scripts/gpu_pack.sh; then the device tool's run with carry [".gpupack"],
# timeout_s 420 and the command
#   bash scripts/gpu_bench.sh 1   the kernel benchmark (gpu_kernels --quick: roofs, embedding,
#                                 dropout, LSTM gates and whole layers per implementation at
#                                 every seed shape, each validated first) and the training-step
#                                 times of the three T = 370 seed configs, seed001_model_b/c/d
#   bash scripts/gpu_bench.sh 2   the step times of the other seed configs (seed001_model_a,
#                                 seed000, seed002, seed003, seed004)
# A step time is Ember's bench_seed_step once per LSTM implementation in $IMPLS, then PyTorch's
# bench/pytorch/seed_models.py (cuDNN) as it comes (TF32 allowed) and with --fp32 (Ember's
# math); both run with CUBLAS_WORKSPACE_CONFIG=:4096:8 (scripts/gpu_env.sh). The binaries and
# the library set-up are gpu_check.sh's (probe, carried binaries, rebuild if they cannot load).
# Back in $OUT, 8 files at most: summary.txt, summary.md (the step table, ratio PyTorch_ms /
# Ember_ms > 1: Ember faster), steps.jsonl, steps.svg, for call 1 also gpu_kernels.jsonl,
# kernels.md and kernels.svg (bench/plot_results.py), and logs.tar.gz. Exit status 0 only when
# every stage passed. Knobs: STEPS (20), WARMUP (5), IMPLS ("auto cudnn persistent"),
# GPU_BENCH_TOTAL_SECONDS (400, the whole run), GPU_KERNELS_SECONDS (150).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
case ${1:-} in
  1) configs=(seed001_model_b seed001_model_c seed001_model_d) kernels=1 ;;
  2) configs=(seed001_model_a seed000_sentiment140_lstm seed002_twitter_bilstm seed003_igbo_bilstm
              seed004_imdb_lstm) kernels=0 ;;
  *) echo "usage: bash scripts/gpu_bench.sh 1|2" >&2; exit 2 ;;
esac
call=$1
source scripts/gpu_env.sh
source scripts/gpu_report.sh
gpu_init "${OUT:-$PWD/gpu_bench_out}" "${GPU_BENCH_TOTAL_SECONDS:-400}"
export STEPS=${STEPS:-20} WARMUP=${WARMUP:-5} IMPLS=${IMPLS:-auto cudnn persistent}
commit=$(gpu_manifest commit_short)
export commit
touch "$GPU_WORK/steps.jsonl"

bench_kernels() {
  LD_LIBRARY_PATH=$GPU_LD "$GPU_KERNELS_BIN" --quick --out "$GPU_WORK/gpu_kernels.jsonl" \
    --commit "${commit:-unknown}"
}
# bench_steps NAME: every implementation's step, then PyTorch's two. cuDNN's refusal of
# recurrent_dropout (a rule of the layer, checked before anything runs) is a skip; any other
# non-zero exit a failure.
bench_steps() {
  local rc=0 impl mode arg out
  for impl in $IMPLS; do
    arg=()
    [ "$impl" = auto ] || arg=(--lstm-impl "$impl")
    out=$(EMBER_COMMIT=${commit:-unknown} LD_LIBRARY_PATH=$GPU_LD timeout 90 "$GPU_STEP_BIN" \
      --config "configs/$1.yaml" --device cuda --steps "$STEPS" --warmup "$WARMUP" "${arg[@]}" \
      2>"$GPU_WORK/step.err")
    local r=$?
    cat "$GPU_WORK/step.err"
    echo "$out" >>"$GPU_WORK/steps.jsonl"
    if [ $r -ne 0 ] && [ "$impl" = cudnn ] && grep -q "cannot honour recurrent_dropout" "$GPU_WORK/step.err"; then
      echo "ember $1 $impl: skipped (cuDNN has no recurrent dropout)"
    elif [ $r -ne 0 ]; then
      echo "ember $1 $impl: FAILED rc=$r"
      rc=1
    else
      echo "ember $1 $impl: ok"
    fi
  done
  for mode in default fp32; do
    arg=()
    [ "$mode" = fp32 ] && arg=(--fp32)
    LD_LIBRARY_PATH=$GPU_LD_ORIG timeout 150 "$GPU_TOOL_PYTHON" bench/pytorch/seed_models.py \
      --model "$1" --device cuda --steps "$STEPS" --warmup "$WARMUP" "${arg[@]}" \
      >>"$GPU_WORK/steps.jsonl"
    local r=$?
    [ $r -eq 0 ] && echo "pytorch $1 $mode: ok" || { echo "pytorch $1 $mode: FAILED rc=$r"; rc=1; }
  done
  return $rc
}
export -f bench_kernels bench_steps

if gpu_prepare; then
  [ $kernels = 1 ] && gpu_stage kernels "${GPU_KERNELS_SECONDS:-150}" bench_kernels
  for name in "${configs[@]}"; do gpu_stage "steps_$name" 130 bench_steps "$name"; done
else
  gpu_note kernels "not run: no binaries that load"
  for name in "${configs[@]}"; do gpu_note "steps_$name" "not run: no binaries that load"; done
fi

# ---- what comes back --------------------------------------------------------------------------
plot=(--steps "$GPU_WORK/steps.jsonl" --out-dir "$GPU_OUT" --markdown "$GPU_OUT/summary.md")
if [ -s "$GPU_WORK/gpu_kernels.jsonl" ]; then
  cp "$GPU_WORK/gpu_kernels.jsonl" "$GPU_OUT/"
  plot+=(--kernels "$GPU_WORK/gpu_kernels.jsonl" --kernels-markdown "$GPU_OUT/kernels.md")
fi
cp "$GPU_WORK/steps.jsonl" "$GPU_OUT/"
"${GPU_TOOL_PYTHON:-python3}" bench/plot_results.py "${plot[@]}" >"$GPU_LOGS/plot.log" 2>&1 ||
  gpu_note plot "failed (plot.log)"
[ $kernels = 1 ] || rm -f "$GPU_OUT/kernels.svg"  # an empty chart
{
  echo "ember gpu_bench call $call, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - GPU_T0)) s"
  echo "device: ${GPU_DEVICE:-unknown}"
  echo "commit: ${commit:-unknown} (dirty: $(gpu_manifest dirty | cut -d' ' -f1)); binaries: ${GPU_PATH_TAKEN:-none}"
  echo "torch: $(LD_LIBRARY_PATH=$GPU_LD_ORIG timeout 60 "${GPU_TOOL_PYTHON:-python3}" -c 'import torch; print(torch.__version__, "cudnn", torch.backends.cudnn.version())' 2>&1 | tail -1)"
  echo "cuDNN for Ember: ${GPU_CUDNN_VERSION:-?} at ${GPU_CUDNN_LIB:-?}; cuBLAS ${GPU_CUBLAS_VERSION:-?}"
  echo "steps: $STEPS timed after $WARMUP warm-up; Ember LSTM implementations: $IMPLS"
  echo "stages:"
  gpu_stage_table
  grep -hE '^(ember|pytorch) .*: ' "$GPU_LOGS"/steps_*.log 2>/dev/null | sed 's/^/  /'
  [ -f "$GPU_OUT/summary.md" ] && { echo; cat "$GPU_OUT/summary.md"; }
} >"$GPU_OUT/summary.txt"
gpu_pack_logs
if gpu_out_limits "$GPU_OUT" >"$GPU_WORK/limits.txt"; then limits=ok; else limits=failed; fi
cat "$GPU_WORK/limits.txt" >>"$GPU_OUT/summary.txt"
cat "$GPU_OUT/summary.txt"
result=FAIL
gpu_stages_ok && [ $limits = ok ] && result=PASS
rm -rf "$GPU_WORK"
[ $result = PASS ] && { echo "gpu_bench: PASS"; exit 0; }
echo "gpu_bench: FAIL (stages or output limits above; logs in logs.tar.gz)"
exit 1
