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
// expire/4 and extends what has less than 3/4 of expire left: a reservation it extended has at least
// expire left, and at least half of expire when it is looked at again.
type extender struct {
	broker Broker
	expire time.Duration
	every  time.Duration
	clock  func() time.Time
	log    *slog.Logger
	runs   func() []*run // the runs whose reservations must hold

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
				for _, r := range e.runs() {
					if !e.extendIfDue(ctx, r) && !r.settled.Load() {
						e.log.Warn("reservation lost while the job runs: another worker may run it too",
							"job", r.job.Name(), "id", r.job.ID(), "queue", r.job.Queue())
					}
				}
			}
		}
	})
}

func (e *extender) stop() {
	e.cancel()
	e.wg.Wait()
}

// extendIfDue extends r's reservation when less than 3/4 of expire is left; false when r is no longer
// reserved. A store error keeps the old reservation, which the next look tries again.
func (e *extender) extendIfDue(ctx context.Context, r *run) bool {
	res := r.reservation()
	now := e.clock()
	if res.Expires.Sub(now) >= e.expire*3/4 {
		return true
	}
	until := ceilSecond(now.Add(e.expire))
	ok, err := e.broker.Extend(ctx, res, until)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("extend reservation", "job", r.job.Name(), "id", r.job.ID(), "err", err)
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
