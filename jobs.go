package bridge

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
	redisstore "github.com/queuebridge/bridge/storage/redis"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
)

// JobInfo is one job found by id: where it is and what it holds, decoded.
type JobInfo = queue.JobInfo

// JobEdit changes a waiting job; zero fields keep what the job has.
type JobEdit = queue.JobEdit

// ErrNoJob is wrapped by FindJob, CancelJob and EditJob for an id the queue does not hold (any more).
var ErrNoJob = errors.New("no such job")

// ErrJobReserved is wrapped by CancelJob and EditJob for a job a worker has reserved: it is running, and
// only the worker may delete or release it.
var ErrJobReserved = errors.New("the job is reserved by a worker")

// FindJob finds a job by id: on Redis the payload's id, looked for in every queue's list, delayed and
// reserved set (a read of every job, for people looking, not for a program's hot path); on a jobs table
// the row id.
func (b *Bridge) FindJob(ctx context.Context, id string) (JobInfo, error) {
	if err := b.ready(); err != nil {
		return JobInfo{}, err
	}
	j, ok, err := b.findStored(ctx, id)
	switch {
	case err != nil:
		return JobInfo{}, fmt.Errorf("find job %s: %w", id, err)
	case !ok:
		return JobInfo{}, fmt.Errorf("find job %s: %w", id, ErrNoJob)
	}
	return b.jobInfo(j, id), nil
}

func (b *Bridge) findStored(ctx context.Context, id string) (queue.StoredJob, bool, error) {
	if jobs := b.be.jobs; jobs != nil {
		row, err := strconv.ParseInt(id, 10, 64)
		if err != nil || row < 1 {
			return queue.StoredJob{}, false, nil // a jobs table's ids are row numbers
		}
		return jobs.Find(ctx, row)
	}
	r, err := b.redisBroker()
	if err != nil {
		return queue.StoredJob{}, false, err
	}
	names, err := r.Queues(ctx)
	if err != nil {
		return queue.StoredJob{}, false, err
	}
	quick := []byte(`"id":"` + id + `"`)
	match := func(m []byte) bool {
		// The substring test spares decoding every job; the decode then rules out "id" inside the data.
		return bytes.Contains(m, quick) && b.be.format.payloadID(m) == id
	}
	for _, q := range names {
		j, ok, err := r.Find(ctx, q, match)
		if err != nil || ok {
			return j, ok, err
		}
	}
	return queue.StoredJob{}, false, nil
}

// redisBroker is the Redis broker of a Redis queue.
func (b *Bridge) redisBroker() (*redisstore.Broker, error) {
	switch s := b.be.store.(type) {
	case *redisstore.Broker:
		return s, nil
	case sqlFailedBroker:
		return s.Broker, nil
	}
	return nil, errors.New("the sync connection holds no jobs")
}

// jobInfo decodes a stored job. A payload the dialect cannot decode is still shown, raw, with what is known.
func (b *Bridge) jobInfo(j queue.StoredJob, id string) JobInfo {
	info := JobInfo{StoredJob: j, ID: id}
	d, err := b.be.format.describe(j.Raw)
	if err != nil {
		info.Name = "(" + err.Error() + ")"
		return info
	}
	info.Name, info.Data, info.Attempts = d.name, d.data, d.attempts
	if b.be.database() {
		// The attempts column, which the next reservation (or the one after a lapse) adds one to.
		info.Attempts = j.Attempts + 1
	}
	return info
}

// CancelJob withdraws a ready or delayed job (think-queue users' 撤回) in one atomic step: it never runs.
// A reserved job is ErrJobReserved and stays as it is; one that is gone (it ran meanwhile) is ErrNoJob.
func (b *Bridge) CancelJob(ctx context.Context, id string) error {
	info, err := b.FindJob(ctx, id)
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	if info.State == StateReserved {
		return fmt.Errorf("cancel job %s of %s: %w", id, info.Queue, ErrJobReserved)
	}
	var done bool
	if jobs := b.be.jobs; jobs != nil {
		row, _ := strconv.ParseInt(string(info.Member), 10, 64)
		done, err = jobs.Cancel(ctx, row)
	} else {
		var r *redisstore.Broker
		if r, err = b.redisBroker(); err == nil {
			var where int
			where, err = r.Cancel(ctx, info.Queue, info.Member)
			done = where != redisstore.NotWaiting
		}
	}
	if err != nil {
		return fmt.Errorf("cancel job %s: %w", id, err)
	}
	if !done {
		return fmt.Errorf("cancel job %s of %s: %w", id, info.Queue, b.whyNotWaiting(ctx, id))
	}
	return nil
}

