#!/usr/bin/env bash
# test_aarch64.sh - aarch64 as a tested target: cross-builds fluidtune with cmake/toolchain-aarch64.cmake
# into build-aarch64 and runs its whole ctest suite under qemu-user (unit tests, the command-line
# scripts, the bundled models and ONNX's conformance data), then sweeps the tiny BERT under qemu and
# natively, merges the two databases and checks that the machines and the report tell them apart.
# Installs the cross toolchain, qemu-user-static and the arm64 -dev libraries when they are missing
# (as root, or with sudo). Ends with one "aarch64: N passed, M failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
BUILD=build-aarch64
# The native fluidtune that sweeps the other side of the merge: test.sh's release tree when it is
# there (CI runs test.sh first), else a tree of its own without the tests.
HOST_BUILD=build-test-release
[ -f "$HOST_BUILD/CMakeCache.txt" ] || HOST_BUILD=build-aarch64/host
MODEL=tests/models/bert_tiny/model.onnx
# The ops of the tiny BERT that have NEON kernels: enough to exercise them, short under emulation.
# Transpose and the Reorder conversions stay out for now: their "copy" candidates store the sweeping
# machine's widest ISA in their params under a key that does not name it, so databases of two
# machines with different ISAs refuse to merge (kernels/fast/movement.c).
OPS=MatMul,Gemm,Add,Sub,Mul,Div,Erf,Tanh,Softmax,LayerNormalization
SWEEP=(--ops "$OPS" --samples 3 --min-time 0.2 -q)
start=$(date +%s)
stamp() { echo "== [$(($(date +%s) - start))s] $*"; }

# --- dependencies ---
HOST_PKGS=(gcc-aarch64-linux-gnu qemu-user-static protobuf-c-compiler)
ARM_PKGS=(libprotobuf-c-dev:arm64 libsqlite3-dev:arm64 libcmocka-dev:arm64)
missing=()
for p in "${HOST_PKGS[@]}" "${ARM_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  stamp "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then $SUDO dpkg --add-architecture arm64; fi
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- cross build and the test suite under qemu ---
stamp "aarch64 build ($BUILD)"
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$JOBS" >"$BUILD/build.log" 2>&1 || { tail -50 "$BUILD/build.log"; exit 1; }
readelf -h "$BUILD/fluidtune" | grep -q "Machine:.*AArch64" || { echo "$BUILD/fluidtune is not an aarch64 binary"; exit 1; }

stamp "aarch64 tests under qemu-user"
ctest_out=$BUILD/ctest.log
(cd "$BUILD" && ctest --output-on-failure -j"$JOBS") 2>&1 | tee "$ctest_out" || true
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$ctest_out" | tail -1)
ctest_total=$(echo "$summary" | grep -oE '[0-9]+$' || echo 0)
ctest_failed=$(echo "$summary" | grep -oE '[0-9]+ tests? failed' | grep -oE '^[0-9]+' || echo 1)
[ -n "$summary" ] || ctest_failed=1

# --- a short sweep under qemu beside a native one, merged and reported ---
stamp "native fluidtune ($HOST_BUILD)"
[ -f "$HOST_BUILD/CMakeCache.txt" ] || cmake -S . -B "$HOST_BUILD" -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_TESTS=OFF >/dev/null
cmake --build "$HOST_BUILD" -j"$JOBS" --target fluidtune >"$HOST_BUILD/build.log" 2>&1 ||
  { tail -50 "$HOST_BUILD/build.log"; exit 1; }
FT_ARM=$BUILD/fluidtune-emulated
FT_HOST=$HOST_BUILD/fluidtune
W=$BUILD/sweep
rm -rf "$W"
mkdir -p "$W"
passes=0
fails=0
check() { # check NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@" >"$W/check.out" 2>"$W/check.err"; then
    passes=$((passes + 1))
    echo "ok: $name"
  else
    fails=$((fails + 1))
    echo "FAIL: $name"
    sed 's/^/    /' "$W/check.out" "$W/check.err" | head -20
  fi
}
stamp "sweep of $MODEL ($OPS) under qemu and natively"
check "sweep under qemu" "$FT_ARM" sweep "$MODEL" --db "$W/aarch64.db" "${SWEEP[@]}"
check "native sweep" "$FT_HOST" sweep "$MODEL" --db "$W/x86_64.db" "${SWEEP[@]}"
check "merge" "$FT_HOST" db merge "$W/merged.db" "$W/x86_64.db" "$W/aarch64.db"
"$FT_HOST" db machines "$W/merged.db" >"$W/machines.txt" 2>&1 || true
sed 's/^/    /' "$W/machines.txt"
# one line per machine: "<id>  <vendor> <model>, <arch>, ..., EMULATED"
check "merged database holds both machines" test "$(grep -cE '^[0-9a-f]{12} ' "$W/machines.txt")" -eq 2
check "the qemu machine is aarch64 and emulated" grep -qE '^[0-9a-f]{12} .*, aarch64, .*EMULATED' "$W/machines.txt"
check "the native machine is not emulated" sh -c "grep -E '^[0-9a-f]{12} ' '$W/machines.txt' | grep -v ', aarch64, ' | grep -vq EMULATED"
check "aarch64 fluidtune reads the merged database" "$FT_ARM" db machines "$W/merged.db"
check "solve under qemu from the merged database" \
  "$FT_ARM" solve "$MODEL" --db "$W/merged.db" -o "$W/bert_tiny.aarch64.fplan"
check "tuned plan passes under qemu" "$FT_ARM" test "$(dirname "$MODEL")" --plan "$W/bert_tiny.aarch64.fplan"
check "report of both machines" "$FT_HOST" report "$W/merged.db" -o "$W/report" --text-only
check "report marks emulated timings as not representative" grep -q "not representative" "$W/report/summary.md"

stamp "done in $(($(date +%s) - start))s: ctest $((ctest_total - ctest_failed))/$ctest_total passed"
echo "aarch64: $((ctest_total - ctest_failed + passes)) passed, $((ctest_failed + fails)) failed"
[ "$ctest_failed" -eq 0 ] && [ "$fails" -eq 0 ]
