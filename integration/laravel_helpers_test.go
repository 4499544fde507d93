package integration

// Shared helpers of the Laravel cross-tests (laravel_consume, laravel_produce, laravel_fleet, laravel_policy,
// laravel_failed, laravel_bench): the in-process bridge on a laravelApp's queues, Go handlers that behave like
// the test app's PHP job classes (App\Jobs\Record, Legacy@handle, FailsManually), the Go description of
// App\Jobs\Record as a compat/laravel Command, and the normalisation used to compare what PHP and Go saw.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/events"
)

// The test app's class names as they travel in payloads.
const (
	lvRecordClass      = `App\Jobs\Record`
	lvObjectPropsClass = `App\Jobs\ObjectProps`
	lvWithModelClass   = `App\Jobs\WithModel`
	lvLegacyJob        = `App\Jobs\Legacy@handle`
	lvLegacyClass      = `App\Jobs\Legacy`
	lvFailsManually    = `App\Jobs\FailsManually`
	lvUserClass        = `App\Models\User`
)

// lvRetryAfter is the app's queue.connections.redis.retry_after, which the bridge must use as Expire.
func lvRetryAfter(t testing.TB, a *laravelApp) time.Duration {
	t.Helper()
	for _, v := range a.Vars() {
		if s, ok := strings.CutPrefix(v, "QUEUE_RETRY_AFTER="); ok {
			n, err := strconv.Atoi(s)
			require.NoError(t, err, v)
			return time.Duration(n) * time.Second
		}
	}
	require.FailNow(t, "the app has no QUEUE_RETRY_AFTER")
	return 0
}

// lvConfig is the bridge's view of app a: dialect laravel-8, the app's Redis prefix, retry_after and cache
// prefix (so the restart signal and maxExceptions counters are the app's), and a failed store of the test's
// own, deleted when the test ends.
func lvConfig(t testing.TB, a *laravelApp, w bridge.WorkerConfig) *bridge.Config {
	t.Helper()
	failedPrefix := a.Prefix + "bridge"
	t.Cleanup(func() {
		base := "{" + failedPrefix + ":failed}"
		if err := a.Redis().Del(context.Background(), base, base+":index").Err(); err != nil {
			t.Errorf("cleanup: DEL the bridge's failed store: %v", err)
		}
	})
	return &bridge.Config{
		Connection:      fmt.Sprintf("redis://%s/%d", a.env.RedisAddr(), a.env.RedisDB()),
		Dialect:         "laravel-8",
		Prefix:          a.Prefix,
		Expire:          lvRetryAfter(t, a),
		CachePrefix:     a.CachePrefix,
		FailedKeyPrefix: failedPrefix,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker:          w,
	}
}

