#!/usr/bin/env bash
# bench_gemm.sh - builds libftkernels and scripts/bench_gemm.c, then measures fluidtune's sgemm
# (default and tuned per shape) against single-threaded OpenBLAS, interleaved in one process.
# Usage: scripts/bench_gemm.sh [-q] [BUILD_DIR]   (-q: a quick smoke run; BUILD_DIR defaults to build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=()
if [[ ${1:-} == -q ]]; then quick=(-q); shift; fi
build=${1:-$root/build}

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j2 --target ftkernels >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/kernels" "$root/scripts/bench_gemm.c" \
   "$build/libftkernels.a" -lopenblas -lm -o "$build/bench_gemm"

# The shell profile pins OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which make OpenBLAS skip
# its AVX-512 kernels (2x slower here): unset them for the benchmark only, so the anchor is fair.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$build/bench_gemm" "${quick[@]}"
