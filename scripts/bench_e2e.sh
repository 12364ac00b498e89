#!/usr/bin/env bash
# bench_e2e.sh - end-to-end benchmark of one model: sweeps and solves it if needed, then times, in
# interleaved rounds of fresh processes, fluidtune's default plan without and with memory reuse, the
# tuned plan, and ONNX Runtime on one thread; prints a table and the tuned-vs-default/-ORT ratios.
set -euo pipefail
# Braced so bash reads the whole script before running any of it: editing it during a long run
# cannot derail that run.
{
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  cat <<'EOF'
usage: scripts/bench_e2e.sh MODEL.onnx [options]

Sweeps MODEL into DB (resumes; measures nothing when the DB is complete), solves PLAN when the DB
is newer than it or it was made by another build, then runs R interleaved rounds of five fresh
processes each, all single-threaded and pinned alike:
  (a) default-noreuse  fluidtune run --no-reuse --bench N   default plan, every tensor its own bytes
  (b) default          fluidtune run --bench N              default plan with the memory planner
  (c) tuned            fluidtune run --plan PLAN --bench N
  (d) onnxruntime      node scripts/ort_bench.js --bench N  (1 thread, sequential, optimization 'all')
  (e) default-unfused  FLUIDTUNE_NO_FUSION=1 fluidtune run --bench N   default plan, MatMul epilogues
                       (bias, residual, activation) left as separate nodes
Per configuration: the median over rounds of the per-round medians, the min over rounds, and the
max peak RSS. The order of the five rotates from round to round. All see the same seeded inputs.
The last lines of the output are
  fusion: default vs default unfused: X.XXx latency      (b over e)
  tuned vs default: X.XXx latency                        (c over b)
  tuned vs onnxruntime: X.XXx latency, Y.YYx peak RSS    (c over d)

options:
  --rounds R          interleaved rounds (default 5)
  --runs N            timed runs per process (default 20)
  --db DB             tuning database (default: <dir of the model's folder>/<name>.db, e.g.
                      models/bert.db for models/bert/model.onnx)
  --budget DURATION   sweep budget (e.g. 10m; default: none, sweep to the end)
  --shape NAME=DIMS   fix a dynamic input dim, passed to sweep, solve and all runs (repeatable)
  --build DIR         fluidtune build directory, configured Release and built if needed
                      (default: build)
  --fluidtune BIN     use this fluidtune binary as it is (no build)
  --no-pin            run everything unpinned (default: everything under taskset -c 0)
  --resolve           solve again even if the plan looks up to date
  --no-cpu-time       skip the CPU time per run (by default each round also runs every
                      configuration with --bench 1, and (CPU(N runs) - CPU(1 run)) / (N - 1) is
                      its CPU time per run: on a shared machine, steadier than wall time)
  --quick             smoke test: 1 round, 3 runs, no CPU time, sweep budget 2m unless --budget
                      is given
  -h, --help          this help
EOF
}

die() { echo "bench_e2e.sh: error: $*" >&2; exit 2; }

model="" rounds=5 runs=20 db="" budget="" build="$root/build" ft="" pin=1 resolve=0 quick=0 cpu_time=1
shapes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds|--runs|--db|--budget|--shape|--build|--fluidtune) [ $# -ge 2 ] || die "$1 needs a value" ;;
  esac
  case "$1" in
    --rounds) rounds=${2:-}; shift 2 ;;
    --runs) runs=${2:-}; shift 2 ;;
    --db) db=${2:-}; shift 2 ;;
    --budget) budget=${2:-}; shift 2 ;;
    --shape) shapes+=(--shape "${2:-}"); shift 2 ;;
    --build) build=${2:-}; shift 2 ;;
    --fluidtune) ft=${2:-}; shift 2 ;;
    --no-pin) pin=0; shift ;;
    --resolve) resolve=1; shift ;;
    --no-cpu-time) cpu_time=0; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *) [ -z "$model" ] || die "expected exactly one MODEL.onnx"; model=$1; shift ;;
  esac
