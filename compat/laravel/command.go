package laravel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// CallQueuedHandlerJob is the "job" of every class-based job (dispatch(new Cmd), Queue::push(new Cmd)):
// data.commandName names the class and data.command holds the PHP-serialize()d object.
const CallQueuedHandlerJob = `Illuminate\Queue\CallQueuedHandler@call`

// Queueable holds the properties of the Illuminate\Bus\Queueable trait. NewObjectPayload writes them in the
// order the Version declares them; DecodeCommand fills them when the Go struct embeds a Queueable.
//
// Connection, Queue, MessageGroup, ChainConnection and ChainQueue are "" for PHP's null (their default).
type Queueable struct {
	// Connection is set by onConnection().
	Connection string `php:"connection"`
	// Queue is set by onQueue() (Queue::pushOn leaves it null).
	Queue string `php:"queue"`
	// MessageGroup is set by onGroup() (12.27+; SQS FIFO message group). Ignored before 12.
	MessageGroup string `php:"messageGroup"`
	// Deduplicator is the SQS FIFO deduplicator (12.32+): nil, or a serialized-closure Object. Ignored
	// before 12.
	Deduplicator any `php:"deduplicator"`
	// Delay is set by delay(): nil, whole seconds (int), or a DateTime / DateInterval Object.
	Delay any `php:"delay"`
	// AfterCommit is set by afterCommit() / beforeCommit(); nil follows the connection's after_commit.
	AfterCommit *bool `php:"afterCommit"`
	// Middleware holds the job's middleware objects set through through(); nil and empty are both a:0:{}.
	Middleware []any `php:"middleware"`
	// Chained holds the serialize()d jobs still to run after this one; nil and empty are both a:0:{}.
	Chained []string `php:"chained"`
	// ChainConnection and ChainQueue are the chain's allOnConnection() / allOnQueue().
	ChainConnection string `php:"chainConnection"`
	ChainQueue      string `php:"chainQueue"`
	// ChainCatchCallbacks holds the chain's catch() closures: nil is null (no chain), an empty non-nil
	// slice a:0:{} (a chain without callbacks).
	ChainCatchCallbacks []any `php:"chainCatchCallbacks"`
}

// props returns the Queueable properties in d's declaration order, with Default set where the value is the
// declared default.
func (q *Queueable) props(d Dialect) []Prop {
	str := func(name, v string) Prop { return Prop{Name: name, Value: nullable(v), Default: v == ""} }
	middleware, chained := any([]any{}), any([]any{})
	if len(q.Middleware) > 0 {
		middleware = q.Middleware
	}
	if len(q.Chained) > 0 {
		chained = q.Chained
	}
	var catch any
	if q.ChainCatchCallbacks != nil {
		catch = q.ChainCatchCallbacks
	}
	var afterCommit any
	if q.AfterCommit != nil {
		afterCommit = *q.AfterCommit
	}
	head := []Prop{str("connection", q.Connection), str("queue", q.Queue)}
	if d.v12() {
		head = append(head, str("messageGroup", q.MessageGroup),
			Prop{Name: "deduplicator", Value: q.Deduplicator, Default: q.Deduplicator == nil})
	}
	mid := []Prop{
		{Name: "delay", Value: q.Delay, Default: q.Delay == nil},
		{Name: "afterCommit", Value: afterCommit, Default: afterCommit == nil},
		{Name: "middleware", Value: middleware, Default: len(q.Middleware) == 0},
		{Name: "chained", Value: chained, Default: len(q.Chained) == 0},
	}
	chain := []Prop{
		str("chainConnection", q.ChainConnection),
		str("chainQueue", q.ChainQueue),
		{Name: "chainCatchCallbacks", Value: catch, Default: catch == nil},
	}
	if d.newQueueableOrder() {
		return append(append(head, mid...), chain...)
	}
	return append(append(head, chain...), mid...)
}

