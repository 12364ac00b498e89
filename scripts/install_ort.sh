#!/usr/bin/env bash
# install_ort.sh - installs onnxruntime-node (the ONNX Runtime baseline of scripts/ort_bench.js) into
# node_modules/ at the repository root, at the version package-lock.json pins. Quiet and idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install_ort.sh: error: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# Already there and loadable: nothing to do.
if node -e "require('onnxruntime-node')" >/dev/null 2>&1; then
  exit 0
fi

# --ignore-scripts: the package's postinstall fetches optional GPU binaries from outside the npm
# registry and fails offline; the CPU library and the node binding are inside the package itself.
if [ -f package-lock.json ]; then
  cmd=(npm ci)
else
  cmd=(npm install)
fi
if ! log=$("${cmd[@]}" --ignore-scripts --no-audit --no-fund --loglevel=error 2>&1); then
  echo "install_ort.sh: error: '${cmd[*]} --ignore-scripts' failed:" >&2
  echo "$log" >&2
  exit 1
fi
if ! err=$(node -e "require('onnxruntime-node')" 2>&1); then
  echo "install_ort.sh: error: onnxruntime-node installed but does not load:" >&2
  echo "$err" >&2
  exit 1
fi
