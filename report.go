package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/status"
	redisstore "github.com/queuebridge/bridge/storage/redis"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
)

// ClassReport is what the bridges of a connection did with one job class over a window (see Report).
type ClassReport = status.ClassReport

// Report counters: flushed at most every reportFlush, kept reportTTL, the last keepMismatches mismatches of
// a class kept.
const (
	reportFlush    = time.Second
	reportTTL      = 8 * 24 * time.Hour
	keepMismatches = 20
	// readyRuns is how many runs in Go (shadow runs included) with PHP's outcomes make a class ready for 100%.
	readyRuns = 10_000
	// readyMargin is how much more often Go may fail or release a class's jobs than PHP, in percentage points.
	readyMargin = 1.0
)

// runBuckets are the upper bounds of the run-time histogram whose counts give a report's p95.
var runBuckets = [...]time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

// The sides a job ran on, as the counters name them.
const (
	sideGo  = "go"
	sidePHP = "php"
)

// reportStore keeps the report counters every bridge on a connection adds to: in the app's Redis
// (storage/redis.ReportCounters), else on a jobs table in the bridge's own tables beside it
// (storage/sql.ReportCounters).
type reportStore interface {
	Add(ctx context.Context, deltas []queue.ReportDelta, ttl time.Duration) error
	Read(ctx context.Context, first, last int64) (map[string]queue.ReportCounts, error)
}

// reportStore is where this connection's report counters live; nil on the sync connection.
func (b *Bridge) reportStore() reportStore {
	if b.be.cache != nil {
		return redisstore.NewReportCounters(b.be.cache, b.cfg.FailedKeyPrefix, keepMismatches)
	}
	if b.be.jobs != nil {
		return b.be.jobs.ReportCounters(keepMismatches)
	}
	return nil
}

// reportRecorder counts the runs of the classes that have a route or a shadow handler (the jobs the router
// marked routed), from one bridge's workers, and flushes the counts to the connection's report store at most
// every reportFlush. It learns a run's side, time and outcome from the worker's events, so a counted run
// costs a lock and a map lookup; only a shadowed run keeps a record from its start to its last event.
type reportRecorder struct {
	b        *Bridge
	counters reportStore
	retry    bool // counters.Add is one transaction: a failed one can be done again

	shadowMu sync.Mutex
	shadowed map[*Job]*shadowRecord // from its run's start to its last event
	inShadow atomic.Int64           // len(shadowed), read without the lock by every counted run

	flushMu  sync.Mutex // one flush at a time, so a report waits for the one under way
	mu       sync.Mutex
	pending  map[minuteClass]*classCounts
	flushing bool // a flush is scheduled
}

type minuteClass struct {
	minute int64
	class  string
}

// classCounts are a class's counts of one minute not yet flushed: fields, so that counting a run allocates
// nothing (the counters cost every routed job).
type classCounts struct {
	sides            [2]sideCounts // sideGo, sidePHP: [1] for a job the worker gave to PHP (Job.InPHP)
	shadowRuns       int64
	shadowMismatches int64
	mismatches       [][]byte
}

type sideCounts struct {
	runs, us, failed, released int64
	buckets                    [len(runBuckets) + 1]int64
}

// add adds o's counts, newer than c's, to c.
func (c *classCounts) add(o *classCounts) {
	for i := range c.sides {
		s, t := &c.sides[i], &o.sides[i]
		s.runs, s.us, s.failed, s.released = s.runs+t.runs, s.us+t.us, s.failed+t.failed, s.released+t.released
		for b := range s.buckets {
			s.buckets[b] += t.buckets[b]
		}
	}
	c.shadowRuns += o.shadowRuns
	c.shadowMismatches += o.shadowMismatches
	c.mismatches = append(c.mismatches, o.mismatches...) // c is the older
}

// fields are the counts by the names the report store keeps them under (go.runs, php.b3, shadow.runs, …),
// the ones that are not zero.
func (c *classCounts) fields() map[string]int64 {
	m := map[string]int64{}
	put := func(name string, n int64) {
		if n != 0 {
			m[name] = n
		}
	}
	for i, side := range [2]string{sideGo, sidePHP} {
		s := &c.sides[i]
		put(side+".runs", s.runs)
		put(side+".us", s.us)
		put(side+".failed", s.failed)
		put(side+".released", s.released)
		for b, n := range s.buckets {
			put(side+".b"+strconv.Itoa(b), n)
		}
	}
	put("shadow.runs", c.shadowRuns)
	put("shadow.mismatches", c.shadowMismatches)
	return m
}

