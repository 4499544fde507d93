#!/bin/sh
# The long kill -9 loop: TestKillLoop with many kills per dialect (default 500), on the local services.
#   scripts/kill-loop.sh [kills]
set -eu
cd "$(dirname "$0")/../integration"
QB_KILL_LOOPS="${1:-500}" exec go test -count=1 -timeout 60m -run '^TestKillLoop$' -v .
