package integration

// Helpers of the tests that start containers of their own (container_test.go, faults_test.go): a private
// Docker network per test (or the provider's shared one), containers on it from the images of
// scripts/images.sh and the bridge's own image, the Docker operations the faults need, host-side bridge
// processes, and the ledger of job ids the faults are judged by. Everything a test starts is ended when it ends.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mobynetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// ctrNet is a Docker network of one test and the containers the test started on it.
type ctrNet struct {
	t   *testing.T
	im  ctrImages
	nw  *testcontainers.DockerNetwork
	cli *testcontainers.DockerClient
}

// requireContainerProvider skips t unless the suite runs under QB_PROVIDER=container.
func requireContainerProvider(t *testing.T) {
	t.Helper()
	if os.Getenv("QB_PROVIDER") != "container" {
		t.Skip("needs a Docker engine and the images of scripts/images.sh: QB_PROVIDER=container (scripts/test-containers.sh)")
	}
}

// newCtrNet makes a private network for t, removed when t ends.
func newCtrNet(t *testing.T) *ctrNet {
	t.Helper()
	n := ctrNetOf(t, nil)
	nw, err := newNetwork(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := nw.Remove(context.Background()); err != nil {
			t.Errorf("cleanup: network %s: %v", nw.Name, err)
		}
	})
	n.nw = nw
	return n
}

// ctrNetOf is a ctrNet on an existing network (the provider's), which stays when t ends.
func ctrNetOf(t *testing.T, nw *testcontainers.DockerNetwork) *ctrNet {
	t.Helper()
	requireContainerProvider(t)
	im, err := containerImages()
	require.NoError(t, err)
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	return &ctrNet{t: t, im: im, nw: nw, cli: cli}
}

// start runs image on the network with alias (a name on the network; also how the test's messages call it)
// and ends it when the test ends, printing its output first if the test failed.
func (n *ctrNet) start(alias, image string, opts ...testcontainers.ContainerCustomizer) *testcontainers.DockerContainer {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ctrStartupTimeout)
	defer cancel()
	opts = append([]testcontainers.ContainerCustomizer{network.WithNetwork([]string{alias}, n.nw)}, opts...)
	c, err := runContainer(ctx, image, opts...)
	n.t.Cleanup(func() {
		if c == nil {
			return
		}
		if n.t.Failed() {
			n.t.Logf("container %s output:\n%s", alias, n.logs(c))
		}
		if err := c.Terminate(context.Background()); err != nil {
			n.t.Errorf("cleanup: container %s: %v", alias, err)
		}
	})
	require.NoError(n.t, err, "container %s (%s)", alias, image)
	return c
}

