package worker

import (
	"context"
	"sync"
	"time"
)

// timeoutGrace is how long a handler may outlive its timeout before its job is settled without it.
const timeoutGrace = time.Second

// timeoutEvery is how often the timeout watch looks: a handler is settled without it between timeoutGrace and
// timeoutGrace+timeoutEvery after its timeout.
const timeoutEvery = timeoutGrace / 10

// timeoutWatch settles the runs whose handlers outlived their timeout by timeoutGrace (see Worker.timedOut).
// One loop looks at every run: arming a watchdog per job (context.AfterFunc) took about a tenth of the
// bridge's CPU in a drain of no-op jobs. It looks only while runs are unsettled, so an idle worker pays
// nothing for it.
type timeoutWatch struct {
	w      *Worker
	wake   chan struct{} // a run began (buffered: a wake-up, not a count)
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start watches until stop.
func (s *timeoutWatch) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.wake = make(chan struct{}, 1)
	s.wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				s.watch(ctx)
			}
		}
	})
}

func (s *timeoutWatch) stop() {
	s.cancel()
	s.wg.Wait()
}

// began wakes the watch for a run whose handler starts now.
func (s *timeoutWatch) began() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// watch looks every timeoutEvery until no run is unsettled.
func (s *timeoutWatch) watch(ctx context.Context) {
	tick := time.NewTicker(timeoutEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if !s.look(now) {
				return
			}
		}
	}
}

// look settles the runs whose handlers are past their timeout and its grace at now; it reports whether any
// run is unsettled.
func (s *timeoutWatch) look(now time.Time) bool {
	late := now.Add(-timeoutGrace).UnixNano()
	runs := s.w.unsettled()
	for _, r := range runs {
		if d := r.deadline.Load(); d != 0 && d <= late {
			go s.w.timedOut(r) // settling waits on the store: the next look must not
		}
	}
	return len(runs) > 0
}
