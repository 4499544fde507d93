package integration

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestDBLaravel: real Laravel 8.83 on its database queue (MariaDB and SQLite; the tables made by `bridge
// migrate`): 1,000 jobs Laravel dispatched (Record objects through the Bus and string jobs, a fifth of each
// delayed) are run by the bridge exactly once, attempts() 1, job.ID() the row id, the stored bytes, Bind giving
// the serialized values; 200 jobs the bridge pushed (Push / Later / PushCommand) are run by Laravel's own
// `queue:work database` exactly once; a job failing under the bridge leaves Laravel's failed_jobs row
// (connection "database", the payload bytes), which Laravel reads back.
func TestDBLaravel(t *testing.T) {
	t.Parallel()
	for _, kind := range laravelDBKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testDBLaravel(t, kind)
		})
	}
}

func testDBLaravel(t *testing.T, kind string) {
	ctx := context.Background()
	a := newLaravelApp(t, laravelOptions{Jobs: kind})
	dispatch := func(args ...string) []laravelJob {
		return a.Dispatch(append([]string{"--connection=database", "--no-readback"}, args...)...)
	}

	// 1. Laravel pushes, the bridge runs.
	const q = "fromphp"
	qa := "--queue=" + q
	var jobs []laravelJob
	jobs = append(jobs, dispatch("--objects=400", "--class=Record", qa)...)
	jobs = append(jobs, dispatch("--objects=100", "--class=Record", qa, "--delay=1", "--start=401")...)
	jobs = append(jobs, dispatch("--strings=400", qa)...)
	jobs = append(jobs, dispatch("--strings=100", qa, "--delay=1", "--start=401")...)
	require.Len(t, jobs, 1000)
	raw := map[string]string{}
	availableAt := map[string]int64{} // as the row says: dispatch.php's own clock may read the next second
	for _, r := range a.Rows("SELECT id, payload, available_at FROM jobs") {
		id := fmt.Sprint(r["id"])
		raw[id] = r["payload"].(string)
		n, err := strconv.ParseInt(fmt.Sprint(r["available_at"]), 10, 64)
		require.NoError(t, err)
		availableAt[id] = n
	}
	byID := map[string]laravelJob{}
	for _, j := range jobs {
		byID[j.ID] = j
		require.Contains(t, raw, j.ID, "row %s is in the table", j.ID)
	}
	require.Len(t, byID, 1000)

	type seen struct {
		runs     int
		attempts int
		uuid     string
		raw      string
		props    any
		err      error
		at       time.Time
		connP    string
	}
	var mu sync.Mutex
	ran := map[string]*seen{}
	note := func(job *bridge.Job, props any, connP string, err error) {
		mu.Lock()
		defer mu.Unlock()
		s := ran[job.ID()]
		if s == nil {
			s = &seen{}
			ran[job.ID()] = s
		}
		s.runs++
		s.attempts, s.uuid, s.raw, s.props, s.err, s.at, s.connP = job.Attempts(), job.UUID(), string(job.RawBody()), props, err, time.Now(), connP
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(ran)
	}
	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 8, Sleep: 50 * time.Millisecond})
	b.HandleFunc(classRecord, func(_ context.Context, job *bridge.Job) error {
		var c recordJob
		err := job.Bind(&c)
		note(job, c.props(), c.Connection, err)
		return err
	})
	b.HandleFunc(jobLegacy, func(_ context.Context, job *bridge.Job) error {
		var data map[string]any
		err := job.Bind(&data)
		v, _ := jsonValue(data)
		note(job, v, "", err)
		return err
	})
	run := runBackground(t, b)
	waitFor(t, "the bridge ran 1,000 jobs", func() bool { return count() == 1000 && a.Count("jobs", "") == 0 })
	require.NoError(t, run.stop(t))
	require.Len(t, ran, 1000)
	for id, s := range ran {
		j, ok := byID[id]
		require.True(t, ok, "the bridge ran row %s, which nobody dispatched", id)
		what := fmt.Sprintf("%s #%d (row %s)", j.Class, j.N, id)
		require.Equal(t, 1, s.runs, what)
		require.NoError(t, s.err, what)
		require.Equal(t, 1, s.attempts, what)
		require.Equal(t, j.UUID, s.uuid, what)
		require.Equal(t, raw[id], s.raw, "%s: the bytes Laravel stored", what)
		if j.Delay > 0 {
			require.GreaterOrEqual(t, s.at.Unix(), availableAt[id], "%s ran before it was due", what)
		}
		if j.Kind == "object" {
			require.Equal(t, j.Props, s.props, "%s: Bind gives back what Laravel serialized", what)
			require.Equal(t, "database", s.connP, what)
		} else {
			require.Equal(t, j.Data, s.props, "%s: Bind gives back the data Laravel wrote", what)
		}
	}

	// 2. The bridge pushes, Laravel's own database worker runs.
	const q2 = "fromgo"
	log := a.Key("log")
	pushed := map[string]any{}
	var due time.Time
	for i := range 200 {
		n := i + 1
		delay := time.Duration(0)
		if i%5 == 4 {
			delay = time.Second
		}
		var id string
		var err error
		if i%2 == 0 {
			data := map[string]any{"n": n, "name": fmt.Sprintf("张三 #%d \"q\" 😀", n), "list": []any{1, 2}, "log": log}
			id, err = b.Later(ctx, delay, q2, jobLegacy, data)
			pushed[id] = asJSON(t, data)
		} else {
			spec := recordSpec{N: n, Log: log}
			id, err = b.LaterCommand(ctx, delay, q2, spec.command())
			pushed[id] = spec.props(t)
		}
		require.NoError(t, err)
		_, err = strconv.ParseInt(id, 10, 64)
		require.NoError(t, err, "a database push returns the row id")
		due = time.Now().Add(delay)
	}
	require.Len(t, pushed, 200)
	waitFor(t, "the delayed pushes are due", func() bool { return time.Now().After(due.Add(time.Second)) })
	w := a.Work("database", "--queue="+q2, "--stop-when-empty", "--sleep=0", "--events=none")
	_ = w
	recs := a.RecordsIn(log)
	require.Len(t, recs, 200)
	times := map[string]int{}
	for _, r := range recs {
		id := r.ID
		want, ok := pushed[id]
		require.True(t, ok, "Laravel ran a job the bridge did not push: %+v", r)
		times[id]++
		require.Equal(t, "ok", r.Outcome)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, q2, r.Queue)
		require.Equal(t, "database", r.Connection)
		if r.Class == classRecord {
			require.Equal(t, want, asJSON(t, r.Props), "row %s ran with the bridge's properties", id)
		} else {
			require.Equal(t, classLegacy, r.Class)
			require.Equal(t, want, asJSON(t, r.Data), "row %s ran with the bridge's data", id)
		}
	}
	for id, n := range times {
		require.Equal(t, 1, n, "row %s ran %d times", id, n)
	}
	require.Zero(t, a.Count("jobs", ""))

	// 3. A job failing under the bridge writes Laravel's failed_jobs row.
	const q3 = "fails"
	failing := dispatch("--objects=1", "--class=Record", "--queue="+q3, "--start=7", "--set=tries=2")
	require.Len(t, failing, 1)
	failRaw := a.Rows("SELECT payload FROM jobs WHERE id = ?", failing[0].ID)[0]["payload"].(string)
	bf := a.Open(bridge.WorkerConfig{Queues: []string{q3}, Sleep: 50 * time.Millisecond})
	rec := a.NewRecorder()
	bf.HandleFunc(classRecord, func(_ context.Context, job *bridge.Job) error {
		rec.Record(job, "throw", nil)
		return &phpError{Class: "RuntimeException", Message: fmt.Sprintf("Record 7 fails on attempt %d", job.Attempts())}
	})
	run3 := runBackground(t, bf)
	waitFor(t, "the job failed", func() bool { return a.Count("jobs", "") == 0 && a.Count("failed_jobs", "") == 1 })
	require.NoError(t, run3.stop(t))
	require.Equal(t, []int{1, 2}, rec.Records().Attempts(), "tries 2: released once, failed on attempt 2")
	rows := a.FailedJobs()
	require.Len(t, rows, 1)
	require.Equal(t, failing[0].UUID, rows[0].UUID)
	require.Equal(t, "database", rows[0].Connection)
	require.Equal(t, q3, rows[0].Queue)
	require.Equal(t, failRaw, rows[0].Payload, "failed_jobs.payload is the row's bytes")
	require.Contains(t, rows[0].Exception, "RuntimeException: Record 7 fails on attempt 2")
	require.Contains(t, a.Artisan("queue:failed"), failing[0].UUID, "php artisan queue:failed lists it")
}
