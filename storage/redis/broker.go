package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// QueueKeyer names the keys of one queue. Every dialect has it; what else the dialect has decides which
// family of scripts the broker runs (see [New]).
type QueueKeyer interface {
	// QueueKeys returns the list, delayed-set and reserved-set keys of a queue, e.g. "queues:x",
	// "queues:x:delayed", "queues:x:reserved" (think-queue v1/v2), "{queues:x}", "{queues:x}:delayed",
	// "{queues:x}:reserved" (v3.0.5+) or "laravel_database_queues:x", … (Laravel, with the connection prefix).
	QueueKeys(queue string) (list, delayed, reserved string)
	// QueuePattern returns a SCAN MATCH pattern every key QueueKeys names matches, e.g. "queues:*".
	QueuePattern() string
	// QueueOf returns the queue whose list, delayed-set or reserved-set key is key, and false for a key
	// the dialect never names (Laravel's notify list among them).
	QueueOf(key string) (queue string, ok bool)
}

// Dialect is what the broker needs to know about think-queue's Redis format. It does no I/O;
// compat/thinkqueue's Dialect satisfies it.
type Dialect interface {
	QueueKeyer
	// ReservedCopy returns the bytes held in the reserved set while the job runs: raw itself (v1), or PHP's
	// re-encode with attempts+1 (v3). An error (the payload is not JSON) keeps raw there.
	ReservedCopy(raw []byte) ([]byte, error)
	// ExpiredCopy returns what an expired reservation goes back to the list as: a re-encode with attempts+1
	// (v1), or member unchanged (v3). Consulted only when RewritesExpired is true.
	ExpiredCopy(member []byte) ([]byte, error)
	// RewritesExpired reports whether expired reservations must be rewritten by ExpiredCopy (v1) rather than
	// moved back unchanged (v3).
	RewritesExpired() bool
}

// LaravelDialect is what the broker needs to know about Laravel's (8–12) Redis format. It does no I/O;
// compat/laravel's dialect satisfies it. A dialect with NotifyKey makes the broker run Laravel's scripts:
// pushes and migrations add a token to the notify list, and Redis's own cjson makes the reserved copy.
type LaravelDialect interface {
	QueueKeyer
	// NotifyKey returns the queue's notify list, e.g. "laravel_database_queues:x:notify": one "1" per job
	// made ready, one taken per job reserved, for workers that block on it (Laravel's block_for).
	NotifyKey(queue string) string
}

// Config is the broker's optional configuration. The zero value (or nil) gives every default.
type Config struct {
	// Expire is how long a reservation lasts before another worker may recover the job: think-queue's
	// `expire` (v1/v2) or `retry_after` (v3), Laravel's connection `retry_after` (90 in the app skeletons).
	// It must be whole seconds, because PHP scores reservations in Unix seconds. Defaults to 60 seconds (also
	// Laravel's default when retry_after is absent). The special value -1 disables recovery, as think-queue
	// v1's `expire => null` and Laravel's `retry_after => null` do: jobs are reserved with score "now" and
	// never return from the reserved set, while delayed jobs still become due.
	Expire time.Duration
	// NowFunc returns the current time. Every "now" the broker uses comes from it and reaches the scripts as
	// an argument. Defaults to time.Now.
	NowFunc func() time.Time
	// FailedKeyPrefix names the bridge-owned failed store: the hash "{<prefix>:failed}" and the sorted set
	// "{<prefix>:failed}:index". Defaults to "queuebridge".
	FailedKeyPrefix string
	// BridgeID names this bridge's in-flight lists, where a blocking wait on a think-queue list parks the job
	// it woke on for the instant before it goes back (see [Broker.WaitReady]). It must differ between
	// bridges sharing a Redis. Defaults to a random id.
	BridgeID string
}

const (
	defaultExpire          = 60 * time.Second
	defaultFailedKeyPrefix = "queuebridge"

	// MaxReserve is the most jobs one Reserve call takes.
	MaxReserve = 1000
	// migrateLimit bounds how many due members one Reserve moves per set, so a backlog of millions drains
	// over many calls instead of blocking Redis in one script.
	migrateLimit = 1000
	// expiredBatch is how many expired members one rewrite pass (v1 dialects) reads and moves.
	expiredBatch = 100
)

