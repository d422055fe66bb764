#!/usr/bin/env bash
# Fails when a C++/CUDA source in the tree differs from what clang-format makes of it with the
# committed .clang-format (Debian's clang-format, which scripts/setup.sh installs). Lists the
# files that differ; `scripts/check_format.sh --fix` rewrites them in place instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check_format: clang-format not found (scripts/setup.sh installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf '  %s\n' "${bad[@]}"
  echo "check_format: ${#bad[@]} of ${#files[@]} files differ from .clang-format ($(clang-format --version | head -1)); run scripts/check_format.sh --fix"
  exit 1
fi
echo "check_format: ${#files[@]} files match .clang-format"