// logs is the container's stdout and stderr, the last 8 KB of it.
func (n *ctrNet) logs(c *testcontainers.DockerContainer) string {
	r, err := c.Logs(context.Background())
	if err != nil {
		return err.Error()
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

// redis starts qb/redis with alias, its port published on a fixed loopback port (so it stays the same across a
// pause or a restart), with cmd instead of the image's command when given.
func (n *ctrNet) redis(alias string, cmd ...string) *testcontainers.DockerContainer {
	n.t.Helper()
	return n.start(alias, n.im.Redis, redisOptions(strconv.Itoa(freePort(n.t)), cmd...)...)
}

// mariadb starts qb/mariadb with alias on a fixed loopback port, which survives `docker restart`.
func (n *ctrNet) mariadb(alias string) *testcontainers.DockerContainer {
	n.t.Helper()
	return n.start(alias, n.im.MariaDB, mariadbOptions(strconv.Itoa(freePort(n.t)))...)
}

// php starts qb/php with env (KEY=VALUE), running cmd in /qb/integration, or idle (for execPHP) without one.
func (n *ctrNet) php(alias string, env []string, cmd ...string) *testcontainers.DockerContainer {
	n.t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	opts := []testcontainers.ContainerCustomizer{testcontainers.WithEnv(vars)}
	if len(cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(cmd...))
	}
	return n.start(alias, n.im.PHP, opts...)
}

// bridge starts the bridge's image (docker/bridge) built around the Go package pkg (../cmd/bridge, or
// ./testdata/testbridge for the test handlers), with env and the bridge's command line args.
func (n *ctrNet) bridge(alias, pkg string, env map[string]string, args ...string) *testcontainers.DockerContainer {
	n.t.Helper()
	img, err := bridgeImage(context.Background(), pkg)
	require.NoError(n.t, err)
	return n.start(alias, img, testcontainers.WithEnv(env), testcontainers.WithCmd(args...),
		testcontainers.WithWaitStrategy(wait.ForNop(func(context.Context, wait.StrategyTarget) error { return nil })))
}

// addr is host:port where the test reaches the container's port (published on 127.0.0.1).
func (n *ctrNet) addr(c *testcontainers.DockerContainer, port string) string {
	n.t.Helper()
	a, err := hostPort(context.Background(), c, port)
	require.NoError(n.t, err)
	return a
}

// ip is the container's address on the network; this machine routes to it too.
func (n *ctrNet) ip(c *testcontainers.DockerContainer) string {
	n.t.Helper()
	ip, err := c.ContainerIP(context.Background())
	require.NoError(n.t, err)
	require.NotEmpty(n.t, ip)
	return ip
}

func (n *ctrNet) pause(c *testcontainers.DockerContainer) {
	n.t.Helper()
	_, err := n.cli.ContainerPause(context.Background(), c.GetContainerID(), client.ContainerPauseOptions{})
	require.NoError(n.t, err)
}

func (n *ctrNet) unpause(c *testcontainers.DockerContainer) {
	n.t.Helper()
	_, err := n.cli.ContainerUnpause(context.Background(), c.GetContainerID(), client.ContainerUnpauseOptions{})
	require.NoError(n.t, err)
}

// kill sends SIGKILL: the process gets no chance to clean up.
func (n *ctrNet) kill(c *testcontainers.DockerContainer) {
	n.t.Helper()
	_, err := n.cli.ContainerKill(context.Background(), c.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"})
	require.NoError(n.t, err)
}

// restart stops the container as `docker restart` does (SIGTERM, SIGKILL after 10 s) and starts it again.
func (n *ctrNet) restart(c *testcontainers.DockerContainer) {
	n.t.Helper()
	_, err := n.cli.ContainerRestart(context.Background(), c.GetContainerID(), client.ContainerRestartOptions{})
	require.NoError(n.t, err)
}

// disconnect takes the container off the network: its connections to the others go dead.
func (n *ctrNet) disconnect(c *testcontainers.DockerContainer) {
	n.t.Helper()
	_, err := n.cli.NetworkDisconnect(context.Background(), n.nw.ID, client.NetworkDisconnectOptions{Container: c.GetContainerID(), Force: true})
	require.NoError(n.t, err)
}

// connect puts the container back on the network under alias.
func (n *ctrNet) connect(c *testcontainers.DockerContainer, alias string) {
	n.t.Helper()
	_, err := n.cli.NetworkConnect(context.Background(), n.nw.ID, client.NetworkConnectOptions{
		Container: c.GetContainerID(), EndpointConfig: &mobynetwork.EndpointSettings{Aliases: []string{alias}}})
	require.NoError(n.t, err)
}

// waitExit waits for the container's command to end and returns its exit status; a hang fails the test.
func (n *ctrNet) waitExit(c *testcontainers.DockerContainer, limit time.Duration) int {
	n.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, err := c.State(context.Background())
		require.NoError(n.t, err)
		if !st.Running {
			return st.ExitCode
		}
		if time.Now().After(deadline) {
			require.FailNowf(n.t, "container did not exit", "after %s; output:\n%s", limit, n.logs(c))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// execPHP runs a PHP script in container c and requires success.
func (n *ctrNet) execPHP(c *testcontainers.DockerContainer, env []string, script string, args ...string) []byte {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := execPHP(ctx, c, env, script, args...)
	require.NoError(n.t, err, "stdout:\n%s", out)
	return out
}

// hostBridge is a bridge binary running on this machine, ended when the test ends.
type hostBridge struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// startHostBridge runs bin with args and env (KEY=VALUE on top of this process's).
func startHostBridge(t *testing.T, bin string, env []string, args ...string) *hostBridge {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &hostBridge{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill() // this test's own child, by its pid
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s %v output:\n%s", bin, args, p.out.String())
		}
	})
	return p
}

// wait waits for the process to exit and returns its status; a hang fails the test.
func (p *hostBridge) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		require.FailNowf(t, "bridge did not exit", "output:\n%s", p.out.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// redisKeys deletes keys of rdb when the test ends (never FLUSHDB: other tests may share the database).
func redisKeys(t *testing.T, rdb *goredis.Client, keys ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Logf("cleanup: DEL %v: %v", keys, err)
		}
	})
}

