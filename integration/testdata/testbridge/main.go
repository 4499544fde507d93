// Command testbridge is the bridge binary the integration tests build and run as a subprocess: the whole
// bridge command line (bridge.Main) with two test handlers that leave their traces in Redis, so a test can
// count runs across processes, crashes and restarts.
//
// The handlers' Redis is TESTBRIDGE_REDIS_ADDR (host:port) and TESTBRIDGE_REDIS_DB (default 0); the queue's
// own Redis is the --connection flag, as for any bridge binary.
//
//	test\Record  data {"log":"<list>"}: RPUSH the job id onto <list> (as the PHP stand-ins in testdata/php
//	             do, so one list holds the ids of every run, whoever ran it).
//	test\Block   data {"started":"<list>", "done":"<list>", "ms":N, "gate":"<list>", "ignore_ctx":bool,
//	                   "release":bool}:
//	             RPUSH a record with outcome "start" onto started, then block until the job's context is
//	             done (returns its error: the job did not finish), N ms passed (N > 0), or an element could
//	             be popped from gate (when set); then RPUSH a record with outcome "ok" (or "release") onto
//	             done (when set), call job.Release(0) when release is set, and return nil. With ignore_ctx
//	             the job's context is not watched: the handler finishes only by ms or gate, as a handler
//	             that never checks ctx would.
//	test\Noop, App\Jobs\Noop
//	             do nothing (the peer benchmarks: a think-queue and a Laravel no-op job).
//
// A record is a JSON object in the shape of the Laravel test app's App\Support\Recorder lines, which the
// tests read the same way: {"runner":"testbridge","pid","t","class","outcome","uuid","id","attempts","queue"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge"
)

// Environment variables naming the Redis the handlers write their traces to.
const (
	envAddr = "TESTBRIDGE_REDIS_ADDR"
	envDB   = "TESTBRIDGE_REDIS_DB"
)

func main() {
	rdb, err := traceClient()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbridge:", err)
		os.Exit(2)
	}
	b := bridge.New()
	b.HandleFunc(`test\Record`, func(ctx context.Context, job *bridge.Job) error {
		var d struct {
			Log string `json:"log"`
		}
		if err := job.Bind(&d); err != nil {
			return err
		}
		if d.Log == "" {
			return errors.New(`test\Record: data has no "log"`)
		}
		return rdb.RPush(ctx, d.Log, job.ID()).Err()
	})
	b.HandleFunc(`test\Block`, func(ctx context.Context, job *bridge.Job) error {
		var d struct {
			Started string `json:"started"`
			Done    string `json:"done"`
			Gate    string `json:"gate"`
			MS      int64  `json:"ms"`
			Ignore  bool   `json:"ignore_ctx"`
			Release bool   `json:"release"`
		}
		if err := job.Bind(&d); err != nil {
			return err
		}
		if d.Started != "" {
			if err := record(ctx, rdb, d.Started, job, "start"); err != nil {
				return err
			}
		}
		waitCtx := ctx
		if d.Ignore {
			waitCtx = context.WithoutCancel(ctx)
		}
		if err := block(waitCtx, rdb, d.Gate, time.Duration(d.MS)*time.Millisecond); err != nil {
			return err
		}
		if d.Done != "" {
			outcome := "ok"
			if d.Release {
				outcome = "release"
			}
			// The job finished: its trace must land even if a stop cancels ctx right now.
			if err := record(context.WithoutCancel(ctx), rdb, d.Done, job, outcome); err != nil {
				return err
			}
		}
		if d.Release {
			job.Release(0)
		}
		return nil
	})
	noop := func(context.Context, *bridge.Job) error { return nil }
	b.HandleFunc(`test\Noop`, noop)
	b.HandleFunc(`App\Jobs\Noop`, noop)
	b.Main()
}

// record appends a record of this run of job onto the list key.
func record(ctx context.Context, rdb *goredis.Client, key string, job *bridge.Job, outcome string) error {
	rec, err := json.Marshal(map[string]any{
		"runner":   "testbridge",
		"pid":      os.Getpid(),
		"t":        float64(time.Now().UnixMicro()) / 1e6,
		"class":    job.Name(),
		"outcome":  outcome,
		"uuid":     job.UUID(),
		"id":       job.ID(),
		"attempts": job.Attempts(),
		"queue":    job.Queue(),
	})
	if err != nil {
		return err
	}
	return rdb.RPush(ctx, key, rec).Err()
}

// block waits until ctx is done (its error), d passed (d > 0), or an element was popped from gate.
func block(ctx context.Context, rdb *goredis.Client, gate string, d time.Duration) error {
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return nil
		case <-poll.C:
			if gate == "" {
				continue
			}
			err := rdb.LPop(ctx, gate).Err()
			switch {
			case err == nil:
				return nil
			case errors.Is(err, goredis.Nil):
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				return err
			}
		}
	}
}

func traceClient() (*goredis.Client, error) {
	addr := os.Getenv(envAddr)
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	db := 0
	if s := os.Getenv(envDB); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", envDB, s, err)
		}
		db = n
	}
	return goredis.NewClient(&goredis.Options{Addr: addr, DB: db}), nil
}
