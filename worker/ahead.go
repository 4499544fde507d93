package worker

import (
	"context"
	"sync"

	"github.com/queuebridge/bridge/queue"
)

// ahead holds the jobs reserved before a slot was free for them: while a batch runs, the next one is on
// its way, so a drain does not wait one round trip per batch. They are reserved in the store like every
// other job (never only here), the lease extender keeps their reservations, and a stop hands them back
// untouched. At most one reservation is in flight, and at most Worker.aheadCap jobs are held or asked for,
// so every one of them starts within aheadMaxWait at the recent pace, long before its reservation lapses.
type ahead struct {
	mu   sync.Mutex
	held []*run // reserved ahead and not started, oldest first; job and handler are not set yet

	// Only the loop goroutine touches these.
	queue    string
	inFlight chan struct{} // closed when the reservation in flight landed in held; nil when none is
	asked    int           // how many jobs the reservation in flight asked for
	got      int           // how many it got, once landed
	err      error         // its error, once landed
}

// launch reserves up to n jobs of q ahead. No restart reading goes with it: by the time its jobs start, one
// taken now would be stale (the round that starts them reads the signal afresh).
func (a *ahead) launch(w *Worker, q string, n int) {
	a.queue, a.asked, a.got, a.err = q, n, 0, nil
	done := make(chan struct{})
	a.inFlight = done
	go func() {
		defer close(done)
		rs, err := w.broker.Reserve(w.workCtx, q, n)
		runs := make([]*run, 0, len(rs))
		for _, res := range rs {
			r := &run{res: res}
			// Reserved in the last instant of a second, with a small expire, a reservation may lapse before
			// the extender's next look: it is pushed out now, as a job about to start is.
			if w.lease != nil && !w.lease.hold(w.workCtx, r) {
				w.log.Warn("reservation lost before the job started", "queue", q)
				continue
			}
			runs = append(runs, r)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.got, a.err = len(rs), err
		a.held = append(a.held, runs...)
	}()
}

// wait waits for the reservation in flight, if any. It returns whether that reservation came back full (the
// queue has more), and its error.
func (a *ahead) wait() (full bool, err error) {
	if a.inFlight == nil {
		return false, nil
	}
	<-a.inFlight
	a.inFlight = nil
	return a.got == a.asked, a.err
}

// landed reports whether a reservation was in flight and has landed, so wait would not block.
func (a *ahead) landed() bool {
	if a.inFlight == nil {
		return false
	}
	select {
	case <-a.inFlight:
		return true
	default:
		return false
	}
}

// take removes up to n held jobs, oldest first, and returns their reservations as the extender left them.
func (a *ahead) take(n int) []queue.Reservation {
	a.mu.Lock()
	defer a.mu.Unlock()
	n = min(n, len(a.held))
	out := make([]queue.Reservation, n)
	for i, r := range a.held[:n] {
		out[i] = r.reservation()
	}
	a.held = append(a.held[:0], a.held[n:]...)
	return out
}

// size is how many jobs are held.
func (a *ahead) size() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.held)
}

// runs returns the held jobs, for the lease extender.
func (a *ahead) runs() []*run {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*run(nil), a.held...)
}

// handBack waits for the reservation in flight and hands back every held job untouched; it returns how many
// went back.
func (a *ahead) handBack(ctx context.Context, w *Worker, why string) int {
	a.wait()
	rs := a.take(a.size())
	for _, r := range rs {
		w.handBack(ctx, r, why)
	}
	return len(rs)
}
