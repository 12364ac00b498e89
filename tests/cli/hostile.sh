#!/usr/bin/env bash
# hostile.sh - hostile files and faults through the command line (findings of fuzzing and of the
# hostile-input review; docs/hostile-inputs.md lists them): FIFOs and symlinks where files belong,
# absurd shapes, garbage tensors and plans, and tuning databases that are corrupt, foreign, newer,
# read-only or on a full disk. Each gets one clear error line and the right exit code, never a hang or
# a crash, and no measurement a sweep completed is lost.
set -u
FT=$1
SRC=$2
M=$SRC/tests/models/bert_tiny/model.onnx
BAD=$SRC/tests/data/bad
fails=0
passes=0
skips=0
tmp=$(mktemp -d)
cleanup() {
  chattr -i "$tmp"/* "$tmp"/*/* 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

pass() { passes=$((passes + 1)); }
fail() {
  echo "FAIL: $*"
  [ -f "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -5
  fails=$((fails + 1))
}
skip() {
  echo "SKIP: $*"
  skips=$((skips + 1))
}

# expect NAME CODE PATTERN -- ARGS...: fluidtune ARGS (at most 60 s) exits CODE with one stderr line
# matching PATTERN.
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  timeout 60 "$FT" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -eq 124 ]; then
    fail "$name: hangs (fluidtune $*)"
  elif [ -z "$pattern" ] && { [ "$rc" -ne "$code" ] || [ -s "$tmp/err" ]; }; then
    fail "$name: exit $rc (want $code and nothing on stderr)"
  elif [ -n "$pattern" ] && { [ "$rc" -ne "$code" ] || ! grep -qE -- "$pattern" "$tmp/err" ||
    [ "$(grep -c . "$tmp/err")" -ne 1 ]; }; then
    fail "$name: exit $rc (want $code and one line matching '$pattern')"
  else
    pass
  fi
}

count() { sqlite3 "$1" 'SELECT count(*) FROM measurements'; }
digest() { sha256sum "$1" | cut -d' ' -f1; }

# ---------- FIFOs where a file belongs: opening one without a writer used to wait forever ----------
mkfifo "$tmp/fifo.onnx" "$tmp/fifo.fplan"
mkdir -p "$tmp/inputs"
mkfifo "$tmp/inputs/input_0.pb"
expect "model is a FIFO" 2 "fifo.onnx.*not a regular file" -- run "$tmp/fifo.onnx"
expect "plan is a FIFO" 2 "fifo.fplan.*not a regular file" -- run "$BAD/valid.onnx" --plan "$tmp/fifo.fplan"
expect "plan show of a FIFO" 2 "not a regular file" -- plan show "$tmp/fifo.fplan"
expect "input tensor is a FIFO" 2 "input_0.pb.*not a regular file" -- run "$BAD/valid.onnx" --input-dir "$tmp/inputs"

# ---------- external data: a FIFO, a folder, a symlink out, a range past the end ----------
if /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
  mkdir -p "$tmp/ext"
  /usr/bin/python3 - "$tmp/ext" <<'EOF'
import sys
from onnx import helper, TensorProto, save
def model(name, loc, n, offset=None):
    w = TensorProto(name="w_ext", data_type=TensorProto.FLOAT, dims=[n], data_location=TensorProto.EXTERNAL)
    for k, v in (("location", loc), ("offset", offset)):
        if v is not None:
            e = w.external_data.add(); e.key = k; e.value = v
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])
    g = helper.make_graph([helper.make_node("Add", ["x", "w_ext"], ["y"])], "ext", [x], [y], [w])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), f"{sys.argv[1]}/{name}.onnx")
model("fifo", "pipe", 4)
model("folder", "adir", 4)
model("symlink", "link.bin", 4)
model("past_end", "w.bin", 4, "20")
model("ok", "w.bin", 4)
EOF
  mkfifo "$tmp/ext/pipe"
  mkdir "$tmp/ext/adir"
  head -c 16 /dev/zero >"$tmp/ext/w.bin"
  head -c 16 /dev/zero >"$tmp/outside.bin"
  ln -s "$tmp/outside.bin" "$tmp/ext/link.bin"
  expect "external data in a FIFO" 2 "w_ext.*not a regular file" -- run "$tmp/ext/fifo.onnx"
  expect "external data in a folder" 2 "w_ext.*not a regular file" -- run "$tmp/ext/folder.onnx"
  expect "external data through a symlink out of the folder" 2 "w_ext.*outside the model's folder" -- run "$tmp/ext/symlink.onnx"
  expect "external data past the end of its file" 2 "w_ext.*beyond the end" -- run "$tmp/ext/past_end.onnx"
  expect "external data inside the folder loads" 0 "" -- run "$tmp/ext/ok.onnx" -q
else
  skip "external data cases (no python3-onnx to write the models)"
fi

