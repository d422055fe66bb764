#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ (clang, ASan+UBSan, build-fuzz/) and runs each for a
# bounded time: FUZZ_SECONDS (default 60) each, 5 s per input before it counts as a hang,
# 2 GiB RSS, leak detection on. Seed corpora are generated here (small texts in every format,
# plus gzip/xz files for fuzz_decompress), never committed. Exits non-zero when any target
# finds a crash, leak, timeout or OOM; reproducers are left in build-fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
build=build-fuzz
# The targets to run are fixed before building, so a source that fails to build fails the run.
targets=(fuzz/fuzz_*.cpp)

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_FUZZ=ON \
  -DEMBER_CUDA=OFF -DEMBER_TESTS=OFF -DEMBER_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target ember_fuzz_all

# Text seeds shared by every target: CSV quoting, TSV, lines, CRLF, BOM, latin-1, bad rows.
seed_text() {
  local d="$1"
  mkdir -p "$d"
  printf 'a,b,c\n1,"x, y","he said ""hi"""\n2,"multi\nline","tab\there"\n3,,""\n' >"$d/csv"
  printf 'id,text\r\n1,plain\r\n\r\n2,"crlf\r\ninside"\r\n3,"a"b\r\n' >"$d/crlf"
  printf '\xef\xbb\xbfname,val\nx,1\n4,5,6\ny\n"open\n' >"$d/bom_bad"
  printf 'ID\ttweet\tlabel\nig_1\t"quoted" text\tpositive\nig_2\t\tneutral\n' >"$d/tsv"
  printf 'one tweet\n\nthird \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\nlast' >"$d/lines"
  printf 'caf\xe9,na\xefve\n\xff\xfe,\xc3\x28\n' >"$d/latin1"
  printf 'Hello, <br />World! Don'"'"'t STOP... #tag @user http://t.co/x 123\n' >"$d/tweet"
}

# Compressed seeds for fuzz_decompress (needs gzip and xz; skipped without them).
seed_compressed() {
  local d="$1" t
  t="$(mktemp)"
  printf 'a,b\n1,"x, y"\n2,"z"\n' >"$t"
  if command -v gzip >/dev/null; then
    gzip -c "$t" >"$d/one.gz"
    { gzip -c "$t"; gzip -1 -c "$t"; printf '\0\0\0\0'; } >"$d/multi.gz"
  fi
  if command -v xz >/dev/null; then
    xz -c "$t" >"$d/one.xz"
    { xz -c "$t"; xz -0 --check=crc32 -c "$t"; } >"$d/two.xz"
    xz -c --check=sha256 "$t" | head -c 40 >"$d/truncated.xz"
  fi
  rm -f "$t"
}

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
summary=()
for src in "${targets[@]}"; do
  name="$(basename "$src" .cpp)"
  corpus="$build/corpus/$name"
  artifacts="$build/artifacts/$name"
  seed_text "$corpus"
  [ "$name" = fuzz_decompress ] && seed_compressed "$corpus"
  mkdir -p "$artifacts"
  log="$build/$name.log"
  echo "fuzz: running $name for ${seconds}s (log: $log)"
  rc=0
  "$build/fuzz/$name" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -detect_leaks=1 -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    >"$log" 2>&1 || rc=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  rate="$(grep -o 'exec/s: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
  if [ "$rc" -ne 0 ]; then
    status=1
    summary+=("$name: FAILED (exit $rc), see $log and $artifacts/")
    tail -n 40 "$log"
  else
    summary+=("$name: ok, ${runs:-?} runs, ${rate:-?} exec/s over ${seconds}s")
  fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit "$status"
