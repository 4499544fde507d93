package bridge

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/status"
)

// routeRedis is the test Redis (QB_REDIS_ADDR, database 4) as a URL.
func routeRedis() string {
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return "redis://" + addr + "/4"
}

// routeBridge is a think-queue 3.x bridge on the test Redis with its own queue and key prefix, removed after
// the test.
func routeBridge(t testing.TB) (*Bridge, string) {
	t.Helper()
	return routeBridgeOf(t, "thinkqueue-v3")
}

// routeBridgeOf is routeBridge for a dialect.
func routeBridgeOf(t testing.TB, dialect string) (*Bridge, string) {
	t.Helper()
	tag := fmt.Sprintf("qbroute%d", rand.Int64())
	b := New()
	require.NoError(t, b.Connect(context.Background(), &Config{Connection: routeRedis(), Dialect: dialect,
		FailedKeyPrefix: tag, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(func() {
		b.Close()
		o, _ := goredis.ParseURL(routeRedis())
		rdb := goredis.NewClient(o)
		defer rdb.Close()
		keys, _ := rdb.Keys(context.Background(), "*"+tag+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	return b, tag
}

// ledger records every run the test's handlers made, by job id.
type ledger struct {
	mu   sync.Mutex
	runs map[string][]ledgerRun
}

type ledgerRun struct {
	side    string
	outcome string // deleted, released, failed
	at      time.Time
}

func (l *ledger) add(id, side, outcome string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.runs == nil {
		l.runs = map[string][]ledgerRun{}
	}
	l.runs[id] = append(l.runs[id], ledgerRun{side: side, outcome: outcome, at: time.Now()})
}

// count is how many runs on side ended in outcome ("" for any).
func (l *ledger) count(side, outcome string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, rs := range l.runs {
		for _, r := range rs {
			if r.side == side && (outcome == "" || r.outcome == outcome) {
				n++
			}
		}
	}
	return n
}

// sideOf requires that every run of job id was on one side and exactly one of them succeeded, and returns
// that side.
func (l *ledger) sideOf(t *testing.T, id string) string {
	t.Helper()
	runs := l.runs[id]
	require.NotEmpty(t, runs, id)
	ok := 0
	for _, r := range runs {
		require.Equal(t, runs[0].side, r.side, "job %s changed sides: %v", id, runs)
		if r.outcome == "deleted" {
			ok++
		}
	}
	require.Equal(t, 1, ok, "job %s succeeded %d times", id, ok)
	return runs[0].side
}

func (l *ledger) successes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, rs := range l.runs {
		for _, r := range rs {
			if r.outcome == "deleted" {
				n++
			}
		}
	}
	return n
}

// pushN pushes n jobs of class with data {"n": i}, returning their ids.
func pushN(t *testing.T, b *Bridge, q, class string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		id, err := b.Push(context.Background(), q, class, map[string]int{"n": i})
		require.NoError(t, err)
		ids[i] = id
	}
	return ids
}

func jobN(t *testing.T, job *Job) int {
	var d struct{ N int }
	if err := job.Bind(&d); err != nil {
		t.Errorf("bind %s: %v", job.ID(), err)
	}
	return d.N
}

// drain works q until ledger has want successes (released jobs come back after their delay).
func drain(t *testing.T, b *Bridge, q string, php Handler, l *ledger, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for round := 0; l.successes() < want; round++ {
		require.Less(t, round, 20, "jobs still missing after 20 drains: %d of %d", l.successes(), want)
		require.NoError(t, b.Work(ctx, WorkerConfig{Queues: []string{q}, Concurrency: 16, Tries: 5, StopWhenEmpty: true,
			Sleep: time.Millisecond, QuietJobs: true, PHP: php}))
		if l.successes() < want {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestRouteSplit: with a 30% route, 10,000 jobs split within ±2% of 30/70, each run to success exactly
// once, each on the same side on every attempt, release and retry from the failed store; the report's
// figures are the ledger's.
func TestRouteSplit(t *testing.T) {
	const class, n = `app\job\Split`, 10_000
	b, _ := routeBridge(t)
	q := fmt.Sprintf("split%d", rand.Int64())
	b.Route(class, RoutePercent(30))
	var l ledger
	var retried sync.Map // ids failed for good once, then retried
	behave := func(side string) HandlerFunc {
		return func(ctx context.Context, job *Job) error {
			i := jobN(t, job)
			switch {
			case i%10 == 3 && job.Attempts() == 1:
				l.add(job.ID(), side, "released")
				return errors.New("try again")
			case i%50 == 1:
				if _, again := retried.LoadOrStore(job.ID(), true); !again {
					l.add(job.ID(), side, "failed")
					job.Fail(errors.New("for good"))
					return nil
				}
			}
			l.add(job.ID(), side, "deleted")
			return nil
		}
	}
	b.Handle(class, behave("go"))
	php := behave("php")
	ids := pushN(t, b, q, class, n)

	drain(t, b, q, php, &l, n-n/50)
	failed, err := b.Failed(context.Background())
	require.NoError(t, err)
	require.Len(t, failed, n/50)
	retriedIDs, err := b.RetryAll(context.Background())
	require.NoError(t, err)
	require.Len(t, retriedIDs, n/50)
	drain(t, b, q, php, &l, n)

	goJobs := 0
	for _, id := range ids {
		if l.sideOf(t, id) == "go" {
			goJobs++
		}
	}
	share := float64(goJobs) / n
	t.Logf("Go ran %d of %d jobs (%.2f%%)", goJobs, n, 100*share)
	require.InDelta(t, 0.30, share, 0.02)

	reps, err := b.Report(context.Background(), time.Hour)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	r := reps[0]
	require.Equal(t, class, r.Class)
	require.Equal(t, "30%", r.Route)
	require.Equal(t, l.count("go", ""), r.Go.Runs)
	require.Equal(t, l.count("php", ""), r.PHP.Runs)
	require.Equal(t, l.count("go", "released"), r.Go.Released)
	require.Equal(t, l.count("php", "released"), r.PHP.Released)
	require.Equal(t, l.count("go", "failed"), r.Go.Failed)
	require.Equal(t, l.count("php", "failed"), r.PHP.Failed)
	require.Equal(t, r.Go.Runs+r.PHP.Runs, r.Runs)
	require.Positive(t, r.Go.P95)
	require.False(t, r.Ready)
	require.Contains(t, r.Verdict, "not yet")
}

// TestRouteChangedLive: a 30% route set to go in the stored table while jobs run loses none, runs none
// twice, and a second later every bridge sends them all to Go.
func TestRouteChangedLive(t *testing.T) {
	const class, n = `app\job\Live`, 6000
	b, _ := routeBridge(t)
	q := fmt.Sprintf("live%d", rand.Int64())
	ctx := context.Background()
	require.NoError(t, b.SetRoute(ctx, class, RoutePercent(30)))
	var l ledger
	var done atomic.Int64
	var changedAt atomic.Pointer[time.Time]
	run := func(side string) HandlerFunc {
		return func(ctx context.Context, job *Job) error {
			// 16 slots run 2,600 jobs a second: the 5,000 after the change take about two.
			time.Sleep(6 * time.Millisecond)
			l.add(job.ID(), side, "deleted")
			if done.Add(1) == 1000 {
				require.NoError(t, b.SetRoute(ctx, class, RouteGo))
				now := time.Now()
				changedAt.Store(&now)
			}
			return nil
		}
	}
	b.Handle(class, run("go"))
	ids := pushN(t, b, q, class, n)
	drain(t, b, q, run("php"), &l, n)

	at := changedAt.Load()
	require.NotNil(t, at)
	before, after, lateGo := 0, 0, 0
	for _, id := range ids {
		runs := l.runs[id]
		require.Len(t, runs, 1, "job %s", id)
		switch r := runs[0]; {
		case r.at.Before(*at) && r.side == "php":
			before++
		case r.at.After(at.Add(routesInterval + 200*time.Millisecond)):
			after++
			require.Equal(t, "go", r.side, "job %s ran in PHP %s after the route went to Go", id, r.at.Sub(*at))
			lateGo++
		}
	}
	t.Logf("%d jobs in PHP before the change, %d jobs (all in Go) more than %s after it", before, after, routesInterval+200*time.Millisecond)
	require.Positive(t, before)
	require.Positive(t, lateGo)
}

// countingStore counts every write the worker makes to the queue.
type countingStore struct {
	queueStore
	deleted, released, failed, handedBack atomic.Int64
}

func (s *countingStore) Delete(ctx context.Context, q string, members ...[]byte) (int, error) {
	s.deleted.Add(int64(len(members)))
	return s.queueStore.Delete(ctx, q, members...)
}

func (s *countingStore) Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error) {
	s.released.Add(1)
	return s.queueStore.Release(ctx, r, payload, at)
}

func (s *countingStore) Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error {
	s.failed.Add(1)
	return s.queueStore.Fail(ctx, r, rec)
}

func (s *countingStore) HandBack(ctx context.Context, r queue.Reservation) (bool, error) {
	s.handedBack.Add(1)
	return s.queueStore.HandBack(ctx, r)
}

// TestShadow: a Go handler shadowing PHP that disagrees on 1 job in 100 (failing or releasing its copy)
// shows 1% mismatches with the last 20 kept, both sides' outcomes in each; PHP's outcome is the one
// applied, and the shadow runs neither ack, release nor fail anything.
func TestShadow(t *testing.T) {
	const class, n = `app\job\Mail`, 2000
	b, _ := routeBridge(t)
	store := &countingStore{queueStore: b.be.store}
	b.be.store = store
	q := fmt.Sprintf("shadow%d", rand.Int64())
	var l ledger
	var shadows, shadowFlagInPHP atomic.Int64
	b.HandleShadow(class, HandlerFunc(func(ctx context.Context, job *Job) error {
		if !IsShadow(ctx) {
			t.Errorf("shadow run of %s without a shadow context", job.ID())
		}
		shadows.Add(1)
		i := jobN(t, job)
		switch i % 200 {
		case 7:
			SetShadowResult(ctx, -1)
			job.Fail(errors.New("Go says no"))
			return nil
		case 107:
			SetShadowResult(ctx, 2*i)
			job.Release(0)
			return nil
		}
		SetShadowResult(ctx, 2*i)
		return nil
	}))
	php := HandlerFunc(func(ctx context.Context, job *Job) error {
		if IsShadow(ctx) {
			shadowFlagInPHP.Add(1)
		}
		SetShadowResult(ctx, 2*jobN(t, job))
		l.add(job.ID(), "php", "deleted")
		return nil
	})
	pushN(t, b, q, class, n)
	drain(t, b, q, php, &l, n)

	require.EqualValues(t, n, l.count("php", ""), "PHP ran every job once")
	require.EqualValues(t, n, shadows.Load(), "the shadow ran every job once")
	require.Zero(t, shadowFlagInPHP.Load())
	require.EqualValues(t, n, store.deleted.Load(), "PHP's outcome applied: every job deleted")
	require.Zero(t, store.released.Load(), "releases")
	require.Zero(t, store.failed.Load(), "fails")
	require.Zero(t, store.handedBack.Load(), "hand-backs")
	failed, err := b.Failed(context.Background())
	require.NoError(t, err)
	require.Empty(t, failed)

	reps, err := b.Report(context.Background(), time.Hour)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	r := reps[0]
	require.EqualValues(t, n, r.PHP.Runs)
	require.Zero(t, r.Go.Runs)
	require.EqualValues(t, n, r.ShadowRuns)
	require.EqualValues(t, n/100, r.ShadowMismatches)
	require.Len(t, r.Mismatches, keepMismatches)
	for _, m := range r.Mismatches {
		require.Equal(t, "deleted", m.PHP.Outcome)
		require.NotEmpty(t, m.JobID)
		switch m.Go.Outcome {
		case "failed":
			require.Equal(t, "Go says no", m.Go.Error)
			require.Equal(t, "-1", m.Go.Result)
		case "released":
			require.Equal(t, m.PHP.Result, m.Go.Result)
		default:
			t.Errorf("mismatch with Go outcome %q", m.Go.Outcome)
		}
	}
	require.False(t, r.Ready)
	require.Contains(t, r.Verdict, "20 of 2000 shadow runs")
}

func TestVerdict(t *testing.T) {
	ready := ClassReport{Route: "50%", Runs: 20_000}
	ready.Go.Runs, ready.PHP.Runs = 10_000, 10_000
	ready.Go.Failed, ready.PHP.Failed = 100, 90
	ok, why := verdict(&ready)
	require.True(t, ok, why)
	require.Equal(t, "Go has run 10000 jobs of this class with the same outcomes as PHP: ready for 100%", status.VerdictText(ok, why))

	worse := ready
	worse.Go.Failed = 300
	ok, why = verdict(&worse)
	require.False(t, ok)
	require.Equal(t, []status.Reason{{Kind: status.ReasonGoFailsMore, GoPercent: 3, PHPPercent: 0.9}}, why)
	require.Equal(t, "not yet: Go fails 3.00% of its runs, PHP 0.90%", status.VerdictText(ok, why))

	few := ClassReport{Route: "10%", ShadowRuns: 400, ShadowMismatches: 3}
	few.Go.Runs, few.PHP.Runs = 900, 9000
	few.Go.Released, few.PHP.Released = 90, 10
	ok, why = verdict(&few)
	require.False(t, ok)
	require.Equal(t, "not yet: 3 of 400 shadow runs ended otherwise than in PHP (0.75%); Go releases 10.00% of its runs, PHP 0.11%; "+
		"Go has run 1300 jobs of this class; 10000 make the case", status.VerdictText(ok, why))

	ok, why = verdict(&ClassReport{Route: "go"})
	require.True(t, ok)
	require.Equal(t, "all of it runs in Go", status.VerdictText(ok, why))
}

func TestParseRoute(t *testing.T) {
	for in, want := range map[string]string{"go": "go", "PHP": "php", "25%": "25%", "12.5 %": "12.5%", "100%": "go", "0%": "php"} {
		r, err := ParseRoute(in)
		require.NoError(t, err, in)
		require.Equal(t, want, r.String(), in)
	}
	for _, bad := range []string{"", "30", "101%", "-1%", "half"} {
		_, err := ParseRoute(bad)
		require.Error(t, err, bad)
	}
	r := RoutePercent(30)
	goes := 0
	for h := range uint32(10_000) {
		if r.Go(h) {
			goes++
		}
	}
	require.Equal(t, 3000, goes)
}

// TestRouteCommands: route set, list and clear, and report, on the command line.
func TestRouteCommands(t *testing.T) {
	b, tag := routeBridge(t)
	b.Route(`app\job\Code`, RoutePHP)
	run := func(args ...string) (int, string) {
		var out, errOut strings.Builder
		code := b.RunCommand(context.Background(), append([]string{"bridge", "--connection", routeRedis(), "--failed-prefix", tag}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	code, out := run("route", "set", `app\job\Mail`, "25%")
	require.Equal(t, 0, code, out)
	code, out = run("route", "list")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `app\\job\\Code\s+php\s+code`, out)
	require.Regexp(t, `app\\job\\Mail\s+25%\s+store`, out)
	code, out = run("route", "set", `app\job\Mail`, "half")
	require.Equal(t, 2, code, out)
	code, out = run("route", "clear", `app\job\Mail`)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "cleared")
	code, out = run("route", "list", "--json")
	require.Equal(t, 0, code, out)
	require.NotContains(t, out, "Mail")
	code, out = run("report", "--window", "10m")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "No routed or shadowed job ran in the last 10m0s.")

	_, err := ParseConfigFile("bad.yaml", []byte("routes:\n  app\\job\\X: most\ngroups:\n  g:\n    queues: [a]\n"))
	require.ErrorContains(t, err, "routes.app\\job\\X")
	fc, err := ParseConfigFile("ok.yaml", []byte("connections:\n  c:\n    url: redis://x\nroutes:\n  app\\job\\X: 10%\ngroups:\n  g:\n    queues: [a]\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]Route{`app\job\X`: RoutePercent(10)}, fc.RouteTable())
}

// TestMetricsRuntimeFollowsRoutes: bridge_jobs_total's runtime label is the side each job was routed to (a
// class with a Go handler routed 30% counts its PHP share as php), and a shadow run is no job run (its class
// counts in PHP only).
func TestMetricsRuntimeFollowsRoutes(t *testing.T) {
	const split, mail, n = `app\job\MSplit`, `app\job\MMail`, 400
	b, _ := routeBridge(t)
	m := NewMetrics(prometheus.NewRegistry())
	b.Listen(m.listener(time.Now))
	q := fmt.Sprintf("metrics%d", rand.Int64())
	b.Route(split, RoutePercent(30))
	var l ledger
	run := func(side string) HandlerFunc {
		return func(ctx context.Context, job *Job) error {
			l.add(job.ID(), side, "deleted")
			return nil
		}
	}
	b.Handle(split, run("go"))
	b.HandleShadow(mail, HandlerFunc(func(context.Context, *Job) error { return nil }))
	php := run("php")
	pushN(t, b, q, split, n)
	pushN(t, b, q, mail, 100)
	drain(t, b, q, php, &l, n+100)

	count := func(job, runtime string) int64 {
		var v dto.Metric
		require.NoError(t, m.jobs.WithLabelValues(q, job, runtime, "processed").Write(&v))
		return int64(v.GetCounter().GetValue())
	}
	goRuns := l.count("go", "")
	require.Positive(t, goRuns)
	require.Equal(t, goRuns, count(split, "go"))
	require.Equal(t, n-goRuns, count(split, "php"))
	require.EqualValues(t, 100, count(mail, "php"))
	require.Zero(t, count(mail, "go"), "shadow runs counted as runs in Go")
}

// fnv1a is hash/fnv's FNV-1a: bridges of this and earlier versions send a job the same way.
func TestFNV1aIsHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "3f1c9a2e-0c7b-4d5e-9f00-1b2c3d4e5f60", "qeLSLUPTL7cO0c8RPuPinxdPcQkgHT8e", `{"job":"x"}`} {
		h := fnv.New32a()
		h.Write([]byte(s))
		require.Equal(t, h.Sum32(), fnv1a(s), "%q", s)
		require.Equal(t, h.Sum32(), fnv1a([]byte(s)), "%q as bytes", s)
	}
}

// TestReportCountsTimedOutRun: a routed run whose handler ignores its context past its timeout is counted
// once, when the worker settles it without the handler, with the time the handler had (its timeout and the
// grace); its late return adds nothing.
func TestReportCountsTimedOutRun(t *testing.T) {
	const class = `app\job\Stuck`
	b, _ := routeBridge(t)
	q := fmt.Sprintf("stuck%d", rand.Int64())
	b.Route(class, RouteGo)
	release, returned := make(chan struct{}), make(chan struct{})
	b.HandleFunc(class, func(context.Context, *Job) error {
		defer close(returned)
		<-release
		return nil
	})
	pushN(t, b, q, class, 1)
	w, err := b.NewWorker(WorkerConfig{Queues: []string{q}, Concurrency: 1, Timeout: time.Second, Tries: 1,
		Sleep: 10 * time.Millisecond, QuietJobs: true})
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	report := func() ClassReport {
		reps, err := b.Report(context.Background(), time.Hour)
		require.NoError(t, err)
		if len(reps) == 0 {
			return ClassReport{}
		}
		require.Len(t, reps, 1)
		return reps[0]
	}
	require.Eventually(t, func() bool { return report().Runs == 1 }, 10*time.Second, 50*time.Millisecond)
	close(release)
	<-returned
	require.NoError(t, w.Stop(context.Background()))
	r := report()
	require.EqualValues(t, 1, r.Go.Runs)
	require.Zero(t, r.PHP.Runs)
	require.EqualValues(t, 1, r.Go.Failed+r.Go.Released, "settled as a timeout: failed or released")
	require.Equal(t, 2*time.Second, r.Go.Mean, "its timeout and the worker's grace of a second")
}

// TestReportCountsFailureBeforeRun: think-queue 1.x fails a job whose tries are used up at its next
// reservation, without running it; the report counts that failure on the side the job is routed to.
func TestReportCountsFailureBeforeRun(t *testing.T) {
	const class, n = `app\job\Fails`, 20
	b, _ := routeBridgeOf(t, "thinkqueue-v1")
	q := fmt.Sprintf("fails%d", rand.Int64())
	b.Route(class, RouteGo)
	var runs atomic.Int64
	b.HandleFunc(class, func(context.Context, *Job) error {
		runs.Add(1)
		return errors.New("always fails")
	})
	pushN(t, b, q, class, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		failed, err := b.Failed(ctx)
		require.NoError(t, err)
		if len(failed) == n {
			break
		}
		require.NoError(t, ctx.Err(), "%d of %d jobs failed", len(failed), n)
		require.NoError(t, b.Work(ctx, WorkerConfig{Queues: []string{q}, Concurrency: 4, Tries: 2,
			StopWhenEmpty: true, Sleep: time.Millisecond, QuietJobs: true}))
	}
	reps, err := b.Report(context.Background(), time.Hour)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	r := reps[0]
	require.EqualValues(t, 2*n, runs.Load(), "two tries each")
	require.EqualValues(t, n, r.Go.Failed, "each job's failure, at the reservation after its last try")
	require.EqualValues(t, 2*n, r.Go.Released)
	require.EqualValues(t, 3*n, r.Go.Runs, "two runs and the failure of each job")
}
