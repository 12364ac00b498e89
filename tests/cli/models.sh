#!/usr/bin/env bash
# models.sh - the committed tiny PyTorch exports run through `fluidtune test` against PyTorch's outputs,
# and `fluidtune run` writes outputs that `fluidtune test` accepts back.
set -u
FT=$1
SRC=$2
fails=0
dirs=()
for d in "$SRC"/tests/models/*/; do
  [ -f "$d/model.onnx" ] || continue
  case "$d" in *dynamic*) continue ;; esac
  dirs+=("$d")
done
[ ${#dirs[@]} -gt 0 ] || { echo "no models under tests/models"; exit 1; }
"$FT" test --rtol 1e-4 --atol 1e-5 "${dirs[@]}" || fails=1

dyn=$SRC/tests/models/bert_tiny_dynamic
if [ -d "$dyn" ]; then
  # a dynamic model needs --shape; with it, the test data passes
  if "$FT" run "$dyn/model.onnx" >/dev/null 2>&1; then echo "FAIL: dynamic model ran without --shape"; fails=1; fi
  "$FT" test --shape input_ids=1,16 --shape attention_mask=1,16 "$dyn" || fails=1
fi

# run with --input-dir/--output-dir, then check the written outputs with test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
m=${dirs[0]}
mkdir -p "$tmp/case/test_data_set_0"
cp "$m/model.onnx" "$tmp/case/"
cp "$m"/test_data_set_0/input_*.pb "$tmp/case/test_data_set_0/"
"$FT" run "$tmp/case/model.onnx" --input-dir "$tmp/case/test_data_set_0" --output-dir "$tmp/case/test_data_set_0" -q || fails=1
"$FT" test --rtol 0 --atol 0 "$tmp/case" || fails=1
[ "$fails" -eq 0 ]
