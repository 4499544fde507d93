package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestLaravelFleet: a mixed fleet drains one queue of 10,000 jobs: two real Laravel 8.83 queue:work
// processes and the bridge (concurrency 8) side by side. Half the jobs are dispatched by Laravel, half pushed
// by the bridge, App\Jobs\Record objects and App\Jobs\Legacy@handle string jobs of both. Every job runs
// exactly once, whoever pushed and whoever took it (records by uuid), each worker takes a share, and every
// key of the queue is gone at the end.
func TestLaravelFleet(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	const q = "fleet"
	log := a.Key("log")
	pusher := a.Open(bridge.WorkerConfig{})

	pushedBy := map[string]string{} // id → "laravel" | "bridge"
	for round := range 2 {
		start := round*2500 + 1
		for i := range 2500 {
			n := start + i
			var id string
			var err error
			if i%5 == 4 {
				id, err = pusher.Push(ctx, q, jobLegacy, map[string]any{"n": n, "log": log})
			} else {
				id, err = pusher.PushCommand(ctx, q, recordSpec{N: n, Log: log}.command())
			}
			require.NoError(t, err)
			pushedBy[id] = "bridge"
		}
		for _, j := range append(
			a.Dispatch("--objects=2000", "--queue="+q, "--log="+log, fmt.Sprintf("--start=%d", start)),
			a.Dispatch("--strings=500", "--queue="+q, "--log="+log, fmt.Sprintf("--start=%d", start+2000))...) {
			if _, dup := pushedBy[j.ID]; dup {
				require.Failf(t, "duplicate id", "%s", j.ID)
			}
			pushedBy[j.ID] = "laravel"
		}
	}
	require.Len(t, pushedBy, 10000)
	require.EqualValues(t, 10000, a.LLen(a.Keys(q).List))

	// The Laravel workers start first (PHP boots in a fraction of a second, the bridge in microseconds); the
	// bridge joins once both have taken a job, so the three really share the queue.
	php := []*laravelWorker{
		a.StartWork("--queue="+q, "--drain=0.5", "--sleep=0.1", "--events=none"),
		a.StartWork("--queue="+q, "--drain=0.5", "--sleep=0.1", "--events=none"),
	}
	waitFor(t, "both Laravel workers ran a job", func() bool {
		pids := map[int]bool{}
		for _, r := range a.RecordsIn(log) {
			pids[r.PID] = true
		}
		return len(pids) == 2
	})

	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 8, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
	b.HandleFunc(classRecord, func(_ context.Context, job *bridge.Job) error {
		var c recordJob
		if err := job.Bind(&c); err != nil {
			return err
		}
		rec.Record(job, "ok", nil)
		return nil
	})
	b.HandleFunc(jobLegacy, func(_ context.Context, job *bridge.Job) error {
		rec.Record(job, "ok", nil)
		return nil
	})
	require.NoError(t, runBackground(t, b).wait(t), "the bridge stops once the queue is empty")
	var phpProcessed []int
	for _, w := range php {
		res := w.Wait(t)
		phpProcessed = append(phpProcessed, res.Exit.Counts["JobProcessed"])
		require.Zero(t, res.Exit.Counts["JobFailed"])
		require.Zero(t, res.Exit.Counts["JobExceptionOccurred"])
	}

	goRuns := rec.Records()
	all := append(a.RecordsIn(log), goRuns...)
	byRunner := map[string]int{}
	uuids := map[string]int{}
	ids := map[string]int{}
	for _, r := range all {
		if _, ok := pushedBy[r.ID]; !ok {
			require.Failf(t, "a run of an unknown job", "%+v", r)
		}
		require.Equal(t, 1, r.Attempts, "job %s (pushed by %s) reserved more than once", r.ID, pushedBy[r.ID])
		uuids[r.UUID]++
		ids[r.ID]++
		byRunner[r.Runner]++
	}
	for uuid, n := range uuids {
		require.Equal(t, 1, n, "job %s ran %d times", uuid, n)
	}
	require.Len(t, uuids, 10000, "every job ran")
	require.Len(t, ids, 10000)
	require.Equal(t, len(goRuns), byRunner["bridge"])
	require.Equal(t, phpProcessed[0]+phpProcessed[1], byRunner["laravel"], "queue:work counted what the records say")
	require.Positive(t, phpProcessed[0])
	require.Positive(t, phpProcessed[1])
	require.Positive(t, byRunner["bridge"])
	t.Logf("Laravel workers ran %d + %d jobs, the bridge %d", phpProcessed[0], phpProcessed[1], byRunner["bridge"])
	a.RequireQueueEmpty(q)
}

