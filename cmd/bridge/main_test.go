package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bridge-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "bridge")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the binary in dir with args and returns its exit status, stdout and stderr.
func run(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BRIDGE_CONNECTION=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

func redisURL() string {
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return "redis://" + addr + "/5"
}

// The first-hour mistakes: a stray word no longer sends the worker to ./bridge.db, and nothing is created.
func TestStrayWordsAreRefused(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"work", "--queue", "notify", "email", "--connection", redisURL()},
		{"work", "redis", "--queue", "notify"},
		{"failed", "retry", "all", "extra", "-c", redisURL()},
	} {
		code, out, errOut := run(t, dir, args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
		require.Empty(t, out)
		require.Contains(t, errOut, "would be ignored")
		require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no stray ./bridge.db")
}

// `failed retry all -c URL` and `failed -c URL retry all` both reach the named store.
func TestFlagsAfterSubcommands(t *testing.T) {
	dir := t.TempDir()
	prefix := fmt.Sprintf("qbcmd%d", rand.Int64())
	for _, args := range [][]string{
		{"failed", "retry", "all", "-c", redisURL(), "--failed-prefix", prefix},
		{"failed", "-c", redisURL(), "retry", "--failed-prefix", prefix, "all"},
		{"--connection", redisURL(), "failed", "list", "--failed-prefix", prefix},
	} {
		code, _, errOut := run(t, dir, args...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no stray ./bridge.db")
}

func TestHelpAndVersionOfTheBinary(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"help"}, {"help", "work"}, {"work", "--help"}, {"--version"}, {"version"}} {
		code, out, errOut := run(t, dir, args...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		require.NotEmpty(t, out)
	}
	_, out, _ := run(t, dir, "--version")
	require.Regexp(t, `^bridge (v\S+|devel)`, out)
}

// A failing think-queue 1.x job: `failed list` and `failed show` give the handler's own error, and show gives
// the whole payload and its decoded data.
func TestFailedShow(t *testing.T) {
	o, err := goredis.ParseURL(redisURL())
	require.NoError(t, err)
	rdb := goredis.NewClient(o)
	defer rdb.Close()
	prefix := fmt.Sprintf("qbshow%d", rand.Int64())
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), "*"+prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	dir := t.TempDir()
	common := []string{"-c", redisURL(), "--dialect", "thinkqueue-v1", "--failed-prefix", prefix}
	require.NoError(t, rdb.RPush(context.Background(), "queues:"+prefix, `{"job":"app\\job\\Hello","data":{"name":"张三"},"id":"abc","attempts":1}`).Err())
	code, _, errOut := run(t, dir, append([]string{"work", "--queue", prefix, "--stop-when-empty", "--tries", "1", "--sleep", "0.01"}, common...)...)
	require.Equal(t, 0, code, errOut)
	// The plain bridge has no handler for app\job\Hello: it hands the job back, so nothing failed.
	code, out, _ := run(t, dir, append([]string{"failed", "list"}, common...)...)
	require.Equal(t, 0, code)
	require.Contains(t, out, "No failed jobs!")

	// A payload that is not a job is poison: the worker moves it to the failed store with the reason.
	require.NoError(t, rdb.Del(context.Background(), "queues:"+prefix).Err())
	require.NoError(t, rdb.RPush(context.Background(), "queues:"+prefix, `[1,2]`).Err())
	code, _, errOut = run(t, dir, append([]string{"work", "--queue", prefix, "--stop-when-empty", "--sleep", "0.01"}, common...)...)
	require.Equal(t, 0, code, errOut)
	code, out, _ = run(t, dir, append([]string{"failed", "list"}, common...)...)
	require.Equal(t, 0, code)
	fields := strings.Fields(strings.Split(out, "\n")[1])
	id := fields[0]
	code, out, errOut = run(t, dir, append([]string{"failed", "show", id}, common...)...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Payload:\n[1,2]")
	require.Contains(t, out, "Error:\ninvalid payload")
	code, _, errOut = run(t, dir, append([]string{"failed", "show", "nope"}, common...)...)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no such failed job")
}
