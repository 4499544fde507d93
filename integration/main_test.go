package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// Shared helpers of the crash, signal, fleet and bench tests: the testbridge binary, one fixture per test
// (unique queue, failed-store prefix, cache prefix and trace keys, all deleted when the test ends), the
// bridge subprocess, and polling with deadlines.

// dialects are the think-queue lines every cross-test runs on.
var dialects = []string{"thinkqueue-v1", "thinkqueue-v3"}

// waitLimit bounds every wait on a condition: generous, so only a hang trips it.
const waitLimit = 60 * time.Second

var (
	testbridgeDir  string // made by TestMain, removed after the run
	testbridgeOnce sync.Once
	testbridgeBin  string
	testbridgeErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "queuebridge-testbridge-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir for testbridge:", err)
		os.Exit(2)
	}
	testbridgeDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	if err := closeContainers(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "integration: removing the containers:", err)
	}
	cancel()
	os.Exit(code)
}

// testbridge builds testdata/testbridge once per test process and returns the binary's path.
func testbridge(t testing.TB) string {
	t.Helper()
	testbridgeOnce.Do(func() {
		bin := filepath.Join(testbridgeDir, "testbridge")
		cmd := exec.Command("go", "build", "-o", bin, "./testdata/testbridge")
		out, err := cmd.CombinedOutput()
		if err != nil {
			testbridgeErr = fmt.Errorf("go build ./testdata/testbridge: %w\n%s", err, out)
			return
		}
		testbridgeBin = bin
	})
	require.NoError(t, testbridgeErr)
	return testbridgeBin
}

// fixture is one test's slice of the shared Redis.
type fixture struct {
	t            testing.TB
	rdb          *goredis.Client
	dialect      string
	d            thinkqueue.Dialect
	name         string // unique per test; every key below starts with it or contains it
	queue        string
	list         string
	delayed      string
	reserved     string
	failedPrefix string
	cachePrefix  string

	mu   sync.Mutex
	keys []string // every key the test may create, deleted (and only these) at cleanup
}

func newFixture(t testing.TB, dialect string) *fixture {
	t.Helper()
	d, err := thinkqueue.ParseDialect(dialect)
	require.NoError(t, err)
	env := Local()
	rdb := goredis.NewClient(&goredis.Options{Addr: env.RedisAddr(), DB: env.RedisDB()})
	require.NoError(t, rdb.Ping(context.Background()).Err(), "Redis at %s (QB_REDIS_ADDR)", env.RedisAddr())

	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := "qbit." + strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()) + "." + hex.EncodeToString(rnd[:])
	f := &fixture{
		t:            t,
		rdb:          rdb,
		dialect:      dialect,
		d:            d,
		name:         name,
		queue:        name,
		failedPrefix: name + ".failed",
		cachePrefix:  name + ".cache:",
	}
	f.list, f.delayed, f.reserved = d.QueueKeys(f.queue)
	f.keys = append(f.keys, f.list, f.delayed, f.reserved,
		"{"+f.failedPrefix+":failed}", "{"+f.failedPrefix+":failed}:index",
		f.cachePrefix+thinkqueue.RestartCacheKey)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		f.mu.Lock()
		keys := append([]string(nil), f.keys...)
		f.mu.Unlock()
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("cleanup: DEL %d keys: %v", len(keys), err)
		}
		_ = rdb.Close()
	})
	return f
}

// key names a trace key of this test (a log list, a gate…) and deletes it at cleanup.
func (f *fixture) key(what string) string {
	k := f.name + ":" + what
	f.mu.Lock()
	f.keys = append(f.keys, k)
	f.mu.Unlock()
	return k
}

func (f *fixture) connection() string {
	env := Local()
	return fmt.Sprintf("redis://%s/%d", env.RedisAddr(), env.RedisDB())
}