// TestLaravelFleetHandOver: Laravel's worker and the bridge take turns on the same jobs. On queue "php-go"
// Laravel's worker runs every first attempt and the bridge the second; on "go-php" the other way round. The
// jobs (dispatched by Laravel) throw on attempt 1 and are released for 3 s (backoff [3]); "retry" jobs
// (tries 3) then succeed on attempt 2, "maxExceptions" jobs (tries 5, maxExceptions 2) throw again and must
// fail right there: their first exception was counted by the other runner, in the app's cache. So the
// attempt count travels in the released copy, the exception count in job-exceptions:<uuid>, and each job
// runs exactly twice and fails at most once, in the store of whoever failed it.
func TestLaravelFleetHandOver(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	log := a.Key("log")
	const perKind = 100
	type job struct {
		laravelJob
		kind string
	}
	// By uuid; n is 1…, 1001… on php-go and 2001…, 3001… on go-php.
	jobs := map[string]job{}
	for i, q := range []string{"php-go", "go-php"} {
		common := []string{"--objects=" + fmt.Sprint(perKind), "--via=queue", "--queue=" + q, "--log=" + log, "--set=backoff=[3]"}
		for _, j := range a.Dispatch(append(common, fmt.Sprintf("--start=%d", 2000*i+1), "--set=failTimes=1", "--set=tries=3")...) {
			jobs[j.UUID] = job{j, "retry"}
		}
		for _, j := range a.Dispatch(append(common, fmt.Sprintf("--start=%d", 2000*i+1001), "--set=failTimes=99",
			"--set=tries=5", "--set=maxExceptions=2")...) {
			jobs[j.UUID] = job{j, "maxExceptions"}
		}
	}
	require.Len(t, jobs, 4*perKind)

	rec := a.NewRecorder()
	bridgeOn := func(q string, stopWhenEmpty bool) *running {
		b := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 4, StopWhenEmpty: stopWhenEmpty,
			Sleep: 50 * time.Millisecond})
		b.Handle(classRecord, recordHandler{rec: rec})
		return runBackground(t, b)
	}

	// Round 1: every job's first attempt; the released jobs wait out their 3 s backoff, so both workers stop
	// when their list is empty. Laravel's worker also stops after as many jobs as the queue holds: on a
	// loaded machine it may still run when the first releases come due, and those attempts are the bridge's.
	first := bridgeOn("go-php", true)
	a.Work("--queue=php-go", "--stop-when-empty", "--max-jobs="+fmt.Sprint(2*perKind), "--sleep=0.1")
	require.NoError(t, first.wait(t))
	// Round 2: the other runner, until both queues are empty (the jobs are in the delayed sets at first).
	second := bridgeOn("php-go", false)
	a.Work("--queue=go-php", "--drain", "--sleep=0.1")
	waitFor(t, "the bridge drained php-go", func() bool { return a.QueueEmpty("php-go") })
	require.NoError(t, second.stop(t))

	type run struct{ runner, outcome string }
	runs := map[string]map[int]run{} // uuid → attempt → run
	note := func(r record) {
		if r.Outcome == "failed" {
			return // failed() runs are counted below, by n
		}
		_, ok := jobs[r.UUID]
		require.True(t, ok, "a run of an unknown job: %+v", r)
		if runs[r.UUID] == nil {
			runs[r.UUID] = map[int]run{}
		}
		_, dup := runs[r.UUID][r.Attempts]
		require.False(t, dup, "job %s ran attempt %d twice", r.UUID, r.Attempts)
		runs[r.UUID][r.Attempts] = run{r.Runner, r.Outcome}
	}
	for _, r := range a.RecordsIn(log) {
		note(r)
	}
	for _, r := range rec.Records() {
		note(r)
	}

	failedBy := map[string]failedRecord{} // uuid → failed record, from both stores
	for _, row := range a.FailedJobs() {
		require.NotContains(t, failedBy, row.UUID)
		failedBy[row.UUID] = failedRecord{ID: "laravel", Exception: row.Exception, Queue: row.Queue}
	}
	store, err := a.Open(bridge.WorkerConfig{}).Failed(ctx)
	require.NoError(t, err)
	for _, f := range store {
		require.NotContains(t, failedBy, f.ID)
		failedBy[f.ID] = failedRecord{ID: "bridge", Exception: f.Exception, Queue: f.Queue}
	}

	for uuid, j := range jobs {
		firstRunner, secondRunner := "laravel", "bridge"
		if j.Queue == "go-php" {
			firstRunner, secondRunner = "bridge", "laravel"
		}
		what := fmt.Sprintf("%s job %d on %s", j.kind, j.N, j.Queue)
		want := map[int]run{1: {firstRunner, "throw"}, 2: {secondRunner, "ok"}}
		if j.kind == "maxExceptions" {
			want[2] = run{secondRunner, "throw"}
		}
		require.Equal(t, want, runs[uuid], what)
		f, failed := failedBy[uuid]
		if j.kind == "retry" {
			require.False(t, failed, "%s failed", what)
			continue
		}
		require.True(t, failed, "%s did not fail at its second exception", what)
		require.Equal(t, secondRunner, f.ID, "%s: failed by the runner of attempt 2", what)
		require.Equal(t, j.Queue, f.Queue, what)
		require.Contains(t, f.Exception, fmt.Sprintf("Record %d fails on attempt 2", j.N), what)
		require.False(t, a.Exists(a.ExceptionsKey(uuid)), "%s: the counter is forgotten when the job fails by it", what)
	}
	require.Len(t, failedBy, 2*perKind)

	// failed() ran once per failed job, in PHP (Record::failed) or in Go (the handler's Failed).
	hooks := map[string]int{} // "runner n"
	for _, r := range append(a.RecordsIn(log), rec.Records()...) {
		if r.Outcome == "failed" {
			hooks[fmt.Sprintf("%s %v", r.Runner, r.Props["n"])]++
		}
	}
	for _, j := range jobs {
		if j.kind == "maxExceptions" {
			runner := "bridge"
			if j.Queue == "go-php" {
				runner = "laravel"
			}
			require.Contains(t, hooks, fmt.Sprintf("%s %d", runner, j.N), "failed() of job %d ran where it failed", j.N)
		}
	}
	require.Len(t, hooks, 2*perKind)
	for k, n := range hooks {
		require.Equal(t, 1, n, "failed() of %s ran %d times", k, n)
	}
	a.RequireQueueEmpty("php-go")
	a.RequireQueueEmpty("go-php")
}