// jobRun is one start of a job's handler: which reservation (attempts) ran it, when, and on which worker.
type jobRun struct {
	Attempts int
	At       time.Time
	By       string
	Done     bool // the handler finished (the job's effect happened)
}

// ledger is a fault test's account of its jobs: the ids pushed, and every run of each.
type ledger struct {
	mu     sync.Mutex
	pushed []string
	unsure map[string]bool // jobs that ran although their push returned an error (it had written the job)
	runs   map[string][]jobRun
}

func newLedger() *ledger { return &ledger{unsure: map[string]bool{}, runs: map[string][]jobRun{}} }

func (l *ledger) push(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pushed = append(l.pushed, id)
}

// start notes a run's start and returns its index for finish.
func (l *ledger) start(id string, r jobRun) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs[id] = append(l.runs[id], r)
	return len(l.runs[id]) - 1
}

func (l *ledger) finish(id string, i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs[id][i].Done = true
}

// sortRuns puts every job's runs in reservation order (attempts), for ledgers filled from several workers.
func (l *ledger) sortRuns() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, runs := range l.runs {
		slices.SortStableFunc(runs, func(a, b jobRun) int { return a.Attempts - b.Attempts })
	}
}

// readTestbridgeTraces adds the runs test\Block jobs left in Redis: started holds a record per start, done
// the id per finished run, in order; by names the worker.
func (l *ledger) readTestbridgeTraces(t *testing.T, rdb *goredis.Client, started, done, by string) {
	t.Helper()
	ctx := context.Background()
	starts, err := rdb.LRange(ctx, started, 0, -1).Result()
	require.NoError(t, err)
	dones, err := rdb.LRange(ctx, done, 0, -1).Result()
	require.NoError(t, err)
	finished := map[string]int{}
	for _, d := range dones {
		var r record
		require.NoError(t, json.Unmarshal([]byte(d), &r), "done trace %q", d)
		finished[r.ID]++
	}
	reservations := map[string]bool{}
	for _, s := range starts {
		// test\Block's start trace is a record as the recorder reads them (harness_record_test.go).
		var r record
		require.NoError(t, json.Unmarshal([]byte(s), &r), "started trace %q", s)
		// One reservation is one attempts value (think-queue v3 counts on reserve): a second trace of it is the
		// trace client's retry of a write whose answer it never got, not a run.
		key := r.ID + "|" + strconv.Itoa(r.Attempts)
		if reservations[key] {
			continue
		}
		reservations[key] = true
		i := l.start(r.ID, jobRun{Attempts: r.Attempts, At: time.Unix(int64(r.T), 0), By: by})
		// A start's run finished if the id has a done trace left to match (runs finish in start order).
		if finished[r.ID] > 0 {
			finished[r.ID]--
			l.finish(r.ID, i)
		}
	}
	for id, n := range finished {
		require.Zero(t, n, "job %s finished more often than it started", id)
	}
}

