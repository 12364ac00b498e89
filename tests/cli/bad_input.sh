#!/usr/bin/env bash
# bad_input.sh - hostile or wrong input gets one clear line on stderr naming the culprit and exit 2,
# never a crash. Fixtures: tests/data/bad/ (made by make_bad_models.py).
set -u
FT=$1
SRC=$2
BAD=$SRC/tests/data/bad
fails=0
passes=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect CODE PATTERN -- ARGS...: runs fluidtune ARGS, checks the exit code and that stderr matches.
expect() {
  local code=$1 pattern=$2
  shift 3
  "$FT" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || { [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/err"; }; then
    echo "FAIL: fluidtune $* -> exit $rc (want $code), stderr:"
    sed 's/^/    /' "$tmp/err" | head -5
    fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}

expect 2 "truncated|malformed|not an ONNX|parse|decode" -- run "$BAD/not_onnx.onnx"
expect 2 "cycle.*(add_a|relu_b)|(add_a|relu_b).*cycle" -- run "$BAD/cycle.onnx"
expect 2 "w_short" -- run "$BAD/size_mismatch.onnx"
expect 2 "w_neg" -- run "$BAD/negative_dim.onnx"
expect 2 "w_missing" -- run "$BAD/missing_initializer.onnx"
expect 2 "Celu \(node 'celu_node'\).*Hardmax \(node 'hardmax_node'\)" -- run "$BAD/unsupported_op.onnx"
expect 2 "w_ext.*(outside|leaves|escape)|(outside|leaves|escape).*w_ext" -- run "$BAD/external_escape.onnx"
expect 2 "w_abs" -- run "$BAD/external_absolute.onnx"
expect 2 "make_big|big" -- run "$BAD/absurd_shape.onnx"
expect 2 "matmul_bad" -- run "$BAD/shape_mismatch.onnx"
expect 2 "fused_bad.*activation 'swish'" -- run "$BAD/fused_activation.onnx"
expect 2 "'x'.*batch.*--shape" -- run "$BAD/dynamic.onnx"
expect 2 "no input named 'nope'" -- run "$BAD/dynamic.onnx" --shape nope=1,3
expect 2 "--shape" -- run "$BAD/dynamic.onnx" --shape x=1,-3
expect 2 "--shape" -- run "$BAD/dynamic.onnx" --shape x=1,,3
expect 2 "does not fit" -- run "$BAD/dynamic.onnx" --shape x=2,4
expect 2 "no such file|cannot open|No such file" -- run "$tmp/does_not_exist.onnx"
expect 2 "--bench" -- run "$BAD/valid.onnx" --bench 0
expect 2 "unknown command" -- frobnicate
expect 2 "no model.onnx" -- test "$tmp"
expect 0 "" -- run "$BAD/dynamic.onnx" --shape x=5,3

# every prefix length class of a valid model: an error or a clean run, never a crash
for model in "$BAD/valid.onnx" "$SRC/tests/models/bert_tiny/model.onnx"; do
  [ -f "$model" ] || continue
  size=$(stat -c %s "$model")
  for cut in 1 2 5 10 17 33 64 100 1000 10000 $((size / 3)) $((size / 2)) $((size - 1)); do
    [ "$cut" -lt "$size" ] || continue
    head -c "$cut" "$model" >"$tmp/trunc.onnx"
    "$FT" run "$tmp/trunc.onnx" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
      echo "FAIL: $model truncated to $cut bytes -> exit $rc (want 2 and one line), stderr:"
      head -3 "$tmp/err"
      fails=$((fails + 1))
    else
      passes=$((passes + 1))
    fi
  done
done

echo "bad_input: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