done
[ -n "$model" ] || { usage >&2; die "expected MODEL.onnx"; }
[ -f "$model" ] || die "$model: no such file"
if [ $quick = 1 ]; then
  rounds=1 runs=3 cpu_time=0
  [ -n "$budget" ] || budget=2m
fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds takes a count >= 1, not '$rounds'"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs takes a count >= 1, not '$runs'"
[ "$runs" -ge 2 ] || cpu_time=0

model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
mdir=$(dirname "$model")
if [ "$(basename "$model")" = model.onnx ]; then
  name=$(basename "$mdir")
  [ -n "$db" ] || db=$(dirname "$mdir")/$name.db
else
  name=$(basename "$model" .onnx)
  [ -n "$db" ] || db=$mdir/$name.db
fi
plan=${db%.db}.fplan

# --- tools -------------------------------------------------------------------------------------
if [ -n "$ft" ]; then
  [ -x "$ft" ] || die "--fluidtune $ft: not an executable"
  ft=$(cd "$(dirname "$ft")" && pwd)/$(basename "$ft")
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
    { echo "bench_e2e.sh: error: cmake configure of $build failed" >&2; exit 1; }
  if ! log=$(cmake --build "$build" -j2 --target fluidtune 2>&1); then
    echo "$log" | grep -E 'error|Error' | head -20 >&2
    echo "bench_e2e.sh: error: building fluidtune in $build failed (--fluidtune BIN runs an existing binary)" >&2
    exit 1
  fi
  ft=$build/fluidtune
fi
"$root/scripts/install_ort.sh"
ort_version=$(cd "$root" && node -p "require('onnxruntime-node/package.json').version")

pin_cmd=()
if [ $pin = 1 ]; then
  command -v taskset >/dev/null || die "taskset not found (util-linux); use --no-pin"
  pin_cmd=(taskset -c 0)
fi

echo "== $name: $model"
echo "   fluidtune $("$ft" version | awk '{print $2}') ($ft), onnxruntime-node $ort_version"
echo "   db $db, plan $plan"
echo "   $rounds rounds x $runs runs per process; pinning: $([ $pin = 1 ] && echo 'taskset -c 0 for all five' || echo 'none for all five')"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

# --- sweep and solve ---------------------------------------------------------------------------
# The plan is stale when it is missing, older than the DB (looked at before the sweep, which always
# writes to the DB), made by another kernel build, or when this sweep measured anything.
need_solve=$resolve
if [ ! -f "$plan" ]; then
  need_solve=1
else
  for f in "$db" "$db-wal"; do
    if [ -f "$f" ] && [ "$f" -nt "$plan" ]; then need_solve=1; fi
  done
  # a plan from another kernel build is refused by `run --plan`
  shown=$("$ft" plan show "$plan" 2>/dev/null || true)
  grep -q '^ *kernel build .*(this build)' <<<"$shown" || need_solve=1
fi
sweep_args=(sweep "$model" --db "$db" "${shapes[@]}")
[ -n "$budget" ] && sweep_args+=(--budget "$budget")
echo "== fluidtune ${sweep_args[*]}"
# The sweep resumes by itself: when the DB is complete it only loads the model and measures nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$ft" "${sweep_args[@]}" >"$tmp/sweep.log" 2>&1; then
  cat "$tmp/sweep.log" >&2
  echo "bench_e2e.sh: error: sweep failed" >&2
  exit 1
fi
tr '\r' '\n' <"$tmp/sweep.log" | grep -E '^sweep( [a-z]+)?:' | sed -n '1p;$p' || true
if tr '\r' '\n' <"$tmp/sweep.log" | grep -q '^sweep interrupted:'; then
  echo "   warning: the sweep is incomplete; nodes it did not reach keep their default kernel in the plan"
fi

