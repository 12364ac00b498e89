#!/usr/bin/env bash
# bench_transpose.sh - builds libftkernels and scripts/bench_transpose.c, then measures the tiled
# transpose against memcpy of the same bytes, interleaved in one process.
# Usage: scripts/bench_transpose.sh [-q] [BUILD_DIR]   (-q: a quick smoke run; BUILD_DIR defaults to build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=()
if [[ ${1:-} == -q ]]; then quick=(-q); shift; fi
build=${1:-$root/build}

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j2 --target ftkernels >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/kernels" "$root/scripts/bench_transpose.c" \
   "$build/libftkernels.a" -lm -o "$build/bench_transpose"
"$build/bench_transpose" "${quick[@]}"
