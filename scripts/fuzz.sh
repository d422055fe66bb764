#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ (clang, ASan+UBSan, build-fuzz/) and runs each for a
# bounded time: FUZZ_SECONDS (default 60) each, 5 s per input before it counts as a hang,
# 2 GiB RSS, leak detection on. EMBER_FUZZ_BUILD_DIR names a build that already has the
# targets (configured with clang and EMBER_FUZZ=ON, as scripts/test_emu.sh's is) to use instead,
# so CI builds the sanitized library once. Seed corpora are generated here, never committed:
# small texts in every format for every target, plus gzip/xz files for fuzz_decompress, the
# repository's configs/*.yaml (and a dictionary of their keys) for fuzz_config, real bundles and
# checkpoints written by fuzz_bundle itself (FUZZ_WRITE_SEEDS) for fuzz_bundle, and tweets and
# reviews for fuzz_predict. Exits non-zero when any target finds a crash, leak, timeout or
# OOM; reproducers are left in <build>/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
build="${EMBER_FUZZ_BUILD_DIR:-build-fuzz}"
# The targets to run are fixed before building, so a source that fails to build fails the run.
targets=(fuzz/fuzz_*.cpp)

if [ -z "${EMBER_FUZZ_BUILD_DIR:-}" ]; then
  # Line tables only: reports carry file:line without the cost of full debug info.
  CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" -DEMBER_FUZZ=ON \
    -DEMBER_CUDA=OFF -DEMBER_TESTS=OFF -DEMBER_BENCH=OFF >/dev/null
elif ! grep -q '^EMBER_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "fuzz.sh: EMBER_FUZZ_BUILD_DIR=$build is not a build configured with EMBER_FUZZ=ON" >&2
  exit 2
fi
cmake --build "$build" -j"$(nproc)" --target ember_fuzz_all
build_seconds=$SECONDS

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

# Configs for fuzz_config: the repository's own (every key and layer the project uses), a
# tiny model, and one of each layer type; plus a libFuzzer dictionary of their keys.
seed_configs() {
  local d="$1"
  cp configs/*.yaml "$d/"
  printf 'sequence: {maxlen: 8}\nmodel:\n  - Embedding: {input_dim: 48, output_dim: 4}\n  - LSTM: {units: 3}\n  - Dense: {units: 1, activation: sigmoid}\n' >"$d/tiny.yaml"
  printf 'seed: 3\nsequence: {maxlen: 5, padding: post}\ntokenizer: {char_level: true, oov_token: "?"}\nmodel:\n  - Embedding: {input_dim: 9, output_dim: 2, mask_zero: true}\n  - SpatialDropout1D: {rate: 0.2}\n  - Bidirectional: {layer: {LSTM: {units: 2, return_sequences: true}}, merge_mode: sum}\n  - GlobalMaxPool1D: {}\n  - Dropout: {rate: 0.5}\n  - Dense: {units: 3}\n  - Activation: {activation: softmax}\ntrain: {loss: sparse_categorical_crossentropy, optimizer: {name: sgd, momentum: 0.5, nesterov: true}, callbacks: [{EarlyStopping: {patience: 2}}]}\n' >"$d/layers.yaml"
}
config_dict() {
  grep -ohE '[A-Za-z_][A-Za-z0-9_]*:' configs/*.yaml | sort -u | sed 's/.*/"&"/'
  printf '"%s"\n' '{' '}' '[' ']' '- ' ': ' 'null' 'true' 'false' '1e9' '-1' '0' '.5' '&a' '*a' '!!str' '<<: ' '|' '>'
}

# Texts for fuzz_predict: tweets, reviews, markup, URLs, mentions, emoji, long and empty lines.
seed_predict() {
  local d="$1"
  printf 'the movie was not good\nnever dull\n\nGOOD good GoOd\n' >"$d/reviews"
  printf '<p>Loved it!</p> http://x.co/y @someone #fun &amp; more\n' >"$d/markup"
  printf 'caf\xc3\xa9 na\xc3\xafve \xf0\x9f\x98\x80 \xe2\x80\xa8 sep \xe2\x80\xa9\n\xff\xfe bad \xc3\n' >"$d/unicode"
  head -c 3000 /dev/zero | tr '\0' 'a' >"$d/long_word"
  printf 'good %.0s' $(seq 1 200) >"$d/long_text"
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
  extra=()
  case "$name" in
    fuzz_decompress) seed_compressed "$corpus" ;;
    fuzz_config)
      seed_configs "$corpus"
      config_dict >"$build/fuzz_config.dict"
      extra+=(-dict="$build/fuzz_config.dict") ;;
    fuzz_bundle) FUZZ_WRITE_SEEDS="$corpus" "$build/fuzz/$name" ;;
    fuzz_predict) seed_predict "$corpus" ;;
  esac
  mkdir -p "$artifacts"
  log="$build/$name.log"
  echo "fuzz: running $name for ${seconds}s (log: $log)"
  rc=0
  "$build/fuzz/$name" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -detect_leaks=1 -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    ${extra[@]+"${extra[@]}"} >"$log" 2>&1 || rc=$?
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
echo "fuzz: build ${build_seconds}s, runs $((SECONDS - build_seconds))s"
exit "$status"
