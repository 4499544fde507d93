package integration

// The Laravel test app's job classes seen from Go: their class names, App\Jobs\Record as Job.Bind decodes
// it and as compat/laravel describes it (recordSpec.command), Go handlers that behave like the PHP classes
// (Record, Legacy@handle, FailsManually) and record what they did, and the payload helpers the Laravel
// cross-tests compare with.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
)

// The test app's class names as they travel in payloads.
const (
	classRecord        = `App\Jobs\Record`
	classObjectProps   = `App\Jobs\ObjectProps`
	classWithModel     = `App\Jobs\WithModel`
	classLegacy        = `App\Jobs\Legacy`
	classFailsManually = `App\Jobs\FailsManually`
	classUser          = `App\Models\User`
	jobLegacy          = `App\Jobs\Legacy@handle`
)

// recordJob is App\Jobs\Record as Job.Bind decodes it: every property, public, protected (format) and
// private (secret), then the Queueable trait's.
type recordJob struct {
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
func (c *recordJob) props() map[string]any {
	m, _ := jsonValue(map[string]any{
		"log": c.Log, "n": c.N, "name": c.Name, "tags": c.Tags, "ratio": c.Ratio, "whole": c.Whole,
		"flag": c.Flag, "nothing": c.Nothing, "format": c.Format, "secret": c.Secret,
		"failTimes": c.FailTimes, "releaseTimes": c.ReleaseTimes, "releaseDelay": c.ReleaseDelay,
		"sleepMs": c.SleepMs, "tries": c.Tries, "backoff": c.Backoff, "maxExceptions": c.MaxExceptions,
		"timeout": c.Timeout, "failOnTimeout": c.FailOnTimeout, "retryUntil": c.RetryUntil,
	})
	out, _ := m.(map[string]any) // nil (and a failed comparison) if the round trip failed
	return out
}

// asJSON turns a Go value (generic PHP values included: *phpjson.Map, []any, int64) into what encoding/json
// decodes its JSON to, so it compares with the PHP side's JSON lines.
func asJSON(t testing.TB, v any) any {
	t.Helper()
	out, err := jsonValue(v)
	require.NoError(t, err)
	return out
}

// jsonValue is asJSON for handlers, off the test goroutine.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// recordSpec is one App\Jobs\Record as Record::forTest(N) builds it, with the --set properties a test uses.
type recordSpec struct {
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

// recordTags is Record::forTest's $tags for n.
func recordTags(n int) *phpjson.Map {
	deep := &phpjson.Map{Keys: []string{"e"}, Values: []any{fmt.Sprintf("deep-%d", n)}}
	return &phpjson.Map{
		Keys:   []string{"n", "a", "b", "c"},
		Values: []any{n, []any{1, 2.5, true, nil}, []any{}, &phpjson.Map{Keys: []string{"d"}, Values: []any{deep}}},
	}
}

// recordName is Record::forTest's $name for n.
func recordName(n int) string {
	return fmt.Sprintf("张三 #%d / O'Brien \"q\" <b>&amp; \\ tab\t nl\n 😀", n)
}

// command describes the PHP object `Record::forTest(N)` with the spec's properties set, pushed through
// Queue::push (Queueable properties untouched: null), exactly as the class declares it: its properties in
// declaration order (protected format, private secret), then InteractsWithQueue's job, then Queueable's.
// The envelope values (maxTries, backoff, …) are what Queue::createObjectPayload reads from those properties.
func (s recordSpec) command() laravel.Command {
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
		Class: classRecord,
		Props: []laravel.Prop{
			{Name: "log", Value: log},
			{Name: "n", Value: s.N},
			{Name: "name", Value: recordName(s.N)},
			{Name: "tags", Value: recordTags(s.N)},
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
func (s recordSpec) props(t testing.TB) map[string]any {
	t.Helper()
	var log any
	if s.Log != "" {
		log = s.Log
	}
	var backoff any
	if s.Backoff != nil {
		backoff = s.Backoff
	}
	return asJSON(t, map[string]any{
		"log": log, "n": s.N, "name": recordName(s.N), "tags": recordTags(s.N), "ratio": float64(s.N) + 0.25,
		"whole": 2.0, "flag": s.N%2 == 0, "nothing": nil, "format": "pdf", "secret": fmt.Sprintf("s3cr3t-%d", s.N),
		"failTimes": s.FailTimes, "releaseTimes": s.ReleaseTimes, "releaseDelay": s.ReleaseDelay,
		"sleepMs": s.SleepMs, "tries": s.Tries, "backoff": backoff, "maxExceptions": s.MaxExceptions,
		"timeout": s.Timeout, "failOnTimeout": s.FailOnTimeout, "retryUntil": s.RetryUntil,
	}).(map[string]any)
}

// withException records err as PHP's Recorder prints an exception: "<class>: <message>".
func withException(err error) func(*record) {
	return func(r *record) {
		class, msg := exceptionText(err)
		r.Exception, r.Err = class+": "+msg, err
	}
}

// recordHandler runs App\Jobs\Record in Go as Record::handle() does: sleepMs first (recorded "start"),
// then attempts <= failTimes throw RuntimeException("Record <n> fails on attempt <a>"), attempts <=
// failTimes + releaseTimes release(releaseDelay), else "ok"; Failed records "failed" as Record::failed().
type recordHandler struct{ rec *recorder }

func (h recordHandler) ProcessJob(ctx context.Context, job *bridge.Job) error {
	var c recordJob
	if err := job.Bind(&c); err != nil {
		return err
	}
	props := func(r *record) { r.Props = c.props() }
	if c.SleepMs > 0 {
		h.rec.Record(job, "start", props)
		select {
		case <-time.After(time.Duration(c.SleepMs) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a := job.Attempts()
	if a <= c.FailTimes {
		h.rec.Record(job, "throw", props)
		return &phpError{Class: "RuntimeException", Message: fmt.Sprintf("Record %d fails on attempt %d", c.N, a)}
	}
	if a <= c.FailTimes+c.ReleaseTimes {
		h.rec.Record(job, "release", props)
		job.Release(time.Duration(c.ReleaseDelay) * time.Second)
		return nil
	}
	h.rec.Record(job, "ok", props)
	return nil
}

func (h recordHandler) Failed(_ context.Context, job *bridge.Job, err error) {
	var c recordJob
	bindErr := job.Bind(&c)
	h.rec.Record(job, "failed", func(r *record) {
		if bindErr == nil {
			r.Props = c.props()
		}
		withException(err)(r)
	})
}

// legacyHandler runs the string job App\Jobs\Legacy@handle in Go as Legacy::handle() does: attempts <=
// data.failTimes throw RuntimeException("Legacy <n> fails on attempt <a>"), else "ok" (and the job is
// deleted); Failed records "failed" as Legacy::failed().
type legacyHandler struct{ rec *recorder }

func (h legacyHandler) ProcessJob(_ context.Context, job *bridge.Job) error {
	var data map[string]any
	if err := job.Bind(&data); err != nil {
		return err
	}
	legacy := func(r *record) { r.Class, r.Data = classLegacy, data }
	a := job.Attempts()
	failTimes, _ := data["failTimes"].(float64)
	if a <= int(failTimes) {
		h.rec.Record(job, "throw", legacy)
		return &phpError{Class: "RuntimeException", Message: fmt.Sprintf("Legacy %v fails on attempt %d", data["n"], a)}
	}
	h.rec.Record(job, "ok", legacy)
	return nil
}

func (h legacyHandler) Failed(_ context.Context, job *bridge.Job, err error) {
	var data map[string]any
	_ = job.Bind(&data)
	h.rec.Record(job, "failed", func(r *record) {
		r.Class, r.Data = classLegacy, data
		withException(err)(r)
	})
}

// failsManuallyJob is App\Jobs\FailsManually as Job.Bind decodes it.
type failsManuallyJob struct {
	Log    *string `php:"log"`
	N      int     `php:"n"`
	FailAt int     `php:"failAt"`
	Tries  *int    `php:"tries"`
}

// failsManuallyHandler runs App\Jobs\FailsManually in Go as its handle() does: attempts before failAt
// throw, attempt failAt fails the job itself (Job.Fail, PHP's $this->fail($e)); Failed records "failed".
type failsManuallyHandler struct{ rec *recorder }

func (h failsManuallyHandler) ProcessJob(_ context.Context, job *bridge.Job) error {
	var c failsManuallyJob
	if err := job.Bind(&c); err != nil {
		return err
	}
	a := job.Attempts()
	if a < c.FailAt {
		h.rec.Record(job, "throw", nil)
		return &phpError{Class: "RuntimeException", Message: fmt.Sprintf("FailsManually %d throws on attempt %d", c.N, a)}
	}
	h.rec.Record(job, "fail", nil)
	job.Fail(&phpError{Class: "RuntimeException", Message: fmt.Sprintf("FailsManually %d gives up on attempt %d", c.N, a)})
	return nil
}

func (h failsManuallyHandler) Failed(_ context.Context, job *bridge.Job, err error) {
	h.rec.Record(job, "failed", withException(err))
}

// laravelPayload is the part of a Laravel 8 Redis payload the tests check.
type laravelPayload struct {
	UUID        string          `json:"uuid"`
	DisplayName string          `json:"displayName"`
	Job         string          `json:"job"`
	MaxTries    *int            `json:"maxTries"`
	Data        json.RawMessage `json:"data"`
	ID          string          `json:"id"`
	Attempts    *int            `json:"attempts"`
}

var (
	laravelObjectKeys = []string{"uuid", "displayName", "job", "maxTries", "maxExceptions", "failOnTimeout",
		"backoff", "timeout", "retryUntil", "data", "id", "attempts"}
	laravelStringKeys = []string{"uuid", "displayName", "job", "maxTries", "maxExceptions", "failOnTimeout",
		"backoff", "timeout", "data", "id", "attempts"}
	laravelUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	laravelID   = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

// payloadKeys returns the top-level keys of a JSON object in their stored order.
func payloadKeys(t testing.TB, raw string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "payload is not a JSON object: %s", raw)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// commandOf returns data.command of a stored payload.
func commandOf(t testing.TB, raw string) string {
	t.Helper()
	var p struct {
		Data struct {
			Command string `json:"command"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &p), raw)
	return p.Data.Command
}

// withoutIdentity parses a payload and blanks what differs between two pushes of the same job: uuid and id.
func withoutIdentity(t testing.TB, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &m), raw)
	require.Contains(t, m, "uuid")
	require.Contains(t, m, "id")
	m["uuid"], m["id"] = "<uuid>", "<id>"
	return m
}
