#!/usr/bin/env bash
# `bash scripts/gpu_check.sh --simulate [--build-dir DIR] [--no-pack]`: the GPU check on a
# machine without a GPU, as far as it goes without one. CI runs it (scripts/test.sh, with the binaries of build/).
#  1. pack: scripts/gpu_pack.sh --build-dir DIR (default build-gpupack) makes .gpupack/
#     (--no-pack: check the .gpupack that is there, e.g. the one about to be carried).
#  2. a fake wheel layout in a temp site-packages, as PyTorch's on the GPU machine:
#     nvidia/cudnn/{lib/libcudnn*.so.9,include/cudnn*.h}, nvidia/cu13/lib/libcublas*.so.13 and
#     nvidia/nccl/lib/libnccl.so.2 when the binaries load it (namespace packages, no
#     __init__.py; links to this machine's copies, as the pack's manifest names them) with
#     dist-info versions, found through PYTHONPATH.
#  3. in a private mount namespace (unshare -m as root, else a user namespace), the Debian
#     packages the pack replaces (the -dev packages of yaml-cpp, OpenBLAS, utf8proc, Catch2,
#     CLI11, nlohmann-json, zlib and lzma, and the package of every library packed: yaml-cpp,
#     OpenBLAS, libgfortran, OpenMPI, ...) and CUDA's cuDNN, cuBLAS, NCCL and cudart are hidden:
#     each folder holding one is covered by a copy made of links to everything else in it, so
#     those files are absent (not empty) there. It checks that they are gone, then runs
#     scripts/gpu_check.sh --simulate-inside: the probe must find the fake wheel, the carried
#     binaries must load from the pack and the wheel alone, the rebuild's CMake configure must
#     find every dependency in the pack, and ember_gpu_tests must reach its "no CUDA device"
#     exit (77); the summary and the output-file limits are checked as on the device.
# Exit status 0 only when all of that held. Nothing here changes the machine outside the
# namespace except the temp folder (removed) and .gpupack/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

if [ "${1:-}" = --inside ]; then inside=1; sim=$2; build=$3; else inside=0; fi
if [ $inside = 0 ]; then
  build=build-gpupack pack=1
  while [ $# -gt 0 ]; do
    case $1 in
      --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
      --no-pack) pack=0; shift ;;  # check the .gpupack already there (after gpu_pack.sh)
      *) echo "usage: bash scripts/gpu_check.sh --simulate [--build-dir DIR] [--no-pack]" >&2; exit 2 ;;
    esac
  done
fi
record() { printf '%s\t%s\t%s\t-\n' "$1" "$2" "$3" >>"$sim/stages.txt"; }

