# shellcheck shell=bash
# Sourced by scripts/gpu_check.sh and scripts/gpu_bench.sh after scripts/gpu_env.sh: what comes
# back from the GPU machine. The device tool returns at most 8 files from $OUT, each at most
# 16 MiB (64 MiB together), at most 2 folders deep, named in letters, digits, '.', '_' and '-':
# so every log goes into one logs.tar.gz (cut down if it would pass 15 MiB) beside the
# summary, and gpu_out_limits checks $OUT against those rules before the script ends.

# gpu_test_counts LOG LISTED_FILE: "passed failed not_run listed" from a Catch2 console log
# (run with --durations yes) and the --list-test-names-only output ("" when unknown).
gpu_test_counts() {
  local log=$1 listed=0 passed=0 failed=0 line
  [ -f "$2" ] && listed=$(grep -c . "$2")
  line=$(grep -E '^(All tests passed|test cases:)' "$log" | tail -1)
  case $line in
    "All tests passed"*) passed=$(sed -E 's/.* in ([0-9]+) test case.*/\1/' <<<"$line") ;;
    "test cases:"*)
      passed=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
      failed=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) ;;
    *)  # no summary line: the binary died; count the cases that finished
      passed=$(grep -cE '^[0-9]+\.[0-9]+ s: ' "$log")
      failed=$(gpu_failed_cases "$log" | grep -c .) ;;
  esac
  [ "${passed:-}" ] || passed=0
  [ "${failed:-}" ] || failed=0
  local not_run=$((listed - passed - failed))
  [ $not_run -ge 0 ] || not_run=0
  echo "$passed $failed $not_run $listed"
}

# gpu_failed_cases LOG: the names of the test cases with a failure, one a line. Catch2 frames a
# failing case as a dashed line, its name, its sections, a dashed line, its location, then
# "file:line: FAILED:".
gpu_failed_cases() {
  awk '/^-+$/ { if ((getline nm) > 0 && nm !~ /^-+$/ && nm !~ /:[0-9]+$/) cur = nm; next }
       /: FAILED:$/ && cur != "" && !(cur in seen) { seen[cur] = 1; print cur }' "$1"
}

# gpu_parity LOG: the worst of each "parity <op>: max_abs=A max_rel=R" line per op, worst
# first (the GPU tests print one per check: tests/support/gpu_test_util.cpp, test_gpu_train.cpp).
gpu_parity() {
  grep -hE '^parity .+: max_' "$@" 2>/dev/null | awk '
    { i = index($0, ": max_"); op = substr($0, 8, i - 8); rest = substr($0, i + 2)
      n = split(rest, kv, " ")
      for (j = 1; j <= n; ++j) { split(kv[j], p, "="); k = p[1]; v = p[2] + 0
        if (!((op, k) in worst) || v > worst[op, k]) worst[op, k] = v; keys[k] = 1 }
      ops[op] = 1 }
    END { for (op in ops) { s = ""; r = -1
            for (k in keys) if ((op, k) in worst) { s = s sprintf(" %s=%.3g", k, worst[op, k])
                                                   if (k == "max_rel") r = worst[op, k] }
            printf "%.6e\t  %-70s%s\n", r, op, s } }' | sort -gr | cut -f2
}

# gpu_sanitizer_verdict LOG: compute-sanitizer's own summary line.
gpu_sanitizer_verdict() {
  grep -hE '(ERROR|RACECHECK|LEAK) SUMMARY' "$1" 2>/dev/null | tail -1 | sed 's/^========= //'
}

# gpu_stage_table: the stages with status and seconds; "failed" rows also count as such.
gpu_stage_table() {
  awk -F'\t' '{ printf "  %-32s %-40s %5s s\n", $1, $2, $3 }' "$GPU_STAGES"
}

# gpu_stages_ok: 0 when every recorded stage is ok (or expected, in the simulated run).
gpu_stages_ok() { ! cut -f2 "$GPU_STAGES" | grep -qvE '^(ok( \(.*\))?|expected: .*|not reached: .*)$'; }

# gpu_pack_logs: $GPU_LOGS (plus the stage records) as $GPU_OUT/logs.tar.gz, under 15 MiB:
# logs above 1 MiB keep their first 256 KiB and last 768 KiB when the archive would be larger.
gpu_pack_logs() {
  local f limit=$((15 * 1024 * 1024))
  cp "$GPU_STAGES" "$GPU_LOGS/stages.txt"
  cp "$GPU_STATE" "$GPU_LOGS/state.txt"
  tar -czf "$GPU_OUT/logs.tar.gz" -C "$GPU_WORK" logs
  [ "$(stat -c %s "$GPU_OUT/logs.tar.gz")" -le $limit ] && return 0
  while IFS= read -r -d '' f; do
    { head -c 262144 "$f"; printf '\n[... cut to fit the 16 MiB file limit ...]\n'; tail -c 786432 "$f"; } >"$f.cut"
    mv "$f.cut" "$f"
  done < <(find "$GPU_LOGS" -type f -size +1M -print0)
  tar -czf "$GPU_OUT/logs.tar.gz" -C "$GPU_WORK" logs
}

# gpu_out_limits DIR: 0 when DIR obeys the device tool's rules for what comes back; else
# prints each breach.
gpu_out_limits() {
  local dir=$1 files=0 total=0 bad=0 p rel size comp comps
  while IFS= read -r -d '' p; do
    rel=${p#"$dir"/}
    IFS=/ read -ra comps <<<"$rel"
    for comp in "${comps[@]}"; do
      [[ $comp =~ ^[A-Za-z0-9._-]+$ ]] || { echo "out: bad name: $rel"; bad=1; break; }
    done
    if [ -L "$p" ]; then echo "out: a link does not come back: $rel"; bad=1
    elif [ -d "$p" ]; then :
    elif [ -f "$p" ]; then
      files=$((files + 1))
      size=$(stat -c %s "$p")
      total=$((total + size))
      [ "$size" -le $((16 * 1024 * 1024)) ] || { echo "out: over 16 MiB: $rel ($size bytes)"; bad=1; }
      [ "$(tr -cd / <<<"$rel" | wc -c)" -le 2 ] || { echo "out: more than 2 folders down: $rel"; bad=1; }
    else echo "out: not a plain file: $rel"; bad=1
    fi
  done < <(find "$dir" -mindepth 1 -print0)
  [ $files -le 8 ] || { echo "out: $files files, at most 8 come back"; bad=1; }
  [ $total -le $((64 * 1024 * 1024)) ] || { echo "out: $total bytes in all, above 64 MiB"; bad=1; }
  [ $bad -eq 0 ] && echo "out: $files files, $total bytes: within the limits"
  return $bad
}
