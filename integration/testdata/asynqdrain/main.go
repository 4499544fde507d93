// Command asynqdrain is the asynq side of BenchmarkPeers: a server of github.com/hibiken/asynq with a no-op
// handler that drains the tasks someone enqueued beforehand on one queue, then stops and exits.
//
//	asynqdrain -redis 127.0.0.1:6379 -queue Q -tasks N -concurrency C
//	asynqdrain -version
//
// It stops once N tasks were handled and the queue has no pending or active task left (so every task's
// completion reached Redis, as the bridge's acknowledgements have when `work --stop-when-empty` exits), and
// prints one JSON line: {"handled":N,"drained_seconds":…,"shutdown_seconds":…}, drained counted from the start
// of main, shutdown being Server.Shutdown alone.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
)

func main() {
	start := time.Now()
	addr := flag.String("redis", "127.0.0.1:6379", "Redis address (host:port)")
	db := flag.Int("db", 0, "Redis database")
	queue := flag.String("queue", "default", "queue to drain")
	tasks := flag.Int("tasks", 0, "tasks to handle before stopping (> 0)")
	concurrency := flag.Int("concurrency", 8, "asynq Config.Concurrency")
	version := flag.Bool("version", false, "print the version of asynq built in and exit")
	flag.Parse()
	if *version {
		fmt.Println(asynqVersion())
		return
	}
	if *tasks <= 0 {
		fmt.Fprintln(os.Stderr, "asynqdrain: -tasks must be > 0")
		os.Exit(2)
	}
	res, err := drain(start, asynq.RedisClientOpt{Addr: *addr, DB: *db}, *queue, *tasks, *concurrency)
	if err != nil {
		fmt.Fprintln(os.Stderr, "asynqdrain:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "asynqdrain:", err)
		os.Exit(1)
	}
}

// result is what asynqdrain prints.
type result struct {
	Handled         int64   `json:"handled"`
	DrainedSeconds  float64 `json:"drained_seconds"`
	ShutdownSeconds float64 `json:"shutdown_seconds"`
}

// asynqVersion is the version of the asynq module built into this binary.
func asynqVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/hibiken/asynq" {
				return m.Version
			}
		}
	}
	return "unknown"
}

func drain(start time.Time, opt asynq.RedisClientOpt, queue string, tasks, concurrency int) (result, error) {
	var handled atomic.Int64
	done := make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{queue: 1},
		// asynq sleeps this long (uninterruptibly) whenever a dequeue finds nothing; the default second would
		// be charged to asynq at the end of every drain, so it gets the bridge benchmarks' --sleep.
		TaskCheckInterval: time.Millisecond,
		LogLevel:          asynq.WarnLevel,
	})
	err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if handled.Add(1) == int64(tasks) {
			close(done)
		}
		return nil
	}))
	if err != nil {
		return result{}, fmt.Errorf("start the server: %w", err)
	}
	<-done

	insp := asynq.NewInspector(opt)
	defer insp.Close()
	for {
		info, err := insp.GetQueueInfo(queue)
		if err != nil {
			srv.Shutdown()
			return result{}, fmt.Errorf("queue %s: %w", queue, err)
		}
		if info.Pending == 0 && info.Active == 0 {
			break
		}
		if info.Retry > 0 || info.Archived > 0 {
			srv.Shutdown()
			return result{}, errors.New("a no-op task failed")
		}
		time.Sleep(time.Millisecond)
	}
	drained := time.Since(start)
	srv.Shutdown()
	return result{
		Handled:         handled.Load(),
		DrainedSeconds:  drained.Seconds(),
		ShutdownSeconds: (time.Since(start) - drained).Seconds(),
	}, nil
}
