package worker

import (
	"context"
	"sync"
	"time"
)

// startExtender pushes out the reservation of every job still running when half its lifetime is gone, so a
// slow job is never recovered and run a second time by another worker (PHP's own workers included: they
// only recover members whose score has passed). A crashed bridge extends nothing, so its jobs still come
// back after Expire. It returns the function that stops it.
func (w *Worker) startExtender(ctx context.Context) (stop func()) {
	if w.cfg.Expire < 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(max(w.cfg.Expire/4, 250*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				w.extendRunning(ctx)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func (w *Worker) extendRunning(ctx context.Context) {
	now := w.cfg.Clock()
	w.mu.Lock()
	runs := make([]*run, 0, len(w.running))
	for r := range w.running {
		runs = append(runs, r)
	}
	w.mu.Unlock()
	for _, r := range runs {
		res := r.reservation()
		if res.Expires.Sub(now) > w.cfg.Expire/2 {
			continue
		}
		until := now.Add(w.cfg.Expire)
		ok, err := w.broker.Extend(ctx, res, until)
		if err != nil {
			w.log.Warn("extend reservation", "job", r.job.Name(), "id", r.job.ID(), "err", err)
			continue
		}
		if ok {
			r.mu.Lock()
			r.res.Expires = until
			r.mu.Unlock()
		}
	}
}
