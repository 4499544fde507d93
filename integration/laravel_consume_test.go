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
	"github.com/queuebridge/bridge/compat/laravel"
)

// objectPropsJob is App\Jobs\ObjectProps as Job.Bind decodes it.
type objectPropsJob struct {
	Name    string         `php:"name"`
	Tags    map[string]any `php:"tags"`
	Ratio   float64        `php:"ratio"`
	Whole   float64        `php:"whole"`
	Count   int            `php:"count"`
	Neg     int64          `php:"neg"`
	Flag    bool           `php:"flag"`
	Off     bool           `php:"off"`
	Nothing *string        `php:"nothing"`
	Format  string         `php:"format"` // protected
	Secret  string         `php:"secret"` // private
	laravel.Queueable
}

func (c *objectPropsJob) props() (any, error) {
	return jsonValue(map[string]any{"name": c.Name, "tags": c.Tags, "ratio": c.Ratio, "whole": c.Whole,
		"count": c.Count, "neg": c.Neg, "flag": c.Flag, "off": c.Off, "nothing": c.Nothing, "format": c.Format,
		"secret": c.Secret})
}

// withModelJob is App\Jobs\WithModel as Job.Bind decodes it: SerializesModels left ModelIdentifiers.
type withModelJob struct {
	User  laravel.ModelIdentifier `php:"user"`
	Users laravel.ModelIdentifier `php:"users"`
	Note  string                  `php:"note"`
	laravel.Queueable
}

// consumed is what a Go handler saw of one job.
type consumed struct {
	runs     int
	name     string
	id       string
	attempts int
	queue    string
	raw      string
	at       time.Time
	props    any // object jobs: the bound properties as JSON values; string jobs: the bound data
	queueP   string
	connP    string
	model    *withModelJob
	err      error
}

// TestLaravelConsume: real Laravel 8.83 dispatches 1,000 object jobs (App\Jobs\Record, ObjectProps and
// WithModel: public, protected and private properties, nested arrays, unicode, model identifiers; through
// the Bus, the dispatch() helper and Queue::push) and 1,000 string jobs (App\Jobs\Legacy@handle), a fifth of
// each delayed; the bridge (dialect laravel-8, the app's prefix, Expire = retry_after) runs each exactly
// once with Go handlers for those class names, Bind gives back the values PHP serialized, and every key of
// the queue (list, delayed, reserved, notify) is gone at the end.
func TestLaravelConsume(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	const q = "consume"
	qa := "--queue=" + q

	var jobs []laravelJob
	jobs = append(jobs, a.Dispatch("--objects=600", "--class=Record", qa, "--raw")...)
	jobs = append(jobs, a.Dispatch("--objects=200", "--class=Record", qa, "--raw", "--delay=1", "--start=601", "--via=dispatch")...)
	jobs = append(jobs, a.Dispatch("--objects=100", "--class=ObjectProps", qa, "--raw", "--via=queue")...)
	jobs = append(jobs, a.Dispatch("--objects=100", "--class=WithModel", qa, "--raw")...)
	jobs = append(jobs, a.Dispatch("--strings=800", qa, "--raw")...)
	jobs = append(jobs, a.Dispatch("--strings=200", qa, "--raw", "--delay=1", "--start=801")...)
	require.Len(t, jobs, 2000)
	byUUID := make(map[string]laravelJob, len(jobs))
	for _, j := range jobs {
		require.NotEmpty(t, j.Raw, "job %s %d was read back", j.Class, j.N)
		byUUID[j.UUID] = j
	}
	require.Len(t, byUUID, 2000, "uuids are unique")

	var mu sync.Mutex
	seen := make(map[string]*consumed, len(jobs))
	note := func(job *bridge.Job, f func(c *consumed)) {
		mu.Lock()
		defer mu.Unlock()
		c := seen[job.UUID()]
		if c == nil {
			c = &consumed{}
			seen[job.UUID()] = c
		}
		c.runs++
		c.name, c.id, c.attempts, c.queue, c.raw, c.at = job.Name(), job.ID(), job.Attempts(), job.Queue(), string(job.RawBody()), time.Now()
		f(c)
	}
	ran := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}

	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 16, Sleep: 50 * time.Millisecond})
	b.HandleFunc(classRecord, func(_ context.Context, job *bridge.Job) error {
		var c recordJob
		err := job.Bind(&c)
		note(job, func(s *consumed) { s.props, s.err, s.queueP, s.connP = c.props(), err, c.Queue, c.Connection })
		return err
	})
	b.HandleFunc(classObjectProps, func(_ context.Context, job *bridge.Job) error {
		var c objectPropsJob
		err := job.Bind(&c)
		props, perr := c.props()
		if err == nil {
			err = perr
		}
		note(job, func(s *consumed) { s.props, s.err, s.queueP, s.connP = props, err, c.Queue, c.Connection })
		return err
	})
	b.HandleFunc(classWithModel, func(_ context.Context, job *bridge.Job) error {
		var c withModelJob
		err := job.Bind(&c)
		note(job, func(s *consumed) { s.model, s.err, s.queueP, s.connP = &c, err, c.Queue, c.Connection })
		return err
	})
	b.HandleFunc(jobLegacy, func(_ context.Context, job *bridge.Job) error {
		var data map[string]any
		err := job.Bind(&data)
		note(job, func(s *consumed) { s.props, s.err = data, err })
		return err
	})
	run := runBackground(t, b)
	waitFor(t, "the bridge ran 2,000 jobs", func() bool { return ran() == len(jobs) })
	require.NoError(t, run.stop(t))

	require.Len(t, seen, len(jobs))
	for uuid, c := range seen {
		j, ok := byUUID[uuid]
		require.True(t, ok, "the bridge ran a job nobody dispatched: %s", uuid)
		what := j.Class + " #" + strconv.Itoa(j.N)
		require.Equal(t, 1, c.runs, "%s ran %d times", what, c.runs)
		require.NoError(t, c.err, what)
		require.Equal(t, j.ID, c.id, what)
		require.Equal(t, 1, c.attempts, what)
		require.Equal(t, q, c.queue, what)
		require.Equal(t, j.Raw, c.raw, "%s: the handler got the bytes Laravel stored", what)
		if j.Delay > 0 {
			require.GreaterOrEqual(t, c.at.Unix(), j.AvailableAt, "%s ran before it was due", what)
		}
		switch j.Class {
		case classRecord, classObjectProps:
			require.Equal(t, j.Class, c.name, what)
			require.Equal(t, j.Props, c.props, "%s: Bind gives back what Laravel serialized", what)
			if j.Class == classRecord { // through the Bus: onConnection / onQueue set the Queueable properties
				require.Equal(t, q, c.queueP, what)
				require.Equal(t, "redis", c.connP, what)
			} else { // Queue::push: untouched
				require.Empty(t, c.queueP, what)
				require.Empty(t, c.connP, what)
			}
		case classWithModel:
			require.Equal(t, j.Class, c.name, what)
			// Props::of printed the models (toArray); the job carries their identifiers.
			user := j.Props["user"].(map[string]any)
			users := j.Props["users"].([]any)
			require.Equal(t, laravel.ModelIdentifier{Class: classUser, ID: int64(user["id"].(float64)),
				Relations: []string{}, Connection: "sqlite"}, c.model.User, what)
			var ids []any
			for _, u := range users {
				ids = append(ids, int64(u.(map[string]any)["id"].(float64)))
			}
			require.Equal(t, laravel.ModelIdentifier{Class: classUser, ID: ids, Relations: []string{},
				Connection: "sqlite"}, c.model.Users, what)
			require.Equal(t, j.Props["note"], c.model.Note, what)
			require.Equal(t, q, c.model.Queue, what)
		case classLegacy:
			require.Equal(t, jobLegacy, c.name, what)
			require.Equal(t, j.Data, c.props, "%s: Bind gives back the data Laravel wrote", what)
		default:
			require.Failf(t, "class", "%q", j.Class)
		}
	}
	a.RequireQueueEmpty(q)
}

