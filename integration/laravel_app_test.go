package integration

// Smoke tests of the harness's Laravel backend: the test app is the real framework.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLaravelHarnessDispatchAndWork: 10 object + 10 string jobs pushed by the real framework are Laravel 8
// payloads on <prefix>queues:<q>, and Laravel's own worker runs each exactly once with the dispatched data.
func TestLaravelHarnessDispatchAndWork(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	const q = "smoke"

	jobs := a.Dispatch("--objects=10", "--strings=10", "--queue="+q, "--log="+a.Records, "--raw")
	require.Len(t, jobs, 20)

	list := a.LRange(a.Keys(q).List)
	require.Len(t, list, 20)
	notify := a.LRange(a.Keys(q).Notify)
	require.Equal(t, strings.Split(strings.Repeat("1", 20), ""), notify, "one notify token per push")

	byID := map[string]laravelJob{}
	for i, raw := range list {
		j := jobs[i] // FIFO: the list is in dispatch order
		require.Equal(t, raw, j.Raw, "dispatch.php read back the stored bytes")
		require.Equal(t, a.Keys(q).List, j.Key)
		var p laravelPayload
		require.NoError(t, json.Unmarshal([]byte(raw), &p), raw)
		require.Regexp(t, laravelUUID, p.UUID)
		require.Regexp(t, laravelID, p.ID)
		require.Equal(t, j.UUID, p.UUID)
		require.Equal(t, j.ID, p.ID)
		require.NotNil(t, p.Attempts)
		require.Equal(t, 0, *p.Attempts)
		switch j.Kind {
		case "object":
			require.Equal(t, laravelObjectKeys, payloadKeys(t, raw))
			require.Equal(t, `Illuminate\Queue\CallQueuedHandler@call`, p.Job)
			require.Equal(t, `App\Jobs\Record`, p.DisplayName)
			var data struct {
				CommandName string `json:"commandName"`
				Command     string `json:"command"`
			}
			require.NoError(t, json.Unmarshal(p.Data, &data))
			require.Equal(t, `App\Jobs\Record`, data.CommandName)
			require.True(t, strings.HasPrefix(data.Command, `O:15:"App\Jobs\Record":`), data.Command)
			require.Contains(t, data.Command, "s:9:\"\x00*\x00format\";s:3:\"pdf\";")
			priv, secret := "\x00App\\Jobs\\Record\x00secret", fmt.Sprintf("s3cr3t-%d", j.N)
			require.Contains(t, data.Command, fmt.Sprintf("s:%d:\"%s\";s:%d:\"%s\";", len(priv), priv, len(secret), secret),
				"private property, NUL-marked name")
			require.Contains(t, data.Command, `s:5:"queue";s:5:"smoke";`, "the Bus path sets the queue property")
		case "string":
			require.Equal(t, laravelStringKeys, payloadKeys(t, raw))
			require.Equal(t, `App\Jobs\Legacy@handle`, p.Job)
			require.Equal(t, `App\Jobs\Legacy`, p.DisplayName)
			var data any
			require.NoError(t, json.Unmarshal(p.Data, &data))
			require.Equal(t, j.Data, data)
		default:
			require.Failf(t, "kind", "%q", j.Kind)
		}
		byID[j.ID] = j
	}
	require.Len(t, byID, 20)

	w := a.Work("--queue="+q, "--drain", "--sleep=0.1")
	require.Len(t, w.Of("JobProcessing"), 20)
	require.Len(t, w.Of("JobProcessed"), 20)
	require.Empty(t, w.Of("JobExceptionOccurred"))
	require.Empty(t, w.Of("JobFailed"))

	recs := a.RecordsIn(a.Records)
	require.Len(t, recs, 20)
	seen := map[string]int{}
	for _, r := range recs {
		j, ok := byID[r.ID]
		require.True(t, ok, "record of an unknown job id %s", r.ID)
		seen[r.ID]++
		require.Equal(t, "laravel", r.Runner)
		require.Equal(t, "ok", r.Outcome)
		require.Equal(t, j.UUID, r.UUID)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, q, r.Queue)
		require.Equal(t, "redis", r.Connection)
		if j.Kind == "object" {
			require.Equal(t, `App\Jobs\Record`, r.Class)
			require.Equal(t, j.Props, r.Props, "job %d ran with the dispatched properties", j.N)
		} else {
			require.Equal(t, `App\Jobs\Legacy`, r.Class)
			require.Equal(t, j.Data, r.Data, "string job %d ran with the dispatched data", j.N)
		}
	}
	for id, n := range seen {
		require.Equal(t, 1, n, "job %s ran %d times", id, n)
	}
	a.RequireQueueEmpty(q)
}

