package worker

import (
	"log/slog"
	"time"
)

// handBackSummaryEvery is how often the log sums up the jobs of one name handed back since the last line.
const handBackSummaryEvery = time.Minute

// unserved keeps what the loop knows about jobs no handler here runs, which go back to their queue
// untouched for the PHP workers. A queue whose round offered nothing but such jobs rests (1s, doubling to
// 30s while it keeps doing so) instead of being reserved from and handed back again at every round; a
// queue that gave a job to a handler rests no more. The log says "handed back" once per queue and job
// name, then sums up once a minute. Only the loop goroutine uses it.
type unserved struct {
	clock  func() time.Time
	log    *slog.Logger
	queues map[string]*queueRest
	names  map[queueJob]*handBackTally
}

type queueRest struct {
	rest  time.Duration
	until time.Time
}

type queueJob struct{ queue, job string }

type handBackTally struct {
	n     int // handed back since the last line
	since time.Time
}

func newUnserved(clock func() time.Time, log *slog.Logger) unserved {
	return unserved{clock: clock, log: log, queues: make(map[string]*queueRest), names: make(map[queueJob]*handBackTally)}
}

// resting reports whether to leave q alone this round.
func (u *unserved) resting(q string) bool {
	qr := u.queues[q]
	return qr != nil && u.clock().Before(qr.until)
}

// offeredNothing records a round in which q offered only jobs nobody here runs.
func (u *unserved) offeredNothing(q string) {
	qr := u.queues[q]
	if qr == nil {
		qr = &queueRest{}
		u.queues[q] = qr
	}
	qr.rest = min(max(2*qr.rest, time.Second), 30*time.Second)
	qr.until = u.clock().Add(qr.rest)
}

// served records a round in which q gave a job to a handler here: the next rest starts short again.
func (u *unserved) served(q string) {
	delete(u.queues, q)
}

// handedBack records a job of q handed back untouched, and logs it the first time for its name.
func (u *unserved) handedBack(q, job, why string) {
	now := u.clock()
	k := queueJob{q, job}
	t := u.names[k]
	if t == nil {
		u.names[k] = &handBackTally{since: now}
		u.log.Info("job handed back untouched, for a worker that can run it", "queue", q, "job", job, "why", why)
		return
	}
	t.n++
	if now.Sub(t.since) >= handBackSummaryEvery {
		u.summarize(k, t, now)
	}
}

// flush sums up what was handed back since the last lines.
func (u *unserved) flush() {
	now := u.clock()
	for k, t := range u.names {
		if t.n > 0 {
			u.summarize(k, t, now)
		}
	}
}

func (u *unserved) summarize(k queueJob, t *handBackTally, now time.Time) {
	u.log.Info("jobs handed back untouched", "queue", k.queue, "job", k.job, "count", t.n, "since", t.since)
	t.n, t.since = 0, now
}