// config is the in-process bridge's view of this fixture's queue.
func (f *fixture) config() *bridge.Config {
	return &bridge.Config{
		Connection:      f.connection(),
		Dialect:         f.dialect,
		FailedKeyPrefix: f.failedPrefix,
		CachePrefix:     f.cachePrefix,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// open returns an in-process bridge on this fixture's queue, for pushing.
func (f *fixture) open() *bridge.Bridge {
	f.t.Helper()
	b, err := bridge.Open(context.Background(), f.config())
	require.NoError(f.t, err)
	f.t.Cleanup(func() { _ = b.Close() })
	return b
}

// push writes a job through the bridge's Push and returns its id and the exact bytes that landed in the list
// (read back with LINDEX; nothing may consume the queue meanwhile).
func (f *fixture) push(b *bridge.Bridge, job string, data any) (id string, raw string) {
	f.t.Helper()
	ctx := context.Background()
	id, err := b.Push(ctx, f.queue, job, data)
	require.NoError(f.t, err)
	raw, err = f.rdb.LIndex(ctx, f.list, -1).Result()
	require.NoError(f.t, err)
	require.Contains(f.t, raw, `"id":"`+id+`"`)
	return id, raw
}

func (f *fixture) lrange(key string) []string {
	f.t.Helper()
	v, err := f.rdb.LRange(context.Background(), key, 0, -1).Result()
	require.NoError(f.t, err)
	return v
}

func (f *fixture) llen(key string) int64 {
	f.t.Helper()
	n, err := f.rdb.LLen(context.Background(), key).Result()
	require.NoError(f.t, err)
	return n
}

func (f *fixture) zrange(key string) []goredis.Z {
	f.t.Helper()
	v, err := f.rdb.ZRangeWithScores(context.Background(), key, 0, -1).Result()
	require.NoError(f.t, err)
	return v
}

// requireQueueEmpty checks that the queue's list, delayed and reserved keys are gone, and that nothing was
// failed.
func (f *fixture) requireQueueEmpty() {
	f.t.Helper()
	ctx := context.Background()
	for _, k := range []string{f.list, f.delayed, f.reserved, "{" + f.failedPrefix + ":failed}", "{" + f.failedPrefix + ":failed}:index"} {
		n, err := f.rdb.Exists(ctx, k).Result()
		require.NoError(f.t, err)
		if n != 0 {
			typ, _ := f.rdb.Type(ctx, k).Result()
			var content any
			switch typ {
			case "list":
				content = f.lrange(k)
			case "zset":
				content = f.zrange(k)
			case "hash":
				content, _ = f.rdb.HGetAll(ctx, k).Result()
			}
			require.Failf(f.t, "key left behind", "%s (%s): %v", k, typ, content)
		}
	}
}

// bridgeProc is a running testbridge subprocess.
type bridgeProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	out  *syncBuffer // stdout and stderr, interleaved
	done chan struct{}
}

// startBridge runs `testbridge <connection flags> <global...> work --queue <queue> <work...>`.
func (f *fixture) startBridge(global []string, work ...string) *bridgeProc {
	f.t.Helper()
	env := Local()
	args := []string{"--connection", f.connection(), "--dialect", f.dialect,
		"--failed-prefix", f.failedPrefix, "--cache-prefix", f.cachePrefix}
	args = append(args, global...)
	args = append(args, "work", "--queue", f.queue)
	args = append(args, work...)
	cmd := exec.Command(testbridge(f.t), args...)
	cmd.Env = append(os.Environ(),
		"TESTBRIDGE_REDIS_ADDR="+env.RedisAddr(),
		fmt.Sprintf("TESTBRIDGE_REDIS_DB=%d", env.RedisDB()))
	p := &bridgeProc{t: f.t, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(f.t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	f.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill() // only this test's own child, by its pid
			<-p.done
		}
		if f.t.Failed() {
			f.t.Logf("testbridge %v output:\n%s", args, p.out.String())
		}
	})
	return p
}

func (p *bridgeProc) signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

// wait waits for the process to end (a hang fails the test) and returns its exit status.
func (p *bridgeProc) wait() *os.ProcessState {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		require.FailNowf(p.t, "testbridge did not exit", "output:\n%s", p.out.String())
	}
	return p.cmd.ProcessState
}

// waitOutput waits until the process has printed every one of parts on one line.
func (p *bridgeProc) waitOutput(parts ...string) {
	p.t.Helper()
	waitFor(p.t, "testbridge output "+strings.Join(parts, " "), func() bool {
		for line := range strings.SplitSeq(p.out.String(), "\n") {
			all := true
			for _, s := range parts {
				all = all && strings.Contains(line, s)
			}
			if all {
				return true
			}
		}
		return false
	})
}

// waitFor polls cond until it holds; only a hang (waitLimit) fails.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for "+what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
