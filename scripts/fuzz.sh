#!/usr/bin/env bash
# fuzz.sh - builds the libFuzzer harnesses (fuzz/, clang, ASan+UBSan+LeakSanitizer), makes their seed
# corpora and runs each for a given time; reports executions, speed and findings per harness.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     SECONDS per harness, default 60 (600 = the 10 minutes
#                                              the hostile-input issue asks for); HARNESS among
#                                              onnx tensor_pb plan shape cli (default: all)
#
# Corpora grow across runs in build-fuzz/corpus/<harness>; seeds are remade each run in
# build-fuzz/seeds/<harness> from tests/models, tests/data, libonnx-testdata's model.onnx and .pb files,
# and a plan that `fluidtune solve` (of this very build, so the plan's build id matches) makes for
# tests/models/bert_tiny. Findings (crash-*, leak-*, timeout-*, oom-*) land in build-fuzz/findings/<harness>;
# reproduce one with `build-fuzz/fuzz_<harness> FILE`. Exit status 1 when any harness found something.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-60}
shift || true
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(onnx tensor_pb plan shape cli)
case $SECS in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [HARNESS...]" >&2; exit 2 ;; esac
TESTDATA=/usr/share/libonnx-testdata/data
B=$ROOT/build-fuzz

echo "== build ($B, clang, -fsanitize=fuzzer,address,undefined)"
cmake -S fuzz -B "$B" -DCMAKE_C_COMPILER=clang >/dev/null
cmake --build "$B" -j2 >"$B/build.log" 2>&1 || { tail -40 "$B/build.log"; exit 1; }

# seeds <harness>: a fresh seed folder
seeds() {
  rm -rf "$B/seeds/$1"
  mkdir -p "$B/seeds/$1" "$B/corpus/$1" "$B/findings/$1"
  echo "$B/seeds/$1"
}

# copy_small MAXBYTES DEST FILE...: copies each file no larger than MAXBYTES under a unique name
copy_small() {
  /usr/bin/python3 - "$@" <<'EOF'
import os, shutil, sys
limit, dest = int(sys.argv[1]), sys.argv[2]
start = len(os.listdir(dest))
for i, f in enumerate(p for p in sys.argv[3:] if os.path.isfile(p) and os.path.getsize(p) <= limit):
    shutil.copyfile(f, os.path.join(dest, f"{start + i:05d}_{os.path.basename(f)}"))
EOF
}

make_seeds() {
  local h=$1 d
  d=$(seeds "$h")
  case $h in
  onnx)
    copy_small 1048576 "$d" "$ROOT"/tests/models/*/model.onnx "$ROOT"/tests/data/bad/*.onnx
    if [ -d "$TESTDATA" ]; then
      copy_small 65536 "$d" "$TESTDATA"/*/*/model.onnx
      # node tests with their integer inputs bound as constants, and extreme-integer variants of them
      /usr/bin/python3 fuzz/make_onnx_seeds.py "$d" "$TESTDATA/node" >/dev/null || echo "(no python3-onnx: no bound node-test seeds)"
    fi
    # external data naming each kind of target in the harness's model folder (see fuzz_onnx.c)
    /usr/bin/python3 - "$d" <<'EOF' || echo "(python3-onnx missing: no external-data seeds)"
