#!/usr/bin/env bash
# The whole test suite: installs and starts what it needs (scripts/services.sh), then checks formatting,
# vets, runs staticcheck, tests both modules — the bridge and its integration tests (integration/, a
# module of its own so the bridge's go.mod carries no container stack) — against the real services, and
# fuzzes every compat decoder for a bounded count of inputs; then builds the container images from Debian's packages (or
# reuses them) and runs the cross-tests under the container provider, with the network faults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
# Every module the bridge's go.mod lists, into the module cache: the tests that build a user's module do it
# offline (GOPROXY=off), and a fresh cache holds only what a build has needed so far.
go mod download
unformatted=$(gofmt -l .)
test -z "$unformatted" || { echo "gofmt needed on:"; echo "$unformatted"; exit 1; }
go vet ./...
(cd integration && go vet ./...)
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./... 
(cd integration && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...)
go test -race -count=1 -timeout 20m ./...
(cd integration && go test -race -count=1 -timeout 25m ./...)
scripts/fuzz.sh                            # every compat decoder, a bounded count of inputs each
scripts/test-containers.sh -race           # the cross-tests again under the container provider, and the network faults