// shadowRecord is what a shadowed PHP run needs at its last event to be compared: PHP's outcome where the
// worker released or failed the job, and the shadow's.
type shadowRecord struct {
	mu      sync.Mutex
	outcome string        // released or failed, once the worker said so
	err     string        // why it failed
	shadow  *shadowResult // once the shadow run ended
	result  *resultSlot   // what the PHP side left with SetShadowResult
}

func newReportRecorder(b *Bridge, counters reportStore) *reportRecorder {
	_, retry := counters.(*sqlstore.ReportCounters)
	return &reportRecorder{b: b, counters: counters, retry: retry,
		shadowed: map[*Job]*shadowRecord{}, pending: map[minuteClass]*classCounts{}}
}

// phpSide wraps the PHP executor so the jobs of classes with a shadow handler are shadowed.
func (r *reportRecorder) phpSide(php Handler, router *jobRouter, shadows *shadowRunner) Handler {
	if r == nil || php == nil {
		return php
	}
	return &shadowedPHP{r: r, h: php, router: router, shadows: shadows}
}

// shadowedPHP is the PHP executor with shadow runs beside the runs of shadowed classes.
type shadowedPHP struct {
	r       *reportRecorder
	h       Handler
	router  *jobRouter
	shadows *shadowRunner
}

func (c *shadowedPHP) ProcessJob(ctx context.Context, job *Job) error {
	if !job.Routed() || !c.router.routing.isShadow(job.Name()) {
		return c.h.ProcessJob(ctx, job)
	}
	shadow, ok := c.router.mux.Lookup(job.Name())
	if !ok {
		return c.h.ProcessJob(ctx, job)
	}
	// PHP's run is the job's; the shadow runs beside it on a copy, and the job is settled when both ended.
	rec := &shadowRecord{result: &resultSlot{}}
	c.r.shadowMu.Lock()
	c.r.shadowed[job] = rec
	c.r.inShadow.Store(int64(len(c.r.shadowed)))
	c.r.shadowMu.Unlock()
	done := make(chan shadowResult, 1)
	go func() { done <- c.shadows.run(ctx, shadow, job) }()
	err := c.h.ProcessJob(context.WithValue(ctx, resultKey{}, rec.result), job)
	res := <-done
	rec.mu.Lock()
	rec.shadow = &res
	rec.mu.Unlock()
	return err
}

// Failed runs the wrapped handler's Failed hook, if it has one.
func (c *shadowedPHP) Failed(ctx context.Context, job *Job, err error) {
	if fh, ok := c.h.(FailedHandler); ok {
		fh.Failed(ctx, job, err)
	}
}

// observe counts the worker's events of routed jobs: a release or a failure when it happens, the run at its
// last event (JobProcessed, JobExceptionOccurred), when the worker has set how long it took.
func (r *reportRecorder) observe(_ context.Context, event any) {
	switch e := event.(type) {
	case events.JobReleased:
		if e.Job.Routed() {
			r.settled(e.Job, "released", nil)
		}
	case events.JobFailed:
		if e.Job != nil && e.Job.Routed() {
			r.settled(e.Job, "failed", e.Err)
		}
	case events.JobProcessed:
		if e.Job.Routed() {
			outcome := "deleted"
			if o, _, _ := e.Job.Outcome(); o == OutcomeKept {
				outcome = "kept"
			}
			r.finish(e.Job, outcome, nil)
		}
	case events.JobExceptionOccurred:
		if e.Job.Routed() {
			r.finish(e.Job, "released", e.Err)
		}
	}
}

// settled counts a job the worker released or failed, and notes it for the job's shadow comparison.
func (r *reportRecorder) settled(job *Job, outcome string, err error) {
	if r.inShadow.Load() > 0 {
		r.shadowMu.Lock()
		rec := r.shadowed[job]
		r.shadowMu.Unlock()
		if rec != nil {
			rec.mu.Lock()
			if rec.outcome != "failed" {
				rec.outcome, rec.err = outcome, errText(err)
			}
			rec.mu.Unlock()
		}
	}
	r.mu.Lock()
	_, s := r.counts(job)
	if outcome == "failed" {
		s.failed++
	} else {
		s.released++
	}
	r.mu.Unlock()
}