// ledgerFigures are what a ledger adds up to.
type ledgerFigures struct {
	Pushed     int // pushes that succeeded
	Unsure     int // jobs that ran although their push returned an error
	Ran        int // jobs that finished at least once
	Lost       int // pushed jobs that never finished
	Duplicates int // finished runs beyond each job's first
	CutShort   int // runs that started but did not finish (their worker or its connection was cut)
}

func (f ledgerFigures) String() string {
	s := fmt.Sprintf("pushed %d, ran %d, lost %d, duplicates %d, cut short %d", f.Pushed, f.Ran, f.Lost, f.Duplicates, f.CutShort)
	if f.Unsure > 0 {
		s += fmt.Sprintf(", and %d jobs whose push failed ran", f.Unsure)
	}
	return s
}

// figures counts the ledger; every run must be of a pushed job (or an unacknowledged push).
func (l *ledger) figures(t *testing.T) ledgerFigures {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := ledgerFigures{Pushed: len(l.pushed), Unsure: len(l.unsure)}
	pushed := map[string]bool{}
	for _, id := range l.pushed {
		pushed[id] = true
	}
	for id, runs := range l.runs {
		require.True(t, pushed[id] || l.unsure[id], "a run of job %s, which nobody pushed", id)
		done := 0
		for _, r := range runs {
			if r.Done {
				done++
			} else {
				f.CutShort++
			}
		}
		if done > 0 && pushed[id] {
			f.Ran++
		}
		f.Duplicates += max(done-1, 0)
	}
	for _, id := range l.pushed {
		if !slices.ContainsFunc(l.runs[id], func(r jobRun) bool { return r.Done }) {
			f.Lost++
		}
	}
	return f
}

// faultSettle is how long after a fault ends its effects may still hold a worker up: connections the fault
// broke are given up only by timeout (go-redis reads time out after 3 s and are retried; so are the SQL
// driver's), so an acknowledgement, a renewal or a reservation can be stuck on one that long, and a
// reservation lapse meanwhile.
const faultSettle = 2*faultExpire + time.Second

// requireRerunsLapsed checks every job that started more than once: each later start is a new reservation
// (higher attempts: the dialects here count attempts when a job is reserved) begun after the fault began, and
// the run before it was reserved before the fault's effects ended (it started no later than faultSettle after
// faultTo), so the fault is what kept its reservation from being acknowledged or renewed before it lapsed. (A
// reservation requested before a frozen Redis thaws is even granted with the lease its request computed,
// already short or over: the scores are the client's clock, as PHP's.) Each such job's runs are logged.
func (l *ledger) requireRerunsLapsed(t *testing.T, faultFrom, faultTo time.Time) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, runs := range l.runs {
		if len(runs) < 2 {
			continue
		}
		t.Logf("job %s ran %d times (fault %s to %s): %s", id, len(runs), faultFrom.Format("15:04:05.000"),
			faultTo.Format("15:04:05.000"), formatRuns(runs))
		for i := 1; i < len(runs); i++ {
			prev, next := runs[i-1], runs[i]
			require.Greater(t, next.Attempts, prev.Attempts, "job %s: start %d is no new reservation", id, i)
			require.False(t, next.At.Before(faultFrom.Add(-time.Second)), "job %s: restarted before the fault", id)
			require.False(t, prev.At.After(faultTo.Add(faultSettle)), "job %s: the run before the restart was reserved after the fault had settled", id)
		}
	}
}

// formatRuns is runs as "attempt N by W at hh:mm:ss.mmm (done|cut short)", for logs.
func formatRuns(runs []jobRun) string {
	var parts []string
	for _, r := range runs {
		state := "cut short"
		if r.Done {
			state = "done"
		}
		parts = append(parts, fmt.Sprintf("attempt %d by %s at %s (%s)", r.Attempts, r.By, r.At.Format("15:04:05.000"), state))
	}
	return strings.Join(parts, "; ")
}