// TestLaravelConsumeChain: a job chain dispatched by Laravel (Bus::chain([Record 1, 2, 3])->dispatch()) runs
// every link, in order, once, when the bridge takes the jobs it has a handler for: the bridge must not drop
// the rest of the chain (Laravel's CallQueuedHandler dispatches the next link after each success). Laravel's
// own worker is the reference; after the bridge, a Laravel worker drains the chain's queue too, so a bridge
// that hands chained jobs back to PHP passes as well as one that dispatches the next link itself.
func TestLaravelConsumeChain(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	log := a.Key("log")
	const phpQ, goQ = "chain-php", "chain-go"
	chain := func(q string) laravelJob {
		out := jsonLines[laravelJob](t, a.PHP("chain.php", "--queue="+q, "--length=3", "--log="+log))
		require.Len(t, out, 1)
		require.NotEmpty(t, out[0].Raw)
		return out[0]
	}
	order := func(q string, recs records) []string {
		var out []string
		for _, r := range recs {
			if r.Queue == q {
				out = append(out, fmt.Sprintf("%v %s", r.Props["n"], r.Outcome))
			}
		}
		return out
	}

	// Laravel's worker alone.
	chain(phpQ)
	a.Work("--queue="+phpQ, "--drain", "--sleep=0.1")
	want := order(phpQ, a.RecordsIn(log))
	require.Equal(t, []string{"1 ok", "2 ok", "3 ok"}, want, "Laravel runs the chain in order")
	a.RequireQueueEmpty(phpQ)

	// The bridge, with a Go handler for the class, then Laravel's worker. Continuing a chain is
	// CallQueuedHandler's work, so the bridge hands the chain's first job back untouched and Laravel's
	// worker runs every link.
	first := chain(goQ)
	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{goQ}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
	b.Handle(classRecord, recordHandler{rec: rec})
	require.NoError(t, runBackground(t, b).wait(t))
	require.Empty(t, rec.Records(), "the bridge must not run a chain it cannot continue")
	items := a.LRange(a.Keys(goQ).List)
	require.Equal(t, []string{first.Raw}, items, "the chain's first job is back on the list, byte for byte")
	a.Work("--queue="+goQ, "--drain", "--sleep=0.1")
	require.Equal(t, want, order(goQ, a.RecordsIn(log)), "every link of the chain ran once, in order")
	a.RequireQueueEmpty(goQ)
}
