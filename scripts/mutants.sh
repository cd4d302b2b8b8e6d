#!/usr/bin/env bash
# Runs `roadside simulate` with every mutant over the same seeds and prints, for each, how
# many seeds failed, the first that did, the invariant it broke and what the first failing
# day shrank to (BENCHMARKS.md: Mutants). A mutant no seed catches is a hole in the
# invariants: the script says so and exits 1.
#
#   scripts/mutants.sh [ROADSIDE_BINARY] [SEEDS] [JOBS]
#
# Default: .build/release/roadside, 200 seeds, 2 processes.
set -euo pipefail
binary=${1:-.build/release/roadside}
seeds=${2:-200}
jobs=${3:-2}
survivors=0
printf '%-32s %-7s %-6s %-22s %s\n' mutant failing first invariant shrunk
for mutant in $("$binary" simulate --list-mutants | awk '{print $1}'); do
  started=$(date +%s)
  # simulate exits 1 when a seed fails: that is the point here.
  json=$("$binary" simulate --seeds "$seeds" --jobs "$jobs" --mutant "$mutant" --json || true)
  took=$(($(date +%s) - started))
  line=$(python3 -c '
import json, sys
out = json.loads(sys.stdin.read())
failing = [r for r in out["reports"] if r["violations"]]
shrunk = out.get("shrunk")
if not failing:
    print("0 - - -"); sys.exit()
first = failing[0]
steps = "%d->%d steps, %d replays" % (shrunk["originalSteps"], len(shrunk["steps"]), shrunk["replays"]) if shrunk else "-"
print(len(failing), first["seed"], json.dumps(first["violations"][0]["invariant"]), steps)
' <<<"$json")
  read -r failing first rest <<<"$line"
  printf '%-32s %-7s %-6s %s (%d s)\n' "$mutant" "$failing/$seeds" "$first" "$rest" "$took"
  if [ "$failing" = 0 ]; then survivors=$((survivors + 1)); fi
done
if [ "$survivors" -gt 0 ]; then
  echo "$survivors mutant(s) survived $seeds seeds: the invariants have a hole" >&2
  exit 1
fi