// lvOpen returns an in-process bridge on app a, closed when the test ends.
func lvOpen(t testing.TB, a *laravelApp, w bridge.WorkerConfig) *bridge.Bridge {
	t.Helper()
	b, err := bridge.Open(context.Background(), lvConfig(t, a, w))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// lvFailedStore opens the connection the CLI uses, to read the bridge's failed store (Bridge.Failed).
func lvFailedStore(t testing.TB, a *laravelApp) *bridge.Bridge {
	t.Helper()
	c, err := bridge.Open(context.Background(), lvConfig(t, a, bridge.WorkerConfig{}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// lvRunning is a bridge working in the background.
type lvRunning struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// lvStart runs b.Run until stop (or until it returns by itself: StopWhenEmpty).
func lvStart(t testing.TB, b *bridge.Bridge) *lvRunning {
	ctx, cancel := context.WithCancel(context.Background())
	r := &lvRunning{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = b.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop asks the bridge to stop and returns Run's error once it has (every acknowledgement has landed then).
func (r *lvRunning) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(waitLimit):
		require.FailNow(t, "the bridge did not stop")
	}
	return r.err
}

// wait waits for Run to return by itself.
func (r *lvRunning) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(waitLimit):
		require.FailNow(t, "the bridge did not stop by itself")
	}
	return r.err
}

// lvQueueEmpty reports whether queue q has no ready, delayed, reserved or notify key (RequireQueueEmpty as a
// condition to poll).
func lvQueueEmpty(t testing.TB, a *laravelApp, q string) bool {
	t.Helper()
	n, err := a.Redis().Exists(context.Background(), a.QueueKey(q), a.DelayedKey(q), a.ReservedKey(q), a.NotifyKey(q)).Result()
	require.NoError(t, err)
	return n == 0
}

// lvPHPError is an error a Go handler raises where the PHP job throws: PHPClass is the PHP exception class,
// which ExceptionFromError and the comparisons below report.
type lvPHPError struct {
	Class, Message string
}

func (e *lvPHPError) Error() string    { return e.Message }
func (e *lvPHPError) PHPClass() string { return e.Class }

// lvExceptionText is get_class($e).': '.$e->getMessage() for a Go error: the class is the error's own
// PHPClass() (not one of an error it wraps: PHP reports the outermost exception), else its Go type.
func lvExceptionText(err error) (class, message string) {
	if err == nil {
		return "", ""
	}
	if c, ok := err.(interface{ PHPClass() string }); ok {
		return c.PHPClass(), err.Error()
	}
	return fmt.Sprintf("%T", err), err.Error()
}

// lvRecordCmd is App\Jobs\Record as Job.Bind decodes it: every property, public, protected (format) and
// private (secret), then the Queueable trait's.
type lvRecordCmd struct {
	Log           *string        `php:"log"`
	N             int            `php:"n"`
	Name          string         `php:"name"`
	Tags          map[string]any `php:"tags"`
	Ratio         float64        `php:"ratio"`
	Whole         float64        `php:"whole"`
	Flag          bool           `php:"flag"`
	Nothing       any            `php:"nothing"`
	Format        string         `php:"format"`
	Secret        string         `php:"secret"`
	FailTimes     int            `php:"failTimes"`
	ReleaseTimes  int            `php:"releaseTimes"`
	ReleaseDelay  int            `php:"releaseDelay"`
	SleepMs       int            `php:"sleepMs"`
	Tries         *int           `php:"tries"`
	Backoff       any            `php:"backoff"`
	MaxExceptions *int           `php:"maxExceptions"`
	Timeout       *int           `php:"timeout"`
	FailOnTimeout *bool          `php:"failOnTimeout"`
	RetryUntil    *int64         `php:"retryUntil"`
	laravel.Queueable
}

// props is what App\Support\Props::of prints for the job: its own properties by plain name, as JSON values.
func (c *lvRecordCmd) props() map[string]any {
	m, _ := lvJSONValue(map[string]any{
		"log": c.Log, "n": c.N, "name": c.Name, "tags": c.Tags, "ratio": c.Ratio, "whole": c.Whole,
		"flag": c.Flag, "nothing": c.Nothing, "format": c.Format, "secret": c.Secret,
		"failTimes": c.FailTimes, "releaseTimes": c.ReleaseTimes, "releaseDelay": c.ReleaseDelay,
		"sleepMs": c.SleepMs, "tries": c.Tries, "backoff": c.Backoff, "maxExceptions": c.MaxExceptions,
		"timeout": c.Timeout, "failOnTimeout": c.FailOnTimeout, "retryUntil": c.RetryUntil,
	})
	out, _ := m.(map[string]any) // nil (and a failed comparison) if the round trip failed
	return out
}

// lvJSON turns a Go value (generic PHP values included: *phpjson.Map, []any, int64) into what encoding/json
// decodes its JSON to, so it compares with the harness's JSON lines.
func lvJSON(t testing.TB, v any) any {
	t.Helper()
	out, err := lvJSONValue(v)
	require.NoError(t, err)
	return out
}

// lvJSONValue is lvJSON for handlers, off the test goroutine.
func lvJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// lvRecordSpec is one App\Jobs\Record as Record::forTest(N) builds it, with the --set properties a test uses.
type lvRecordSpec struct {
	N             int
	Log           string // "" is null
	FailTimes     int
	ReleaseTimes  int
	ReleaseDelay  int
	SleepMs       int
	Tries         *int
	Backoff       []int // nil is null
	MaxExceptions *int
	Timeout       *int
	FailOnTimeout *bool
	RetryUntil    *int64
}

// lvRecordTags is Record::forTest's $tags for n.
func lvRecordTags(n int) *phpjson.Map {
	deep := &phpjson.Map{Keys: []string{"e"}, Values: []any{fmt.Sprintf("deep-%d", n)}}
	return &phpjson.Map{
		Keys:   []string{"n", "a", "b", "c"},
		Values: []any{n, []any{1, 2.5, true, nil}, []any{}, &phpjson.Map{Keys: []string{"d"}, Values: []any{deep}}},
	}
}

// lvRecordName is Record::forTest's $name for n.
func lvRecordName(n int) string {
	return fmt.Sprintf("张三 #%d / O'Brien \"q\" <b>&amp; \\ tab\t nl\n 😀", n)
}

// command describes the PHP object `Record::forTest(N)` with the spec's properties set, pushed through
// Queue::push (Queueable properties untouched: null), exactly as the class declares it: its properties in
// declaration order (protected format, private secret), then InteractsWithQueue's job, then Queueable's.
// The envelope values (maxTries, backoff, …) are what Queue::createObjectPayload reads from those properties.
func (s lvRecordSpec) command() laravel.Command {
	var failOnTimeout, retryUntilProp any
	if s.FailOnTimeout != nil {
		failOnTimeout = *s.FailOnTimeout
	}
	if s.RetryUntil != nil {
		retryUntilProp = *s.RetryUntil
	}
	var log any
	if s.Log != "" {
		log = s.Log
	}
	var backoff any
	if s.Backoff != nil {
		backoff = s.Backoff
	}
	var retryUntil *time.Time
	if s.RetryUntil != nil {
		ru := time.Unix(*s.RetryUntil, 0)
		retryUntil = &ru
	}
	intProp := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	return laravel.Command{
		Class: lvRecordClass,
		Props: []laravel.Prop{
			{Name: "log", Value: log},
			{Name: "n", Value: s.N},
			{Name: "name", Value: lvRecordName(s.N)},
			{Name: "tags", Value: lvRecordTags(s.N)},
			{Name: "ratio", Value: float64(s.N) + 0.25},
			{Name: "whole", Value: 2.0},
			{Name: "flag", Value: s.N%2 == 0},
			{Name: "nothing", Value: nil},
			{Name: "format", Visibility: laravel.Protected, Value: "pdf"},
			{Name: "secret", Visibility: laravel.Private, Value: fmt.Sprintf("s3cr3t-%d", s.N)},
			{Name: "failTimes", Value: s.FailTimes},
			{Name: "releaseTimes", Value: s.ReleaseTimes},
			{Name: "releaseDelay", Value: s.ReleaseDelay},
			{Name: "sleepMs", Value: s.SleepMs},
			{Name: "tries", Value: intProp(s.Tries)},
			{Name: "backoff", Value: backoff},
			{Name: "maxExceptions", Value: intProp(s.MaxExceptions)},
			{Name: "timeout", Value: intProp(s.Timeout)},
			{Name: "failOnTimeout", Value: failOnTimeout},
			{Name: "retryUntil", Value: retryUntilProp},
		},
		InteractsWithQueue: true,
		Queueable:          &laravel.Queueable{},
		Tries:              s.Tries,
		MaxExceptions:      s.MaxExceptions,
		Timeout:            s.Timeout,
		Backoff:            s.Backoff,
		FailOnTimeout:      s.FailOnTimeout != nil && *s.FailOnTimeout,
		RetryUntil:         retryUntil,
	}
}

// props is what Props::of prints for the job the spec describes.
func (s lvRecordSpec) props(t testing.TB) map[string]any {
	t.Helper()
	var log any
	if s.Log != "" {
		log = s.Log
	}
	var backoff any
	if s.Backoff != nil {
		backoff = s.Backoff
	}
	return lvJSON(t, map[string]any{
		"log": log, "n": s.N, "name": lvRecordName(s.N), "tags": lvRecordTags(s.N), "ratio": float64(s.N) + 0.25,
		"whole": 2.0, "flag": s.N%2 == 0, "nothing": nil, "format": "pdf", "secret": fmt.Sprintf("s3cr3t-%d", s.N),
		"failTimes": s.FailTimes, "releaseTimes": s.ReleaseTimes, "releaseDelay": s.ReleaseDelay,
		"sleepMs": s.SleepMs, "tries": s.Tries, "backoff": backoff, "maxExceptions": s.MaxExceptions,
		"timeout": s.Timeout, "failOnTimeout": s.FailOnTimeout, "retryUntil": s.RetryUntil,
	}).(map[string]any)
}

// lvLog collects what Go handlers and bridge listeners saw, in the shapes of the PHP side's records
// (App\Support\Recorder) and events (App\Support\EventLog), so the two compare field by field.
type lvLog struct {
	a *laravelApp

	mu      sync.Mutex
	records []laravelRecord
	events  []laravelEvent
}

func (l *lvLog) record(job *bridge.Job, outcome string, extra func(*laravelRecord)) {
	r := laravelRecord{
		Runner:     "bridge",
		PID:        os.Getpid(),
		T:          float64(time.Now().UnixMicro()) / 1e6,
		Class:      job.Name(),
		Outcome:    outcome,
		UUID:       job.UUID(),
		ID:         job.ID(),
		Attempts:   job.Attempts(),
		Queue:      job.Queue(),
		Connection: "redis",
	}
	if extra != nil {
		extra(&r)
	}
	l.mu.Lock()
	l.records = append(l.records, r)
	l.mu.Unlock()
}

// Records returns a copy of the records so far.
func (l *lvLog) Records() []laravelRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]laravelRecord(nil), l.records...)
}

