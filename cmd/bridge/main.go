// Command bridge runs a PHP application's queued jobs — think-queue 1.x–3.x (ThinkPHP 5.0–8) and Laravel
// 8–12, on Redis or on the app's jobs table in MySQL/MariaDB, PostgreSQL or SQLite — in the PHP library's
// own format. Without Go handlers of its own it still pushes, lists, pauses and retries jobs, runs the
// jobs of the PHP app in its own PHP code (--php-app), serves a whole bridge.yaml (serve), and hands every
// other job back untouched; build your own binary with bridge.New, your handlers and Main to run them in Go.
//
//	bridge work --connection redis://127.0.0.1:6379/0 --dialect thinkqueue-v1 --queue notify
//	bridge help
package main

import "github.com/queuebridge/bridge"

func main() { bridge.New().Main() }