// TestLaravelFleetLeavesPHPJobs: in a mixed fleet the bridge runs only the jobs it has handlers for and
// leaves the others to the PHP workers untouched: a class it does not know (App\Jobs\Plain) and an
// encrypted one (App\Jobs\Encrypted, ShouldBeEncrypted: only the app can decrypt it). The bridge drains
// the queue first and stops when only PHP's jobs are left; Laravel's worker then runs those, each once, and
// nothing fails anywhere.
func TestLaravelFleetLeavesPHPJobs(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	const q = "shared"
	log := a.Key("log")
	var phpJobs []laravelJob
	for round := range 3 {
		a.Dispatch("--objects=10", "--queue="+q, "--log="+log, fmt.Sprintf("--start=%d", 10*round+1))
		phpJobs = append(phpJobs, a.Dispatch("--objects=5", "--class=Plain", "--queue="+q)...)
		phpJobs = append(phpJobs, a.Dispatch("--objects=5", "--class=Encrypted", "--queue="+q)...)
	}

	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 4, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
	b.Handle(classRecord, recordHandler{rec: rec})
	rec.Listen(b)
	require.NoError(t, runBackground(t, b).wait(t))
	require.Len(t, rec.Records(), 30, "the bridge ran every Record")
	// Every check below is made (assert), so one run shows every way the bridge took jobs from PHP.
	// Differences are counted by kind, so a run shows each once.
	failed := map[string]int{}
	for _, e := range rec.Events() {
		if e.Event == "JobFailed" {
			failed[e.Exception+": "+e.Message]++
		}
	}
	assert.Empty(t, failed, "jobs the bridge failed (JobFailed), by exception")
	store, err := a.Open(bridge.WorkerConfig{}).Failed(ctx)
	require.NoError(t, err)
	stored := map[string]int{}
	for _, f := range store {
		stored[f.Exception]++
	}
	assert.Empty(t, stored, "records in the bridge's failed store, by exception")
	assert.EqualValues(t, len(phpJobs), a.LLen(a.Keys(q).List), "PHP's jobs are back on the list")

	w := a.Work("--queue="+q, "--drain", "--sleep=0.1", "--record="+log)
	assert.Empty(t, w.Of("JobFailed"))
	ran := map[string]int{}
	for _, r := range a.RecordsIn(log) {
		require.Equal(t, "laravel", r.Runner)
		require.Equal(t, "ok", r.Outcome)
		require.Equal(t, 1, r.Attempts, "handed back untouched: %+v", r)
		ran[r.UUID]++
	}
	notRun := map[string]int{}
	for _, j := range phpJobs {
		if ran[j.UUID] != 1 {
			notRun[fmt.Sprintf("%s ran %d times", j.Class, ran[j.UUID])]++
		}
	}
	assert.Empty(t, notRun, "PHP's jobs, each run once by Laravel's worker: the others, counted")
	require.Empty(t, a.FailedJobs())
	a.RequireQueueEmpty(q)
}