// Events returns a copy of the events so far.
func (l *lvLog) Events() []laravelEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]laravelEvent(nil), l.events...)
}

// listen makes l log the bridge's events as EventLog logs the PHP worker's. A release is logged with the
// score of the released copy in the delayed set and the Unix time just after, as EventLog does.
func (l *lvLog) listen(b *bridge.Bridge) {
	b.Listen(func(ctx context.Context, ev any) {
		var e laravelEvent
		var job *bridge.Job
		switch ev := ev.(type) {
		case events.JobProcessing:
			e.Event, job = "JobProcessing", ev.Job
		case events.JobProcessed:
			e.Event, job = "JobProcessed", ev.Job
		case events.JobExceptionOccurred:
			e.Event, job = "JobExceptionOccurred", ev.Job
			e.Exception, e.Message = lvExceptionText(ev.Err)
		case events.JobFailed:
			e.Event, job = "JobFailed", ev.Job
			e.Exception, e.Message = lvExceptionText(ev.Err)
		case events.JobReleased:
			e.Event, job = "JobReleased", ev.Job
			score, err := l.a.Redis().ZScore(ctx, l.a.DelayedKey(job.Queue()), string(job.Reservation().Member)).Result()
			if err == nil {
				at := int64(score)
				e.AvailableAt = &at
			}
			e.Now = time.Now().Unix()
		case events.WorkerStopping:
			e.Event, e.Message = "WorkerStopping", ev.Reason
		default:
			return
		}
		e.T = float64(time.Now().UnixMicro()) / 1e6
		e.PID = os.Getpid()
		if job != nil {
			e.Connection, e.Queue, e.ID, e.UUID, e.Attempts = "redis", job.Queue(), job.ID(), job.UUID(), job.Attempts()
			e.Name, e.Class = job.Name(), job.Name()
		}
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
	})
}

