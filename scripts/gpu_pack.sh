#!/usr/bin/env bash
# Run HERE, before a device call: builds (or brings up to date) the GPU binaries for sm_90 and
# packs them with every shared library they need that a bare GPU machine lacks into .gpupack/
# (ignored by git; the call names it in `carry`). The GPU machine is x86-64 too, but not Debian
# and without apt or a network, so what Ember links against travels as files:
#
#   .gpupack/pack.tar.gz    bin/       ember_gpu_tests, gpu_kernels, bench_seed_step
#                           lib/       non-base libraries by SONAME (yaml-cpp, OpenBLAS,
#                                      libgfortran, libquadmath, utf8proc, cudart)
#                           compat/    this machine's libstdc++ and libgcc_s, used there only
#                                      if the machine's own are too old for the binaries
#                           dev/usr/   headers, CMake configs and link names of the Debian
#                                      -dev packages, for a rebuild on the GPU machine when the
#                                      carried binaries cannot load (scripts/gpu_env.sh)
#   .gpupack/manifest.txt   commit, build settings, library origins, glibc needs, sizes
#   .gpupack/sources.sha256 the sources the binaries were built from (the machine has no .git:
#                           scripts/gpu_check.sh compares them to the tree that travelled)
#
# cuDNN, cuBLAS and NCCL are not packed (hundreds of MB): the GPU machine has them in PyTorch's
# wheels. What the binaries load besides (OpenMPI and its libraries, when engine/dist links it)
# is packed like the rest.
# Every link inside the pack is relative and resolves inside it (absolute ones dangle there).
# Usage: bash scripts/gpu_pack.sh [--build-dir DIR (default build-gpupack)]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build="build-gpupack"
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    *) echo "usage: bash scripts/gpu_pack.sh [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
die() { echo "gpu_pack: $*" >&2; exit 1; }
targets=(ember_gpu_tests gpu_kernels bench_seed_step)
bin_paths=(tests/ember_gpu_tests bench/gpu_kernels bench/bench_seed_step)
arch=x86_64-linux-gnu
# What every glibc system has (and what the pack must not shadow), and what the GPU machine's
# wheels provide; anything else the binaries load is packed.
base_re='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libutil\.so\.1|libresolv\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libz\.so\.1|liblzma\.so\.5)$'
wheel_re='^(libcublas\.so\.13|libcublasLt\.so\.13|libcudnn[a-z_]*\.so\.9|libnccl\.so\.2|libcuda\.so\.1)$'
dev_pkgs=(libyaml-cpp-dev catch2 nlohmann-json3-dev libcli11-dev libutf8proc-dev
          libopenblas-pthread-dev zlib1g-dev liblzma-dev)

# ---- build ----------------------------------------------------------------------------------
# The files the build reads (CMake globs pick up untracked sources too), with their hashes.
source_hashes() {
  git ls-files -z --cached --others --exclude-standard -- '*.cpp' '*.cu' '*.h' '*.cuh' \
    '*.hpp' '*.inc' 'CMakeLists.txt' '*/CMakeLists.txt' '*.cmake' |
    while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    LC_ALL=C sort -z | xargs -0 -r sha256sum
}
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "gpu_pack: configuring $build (CUDA on, sm_90)"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA=ON -DEMBER_WERROR=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
fi
cache=$build/CMakeCache.txt
grep -q '^CMAKE_CUDA_COMPILER:[A-Z]*=.\+' "$cache" ||
  die "$build was configured without CUDA (no CMAKE_CUDA_COMPILER in $cache): the GPU binaries are not built there"
src_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
[ "$(realpath "$src_dir")" = "$(realpath "$root")" ] || die "$build belongs to $src_dir, not $root"
hashes_before=$(source_hashes)
echo "gpu_pack: building ${targets[*]} in $build"
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}" >"${TMPDIR:-/tmp}/gpu_pack_build.$$.log" 2>&1 ||
  { tail -30 "${TMPDIR:-/tmp}/gpu_pack_build.$$.log" >&2; die "build failed (log above)"; }
rm -f "${TMPDIR:-/tmp}/gpu_pack_build.$$.log"
hashes=$(source_hashes)
[ "$hashes" = "$hashes_before" ] || die "sources changed while building: run gpu_pack.sh again"

