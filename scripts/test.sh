#!/usr/bin/env bash
# The whole test suite: installs and starts what it needs (scripts/services.sh), then vets and tests
# every package against the real Redis and PHP.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
test -z "$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
go vet ./...
go test -race -count=1 -timeout 20m ./...
