#!/usr/bin/env bash
# tuning.sh - the tuning pipeline as a user runs it: sweep (resumable, shardable, survives kill -9),
# db merge/export/machines, solve, plan show, run and test with the plan, and the plan's refusals.
set -u
FT=$1
SRC=$2
M=$SRC/tests/models/bert_tiny
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0
check() { # check NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@" >"$tmp/check.out" 2>"$tmp/check.err"; then passes=$((passes + 1)); else
    echo "FAIL: $name"; sed 's/^/    /' "$tmp/check.out" "$tmp/check.err" | head -20; fails=$((fails + 1)); fi
  cp "$tmp/check.out" "$tmp/out"
}
FAST=(--samples 3 --min-time 0.2 -q)

# a full sweep, then a rerun that finds nothing left to do
check "sweep" "$FT" sweep "$M/model.onnx" --db "$tmp/a.db" "${FAST[@]}"
total=$(grep -o '^sweep done: [0-9]*' "$tmp/out" | grep -o '[0-9]*$')
check "sweep measured something" test "${total:-0}" -gt 0
check "resume" "$FT" sweep "$M/model.onnx" --db "$tmp/a.db" "${FAST[@]}"
check "resume measures nothing new" grep -q "^sweep done: 0 measured.*$total already measured" "$tmp/out"

# kill -9 in the middle, then the same command finishes the rest and nothing is lost
"$FT" sweep "$M/model.onnx" --db "$tmp/k.db" --samples 20 --min-time 2 -q >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "integrity after kill -9" test "$(sqlite3 "$tmp/k.db" 'PRAGMA integrity_check')" = ok
before=$(sqlite3 "$tmp/k.db" 'SELECT count(*) FROM measurements')
check "rerun after kill -9" "$FT" sweep "$M/model.onnx" --db "$tmp/k.db" "${FAST[@]}"
after=$(sqlite3 "$tmp/k.db" 'SELECT count(*) FROM measurements')
check "killed sweep completes to the same count ($before then $after of $total)" test "$after" -eq "$total"

# two shards merged equal one full sweep; merging again changes nothing
check "shard 1/2" "$FT" sweep "$M/model.onnx" --db "$tmp/s1.db" --shard 1/2 "${FAST[@]}"
check "shard 2/2" "$FT" sweep "$M/model.onnx" --db "$tmp/s2.db" --shard 2/2 "${FAST[@]}"
check "merge" "$FT" db merge "$tmp/merged.db" "$tmp/s1.db" "$tmp/s2.db"
check "merge again" "$FT" db merge "$tmp/merged.db" "$tmp/s1.db" "$tmp/s2.db"
check "second merge adds nothing" grep -q "0 measurements added" "$tmp/out"
n=$(sqlite3 "$tmp/merged.db" 'SELECT count(*) FROM measurements')
check "merged shards hold every candidate ($n of $total)" test "$n" -eq "$total"
check "db machines" "$FT" db machines "$tmp/merged.db"
check "db export csv" "$FT" db export "$tmp/merged.db" --format csv -o "$tmp/m.csv"
check "csv has a row per measurement" test "$(($(wc -l <"$tmp/m.csv") - 1))" -eq "$total"
check "db export json" "$FT" db export "$tmp/merged.db" --format json -o "$tmp/m.json"
check "json parses" /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/m.json"

# solve, show, run and test with the plan
check "solve" "$FT" solve "$M/model.onnx" --db "$tmp/a.db" -o "$tmp/p.fplan"
check "solve proves optimality" grep -q "proven optimal" "$tmp/out"
check "plan show" "$FT" plan show "$tmp/p.fplan"
check "plan show --json" sh -c "'$FT' plan show '$tmp/p.fplan' --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"nodes\"] and d[\"arena_bytes\"] > 0'"
check "test with the plan" "$FT" test "$M" --plan "$tmp/p.fplan"
check "run with the plan" "$FT" run "$M/model.onnx" --plan "$tmp/p.fplan" --bench 3
check "profile with the plan" "$FT" run "$M/model.onnx" --plan "$tmp/p.fplan" --profile -q
cp "$tmp/out" "$tmp/profile.out"
check "profile beside the plan's prediction" grep -q '^profile: 10 runs, .* per run in [0-9]* nodes (the plan predicted' "$tmp/profile.out"
check "profile counts every node once" awk '/^profile:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "nodes") want = $i }
  /^op type/ { t = 1; next } /^slowest/ { t = 0 } t { got += $2 } END { exit !(want > 0 && got == want) }' "$tmp/profile.out"
check "profile shows the fused MatMuls" grep -q '^FusedMatMul ' "$tmp/profile.out"

# refusals: another model, a truncated plan file, a database of another program
"$FT" run "$SRC/tests/models/gpt2_tiny/model.onnx" --plan "$tmp/p.fplan" >/dev/null 2>"$tmp/refusal.err"
check "plan for another model is refused" sh -c "[ $? -eq 2 ] && grep -q 'another model' '$tmp/refusal.err'"
FLUIDTUNE_NO_FUSION=1 "$FT" run "$M/model.onnx" --plan "$tmp/p.fplan" >/dev/null 2>"$tmp/refusal.err"
check "plan solved with fusion is refused on the unfused graph" sh -c "[ $? -eq 2 ] && grep -q 'FLUIDTUNE_NO_FUSION' '$tmp/refusal.err'"
head -c 50 "$tmp/p.fplan" >"$tmp/trunc.fplan"
"$FT" run "$M/model.onnx" --plan "$tmp/trunc.fplan" >/dev/null 2>"$tmp/refusal.err"
check "truncated plan is refused" sh -c "[ $? -eq 2 ] && grep -q 'not a fluidtune plan' '$tmp/refusal.err'"
sqlite3 "$tmp/foreign.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
"$FT" sweep "$M/model.onnx" --db "$tmp/foreign.db" -q >/dev/null 2>"$tmp/refusal.err"
check "foreign database is refused" sh -c "[ $? -eq 2 ] && [ \$(sqlite3 '$tmp/foreign.db' 'SELECT count(*) FROM t') = 1 ]"

echo "tuning: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
