package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// testDialect is a stand-in for compat/thinkqueue's dialects: payloads are {"job","data","id","attempts"}
// and "bumping" re-encodes them with attempts+1 through encoding/json.
type testDialect struct {
	hashTags bool // keys "{queues:q}..." (v3) instead of "queues:q..." (v1)
	copies   bool // the reserved copy has attempts+1 (v3)
	rewrite  bool // expired reservations return with attempts+1 (v1)
}

var (
	v1Like = testDialect{rewrite: true}
	v3Like = testDialect{hashTags: true, copies: true}
)

func (d testDialect) QueueKeys(queue string) (string, string, string) {
	list := "queues:" + queue
	if d.hashTags {
		list = "{" + list + "}"
	}
	return list, list + ":delayed", list + ":reserved"
}

// QueuePattern and QueueOf are compat/thinkqueue's for the same key scheme.
func (d testDialect) QueuePattern() string              { return d.scheme().QueuePattern() }
func (d testDialect) QueueOf(key string) (string, bool) { return d.scheme().QueueOf(key) }

func (d testDialect) scheme() thinkqueue.Dialect {
	if d.hashTags {
		return thinkqueue.Dialect{Version: thinkqueue.V3, Keys: thinkqueue.KeysHashTag}
	}
	return thinkqueue.Dialect{Version: thinkqueue.V3, Keys: thinkqueue.KeysPlain}
}

func (d testDialect) ReservedCopy(raw []byte) ([]byte, error) {
	if !d.copies {
		return raw, nil
	}
	return bump(raw)
}

func (d testDialect) ExpiredCopy(member []byte) ([]byte, error) {
	if !d.rewrite {
		return member, nil
	}
	return bump(member)
}

func (d testDialect) RewritesExpired() bool { return d.rewrite }

type testPayload struct {
	Job      string          `json:"job"`
	Data     json.RawMessage `json:"data"`
	ID       string          `json:"id"`
	Attempts int             `json:"attempts"`
}

func bump(raw []byte) ([]byte, error) {
	var p testPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	p.Attempts++
	return json.Marshal(p)
}

// job returns a compact payload as the test dialect encodes it.
func job(id string, attempts int) string {
	return fmt.Sprintf(`{"job":"app\\job\\Probe","data":{"k":"v"},"id":%q,"attempts":%d}`, id, attempts)
}

// stubClock is the injected clock: whole seconds, moved only by the test.
type stubClock struct{ sec atomic.Int64 }

const testEpoch = 1_700_000_000

func newStubClock() *stubClock {
	c := &stubClock{}
	c.sec.Store(testEpoch)
	return c
}

func (c *stubClock) Now() time.Time          { return time.Unix(c.sec.Load(), 0) }
func (c *stubClock) Advance(d time.Duration) { c.sec.Add(int64(d / time.Second)) }
func (c *stubClock) Set(sec int64)           { c.sec.Store(sec) }

func testClient(t testing.TB) *goredis.Client {
	t.Helper()
	addr := redisAddr()
	db := 2
	if s := os.Getenv("QB_REDIS_DB"); s != "" {
		var err error
		db, err = strconv.Atoi(s)
		require.NoError(t, err, "QB_REDIS_DB")
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Ping(context.Background()).Err(), "Redis at %s (set QB_REDIS_ADDR)", addr)
	return client
}

// redisAddr is the test server: QB_REDIS_ADDR, by default 127.0.0.1:6379.
func redisAddr() string {
	if addr := os.Getenv("QB_REDIS_ADDR"); addr != "" {
		return addr
	}
	return "127.0.0.1:6379"
}

// uniqueName gives each test its own queue and failed-store prefix, so tests run in parallel on one server.
func uniqueName(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "qbtest." + strings.ReplaceAll(t.Name(), "/", ".") + "." + hex.EncodeToString(b[:])
}

type testBundle struct {
	client  *goredis.Client
	clock   *stubClock
	broker  *Broker
	queue   string
	list    string
	delayed string
	held    string // the reserved set
	notify  string // Laravel's notify list; "" for think-queue
	// cleanup holds every key the test may touch; they are deleted, and nothing else, when it ends.
	cleanup []string
}

// setup returns a broker on a fresh queue with a stub clock; every key the test may touch is deleted when
// it ends. cfg may be nil; its NowFunc and FailedKeyPrefix are replaced.
func setup(t testing.TB, d QueueKeyer, cfg *Config) *testBundle {
	t.Helper()
	name := uniqueName(t)
	return newBundle(t, d, name, name, cfg)
}

