# shellcheck shell=bash
# Sourced by scripts/gpu_check.sh and scripts/gpu_bench.sh (on the GPU machine, or in the
# simulated run of scripts/gpu_simulate.sh): the stage runner under one deadline, the search
# for tools and for cuDNN/cuBLAS, unpacking .gpupack (scripts/gpu_pack.sh) and checking that
# its binaries load, and the rebuild on the machine when they cannot.
#
# Conventions. Everything a stage prints goes to $GPU_LOGS/<stage>.log, never to $OUT: only
# the files the caller chooses go there (at most 8 come back). A stage is a function run in a
# child bash under `timeout`, so a hung GPU call ends with its stage; what a stage learns for
# the later ones it writes with gpu_set into $GPU_STATE, which the runner reads back. Stage
# statuses: ok, failed (rc=N), timeout (N s), skipped (why). Paths are absolute.

GPU_ENV_FILE=${BASH_SOURCE[0]}
export CUBLAS_WORKSPACE_CONFIG=:4096:8  # cuBLAS (and cuDNN through it) bit-repeatable

# gpu_init OUT SECONDS: scratch folders and the deadline of the whole run.
gpu_init() {
  GPU_OUT=$1
  mkdir -p "$GPU_OUT"
  GPU_T0=$(date +%s)
  GPU_DEADLINE=$((GPU_T0 + $2))
  GPU_RESERVE=${GPU_RESERVE:-15}  # kept for the summary and the log archive
  GPU_WORK=$(mktemp -d "${TMPDIR:-/tmp}/ember-gpu.XXXXXX")
  GPU_LOGS=$GPU_WORK/logs
  GPU_STATE=$GPU_WORK/state.sh
  GPU_STAGES=$GPU_WORK/stages.txt
  GPU_ROOT=$PWD
  mkdir -p "$GPU_LOGS"
  : >"$GPU_STATE"
  : >"$GPU_STAGES"
  export GPU_OUT GPU_WORK GPU_LOGS GPU_STATE GPU_ROOT GPU_MODE=${GPU_MODE:-device}
}

# gpu_set KEY VALUE: remembered for later stages (and the summary).
gpu_set() { printf '%s=%q\n' "$1" "$2" >>"$GPU_STATE"; }

# gpu_stage NAME CAP_SECONDS FUNCTION [ARGS...]: runs FUNCTION for at most CAP seconds and no
# later than the deadline less the reserve; records "NAME<TAB>STATUS<TAB>SECONDS<TAB>RC".
gpu_stage() {
  local name=$1 cap=$2 left budget t0 rc status
  shift 2
  left=$((GPU_DEADLINE - GPU_RESERVE - $(date +%s)))
  budget=$((cap < left ? cap : left))
  if [ "$budget" -lt 5 ]; then
    printf '%s\tskipped (no time left)\t0\t125\n' "$name" >>"$GPU_STAGES"
    echo "[$name] skipped: no time left"
    return 125
  fi
  echo "[$name] started ($budget s allowed)"
  t0=$(date +%s)
  timeout -k 5 "$budget" bash -c 'set -uo pipefail; source "$0"; source "$GPU_STATE"; "$@"' \
    "$GPU_ENV_FILE" "$@" \
    >"$GPU_LOGS/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124 | 137) status="timeout ($budget s)" ;;
    *) status="failed (rc=$rc)" ;;
  esac
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(($(date +%s) - t0))" "$rc" >>"$GPU_STAGES"
  echo "[$name] $status after $(($(date +%s) - t0)) s"
  # shellcheck disable=SC1090
  source "$GPU_STATE"
  return $rc
}

# gpu_note NAME STATUS: a stage that was not run, with the reason.
gpu_note() { printf '%s\t%s\t0\t-\n' "$1" "$2" >>"$GPU_STAGES"; }

# ---- tools and libraries --------------------------------------------------------------------

# gpu_which NAME: PATH first, then where CUDA and the Python environment keep their tools.
gpu_which() {
  local d py
  command -v "$1" 2>/dev/null && return 0
  py=$(command -v python3 2>/dev/null || true)
  for d in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer $(ls -d /usr/local/cuda-*/bin \
    /usr/local/cuda-*/compute-sanitizer 2>/dev/null | sort -rV) ${py:+"$(dirname "$py")"} \
    /opt/torch/.venv/bin; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}

