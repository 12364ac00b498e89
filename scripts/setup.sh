#!/usr/bin/env bash
# setup.sh - installs fluidtune's dependencies (Debian 12, apt-get), builds it, and runs the main job
# on the bundled tiny BERT model. Run as root (or with sudo). --deps-only stops after installing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEPS=(build-essential cmake clang pkg-config git
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata
      libsqlite3-dev sqlite3 libpfm4-dev libcmocka-dev gnuplot-nox libopenblas-dev
      python3-onnx python3-torch)

missing=()
for p in "${DEPS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "== dependencies already installed"
fi
[ "${1:-}" = "--deps-only" ] && exit 0

echo "== building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

MODEL=tests/models/bert_tiny
WORK=build/demo
mkdir -p "$WORK"
FT=./build/fluidtune
echo "== main job on the bundled model $MODEL (a 2-layer BERT exported from PyTorch)"
echo "-- 1. correctness against PyTorch's outputs"
$FT test "$MODEL"
echo "-- 2. sweep: verify and time every candidate kernel on this machine into $WORK/tune.db"
$FT sweep "$MODEL/model.onnx" --db "$WORK/tune.db" --samples 5 --min-time 0.5
echo "-- 3. solve: whole-graph layouts, kernels and memory plan into $WORK/bert_tiny.fplan"
$FT solve "$MODEL/model.onnx" --db "$WORK/tune.db" -o "$WORK/bert_tiny.fplan" --top 5
echo "-- 4. run with the plan, checked against PyTorch again"
$FT test "$MODEL" --plan "$WORK/bert_tiny.fplan"
echo "-- 5. default plan vs tuned plan, interleaved"
for round in 1 2 3; do
  $FT run "$MODEL/model.onnx" --bench 200 -q | sed "s/^/default  round $round: /"
  $FT run "$MODEL/model.onnx" --plan "$WORK/bert_tiny.fplan" --bench 200 -q | sed "s/^/tuned    round $round: /"
done
echo "== done. Next: /usr/bin/python3 scripts/export_models.py --model bert (full size), then"
echo "   scripts/bench_e2e.sh models/bert/model.onnx for tuned vs default vs ONNX Runtime."