// TestLaravelHarnessFailedJobs: a Fails job run by Laravel's worker ends in the failed-jobs table with Laravel's
// row shape (DatabaseUuidFailedJobProvider), on sqlite and on MySQL.
func TestLaravelHarnessFailedJobs(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "mysql"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			a := newLaravelApp(t, laravelOptions{FailedDB: db})
			const q = "fails"
			jobs := a.Dispatch("--objects=1", "--class=Fails", "--via=queue", "--queue="+q, "--raw")
			require.Len(t, jobs, 1)
			j := jobs[0]

			w := a.Work("--queue="+q, "--drain", "--sleep=0.1", "--record="+a.Records)
			failed := w.Of("JobFailed")
			require.Len(t, failed, 1)
			require.Equal(t, "RuntimeException", failed[0].Exception)
			require.Equal(t, "boom", failed[0].Message)
			// 8.x order when the after-exception check fails the job: JobFailed, then JobExceptionOccurred.
			var order []string
			for _, e := range w.Events {
				order = append(order, e.Event)
			}
			require.Equal(t, []string{"JobProcessing", "JobFailed", "JobExceptionOccurred", "WorkerStopping"}, order)

			rows := a.FailedJobs()
			require.Len(t, rows, 1)
			r := rows[0]
			require.Equal(t, int64(1), r.ID)
			require.Equal(t, j.UUID, r.UUID)
			require.Equal(t, "redis", r.Connection)
			require.Equal(t, q, r.Queue)
			require.Equal(t, j.Raw, r.Payload, "failed on attempt 1: the payload is the pushed bytes")
			require.Regexp(t, `^RuntimeException: boom in \S+Fails\.php:\d+\nStack trace:\n#0 `, r.Exception)
			require.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, r.FailedAt)

			recs := a.RecordsIn(a.Records)
			require.Len(t, recs, 2)
			require.Equal(t, "throw", recs[0].Outcome)
			require.Equal(t, "failed", recs[1].Outcome, "Fails::failed() was called")
			require.Equal(t, "RuntimeException: boom", recs[1].Exception)
			a.RequireQueueEmpty(q)
		})
	}
}

// TestLaravelHarnessMatchesFixtures: the harness's job classes serialize byte for byte like the golden
// fixtures' (shared/fixtures/laravel/v8), i.e. data.command is identical; only uuid, id (random) differ.
func TestLaravelHarnessMatchesFixtures(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	for class, fixture := range map[string]string{
		"ObjectProps": "payloads/object_props.json",
		"WithOptions": "payloads/queueable_options.json",
		"IntBackoff":  "payloads/int_backoff_retry_until_prop.json",
		"WithModel":   "payloads/model.json",
	} {
		want, err := os.ReadFile(fixturePath(t, "laravel", "v8", fixture))
		require.NoError(t, err, "golden fixture")
		jobs := a.Dispatch("--objects=1", "--class="+class, "--via=queue", "--queue=fx", "--raw")
		require.Len(t, jobs, 1)
		var got, exp struct {
			Data struct {
				Command string `json:"command"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(jobs[0].Raw), &got))
		require.NoError(t, json.Unmarshal(want, &exp))
		require.Equal(t, exp.Data.Command, got.Data.Command, "%s data.command", class)
		require.Equal(t, payloadKeys(t, string(want)), payloadKeys(t, jobs[0].Raw), "%s keys", class)
	}
}

// TestLaravelHarnessBench: bench.php drains what it pushed with Laravel's worker and reports a pace.
func TestLaravelHarnessBench(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	b := a.Bench(200, "--queue=bench")
	require.Equal(t, 200, b.Jobs)
	require.Equal(t, 200, b.Processed)
	require.Zero(t, b.Failed)
	require.Zero(t, b.Status)
	require.Positive(t, b.JobsPerSec)
	a.RequireQueueEmpty("bench")
}

// TestLaravelHarnessRestart: the real queue:restart stops a running queue:work (exit 0), through the cache key
// <prefix>laravel_cache:illuminate:queue:restart.
func TestLaravelHarnessRestart(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	// The worker reads the key at start and after each iteration; a job it runs tells the test it has started.
	a.Dispatch("--objects=1", "--queue=restart", "--log="+a.Records)
	w := a.StartWork("--queue=restart", "--sleep=0.1")
	waitFor(t, "the worker ran its first job", func() bool { return a.LLen(a.Records) == 1 })
	require.Contains(t, a.Artisan("queue:restart"), "Broadcasting queue restart signal.")
	res := w.Wait(t)
	require.Len(t, res.Of("WorkerStopping"), 1)
	v, err := a.Redis.Get(context.Background(), a.RestartKey()).Result()
	require.NoError(t, err)
	require.Regexp(t, `^\d+$`, v, "queue:restart stores the unix time as a plain string")
}
