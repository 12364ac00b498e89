#!/usr/bin/env bash
# render_report.sh DIR - screenshots DIR/index.html (a `fluidtune report` folder) with headless Chromium
# into DIR/index.png, so a person can look at the report without a browser.
# Environment: WIDTH and HEIGHT set the window (default 1400x3000); CHROMIUM the browser binary.
set -eu
if [ $# -ne 1 ] || [ ! -f "$1/index.html" ]; then
  echo "usage: $0 DIR   (DIR holds index.html from fluidtune report)" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)
browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
  for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
  done
fi
if [ -z "$browser" ]; then
  echo "$0: chromium not found: install it (Debian: apt-get install -y chromium) or set CHROMIUM" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$dir/index.png"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$dir/index.png" --window-size="${WIDTH:-1400},${HEIGHT:-3000}" "file://$dir/index.html" \
  >"$profile/chromium.log" 2>&1 || { cat "$profile/chromium.log" >&2; exit 1; }
if [ ! -s "$dir/index.png" ]; then
  echo "$0: chromium wrote no screenshot" >&2
  cat "$profile/chromium.log" >&2
  exit 1
fi
echo "wrote $dir/index.png"
