// Command bridge runs a PHP app's think-queue jobs in Go. Without Go handlers of your own it still pushes,
// lists and retries failed jobs, and hands every job back untouched; build your own binary with
// bridge.New, your handlers and Main to run them.
package main

import "github.com/queuebridge/bridge"

func main() { bridge.New().Main() }
