package worker

import (
	"context"
	"sync"

	"github.com/queuebridge/bridge/queue"
)

// ahead holds the jobs reserved before a slot was free for them: while a batch runs, the next one is on
// its way, so a drain does not wait one round trip per batch. They are reserved in the store like every
// other job (never only here), the lease extender keeps their reservations, and a stop hands them back
// untouched. At most Worker.aheadCap jobs are held or asked for, so every one of them starts within
// aheadMaxWait at the recent pace, long before its reservation lapses.
//
// A reservation ahead is a flight: its call to the store, then the decoding of what it got. At most one
// call is in flight, but the next may leave while the one before decodes its jobs, so the store is not
// idle while the bridge decodes (a Laravel payload costs a few µs).
type ahead struct {
	mu   sync.Mutex
	held []heldAhead // reserved ahead and not started, oldest first

	// Only the loop goroutine touches these.
	queue   string    // the queue of the flights and of the jobs held
	flights []*flight // in flight, oldest first
}

// flight is one reservation ahead.
type flight struct {
	asked    int           // how many jobs it asked for
	reserved chan struct{} // closed once its store call returned
	landed   chan struct{} // closed once its jobs are in held, after those of the flight before
	got      int           // how many it got, once landed
	err      error         // its error, once landed
}

// heldAhead is a job reserved ahead: its run (job and handler are not set until it starts) and its payload,
// decoded already by its flight, which otherwise waits on the store: the loop that starts every job then
// does not decode them too.
type heldAhead struct {
	run *run
	job *queue.Job
	err error
}

// canLaunch reports whether a reservation of q may leave now: none is calling the store, and the flights
// still decoding are of q.
func (a *ahead) canLaunch(q string) bool {
	if len(a.flights) == 0 {
		return true
	}
	last := a.flights[len(a.flights)-1]
	select {
	case <-last.reserved:
		return a.queue == q
	default:
		return false
	}
}

// launch reserves up to n jobs of q ahead. No restart reading goes with it: by the time its jobs start, one
// taken now would be stale (the round that starts them reads the signal afresh).
func (a *ahead) launch(w *Worker, q string, n int) {
	var before *flight
	if len(a.flights) > 0 {
		before = a.flights[len(a.flights)-1]
	}
	f := &flight{asked: n, reserved: make(chan struct{}), landed: make(chan struct{})}
	a.queue = q
	a.flights = append(a.flights, f)
	go func() {
		defer close(f.landed)
		rs, err := w.broker.Reserve(w.workCtx, q, n)
		close(f.reserved)
		runs := make([]heldAhead, 0, len(rs))
		for _, res := range rs {
			r := &run{res: res}
			// Reserved in the last instant of a second, with a small expire, a reservation may lapse before
			// the extender's next look: it is pushed out now, as a job about to start is.
			if w.lease != nil && !w.lease.hold(w.workCtx, r) {
				w.log.Warn("reservation lost before the job started", "queue", q)
				continue
			}
			job, err := w.rules.NewJob(r.reservation())
			runs = append(runs, heldAhead{run: r, job: job, err: err})
		}
		if before != nil {
			<-before.landed
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		f.got, f.err = len(rs), err
		a.held = append(a.held, runs...)
	}()
}

// inFlight reports whether a reservation ahead is in flight.
func (a *ahead) inFlight() bool { return len(a.flights) > 0 }

// asking is how many jobs the flights that have not landed asked for. Read before size: a flight landing
// in between is then counted twice, never left out.
func (a *ahead) asking() int {
	n := 0
	for _, f := range a.flights {
		select {
		case <-f.landed:
		default:
			n += f.asked
		}
	}
	return n
}

// wait waits for the oldest flight, if any, to land. It returns whether that reservation came back full
// (the queue has more), and its error.
func (a *ahead) wait() (full bool, err error) {
	if len(a.flights) == 0 {
		return false, nil
	}
	f := a.flights[0]
	<-f.landed
	a.flights = a.flights[1:]
	return f.got == f.asked, f.err
}

// landed reports whether a flight is in the air and its oldest has landed, so wait would not block.
func (a *ahead) landed() bool {
	if len(a.flights) == 0 {
		return false
	}
	select {
	case <-a.flights[0].landed:
		return true
	default:
		return false
	}
}

// take removes up to n held jobs, oldest first, and returns them with their reservations as the extender
// left them.
func (a *ahead) take(n int) []decoded {
	a.mu.Lock()
	defer a.mu.Unlock()
	n = min(n, len(a.held))
	out := make([]decoded, n)
	for i, h := range a.held[:n] {
		out[i] = decoded{res: h.run.reservation(), job: h.job, err: h.err}
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
	runs := make([]*run, len(a.held))
	for i, h := range a.held {
		runs[i] = h.run
	}
	return runs
}

// handBack waits for the flights and hands back every held job untouched; it returns how many went back.
func (a *ahead) handBack(ctx context.Context, w *Worker, why string) int {
	for a.inFlight() {
		a.wait()
	}
	rs := a.take(a.size())
	for _, d := range rs {
		w.handBack(ctx, d.res, why)
	}
	return len(rs)
}
