package integration

// The recorder of the harness: what ran, with which attempts and outcome, and which events the workers
// dispatched, in one shape for every runner. PHP's test jobs (App\Support\Recorder) and the testbridge
// binary (test\Block) write records to Redis lists (RecordsIn reads them); in-process Go handlers call
// recorder.Record, and recorder.Listen logs a bridge's events as the test app's EventLog prints Laravel's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/events"
)

// record is one execution of a job, or of its failure hook, as its runner reports it.
type record struct {
	Runner     string         `json:"runner"` // "laravel", "testbridge", or "bridge" (in-process)
	PID        int            `json:"pid"`
	T          float64        `json:"t"` // Unix time in seconds, to the microsecond
	Class      string         `json:"class"`
	Outcome    string         `json:"outcome"` // start, ok, throw, release, fail (gives up), failed (the hook)
	UUID       string         `json:"uuid"`
	ID         string         `json:"id"` // a payload id, or a jobs-table row id
	Attempts   int            `json:"attempts"`
	Queue      string         `json:"queue"`
	Connection string         `json:"connection"`
	Props      map[string]any `json:"props"` // object jobs: the job's own properties
	Data       any            `json:"data"`  // string jobs: the data
	Exception  string         `json:"exception"`

	// Only in-process records have these.
	Raw    string `json:"-"` // job.RawBody()
	Member string `json:"-"` // job.Reservation().Member
	Err    error  `json:"-"` // what the handler returned, or what the failure hook got
	Seen   any    `json:"-"` // what the handler looked at while it ran (a test's own snapshot)
}

