package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/laravel"
)

// TestLaravelProduceCommandMatchesLaravel: the Go description of App\Jobs\Record (recordSpec.command) gives
// the very bytes Laravel 8.83 writes for the same object pushed with Queue::push: the whole payload when uuid
// and id are taken from Laravel's push, and data.command plus every envelope key when the bridge's
// PushCommand writes it to Redis itself.
func TestLaravelProduceCommandMatchesLaravel(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	b := a.Open(bridge.WorkerConfig{})
	d, err := laravel.ParseDialect("laravel-8")
	require.NoError(t, err)
	d.Prefix = a.Prefix

	retryUntil := time.Now().Unix() + 600
	three, two, thirty := 3, 2, 30
	yes, no := true, false
	cases := []struct {
		spec recordSpec
		sets []string
	}{
		{spec: recordSpec{N: 1}},
		{spec: recordSpec{N: 2, Log: a.Key("log")}},
		{spec: recordSpec{N: 17, Log: a.Key("log"), FailTimes: 1, ReleaseTimes: 2, ReleaseDelay: 5, SleepMs: 10,
			Tries: &three, Backoff: []int{1, 2}, MaxExceptions: &two, Timeout: &thirty, FailOnTimeout: &yes,
			RetryUntil: &retryUntil},
			sets: []string{"failTimes=1", "releaseTimes=2", "releaseDelay=5", "sleepMs=10", "tries=3",
				"backoff=[1,2]", "maxExceptions=2", "timeout=30", "failOnTimeout=true",
				"retryUntil=" + strconv.FormatInt(retryUntil, 10)}},
		{spec: recordSpec{N: 100, Log: a.Key("log"), Backoff: []int{7}, FailOnTimeout: &no},
			sets: []string{"backoff=[7]", "failOnTimeout=false"}},
	}
	for _, c := range cases {
		args := []string{"--objects=1", "--via=queue", "--queue=fromphp", "--raw", "--start=" + strconv.Itoa(c.spec.N)}
		if c.spec.Log != "" {
			args = append(args, "--log="+c.spec.Log)
		}
		for _, s := range c.sets {
			args = append(args, "--set="+s)
		}
		jobs := a.Dispatch(args...)
		require.Len(t, jobs, 1)
		j := jobs[0]
		require.Equal(t, c.spec.props(t), asJSON(t, j.Props), "n=%d: the spec describes the object PHP pushed", c.spec.N)

		cmd := c.spec.command()
		// The whole payload, byte for byte, with Laravel's uuid and id.
		want, err := d.NewObjectPayload(cmd, laravel.PayloadParams{UUID: j.UUID, ID: j.ID, Redis: true})
		require.NoError(t, err)
		require.Equal(t, j.Raw, string(want), "n=%d: payload bytes", c.spec.N)

		// What PushCommand stores.
		id, err := b.PushCommand(ctx, "fromgo", cmd)
		require.NoError(t, err)
		raw, err := a.Redis.LIndex(ctx, a.Keys("fromgo").List, -1).Result()
		require.NoError(t, err)
		require.Contains(t, raw, `"id":"`+id+`"`)
		require.Equal(t, commandOf(t, j.Raw), commandOf(t, raw), "n=%d: data.command bytes", c.spec.N)
		require.Equal(t, payloadKeys(t, j.Raw), payloadKeys(t, raw), "n=%d: envelope keys in order", c.spec.N)
		require.Equal(t, withoutIdentity(t, j.Raw), withoutIdentity(t, raw), "n=%d: envelope values", c.spec.N)
		var p laravelPayload
		require.NoError(t, json.Unmarshal([]byte(raw), &p))
		require.Regexp(t, laravelUUID, p.UUID)
		require.Regexp(t, laravelID, p.ID)
	}
}

// TestLaravelProduce: the bridge pushes 1,000 jobs, 500 string jobs (Push / Later, App\Jobs\Legacy@handle)
// and 500 App\Jobs\Record objects (PushCommand / LaterCommand), a fifth of each delayed; Laravel 8.83's own
// queue:work runs every one exactly once, with the data and properties the bridge wrote.
func TestLaravelProduce(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	b := a.Open(bridge.WorkerConfig{})
	const q = "produce"
	log := a.Key("log")

	type pushed struct {
		kind  string
		props map[string]any // object jobs: Props::of as the spec says
		data  any            // string jobs: the data as JSON
	}
	all := map[string]pushed{}
	for i := range 1000 {
		n := i + 1
		delay := time.Duration(0)
		if i%5 == 4 {
			delay = time.Second
		}
		var id string
		var err error
		if i%2 == 0 {
			data := map[string]any{"n": n, "name": fmt.Sprintf("张三 #%d <b>&amp;</b> \"q\" 😀", n), "f": 1.5,
				"list": []any{1, 2, 3}, "nested": map[string]any{"a": map[string]any{"b": nil}}, "b": true,
				"empty": []any{}, "slash": "a/b", "log": log}
			id, err = b.Later(ctx, delay, q, jobLegacy, data)
			all[id] = pushed{kind: "string", data: asJSON(t, data)}
		} else {
			spec := recordSpec{N: n, Log: log}
			id, err = b.LaterCommand(ctx, delay, q, spec.command())
			all[id] = pushed{kind: "object", props: spec.props(t)}
		}
		require.NoError(t, err)
	}
	require.Len(t, all, 1000, "ids are unique")

	w := a.Work("--queue="+q, "--drain", "--sleep=0.1")
	require.Len(t, w.Of("JobProcessing"), 1000)
	require.Len(t, w.Of("JobProcessed"), 1000)
	require.Empty(t, w.Of("JobExceptionOccurred"))
	require.Empty(t, w.Of("JobFailed"))

	recs := a.RecordsIn(log)
	require.Len(t, recs, 1000)
	ran := map[string]int{}
	for _, r := range recs {
		p, ok := all[r.ID]
		require.True(t, ok, "record of a job the bridge did not push: %+v", r)
		ran[r.ID]++
		require.Equal(t, "laravel", r.Runner)
		require.Equal(t, "ok", r.Outcome)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, q, r.Queue)
		require.Equal(t, "redis", r.Connection)
		require.Regexp(t, laravelUUID, r.UUID)
		if p.kind == "object" {
			require.Equal(t, classRecord, r.Class)
			require.Equal(t, p.props, asJSON(t, r.Props), "job %s ran with the properties the bridge serialized", r.ID)
		} else {
			require.Equal(t, classLegacy, r.Class)
			require.Equal(t, p.data, asJSON(t, r.Data), "string job %s ran with the bridge's data", r.ID)
		}
	}
	for id, n := range ran {
		require.Equal(t, 1, n, "job %s ran %d times", id, n)
	}
	a.RequireQueueEmpty(q)
}

