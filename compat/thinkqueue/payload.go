package thinkqueue

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// CallQueuedHandlerJob is the job name PHP stores for an object job (Queue::push(new Cmd)): data holds
// commandName and a PHP-serialize()d command, which only PHP can run.
const CallQueuedHandlerJob = `think\queue\CallQueuedHandler@call`

// Payload is what a consumer needs from a stored job payload. The stored bytes themselves stay the
// reference for Redis (ZREM matches on them), so Payload never gets re-encoded.
type Payload struct {
	// Job is the "job" field: "Class" or "Class@method" (see ParseJobName).
	Job string
	// Data is the raw JSON of "data" as stored, a subslice of the parsed bytes; nil when the field is
	// missing. PHP writes an empty object as [] after a round trip, so consumers must accept [] where
	// they expect {}.
	Data json.RawMessage
	// ID is the "id" field; a non-string id is kept as its JSON text, a missing or null one is "".
	ID string
	// Attempts is the "attempts" field, or the version's starting value (V1: 1, V3: 0) when it is
	// missing or null. Use Dialect.Attempts for what PHP's Job::attempts() reports.
	Attempts int
	// HasAttempts reports whether "attempts" was present and not null.
	HasAttempts bool
	// MaxTries, Timeout and TimeoutAt are the v3 payload overrides (nil when missing or null). V1 leaves
	// them nil whatever the payload holds: think-queue 1.x/2.x never reads them.
	MaxTries  *int
	Timeout   *int
	TimeoutAt *int64
}

// PayloadError reports a payload that cannot be a think-queue job.
type PayloadError struct {
	// Reason says what is wrong, e.g. `no "job" field`.
	Reason string
}

// Error returns the reason prefixed with "thinkqueue: invalid payload: ".
func (e *PayloadError) Error() string { return "thinkqueue: invalid payload: " + e.Reason }

// Is makes errors.Is(err, &PayloadError{}) match any PayloadError, and one with a Reason match that
// reason only.
func (e *PayloadError) Is(target error) bool {
	t, ok := target.(*PayloadError)
	return ok && (t.Reason == "" || t.Reason == e.Reason)
}

// NewPayload returns the exact bytes Queue::push (and later) writes on Redis for job with data and id
// (normally NewID()). data is a phpjson value (from phpjson.Decode, Assoc or FromGo, or nil, string,
// int64, float64, bool); pass "" for what push($job) without data stores.
//
// V1 writes {"job","data","id","attempts":1} after PHP's two setMeta decode/encode round trips, so the
// whole payload is normalized (an empty object becomes []). V3 writes
// {"job","maxTries":null,"timeout":null,"data","id","attempts":0} in one encode; for
// CallQueuedHandlerJob it adds "timeoutAt":null after "timeout", as createObjectPayload does for an
// object without tries, timeout or retryUntil.
func (d Dialect) NewPayload(job string, data any, id string) ([]byte, error) {
	if job == "" {
		return nil, errors.New("thinkqueue: new payload: empty job name")
	}
	m := &phpjson.Map{Keys: []string{"job"}, Values: []any{job}}
	if d.isV3() {
		m.Keys = append(m.Keys, "maxTries", "timeout")
		m.Values = append(m.Values, nil, nil)
		if job == CallQueuedHandlerJob {
			m.Keys = append(m.Keys, "timeoutAt")
			m.Values = append(m.Values, nil)
		}
	}
	m.Keys = append(m.Keys, "data", "id", "attempts")
	m.Values = append(m.Values, data, id, d.startAttempts())
	b, err := phpjson.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("thinkqueue: new payload for %s: %w", job, err)
	}
	if d.isV3() {
		return b, nil
	}
	if b, err = phpjson.Normalize(b); err != nil {
		return nil, fmt.Errorf("thinkqueue: new payload for %s: %w", job, err)
	}
	return b, nil
}

// NewDBPayload returns the exact bytes Queue::push writes into the database driver's payload column: the
// Redis payload without id and attempts (those are columns), encoded once — V1 {"job","data"}, V3
// {"job","maxTries":null,"timeout":null,"data"} — so an empty object stays {}.
func (d Dialect) NewDBPayload(job string, data any) ([]byte, error) {
	if job == "" {
		return nil, errors.New("thinkqueue: new payload: empty job name")
	}
	m := &phpjson.Map{Keys: []string{"job"}, Values: []any{job}}
	if d.isV3() {
		m.Keys = append(m.Keys, "maxTries", "timeout")
		m.Values = append(m.Values, nil, nil)
		if job == CallQueuedHandlerJob {
			m.Keys = append(m.Keys, "timeoutAt")
			m.Values = append(m.Values, nil)
		}
	}
	m.Keys = append(m.Keys, "data")
	m.Values = append(m.Values, data)
	b, err := phpjson.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("thinkqueue: new payload for %s: %w", job, err)
	}
	return b, nil
}

