#!/usr/bin/env bash
# The cross-tests under the container provider: builds the images, or reuses those of the current tag
# (scripts/images.sh), then runs with QB_PROVIDER=container the part of integration/ that takes its services
# from integration.Env (see the README's Tests paragraph): the Laravel cross-tests, the container suite and the
# network faults. Extra arguments go to `go test` (e.g. -v, -race); QB_CONTAINER_TESTS overrides the -run pattern.
#
# Every container and network of the run is labelled queuebridge.run=<this run's id>: whatever a killed or
# timed-out test process left behind is removed when this script exits, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
docker info >/dev/null 2>&1 || { echo "test-containers: no Docker engine (docker info failed)" >&2; exit 1; }
scripts/images.sh >/dev/null

run=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
  docker ps -aq --filter "label=queuebridge.run=$run" | xargs -r docker rm -f -v >/dev/null || true
  docker network ls -q --filter "label=queuebridge.run=$run" | xargs -r docker network rm >/dev/null || true
  docker image ls -q --filter "reference=qb-test/bridge:$run-*" | xargs -r docker image rm -f >/dev/null || true
}
trap cleanup EXIT

export QB_PROVIDER=container QB_CONTAINER_RUN=$run TESTCONTAINERS_RYUK_DISABLED=true
cd integration # a module of its own
go test -count=1 -timeout 20m -run "${QB_CONTAINER_TESTS:-^(TestLaravel|TestContainer|TestFault|TestImages)}" "$@" ./...
