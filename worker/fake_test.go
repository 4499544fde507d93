package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// fakeBroker is an in-memory store with the stores' rules: reservations are kept in whole seconds (floor(now)
// + expire, as the Redis and SQL stores hold them), a release goes to a delayed set that a reserve makes due,
// a hand-back goes to the tail of the list (Redis) or, with headHandBack, back to the head (a jobs table,
// which gives out the lowest id first). A member is the payload itself.
type fakeBroker struct {
	clock        func() time.Time
	expire       time.Duration
	headHandBack bool
	extendDelay  time.Duration // how long an Extend takes

	// hooks, set before the worker starts
	beforeReserve func(call int, queue string, n int) error // a non-nil error fails the reserve
	afterReserve  func(call int, queue string, got []queue.Reservation)

	mu       sync.Mutex
	ready    map[string][]string
	delayed  map[string][]delayedJob
	reserved map[string]time.Time // member → when the reservation lapses
	attempts map[string]int

	reserveCalls []reserveCall
	extends      []extendCall
	releases     []releaseCall
	handedBack   []string
	deleted      []string
	deleteCalls  int
	failed       []queue.FailedJob
}

type delayedJob struct {
	raw string
	at  time.Time
}

type reserveCall struct {
	queue string
	n     int
	at    time.Time
}

type extendCall struct {
	member string
	until  time.Time
	at     time.Time
}

type releaseCall struct {
	member string
	at     time.Time
}

func newFakeBroker(clock func() time.Time) *fakeBroker {
	return &fakeBroker{
		clock:    clock,
		expire:   time.Minute,
		ready:    map[string][]string{},
		delayed:  map[string][]delayedJob{},
		reserved: map[string]time.Time{},
		attempts: map[string]int{},
	}
}

func (b *fakeBroker) push(q string, raws ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ready[q] = append(b.ready[q], raws...)
}

func (b *fakeBroker) Reserve(ctx context.Context, q string, n int) ([]queue.Reservation, error) {
	b.mu.Lock()
	call := len(b.reserveCalls) + 1
	b.reserveCalls = append(b.reserveCalls, reserveCall{q, n, time.Now()})
	b.mu.Unlock()
	if b.beforeReserve != nil {
		if err := b.beforeReserve(call, q, n); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	now := b.clock()
	var still []delayedJob
	for _, d := range b.delayed[q] {
		if d.at.After(now) {
			still = append(still, d)
			continue
		}
		b.ready[q] = append(b.ready[q], d.raw)
	}
	b.delayed[q] = still
	take := min(n, len(b.ready[q]))
	raws := b.ready[q][:take]
	b.ready[q] = slices.Clone(b.ready[q][take:])
	expires := time.Unix(now.Unix(), 0).Add(b.expire)
	out := make([]queue.Reservation, 0, len(raws))
	for _, raw := range raws {
		b.reserved[raw] = expires
		b.attempts[raw]++
		out = append(out, queue.Reservation{Queue: q, Raw: []byte(raw), Member: []byte(raw), Expires: expires, Attempts: b.attempts[raw]})
	}
	b.mu.Unlock()
	if b.afterReserve != nil {
		b.afterReserve(call, q, out)
	}
	return out, nil
}

func (b *fakeBroker) Delete(ctx context.Context, q string, members ...[]byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deleteCalls++
	n := 0
	for _, m := range members {
		if _, ok := b.reserved[string(m)]; ok {
			delete(b.reserved, string(m))
			b.deleted = append(b.deleted, string(m))
			n++
		}
	}
	return n, nil
}

func (b *fakeBroker) Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.reserved[string(r.Member)]; !ok {
		return false, nil
	}
	delete(b.reserved, string(r.Member))
	b.delayed[r.Queue] = append(b.delayed[r.Queue], delayedJob{string(payload), at})
	b.releases = append(b.releases, releaseCall{string(r.Member), at})
	return true, nil
}

func (b *fakeBroker) HandBack(ctx context.Context, r queue.Reservation) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := string(r.Member)
	if _, ok := b.reserved[m]; !ok {
		return false, nil
	}
	delete(b.reserved, m)
	b.attempts[m]--
	if b.headHandBack {
		b.ready[r.Queue] = append([]string{string(r.Raw)}, b.ready[r.Queue]...)
	} else {
		b.ready[r.Queue] = append(b.ready[r.Queue], string(r.Raw))
	}
	b.handedBack = append(b.handedBack, m)
	return true, nil
}

func (b *fakeBroker) Extend(ctx context.Context, r queue.Reservation, until time.Time) (bool, error) {
	time.Sleep(b.extendDelay)
	b.mu.Lock()
	defer b.mu.Unlock()
	m := string(r.Member)
	b.extends = append(b.extends, extendCall{m, until, b.clock()})
	if _, ok := b.reserved[m]; !ok {
		return false, nil
	}
	b.reserved[m] = time.Unix(until.Unix(), 0) // whole seconds, as the stores keep it
	return true, nil
}

func (b *fakeBroker) Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.reserved, string(r.Member))
	b.failed = append(b.failed, rec)
	return nil
}

// lapseOf reads when member's reservation lapses; false when it is not reserved.
func (b *fakeBroker) lapseOf(member string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.reserved[member]
	return t, ok
}

func (b *fakeBroker) attemptsOf(member string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.attempts[member]
}

