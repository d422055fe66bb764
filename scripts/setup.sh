#!/usr/bin/env bash
# Installs, from Debian's archive, what Ember needs to build and test. Idempotent: packages
# already present are left alone, so a second run costs one dpkg query and no network.
# CUDA (nvcc, cuBLAS, cuDNN) is not installed here: the build uses it when it is found.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libyaml-cpp-dev        # config files
  catch2                 # tests (Debian's 2.13)
  libopenblas-dev        # CPU matrix products, multi-threaded
  nlohmann-json3-dev     # run metadata, JSON output
  libcli11-dev           # command line
  libbenchmark-dev       # bench/
  zlib1g-dev liblzma-dev # gzip and xz data files
  libutf8proc-dev        # Unicode classes and case mapping (cleaning, tokenizer)
  python3                # scripts/gpu_find_libs.py: the GPU check's simulated run in CI
  libboost-context-dev   # fibers of the CUDA emulator (emu/)
  libopenmpi-dev openmpi-bin  # data-parallel training over MPI ranks (engine/dist)
  clang libclang-rt-dev  # libFuzzer targets in fuzz/ (scripts/fuzz.sh)
  clang-format           # scripts/check_format.sh: the tree against .clang-format (CI)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
