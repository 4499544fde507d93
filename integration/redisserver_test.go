package integration

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// redisServer is a redis-server of the test's own on a free loopback port, for what the shared one must not
// be put through (a restart, a cluster, a failover) or where the test counts every command it receives.
type redisServer struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// startRedisServer starts redis-server with extra config arguments ("--appendonly", "yes", ...) and stops
// it when the test ends.
func startRedisServer(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	s := &redisServer{t: t, port: freePort(t), dir: t.TempDir()}
	s.args = append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--logfile", filepath.Join(s.dir, "redis.log")}, extra...)
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	require.NoError(s.t, s.cmd.Start(), "redis-server")
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	defer c.Close()
	waitFor(s.t, "redis-server on "+s.Addr(), func() bool { return c.Ping(context.Background()).Err() == nil })
}

// kill stops the server at once (SIGKILL: no save, clients see their connections drop).
func (s *redisServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// restart kills the server and starts it again on the same port and data directory after down.
func (s *redisServer) restart(down time.Duration) {
	s.t.Helper()
	s.kill()
	time.Sleep(down)
	s.start()
}

// freePort is a loopback TCP port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// onServer points a Redis backend at s instead of the shared server: the bridges it opens, its own client.
func (be *backend) onServer(s *redisServer) {
	be.t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	shared := be.Redis
	// Runs before the server stops and before the backend's key cleanup, which then finds nothing of the
	// test on the shared server.
	be.t.Cleanup(func() { be.Redis = shared; _ = rdb.Close() })
	be.Redis = rdb
	be.Connection = fmt.Sprintf("redis://%s/0", s.Addr())
}