// snapshot copies what the broker holds and what was done to it.
func (b *fakeBroker) snapshot() fakeState {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := fakeState{
		ready:      map[string][]string{},
		reserved:   len(b.reserved),
		delayed:    0,
		calls:      slices.Clone(b.reserveCalls),
		extends:    slices.Clone(b.extends),
		releases:   slices.Clone(b.releases),
		handedBack: slices.Clone(b.handedBack),
		deleted:    slices.Clone(b.deleted),
		deletes:    b.deleteCalls,
		failed:     slices.Clone(b.failed),
	}
	for q, l := range b.ready {
		if len(l) > 0 {
			s.ready[q] = slices.Clone(l)
		}
	}
	for _, d := range b.delayed {
		s.delayed += len(d)
	}
	return s
}

type fakeState struct {
	ready      map[string][]string
	reserved   int
	delayed    int
	calls      []reserveCall
	extends    []extendCall
	releases   []releaseCall
	handedBack []string
	deleted    []string
	deletes    int // Delete calls
	failed     []queue.FailedJob
}

// reservesOf counts the reserve calls made on q.
func (s fakeState) reservesOf(q string) int {
	n := 0
	for _, c := range s.calls {
		if c.queue == q {
			n++
		}
	}
	return n
}

// fakeRules reads payloads "name#id"; a name starting "php:" is a job only PHP can finish, a payload without
// "#" is poison. A job with Tries used up fails; an error releases it after the backoff of its attempt.
type fakeRules struct {
	mu          sync.Mutex
	afterErrors []error // what FailAfterError was given
	retryNows   []time.Time
	failAfter   func(err error) bool // FailAfterError fails the job when it says so; nil: only by tries
	decodeDelay time.Duration        // how long NewJob takes
}

func (r *fakeRules) NewJob(res queue.Reservation) (*queue.Job, error) {
	time.Sleep(r.decodeDelay)
	name, id, ok := strings.Cut(string(res.Raw), "#")
	if !ok {
		return nil, errors.New("not a fake payload")
	}
	job := queue.NewJob(queue.JobParams{Reservation: res, Name: name, ID: id, Attempts: res.Attempts})
	if strings.HasPrefix(name, "php:") {
		return job, fmt.Errorf("job %s: %w", name, queue.ErrPHPOnly)
	}
	return job, nil
}

func (r *fakeRules) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	if tries > 0 && j.Attempts() > tries {
		return fmt.Errorf("%s has been attempted too many times", j.Name())
	}
	return nil
}

func (r *fakeRules) FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	r.mu.Lock()
	r.afterErrors = append(r.afterErrors, err)
	failAfter := r.failAfter
	r.mu.Unlock()
	if tries > 0 && j.Attempts() >= tries || failAfter != nil && failAfter(err) {
		return err
	}
	return nil
}

func (r *fakeRules) RetryDelay(j *queue.Job, err error, backoff []time.Duration, now time.Time) time.Duration {
	r.mu.Lock()
	r.retryNows = append(r.retryNows, now)
	r.mu.Unlock()
	if len(backoff) == 0 {
		return 0
	}
	return backoff[min(max(j.Attempts()-1, 0), len(backoff)-1)]
}

func (r *fakeRules) ReleasedCopy(res queue.Reservation) ([]byte, error) { return res.Raw, nil }

func (r *fakeRules) ExceptionText(err error) string { return err.Error() }

func (r *fakeRules) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.afterErrors)
}

// router maps job names to handlers.
type router map[string]queue.Handler

func (r router) Lookup(job *queue.Job) (queue.Handler, bool) {
	h, ok := r[job.Name()]
	return h, ok
}

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Unix(1_700_000_000, 0).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// logRecorder keeps every log record.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logRecorder) handler() slog.Handler { return &recordHandler{rec: l} }

func (l *logRecorder) all() []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.records)
}

// withMsg returns the records whose message is msg.
func (l *logRecorder) withMsg(msg string) []logRecord {
	var out []logRecord
	for _, r := range l.all() {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

type recordHandler struct{ rec *logRecorder }

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	h.rec.mu.Lock()
	h.rec.records = append(h.rec.records, logRecord{r.Level, r.Message, attrs})
	h.rec.mu.Unlock()
	return nil
}

// harness is one test's worker with its fakes.
type harness struct {
	t      *testing.T
	broker *fakeBroker
	rules  *fakeRules
	router router
	logs   *logRecorder
	cfg    Config
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	logs := &logRecorder{}
	h := &harness{
		t:      t,
		broker: newFakeBroker(time.Now),
		rules:  &fakeRules{},
		router: router{},
		logs:   logs,
	}
	var ids atomic.Int64
	h.cfg = Config{
		Queues:      []string{"default"},
		Sleep:       5 * time.Millisecond,
		GracePeriod: 5 * time.Second,
		Memory:      -1,
		Logger:      slog.New(logs.handler()),
		IDFunc:      func() string { return fmt.Sprint("failed-", ids.Add(1)) },
	}
	return h
}

// useClock makes c the clock of the worker and the broker.
func (h *harness) useClock(c *fakeClock) {
	h.cfg.Clock = c.Now
	h.broker.clock = c.Now
}

func (h *harness) handle(name string, f func(ctx context.Context, job *queue.Job) error) {
	h.router[name] = queue.HandlerFunc(f)
}

func (h *harness) worker() *Worker {
	h.t.Helper()
	w, err := New(h.broker, h.rules, h.router, nil, &h.cfg)
	require.NoError(h.t, err)
	w.minErrWait = 5 * time.Millisecond
	return w
}

// run runs a worker to its end and returns Run's error; the test fails if it takes longer than limit.
func (h *harness) run(w *Worker, limit time.Duration) error {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		cancel()
		<-done
		h.t.Fatalf("the worker did not stop within %s", limit)
		return nil
	}
}

// eventually waits up to limit for cond.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
