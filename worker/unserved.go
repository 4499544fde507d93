package worker

import "time"

// maxUnservedSeen bounds the memory spent per queue on recognising handed-back jobs; past it the queue is
// treated as gone round.
const maxUnservedSeen = 1000

// unserved tracks, per queue, the jobs handed back because no handler here can run them. A hand-back puts
// the job at the tail of its list, so meeting one of them again means the bridge went round the whole queue
// and what is left is for the PHP workers: the queue then rests (1s, doubling to 30s) instead of spinning,
// or, with StopWhenEmpty, counts as empty. Jobs for Go behind jobs for PHP are still reached at once.
type unserved struct {
	queues map[string]*unservedQueue
}

type unservedQueue struct {
	seen      map[string]struct{}
	rest      time.Duration
	until     time.Time
	goneRound bool
}

func (u *unserved) queue(q string) *unservedQueue {
	uq := u.queues[q]
	if uq == nil {
		uq = &unservedQueue{seen: make(map[string]struct{})}
		u.queues[q] = uq
	}
	return uq
}

// skip reports whether to leave q alone this round: it is resting, or (stopWhenEmpty) holds only jobs for PHP.
func (u *unserved) skip(q string, stopWhenEmpty bool) bool {
	uq := u.queues[q]
	if uq == nil {
		return false
	}
	if stopWhenEmpty {
		return uq.goneRound
	}
	return time.Now().Before(uq.until)
}

// handedBack records a job of q handed back untouched.
func (u *unserved) handedBack(q string, raw []byte) {
	uq := u.queue(q)
	key := string(raw)
	if _, again := uq.seen[key]; !again && len(uq.seen) < maxUnservedSeen {
		uq.seen[key] = struct{}{}
		return
	}
	uq.goneRound = true
	uq.rest = min(max(2*uq.rest, time.Second), 30*time.Second)
	uq.until = time.Now().Add(uq.rest)
	clear(uq.seen)
}

// served records a job of q that a handler here took: the next rest starts short again.
func (u *unserved) served(q string) {
	if uq := u.queues[q]; uq != nil {
		uq.rest = 0
	}
}
