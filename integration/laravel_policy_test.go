package integration

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// policyCase is one retry-policy scenario: an App\Jobs\Record with these properties, run once by Laravel's
// queue:work and once by the bridge with recordHandler (which does what Record::handle() does).
type policyCase struct {
	name string
	// class is the job class (dispatch.php --class); "" is Record.
	class string
	// stringJob runs App\Jobs\Legacy@handle (data {n, …, failTimes}) instead.
	stringJob bool
	sets      []string // Record properties, or string job data, as dispatch.php --set
	// work are more queue:work options; tries and backoff are the same for the bridge.
	work    []string
	tries   int // 0: queue:work's default, 1
	backoff []time.Duration
	// retryAfter is the app's retry_after (0: the skeleton's 90).
	retryAfter int
	// timesOut: the job outlives its timeout, which kills Laravel's worker (SIGKILL) as Laravel does.
	timesOut bool
}

// policyRun is what one runner (Laravel's worker or the bridge) did with the scenario's job.
type policyRun struct {
	runner  string
	queue   string
	uuid    string
	records records  // handle() and failed() executions, in order
	events  eventLog // the worker's events for the job, in order
	returns []requeue
	failed  []failedRecord
	counter bool // the maxExceptions counter job-exceptions:<uuid> is still in the cache
}

// requeue is the job going back to its queue after an attempt: released (JobReleased; at = its score in
// the delayed set), or, when a timeout killed Laravel's worker, left reserved until its reservation lapses
// (at = its score in the reserved set), which is what Laravel does with a timed-out job it does not fail.
type requeue struct {
	attempts int
	at       int64 // when the job is available again, Unix seconds
	now      int64 // a moment after it went back
}

// returnsOf are the job's returns to its queue as the JobReleased events of a run report them.
func returnsOf(t testing.TB, runner string, events eventLog) []requeue {
	t.Helper()
	var out []requeue
	for _, e := range events {
		if e.Event == "JobReleased" {
			require.NotNil(t, e.AvailableAt, "%s: the released copy is in the delayed set", runner)
			out = append(out, requeue{attempts: e.Attempts, at: *e.AvailableAt, now: e.Now})
		}
	}
	return out
}

// failedRecord is a failed_jobs row (Laravel) or a record of the bridge's failed store.
type failedRecord struct {
	ID, Connection, Queue, Payload, Exception string
}

// runs are the executions of handle(), with their attempt and outcome (start, throw, release, ok).
func (r policyRun) runs() []string {
	var out []string
	for _, rec := range r.records {
		if rec.Outcome != "failed" {
			out = append(out, fmt.Sprintf("attempt %d: %s", rec.Attempts, rec.Outcome))
		}
	}
	return out
}

// releases are the attempts after which the job went back to its queue.
func (r policyRun) releases() []string {
	var out []string
	for _, ret := range r.returns {
		out = append(out, fmt.Sprintf("back on the queue after attempt %d", ret.attempts))
	}
	return out
}

// failures are the job's failures as the worker reports them (JobFailed) and as failed() got them.
func (r policyRun) failures() []string {
	var out []string
	for _, e := range r.events {
		if e.Event == "JobFailed" {
			out = append(out, fmt.Sprintf("JobFailed at attempt %d: %s: %s", e.Attempts, e.Exception, e.Message))
		}
	}
	for _, rec := range r.records {
		if rec.Outcome == "failed" {
			out = append(out, "failed(): "+rec.Exception)
		}
	}
	return out
}

// releaseDelays are the release delays, score − now, as closed intervals: the job went back after the
// attempt's last handle() record and before `now` was read, and either may fall on the other side of a
// second boundary than the release itself. (For a job left reserved by a killed worker the interval is
// wider: its score was set when it was reserved, and `now` is read after the kill.)
func (r policyRun) releaseDelays(t testing.TB) [][2]int64 {
	t.Helper()
	var out [][2]int64
	for _, ret := range r.returns {
		var before float64
		for _, rec := range r.records {
			if rec.Attempts == ret.attempts && rec.Outcome != "failed" {
				before = rec.T
			}
		}
		require.NotZero(t, before, "%s: handle() ran before release %d", r.runner, ret.attempts)
		out = append(out, [2]int64{ret.at - ret.now, ret.at - int64(before)})
	}
	return out
}

