package integration

// Helpers shared by the producer_, tries_, poison_, handback_ and restart_ cross-tests. Every name starts
// with tqx so they cannot collide with other files of this package.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

const (
	tqxDialectV1 = "thinkqueue-v1"
	tqxDialectV3 = "thinkqueue-v3"

	// tqxPollEvery is how often a test looks at Redis again while it waits for a condition.
	tqxPollEvery = 20 * time.Millisecond
)

// tqxPushScript is the PHP producer, relative to this package's directory (where go test runs).
var tqxPushScript = filepath.Join("testdata", "php", "tq_push.php")

// tqxFixtureRoot is /work/shared/fixtures/thinkqueue seen from /work/main/integration; QB_TQ_FIXTURES overrides.
func tqxFixtureRoot() string {
	if d := os.Getenv("QB_TQ_FIXTURES"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "fixtures", "thinkqueue")
}

// tqxFixturePath returns the path of a fixture file and fails when it is missing: fixtures are required.
func tqxFixturePath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(tqxFixtureRoot(), rel)
	_, err := os.Stat(p)
	require.NoError(t, err, "golden fixture missing: %s", p)
	return p
}

// tqxCtx is the test's overall deadline: a hang fails the test instead of blocking the run.
func tqxCtx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var tqxUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// tqxName is a name no other test (or run) uses: the test's name, a label and a random suffix.
func tqxName(t testing.TB, label string) string {
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return fmt.Sprintf("qbx-%s-%s-%s", tqxUnsafe.ReplaceAllString(t.Name(), "_"), label, hex.EncodeToString(b[:]))
}

// tqxRedis is a plain client on the integration database, for seeding and inspecting keys.
func tqxRedis(t testing.TB) *goredis.Client {
	t.Helper()
	env := Local()
	rdb := goredis.NewClient(&goredis.Options{Addr: env.RedisAddr(), DB: env.RedisDB()})
	t.Cleanup(func() { rdb.Close() })
	require.NoError(t, rdb.Ping(context.Background()).Err(), "redis at %s", env.RedisAddr())
	return rdb
}

// tqxConnection is the --connection URL of the integration database.
func tqxConnection() string {
	env := Local()
	return fmt.Sprintf("redis://%s/%d", env.RedisAddr(), env.RedisDB())
}

// tqxDeleteKeys deletes exactly keys when the test ends (never FLUSHDB: other tests share the database).
func tqxDeleteKeys(t testing.TB, rdb *goredis.Client, keys ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Logf("cleanup: DEL %v: %v", keys, err)
		}
	})
}

// tqxQueueKeys returns the list, delayed and reserved keys of queue in dialect.
func tqxQueueKeys(t testing.TB, dialect, queue string) (list, delayed, reserved string) {
	t.Helper()
	d, err := thinkqueue.ParseDialect(dialect)
	require.NoError(t, err)
	return d.QueueKeys(queue)
}

// tqxQueue names a fresh queue and registers the deletion of its three keys.
func tqxQueue(t testing.TB, rdb *goredis.Client, dialect, label string) (queue, list, delayed, reserved string) {
	t.Helper()
	queue = tqxName(t, label)
	list, delayed, reserved = tqxQueueKeys(t, dialect, queue)
	tqxDeleteKeys(t, rdb, list, delayed, reserved)
	return queue, list, delayed, reserved
}

// tqxSetup is one test's private namespace: its failed-store prefix and cache prefix, whose keys are
// deleted at the end.
type tqxSetup struct {
	FailedPrefix string
	CachePrefix  string
	Log          *slog.Logger
}

// FailedKeys are the failed store's two keys (storage/redis: "{<prefix>:failed}" and its ":index").
func (s tqxSetup) FailedKeys() []string {
	base := "{" + s.FailedPrefix + ":failed}"
	return []string{base, base + ":index"}
}

