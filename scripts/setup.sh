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
echo "== main job: $MODEL"
echo "-- conformance of the bundled model against PyTorch's outputs"
./build/fluidtune test "$MODEL"
echo "-- timing the default plan"
./build/fluidtune run "$MODEL/model.onnx" --bench 20
