package bridge

import (
	"context"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/worker"
)

// pauseInterval is how often a worker reads the queues' pause flags.
const pauseInterval = 500 * time.Millisecond

// Run works the queues of Config.Worker until ctx is cancelled, then stops gracefully (see WorkerConfig).
func (b *Bridge) Run(ctx context.Context) error {
	if err := b.ready(); err != nil {
		return err
	}
	return b.Work(ctx, b.cfg.Worker)
}

// Work runs one worker with wc (its Expire, Logger, Clock and IDFunc from the bridge's Config) until ctx is
// cancelled or it stops by itself (see worker.Worker.Run).
func (b *Bridge) Work(ctx context.Context, wc WorkerConfig) error {
	w, err := b.NewWorker(wc)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// NewWorker returns a worker on this bridge's queue and handlers, for programs that run several (see Work).
func (b *Bridge) NewWorker(wc WorkerConfig) (*worker.Worker, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	wc.Expire = b.cfg.Expire
	wc.Logger = b.cfg.Logger
	wc.Clock = b.cfg.Clock
	wc.IDFunc = b.cfg.IDFunc
	wc.Connection = b.ConnectionName()
	if len(wc.Queues) == 0 {
		wc.Queues = b.cfg.Worker.Queues
	}
	if b.be.restart != nil {
		wc.RestartStampFunc = b.restartStamp
	}
	if b.be.cache != nil {
		pauses := newPauseWatcher(b, pauseInterval)
		next := wc.PausedFunc
		wc.PausedFunc = func(ctx context.Context, q string) bool {
			return (next != nil && next(ctx, q)) || pauses.Paused(ctx, q)
		}
	}
	rules := b.be.format.rules(b.be.cache, b.cfg.CachePrefix)
	if _, ok := b.be.format.(thinkqueueFormat); ok {
		rules = lastErrorRules{rules, b.lastErrors()}
	}
	cs := b.conn()
	router := &jobRouter{mux: b.mux, routing: b.routing, stored: cs.stored, database: b.be.database(), report: cs.report}
	base := b.workerEvents()
	ev := base
	if cs.report != nil {
		// The report follows this worker's jobs to their outcomes; the program's listeners hear them as before.
		ev = &events.Dispatcher{}
		ev.Listen(cs.report.observe)
		ev.Listen(base.Dispatch)
		wc.PHP = cs.report.phpSide(wc.PHP, router, newShadowRunner(b, &wc))
	}
	return worker.New(b.be.store, rules, router, ev, &wc)
}

// lastErrors is where this bridge's workers keep jobs' last errors (see lastErrorRules).
func (b *Bridge) lastErrors() lastErrors {
	if b.be.cache != nil {
		return redisLastErrors{cache: b.be.cache, prefix: b.cfg.FailedKeyPrefix}
	}
	return b.be.memErrs
}

// workerEvents is what a worker dispatches to: the bridge's listeners, then its trend counters. Each bridge
// counts only its own workers' jobs, though bridges of one program may share their listeners.
func (b *Bridge) workerEvents() *events.Dispatcher {
	b.trendsOnce.Do(func() {
		if s := b.trendStore(); s != nil {
			b.trends = newTrendRecorder(s, b.cfg.Clock, b.cfg.Logger)
		}
	})
	if b.trends == nil {
		return b.events
	}
	ev := &events.Dispatcher{}
	ev.Listen(func(ctx context.Context, event any) {
		b.events.Dispatch(ctx, event)
		b.trends.listen(ctx, event)
	})
	return ev
}