// UnmarshalJSON reads a record; its id is a JSON string (Redis payload ids) or a number (row ids).
func (r *record) UnmarshalJSON(b []byte) error {
	type plain record
	aux := struct {
		*plain
		ID json.RawMessage `json:"id"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	id, err := idString(aux.ID)
	r.ID = id
	return err
}

// idString is a JSON id as a string: a string's value, a number's digits, "" for null.
func idString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("id %s: want a string or a number", raw)
	}
	return n.String(), nil
}

// Time is T as a time.
func (r record) Time() time.Time { return time.UnixMicro(int64(math.Round(r.T * 1e6))) }

// records are records in the order they were written.
type records []record

// Of are the records with outcome.
func (rs records) Of(outcome string) records {
	var out records
	for _, r := range rs {
		if r.Outcome == outcome {
			out = append(out, r)
		}
	}
	return out
}

// IDs are the records' job ids, in order.
func (rs records) IDs() []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// ByID counts the records of each job id.
func (rs records) ByID() map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.ID]++
	}
	return out
}

// Attempts are the records' attempts, in order.
func (rs records) Attempts() []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Attempts
	}
	return out
}

// RecordsIn reads the records a runner outside this process wrote to the Redis list key.
func (be *backend) RecordsIn(key string) records {
	be.t.Helper()
	items := be.LRange(key)
	out := make(records, 0, len(items))
	for _, s := range items {
		var r record
		require.NoError(be.t, json.Unmarshal([]byte(s), &r), "record %s", s)
		out = append(out, r)
	}
	return out
}

// event is one worker event as the test app's EventLog prints Laravel's (work.php) and recorder.Listen logs
// the bridge's.
type event struct {
	Event       string         `json:"event"`
	T           float64        `json:"t"`
	PID         int            `json:"pid"`
	Connection  string         `json:"connection"`
	Queue       string         `json:"queue"`
	ID          string         `json:"id"`
	UUID        string         `json:"uuid"`
	Attempts    int            `json:"attempts"`
	Name        string         `json:"name"`
	Class       string         `json:"class"`
	Exception   string         `json:"exception"`
	Message     string         `json:"message"`      // WorkerStopping: the reason
	AvailableAt *int64         `json:"available_at"` // JobReleased: the released copy's score in the delayed set
	Now         int64          `json:"now"`          // JobReleased: the Unix time just after
	Status      *int           `json:"status"`       // WorkerStopping, exit
	Counts      map[string]int `json:"counts"`       // exit

	// Only the bridge's events have these.
	Job *bridge.Job `json:"-"` // nil for a payload that is no job
	Err error       `json:"-"`
}

// eventLog are events in the order they came.
type eventLog []event

// Of are the events named name.
func (l eventLog) Of(name string) eventLog {
	var out eventLog
	for _, e := range l {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// StopReasons are the reasons of the WorkerStopping events.
func (l eventLog) StopReasons() []string {
	var out []string
	for _, e := range l.Of("WorkerStopping") {
		out = append(out, e.Message)
	}
	return out
}

// recorder collects what in-process bridges on one backend did: the runs their Go handlers report (Record)
// and the events the bridges dispatch (Listen). It is safe for handlers' and listeners' goroutines.
type recorder struct {
	be *backend

	mu      sync.Mutex
	records records
	events  eventLog
}

// NewRecorder returns an empty recorder for bridges on be.
func (be *backend) NewRecorder() *recorder { return &recorder{be: be} }

// connection is the queue connection's name as the frameworks print it.
func (r *recorder) connection() string {
	if r.be.Kind == "redis" {
		return "redis"
	}
	return "database"
}

// Record notes a run of job with outcome; with, when given, fills in more (props, an exception, a
// snapshot). It returns the record.
func (r *recorder) Record(job *bridge.Job, outcome string, with func(*record)) record {
	rec := record{
		Runner:     "bridge",
		PID:        os.Getpid(),
		T:          float64(time.Now().UnixMicro()) / 1e6,
		Class:      job.Name(),
		Outcome:    outcome,
		UUID:       job.UUID(),
		ID:         job.ID(),
		Attempts:   job.Attempts(),
		Queue:      job.Queue(),
		Connection: r.connection(),
		Raw:        string(job.RawBody()),
		Member:     string(job.Reservation().Member),
	}
	if with != nil {
		with(&rec)
	}
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
	return rec
}

// Records returns a copy of the records so far.
func (r *recorder) Records() records {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(records(nil), r.records...)
}

// Events returns a copy of the events so far.
func (r *recorder) Events() eventLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(eventLog(nil), r.events...)
}

// Listen logs b's events. A release is logged with the score of the released copy in the delayed set (Redis
// only) and the Unix time just after, as EventLog does.
func (r *recorder) Listen(b *bridge.Bridge) {
	b.Listen(func(ctx context.Context, ev any) {
		var e event
		var job *bridge.Job
		switch ev := ev.(type) {
		case events.JobProcessing:
			e.Event, job = "JobProcessing", ev.Job
		case events.JobProcessed:
			e.Event, job = "JobProcessed", ev.Job
		case events.JobExceptionOccurred:
			e.Event, job, e.Err = "JobExceptionOccurred", ev.Job, ev.Err
			e.Exception, e.Message = exceptionText(ev.Err)
		case events.JobFailed:
			e.Event, job, e.Err = "JobFailed", ev.Job, ev.Err
			e.Exception, e.Message = exceptionText(ev.Err)
			e.Queue = ev.Reservation.Queue
		case events.JobReleased:
			e.Event, job = "JobReleased", ev.Job
			if r.be.Kind == "redis" {
				score, err := r.be.Redis.ZScore(ctx, r.be.Keys(job.Queue()).Delayed, string(job.Reservation().Member)).Result()
				at := int64(score)
				if errors.Is(err, goredis.Nil) && ev.Delay == 0 {
					// Released to be due at once, the copy may already be reserved again by the time this
					// runs (a worker reserves the next jobs while one runs): it was due at its release.
					at, err = time.Now().Unix(), nil
				}
				if err == nil {
					e.AvailableAt = &at
				}
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
			e.Job = job
			e.Connection, e.Queue, e.ID, e.UUID, e.Attempts = r.connection(), job.Queue(), job.ID(), job.UUID(), job.Attempts()
			e.Name, e.Class = job.Name(), job.Name()
		}
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	})
}

// phpError is an error a Go handler raises where the PHP job throws: PHPClass is the PHP exception class,
// which the bridge's exception text and exceptionText report.
type phpError struct {
	Class, Message string
}

func (e *phpError) Error() string    { return e.Message }
func (e *phpError) PHPClass() string { return e.Class }

// exceptionText is get_class($e) and $e->getMessage() for a Go error: the class is the error's own
// PHPClass() (not one of an error it wraps: PHP reports the outermost exception), else its Go type.
func exceptionText(err error) (class, message string) {
	if err == nil {
		return "", ""
	}
	if c, ok := err.(interface{ PHPClass() string }); ok {
		return c.PHPClass(), err.Error()
	}
	return fmt.Sprintf("%T", err), err.Error()
}

// blockData is the data of the testbridge binary's test\Block job (see testdata/testbridge): it records
// "start" on Started, waits for Gate, MS or its context, then records "ok" (or "release") on Done.
type blockData struct {
	Started   string `json:"started,omitempty"`
	Done      string `json:"done,omitempty"`
	Gate      string `json:"gate,omitempty"`
	MS        int64  `json:"ms,omitempty"`
	IgnoreCtx bool   `json:"ignore_ctx,omitempty"`
	Release   bool   `json:"release,omitempty"`
}

// OpenGate lets one test\Block waiting on gate finish.
func (be *backend) OpenGate(gate string) {
	be.t.Helper()
	require.NoError(be.t, be.Redis.RPush(context.Background(), gate, "go").Err())
}
