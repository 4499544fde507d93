package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuebridge/bridge"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redisURL is the test Redis: QB_REDIS_ADDR (default 127.0.0.1:6379), database 4.
func redisURL() string {
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return "redis://" + addr + "/4"
}

type cliBundle struct {
	b      *bridge.Bridge
	queue  string
	prefix string
	rdb    *goredis.Client
}

func setup(t *testing.T) *cliBundle {
	t.Helper()
	o, err := goredis.ParseURL(redisURL())
	require.NoError(t, err)
	rdb := goredis.NewClient(o)
	b := &cliBundle{
		b:      bridge.New(),
		queue:  fmt.Sprintf("cli-%s-%d", t.Name(), rand.Int64()),
		prefix: fmt.Sprintf("qbtest%d", rand.Int64()),
		rdb:    rdb,
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, pattern := range []string{"*queues:" + b.queue + "*", "*" + b.prefix + "*"} {
			keys, _ := rdb.Keys(ctx, pattern).Result()
			if len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
		}
		rdb.Close()
	})
	return b
}

// run runs the command line with the bundle's connection flags and returns the exit status and output.
func (b *cliBundle) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"bridge", "--connection", redisURL(), "--failed-prefix", b.prefix, "--cache-prefix", b.prefix + ":"}, args...)
	code := b.b.RunCommand(context.Background(), full, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestPushThenWork(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"thinkqueue-v1", "thinkqueue-v3"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var mu sync.Mutex
			var seen []string
			b.b.HandleFunc(`app\job\Hello`, func(_ context.Context, job *bridge.Job) error {
				var data struct{ Name string }
				if err := job.Bind(&data); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, fmt.Sprintf("%s/%s/%d", job.ID(), data.Name, job.Attempts()))
				return nil
			})

			code, out, errOut := b.run(t, "--dialect", dialect, "push", "--queue", b.queue, `app\job\Hello`, `{"name":"张三/x"}`)
			require.Equal(t, 0, code, errOut)
			id := strings.TrimSpace(out)
			require.Len(t, id, 32)

			code, _, errOut = b.run(t, "--dialect", dialect, "work", "--queue", b.queue, "--stop-when-empty", "--sleep", "0.01")
			require.Equal(t, 0, code, errOut)
			require.Equal(t, []string{id + "/张三/x/1"}, seen)
		})
	}
}

func TestConnectionFlagsAfterTheCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var stdout, stderr bytes.Buffer
	code := b.b.RunCommand(context.Background(), []string{"bridge", "--connection", "redis://127.0.0.1:1/0", "push",
		"--connection", redisURL(), "--dialect", "thinkqueue-v1", "--queue", b.queue, `app\job\Hello`}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	raw, err := b.rdb.LIndex(context.Background(), "queues:"+b.queue, 0).Result()
	require.NoError(t, err, "the command's --connection and --dialect win over the global ones")
	require.Contains(t, raw, `"data":"","id":"`+strings.TrimSpace(stdout.String())+`","attempts":1}`)
}

func TestFlagErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dialect", "laravel-99", "push", "X"}, "laravel-12"},
		{[]string{"--dialect", "php-queue", "push", "X"}, "thinkqueue-v1"},
		{[]string{"--dialect", "thinkqueue-v3", "--prefix", "p_", "push", "X"}, "no key prefix"},
		{[]string{"work", "--backoff", "10,x"}, "--backoff"},
		{[]string{"--expire", "0", "push", "X"}, "--expire 0"},
		{[]string{"--expire", "soon", "push", "X"}, `--expire "soon"`},
		{[]string{"push", "--restart-key", "k", "--expire", "1.5", "X"}, "whole"},
		{[]string{"push"}, "want JOB [JSON-DATA]"},
		{[]string{"push", "X", "{not json"}, "JSON-DATA"},
		{[]string{"work", "--queue", ","}, "--queue"},
		{[]string{"work", "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"work", "--delay", "-1"}, "--delay"},
		{[]string{"failed", "forget", "nope"}, "no failed job nope"},
		{[]string{"failed", "retry", "nope"}, "no such failed job"},
		{[]string{"--connection", "http://x", "push", "X"}, "unknown scheme"},
	} {
		code, _, errOut := b.run(t, tc.args...)
		require.NotEqual(t, 0, code, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

func TestRestartCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, out, errOut := b.run(t, "restart")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, b.prefix+":think:queue:restart")
	stamp, err := b.rdb.Get(context.Background(), b.prefix+":think:queue:restart").Result()
	require.NoError(t, err)
	require.Regexp(t, `^[0-9]{10}$`, stamp)
	ttl, err := b.rdb.TTL(context.Background(), b.prefix+":think:queue:restart").Result()
	require.NoError(t, err)
	require.Equal(t, int64(-1), int64(ttl), "queue:restart writes no TTL")
}

// Several command lines in one process must not share state (run with -race).
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, errOut := b.run(t, "failed", "list")
			assert.Equal(t, 0, code, errOut)
			code, out, _ := b.run(t, "push", "--help")
			assert.Equal(t, 0, code)
			assert.Contains(t, out, "JSON-DATA")
		}()
	}
	wg.Wait()
}

// With neither --delay nor --backoff a failing job waits 1s, 2s, 4s… between attempts, instead of running
// thousands of times a second; --delay 0 keeps think-queue's own rerun at once.
func TestFailingJobDoesNotSpin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var attempts atomic.Int32
	b.b.HandleFunc(`app\job\Fail`, func(context.Context, *bridge.Job) error {
		attempts.Add(1)
		return errors.New("refusing to greet 'fail'")
	})
	code, _, errOut := b.run(t, "--dialect", "thinkqueue-v1", "push", "--queue", b.queue, `app\job\Fail`)
	require.Equal(t, 0, code, errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	b.b.RunCommand(ctx, []string{"bridge", "--connection", redisURL(), "--failed-prefix", b.prefix, "--dialect", "thinkqueue-v1",
		"work", "--queue", b.queue, "--sleep", "0.05", "--log-level", "error"}, &stdout, &stderr)
	n := attempts.Load()
	require.GreaterOrEqual(t, n, int32(2), "it ran again after its first delay")
	require.LessOrEqual(t, n, int32(4), "attempts in 3.5 s: at 0 s, 1 s and 3 s, give or take one")
}
