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
// bridge's CPU in a drain of no-op jobs.
type timeoutWatch struct {
	w      *Worker
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start watches until stop.
func (s *timeoutWatch) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Go(func() {
		tick := time.NewTicker(timeoutEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				s.look(now)
			}
		}
	})
}

func (s *timeoutWatch) stop() {
	s.cancel()
	s.wg.Wait()
}

// look settles the runs whose handlers are past their timeout and its grace at now.
func (s *timeoutWatch) look(now time.Time) {
	late := now.Add(-timeoutGrace).UnixNano()
	for _, r := range s.w.unsettled() {
		if d := r.deadline.Load(); d != 0 && d <= late {
			go s.w.timedOut(r) // settling waits on the store: the next look must not
		}
	}
}