var exceptionFirstLine = regexp.MustCompile(`^(\S+): (.*) in (\S+):(\d+)$`)

// TestLaravelPolicy runs the same job definitions through Laravel 8.83's worker and through the bridge and
// compares what happened: the attempts of each run and their outcomes, release delays (delayed score − now),
// when the job fails and with which exception (failed() and JobFailed), the failed record, the maxExceptions
// counter, and that the job leaves its queue once. Laravel's worker is the reference; nothing is compared
// with constants.
func TestLaravelPolicy(t *testing.T) {
	t.Parallel()
	now := time.Now().Unix()
	cases := []policyCase{
		// $this->release(1) twice, then success: releases count as attempts (tries 3).
		{name: "release", sets: []string{"releaseTimes=2", "releaseDelay=1", "tries=3"}},
		// Releases use up tries: the third reservation fails before running (MaxAttemptsExceededException).
		{name: "release-exhausts-tries", sets: []string{"releaseTimes=5", "releaseDelay=0", "tries=2"}},
		// A backoff array: release after attempt 1 by 1 s, after attempt 2 by 2 s, fail on attempt 3.
		{name: "backoff-array", sets: []string{"failTimes=99", "tries=3", "backoff=[1,2]"}},
		// The worker's --backoff=2,1 when the job has none.
		{name: "worker-backoff", sets: []string{"failTimes=2", "tries=3"},
			work: []string{"--backoff=2,1"}, backoff: []time.Duration{2 * time.Second, time.Second}},
		// retryUntil in the past: fails on its first reservation, without running.
		{name: "retryUntil-past", sets: []string{"retryUntil=" + strconv.FormatInt(now-60, 10), "tries=5"}},
		// retryUntil in the future overrides tries 1: two exceptions, then success.
		{name: "retryUntil-overrides-tries", sets: []string{"retryUntil=" + strconv.FormatInt(now+600, 10),
			"failTimes=2", "tries=1"}},
		// maxExceptions 2 fails the job on its second exception although tries allow 10.
		{name: "maxExceptions", sets: []string{"failTimes=99", "tries=10", "maxExceptions=2"}},
		// Releases are not exceptions: one exception, two releases, success; the counter stays behind.
		{name: "maxExceptions-releases", sets: []string{"failTimes=1", "releaseTimes=2", "releaseDelay=0",
			"tries=5", "maxExceptions=2"}},
		// tries 2 runs out before maxExceptions 3: the job fails with its exception, and Laravel leaves the
		// counter (2) in the cache, where a `queue:retry` of the job (same uuid) finds it.
		{name: "maxExceptions-tries-first", sets: []string{"failTimes=99", "tries=2", "maxExceptions=3"}},
		// The job fails itself ($this->fail()) on attempt 2, with tries left.
		{name: "fail-from-handle", class: "FailsManually", sets: []string{"failAt=2"}},
		// A string job has no limits of its own: the worker's --tries 3 and --backoff=1 apply.
		{name: "string-job-worker-tries", stringJob: true, sets: []string{"failTimes=99"},
			work: []string{"--tries=3", "--backoff=1"}, tries: 3, backoff: []time.Duration{time.Second}},
		// A timeout with failOnTimeout fails the job at once, whatever tries says.
		{name: "timeout-failOnTimeout", sets: []string{"sleepMs=3000", "timeout=1", "failOnTimeout=true", "tries=3"},
			timesOut: true},
		// A timeout on the last try fails the job.
		{name: "timeout-last-try", sets: []string{"sleepMs=3000", "timeout=1", "tries=1"}, timesOut: true},
		// A timeout before the last try: Laravel's worker dies, the job stays reserved and runs again once its
		// reservation (retry_after 4 s) lapses, then fails on its second timeout.
		{name: "timeout-then-retry", sets: []string{"sleepMs=3000", "timeout=1", "tries=2"}, retryAfter: 4,
			timesOut: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runPolicyCase(t, c)
		})
	}
}

