package laravel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// Payload is what a consumer needs from a stored job payload, with the fallbacks of Laravel's Job class
// applied. The stored bytes stay the reference for Redis (ZREM and release match on them), so a Payload is
// never re-encoded.
type Payload struct {
	// UUID is "uuid": the failed_jobs key and the job-exceptions:{uuid} counter's name; "" when missing.
	UUID string
	// DisplayName is "displayName", which JobName::resolve shows in logs and exception messages.
	DisplayName string
	// Job is "job": CallQueuedHandlerJob for class-based jobs, else "Class@method" (method "fire" when
	// there is no "@").
	Job string
	// MaxTries, MaxExceptions and Timeout are the job's limits; nil when missing or null.
	MaxTries, MaxExceptions, Timeout *int
	// FailOnTimeout is "failOnTimeout" read as PHP reads it for truth.
	FailOnTimeout bool
	// Backoff is Job::backoff(): "backoff" ("10,30"), else the "delay" key (12.x writes the later() delay
	// there; older payloads used it for the backoff) as its decimal text; nil when both are null.
	Backoff *string
	// RetryUntil is Job::retryUntil() in Unix seconds: "retryUntil", and on 8.x the legacy "timeoutAt"
	// when that is null; nil when unset.
	RetryUntil *int64
	// Data is the raw JSON of "data" as stored, a subslice of the parsed bytes; nil when missing.
	Data json.RawMessage
	// CommandName and Command are data.commandName and data.command when data is an object holding them
	// as strings: the class name and the serialize()d (or encrypted) job.
	CommandName, Command string
	// ID is the Redis "id" (a non-string id is kept as its JSON text); "" when missing or null.
	ID string
	// Attempts is the stored "attempts", 0 when missing or null: the count before this reservation. Use
	// Dialect.Attempts for what Job::attempts() reports on Redis.
	Attempts int
	// HasAttempts reports whether "attempts" was present and not null (Redis payloads).
	HasAttempts bool
	// CreatedAt is 12.x's "createdAt" (push time, Unix seconds); nil when missing or null.
	CreatedAt *int64
	// Delay is 12.x's "delay" (the later() delay in seconds); nil when missing or null.
	Delay *int

	hasCommand bool
}

// Name is the routing name of the job: data.commandName for a class-based job (CallQueuedHandlerJob),
// else Job.
func (p *Payload) Name() string {
	if p.Job == CallQueuedHandlerJob && p.CommandName != "" {
		return p.CommandName
	}
	return p.Job
}

// ResolveName is JobName::resolve: DisplayName when not empty, else Job. Logs and
// MaxAttemptsExceededException messages show it.
func (p *Payload) ResolveName() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Job
}

// Encrypted reports whether data.command is present and does not start with "O:": CallQueuedHandler then
// decrypts it with the application's Encrypter (a ShouldBeEncrypted job) before unserializing.
func (p *Payload) Encrypted() bool {
	return p.hasCommand && !strings.HasPrefix(p.Command, "O:")
}

// Chained reports whether the command carries jobs to run after it (Bus::chain): a non-empty `chained`
// property, which Laravel's CallQueuedHandler dispatches when the job succeeds.
func (p *Payload) Chained() bool {
	const prop = `s:7:"chained";a:`
	i := strings.Index(p.Command, prop)
	return i >= 0 && !strings.HasPrefix(p.Command[i+len(prop):], "0:")
}

// Batched reports whether the job belongs to a batch (Bus::batch, the Batchable trait): 12.x writes
// data.batchId, and every version serializes the trait's batchId property as a string once it is set.
// Laravel's CallQueuedHandler keeps the job_batches row's counters, so only PHP can finish such a job.
func (p *Payload) Batched() bool {
	return p.hasCommand && (strings.Contains(p.Command, `s:7:"batchId";s:`) || bytes.Contains(p.Data, []byte(`"batchId":"`)))
}

// PayloadError reports a payload that cannot be a Laravel job.
type PayloadError struct {
	// Reason says what is wrong, e.g. `no "job" field`.
	Reason string
}

// Error returns the reason prefixed with "laravel: invalid payload: ".
func (e *PayloadError) Error() string { return "laravel: invalid payload: " + e.Reason }

// Is makes errors.Is(err, &PayloadError{}) match any PayloadError, and one with a Reason match that
// reason only.
func (e *PayloadError) Is(target error) bool {
	t, ok := target.(*PayloadError)
	return ok && (t.Reason == "" || t.Reason == e.Reason)
}

