#!/bin/sh
# The bridge beside its peers in one run: BenchmarkPeers (the bridge binary against asynq on think-queue 1.x
# and 3.x jobs, and against Laravel 8.83's own queue:work), each pair alternating runs, [runs] of each side
# (default 5), on the local services. Prints each run's jobs/s, min/median/max and the ratios.
#   scripts/bench-peers.sh [runs]
set -eu
cd "$(dirname "$0")/../integration"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
go test -count=1 -timeout 60m -run '^$' -bench '^BenchmarkPeers$' -benchtime "${1:-5}x" .
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
