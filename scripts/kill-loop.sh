#!/bin/sh
# The long kill -9 loop: TestKillLoop with many kills per store and dialect (default 500), on the local services:
# Redis (think-queue 1.x, 3.x, Laravel) and the jobs table on MariaDB and SQLite (think-queue 3.x, Laravel).
#   scripts/kill-loop.sh [kills]
set -eu
cd "$(dirname "$0")/../integration"
QB_KILL_LOOPS="${1:-500}" exec go test -count=1 -timeout 180m -run '^TestKillLoop$' -v .
