#!/usr/bin/env bash
# The bridge on a fresh machine, on its embedded default (an SQLite file, ./bridge.db, no server): push
# three think-queue jobs and run them with the example worker until the queue is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/hello ./examples/hello
for name in Ann Bob 张三; do
  bin/hello push --queue demo 'app\job\Hello' "{\"name\":\"$name\"}"
done
bin/hello work --queue demo --stop-when-empty --sleep 0.1