# ---------- shapes and tensors ----------
expect "--shape with more elements than fluidtune allows" 2 "--shape.*elements" -- run "$BAD/dynamic.onnx" --shape x=2147483648,2147483648
expect "--shape with a dim past 2^31" 2 "--shape.*out of range" -- run "$BAD/dynamic.onnx" --shape x=1,99999999999999999999
printf 'definitely not a TensorProto \377\377\377' >"$tmp/inputs/input_0.pb.garbage"
rm -f "$tmp/inputs/input_0.pb"
cp "$tmp/inputs/input_0.pb.garbage" "$tmp/inputs/input_0.pb"
expect "garbage input tensor" 2 "input_0.pb" -- run "$BAD/valid.onnx" --input-dir "$tmp/inputs"
# a TensorProto claiming 2^40 floats with no data: refused by size, nothing allocated
printf '\x08\x80\x80\x80\x80\x80\x20\x10\x01\x42\x01x' >"$tmp/inputs/input_0.pb"
expect "input tensor with an absurd shape and no data" 2 "input_0.pb.*elements" -- run "$BAD/valid.onnx" --input-dir "$tmp/inputs"
head -c 3000 /dev/urandom >"$tmp/garbage.fplan"
expect "garbage plan file" 2 "garbage.fplan" -- run "$BAD/valid.onnx" --plan "$tmp/garbage.fplan"

# ---------- tuning databases ----------
SWEEP=(--ops Softmax,LayerNormalization --samples 1 --min-time 0.01 -q)
if ! "$FT" sweep "$M" --db "$tmp/good.db" "${SWEEP[@]}" >"$tmp/out" 2>"$tmp/err"; then
  fail "sweep for the database fixtures"