// RestartKey is where the restart signal lives for this test's cache prefix.
func (s tqxSetup) RestartKey() string { return s.CachePrefix + thinkqueue.RestartCacheKey }

func tqxNewSetup(t testing.TB, rdb *goredis.Client) tqxSetup {
	t.Helper()
	s := tqxSetup{
		FailedPrefix: tqxName(t, "failed"),
		CachePrefix:  tqxName(t, "cache") + ":",
		Log:          tqxLogger(t),
	}
	tqxDeleteKeys(t, rdb, append(s.FailedKeys(), s.RestartKey())...)
	return s
}

// Config returns a bridge config on the integration Redis with this setup's prefixes.
func (s tqxSetup) Config(dialect string, wc bridge.WorkerConfig) *bridge.Config {
	return &bridge.Config{
		Connection:      tqxConnection(),
		Dialect:         dialect,
		FailedKeyPrefix: s.FailedPrefix,
		CachePrefix:     s.CachePrefix,
		Logger:          s.Log,
		Worker:          wc,
	}
}

// Open opens a bridge and closes it when the test ends.
func (s tqxSetup) Open(t testing.TB, ctx context.Context, dialect string, wc bridge.WorkerConfig) *bridge.Bridge {
	t.Helper()
	b, err := bridge.Open(ctx, s.Config(dialect, wc))
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

// CLI runs the bridge command line in-process with this setup's connection flags; it returns the exit
// status and what went to stdout and stderr.
func (s tqxSetup) CLI(ctx context.Context, dialect string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	full := append([]string{"bridge",
		"--connection", tqxConnection(),
		"--dialect", dialect,
		"--failed-prefix", s.FailedPrefix,
		"--cache-prefix", s.CachePrefix,
		"--log-level", "warn",
	}, args...)
	code := bridge.New().RunCommand(ctx, full, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// tqxLogger collects the bridge's logs and prints them only when the test failed.
func tqxLogger(t testing.TB) *slog.Logger {
	t.Helper()
	buf := &tqxLockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tqxLockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *tqxLockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the newest megabyte at most
		b.buf.Reset()
		b.buf.WriteString("…(older log lines dropped)\n")
	}
	return b.buf.Write(p)
}

func (b *tqxLockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tqxWaitFor polls cond until it holds; it fails the test when ctx ends first. what says what was awaited.
func tqxWaitFor(t testing.TB, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	tick := time.NewTicker(tqxPollEvery)
	defer tick.Stop()
	for {
		ok, err := cond()
		require.NoError(t, err, "while waiting for %s", what)
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "gave up waiting", "%s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// tqxKeysLeft reports which of keys still exist.
func tqxKeysLeft(ctx context.Context, rdb *goredis.Client, keys ...string) ([]string, error) {
	var left []string
	for _, k := range keys {
		n, err := rdb.Exists(ctx, k).Result()
		if err != nil {
			return nil, err
		}
		if n > 0 {
			left = append(left, k)
		}
	}
	return left, nil
}

// tqxRequireGone fails unless none of keys exists (an empty list or zset has no key in Redis).
func tqxRequireGone(t testing.TB, ctx context.Context, rdb *goredis.Client, keys ...string) {
	t.Helper()
	left, err := tqxKeysLeft(ctx, rdb, keys...)
	require.NoError(t, err)
	for _, k := range left {
		typ, _ := rdb.Type(ctx, k).Result()
		var content any
		switch typ {
		case "list":
			content, _ = rdb.LRange(ctx, k, 0, 20).Result()
		case "zset":
			content, _ = rdb.ZRangeWithScores(ctx, k, 0, 20).Result()
		}
		t.Errorf("key %s (%s) should be gone, holds %v", k, typ, content)
	}
	if len(left) > 0 {
		t.FailNow()
	}
}

// tqxZMembers returns the members of a zset with their scores, lowest score first.
func tqxZMembers(ctx context.Context, rdb *goredis.Client, key string) ([]goredis.Z, error) {
	return rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
}
