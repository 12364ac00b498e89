#!/usr/bin/env bash
# report.sh - `fluidtune report` as a user runs it: two sweeps of bert_tiny (this machine, and the same
# machine flagged as emulated so it counts as a second one), a report with --model, its files and
# charts, well-formed HTML, numbers equal to the databases', the text-only fallback without gnuplot,
# a merged database, and bad usage.
set -u
FT=$1
SRC=$2
M=$SRC/tests/models/bert_tiny
PY=/usr/bin/python3
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
  cp "$tmp/check.err" "$tmp/err"
}
check_fails() { # check_fails NAME CODE COMMAND...: the command must exit with CODE
  local name=$1 code=$2
  shift 2
  "$@" >"$tmp/check.out" 2>"$tmp/check.err"
  local rc=$?
  if [ "$rc" -eq "$code" ]; then passes=$((passes + 1)); else
    echo "FAIL: $name (exit $rc, expected $code)"; sed 's/^/    /' "$tmp/check.out" "$tmp/check.err" | head -20
    fails=$((fails + 1)); fi
  cp "$tmp/check.err" "$tmp/err"
}
FAST=(--samples 3 --min-time 0.2 -q)

# FT_EMULATED pins the emulation flag both ways, so the two sweeps are two machines even under qemu-user
check "sweep" env FT_EMULATED=0 "$FT" sweep "$M/model.onnx" --db "$tmp/a.db" "${FAST[@]}"
check "sweep as an emulated machine" env FT_EMULATED=1 FT_COUNTER_TIER=none "$FT" sweep "$M/model.onnx" \
  --db "$tmp/b.db" --ops MatMul,Softmax,Transpose,Reorder "${FAST[@]}"

R=$tmp/rep
check "report" "$FT" report "$tmp/a.db" "$tmp/b.db" -o "$R" --model "$M/model.onnx"
check "report names what it wrote" grep -q "^report: 2 machines, .* wrote $R/index.html and $R/summary.md" "$tmp/out"
check "index.html written" test -s "$R/index.html"
check "summary.md written" test -s "$R/summary.md"

# every chart the page references is there and not empty
refs=$(grep -o -E '<(img src|object data)="[^"]*"' "$R/index.html" | sed -E 's/.*="([^"]*)"/\1/')
n_refs=0
missing=""
for f in $refs; do
  n_refs=$((n_refs + 1))
  [ -s "$R/$f" ] || missing="$missing $f"
done
check "every referenced chart exists and is non-empty ($n_refs referenced)${missing:+: missing$missing}" test -z "$missing"
if command -v gnuplot >/dev/null 2>&1; then
  check "charts were drawn" test "$n_refs" -ge 6
  check "the memory chart is among them" test -s "$R/memory_M1.svg"
fi

# well-formed HTML: xmllint when installed (silent means clean), else Python's parser with a tag stack
if command -v xmllint >/dev/null 2>&1; then
  check "xmllint --html accepts index.html" sh -c "xmllint --html --noout '$R/index.html' 2>&1 | (! grep .)"
fi
check "tags balance (html.parser)" "$PY" - "$R/index.html" <<'EOF'
import sys
from html.parser import HTMLParser
VOID = {"meta", "img", "br", "hr", "link", "col", "input", "wbr", "source"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack = []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            sys.exit("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        self.stack.pop()
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
if p.stack:
    sys.exit("unclosed: %s" % p.stack)
EOF

# the numbers in summary.md are the databases'
check "summary.md best times and keys equal the best_candidates view" "$PY" - "$R/summary.md" "$tmp/a.db" "$tmp/b.db" <<'EOF'
import re, sqlite3, sys
md = open(sys.argv[1], encoding="utf-8").read()
sigs = dict(re.findall(r"^- (S\d+) `(.*)`", md, re.M))
machines = {}
for label, vendor_model in re.findall(r"^\| (M\d+) \| ([^|]*) \|", md.split("## Machines")[1].split("\n## ")[0], re.M):
    machines[label] = vendor_model.strip()
best = {}
for db in sys.argv[2:]:
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    for sig, vendor, model, emu, key, med in con.execute(
            "SELECT b.signature, ma.vendor, ma.model_name, ma.emulated, b.candidate, b.median_s "
            "FROM best_candidates b JOIN machines ma ON ma.id = b.machine_id"):
        best.setdefault((sig, emu), (key, "%.3f" % (med * 1e6)))
rows = 0
section = md.split("## Best candidate per signature")[1].split("\n## ")[0]
for line in section.splitlines():
    m = re.match(r"^\| (S\d+) \| [^|]* \| (M\d+)( \(emulated, not representative\))? \| `(.*)` \| ([\d.]+) \|", line)
    if not m:
        continue
    emu = 1 if m.group(3) else 0
    want = best[(sigs[m.group(1)], emu)]
    if (m.group(4), m.group(5)) != want:
        sys.exit("%s on %s: summary says %s %s, the database %s %s" % (m.group(1), m.group(2), m.group(4), m.group(5), *want))
    rows += 1
if rows < 20:
    sys.exit("only %d rows checked" % rows)
print(rows, "rows match")
EOF
check "the emulated machine is marked not representative" grep -q "M2 ran under CPU emulation: its timings are not representative" "$R/summary.md"
check "the model section has both plans" grep -q "^| M1 | [0-9.]* | [0-9.]* | [0-9.]*x |" "$R/summary.md"
check "cross-machine table" grep -q "^## Cross-machine" "$R/summary.md"

# without gnuplot on PATH: a clear note and a text-only report. The PATH keeps every other program
# (a cross build runs fluidtune through an emulator found on PATH).
mkdir "$tmp/bin"
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  [ -d "$d" ] && ln -s "$d"/* "$tmp/bin/" 2>/dev/null # names already linked keep the earlier directory's
done
rm -f "$tmp/bin/gnuplot"
T=$tmp/text
check "report without gnuplot on PATH" env PATH="$tmp/bin" "$FT" report "$tmp/a.db" -o "$T"
check "says gnuplot is missing" grep -q "gnuplot not found" "$tmp/err"
check "text-only index.html" sh -c "test -s '$T/index.html' && ! grep -q '<img' '$T/index.html'"
check "text-only summary.md" grep -q "^## Best candidate per signature" "$T/summary.md"

# one merged database holding both machines gives the same machines
check "merge" "$FT" db merge "$tmp/m.db" "$tmp/a.db" "$tmp/b.db"
check "report from the merged database" "$FT" report "$tmp/m.db" -o "$tmp/merged" --text-only
check "merged report has both machines" grep -q "^report: 2 machines" "$tmp/out"

# bad usage
check "report --help" "$FT" report --help
check_fails "report without -o" 2 "$FT" report "$tmp/a.db"
check_fails "report without a database" 2 "$FT" report -o "$tmp/x"
check_fails "report of a missing database" 2 "$FT" report "$tmp/nope.db" -o "$tmp/x"
check "names the missing file" grep -q "nope.db" "$tmp/err"

echo "report: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