// testLaravel is a stand-in for compat/laravel's dialect: Laravel's keys under a connection prefix.
type testLaravel struct{ prefix string }

func (d testLaravel) QueueKeys(queue string) (string, string, string) {
	list := d.prefix + "queues:" + queue
	return list, list + ":delayed", list + ":reserved"
}

func (d testLaravel) NotifyKey(queue string) string { return d.prefix + "queues:" + queue + ":notify" }

// QueuePattern and QueueOf are compat/laravel's for the same prefix.
func (d testLaravel) QueuePattern() string { return laravel.Dialect{Prefix: d.prefix}.QueuePattern() }
func (d testLaravel) QueueOf(key string) (string, bool) {
	return laravel.Dialect{Prefix: d.prefix}.QueueOf(key)
}

// fixturePrefix is the connection prefix the Laravel fixtures were captured with.
const fixturePrefix = "laravel_database_"

// setupLaravel returns a broker with a Laravel dialect whose connection prefix is unique to the test, on
// queue "default", as the fixtures name it. Other queues' keys are cleaned up once passed to tb.keysOf.
func setupLaravel(t testing.TB, cfg *Config) *testBundle {
	t.Helper()
	name := uniqueName(t)
	return newBundle(t, testLaravel{prefix: name + "_" + fixturePrefix}, "default", name, cfg)
}

func newBundle(t testing.TB, d QueueKeyer, queue, failedPrefix string, cfg *Config) *testBundle {
	t.Helper()
	client := testClient(t)
	clock := newStubClock()
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	c.NowFunc = clock.Now
	c.FailedKeyPrefix = failedPrefix
	broker, err := New(client, d, &c)
	require.NoError(t, err)
	tb := &testBundle{client: client, clock: clock, broker: broker, queue: queue,
		cleanup: []string{broker.failedKey, broker.failedIndexKey}}
	k := tb.keysOf(t, queue)
	tb.list, tb.delayed, tb.held, tb.notify = k.list, k.delayed, k.reserved, k.notify
	t.Cleanup(func() {
		client.Del(context.Background(), tb.cleanup...)
	})
	return tb
}

// keysOf returns a queue's keys and has them deleted when the test ends.
func (tb *testBundle) keysOf(t testing.TB, queue string) queueKeys {
	t.Helper()
	k, err := tb.broker.keys(queue)
	require.NoError(t, err)
	tb.cleanup = append(tb.cleanup, k.all()...)
	return k
}

// state reads the queue's three keys, and its notify list when it has one (or the given keys): a list as its items, a sorted set as
// "member @+<score-now>". Keys that do not exist are left out, so an empty map means nothing is stored.
func (tb *testBundle) state(t testing.TB, keys ...string) map[string][]string {
	t.Helper()
	if len(keys) == 0 {
		keys = []string{tb.list, tb.delayed, tb.held}
		if tb.notify != "" {
			keys = append(keys, tb.notify)
		}
	}
	ctx := context.Background()
	now := tb.clock.Now().Unix()
	out := map[string][]string{}
	for _, key := range keys {
		typ, err := tb.client.Type(ctx, key).Result()
		require.NoError(t, err)
		switch typ {
		case "none":
		case "list":
			items, err := tb.client.LRange(ctx, key, 0, -1).Result()
			require.NoError(t, err)
			out[key] = items
		case "zset":
			zs, err := tb.client.ZRangeWithScores(ctx, key, 0, -1).Result()
			require.NoError(t, err)
			items := make([]string, len(zs))
			for i, z := range zs {
				items[i] = zentry(z.Member.(string), int64(z.Score)-now)
			}
			out[key] = items
		default:
			t.Fatalf("key %s has unexpected type %s", key, typ)
		}
	}
	return out
}

// zentry formats a sorted-set member with its score relative to now, as state reports it.
func zentry(member string, rel int64) string { return fmt.Sprintf("%s @%+d", member, rel) }

func (tb *testBundle) seedList(t testing.TB, items ...string) {
	t.Helper()
	args := make([]any, len(items))
	for i, s := range items {
		args[i] = s
	}
	require.NoError(t, tb.client.RPush(context.Background(), tb.list, args...).Err())
}

// seedZSet adds member at now+rel to key.
func (tb *testBundle) seedZSet(t testing.TB, key string, rel int64, members ...string) {
	t.Helper()
	zs := make([]goredis.Z, len(members))
	for i, m := range members {
		zs[i] = goredis.Z{Score: float64(tb.clock.Now().Unix() + rel), Member: m}
	}
	require.NoError(t, tb.client.ZAdd(context.Background(), key, zs...).Err())
}