measured=$(tr '\r' '\n' <"$tmp/sweep.log" | sed -n 's/^sweep [a-z]*: \([0-9]*\) measured.*/\1/p' | tail -1)
[ "${measured:-1}" = 0 ] || need_solve=1
if [ $need_solve = 1 ]; then
  echo "== fluidtune solve $model --db $db -o $plan ${shapes[*]}"
  "$ft" solve "$model" --db "$db" -o "$plan" "${shapes[@]}" || { echo "bench_e2e.sh: error: solve failed" >&2; exit 1; }
else
  echo "== $plan is up to date (solve skipped; --resolve forces it):"
  grep -E '^ *(arena|predicted) ' <<<"$shown" || true
  # the sweep's bookkeeping just wrote to the DB: mark the plan as checked against it
  touch "$plan"
fi

# --- interleaved rounds ------------------------------------------------------------------------
configs=(a b c d e)
declare -A label=([a]="(a) default, no reuse" [b]="(b) default" [c]="(c) tuned" [d]="(d) onnxruntime 1T"
                  [e]="(e) default, unfused")
run_config() { # CONFIG RUNS
  case "$1" in
    a) "${pin_cmd[@]}" "$ft" run "$model" "${shapes[@]}" --no-reuse --bench "$2" -q ;;
    b) "${pin_cmd[@]}" "$ft" run "$model" "${shapes[@]}" --bench "$2" -q ;;
    c) "${pin_cmd[@]}" "$ft" run "$model" "${shapes[@]}" --plan "$plan" --bench "$2" -q ;;
    d) (cd "$root" && "${pin_cmd[@]}" node scripts/ort_bench.js "$model" "${shapes[@]}" --bench "$2") ;;
    e) FLUIDTUNE_NO_FUSION=1 "${pin_cmd[@]}" "$ft" run "$model" "${shapes[@]}" --bench "$2" -q ;;
  esac
}
# Runs CONFIG with RUNS timed runs; leaves its output in $tmp/out and its user+system CPU seconds
# (all its threads, start-up included) in $cpu.
measure() { # CONFIG RUNS ROUND
  local TIMEFORMAT='%3U %3S'
  if ! { time run_config "$1" "$2" >"$tmp/out" 2>&1; } 2>"$tmp/time"; then
    cat "$tmp/out" >&2
    echo "bench_e2e.sh: error: ${label[$1]} failed in round $3" >&2
    exit 1
  fi
  cpu=$(awk '{ print $1 + $2 }' "$tmp/time")
}

