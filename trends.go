package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// TrendPoint is one minute of a queue across every bridge.
type TrendPoint = queue.TrendPoint

// trendFlushInterval is how long a bridge gathers job counts before adding them to the store's counters:
// one write per queue and second, never one per job.
const trendFlushInterval = time.Second

// trendStore keeps per-queue, per-minute counters every bridge adds to: the Redis broker
// ({<failed-prefix>:trends:<queue>}) or the jobs table's broker (the queuebridge_trends table).
type trendStore interface {
	AddTrends(ctx context.Context, queueName string, points []queue.TrendPoint) error
	Trends(ctx context.Context, queueName string, since time.Time) ([]queue.TrendPoint, error)
}

// trendStore is where this bridge's trends live; nil on the sync connection.
func (b *Bridge) trendStore() trendStore {
	if b.be.jobs != nil {
		return b.be.jobs
	}
	if r, err := b.redisBroker(); err == nil {
		return r
	}
	return nil
}

// Trends returns a queue's per-minute counts since a time, oldest first, as every bridge on the store
// counted them; minutes with nothing counted are left out.
func (b *Bridge) Trends(ctx context.Context, queueName string, since time.Time) ([]TrendPoint, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	s := b.trendStore()
	if s == nil {
		return nil, errors.New("trends: the sync connection keeps none")
	}
	points, err := s.Trends(ctx, queueName, since)
	if err != nil {
		return nil, fmt.Errorf("trends: %w", err)
	}
	return points, nil
}

// trendKey is one queue's minute.
type trendKey struct {
	queue  string
	minute int64 // Unix seconds / 60
}

// trendRecorder counts job events per queue and minute in memory and adds them to the store at most every
// trendFlushInterval, off the jobs' goroutines (a timer's), and at once when a worker stops or the bridge
// closes.
type trendRecorder struct {
	store trendStore
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	pending map[trendKey]*queue.TrendPoint
	timer   *time.Timer
	flushMu sync.Mutex // one flush at a time, so a stop's flush waits for a timer's
}

func newTrendRecorder(s trendStore, now func() time.Time, log *slog.Logger) *trendRecorder {
	return &trendRecorder{store: s, now: now, log: log, pending: map[trendKey]*queue.TrendPoint{}}
}

// listen is the events.Listener a worker's events reach.
func (r *trendRecorder) listen(ctx context.Context, event any) {
	switch e := event.(type) {
	case events.JobProcessing:
		// The wait is known where the payload says when it was pushed (Laravel 12's createdAt).
		if p, ok := e.Job.Payload().(*laravel.Payload); ok && p.CreatedAt != nil {
			now := r.now()
			wait := max(now.Sub(time.Unix(*p.CreatedAt, 0)), 0)
			r.add(e.Job.Queue(), now, func(t *queue.TrendPoint) { t.WaitSum += wait; t.WaitCount++ })
		}
	case events.JobProcessed:
		r.add(e.Job.Queue(), r.now(), func(t *queue.TrendPoint) { t.Processed++ })
	case events.JobFailed:
		q := e.Reservation.Queue
		if e.Job != nil {
			q = e.Job.Queue()
		}
		r.add(q, r.now(), func(t *queue.TrendPoint) { t.Failed++ })
	case events.WorkerStopping:
		r.flush(context.WithoutCancel(ctx))
	}
}

func (r *trendRecorder) add(queueName string, at time.Time, inc func(*queue.TrendPoint)) {
	k := trendKey{queueName, at.Unix() / 60}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[k]
	if p == nil {
		p = &queue.TrendPoint{Minute: time.Unix(k.minute*60, 0)}
		r.pending[k] = p
	}
	inc(p)
	if r.timer == nil {
		r.timer = time.AfterFunc(trendFlushInterval, func() { r.flush(context.Background()) })
	}
}

// flush adds what was counted to the store. Counts the store refused are logged and dropped: trends are
// for people watching, and a store that is down must not make the bridge hoard them.
func (r *trendRecorder) flush(ctx context.Context) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	pending := r.pending
	r.pending = map[trendKey]*queue.TrendPoint{}
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	byQueue := map[string][]queue.TrendPoint{}
	for k, p := range pending {
		byQueue[k.queue] = append(byQueue[k.queue], *p)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, q := range slices.Sorted(maps.Keys(byQueue)) {
		if err := r.store.AddTrends(ctx, q, byQueue[q]); err != nil {
			r.log.Warn("trends not recorded", "queue", q, "err", err)
		}
	}
}