// whyNotWaiting says why a job found waiting was not there when a write came: a worker reserved it, or
// it is gone altogether.
func (b *Bridge) whyNotWaiting(ctx context.Context, id string) error {
	if j, ok, err := b.findStored(ctx, id); err == nil && ok && j.State == StateReserved {
		return fmt.Errorf("%w (it was reserved meanwhile; nothing changed)", ErrJobReserved)
	}
	return fmt.Errorf("%w (it left the queue meanwhile; nothing changed)", ErrNoJob)
}

// EditJob changes a waiting job in one atomic step: its data (string jobs; re-encoded as the PHP library
// encodes a payload, id and attempts kept), when it runs (Delay or At), its queue, or its place (Front). A
// reserved job is ErrJobReserved; a Laravel or think-queue object job's data (a serialize()d command) is
// PHP's alone, so only its time, queue and place can change. On a jobs table Front gives the row a new id
// (the tables run the lowest id first): the returned JobInfo has it.
func (b *Bridge) EditJob(ctx context.Context, id string, e JobEdit) (JobInfo, error) {
	if e.Delay != nil && e.At != nil {
		return JobInfo{}, fmt.Errorf("edit job %s: give Delay or At, not both", id)
	}
	if e.Front && (e.Delay != nil || e.At != nil) {
		return JobInfo{}, fmt.Errorf("edit job %s: Front runs the job next; it takes no Delay or At", id)
	}
	info, err := b.FindJob(ctx, id)
	if err != nil {
		return JobInfo{}, fmt.Errorf("edit: %w", err)
	}
	if info.State == StateReserved {
		return JobInfo{}, fmt.Errorf("edit job %s of %s: %w", id, info.Queue, ErrJobReserved)
	}
	payload := info.Raw
	if e.Data != nil {
		if payload, err = b.be.format.withData(info.Raw, e.Data); err != nil {
			return JobInfo{}, fmt.Errorf("edit job %s: %w", id, err)
		}
	}
	now := b.cfg.Clock()
	var at time.Time
	switch {
	case e.Delay != nil:
		at = now.Add(*e.Delay)
	case e.At != nil:
		at = *e.At
	}
	to := cmp.Or(e.Queue, info.Queue)
	newID, done := id, false
	if jobs := b.be.jobs; jobs != nil {
		row, _ := strconv.ParseInt(string(info.Member), 10, 64)
		edit := sqlstore.RowEdit{Queue: e.Queue, AvailableAt: at, Front: e.Front}
		if e.Data != nil {
			edit.Payload = payload
		}
		var got int64
		got, done, err = jobs.Edit(ctx, row, edit)
		newID = strconv.FormatInt(got, 10)
	} else {
		var r *redisstore.Broker
		if r, err = b.redisBroker(); err == nil {
			var where int
			where, err = r.Move(ctx, info.Queue, to, info.Member, payload, redisstore.Placement{Front: e.Front, At: at})
			done = where != redisstore.NotWaiting
		}
	}
	if err != nil {
		return JobInfo{}, fmt.Errorf("edit job %s: %w", id, err)
	}
	if !done {
		return JobInfo{}, fmt.Errorf("edit job %s of %s: %w", id, info.Queue, b.whyNotWaiting(ctx, id))
	}
	// What was written, described without reading it back: a worker may have taken it already.
	j := info.StoredJob
	j.Queue, j.Raw = to, payload
	if !b.be.database() {
		j.Member = payload
	} else {
		j.Member = []byte(newID)
	}
	switch {
	case e.Front:
		j.State, j.AvailableAt = StateReady, time.Time{}
		if b.be.database() {
			j.AvailableAt = now
		}
	case !at.IsZero() && at.After(now):
		j.State, j.AvailableAt = StateDelayed, at
	case !at.IsZero():
		j.State, j.AvailableAt = StateReady, at
	}
	return b.jobInfo(j, newID), nil
}

// ClearQueue deletes a queue's waiting jobs, ready and delayed, and says how many; reserved jobs are left
// to the workers running them. One atomic step: a job is either deleted or reserved, never both.
func (b *Bridge) ClearQueue(ctx context.Context, queueName string) (int, error) {
	if err := b.ready(); err != nil {
		return 0, err
	}
	var n int
	var err error
	if jobs := b.be.jobs; jobs != nil {
		n, err = jobs.ClearWaiting(ctx, queueName)
	} else {
		var r *redisstore.Broker
		if r, err = b.redisBroker(); err == nil {
			n, err = r.ClearWaiting(ctx, queueName)
		}
	}
	if err != nil {
		return n, fmt.Errorf("clear %s: %w", queueName, err)
	}
	return n, nil
}

