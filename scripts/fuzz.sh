#!/usr/bin/env bash
# Fuzzes every decoder in compat/ for a bounded budget: each Fuzz target of each compat package in turn (go
# test fuzzes one target per run), FUZZTIME each (default 150000x, a count of inputs: about 2 minutes in all
# on 2 cores). A count, not a duration: with a duration Go 1.26's fuzz coordinator can report "context
# deadline exceeded" at the end of the window with no failing input (golang/go#75804, fixed in Go 1.27). Stops with a
# non-zero status at the first failure; go test then leaves the input in the package's
# testdata/fuzz/<target>/, where plain `go test` replays it. FUZZ_PARALLEL caps the fuzzing processes
# (default: one per CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-150000x}
parallel=()
[ -n "${FUZZ_PARALLEL:-}" ] && parallel=(-parallel "$FUZZ_PARALLEL")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total=0
for pkg in $(go list ./compat/...); do
  targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
  for target in $targets; do
    start=$SECONDS
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "${parallel[@]}" "$pkg" >"$log" 2>&1 || {
      cat "$log"
      echo "fuzz: $pkg $target FAILED" >&2
      exit 1
    }
    echo "fuzz: $pkg $target ok ($fuzztime of fuzzing, $((SECONDS - start))s in all)"
    total=$((total + 1))
  done
done
echo "fuzz: $total targets ok"