# gpu_find_lib SONAME SITE_DIRS: the fallbacks after the wheel search: CUDA's folders, then any
# copy under site-packages.
gpu_find_lib() {
  local d f
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -f "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  local IFS=:
  for d in $2; do
    f=$(find "$d" -name "$1" -type f -print -quit 2>/dev/null)
    [ -n "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

# Stage: what the machine has. Fails when cuDNN or cuBLAS (or NCCL, when the pack's binaries
# load it) cannot be found, or (on the device) when no GPU answers.
gpu_probe() {
  local rc=0 py kv k v tool
  echo "== machine"
  (. /etc/os-release 2>/dev/null && echo "os: $PRETTY_NAME") || echo "os: unknown"
  echo "kernel: $(uname -r) $(uname -m); cpus: $(nproc)"
  echo "glibc: $(getconf GNU_LIBC_VERSION 2>/dev/null)"
  echo "== gpu"
  if command -v nvidia-smi >/dev/null; then
    v=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1)
    [ $? -eq 0 ] || { [ "$GPU_MODE" = device ] && rc=1; }
    v=$(head -1 <<<"$v")
    echo "nvidia-smi: $v"
    gpu_set GPU_DEVICE "$v"
    nvidia-smi 2>&1 | head -20
  else
    echo "nvidia-smi: not found"
    gpu_set GPU_DEVICE "none (no nvidia-smi)"
    [ "$GPU_MODE" = device ] && rc=1
  fi
  echo "== tools"
  for k in NVCC:nvcc SANITIZER:compute-sanitizer CMAKE:cmake NINJA:ninja MAKE:make CXX:c++ \
    PYTHON:python3; do
    tool=${k#*:}
    v=$(gpu_which "$tool" || true)
    echo "$tool: ${v:-not found}${v:+ ($("$v" --version 2>&1 | grep -m1 -iE 'release|version [0-9]|[0-9]+\.[0-9]+' | head -1))}"
    gpu_set "GPU_TOOL_${k%%:*}" "$v"
  done
  echo "== cuDNN and cuBLAS (PyTorch's wheels first: scripts/gpu_find_libs.py)"
  py=$(gpu_which python3 || true)
  declare -A lib=()
  if [ -n "$py" ]; then
    kv=$("$py" "$GPU_ROOT/scripts/gpu_find_libs.py" 2>&1) || echo "gpu_find_libs.py failed: $kv"
    echo "$kv"
    while IFS='=' read -r k v; do [ -n "$k" ] && lib[$k]=$v; done <<<"$(grep -E '^[A-Z_]+=' <<<"$kv")"
  fi
  local need="CUDNN_LIB:libcudnn.so.9 CUBLAS_LIB:libcublas.so.13 CUBLASLT_LIB:libcublasLt.so.13"
  case " $(gpu_manifest wheel_libs) " in *" libnccl.so.2 "*) need+=" NCCL_LIB:libnccl.so.2" ;; esac
  for k in $need; do
    if [ -z "${lib[${k%%:*}]:-}" ]; then
      v=$(gpu_find_lib "${k#*:}" "${lib[SITE]:-}" || true)
      echo "${k%%:*}: not in a wheel; fallback search: ${v:-not found}"
      lib[${k%%:*}]=$v
      [ -n "$v" ] && lib[${k%%:*}_FROM]=fallback
    fi
    [ -n "${lib[${k%%:*}]}" ] || { echo "MISSING: ${k#*:}"; rc=1; }
  done
  for k in CUDNN_LIB CUBLAS_LIB CUBLASLT_LIB NCCL_LIB CUDNN_INCLUDE CUDNN_VERSION CUBLAS_VERSION \
    NCCL_VERSION SITE; do
    gpu_set "GPU_$k" "${lib[$k]:-}"
  done
  echo "== pack"
  if [ -f "$GPU_ROOT/.gpupack/manifest.txt" ]; then cat "$GPU_ROOT/.gpupack/manifest.txt"
  else echo "no .gpupack/manifest.txt: was .gpupack carried?"; rc=1; fi
  return $rc
}

# ---- the binaries ---------------------------------------------------------------------------

gpu_manifest() { sed -n "s/^$1: //p" "$GPU_ROOT/.gpupack/manifest.txt" 2>/dev/null | head -1; }

# gpu_lib_path [EXTRA]: the library path of Ember's binaries: the pack's libraries, then
# cuDNN's and cuBLAS's folders, then EXTRA, then what the machine had.
gpu_lib_path() {
  local p=$GPU_WORK/pack/lib f d
  for f in "$GPU_CUDNN_LIB" "$GPU_CUBLAS_LIB" "$GPU_CUBLASLT_LIB" "${GPU_NCCL_LIB:-}"; do
    [ -n "$f" ] || continue
    d=$(dirname "$f")
    case ":$p:" in *":$d:"*) ;; *) p+=":$d" ;; esac
  done
  echo "$p${1:+:$1}${GPU_LD_ORIG:+:$GPU_LD_ORIG}"
}

