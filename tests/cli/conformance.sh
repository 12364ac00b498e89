#!/usr/bin/env bash
# conformance.sh - runs ONNX's conformance data (Debian's libonnx-testdata) through `fluidtune test`.
# A test whose model uses an operator fluidtune does not claim is skipped. A test of a claimed operator
# must pass, unless tests/conformance_refused.txt lists it with the reason it is deliberately refused;
# a listed test that unexpectedly passes, or is no longer refused, fails too (the list stays true).
set -uo pipefail
FT=$1
SRC=$2
DATA=${FT_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
REFUSED=$SRC/tests/conformance_refused.txt
[ -d "$DATA/node" ] || { echo "libonnx-testdata not installed at $DATA"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$FT" test --quiet --skip-unsupported "$DATA"/node/test_* "$DATA"/pytorch-operator/test_* \
      "$DATA"/pytorch-converted/test_* "$DATA"/simple/test_* >"$out" 2>&1
rc=$?

declare -A refused=()
while IFS= read -r line; do
  line=${line%%#*}
  name=$(echo "$line" | awk '{print $1}')
  [ -n "$name" ] && refused[$name]=1
done < "$REFUSED"

fail=0
unclaimed=0
refused_ok=0
while IFS= read -r line; do
  case "$line" in
    SKIP\ *)
      test=${line#SKIP }
      test=${test%%/*}
      if [[ "$line" == *"unsupported operator type"* ]]; then
        unclaimed=$((unclaimed + 1))
      elif [ -n "${refused[$test]:-}" ]; then
        refused_ok=$((refused_ok + 1))
        unset "refused[$test]"
      else
        echo "UNLISTED REFUSAL: $line"
        fail=1
      fi ;;
    FAIL\ *) echo "$line"; fail=1 ;;
  esac
done < "$out"
for t in "${!refused[@]}"; do
  if grep -q "^PASS $t/\|^FAIL $t/" "$out" || ! grep -q "SKIP $t/" "$out"; then
    echo "STALE REFUSAL: $t is listed in tests/conformance_refused.txt but was not refused"
    fail=1
  fi
done
summary=$(tail -n 1 "$out")
passed=$(echo "$summary" | awk '{print $1}')
failed=$(echo "$summary" | awk '{print $3}')
echo "conformance: $passed data sets of claimed operators passed; $refused_ok refused as listed; $unclaimed tests use operators fluidtune does not claim"
echo "fluidtune test said: $summary (exit $rc)"
if [ "$fail" -ne 0 ] || [ "${failed:-1}" != "0" ] || ! [ "${passed:-0}" -gt 0 ] 2>/dev/null; then
  grep -v '^SKIP ' "$out" | grep -v '^PASS ' | head -50
  echo "conformance: FAILED"
  exit 1
fi
echo "conformance: OK"
