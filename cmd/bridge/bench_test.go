package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkServeIdle runs `bridge serve` with three groups (think-queue 1.x and Laravel on Redis, a
// think-queue 3.x jobs table in SQLite) on empty queues for idleFor and reports the process's CPU share
// (cpu-%, of one core) and its peak resident memory (rss-MB), read from /proc. One iteration is one run.
//
//	go test -run '^$' -bench '^BenchmarkServeIdle$' -benchtime 3x ./cmd/bridge/
func BenchmarkServeIdle(b *testing.B) {
	const idleFor = 20 * time.Second
	dir := b.TempDir()
	db := filepath.Join(dir, "jobs.db")
	if out, err := exec.Command(binary, "migrate", "-c", "sqlite:"+db).CombinedOutput(); err != nil {
		b.Fatalf("migrate: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "bridge.yaml")
	yaml := fmt.Sprintf(`
http: 127.0.0.1:0
connections:
  tq: {url: "%[1]s", dialect: thinkqueue-v1, failed_prefix: qbidle}
  lv: {url: "%[1]s", dialect: laravel-8, prefix: qbidle_, failed_prefix: qbidle}
  db: {url: "sqlite:%[2]s", dialect: thinkqueue-v3}
groups:
  notify: {connection: tq, queues: qbidle-notify, concurrency: 8}
  mail: {connection: lv, queues: qbidle-mail, concurrency: 4}
  reports: {connection: db, queues: qbidle-reports}
`, redisURL(), db)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	var cpu, rss float64
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, binary, "serve", "--config", config, "--log-level", "warn")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // started and connected
		t0, c0 := time.Now(), cpuTicks(b, cmd.Process.Pid)
		time.Sleep(idleFor)
		wall, c1 := time.Since(t0), cpuTicks(b, cmd.Process.Pid)
		cpu += float64(c1-c0) / 100 / wall.Seconds() * 100 // USER_HZ is 100 on Linux
		rss = max(rss, peakRSS(b, cmd.Process.Pid))
		cancel()
		_ = cmd.Wait()
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-%")
	b.ReportMetric(rss, "rss-MB")
}

// cpuTicks is a process's user+system time in clock ticks, from /proc/PID/stat.
func cpuTicks(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}

// peakRSS is a process's peak resident memory in MB (VmHWM).
func peakRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
