package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Dialect is what the broker needs to know about a PHP library's Redis format. It does no I/O;
// compat/thinkqueue's Dialect satisfies it.
type Dialect interface {
	// QueueKeys returns the list, delayed-set and reserved-set keys of a queue, e.g. "queues:x",
	// "queues:x:delayed", "queues:x:reserved" (think-queue v1/v2) or "{queues:x}", "{queues:x}:delayed",
	// "{queues:x}:reserved" (v3.0.5+).
	QueueKeys(queue string) (list, delayed, reserved string)
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

// Config is the broker's optional configuration. The zero value (or nil) gives every default.
type Config struct {
	// Expire is how long a reservation lasts before another worker may recover the job: think-queue's
	// `expire` (v1/v2) or `retry_after` (v3). It must be whole seconds, because PHP scores reservations in
	// Unix seconds. Defaults to 60 seconds. The special value -1 disables recovery, as think-queue v1's
	// `expire => null` does: jobs are reserved with score "now" and never return from the reserved set,
	// while delayed jobs still become due.
	Expire time.Duration
	// NowFunc returns the current time. Every "now" the broker uses comes from it and reaches the scripts as
	// an argument. Defaults to time.Now.
	NowFunc func() time.Time
	// FailedKeyPrefix names the bridge-owned failed store: the hash "{<prefix>:failed}" and the sorted set
	// "{<prefix>:failed}:index". Defaults to "queuebridge".
	FailedKeyPrefix string
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
	return c
}

func (cfg *Config) validate() error {
	if cfg.Expire < -1 || (cfg.Expire > 0 && cfg.Expire%time.Second != 0) {
		return fmt.Errorf("storage/redis: Config.Expire must be -1 or a positive whole number of seconds, got %s", cfg.Expire)
	}
	return nil
}

// Broker stores think-queue jobs in Redis exactly as the PHP library does, so PHP and Go workers can share
// a queue. It is safe for concurrent use.
type Broker struct {
	client  goredis.UniversalClient
	dialect Dialect
	// expire is the reservation lifetime in seconds, or -1 when expired reservations are never recovered.
	expire         int64
	now            func() time.Time
	failedKey      string
	failedIndexKey string

	mu sync.Mutex
	// scannedAt maps a reserved-set key to the Unix second of its last expired-member scan, so dialects
	// that rewrite expired members (v1) cost one extra round trip per queue per second, not per Reserve.
	scannedAt map[string]int64
}

// New returns a broker on client speaking dialect. client may be a standalone, Sentinel (failover) or
// Cluster client; the broker never closes it. cfg may be nil.
func New(client goredis.UniversalClient, dialect Dialect, cfg *Config) (*Broker, error) {
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
	if _, ok := client.(*goredis.ClusterClient); ok {
		// Every script takes all of a queue's keys, so on Cluster they must share a hash slot.
		list, delayed, reserved := dialect.QueueKeys("default")
		if hashTag(list) != hashTag(delayed) || hashTag(list) != hashTag(reserved) {
			return nil, fmt.Errorf("storage/redis: dialect keys %q, %q, %q lie in different Cluster hash slots; use a hash-tag key scheme (think-queue >= 3.0.5)", list, delayed, reserved)
		}
	}
	expire := int64(c.Expire / time.Second)
	if c.Expire == -1 {
		expire = -1
	}
	base := "{" + c.FailedKeyPrefix + ":failed}"
	return &Broker{
		client:         client,
		dialect:        dialect,
		expire:         expire,
		now:            c.NowFunc,
		failedKey:      base,
		failedIndexKey: base + ":index",
		scannedAt:      make(map[string]int64),
	}, nil
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

// Push appends payload to the queue's list, as think-queue's push does (RPUSH).
func (b *Broker) Push(ctx context.Context, queue string, payload []byte) error {
	list, _, _ := b.dialect.QueueKeys(queue)
	if err := b.client.RPush(ctx, list, payload).Err(); err != nil {
		return fmt.Errorf("push %s: %w", queue, err)
	}
	return nil
}

// Later schedules payload to become ready at at, as think-queue's later does (ZADD delayed <unix secs>).
func (b *Broker) Later(ctx context.Context, queue string, payload []byte, at time.Time) error {
	_, delayed, _ := b.dialect.QueueKeys(queue)
	if err := b.client.ZAdd(ctx, delayed, goredis.Z{Score: float64(at.Unix()), Member: payload}).Err(); err != nil {
		return fmt.Errorf("later %s: %w", queue, err)
	}
	return nil
}

// Sizes counts a queue's jobs by state. think-queue v3's size() is their sum.
type Sizes struct {
	Ready    int64 // in the list
	Delayed  int64 // in the delayed set, due or not
	Reserved int64 // in the reserved set, expired or not
}

// Size counts the queue's jobs (LLEN, ZCARD, ZCARD in one round trip).
func (b *Broker) Size(ctx context.Context, queue string) (Sizes, error) {
	list, delayed, reserved := b.dialect.QueueKeys(queue)
	pipe := b.client.Pipeline()
	ready := pipe.LLen(ctx, list)
	late := pipe.ZCard(ctx, delayed)
	held := pipe.ZCard(ctx, reserved)
	if _, err := pipe.Exec(ctx); err != nil {
		return Sizes{}, fmt.Errorf("size %s: %w", queue, err)
	}
	return Sizes{Ready: ready.Val(), Delayed: late.Val(), Reserved: held.Val()}, nil
}

// Peek returns up to n ready payloads from the head of the list without reserving them.
func (b *Broker) Peek(ctx context.Context, queue string, n int) ([][]byte, error) {
	if n < 1 {
		return nil, fmt.Errorf("peek %s: n must be at least 1, got %d", queue, n)
	}
	list, _, _ := b.dialect.QueueKeys(queue)
	items, err := b.client.LRange(ctx, list, 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("peek %s: %w", queue, err)
	}
	out := make([][]byte, len(items))
	for i, s := range items {
		out[i] = []byte(s)
	}
	return out, nil
}

// Clear deletes every ready, delayed and reserved job of the queue and returns how many there were.
func (b *Broker) Clear(ctx context.Context, queue string) (int, error) {
	list, delayed, reserved := b.dialect.QueueKeys(queue)
	n, err := clearScript.Run(ctx, b.client, []string{list, delayed, reserved}).Int()
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