import sys
from onnx import helper, TensorProto, save
out = sys.argv[1]
for i, (loc, off, length) in enumerate([("weights.bin", None, None), ("weights.bin", "64", "256"),
        ("sub/w.bin", None, None), ("link_in.bin", "0", "4096"), ("link_out.bin", None, None),
        ("../outside.bin", None, None), ("/etc/hostname", None, None), ("adir", None, None),
        ("pipe", None, "16"), ("weights.bin", "4095", "8")]):
    n = int(length) // 4 if length else {"sub/w.bin": 64, "link_out.bin": 16, "../outside.bin": 16}.get(loc, 1024)
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[n], data_location=TensorProto.EXTERNAL)
    for k, v in (("location", loc), ("offset", off), ("length", length)):
        if v is not None:
            e = w.external_data.add(); e.key = k; e.value = v
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "ext", [x], [y], [w])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), f"{out}/ext_{i}.onnx")
EOF
    ;;
  tensor_pb)
    copy_small 65536 "$d" "$ROOT"/tests/models/*/test_data_set_0/*.pb
    [ -d "$TESTDATA" ] && copy_small 16384 "$d" "$TESTDATA"/*/*/test_data_set_*/*.pb
    ;;
  plan)
    local tmp m=$ROOT/tests/models/bert_tiny/model.onnx
    tmp=$(mktemp -d)
    # a short sweep gives a few tuned choices; the solver takes defaults for the rest
    "$B/main/fluidtune" sweep "$m" --db "$tmp/t.db" --budget 20s --samples 1 --min-time 0.01 -q >/dev/null 2>&1 || true
    "$B/main/fluidtune" solve "$m" --db "$tmp/t.db" -o "$d/bert_tiny.fplan" >/dev/null 2>&1
    "$B/main/fluidtune" sweep "$m" --db "$tmp/s.db" --ops Softmax --samples 1 --min-time 0.01 -q >/dev/null 2>&1
    "$B/main/fluidtune" solve "$m" --db "$tmp/s.db" -o "$d/bert_tiny_softmax.fplan" >/dev/null 2>&1
    rm -rf "$tmp"
    ;;
  shape)
    local i=0
    for s in 'input_ids=1,128' 'x=' 'x=0' 'a=1,2,3,4,5,6,7,8' 'a=1,2,3,4,5,6,7,8,9' 'b=2147483648' 'b=2147483649' \
      'c=1,,2' 'c=1,2,' 'c=-1' 'c=+1' 'c= 1' 'd=99999999999999999999' '=1' 'noequals' 'a=b=1' \
      $'x=1\nx=2' $'a=65536,65536,65536\nb=1'; do
      printf '%s' "$s" >"$d/seed_$i"
      i=$((i + 1))
    done
    ;;
  cli)
    local i=0
    for s in '--help' 'version' 'frobnicate' '' $'run\n--help' $'run\nm.onnx\n--bench\n0' $'run\nm.onnx\n--shape\nx=1,,2' \
      $'test\n--help' $'test\n.' $'sweep\n--help' $'sweep\nm.onnx\n--db\nt.db\n--samples\n0' \
      $'sweep\nm.onnx\n--db\nt.db\n--shard\n3/2' $'sweep\nm.onnx\n--db\nt.db\n--budget\n10x' \
      $'sweep\nm.onnx\n--db\nt.db\n--counters\nbogus' $'solve\n--help' $'solve\nm.onnx\n--db\nt.db\n-o\np.fplan' \
      $'plan\nshow\np.fplan\n--json' $'plan\n--help' $'db\nmachines\nt.db' $'db\nexport\nt.db\n--format\nxml' \
      $'db\nmerge\nout.db\nin.db' $'candidates\nm.onnx' $'report\n--help' $'report\na.db\n-o\nr'; do
      printf '%s' "$s" >"$d/seed_$i"
      i=$((i + 1))
    done
    ;;
  esac
}

# max_len per harness: room for the seeds that matter without slowing every mutation
declare -A MAXLEN=([onnx]=65536 [tensor_pb]=65536 [plan]=65536 [shape]=1024 [cli]=2048)
declare -A EXTRA=([cli]="-close_fd_mask=3")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=()
found=0
for h in "${HARNESSES[@]}"; do
  [ -x "$B/fuzz_$h" ] || { echo "no harness '$h' (onnx tensor_pb plan shape cli)" >&2; exit 2; }
  echo "== fuzz_$h: seeds"
  make_seeds "$h"
  dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  log=$B/fuzz_$h.log
  echo "== fuzz_$h: ${SECS}s (log $log)"
  # shellcheck disable=SC2086
  "$B/fuzz_$h" "$B/corpus/$h" "$B/seeds/$h" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
    -max_len="${MAXLEN[$h]}" -print_final_stats=1 -artifact_prefix="$B/findings/$h/" "${dict[@]}" ${EXTRA[$h]:-} \
    >"$log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || echo '?')
  n=$(find "$B/findings/$h" -type f | wc -l)
  [ "$n" -eq 0 ] || found=1
  summary+=("$(printf '%-10s %8ss %12s %10s %8s %9s' "$h" "$SECS" "$execs" "$rate" "$cov" "$n")")
  if [ "$n" -ne 0 ]; then
    find "$B/findings/$h" -type f | sed 's/^/    finding: /'
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/    /' || true
  fi
done
echo
printf '%-10s %9s %12s %10s %8s %9s\n' harness time executions exec/s cov findings
printf '%s\n' "${summary[@]}"
exit $found