// finish counts a run at its last event; outcome is what it ended as unless the worker released or failed it.
func (r *reportRecorder) finish(job *Job, outcome string, err error) {
	var rec *shadowRecord
	if r.inShadow.Load() > 0 {
		r.shadowMu.Lock()
		if rec = r.shadowed[job]; rec != nil {
			delete(r.shadowed, job)
			r.inShadow.Store(int64(len(r.shadowed)))
		}
		r.shadowMu.Unlock()
	}
	var shadowRun bool
	var mismatch []byte
	if rec != nil {
		rec.mu.Lock()
		if rec.outcome != "" {
			outcome = rec.outcome
		}
		errStr := rec.err
		if errStr == "" {
			errStr = errText(err)
		}
		shadow, result := rec.shadow, rec.result
		rec.mu.Unlock()
		if shadow != nil { // else PHP's run was settled without it (timed out), the shadow's still under way
			shadowRun = true
			php := status.ShadowOutcome{Outcome: outcome, Error: errStr, Result: result.json()}
			if gos := status.ShadowOutcome(*shadow); php != gos {
				mismatch, _ = json.Marshal(status.Mismatch{JobID: cmpID(job), Queue: job.Queue(), At: r.b.cfg.Clock().UTC(), PHP: php, Go: gos})
			}
		}
	}
	took := job.Took()
	r.mu.Lock()
	c, s := r.counts(job)
	s.runs++
	s.us += took.Microseconds()
	s.buckets[bucketOf(took)]++
	if shadowRun {
		c.shadowRuns++
		if mismatch != nil {
			c.shadowMismatches++
			c.mismatches = append(c.mismatches, mismatch)
		}
	}
	r.mu.Unlock()
}

// counts are the pending counts of job's class this minute and of the side it ran on (r.mu held); a flush is
// scheduled for them.
func (r *reportRecorder) counts(job *Job) (*classCounts, *sideCounts) {
	key := minuteClass{minute: r.b.cfg.Clock().Unix() / 60, class: routeClass(job.Name())}
	c := r.pending[key]
	if c == nil {
		c = &classCounts{}
		r.pending[key] = c
	}
	r.scheduleFlush()
	if job.InPHP() {
		return c, &c.sides[1]
	}
	return c, &c.sides[0]
}

func cmpID(job *Job) string {
	if job.UUID() != "" {
		return job.UUID()
	}
	return job.ID()
}

func bucketOf(d time.Duration) int {
	i, _ := slices.BinarySearch(runBuckets[:], d)
	return i
}

// flush writes the pending counts in one round trip. Counts that fail to reach Redis are dropped, and
// said so (a pipeline that failed midway may have added some): a report is an estimate, never a reason to
// hold up jobs. A SQL store's failed add wrote nothing, so its counts are kept for the next flush.
func (r *reportRecorder) flush(ctx context.Context) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	pending := r.pending
	r.pending, r.flushing = map[minuteClass]*classCounts{}, false
	r.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	deltas := make([]queue.ReportDelta, 0, len(pending))
	for k, c := range pending {
		deltas = append(deltas, queue.ReportDelta{Class: k.class, Minute: k.minute, Counts: c.fields(), Mismatches: c.mismatches})
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := r.counters.Add(ctx, deltas, reportTTL)
	switch {
	case err == nil:
	case r.retry:
		// The add was one transaction, so it wrote nothing: the counts go back for the next flush (SQLite
		// under load can keep a writer waiting past the flush's timeout).
		r.b.cfg.Logger.Warn("report counters kept for the next flush", "classes", len(deltas), "err", err)
		r.mu.Lock()
		for k, c := range pending {
			if next := r.pending[k]; next != nil {
				c.add(next)
			}
			r.pending[k] = c
		}
		r.scheduleFlush()
		r.mu.Unlock()
	default:
		r.b.cfg.Logger.Warn("report counters lost", "classes", len(deltas), "err", err)
	}
}

// scheduleFlush starts a flush reportFlush from now unless one is scheduled (r.mu held).
func (r *reportRecorder) scheduleFlush() {
	if !r.flushing {
		r.flushing = true
		time.AfterFunc(reportFlush, func() { r.flush(context.Background()) })
	}
}

var errNoReport = errors.New("report: the sync connection keeps no counters")