# ---- inside the namespace -------------------------------------------------------------------
# hide PATHS...: make each path absent. Entries are named by their folder's real path; folders
# whose whole content is hidden are hidden as one entry; each remaining parent folder is
# covered (deepest first) by a folder holding the rest: files as links to the original, links
# copied as they are, subfolders bind-mounted (a link would send "dir/.." elsewhere: gcc finds
# its headers through /usr/lib/gcc/.../../../../include).
hide() {
  declare -A hidden=() parents=() real=()
  local p d e n=0 keep all dir o c
  for p in "$@"; do
    dir=${p%/*}
    [ -n "${real[$dir]+x}" ] || real[$dir]=$(realpath -e "$dir" 2>/dev/null)
    d=${real[$dir]}
    e=$d/${p##*/}
    [ -n "$d" ] && { [ -e "$e" ] || [ -L "$e" ]; } && hidden[$e]=1
  done
  for d in $(printf '%s\n' "${!hidden[@]}" | sed 's|/[^/]*$||' | sort -u |
             awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2); do  # fully hidden folders
    all=1
    while IFS= read -r e; do [ -n "${hidden[$e]:-}" ] || { all=0; break; }; done < <(find "$d" -mindepth 1 -maxdepth 1)
    [ $all = 1 ] && [ "$d" != / ] && [ "$(find "$d" -mindepth 1 -maxdepth 1 | head -1)" ] &&
      hidden[$d]=1
  done
  for p in "${!hidden[@]}"; do  # keep only the topmost hidden entries
    d=${p%/*}
    keep=1
    while [ -n "$d" ]; do [ -n "${hidden[$d]:-}" ] && { keep=0; break; }; d=${d%/*}; done
    [ $keep = 1 ] && parents[${p%/*}]+="${p##*/}"$'\n'
  done
  for d in $(printf '%s\n' "${!parents[@]}" | awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2); do
    n=$((n + 1))
    o=$sim/ns/orig$n c=$sim/ns/cover$n
    mkdir -p "$o" "$c"
    mount --rbind "$d" "$o" || return 1
    local files=() links=() dirs=()
    while IFS= read -r e; do
      if [ -L "$o/$e" ]; then links+=("$o/$e")
      elif [ -d "$o/$e" ]; then dirs+=("$e")
      else files+=("$o/$e"); fi
    done < <(ls -A "$o" | grep -vxF -f <(printf '%s' "${parents[$d]}"))
    [ ${#files[@]} -eq 0 ] || ln -s -t "$c" -- "${files[@]}" || return 1
    [ ${#links[@]} -eq 0 ] || cp -P -t "$c" -- "${links[@]}" || return 1
    for e in "${dirs[@]}"; do mkdir "$c/$e" && mount --rbind "$o/$e" "$c/$e" || return 1; done
    mount --rbind "$c" "$d" || return 1
    echo "covered $d (${#files[@]} files, ${#links[@]} links, ${#dirs[@]} folders kept): $(printf '%s' "${parents[$d]}" | tr '\n' ' ')"
  done
}

if [ $inside = 1 ]; then
  mount --make-rprivate / || { echo "gpu_simulate: cannot make the mounts private" >&2; exit 1; }
  source "$sim/dirs.sh"  # cudnn_inc: where this machine has cudnn.h
  manifest=.gpupack/manifest.txt
  t0=$(date +%s)
  (  # a subshell, so that `exit` ends only this part; its mounts stay (same namespace)
    # The fake wheel's links go through these views of the library folders, which stay whole.
    while read -r d v; do mount --bind "$d" "$sim/$v" || exit 1; done <"$sim/views.txt"
    # The -dev packages the pack's dev/ tree replaces, and the packages of every library packed
    # (found by dpkg; those outside dpkg, as CUDA's cudart, by name in their folder below).
    pkgs=(libyaml-cpp-dev catch2 nlohmann-json3-dev libcli11-dev libutf8proc-dev
          libopenblas-pthread-dev libopenblas-dev libopenblas0 libblas3 liblapack3 zlib1g-dev
          liblzma-dev)
    sonames=() others=()
    while read -r so _ path; do
      sonames+=("$so")
      pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
      [ -n "$pkg" ] || pkg=$(dpkg -S "${path/#\/usr\/lib\//\/lib\/}" 2>/dev/null | head -1 | cut -d: -f1)
      if [ -n "$pkg" ]; then pkgs+=("$pkg"); else others+=("$(dirname "$path")/${so%%.so*}"); fi
    done < <(sed -n 's/^  \(lib[^ ]*\) \(<-\) \(.*\)$/\1 \2 \3/p' "$manifest")
    while read -r so path; do
      sonames+=("$so")
      others+=("$(dirname "$(realpath -e "$path")")/${so%%.so*}")
    done < <(sed -n 's/^wheel_lib_here: //p' "$manifest")
    # What must vanish: where the binaries find each of those libraries now, and some headers.
    gone=()
    while read -r so path; do
      [[ " ${sonames[*]} " == *" $so "* ]] && gone+=("$path")
    done < <(LD_LIBRARY_PATH='' ldd "$build/tests/ember_gpu_tests" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
    paths=()
    for pkg in "${pkgs[@]}"; do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || continue
      while IFS= read -r p; do
        [ -d "$p" ] && [ ! -L "$p" ] && continue
        case $p in  # what a build or the loader could find; not documentation
          /usr/include/* | *.so | *.so.* | *.a | */cmake/* | */pkgconfig/*) ;;
          *) continue ;;
        esac
        paths+=("$p")  # a link's target only if listed too: libz.so's stays (base)
      done < <(dpkg -L "$pkg")
    done
    # Libraries outside dpkg by name stem (libcudnn* with its parts, libcublas*, libnccl*,
    # libcudart*; no static archives), also where ld.so.cache lists copies
    # (/usr/local/lib/libcudart.so.13 here).
    for stem in "${others[@]}"; do
      for p in "$stem"* $(ldconfig -p | grep -oE "/[^ ]*/$(basename "$stem")[^ ]*"); do
        case $p in *.a) continue ;; esac
        paths+=("$p")
      done
    done
    paths+=("$cudnn_inc"/cudnn*.h)
    for p in /usr/include/yaml-cpp/yaml.h /usr/include/catch2/catch.hpp \
             /usr/include/nlohmann/json.hpp /usr/include/CLI/CLI.hpp /usr/include/utf8proc.h \
             /usr/include/zlib.h /usr/include/lzma.h /usr/lib/x86_64-linux-gnu/libz.so \
             /usr/lib/cmake/Catch2/Catch2Config.cmake "$cudnn_inc/cudnn.h"; do
      [ -e "$p" ] && gone+=("$p")
    done
    hide "${paths[@]}" || { echo "hiding failed"; exit 1; }
    bad=0
    for p in "${gone[@]}"; do [ -e "$p" ] && { echo "STILL THERE: $p"; bad=1; }; done
    for p in /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 \
             /usr/lib/x86_64-linux-gnu/libz.so.1 /usr/include/stdio.h "$sim"/site/nvidia/*/lib/*; do
      [ -e "$p" ] || { echo "GONE BUT NEEDED: $p"; bad=1; }
    done
    # The binaries as built, with no library path: no hidden library resolves (those that only
    # the missing ones need are not listed at all).
    out=$(LD_LIBRARY_PATH='' ldd "$build/tests/ember_gpu_tests" 2>&1)
    echo "$out"
    for l in "${sonames[@]}"; do
      ! grep -qE "^\s*$l => /" <<<"$out" || { echo "NOT HIDDEN from the loader: $l"; bad=1; }
    done
    grep -q "not found" <<<"$out" || { echo "nothing hidden from the loader"; bad=1; }
    [ $bad = 0 ] && echo "hidden: ${#sonames[@]} libraries not found by the loader, ${#gone[@]} checked paths gone, the base system intact"
    exit $bad
  ) >"$sim/hide.log" 2>&1
  rc=$?
  record hide "$([ $rc = 0 ] && echo ok || echo "failed (rc=$rc)")" $(($(date +%s) - t0))
  [ $rc = 0 ] || { tail -20 "$sim/hide.log"; }
  export GPU_SIM_DIR=$sim PYTHONPATH=$sim/site${PYTHONPATH:+:$PYTHONPATH}
  OUT=${OUT:-$sim/out} bash scripts/gpu_check.sh --simulate-inside
  exit $?
fi

# ---- outside: pack, fake wheel, then the namespace -------------------------------------------
sim=$(mktemp -d "${TMPDIR:-/tmp}/ember-gpusim.XXXXXX")
trap 'rm -rf "$sim"' EXIT  # after the namespace has gone: its mounts never show out here
: >"$sim/stages.txt"
t0=$(date +%s)
if [ "$pack" = 1 ]; then
  echo "gpu_check --simulate: packing from $build"
  bash scripts/gpu_pack.sh --build-dir "$build" >"$sim/pack.log" 2>&1
  rc=$?
  record pack "$([ $rc = 0 ] && echo ok || echo "failed (rc=$rc)")" $(($(date +%s) - t0))
  cat "$sim/pack.log"
  [ $rc = 0 ] || { echo "gpu_check --simulate: FAIL (packing)"; exit 1; }
else
  [ -f .gpupack/pack.tar.gz ] || { echo "gpu_check --simulate: FAIL: --no-pack but no .gpupack"; exit 1; }
  record pack "ok (the .gpupack there, --no-pack)" 0
fi

cache=$build/CMakeCache.txt
manifest=.gpupack/manifest.txt
cudnn_inc=$(realpath -e "$(sed -n 's/^CUDNN_INCLUDE_DIR:PATH=//p' "$cache")")
cublas_inc=$(dirname "$(dirname "$(realpath -e "$(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "$cache")")")")/include
[ -f "$cudnn_inc/cudnn.h" ] || { echo "gpu_check --simulate: FAIL: no cudnn.h in $cudnn_inc"; exit 1; }
printf 'cudnn_inc=%q\n' "$cudnn_inc" >"$sim/dirs.sh"
mkdir -p "$sim/site/nvidia/cudnn/include" "$sim/ns"
cp "$cudnn_inc"/cudnn*.h "$sim/site/nvidia/cudnn/include/"
# The libraries the GPU machine's wheels provide, where the binaries find them here (the pack's
# manifest): each folder gets a view (bind-mounted inside, where the folder itself is hidden),
# and the fake wheel links to the views.
declare -A view=()
: >"$sim/views.txt"
while read -r so path; do
  rp=$(realpath -e "$path") || { echo "gpu_check --simulate: FAIL: $path is gone"; exit 1; }
  d=$(dirname "$rp")
  if [ -z "${view[$d]:-}" ]; then
    view[$d]=view${#view[@]}
    mkdir -p "$sim/${view[$d]}"
    printf '%s %s\n' "$d" "${view[$d]}" >>"$sim/views.txt"
  fi
  case $so in
    libcudnn*) w=nvidia/cudnn/lib ;;
    libcublas*) w=nvidia/cu13/lib ;;
    libnccl*) w=nvidia/nccl/lib ;;
    *) echo "gpu_check --simulate: FAIL: no wheel layout for $so"; exit 1 ;;
  esac
  mkdir -p "$sim/site/$w"
  ln -sf "$sim/${view[$d]}/$(basename "$rp")" "$sim/site/$w/$so"
  if [[ $so == libcudnn* ]]; then  # cuDNN opens its parts by name from its folder
    for f in "$d"/libcudnn*.so.9; do ln -sf "$sim/${view[$d]}/$(basename "$f")" "$sim/site/$w/"; done
  fi
done < <(sed -n 's/^wheel_lib_here: //p' "$manifest")
[ -L "$sim/site/nvidia/cudnn/lib/libcudnn.so.9" ] || { echo "gpu_check --simulate: FAIL: the manifest names no libcudnn.so.9"; exit 1; }
version() { awk -v k="$2" '$1 == "#define" && $2 ~ k { v = v (v ? "." : "") $3 } END { print v }' "$1"; }
for d in "nvidia-cudnn-cu13 $(version "$cudnn_inc/cudnn_version.h" '^CUDNN_(MAJOR|MINOR|PATCHLEVEL)$')" \
         "nvidia-cublas $(version "$cublas_inc/cublas_api.h" '^CUBLAS_VER_(MAJOR|MINOR|PATCH)$')"; do
  set -- $d  # two words: the name and the version
  [ -n "${2:-}" ] || { echo "gpu_check --simulate: FAIL: no version for the fake $1 wheel"; exit 1; }
  mkdir -p "$sim/site/${1//-/_}-$2.dist-info"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" >"$sim/site/${1//-/_}-$2.dist-info/METADATA"
done

if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then ns=(unshare -m)
elif unshare -rm true 2>/dev/null; then ns=(unshare -rm)
else
  echo "gpu_check --simulate: FAIL: cannot make a private mount namespace (needs root, or user namespaces) to hide the system's libraries"
  exit 1
fi
"${ns[@]}" bash scripts/gpu_simulate.sh --inside "$sim" "$build"
rc=$?
echo "gpu_check --simulate: $([ $rc = 0 ] && echo PASS || echo FAIL) in $(($(date +%s) - t0)) s (the device run: bash scripts/gpu_check.sh with .gpupack carried)"
exit $rc
