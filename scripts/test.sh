#!/usr/bin/env bash
# test.sh - the whole test suite: builds a release tree and an ASan+UBSan tree and runs ctest in both
# (cmocka unit tests, command-line tests, the bundled models and ONNX's conformance data).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
status=0
for cfg in release sanitize; do
  dir=build-test-$cfg
  flags=(-DCMAKE_BUILD_TYPE=Release)
  [ $cfg = sanitize ] && flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_SANITIZE=ON)
  echo "== $cfg build ($dir)"
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j"$JOBS"
  echo "== $cfg tests"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd "$dir" && ctest --output-on-failure -j"$JOBS") || status=1
done
exit $status