// TestLaravelFleetRestart: Laravel's own `queue:restart` stops the whole fleet, the bridge included: it
// reads the same cache key (<prefix>laravel_cache:illuminate:queue:restart) as Laravel's worker.
func TestLaravelFleetRestart(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	const q = "restart"
	log := a.Key("log")
	// Each worker tells the test it is running by running a job (the first reads the key at start).
	a.Dispatch("--objects=1", "--queue="+q, "--log="+log)
	php := a.StartWork("--queue="+q, "--sleep=0.1")
	waitFor(t, "Laravel's worker ran a job", func() bool { return len(a.RecordsIn(log)) == 1 })
	// The bridge also works a queue of its own, where the second job goes.
	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{q, "bridge-only"}, Sleep: 50 * time.Millisecond})
	b.Handle(classRecord, recordHandler{rec: rec})
	rec.Listen(b)
	running := runBackground(t, b)
	a.Dispatch("--objects=1", "--queue=bridge-only", "--start=2")
	waitFor(t, "the bridge ran a job", func() bool { return len(rec.Records()) == 1 })

	require.Contains(t, a.Artisan("queue:restart"), "Broadcasting queue restart signal.")
	require.NoError(t, running.wait(t), "the bridge stops on Laravel's restart signal")
	res := php.Wait(t)
	require.Len(t, res.Of("WorkerStopping"), 1)
	var reasons []string
	for _, e := range rec.Events() {
		if e.Event == "WorkerStopping" {
			reasons = append(reasons, e.Message)
		}
	}
	require.Equal(t, []string{"restart"}, reasons)
	a.RequireQueueEmpty(q)
	a.RequireQueueEmpty("bridge-only")
}