// TestLaravelProduceFailed: a Record the bridge pushed and the same Record pushed by Laravel (Queue::push),
// both tries 2 and always throwing, fail alike under Laravel's worker: the same events in the same order,
// Record::failed() called with the same exception, and failed_jobs rows that differ only in uuid and id.
func TestLaravelProduceFailed(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	b := a.Open(bridge.WorkerConfig{})
	const q = "fails"
	log := a.Key("log")
	two := 2
	spec := recordSpec{N: 7, Log: log, FailTimes: 99, Tries: &two}

	php := a.Dispatch("--objects=1", "--via=queue", "--queue="+q, "--start=7", "--log="+log, "--raw",
		"--set=failTimes=99", "--set=tries=2")
	require.Len(t, php, 1)
	goID, err := b.PushCommand(ctx, q, spec.command())
	require.NoError(t, err)
	goRaw, err := a.Redis.LIndex(ctx, a.Keys(q).List, -1).Result()
	require.NoError(t, err)
	require.Equal(t, withoutIdentity(t, php[0].Raw), withoutIdentity(t, goRaw), "the two pushes are the same job")
	var goPayload laravelPayload
	require.NoError(t, json.Unmarshal([]byte(goRaw), &goPayload))
	goUUID := goPayload.UUID
	require.Equal(t, goID, goPayload.ID)

	w := a.Work("--queue="+q, "--drain", "--sleep=0.1")
	byUUID := map[string][]event{}
	for _, e := range w.Events {
		if e.UUID != "" {
			byUUID[e.UUID] = append(byUUID[e.UUID], e)
		}
	}
	require.Len(t, byUUID, 2)
	sequence := func(es []event) []string {
		var out []string
		for _, e := range es {
			s := fmt.Sprintf("%s attempts=%d", e.Event, e.Attempts)
			if e.Exception != "" {
				s += " " + e.Exception + ": " + e.Message
			}
			out = append(out, s)
		}
		return out
	}
	phpSeq, goSeq := sequence(byUUID[php[0].UUID]), sequence(byUUID[goUUID])
	t.Logf("Laravel-pushed: %q", phpSeq)
	require.Equal(t, phpSeq, goSeq, "the bridge-pushed job goes through Laravel's worker as the Laravel-pushed one")
	require.Contains(t, goSeq, "JobFailed attempts=2 RuntimeException: Record 7 fails on attempt 2")

	// Record::failed() ran for both, with the same exception.
	var failedCalls []record
	for _, r := range a.RecordsIn(log) {
		if r.Outcome == "failed" {
			failedCalls = append(failedCalls, r)
		}
	}
	require.Len(t, failedCalls, 2)
	require.Equal(t, failedCalls[0].Exception, failedCalls[1].Exception)
	require.Equal(t, failedCalls[0].Props, failedCalls[1].Props)

	rows := a.FailedJobs()
	require.Len(t, rows, 2)
	byRow := map[string]laravelFailedJob{}
	for _, r := range rows {
		byRow[r.UUID] = r
	}
	pr, gr := byRow[php[0].UUID], byRow[goUUID]
	require.Equal(t, goUUID, gr.UUID, "a failed_jobs row for the bridge-pushed job")
	require.Equal(t, pr.Connection, gr.Connection)
	require.Equal(t, pr.Queue, gr.Queue)
	require.Equal(t, withoutIdentity(t, pr.Payload), withoutIdentity(t, gr.Payload),
		"failed on attempt 2, both rows hold the cjson copy reserved by attempt 1")
	require.Contains(t, gr.Payload, `"id":"`+goID+`"`)
	require.Equal(t, strings.SplitN(pr.Exception, "\n", 2)[0], strings.SplitN(gr.Exception, "\n", 2)[0])
	require.Equal(t, pr.Exception, gr.Exception, "the same (string)$e, stack trace included")
	a.RequireQueueEmpty(q)
}