// Parse decodes what a consumer needs from a stored payload (Redis list element, reserved copy or database
// payload column), tolerantly: missing keys are fine, extra keys are ignored and, as in PHP, the last of
// duplicate keys wins. It fails with a *PayloadError when raw is not a UTF-8 JSON object with a non-empty
// string "job", or when an integer field (attempts, maxTries, maxExceptions, timeout, retryUntil,
// timeoutAt, createdAt, delay) holds something other than null or an integer. Payload.Data is a subslice
// of raw.
func (d Dialect) Parse(raw []byte) (*Payload, error) {
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
	var f struct {
		uuid, displayName, job, maxTries, maxExceptions, failOnTimeout, backoff, timeout, retryUntil, timeoutAt,
		id, attempts, createdAt, delay []byte
	}
	p := &Payload{}
	for m := phpjson.NewMembers(raw); ; {
		key, value, ok := m.Next()
		if !ok {
			break
		}
		switch string(key) { // compiled without a copy
		case "uuid":
			f.uuid = value
		case "displayName":
			f.displayName = value
		case "job":
			f.job = value
		case "maxTries":
			f.maxTries = value
		case "maxExceptions":
			f.maxExceptions = value
		case "failOnTimeout":
			f.failOnTimeout = value
		case "backoff":
			f.backoff = value
		case "timeout":
			f.timeout = value
		case "retryUntil":
			f.retryUntil = value
		case "timeoutAt":
			f.timeoutAt = value
		case "data":
			p.Data = value
		case "id":
			f.id = value
		case "attempts":
			f.attempts = value
		case "createdAt":
			f.createdAt = value
		case "delay":
			f.delay = value
		}
	}
	if f.job == nil {
		return nil, &PayloadError{Reason: `no "job" field`}
	}
	if f.job[0] != '"' {
		return nil, &PayloadError{Reason: `"job" is not a string`}
	}
	if p.Job = phpjson.Unquote(f.job); p.Job == "" {
		return nil, &PayloadError{Reason: `"job" is empty`}
	}
	p.UUID = text(f.uuid)
	p.DisplayName = text(f.displayName)
	p.ID = text(f.id)
	p.FailOnTimeout = truthy(f.failOnTimeout)
	var err error
	for _, field := range []struct {
		name string
		raw  []byte
		dst  **int
	}{{"maxTries", f.maxTries, &p.MaxTries}, {"maxExceptions", f.maxExceptions, &p.MaxExceptions},
		{"timeout", f.timeout, &p.Timeout}, {"delay", f.delay, &p.Delay}} {
		if *field.dst, err = optionalInt(field.name, field.raw); err != nil {
			return nil, err
		}
	}
	if n, ok, err := intField("attempts", f.attempts); err != nil {
		return nil, err
	} else if ok {
		p.Attempts, p.HasAttempts = int(n), true
	}
	if p.CreatedAt, err = optionalInt64("createdAt", f.createdAt); err != nil {
		return nil, err
	}
	if p.RetryUntil, err = optionalInt64("retryUntil", f.retryUntil); err != nil {
		return nil, err
	}
	if p.RetryUntil == nil && d.timeoutAtFallback() {
		if p.RetryUntil, err = optionalInt64("timeoutAt", f.timeoutAt); err != nil {
			return nil, err
		}
	}
	if p.Backoff, err = backoffField(f.backoff, f.delay); err != nil {
		return nil, err
	}
	if p.Data != nil && p.Data[0] == '{' {
		for m := phpjson.NewMembers(p.Data); ; {
			key, value, ok := m.Next()
			if !ok {
				break
			}
			switch string(key) {
			case "commandName":
				if value[0] == '"' {
					p.CommandName = phpjson.Unquote(value)
				}
			case "command":
				if value[0] == '"' {
					p.Command, p.hasCommand = phpjson.Unquote(value), true
				}
			}
		}
	}
	return p, nil
}

// text reads a string field; another JSON value is kept as its text, and null or a missing key is "".
func text(raw []byte) string {
	switch {
	case raw == nil || string(raw) == "null":
		return ""
	case raw[0] == '"':
		return phpjson.Unquote(raw)
	}
	return string(raw)
}

// truthy is PHP's boolean reading of a decoded JSON value: false, null, 0, 0.0, "", "0" and empty
// arrays or objects are false.
func truthy(raw []byte) bool {
	if raw == nil {
		return false
	}
	switch raw[0] {
	case 'f', 'n':
		return false
	case 't':
		return true
	case '"':
		s := phpjson.Unquote(raw)
		return s != "" && s != "0"
	case '[', '{':
		inner := bytes.TrimLeft(raw[1:], " \t\n\r")
		return inner[0] != ']' && inner[0] != '}'
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return err != nil || f != 0
}

// backoffField is Job::backoff(): backoff ?? delay, as the text explode(',', …) splits.
func backoffField(backoff, delay []byte) (*string, error) {
	// delay was checked to be an integer already; a foreign backoff may be any scalar.
	for _, raw := range [][]byte{backoff, delay} {
		if raw == nil || string(raw) == "null" {
			continue
		}
		var s string
		switch raw[0] {
		case '"':
			s = phpjson.Unquote(raw)
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			s = string(raw) // a fraction is cut off by the (int) cast later, as in PHP
			if n, _, err := intField("backoff", raw); err == nil {
				s = strconv.FormatInt(n, 10)
			}
		case 't':
			s = "1" // (string) true
		case 'f':
			s = "" // (string) false
		default:
			return nil, &PayloadError{Reason: fmt.Sprintf(`"backoff" is not a string or integer: %.40s`, raw)}
		}
		return &s, nil
	}
	return nil, nil
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

func optionalInt64(key string, raw []byte) (*int64, error) {
	n, ok, err := intField(key, raw)
	if !ok {
		return nil, err
	}
	return &n, nil
}