func runPolicyCase(t *testing.T, c policyCase) {
	a := newLaravelApp(t, laravelOptions{RetryAfter: c.retryAfter})
	ctx := context.Background()
	const phpQ, goQ = "php", "go"
	// Both jobs are the same object (same n, properties and log key) pushed with Queue::push, so their
	// payloads differ only in uuid and id; handle() records of the PHP one go to the log.
	log := a.Key("log")
	dispatch := func(q string) laravelJob {
		args := []string{"--objects=1", "--via=queue", "--start=7", "--queue=" + q, "--log=" + log, "--raw"}
		if c.stringJob {
			args[0] = "--strings=1"
		}
		if c.class != "" {
			args = append(args, "--class="+c.class)
		}
		for _, s := range c.sets {
			args = append(args, "--set="+s)
		}
		jobs := a.Dispatch(args...)
		require.Len(t, jobs, 1)
		return jobs[0]
	}
	phpJob, goJob := dispatch(phpQ), dispatch(goQ)
	require.Equal(t, withoutIdentity(t, phpJob.Raw), withoutIdentity(t, goJob.Raw), "the same job twice")

	// The bridge works its queue meanwhile, as Laravel's worker would: --tries 1, --timeout 60 (defaults).
	tries := c.tries
	if tries == 0 {
		tries = 1
	}
	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{goQ}, Concurrency: 1, Tries: tries, Backoff: c.backoff,
		Sleep: 100 * time.Millisecond})
	rec.Listen(b)
	b.Handle(classRecord, recordHandler{rec: rec})
	b.Handle(jobLegacy, legacyHandler{rec: rec})
	b.Handle(classFailsManually, failsManuallyHandler{rec: rec})
	running := runBackground(t, b)

	// Laravel's worker, until the queue is empty; a job timeout kills it, then another one takes over.
	work := append([]string{"--queue=" + phpQ, "--drain", "--sleep=0.1"}, c.work...)
	var phpEvents eventLog
	var leftReserved []requeue
	if c.timesOut {
		for run := 0; !a.QueueEmpty(phpQ); run++ {
			require.Less(t, run, 3, "Laravel's worker still has the job after 3 runs")
			w, err := a.TryWork(work...)
			require.Error(t, err, "a job timeout kills queue:work (SIGKILL)")
			phpEvents = append(phpEvents, w.Events...)
			held := a.ZRange(a.Keys(phpQ).Reserved)
			if len(held) == 1 { // not failed: it comes back when its reservation lapses
				processing := w.Of("JobProcessing")
				require.NotEmpty(t, processing)
				leftReserved = append(leftReserved, requeue{attempts: processing[len(processing)-1].Attempts,
					at: int64(held[0].Score), now: time.Now().Unix()})
			}
		}
	} else {
		phpEvents = a.Work(work...).Events
	}

	waitFor(t, "the bridge is done with the job", func() bool { return a.QueueEmpty(goQ) })
	require.NoError(t, running.stop(t))

	counterKey := func(uuid string) bool { return a.Exists(a.ExceptionsKey(uuid)) }
	php := policyRun{runner: "laravel", queue: phpQ, uuid: phpJob.UUID, records: a.RecordsIn(log), counter: counterKey(phpJob.UUID)}
	for _, e := range phpEvents {
		if e.UUID == phpJob.UUID {
			php.events = append(php.events, e)
		}
	}
	php.returns = append(returnsOf(t, php.runner, php.events), leftReserved...)
	slices.SortStableFunc(php.returns, func(x, y requeue) int { return x.attempts - y.attempts })
	for _, row := range a.FailedJobs() {
		require.Equal(t, phpJob.UUID, row.UUID, "a failed_jobs row of another job")
		php.failed = append(php.failed, failedRecord{ID: row.UUID, Connection: row.Connection, Queue: row.Queue,
			Payload: row.Payload, Exception: row.Exception})
	}
	gor := policyRun{runner: "bridge", queue: goQ, uuid: goJob.UUID, records: rec.Records(), events: rec.Events(), counter: counterKey(goJob.UUID)}
	failedStore, err := a.Open(bridge.WorkerConfig{}).Failed(ctx)
	require.NoError(t, err)
	for _, f := range failedStore {
		gor.failed = append(gor.failed, failedRecord{ID: f.ID, Connection: f.Connection, Queue: f.Queue,
			Payload: string(f.Payload), Exception: f.Exception})
	}
	gor.returns = returnsOf(t, gor.runner, gor.events)
	for _, r := range gor.records {
		require.Equal(t, goJob.UUID, r.UUID, "the bridge ran another job")
	}

	for _, r := range []policyRun{php, gor} {
		var names []string
		for _, e := range r.events {
			names = append(names, fmt.Sprintf("%s#%d", e.Event, e.Attempts))
		}
		t.Logf("%-7s runs %q; events %s; failures %q", r.runner, r.runs(), strings.Join(names, " "), r.failures())
	}

	// Every comparison is made (assert), so one run shows every difference.
	require.NotEmpty(t, append(php.runs(), php.failures()...), "Laravel's worker took the job")
	assert.Equal(t, php.runs(), gor.runs(), "handle() runs: attempts and outcomes")
	assert.Equal(t, php.releases(), gor.releases(), "releases")
	assert.Equal(t, php.failures(), gor.failures(), "when and with which exception the job fails (JobFailed, failed())")

	// Release delays.
	pd, gd := php.releaseDelays(t), gor.releaseDelays(t)
	t.Logf("release delays (score − now, [low, high]): Laravel %v, bridge %v", pd, gd)
	if assert.Len(t, gd, len(pd), "release delays") {
		for i := range pd {
			assert.LessOrEqual(t, max(pd[i][0], gd[i][0]), min(pd[i][1], gd[i][1]),
				"release %d: Laravel delayed it by %v s, the bridge by %v s", i+1, pd[i], gd[i])
		}
	}

	// The failed record: failed_jobs for Laravel, the bridge's failed store for the bridge.
	if assert.Len(t, gor.failed, len(php.failed), "failed records") && len(php.failed) == 1 {
		pf, gf := php.failed[0], gor.failed[0]
		assert.Equal(t, php.uuid, pf.ID)
		assert.Equal(t, gor.uuid, gf.ID, "the failed record is keyed by the job's uuid")
		assert.Equal(t, pf.Connection, gf.Connection)
		assert.Equal(t, php.queue, pf.Queue)
		assert.Equal(t, gor.queue, gf.Queue)
		assert.Equal(t, withoutIdentity(t, pf.Payload), withoutIdentity(t, gf.Payload),
			"the payload as it was when the job failed")
		// Both store PHP's (string)$e: "<class>: <message> in <file>:<line>\nStack trace:\n#0 …"; the class
		// and message must be the same (file, line and frames are each side's own).
		first, _, _ := strings.Cut(pf.Exception, "\n")
		m := exceptionFirstLine.FindStringSubmatch(first)
		require.NotNil(t, m, "Laravel's exception text: %q", pf.Exception)
		goFirst, _, _ := strings.Cut(gf.Exception, "\n")
		g := exceptionFirstLine.FindStringSubmatch(goFirst)
		require.NotNil(t, g, "the bridge's exception text: %q", gf.Exception)
		require.Contains(t, gf.Exception, "\nStack trace:\n#0 ")
		assert.Equal(t, m[1], g[1], "the failed record's exception class")
		assert.Equal(t, m[2], g[2], "the failed record's message")
	}

	// The maxExceptions counter.
	assert.Equal(t, php.counter, gor.counter, "job-exceptions:<uuid> left in the cache")

	// The job left both queues, once.
	a.RequireQueueEmpty(phpQ)
	a.RequireQueueEmpty(goQ)
}