// Command describes a class-based job: the PHP object to serialize() and the envelope values Laravel reads
// from the job when it builds the payload. NewObjectPayload writes exactly what it is given, so the
// description must follow the PHP class: Props in serialize() order, Queueable when the class uses the
// trait. Envelope values are not taken from Props: a class with `public $tries = 3` lists the property in
// Props (for the bytes) and sets Tries (for the payload's maxTries).
type Command struct {
	// Class is the fully qualified class name, e.g. `App\Jobs\SendReport`.
	Class string
	// DisplayName is what the class's displayName() method returns; "" means Class.
	DisplayName string
	// Props are the object's properties before those of InteractsWithQueue and Queueable, in the order
	// serialize() writes them (see Prop): a parent's and the class's own, then those of traits used before
	// InteractsWithQueue, such as Batchable's batchId. A class that orders its traits differently leaves
	// InteractsWithQueue false and Queueable nil and lists every property here.
	Props []Prop
	// InteractsWithQueue writes the trait's `job` property (always null when serialized) after Props.
	InteractsWithQueue bool
	// Queueable writes the trait's properties after `job`; nil for a class without the trait.
	Queueable *Queueable
	// SerializesModels marks a class using the trait: from Laravel 9 on, properties still equal to their
	// default (Prop.Default, and every Queueable property at its default) are left out. Models themselves
	// must already be ModelIdentifier values.
	SerializesModels bool
	// Tries, MaxExceptions and Timeout become maxTries, maxExceptions and timeout; nil is null.
	Tries, MaxExceptions, Timeout *int
	// Backoff becomes backoff, joined with commas ("10,30"); nil is null. A DateTime backoff is the
	// number of seconds until it, as Laravel computes at push time.
	Backoff []int
	// FailOnTimeout becomes failOnTimeout.
	FailOnTimeout bool
	// RetryUntil becomes retryUntil in Unix seconds; nil is null.
	RetryUntil *time.Time
	// BatchID becomes data.batchId on 12.x ("" is null): the job's Batchable batchId.
	BatchID string
	// Encrypt, when set, turns the serialized object into data.command, as Laravel's Encrypter does for
	// a ShouldBeEncrypted job (encrypt(serialize(clone $job))). It receives the serialize() string.
	Encrypt func(serialized string) (string, error)
}

// PayloadParams are the per-push values of a payload: identity, clock and driver.
type PayloadParams struct {
	// UUID is the payload uuid (Str::uuid()); "" draws one with NewUUID.
	UUID string
	// ID is the Redis job id (RedisQueue::getRandomId(), 32 alphanumerics); "" draws one with NewID when
	// Redis is set. The database driver ignores it.
	ID string
	// Now is the push time: 12.x writes it as createdAt. The zero time means time.Now().
	Now time.Time
	// Redis appends "id" and "attempts":0, as RedisQueue does; the database driver keeps both in columns.
	Redis bool
	// Later marks a push through later() (Queue::later, or a dispatch with a delay): 12.x then writes
	// Delay in whole seconds as "delay" (0 included) instead of null.
	Later bool
	// Delay is the later() delay.
	Delay time.Duration
	// Hooks are the keys Queue::createPayloadUsing callbacks add, e.g. 11.x's "illuminate:log:context".
	// Like array_merge, a new key is appended after data (and createdAt) and an existing key is replaced
	// where it stands.
	Hooks *phpjson.Map
}

// SerializeCommand returns serialize($job) for cmd as d's Laravel writes it: Props, then `job`, then the
// Queueable properties in the version's order; with SerializesModels on 9+, default values left out.
func (d Dialect) SerializeCommand(cmd Command) (string, error) {
	if cmd.Class == "" {
		return "", errors.New("laravel: serialize command: empty class name")
	}
	props := make([]Prop, 0, len(cmd.Props)+14)
	props = append(props, cmd.Props...)
	if cmd.InteractsWithQueue {
		props = append(props, Prop{Name: "job", Default: true})
	}
	if cmd.Queueable != nil {
		props = append(props, cmd.Queueable.props(d)...)
	}
	if cmd.SerializesModels && d.omitsModelDefaults() {
		kept := props[:0]
		for _, p := range props {
			if !p.Default {
				kept = append(kept, p)
			}
		}
		props = kept
	}
	w := serializer{d: d, buf: make([]byte, 0, 256)}
	if err := w.object(cmd.Class, props, 0); err != nil {
		return "", fmt.Errorf("laravel: serialize command: %w", err)
	}
	return string(w.buf), nil
}

