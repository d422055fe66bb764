#!/usr/bin/env bash
# Run HERE (a Debian machine with apt), before a device call: the GPU machine has CUDA, cuDNN
# (inside PyTorch's wheels), CMake and nvcc but no apt, so the Debian libraries Ember builds
# against travel with the call. Downloads their .deb files and unpacks them under .devdeps/root
# (ignored by git; name .devdeps in the device call's `carry`).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(libyaml-cpp-dev libyaml-cpp0.7 catch2 nlohmann-json3-dev libcli11-dev
      libopenblas-dev libopenblas-pthread-dev libopenblas0-pthread libgfortran5
      zlib1g-dev liblzma-dev libutf8proc-dev libutf8proc2)
rm -rf .devdeps && mkdir -p .devdeps/debs .devdeps/root
(cd .devdeps/debs && apt-get download "${pkgs[@]}")
for d in .devdeps/debs/*.deb; do dpkg -x "$d" .devdeps/root; done
rm -rf .devdeps/debs
# Static archives and documentation are not needed to build and run; the call carries 64 MiB.
find .devdeps/root -name '*.a' -delete
rm -rf .devdeps/root/usr/share/doc .devdeps/root/usr/share/man
du -sh .devdeps