# gpu_loads BINARY LIBPATH ARGS...: 0 when the binary loads with every symbol bound (ldd finds
# each library; a run with LD_BIND_NOW=1 and ARGS reaches main). Prints where each library
# came from; in the simulated run any library outside the pack, the wheels and the base
# system is an error (the system's copy would be missing on the GPU machine).
gpu_loads() {
  local bin=$1 lp=$2 out rc=0 name path origin
  shift 2
  echo "-- $(basename "$bin") with LD_LIBRARY_PATH=$lp"
  out=$(LD_LIBRARY_PATH=$lp ldd "$bin" 2>&1) || { echo "$out"; return 1; }
  while read -r name path; do
    case $path in
      not) origin="NOT FOUND"; rc=1 ;;
      "$GPU_WORK"/pack/*) origin=pack ;;
      "$(dirname "$GPU_CUDNN_LIB")"/* | "$(dirname "$GPU_CUBLAS_LIB")"/* | \
        "$(dirname "$GPU_CUBLASLT_LIB")"/* | "$(dirname "${GPU_NCCL_LIB:-/none/x}")"/*) origin=cuda-libs ;;
      *) if [[ $name =~ ^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libstdc\+\+\.|libgcc_s\.|libz\.so\.1|liblzma\.so\.5) ]]; then
           origin=base
         else
           origin=system
           [ "$GPU_MODE" = simulate ] && rc=1
         fi ;;
    esac
    printf '  %-24s %-10s %s\n' "$name" "$origin" "$path"
  done < <(awk '$2 == "=>" { print $1, $3; next } { n = split($1, p, "/"); print p[n], $1 }' <<<"$out")
  [ $rc -eq 0 ] || { echo "  -> does not load (libraries above)"; return 1; }
  out=$(LD_BIND_NOW=1 LD_LIBRARY_PATH=$lp timeout 20 "$bin" "$@" 2>&1)
  rc=$?
  echo "  run ($*): rc=$rc; $(head -c 600 <<<"$out" | tail -3)"
  # A loader failure prints its reason (rc 127); a listing's rc is the number of tests listed.
  if [ $rc -eq 124 ] || [ $rc -ge 128 ] || grep -qE 'error while loading shared libraries|symbol lookup error|undefined symbol|version `[^`]*'"'"' not found' <<<"$out"; then
    echo "  -> does not load"
    return 1
  fi
  return 0
}

# gpu_check_binaries DIR_TESTS DIR_BENCH LIBPATH: all three binaries load.
gpu_check_binaries() {
  local rc=0
  gpu_loads "$1/ember_gpu_tests" "$3" --list-test-names-only || rc=1
  gpu_loads "$2/gpu_kernels" "$3" --load-check || rc=1  # usage error (rc 2) before any CUDA call
  gpu_loads "$2/bench_seed_step" "$3" --load-check || rc=1
  return $rc
}

# Stage: unpack the pack, check it belongs to this tree, and that its binaries load; else say
# that a rebuild is needed (GPU_NEED_REBUILD=1, with the reason).
gpu_binaries() {
  local pack=$GPU_WORK/pack baked stale=0 lp
  rm -rf "$pack" && mkdir -p "$pack"
  tar -xzf "$GPU_ROOT/.gpupack/pack.tar.gz" -C "$pack" || { echo "cannot unpack .gpupack/pack.tar.gz"; return 1; }
  echo "unpacked: $(du -sh "$pack" | cut -f1)"
  # Links must stay inside the pack: an absolute one (Debian's libz.so) dangles here.
  local l t bad=0
  while IFS= read -r l; do
    t=$(readlink "$l")
    case $t in /*) echo "absolute link in the pack: ${l#"$pack"/} -> $t"; bad=1; continue ;; esac
    case $(realpath -m "$l") in "$pack"/*) ;; *) echo "link leaves the pack: ${l#"$pack"/} -> $t"; bad=1 ;; esac
    [ -e "$l" ] || { echo "dangling link in the pack: ${l#"$pack"/} -> $t"; bad=1; }
  done < <(find "$pack" -type l)
  [ $bad = 0 ] || gpu_set GPU_PACK_LINKS "broken (binaries.log)"
  # The tree that travelled against the sources the binaries were built from.
  if ! (cd "$GPU_ROOT" && sha256sum --quiet --strict -c .gpupack/sources.sha256) >"$GPU_WORK/stale.txt" 2>&1; then
    stale=1
    echo "the tree differs from the pack's sources ($(grep -c . "$GPU_WORK/stale.txt") lines):"
    head -20 "$GPU_WORK/stale.txt"
  fi
  # Tests and benchmarks read configs through the source folder baked in at build time.
  baked=$(gpu_manifest source_dir)
  if [ -n "$baked" ] && [ "$(realpath -m "$baked")" != "$(realpath "$GPU_ROOT")" ]; then
    if [ ! -e "$baked" ]; then
      mkdir -p "$(dirname "$baked")" && ln -s "$GPU_ROOT" "$baked" && echo "linked $baked -> $GPU_ROOT (the binaries' source folder)"
    else
      echo "WARNING: $baked exists and is not this tree: the tests read configs from there"
    fi
  fi
  gpu_set GPU_TESTS_BIN "$pack/bin/ember_gpu_tests"
  gpu_set GPU_KERNELS_BIN "$pack/bin/gpu_kernels"
  gpu_set GPU_STEP_BIN "$pack/bin/bench_seed_step"
  if [ $stale = 1 ]; then
    gpu_set GPU_NEED_REBUILD "the pack was built from other sources (run scripts/gpu_pack.sh again)"
    return 1
  fi
  lp=$(gpu_lib_path)
  if gpu_check_binaries "$pack/bin" "$pack/bin" "$lp"; then
    gpu_set GPU_LD "$lp"
    gpu_set GPU_PATH_TAKEN "carried"
    return $bad  # the binaries run; a broken dev/ tree still fails the stage
  fi
  echo "== again with the pack's libstdc++/libgcc_s (the machine's may be older)"
  lp=$(gpu_lib_path "$pack/compat")
  if gpu_check_binaries "$pack/bin" "$pack/bin" "$lp"; then
    gpu_set GPU_LD "$lp"
    gpu_set GPU_PATH_TAKEN "carried, with the pack's libstdc++"
    return $bad
  fi
  gpu_set GPU_NEED_REBUILD "the carried binaries do not load here (binaries.log)"
  return 1
}

# Stage: build the GPU targets here, against the pack's dev/ tree and the cuDNN/cuBLAS found by
# the probe; --configure-only stops after CMake (the simulated run checks that much). Ninja
# when there is one, no -Werror (another compiler may warn differently), nvcc named outright,
# no MPI (engine/dist's backend, which the GPU tests do not use and the pack has no headers of;
# without MPI there is no NCCL backend either).
gpu_rebuild() {
  local dev=$GPU_WORK/pack/dev/usr bdir=$GPU_WORK/build gen=() nvcc cmake ninja lp rc v
  nvcc=$GPU_TOOL_NVCC cmake=$GPU_TOOL_CMAKE ninja=$GPU_TOOL_NINJA
  [ -n "$cmake" ] || { echo "no cmake"; return 1; }
  [ -n "$nvcc" ] || { echo "no nvcc"; return 1; }
  [ -n "$GPU_CUDNN_INCLUDE" ] || { echo "no cudnn.h beside $GPU_CUDNN_LIB (the wheel's include/)"; return 1; }
  [ -d "$dev" ] || { echo "no $dev: the pack was not unpacked"; return 1; }
  [ -n "$ninja" ] && gen=(-G Ninja -DCMAKE_MAKE_PROGRAM="$ninja")
  # The linker looks for the libraries' own needs (libgfortran, cuDNN's parts) on this path.
  lp=$(gpu_lib_path)
  rm -rf "$bdir"
  LD_LIBRARY_PATH=$lp "$cmake" -S "$GPU_ROOT" -B "$bdir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DEMBER_CUDA=ON -DEMBER_WERROR=OFF -DEMBER_TESTS=ON -DEMBER_BENCH=ON -DEMBER_MPI=OFF -DEMBER_NCCL=OFF \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_PREFIX_PATH="$dev" \
    -DCBLAS_INCLUDE_DIR="$dev/include/x86_64-linux-gnu/openblas-pthread" \
    -DCUDNN_INCLUDE_DIR="$GPU_CUDNN_INCLUDE" -DCUDNN_LIBRARY="$GPU_CUDNN_LIB" \
    -DCUDA_cublas_LIBRARY="$GPU_CUBLAS_LIB" -DCUDA_cublasLt_LIBRARY="$GPU_CUBLASLT_LIB" \
    -DCUDA_CUDART="$GPU_WORK/pack/lib/libcudart.so.13" \
    -DCUDA_cudart_LIBRARY="$GPU_WORK/pack/lib/libcudart.so.13"
  rc=$?
  echo "== where CMake found the dependencies"
  grep -E '^((yaml-cpp|nlohmann_json|CLI11|Catch2)_DIR|(ZLIB|LIBLZMA)_(INCLUDE_DIR|LIBRARY_RELEASE)|UTF8PROC_(INCLUDE_DIR|LIBRARY)|BLAS_openblas_LIBRARY|CBLAS_INCLUDE_DIR|CUDNN_(INCLUDE_DIR|LIBRARY)|CUDA_(cublas|cublasLt|cudart)_LIBRARY|CUDA_CUDART):[A-Z]+=' \
    "$bdir/CMakeCache.txt" 2>/dev/null | tee "$GPU_WORK/found.txt"
  [ $rc -eq 0 ] || { echo "configure failed"; return 1; }
  if [ "$GPU_MODE" = simulate ]; then  # each from the pack or the wheels, none from the system
    v=$(grep -vE "=($GPU_WORK/pack/|$(dirname "$GPU_CUDNN_LIB")|$(dirname "$GPU_CUBLAS_LIB")|$(dirname "$GPU_CUDNN_INCLUDE"))" "$GPU_WORK/found.txt" |
      grep -vE '=$|NOTFOUND$' || true)
    [ -z "$v" ] || { echo "found outside the pack and the wheels:"; echo "$v"; return 1; }
  fi
  [ "${1:-}" = --configure-only ] && return 0
  "$cmake" --build "$bdir" -j"$(nproc)" --target ember_gpu_tests gpu_kernels bench_seed_step || return 1
  gpu_check_binaries "$bdir/tests" "$bdir/bench" "$lp" || return 1
  gpu_set GPU_TESTS_BIN "$bdir/tests/ember_gpu_tests"
  gpu_set GPU_KERNELS_BIN "$bdir/bench/gpu_kernels"
  gpu_set GPU_STEP_BIN "$bdir/bench/bench_seed_step"
  gpu_set GPU_LD "$lp"
  gpu_set GPU_PATH_TAKEN "rebuilt on the device (${GPU_NEED_REBUILD:-asked for})"
}

# gpu_prepare: the probe, binaries and (when needed) rebuild stages every device script starts
# with. 0 when binaries that load are ready.
gpu_prepare() {
  GPU_LD_ORIG=${LD_LIBRARY_PATH:-}
  export GPU_LD_ORIG
  gpu_stage probe 30 gpu_probe
  gpu_stage binaries 40 gpu_binaries
  [ -n "${GPU_PATH_TAKEN:-}" ] && return 0  # they load (a failed stage is still reported)
  if [ -z "${GPU_NEED_REBUILD:-}" ]; then
    gpu_set GPU_NEED_REBUILD "the binaries stage failed before its checks (binaries.log)"
    source "$GPU_STATE"
  fi
  if [ "$GPU_MODE" = simulate ]; then
    gpu_note rebuild "not run: in the simulated run the carried binaries must load"
    return 1
  fi
  gpu_stage rebuild "${GPU_REBUILD_SECONDS:-240}" gpu_rebuild
}