# sm_90 machine code, not only PTX: the CUDA flags of the library's objects name it.
arch_flags=$(cat "$build"/CMakeFiles/ember_*.dir/flags.make "$build"/build.ninja 2>/dev/null |
  grep -o 'code=\[[^]]*\]\|code=sm_[0-9]*' | sort -u | tr '\n' ' ' || true)
case $arch_flags in *sm_90*) ;; *) die "$build does not build sm_90 code (CUDA code flags: ${arch_flags:-none})" ;; esac

# ---- stage the pack -------------------------------------------------------------------------
stage=$(mktemp -d "${TMPDIR:-/tmp}/gpupack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/compat" "$stage/dev/usr"
declare -A lib_src=() wheel_src=()  # SONAME -> real file it was copied from / is found at here
libs_log=""
for i in "${!targets[@]}"; do
  b=$build/${bin_paths[$i]}
  [ -x "$b" ] || die "$b missing after the build"
  cp "$b" "$stage/bin/"
  # "name => path (addr)", "path (addr)" or "name => not found".
  while read -r name path; do
    [ "$path" = "not" ] && die "${targets[$i]}: $name not found here (ldd)"
    if [[ $name =~ $base_re ]]; then
      case $name in libstdc++.so.6 | libgcc_s.so.1) cp -L "$path" "$stage/compat/$name" ;; esac
      continue
    fi
    if [[ $name =~ $wheel_re ]]; then
      [ "$name" = libcuda.so.1 ] || wheel_src[$name]=$path
      continue
    fi
    if [ -z "${lib_src[$name]:-}" ]; then
      lib_src[$name]=$(readlink -f "$path")
      cp -L "$path" "$stage/lib/$name"
      libs_log+="  $name <- ${lib_src[$name]}"$'\n'
    fi
  done < <(ldd "$b" | awk '$2 == "=>" { print $1, $3; next } { n = split($1, p, "/"); print p[n], $1 }')
done
[ -n "${lib_src[libyaml-cpp.so.0.7]:-}" ] || die "the binaries do not load libyaml-cpp.so.0.7: is $build a dynamic Debian build?"

