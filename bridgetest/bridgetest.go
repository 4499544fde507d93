// Package bridgetest is a test kit for Go job handlers: run a job built from a PHP payload (or a captured
// fixture) through the handlers a program registered and assert what became of it, capture the events, and
// fake the queue for code that pushes — as Laravel's Queue::fake() does. Nothing here needs a server.
package bridgetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/phpjson"
)

// Kit runs jobs through a bridge's handlers in one dialect, with no store.
type Kit struct {
	t       testing.TB
	b       *bridge.Bridge
	mu      sync.Mutex
	events  []any
	Dialect string
}

// New returns a kit for the handlers registered on b (bridge.New() and Handle…), in dialect (e.g.
// "thinkqueue-v1", "laravel-11"); register handlers on b before or after.
func New(t testing.TB, b *bridge.Bridge, dialect string) *Kit {
	t.Helper()
	k := &Kit{t: t, b: b, Dialect: dialect}
	if err := b.Connect(context.Background(), &bridge.Config{Connection: "sync:", Dialect: dialect}); err != nil {
		t.Fatalf("bridgetest: %v", err)
	}
	b.Listen(func(_ context.Context, e any) {
		k.mu.Lock()
		k.events = append(k.events, e)
		k.mu.Unlock()
	})
	t.Cleanup(func() { b.Close() })
	return k
}

// Payload is what PHP's Queue::push writes for job and data in the kit's dialect (id and clock as the
// library makes them).
func (k *Kit) Payload(job string, data any) []byte {
	k.t.Helper()
	q := NewQueue(k.t, k.Dialect)
	if _, err := q.Push(context.Background(), "default", job, data); err != nil {
		k.t.Fatalf("bridgetest: payload of %s: %v", job, err)
	}
	return q.Pushed()[0].Payload
}

// Fixture reads a payload captured from PHP (a raw file, e.g. one of the shared fixtures' *.raw).
func (k *Kit) Fixture(path string) []byte {
	k.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		k.t.Fatalf("bridgetest: %v", err)
	}
	return b
}