// withDefaults returns a copy of cfg with every zero field set to its default; the caller's struct is never
// changed.
func (cfg *Config) withDefaults() Config {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Expire == 0 {
		c.Expire = defaultExpire
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	if c.FailedKeyPrefix == "" {
		c.FailedKeyPrefix = defaultFailedKeyPrefix
	}
	if c.BridgeID == "" {
		c.BridgeID = rand.Text()[:16]
	}
	return c
}

func (cfg *Config) validate() error {
	if cfg.Expire < -1 || (cfg.Expire > 0 && cfg.Expire%time.Second != 0) {
		return fmt.Errorf("storage/redis: Config.Expire must be -1 or a positive whole number of seconds, got %s", cfg.Expire)
	}
	return nil
}

// Broker stores think-queue or Laravel jobs in Redis exactly as the PHP library does, so PHP and Go workers
// can share a queue. It is safe for concurrent use.
type Broker struct {
	client goredis.UniversalClient
	keyer  QueueKeyer
	// Exactly one of these is set: it says which family of scripts the broker runs.
	thinkqueue Dialect
	laravel    LaravelDialect
	// cluster is true on a Redis Cluster client, where every queue's keys must share a hash slot.
	cluster bool
	// expire is the reservation lifetime in seconds, or -1 when expired reservations are never recovered.
	expire         int64
	now            func() time.Time
	failedKey      string
	failedIndexKey string
	// keyPrefix is Config.FailedKeyPrefix, which the bridge's own keys (trends) start with.
	keyPrefix string

	mu sync.Mutex
	// scannedAt maps a reserved-set key to the Unix second of its last expired-member scan, so dialects
	// that rewrite expired members (v1) cost one extra round trip per queue per second, not per Reserve.
	scannedAt map[string]int64
	// beatAt and sweptAt map a queue's list key to the Unix second this bridge last announced itself in the
	// queue's bridge registry, and last looked there for dead bridges (see WaitReady).
	beatAt, sweptAt map[string]int64
	// heads maps a reserved-set key of a dialect that holds copies (v3) to the copies made of the jobs
	// its last reserve saw at the head of the list, for the next reserve (see reserveCopies).
	heads map[string]headCopies
	// waits maps a queue to its blocking wait in progress (see WaitReady).
	waits map[string]*pendingWait

	id string // Config.BridgeID
}

// New returns a broker on client speaking dialect. client may be a standalone, Sentinel (failover) or
// Cluster client; the broker never closes it. cfg may be nil.
//
// The dialect's methods choose the scripts: a [LaravelDialect] (it has NotifyKey) gets Laravel's, a [Dialect]
// think-queue's; any other [QueueKeyer] is an error.
func New(client goredis.UniversalClient, dialect QueueKeyer, cfg *Config) (*Broker, error) {
	if client == nil {
		return nil, errors.New("storage/redis: client is nil")
	}
	if dialect == nil {
		return nil, errors.New("storage/redis: dialect is nil")
	}
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	b := &Broker{client: client, keyer: dialect}
	switch d := dialect.(type) {
	case LaravelDialect:
		b.laravel = d
	case Dialect:
		b.thinkqueue = d
	default:
		return nil, fmt.Errorf("storage/redis: dialect %T has QueueKeys but is neither a Dialect (think-queue) nor a LaravelDialect (NotifyKey)", dialect)
	}
	if _, ok := client.(*goredis.ClusterClient); ok {
		b.cluster = true
		// think-queue's key scheme fixes the slots for every queue, so it is checked once here. Laravel's
		// keys share a slot only when the queue name carries a hash tag ("{default}"): checked per queue.
		if b.thinkqueue != nil {
			if _, err := b.keys("default"); err != nil {
				return nil, fmt.Errorf("storage/redis: %w; use a hash-tag key scheme (think-queue >= 3.0.5)", err)
			}
		}
	}
	expire := int64(c.Expire / time.Second)
	if c.Expire == -1 {
		expire = -1
	}
	base := "{" + c.FailedKeyPrefix + ":failed}"
	b.expire = expire
	b.now = c.NowFunc
	b.failedKey = base
	b.failedIndexKey = base + ":index"
	b.keyPrefix = c.FailedKeyPrefix
	b.scannedAt = make(map[string]int64)
	b.heads = make(map[string]headCopies)
	b.beatAt = make(map[string]int64)
	b.sweptAt = make(map[string]int64)
	b.waits = make(map[string]*pendingWait)
	b.id = c.BridgeID
	return b, nil
}

// queueKeys are one queue's keys. notify is "" for think-queue, which has no notify list.
type queueKeys struct {
	list, delayed, reserved, notify string
}

// keys returns the queue's keys. On Cluster it fails unless they all lie in one hash slot, so no script
// ever gets CROSSSLOT: a Laravel queue needs a hash tag in its name there, e.g. "{default}".
func (b *Broker) keys(queue string) (queueKeys, error) {
	var k queueKeys
	k.list, k.delayed, k.reserved = b.keyer.QueueKeys(queue)
	if b.laravel != nil {
		k.notify = b.laravel.NotifyKey(queue)
	}
	if b.cluster {
		tag := hashTag(k.list)
		if hashTag(k.delayed) != tag || hashTag(k.reserved) != tag || (k.notify != "" && hashTag(k.notify) != tag) {
			if b.laravel != nil {
				return k, fmt.Errorf("queue %q: keys %q, %q, %q, %q lie in different Cluster hash slots; put a hash tag in the queue name, e.g. \"{%s}\"",
					queue, k.list, k.delayed, k.reserved, k.notify, queue)
			}
			return k, fmt.Errorf("dialect keys %q, %q, %q lie in different Cluster hash slots", k.list, k.delayed, k.reserved)
		}
	}
	return k, nil
}

// all returns the queue's keys for a script: list, delayed, reserved, and notify when the dialect has one.
func (k queueKeys) all() []string {
	if k.notify == "" {
		return []string{k.list, k.delayed, k.reserved}
	}
	return []string{k.list, k.delayed, k.reserved, k.notify}
}

// hashTag returns the part of key that Redis Cluster hashes: the text inside the first "{...}" when that is
// non-empty, else the whole key.
func hashTag(key string) string {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			return key[open+1 : open+1+end]
		}
	}
	return key
}