// Report is what every bridge on this connection counted, per job class that has a route or a shadow
// handler, over the window up to now (whole minutes), with a verdict on moving the class to Go.
func (b *Bridge) Report(ctx context.Context, window time.Duration) ([]ClassReport, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	counters := b.reportStore()
	if counters == nil {
		return nil, errNoReport
	}
	if r := b.conn().report; r != nil {
		r.flush(ctx) // what this process counted so far is in
	}
	last := b.cfg.Clock().Unix() / 60
	first := last - int64(max(window, time.Minute)/time.Minute) + 1
	raw, err := counters.Read(ctx, first, last)
	if err != nil {
		return nil, err
	}
	routes, err := b.Routes(ctx)
	if err != nil {
		return nil, err
	}
	routeOf := map[string]string{}
	for _, r := range routes {
		routeOf[r.Class] = r.Route.String()
	}
	out := make([]ClassReport, 0, len(raw))
	for class, cc := range raw {
		c := cc.Counts
		rep := ClassReport{Class: class, Route: routeOf[class], Go: side(c, sideGo), PHP: side(c, sidePHP),
			ShadowRuns: c["shadow.runs"], ShadowMismatches: c["shadow.mismatches"]}
		rep.Runs = rep.Go.Runs + rep.PHP.Runs
		if rep.Runs == 0 && rep.ShadowRuns == 0 {
			continue
		}
		for _, m := range cc.Mismatches {
			var mm status.Mismatch
			if json.Unmarshal(m, &mm) == nil {
				rep.Mismatches = append(rep.Mismatches, mm)
			}
		}
		rep.Ready, rep.Reasons = verdict(&rep)
		rep.Verdict = status.VerdictText(rep.Ready, rep.Reasons)
		out = append(out, rep)
	}
	slices.SortFunc(out, func(a, b ClassReport) int { return strings.Compare(a.Class, b.Class) })
	return out, nil
}

// side is one side's figures from the summed counters.
func side(c map[string]int64, name string) status.SideReport {
	s := status.SideReport{Runs: c[name+".runs"], Failed: c[name+".failed"], Released: c[name+".released"]}
	if s.Runs == 0 {
		return s
	}
	s.Mean = time.Duration(c[name+".us"]/s.Runs) * time.Microsecond
	// p95: the bucket the 95th percentile falls in, interpolated linearly within it.
	target := float64(s.Runs) * 0.95
	var seen int64
	for i := 0; i <= len(runBuckets); i++ {
		n := c[name+".b"+strconv.Itoa(i)]
		if n == 0 || float64(seen+n) < target {
			seen += n
			continue
		}
		lo := time.Duration(0)
		if i > 0 {
			lo = runBuckets[i-1]
		}
		if i == len(runBuckets) {
			s.P95 = lo // past the last bound: at least that
			break
		}
		frac := (target - float64(seen)) / float64(n)
		s.P95 = lo + time.Duration(frac*float64(runBuckets[i]-lo))
		break
	}
	return s
}

// verdict says whether Go can take the whole class, or why not yet.
func verdict(r *ClassReport) (bool, []status.Reason) {
	goRuns := r.Go.Runs + r.ShadowRuns
	rate := func(n, of int64) float64 {
		if of == 0 {
			return 0
		}
		return 100 * float64(n) / float64(of)
	}
	if r.Route == "go" {
		return true, []status.Reason{{Kind: status.ReasonAllGo}}
	}
	var why []status.Reason
	if r.ShadowMismatches > 0 {
		why = append(why, status.Reason{Kind: status.ReasonShadowMismatches, N: r.ShadowMismatches, Of: r.ShadowRuns})
	}
	if r.Go.Runs > 0 && r.PHP.Runs > 0 {
		if g, p := rate(r.Go.Failed, r.Go.Runs), rate(r.PHP.Failed, r.PHP.Runs); g > p+readyMargin {
			why = append(why, status.Reason{Kind: status.ReasonGoFailsMore, GoPercent: g, PHPPercent: p})
		}
		if g, p := rate(r.Go.Released, r.Go.Runs), rate(r.PHP.Released, r.PHP.Runs); g > p+readyMargin {
			why = append(why, status.Reason{Kind: status.ReasonGoReleasesMore, GoPercent: g, PHPPercent: p})
		}
	}
	if goRuns < readyRuns {
		why = append(why, status.Reason{Kind: status.ReasonFewGoRuns, N: goRuns, Of: readyRuns})
	}
	if len(why) > 0 {
		return false, why
	}
	return true, []status.Reason{{Kind: status.ReasonReady, N: goRuns}}
}