// lvRecordHandler runs App\Jobs\Record in Go as Record::handle() does: sleepMs first (recorded "start"),
// then attempts <= failTimes throw RuntimeException("Record <n> fails on attempt <a>"), attempts <=
// failTimes + releaseTimes release(releaseDelay), else "ok"; Failed records "failed" as Record::failed().
type lvRecordHandler struct{ log *lvLog }

func (h lvRecordHandler) ProcessJob(ctx context.Context, job *bridge.Job) error {
	var c lvRecordCmd
	if err := job.Bind(&c); err != nil {
		return err
	}
	props := func(r *laravelRecord) { r.Props = c.props() }
	if c.SleepMs > 0 {
		h.log.record(job, "start", props)
		select {
		case <-time.After(time.Duration(c.SleepMs) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a := job.Attempts()
	if a <= c.FailTimes {
		h.log.record(job, "throw", props)
		return &lvPHPError{Class: "RuntimeException", Message: fmt.Sprintf("Record %d fails on attempt %d", c.N, a)}
	}
	if a <= c.FailTimes+c.ReleaseTimes {
		h.log.record(job, "release", props)
		job.Release(time.Duration(c.ReleaseDelay) * time.Second)
		return nil
	}
	h.log.record(job, "ok", props)
	return nil
}

func (h lvRecordHandler) Failed(_ context.Context, job *bridge.Job, err error) {
	var c lvRecordCmd
	bindErr := job.Bind(&c)
	h.log.record(job, "failed", func(r *laravelRecord) {
		if bindErr == nil {
			r.Props = c.props()
		}
		class, msg := lvExceptionText(err)
		r.Exception = class + ": " + msg
	})
}

// lvLegacyHandler runs the string job App\Jobs\Legacy@handle in Go as Legacy::handle() does: attempts <=
// data.failTimes throw RuntimeException("Legacy <n> fails on attempt <a>"), else "ok" (and the job is
// deleted); Failed records "failed" as Legacy::failed().
type lvLegacyHandler struct{ log *lvLog }

func (h lvLegacyHandler) ProcessJob(_ context.Context, job *bridge.Job) error {
	var data map[string]any
	if err := job.Bind(&data); err != nil {
		return err
	}
	record := func(r *laravelRecord) { r.Class, r.Data = lvLegacyClass, data }
	a := job.Attempts()
	failTimes, _ := data["failTimes"].(float64)
	if a <= int(failTimes) {
		h.log.record(job, "throw", record)
		return &lvPHPError{Class: "RuntimeException", Message: fmt.Sprintf("Legacy %v fails on attempt %d", data["n"], a)}
	}
	h.log.record(job, "ok", record)
	return nil
}

func (h lvLegacyHandler) Failed(_ context.Context, job *bridge.Job, err error) {
	var data map[string]any
	_ = job.Bind(&data)
	h.log.record(job, "failed", func(r *laravelRecord) {
		r.Class, r.Data = lvLegacyClass, data
		class, msg := lvExceptionText(err)
		r.Exception = class + ": " + msg
	})
}

// lvFailsManuallyCmd is App\Jobs\FailsManually as Job.Bind decodes it.
type lvFailsManuallyCmd struct {
	Log    *string `php:"log"`
	N      int     `php:"n"`
	FailAt int     `php:"failAt"`
	Tries  *int    `php:"tries"`
}

// lvFailsManuallyHandler runs App\Jobs\FailsManually in Go as its handle() does: attempts before failAt
// throw, attempt failAt fails the job itself (Job.Fail, PHP's $this->fail($e)); Failed records "failed".
type lvFailsManuallyHandler struct{ log *lvLog }

func (h lvFailsManuallyHandler) ProcessJob(_ context.Context, job *bridge.Job) error {
	var c lvFailsManuallyCmd
	if err := job.Bind(&c); err != nil {
		return err
	}
	a := job.Attempts()
	if a < c.FailAt {
		h.log.record(job, "throw", nil)
		return &lvPHPError{Class: "RuntimeException", Message: fmt.Sprintf("FailsManually %d throws on attempt %d", c.N, a)}
	}
	h.log.record(job, "fail", nil)
	job.Fail(&lvPHPError{Class: "RuntimeException", Message: fmt.Sprintf("FailsManually %d gives up on attempt %d", c.N, a)})
	return nil
}

func (h lvFailsManuallyHandler) Failed(_ context.Context, job *bridge.Job, err error) {
	h.log.record(job, "failed", func(r *laravelRecord) {
		class, msg := lvExceptionText(err)
		r.Exception = class + ": " + msg
	})
}