// startAttempts is the attempts value a fresh Redis payload carries.
func (d Dialect) startAttempts() int64 {
	if d.isV3() {
		return 0
	}
	return 1
}

// Parse decodes what a consumer needs from a stored payload, tolerantly: missing attempts, id, data,
// maxTries, timeout or timeoutAt are fine and extra keys are ignored; with duplicate keys the last one
// wins, as in PHP. It fails with a *PayloadError when raw is not a UTF-8 JSON object with a non-empty
// string "job", or when attempts (or, on V3, maxTries, timeout or timeoutAt) holds something other than
// null or an integer; V1 ignores the fields think-queue 1.x/2.x never reads, whatever they hold.
// Payload.Data is a subslice of raw, which the caller keeps unchanged anyway: raw is the member a later
// ZREM has to match.
func (d Dialect) Parse(raw []byte) (*Payload, error) {
	// PHP's json_decode rejects malformed UTF-8, so PHP could neither run nor release such a job.
	if !utf8.Valid(raw) {
		return nil, &PayloadError{Reason: "not valid UTF-8"}
	}
	if !phpjson.Valid(raw) {
		var syntax json.RawMessage
		return nil, &PayloadError{Reason: "not valid JSON: " + json.Unmarshal(raw, &syntax).Error()}
	}
	if kind := phpjson.Kind(raw); kind != "object" {
		return nil, &PayloadError{Reason: "not a JSON object (got " + kind + ")"}
	}
	var job, id, attempts, maxTries, timeout, timeoutAt []byte
	p := &Payload{Attempts: int(d.startAttempts())}
	for m := phpjson.NewMembers(raw); ; {
		key, value, ok := m.Next()
		if !ok {
			break
		}
		switch string(key) { // compiled without a copy
		case "job":
			job = value
		case "data":
			p.Data = value
		case "id":
			id = value
		case "attempts":
			attempts = value
		case "maxTries":
			maxTries = value
		case "timeout":
			timeout = value
		case "timeoutAt":
			timeoutAt = value
		}
	}
	var err error
	if p.Job, err = jobField(job); err != nil {
		return nil, err
	}
	p.ID = idField(id)
	if n, ok, err := intField("attempts", attempts); err != nil {
		return nil, err
	} else if ok {
		p.Attempts, p.HasAttempts = int(n), true
	}
	if !d.isV3() {
		return p, nil
	}
	if p.MaxTries, err = optionalInt("maxTries", maxTries); err != nil {
		return nil, err
	}
	if p.Timeout, err = optionalInt("timeout", timeout); err != nil {
		return nil, err
	}
	if n, ok, err := intField("timeoutAt", timeoutAt); err != nil {
		return nil, err
	} else if ok {
		p.TimeoutAt = &n
	}
	return p, nil
}

func jobField(raw []byte) (string, error) {
	if raw == nil {
		return "", &PayloadError{Reason: `no "job" field`}
	}
	if raw[0] != '"' {
		return "", &PayloadError{Reason: `"job" is not a string`}
	}
	job := phpjson.Unquote(raw)
	if job == "" {
		return "", &PayloadError{Reason: `"job" is empty`}
	}
	return job, nil
}

// idField reads "id"; PHP never checks its type, so any JSON value is kept as text.
func idField(raw []byte) string {
	switch {
	case raw == nil || string(raw) == "null":
		return ""
	case raw[0] == '"':
		return phpjson.Unquote(raw)
	}
	return string(raw)
}

// intField reads an integer field (see phpjson.Int); ok is false when it is missing or null.
func intField(key string, raw []byte) (n int64, ok bool, err error) {
	n, ok = phpjson.Int(raw)
	if !ok && raw != nil && string(raw) != "null" {
		return 0, false, &PayloadError{Reason: fmt.Sprintf("%q is not an integer: %.40s", key, raw)}
	}
	return n, ok, nil
}

func optionalInt(key string, raw []byte) (*int, error) {
	n, ok, err := intField(key, raw)
	if !ok {
		return nil, err
	}
	v := int(n)
	return &v, nil
}