// described is what a payload holds, decoded for people.
type described struct {
	name     string
	attempts int // what attempts() reports on the next run, when the payload counts them
	data     json.RawMessage
}

// errObjectData refuses new data for an object job.
var errObjectData = errors.New("its data is a PHP-serialize()d command object, which only PHP can rewrite: edit only changes when it runs, its queue and its place (--delay, --at, --queue, --front)")

func (f thinkqueueFormat) payloadID(raw []byte) string {
	p, err := f.d.Parse(raw)
	if err != nil {
		return ""
	}
	return p.ID
}

func (f thinkqueueFormat) describe(raw []byte) (described, error) {
	p, err := f.d.Parse(raw)
	if err != nil {
		return described{}, err
	}
	d := described{name: p.Job, attempts: f.d.Attempts(p), data: p.Data}
	if class, cmd, ok := serializedCommand(p.Data); ok {
		d.name = cmp.Or(class, d.name)
		if props, err := commandJSON(cmd); err == nil {
			d.data = props
		}
	}
	return d, nil
}

// withData is the payload with data replaced, as PHP re-encodes it: json_encode of the decoded payload
// array, its key order kept.
func (f thinkqueueFormat) withData(raw []byte, data json.RawMessage) ([]byte, error) {
	p, err := f.d.Parse(raw)
	if err != nil {
		return nil, err
	}
	if _, _, ok := serializedCommand(p.Data); ok || p.Job == thinkqueue.CallQueuedHandlerJob {
		return nil, errObjectData
	}
	m, v, err := replaceData(raw, data)
	if err != nil {
		return nil, err
	}
	m.Set("data", v)
	return phpjson.Encode(m)
}

func (f laravelFormat) payloadID(raw []byte) string {
	p, err := f.d.Parse(raw)
	if err != nil {
		return ""
	}
	return p.ID
}

func (f laravelFormat) describe(raw []byte) (described, error) {
	p, err := f.d.Parse(raw)
	if err != nil {
		return described{}, err
	}
	// RedisJob::attempts() is the payload's attempts + 1 (the reserve script counts the stored copy).
	d := described{name: p.Name(), attempts: p.Attempts + 1, data: p.Data}
	if p.Command != "" {
		if props, err := commandJSON(p.Command); err == nil {
			d.data = props
		}
	}
	return d, nil
}

// withData is the payload with data replaced, encoded as Laravel encodes payloads (JSON_UNESCAPED_UNICODE).
func (f laravelFormat) withData(raw []byte, data json.RawMessage) ([]byte, error) {
	p, err := f.d.Parse(raw)
	if err != nil {
		return nil, err
	}
	if p.Job == laravel.CallQueuedHandlerJob || p.Command != "" {
		return nil, errObjectData
	}
	m, v, err := replaceData(raw, data)
	if err != nil {
		return nil, err
	}
	m.Set("data", v)
	return phpjson.EncodeUnescapedUnicode(m)
}

// replaceData decodes a payload and new data as json_decode($s, true) holds them.
func replaceData(raw []byte, data json.RawMessage) (*phpjson.Map, any, error) {
	pv, err := phpjson.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	m, ok := phpjson.Assoc(pv).(*phpjson.Map)
	if !ok {
		return nil, nil, errors.New("the payload is not a JSON object")
	}
	dv, err := phpjson.Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("new data: %w", err)
	}
	return m, phpjson.Assoc(dv), nil
}

// serializedCommand reports data holding a serialize()d command (data.command), with its class.
func serializedCommand(data json.RawMessage) (class, command string, ok bool) {
	var d struct {
		CommandName string `json:"commandName"`
		Command     string `json:"command"`
	}
	if json.Unmarshal(data, &d) != nil || d.Command == "" {
		return "", "", false
	}
	return d.CommandName, d.Command, true
}

// DescribeJob decodes a listed job (see Jobs) as FindJob does: its id, class, attempts and data.
func (b *Bridge) DescribeJob(j StoredJob) JobInfo {
	id := string(j.Member)
	if !b.be.database() {
		id = b.be.format.payloadID(j.Raw)
	}
	return b.jobInfo(j, id)
}