results=$tmp/results
for ((r = 1; r <= rounds; r++)); do
  order=()
  for ((i = 0; i < ${#configs[@]}; i++)); do order+=("${configs[$(((r - 1 + i) % ${#configs[@]}))]}"); done
  for cfg in "${order[@]}"; do
    cpu_run="-"
    if [ $cpu_time = 1 ]; then
      # the same process with one timed run: its CPU time is the start-up, load and warm-up to subtract
      measure "$cfg" 1 $r
      cpu1=$cpu
    fi
    measure "$cfg" "$runs" $r
    # below a quarter second of difference, start-up jitter and clock ticks swamp it: say nothing
    [ $cpu_time = 1 ] && cpu_run=$(awk -v a="$cpu1" -v b="$cpu" -v n="$runs" \
      'BEGIN { if (b - a < 0.25) print "-"; else printf "%.3f", (b - a) / (n - 1) * 1e3 }')
    line=$(grep '^bench: ' "$tmp/out" | tail -1 || true)
    [ -n "$line" ] || { cat "$tmp/out" >&2; echo "bench_e2e.sh: error: no bench line from ${label[$cfg]}" >&2; exit 1; }
    # "bench: N runs, median X ms, min Y ms, peak RSS Z MiB[, activations W MiB]"
    awk -v cfg="$cfg" -v round=$r -v cpu="$cpu_run" '{
      act = "-"
      for (i = 1; i <= NF; i++) {
        if ($i == "median") med = $(i + 1)
        if ($i == "min") mn = $(i + 1)
        if ($i == "RSS") rss = $(i + 1)
        if ($i == "activations") act = $(i + 1)
      }
      print cfg, round, med, mn, rss, act, cpu
    }' <<<"$line" >>"$results"
    cpu_note=""
    [ $cpu_time = 0 ] || cpu_note=", CPU $cpu_run ms/run"
    printf '   round %d/%d %-22s %s%s\n' $r "$rounds" "${label[$cfg]}" "${line#bench: }" "$cpu_note"
  done
done
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- summary -----------------------------------------------------------------------------------
# Per configuration: median of the round medians, min of the mins, max of the peak RSS, the
# spread of the round medians ((max - min) / median) as a measure of the noise, and the median of
# the per-round CPU times per run.
summary=$(for cfg in "${configs[@]}"; do
  awk -v cfg="$cfg" '$1 == cfg' "$results" | awk -v cfg="$cfg" '
    function median(v, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    { med[NR] = $3; if ($7 != "-") cpu[++ncpu] = $7; if (NR == 1 || $4 < mn) mn = $4; if ($5 > rss) rss = $5; act = $6 }
    END {
      m = median(med, NR)
      printf "%s %.6f %.6f %.1f %s %.3f %s\n", cfg, m, mn, rss, act, (m > 0 ? (med[NR] - med[1]) / m : 0),
             ncpu == NR ? sprintf("%.3f", median(cpu, ncpu)) : "-"
    }'
done)
echo
awk -v la="${label[a]}" -v lb="${label[b]}" -v lc="${label[c]}" -v ld="${label[d]}" -v le="${label[e]}" '
  { cfg[NR] = $1; med[$1] = $2; mn[$1] = $3; rss[$1] = $4; act[$1] = $5; spread[$1] = $6; cpu[$1] = $7 }
  END {
    name["a"] = la; name["b"] = lb; name["c"] = lc; name["d"] = ld; name["e"] = le
    printf "%-22s %10s %10s %7s %9s %12s %8s %8s %8s %8s\n", "configuration", "median ms", "min ms", "spread",
           "CPU ms", "peak RSS MiB", "act MiB", "lat/(a)", "lat/(d)", "RSS/(d)"
    for (i = 1; i <= NR; i++) {
      c = cfg[i]
      printf "%-22s %10.3f %10.3f %6.1f%% %9s %12.1f %8s %7.2fx %7.2fx %7.2fx\n", name[c], med[c], mn[c],
             100 * spread[c], cpu[c], rss[c], act[c], med[c] / med["a"], med[c] / med["d"], rss[c] / rss["d"]
    }
    printf "\n"
    # Time-sharing only ever adds time, so on a loaded machine the mins and the CPU time per run are
    # the steadier comparisons.
    printf "on min latency: tuned vs default %.2fx, vs default no reuse %.2fx, vs onnxruntime %.2fx\n",
           mn["c"] / mn["b"], mn["c"] / mn["a"], mn["c"] / mn["d"]
    if (cpu["a"] != "-" && cpu["b"] != "-" && cpu["c"] != "-" && cpu["d"] != "-")
      printf "on CPU time per run: tuned vs default %.2fx, vs default no reuse %.2fx, vs onnxruntime %.2fx\n",
             cpu["c"] / cpu["b"], cpu["c"] / cpu["a"], cpu["c"] / cpu["d"]
    printf "tuned vs default, no reuse (c/a): %.2fx latency, %.2fx peak RSS\n", med["c"] / med["a"], rss["c"] / rss["a"]
    printf "fusion: default vs default unfused (b/e): %.2fx latency, %.2fx on min latency\n", med["b"] / med["e"],
           mn["b"] / mn["e"]
    printf "tuned vs default: %.2fx latency\n", med["c"] / med["b"]
    printf "tuned vs onnxruntime: %.2fx latency, %.2fx peak RSS\n", med["c"] / med["d"], rss["c"] / rss["d"]
  }' <<<"$summary"
exit 0
}