// Run runs payload once through the handlers, as the worker would with wc's tries and delays, and returns
// what became of it.
func (k *Kit) Run(payload []byte, wc bridge.WorkerConfig) *Result {
	k.t.Helper()
	k.mu.Lock()
	k.events = nil
	k.mu.Unlock()
	r, err := k.b.RunJob(context.Background(), "default", payload, wc)
	if err != nil {
		k.t.Fatalf("bridgetest: %v", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return &Result{t: k.t, JobResult: r, Events: slices.Clone(k.events)}
}

// Result is one run, with assertions.
type Result struct {
	bridge.JobResult
	// Events are the events of this run, in order (events.JobProcessing, JobProcessed, …).
	Events []any
	t      testing.TB
}

// AssertDeleted fails the test unless the job was deleted (done).
func (r *Result) AssertDeleted() *Result {
	r.t.Helper()
	if r.Outcome != bridge.OutcomeDeleted {
		r.t.Errorf("bridgetest: want the job deleted, got %s (err: %v)", outcomeName(r.Outcome), r.Err)
	}
	return r
}

// AssertReleased fails the test unless the job was released for another attempt after delay.
func (r *Result) AssertReleased(delay time.Duration) *Result {
	r.t.Helper()
	if r.Outcome != bridge.OutcomeReleased || r.Delay != delay {
		r.t.Errorf("bridgetest: want the job released with delay %s, got %s with delay %s (err: %v)", delay, outcomeName(r.Outcome), r.Delay, r.Err)
	}
	return r
}

// AssertFailed fails the test unless the job failed for good with an error whose text contains want.
func (r *Result) AssertFailed(want string) *Result {
	r.t.Helper()
	if r.Outcome != bridge.OutcomeFailed || r.Err == nil || !strings.Contains(r.Err.Error(), want) {
		r.t.Errorf("bridgetest: want the job failed with %q, got %s (err: %v)", want, outcomeName(r.Outcome), r.Err)
	}
	return r
}

// AssertEvents fails the test unless the run's events are of these kinds, in order (e.g.
// events.JobProcessing{}, events.JobProcessed{}).
func (r *Result) AssertEvents(kinds ...any) *Result {
	r.t.Helper()
	got := make([]string, len(r.Events))
	for i, e := range r.Events {
		got[i] = fmt.Sprintf("%T", e)
	}
	want := make([]string, len(kinds))
	for i, e := range kinds {
		want[i] = fmt.Sprintf("%T", e)
	}
	if !slices.Equal(got, want) {
		r.t.Errorf("bridgetest: events %v, want %v", got, want)
	}
	return r
}

func outcomeName(o bridge.Outcome) string {
	switch o {
	case bridge.OutcomeDeleted:
		return "deleted"
	case bridge.OutcomeReleased:
		return "released"
	case bridge.OutcomeFailed:
		return "failed"
	case bridge.OutcomeKept:
		return "kept"
	}
	return "nothing"
}

// Pushed is one job a Queue received.
type Pushed struct {
	Queue   string
	Job     string
	Delay   time.Duration
	Payload []byte // the bytes the PHP library would have pushed
	Data    []byte // the payload's data, as JSON
}

// Queue is a fake of the bridge's producer side for code that pushes jobs (b.Push / b.Later): it keeps
// what was pushed, in the dialect's own bytes, and runs nothing. Give it where the code under test wants a
// pusher (an interface with Push and Later, as *bridge.Bridge has).
type Queue struct {
	t      testing.TB
	b      *bridge.Bridge
	mu     sync.Mutex
	pushed []Pushed
}

// NewQueue returns an empty fake queue in dialect.
func NewQueue(t testing.TB, dialect string) *Queue {
	t.Helper()
	q := &Queue{t: t}
	b, err := bridge.Open(context.Background(), &bridge.Config{Connection: "sync:", Dialect: dialect})
	if err != nil {
		t.Fatalf("bridgetest: %v", err)
	}
	q.b = b
	b.HandleFallback(bridge.HandlerFunc(func(_ context.Context, job *bridge.Job) error {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.pushed[len(q.pushed)-1].Payload = job.RawBody()
		q.pushed[len(q.pushed)-1].Data = job.Data()
		return nil
	}))
	t.Cleanup(func() { b.Close() })
	return q
}

// Push records a job as Queue::push would write it.
func (q *Queue) Push(ctx context.Context, queueName, job string, data any) (string, error) {
	return q.Later(ctx, 0, queueName, job, data)
}

// Later records a delayed job.
func (q *Queue) Later(ctx context.Context, delay time.Duration, queueName, job string, data any) (string, error) {
	q.mu.Lock()
	q.pushed = append(q.pushed, Pushed{Queue: queueName, Job: job, Delay: delay})
	q.mu.Unlock()
	return q.b.Later(ctx, delay, queueName, job, data)
}

// Pushed is every job pushed so far, in order.
func (q *Queue) Pushed() []Pushed {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.pushed)
}

// AssertPushed fails the test unless a job of class was pushed onto queueName whose data satisfies check
// (nil: any data); check gets the data as JSON.
func (q *Queue) AssertPushed(queueName, class string, check func(data []byte) bool) {
	q.t.Helper()
	for _, p := range q.Pushed() {
		if p.Queue == queueName && jobClass(p.Job) == jobClass(class) && (check == nil || check(p.Data)) {
			return
		}
	}
	q.t.Errorf("bridgetest: no job %s pushed onto %s matched (pushed: %s)", class, queueName, q.summary())
}

// AssertNothingPushed fails the test if anything was pushed.
func (q *Queue) AssertNothingPushed() {
	q.t.Helper()
	if n := len(q.Pushed()); n > 0 {
		q.t.Errorf("bridgetest: want nothing pushed, got %d: %s", n, q.summary())
	}
}

func (q *Queue) summary() string {
	var parts []string
	for _, p := range q.Pushed() {
		parts = append(parts, p.Job+"→"+p.Queue)
	}
	return strings.Join(parts, ", ")
}

// jobClass is a job name without its @method.
func jobClass(name string) string {
	class, _, _ := strings.Cut(name, "@")
	return class
}

// DataEquals is an AssertPushed check: the data equals want as PHP would hold it.
func DataEquals(want any) func(data []byte) bool {
	w, err := json.Marshal(want)
	if err != nil {
		return func([]byte) bool { return false }
	}
	return func(data []byte) bool {
		a, errA := phpjson.Decode(data)
		b, errB := phpjson.Decode(w)
		if errA != nil || errB != nil {
			return false
		}
		ea, _ := phpjson.Encode(phpjson.Assoc(a))
		eb, _ := phpjson.Encode(phpjson.Assoc(b))
		return string(ea) == string(eb)
	}
}
