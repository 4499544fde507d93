package storagetest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// Instant is a queue store that answers at once from memory: Jobs are reserved once each, in order, and
// every other call succeeds without doing anything but counting deletes. A benchmark on it measures what
// the worker (and the bridge around it) costs per job, with no store round trip.
type Instant struct {
	Jobs    [][]byte // the payloads Reserve hands out, each once
	next    atomic.Int64
	Deleted atomic.Int64 // how many members Delete was given
}

func (s *Instant) Reserve(_ context.Context, q string, n int) ([]queue.Reservation, error) {
	start := s.next.Add(int64(n)) - int64(n)
	end := min(start+int64(n), int64(len(s.Jobs)))
	if start >= end {
		return nil, nil
	}
	out := make([]queue.Reservation, 0, end-start)
	for _, raw := range s.Jobs[start:end] {
		out = append(out, queue.Reservation{Queue: q, Raw: raw, Member: raw, Expires: time.Now().Add(time.Minute)})
	}
	return out, nil
}

func (s *Instant) Delete(_ context.Context, _ string, members ...[]byte) (int, error) {
	s.Deleted.Add(int64(len(members)))
	return len(members), nil
}

func (s *Instant) Release(context.Context, queue.Reservation, []byte, time.Time) (bool, error) {
	return true, nil
}
func (s *Instant) HandBack(context.Context, queue.Reservation) (bool, error) { return true, nil }
func (s *Instant) Extend(context.Context, queue.Reservation, time.Time) (bool, error) {
	return true, nil
}
func (s *Instant) Fail(context.Context, queue.Reservation, queue.FailedJob) error { return nil }
func (s *Instant) Push(context.Context, string, []byte) error                     { return nil }
func (s *Instant) Later(context.Context, string, []byte, time.Time) error         { return nil }
func (s *Instant) Sizes(context.Context, string) (queue.Sizes, error)             { return queue.Sizes{}, nil }
func (s *Instant) List(context.Context, string, queue.State, int, int) ([]queue.StoredJob, error) {
	return nil, nil
}
func (s *Instant) Queues(context.Context) ([]string, error) { return nil, nil }
