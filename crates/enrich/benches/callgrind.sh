#!/usr/bin/env bash
# Instructions per event of the enrich criterion bench, steady state (benches/README.md, enrich section).
#
#   crates/enrich/benches/callgrind.sh <bench binary> '<case>$' [long seconds, default 60]
#   e.g. crates/enrich/benches/callgrind.sh target/release/deps/enrich-<hash> 'transform_local_provider$'
#
# Two callgrind runs of the bench binary (--profile-time 5 and <long>), counting only what runs inside
# block_on(enrich(..)) (--toggle-collect on LocalKey::with); the difference of the two totals divided
# by the difference in events (calls of `normalise`, one per event) drops the one-off costs of the
# first batch (phone metadata, regex compilation). Prints the per-event total and the inclusive
# per-event cost of every function above 100 instructions. Instruction counts do not depend on the
# load of the machine; times do.
set -euo pipefail
bin=$1
case_=$2
long=${3:-60}
out=$(mktemp -d)
for t in 5 "$long"; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$t.out" \
        --toggle-collect='std::thread::local::LocalKey*with*' \
        "$bin" --bench "$case_" --profile-time "$t" >"$out/$t.log" 2>&1
    callgrind_annotate --inclusive=yes --threshold=100 "$out/$t.out" >"$out/$t.incl" 2>/dev/null
    callgrind_annotate --tree=caller --threshold=100 "$out/$t.out" >"$out/$t.tree" 2>/dev/null
done
python3 - "$out/5" "$out/$long" <<'PY'
import re, sys

def events(prefix):
    """Calls of normalise: the caller lines of its block in the caller tree."""
    total = 0
    for block in open(prefix + ".tree").read().split("\n\n"):
        lines = block.strip("\n").split("\n")
        if any(re.search(r"\*  \S*leadflow_enrich::normalise::normalise \[", l) for l in lines):
            for l in lines:
                m = re.search(r"< .*\(([\d,]+)x\)", l)
                if m:
                    total += int(m.group(1).replace(",", ""))
    return total

def inclusive(prefix):
    costs, total = {}, None
    for line in open(prefix + ".incl"):
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*?) \[", line)
        if m:
            costs[m.group(2)] = max(costs.get(m.group(2), 0), int(m.group(1).replace(",", "")))
    return costs, total

(short, short_total), (long, long_total) = inclusive(sys.argv[1]), inclusive(sys.argv[2])
n = events(sys.argv[2]) - events(sys.argv[1])
print(f"{(long_total - short_total) / n:.0f} instructions per event ({n} events)")
rows = sorted(((long[k] - short.get(k, 0)) / n, k) for k in long)
for cost, name in reversed(rows):
    if cost > 100:
        print(f"{cost:10.0f}  {name[:160]}")
PY
rm -r "$out"