else
  sqlite3 "$tmp/good.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
  total=$(count "$tmp/good.db")
  [ "$total" -gt 0 ] && pass || fail "the fixture sweep measured nothing"

  # refused DB NAME PATTERN: sweep, solve and db export refuse it with exit 2 and leave its bytes alone
  refused() {
    local db=$1 name=$2 pattern=$3 before
    before=$(digest "$db")
    expect "sweep on $name" 2 "$pattern" -- sweep "$M" --db "$db" "${SWEEP[@]}"
    expect "solve on $name" 2 "$pattern" -- solve "$M" --db "$db" -o "$tmp/p.fplan"
    expect "db export of $name" 2 "$pattern" -- db export "$db" --format csv
    [ "$(digest "$db")" = "$before" ] && pass || fail "$name was modified by a refused command"
  }

  # a damaged page in the middle of the file: found before anything is written (it used to be found,
  # or not, only when a query happened to read that page, after the sweep had written to the file)
  cp "$tmp/good.db" "$tmp/corrupt.db"
  pages=$(($(stat -c %s "$tmp/good.db") / 4096))
  for page in $((pages / 2)) $((pages - 2)); do
    cp "$tmp/good.db" "$tmp/corrupt.db"
    head -c 4096 /dev/zero | tr '\0' '\245' | dd of="$tmp/corrupt.db" bs=4096 seek="$page" conv=notrunc 2>/dev/null
    refused "$tmp/corrupt.db" "a database with page $((page + 1)) of $pages overwritten" "corrupt.db.*corrupt"
  done
  head -c $(($(stat -c %s "$tmp/good.db") / 2)) "$tmp/good.db" >"$tmp/truncated.db"
  refused "$tmp/truncated.db" "a database cut in half" "truncated.db.*corrupt"
  printf 'machine,median\n1,2\n' >"$tmp/text.db"
  refused "$tmp/text.db" "a text file" "text.db.*not an SQLite file"
  cp "$tmp/good.db" "$tmp/foreign.db"
  sqlite3 "$tmp/foreign.db" 'PRAGMA application_id = 1234'
  refused "$tmp/foreign.db" "another program's SQLite file" "foreign.db.*not a fluidtune database"
  cp "$tmp/good.db" "$tmp/newer.db"
  sqlite3 "$tmp/newer.db" "UPDATE meta SET value = '99' WHERE key = 'schema_version'"
  refused "$tmp/newer.db" "a database of a newer schema" "newer.db.*schema version 99 is newer"
  [ "$(count "$tmp/newer.db")" -eq "$total" ] && pass || fail "the newer database lost measurements"

  # read-only: root writes through permission bits, so an immutable file stands in for one there
  cp "$tmp/good.db" "$tmp/ro.db"
  if [ "$(id -u)" -ne 0 ]; then
    chmod 444 "$tmp/ro.db"
    chmod 555 "$tmp"
    ro_ok=1
  elif chattr +i "$tmp/ro.db" 2>/dev/null; then
    ro_ok=1
  else
    ro_ok=0
  fi
  if [ "$ro_ok" -eq 1 ]; then
    expect "sweep on a read-only database" 1 "ro.db.*cannot be written" -- sweep "$M" --db "$tmp/ro.db" --ops MatMul --samples 1 --min-time 0.01 -q
    chattr -i "$tmp/ro.db" 2>/dev/null
    chmod 755 "$tmp"
    chmod 644 "$tmp/ro.db"
    [ "$(count "$tmp/ro.db")" -eq "$total" ] && pass || fail "the read-only database lost measurements"
  else
    skip "read-only database (running as root and chattr +i is not supported on $tmp's file system)"
  fi

  # read-only in the middle of a sweep: the sweep stops with a clear error, every measurement it
  # reported is in the file, and the same command then finishes the rest
  LONG=(--ops Softmax,LayerNormalization,MatMul --samples 3 --min-time 20 -q)
  if [ "$(id -u)" -eq 0 ] && touch "$tmp/probe" && chattr +i "$tmp/probe" 2>/dev/null; then
    chattr -i "$tmp/probe"
    "$FT" sweep "$M" --db "$tmp/mid.db" "${LONG[@]}" >"$tmp/mid.out" 2>"$tmp/err" &
    pid=$!
    n=0
    for _ in $(seq 600); do
      n=$(count "$tmp/mid.db" 2>/dev/null)
      [ "${n:-0}" -ge 3 ] && break
      sleep 0.1
    done
    chattr +i "$tmp/mid.db" "$tmp/mid.db-wal"
    wait $pid
    rc=$?
    chattr -i "$tmp/mid.db" "$tmp/mid.db-wal"
    got=$(grep -oE '^sweep failed: [0-9]+' "$tmp/mid.out" | grep -oE '[0-9]+$')
    if [ "$rc" -ne 1 ] || [ -z "$got" ] || ! grep -q "mid.db" "$tmp/err"; then
      fail "sweep made read-only midway: exit $rc (want 1, a 'sweep failed' line and an error naming the file)"
    else
      pass
      [ "$(count "$tmp/mid.db")" -eq "$got" ] && pass || fail "read-only midway: $got measured, $(count "$tmp/mid.db") in the file"
      [ "$(sqlite3 "$tmp/mid.db" 'PRAGMA integrity_check')" = ok ] && pass || fail "read-only midway: integrity check"
      if "$FT" sweep "$M" --db "$tmp/mid.db" "${LONG[@]}" >"$tmp/out" 2>"$tmp/err" &&
        grep -qE "^sweep done: [0-9]+ measured.*, $got already measured, 0 left" "$tmp/out"; then pass; else
        fail "read-only midway: the rerun does not resume from the $got measurements"; fi
    fi
  else
    skip "read-only midway through a sweep (needs root and chattr +i on $tmp's file system)"
  fi

  # a full disk midway: the same, on a small tmpfs in a private mount namespace, starting from the
  # fixture database (its measurements must survive too)
  if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
    mkdir -p "$tmp/small"
    unshare -m --propagation private bash -c '
      FT=$1 M=$2 d=$3
      shift 3
      mount -t tmpfs -o size=4m tmpfs "$d" || exit 9
      cp "$d/../good.db" "$d/full.db"
      avail=$(df -k --output=avail "$d" | tail -1)
      head -c $(((avail - 240) * 1024)) /dev/zero >"$d/filler"
      "$FT" sweep "$M" --db "$d/full.db" "$@" >"$d/../full.out" 2>"$d/../full.err"
      echo $? >"$d/../full.rc"
      sqlite3 "$d/full.db" "SELECT count(*) FROM measurements" >"$d/../full.count"
      sqlite3 "$d/full.db" "PRAGMA integrity_check" >"$d/../full.check"
      rm "$d/filler"
      "$FT" sweep "$M" --db "$d/full.db" "$@" >"$d/../full2.out" 2>&1
    ' _ "$FT" "$M" "$tmp/small" "${LONG[@]}"
    if [ $? -eq 9 ]; then
      skip "full disk (cannot mount a tmpfs)"
    else
      got=$(grep -oE '^sweep failed: [0-9]+' "$tmp/full.out" | grep -oE '[0-9]+$')
      cp "$tmp/full.err" "$tmp/err"
      if [ "$(cat "$tmp/full.rc")" -ne 1 ] || [ -z "$got" ] || ! grep -q "full.db.*full" "$tmp/full.err"; then
        fail "sweep on a full disk: exit $(cat "$tmp/full.rc") (want 1, a 'sweep failed' line and 'full' naming the file)"
      else
        pass
        have=$(cat "$tmp/full.count")
        [ "$have" -eq $((total + got)) ] && pass || fail "full disk: $total + $got measured, $have in the file"
        [ "$(cat "$tmp/full.check")" = ok ] && pass || fail "full disk: integrity check"
        grep -qE "^sweep done: [0-9]+ measured.*, $have already measured, 0 left" "$tmp/full2.out" && pass ||
          fail "full disk: the rerun with room again does not resume from the $have measurements"
      fi
    fi
  else
    skip "full disk (needs root to mount a small tmpfs in a private mount namespace)"
  fi
fi

echo "hostile: $passes passed, $fails failed, $skips skipped"
[ "$fails" -eq 0 ]
