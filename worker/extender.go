package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// extender pushes out the reservation of every running job before it lapses, so a slow job is never
// recovered and run a second time by another worker (PHP's own workers included: they recover members
// whose reservation has passed). A crashed bridge extends nothing, so its jobs still come back after
// expire.
//
// The stores keep reservations in whole Unix seconds and count one as lapsed from its second on, so the
// extender asks for a whole second (now + expire, rounded up) and remembers exactly that. It looks every
// expire/4 and extends every reservation with less than expire left, the moment an extension moves it:
// a reservation is extended with at least 3/4 of expire left, minus how late the look comes. The
// reservations due at one look are extended side by side, so a slow store delays each by one round trip,
// not by one per running job.
type extender struct {
	broker Broker
	expire time.Duration
	every  time.Duration
	clock  func() time.Time
	log    *slog.Logger
	runs   func() []*run // the runs whose reservations must hold, jobs reserved ahead (job nil) included

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newExtender(b Broker, expire time.Duration, clock func() time.Time, log *slog.Logger, runs func() []*run) *extender {
	return &extender{broker: b, expire: expire, every: max(expire/4, 10*time.Millisecond), clock: clock, log: log, runs: runs}
}

// start extends until stop.
func (e *extender) start(ctx context.Context) {
	ctx, e.cancel = context.WithCancel(ctx)
	e.wg.Go(func() {
		tick := time.NewTicker(e.every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				e.extendAll(ctx)
			}
		}
	})
}

func (e *extender) stop() {
	e.cancel()
	e.wg.Wait()
}

// maxExtending bounds the extensions one look has in flight.
const maxExtending = 16

// extendAll extends the running jobs' reservations that are due.
func (e *extender) extendAll(ctx context.Context) {
	slots := make(chan struct{}, maxExtending)
	var wg sync.WaitGroup
	for _, r := range e.runs() {
		if !e.due(r, e.expire) {
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			switch {
			case e.extendIfDue(ctx, r, e.expire) || r.settled.Load():
			case r.job == nil:
				// Reserved ahead: the runner finds it lost before it starts, and does not run it.
				e.log.Warn("reservation lost before the job started", "queue", r.reservation().Queue)
			default:
				e.log.Warn("reservation lost while the job runs: another worker may run it too",
					"job", r.job.Name(), "id", r.job.ID(), "queue", r.job.Queue())
			}
		})
	}
	wg.Wait()
}

// due reports whether r's reservation lapses within d. Within expire, an extension now moves it.
func (e *extender) due(r *run, d time.Duration) bool {
	return r.reservation().Expires.Sub(e.clock()) < d
}

// hold extends the reservation of a job about to run when the extender's next look may come too late:
// reserved in the last instant of a second, with a small expire, it may have almost nothing left. It
// returns false when the job is no longer reserved, so another worker has it.
func (e *extender) hold(ctx context.Context, r *run) bool {
	return e.extendIfDue(ctx, r, e.expire*3/4)
}

// extendIfDue extends r's reservation when it lapses within d; false when r is no longer reserved. A
// store error keeps the old reservation, which the next look tries again.
func (e *extender) extendIfDue(ctx context.Context, r *run, d time.Duration) bool {
	if !e.due(r, d) {
		return true
	}
	now := e.clock()
	until := ceilSecond(now.Add(e.expire))
	ok, err := e.broker.Extend(ctx, r.reservation(), until)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("extend reservation", append(r.logAttrs(), "err", err)...)
		}
		return true
	}
	if ok {
		r.setExpires(until)
	}
	return ok
}

// ceilSecond rounds t up to a whole Unix second.
func ceilSecond(t time.Time) time.Time {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return time.Unix(s, 0)
}