# The -dev packages for a rebuild there. Link names of packed libraries become relative links
# to lib/; those of base libraries (libz.so, liblzma.so: absolute links on Debian) become real
# copies; static archives are left out except those a CMake config imports.
dev=$stage/dev
norm() { local p=$1; case $p in /lib/*) p=/usr$p ;; esac; printf '%s' "$p"; }
link_to_lib() {  # dev path, SONAME
  mkdir -p "$(dirname "$1")"
  ln -sfr "$stage/lib/$2" "$1"
}
declare -A by_real=()  # real file -> SONAME, for packed libraries
for s in "${!lib_src[@]}"; do by_real[${lib_src[$s]}]=$s; done
for s in "${!lib_src[@]}"; do  # the real file names and SONAMEs the CMake imports point at
  r=${lib_src[$s]}
  case $r in /usr/lib/* | /lib/*) link_to_lib "$dev$(norm "$r")" "$s"
                                  link_to_lib "$dev$(norm "$(dirname "$r")")/$s" "$s" ;; esac
done
for pkg in "${dev_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    die "Debian package $pkg is not installed here (scripts/setup.sh installs it)"
  while IFS= read -r f; do
    [ -d "$f" ] && continue
    case $f in /usr/share/doc/* | /usr/share/man/* | /usr/share/lintian/* | */pkgconfig/* | \
               /usr/share/Catch2/* | *.a) continue ;; esac
    d=$dev$(norm "$f")
    real=$(readlink -f "$f")
    if [ -n "${by_real[$real]:-}" ]; then
      link_to_lib "$d" "${by_real[$real]}"
    elif [[ $(basename "$f") =~ \.so($|\.) ]]; then
      soname=$(objdump -p "$real" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
      [[ $soname =~ $base_re ]] || continue  # libblas.so, liblapack.so: not used
      mkdir -p "$(dirname "$d")" && cp -L "$f" "$d"
    else
      mkdir -p "$(dirname "$d")" && cp -L "$f" "$d"
    fi
  done < <(dpkg -L "$pkg")
done
# Debian's alternatives link /usr/lib/<arch>/libopenblas.so (not in any package's list), which
# FindBLAS looks for.
link_to_lib "$dev/usr/lib/$arch/libopenblas.so" libopenblas.so.0
# Files the CMake configs import must exist there, or find_package refuses (Catch2's
# libCatch2WithMain.a, yaml-cpp's library).
while IFS= read -r rel; do
  [ -e "$dev/usr/$rel" ] && continue
  case $rel in *.a) [ -f "/usr/$rel" ] && mkdir -p "$(dirname "$dev/usr/$rel")" && cp -L "/usr/$rel" "$dev/usr/$rel" && continue ;; esac
  die "the CMake configs import $rel, which is not in the pack"
done < <(grep -rhoE '\$\{_IMPORT_PREFIX\}/[^" );]+' "$dev" --include='*.cmake' | sed 's|^${_IMPORT_PREFIX}/||' | sort -u)

# Every link relative and inside the pack.
while IFS= read -r l; do
  t=$(readlink "$l")
  case $t in /*) die "absolute link in the pack: ${l#"$stage"/} -> $t" ;; esac
  r=$(realpath -e "$l" 2>/dev/null) || die "dangling link in the pack: ${l#"$stage"/} -> $t"
  case $r in "$stage"/*) ;; *) die "link leaves the pack: ${l#"$stage"/} -> $t" ;; esac
done < <(find "$stage" -type l)

# ---- manifest -------------------------------------------------------------------------------
max_version() {  # symbol version prefix, files...: the newest version the files ask for
  local v=$1; shift
  objdump -T "$@" 2>/dev/null | grep -o "${v}_[0-9][0-9.]*" | sed "s/^${v}_//" | sort -uV | tail -1
}
cudnn_inc=$(sed -n 's/^CUDNN_INCLUDE_DIR:PATH=//p' "$cache")
cudnn_hdr=$(awk '/#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)[ \t]/ { v = v (v ? "." : "") $3 } END { print v }' \
  "$cudnn_inc/cudnn_version.h" 2>/dev/null || true)
nvcc_bin=$(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "$cache")
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=no
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=yes
{
  echo "commit: $commit"
  echo "commit_short: ${commit:0:7}"
  echo "dirty: $dirty (tracked files changed when packed; the binaries are of the working tree)"
  echo "packed_at: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "packed_on: $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -m)"
  echo "build_dir: $build"
  echo "source_dir: $root"
  echo "cuda_code: $arch_flags"
  echo "nvcc: $("$nvcc_bin" --version | tail -1)"
  echo "cxx: $(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$cache") $(c++ -dumpfullversion 2>/dev/null)"
  echo "cudnn_headers: ${cudnn_hdr:-unknown}"
  echo "needs_glibc: $(max_version GLIBC "$stage"/bin/* "$stage"/lib/*)"
  echo "needs_glibcxx: $(max_version GLIBCXX "$stage"/bin/* "$stage"/lib/*)"
  echo "binaries: ${targets[*]}"
  echo "wheel_libs: ${!wheel_src[*]}"
  for w in "${!wheel_src[@]}"; do echo "wheel_lib_here: $w ${wheel_src[$w]}"; done
  echo "packed_libs:"
  printf '%s' "$libs_log"
} >"$stage/manifest.txt"

# ---- write .gpupack -------------------------------------------------------------------------
out=$(mktemp -d "$root/.gpupack.new.XXXXXX")
tar -C "$stage" -czf "$out/pack.tar.gz" bin lib compat dev manifest.txt
cp "$stage/manifest.txt" "$out/manifest.txt"
printf '%s\n' "$hashes" >"$out/sources.sha256"
pack_bytes=$(du -cb "$out"/* | tail -1 | cut -f1)
echo "pack_bytes: $pack_bytes (unpacked $(du -sb "$stage" | cut -f1))" >>"$out/manifest.txt"
# What travels: the tree git would list (tracked, untracked not ignored) plus the pack.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
  du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
total=$((tree_bytes + pack_bytes))
echo "travels: $total bytes (tree $tree_bytes + pack $pack_bytes; the limit is 64 MiB)" >>"$out/manifest.txt"
rm -rf .gpupack && mv "$out" .gpupack
[ $total -le $((60 * 1024 * 1024)) ] ||
  die "tree + pack = $total bytes, above 60 MiB (the call carries 64 MiB in all)"
echo "gpu_pack: .gpupack ready: $(numfmt --to=iec "$pack_bytes") pack, $(numfmt --to=iec "$total") travels, commit ${commit:0:7} (dirty: $dirty)"