// Push appends payload to the queue's list: think-queue's push (RPUSH), or Laravel's push script (RPUSH the
// payload, RPUSH "1" to the notify list, in one step).
func (b *Broker) Push(ctx context.Context, queue string, payload []byte) error {
	k, err := b.keys(queue)
	if err != nil {
		return fmt.Errorf("push %s: %w", queue, err)
	}
	if k.notify != "" {
		err = laravelPushScript.Run(ctx, b.client, []string{k.list, k.notify}, payload).Err()
		if errors.Is(err, goredis.Nil) {
			err = nil // the script returns nothing, as Laravel's does
		}
	} else {
		err = b.client.RPush(ctx, k.list, payload).Err()
	}
	if err != nil {
		return fmt.Errorf("push %s: %w", queue, err)
	}
	return nil
}

// Later schedules payload to become ready at at, as think-queue's and Laravel's later do (ZADD delayed
// <unix secs>; no notify token: the migration that makes the job ready adds it).
func (b *Broker) Later(ctx context.Context, queue string, payload []byte, at time.Time) error {
	k, err := b.keys(queue)
	if err != nil {
		return fmt.Errorf("later %s: %w", queue, err)
	}
	if err := b.client.ZAdd(ctx, k.delayed, goredis.Z{Score: float64(at.Unix()), Member: payload}).Err(); err != nil {
		return fmt.Errorf("later %s: %w", queue, err)
	}
	return nil
}

// Clear deletes every ready, delayed and reserved job of the queue (and Laravel's notify list, as its clear
// does) and returns how many jobs there were.
func (b *Broker) Clear(ctx context.Context, queue string) (int, error) {
	k, err := b.keys(queue)
	if err != nil {
		return 0, fmt.Errorf("clear %s: %w", queue, err)
	}
	n, err := clearScript.Run(ctx, b.client, k.all()).Int()
	if err != nil {
		return 0, fmt.Errorf("clear %s: %w", queue, err)
	}
	return n, nil
}

// RestartStamp returns the value under key (think-queue's "think:queue:restart" in a Redis cache store), or
// "" when there is none.
func (b *Broker) RestartStamp(ctx context.Context, key string) (string, error) {
	stamp, err := b.client.Get(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read restart stamp %s: %w", key, err)
	}
	return stamp, nil
}

// SignalRestart sets key to stamp with no TTL, as think-queue's queue:restart does in a Redis cache store.
func (b *Broker) SignalRestart(ctx context.Context, key, stamp string) error {
	if err := b.client.Set(ctx, key, stamp, 0).Err(); err != nil {
		return fmt.Errorf("signal restart %s: %w", key, err)
	}
	return nil
}
