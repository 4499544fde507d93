package worker

import (
	"context"
	"log/slog"
	"time"
)

// restartFresh is how long a reading of the restart signal that found no change stands for the next
// rounds: during a fast drain a round begins every few hundred microseconds, and a read for each was a
// fifth of the worker's CPU. A job starts at most this long after a reading said the signal had not come,
// where a PHP worker, which reads it between jobs, starts one at most one job's run after.
const restartFresh = time.Millisecond

// restartWatcher watches the restart signal (`php think queue:restart`, `bridge restart`): a value that
// differs from the one the worker started with means stop after the current jobs. A signal that could not
// be read is no signal; when the first reading failed, the first good one is the baseline.
type restartWatcher struct {
	read  func(ctx context.Context) (string, error) // nil: no signal to watch
	log   *slog.Logger
	stamp string
	have  bool
	// quietSince is when the last reading that found no change began (only the loop goroutine touches it).
	quietSince time.Time
}

func newRestartWatcher(read func(ctx context.Context) (string, error), log *slog.Logger) *restartWatcher {
	return &restartWatcher{read: read, log: log}
}

// init takes the baseline as the worker starts.
func (r *restartWatcher) init(ctx context.Context) {
	r.stamp, r.have = r.readStamp(ctx)
}

// begin starts reading the signal and returns the function that waits for the reading and reports
// whether the signal changed. Without a signal to watch it starts nothing.
func (r *restartWatcher) begin(ctx context.Context) (changed func() bool) {
	if r.read == nil || time.Since(r.quietSince) < restartFresh {
		return func() bool { return false }
	}
	began := time.Now()
	type reading struct {
		stamp string
		ok    bool
	}
	c := make(chan reading, 1)
	go func() {
		stamp, ok := r.readStamp(ctx)
		c <- reading{stamp, ok}
	}()
	return func() bool {
		got := <-c
		switch {
		case !got.ok:
			return false
		case !r.have:
			r.stamp, r.have = got.stamp, true
		case got.stamp != r.stamp:
			return true
		}
		r.quietSince = began
		return false
	}
}

func (r *restartWatcher) readStamp(ctx context.Context) (string, bool) {
	if r.read == nil {
		return "", false
	}
	stamp, err := r.read(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("read restart signal", "err", err)
		}
		return "", false
	}
	return stamp, true
}