// NewObjectPayload returns the exact payload bytes Laravel's Queue::createObjectPayload writes for cmd:
// {uuid, displayName, job: CallQueuedHandlerJob, maxTries, maxExceptions, failOnTimeout, backoff, timeout,
// retryUntil, data: {commandName, command[, batchId]}[, createdAt], hooks…[, id, attempts][, delay]}.
func (d Dialect) NewObjectPayload(cmd Command, p PayloadParams) ([]byte, error) {
	command, err := d.SerializeCommand(cmd)
	if err != nil {
		return nil, err
	}
	if cmd.Encrypt != nil {
		if command, err = cmd.Encrypt(command); err != nil {
			return nil, fmt.Errorf("laravel: encrypt command %s: %w", cmd.Class, err)
		}
	}
	displayName := cmd.DisplayName
	if displayName == "" {
		displayName = cmd.Class
	}
	var backoff any
	if cmd.Backoff != nil {
		parts := make([]string, len(cmd.Backoff))
		for i, b := range cmd.Backoff {
			parts[i] = strconv.Itoa(b)
		}
		backoff = strings.Join(parts, ",")
	}
	var retryUntil any
	if cmd.RetryUntil != nil {
		retryUntil = cmd.RetryUntil.Unix()
	}
	data := &phpjson.Map{Keys: []string{"commandName", "command"}, Values: []any{cmd.Class, command}}
	if d.v12() {
		data.Set("batchId", nullable(cmd.BatchID))
	}
	m := &phpjson.Map{
		Keys: []string{"uuid", "displayName", "job", "maxTries", "maxExceptions", "failOnTimeout", "backoff",
			"timeout", "retryUntil", "data"},
		Values: []any{p.uuid(), displayName, CallQueuedHandlerJob, intOrNil(cmd.Tries), intOrNil(cmd.MaxExceptions),
			cmd.FailOnTimeout, backoff, intOrNil(cmd.Timeout), retryUntil, data},
	}
	return d.finish(m, p, cmd.Class)
}

// NewStringPayload returns the exact payload bytes Laravel's Queue::createStringPayload writes for a
// "Class@method" job (Queue::push('App\Jobs\Legacy@handle', $data)): {uuid, displayName (the part before
// "@"), job, maxTries: null, maxExceptions: null, failOnTimeout: false, backoff: null, timeout: null, data
// [, createdAt], hooks…[, id, attempts][, delay]}, with no retryUntil. data is a phpjson value (from
// phpjson.Decode or FromGo, or nil, string, int64, float64, bool); Laravel's default is "".
func (d Dialect) NewStringPayload(job string, data any, p PayloadParams) ([]byte, error) {
	if job == "" {
		return nil, errors.New("laravel: new payload: empty job name")
	}
	displayName, _, _ := strings.Cut(job, "@")
	m := &phpjson.Map{
		Keys: []string{"uuid", "displayName", "job", "maxTries", "maxExceptions", "failOnTimeout", "backoff",
			"timeout", "data"},
		Values: []any{p.uuid(), displayName, job, nil, nil, false, nil, nil, data},
	}
	return d.finish(m, p, job)
}

// finish appends what every payload gets after data and encodes it as json_encode(…, JSON_UNESCAPED_UNICODE).
func (d Dialect) finish(m *phpjson.Map, p PayloadParams, name string) ([]byte, error) {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	if d.v12() {
		m.Set("createdAt", now.Unix())
	}
	if p.Hooks != nil {
		for i, k := range p.Hooks.Keys {
			m.Set(k, p.Hooks.Values[i])
		}
	}
	if p.Redis {
		id := p.ID
		if id == "" {
			id = NewID()
		}
		m.Set("id", id)
		m.Set("attempts", int64(0))
	}
	if d.v12() {
		var delay any
		if p.Later {
			delay = int64(p.Delay / time.Second)
		}
		m.Set("delay", delay)
	}
	b, err := phpjson.EncodeUnescapedUnicode(m)
	if err != nil {
		return nil, fmt.Errorf("laravel: new payload for %s: %w", name, err)
	}
	return b, nil
}

func (p PayloadParams) uuid() string {
	if p.UUID == "" {
		return NewUUID()
	}
	return p.UUID
}

func intOrNil(n *int) any {
	if n == nil {
		return nil
	}
	return int64(*n)
}
