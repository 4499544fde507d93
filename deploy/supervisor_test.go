package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

const (
	program        = "queuebridge"
	programSection = "program:" + program
	notifyJob      = `app\job\Notify`
)

// The supervisor sample, run by a supervisord of the test's own (own socket, own logs) with a bridge binary
// built from testdata/notify, against the tests' Redis database: it starts and shows RUNNING, it comes back
// after the restart signal, `supervisorctl restart` and `stop` with slow jobs in flight let them finish,
// and the ledger holds: every pushed job ran to completion exactly once or is still on the queue in the
// bytes it was pushed with; none is lost, none is left reserved or failed.
func TestSupervisorSample(t *testing.T) {
	supervisord := requireTool(t, "supervisord", "install supervisor (Debian: apt-get install supervisor; scripts/services.sh does)")
	supervisorctl := requireTool(t, "supervisorctl", "install supervisor (Debian: apt-get install supervisor; scripts/services.sh does)")
	rdb := ownRedis(t)
	bin := notifyBridge(t)
	ctx := context.Background()

	sample := readINI(t, "supervisor/queuebridge.conf")
	// What the sample is for: a stop that never cuts a job short, and logs in one file.
	require.Equal(t, "TERM", sample.value(t, programSection, "stopsignal"))
	require.Equal(t, "true", sample.value(t, programSection, "redirect_stderr"))
	require.Equal(t, "true", sample.value(t, programSection, "autorestart"), "the bridge exits 0 after a restart signal; supervisor must start it again")
	args := strings.Fields(sample.value(t, programSection, "command"))
	require.GreaterOrEqual(t, len(args), 2)
	require.Equal(t, "work", args[1], "command= runs `bridge work`")
	grace := graceOf(t, args)
	stopWait, err := strconv.ParseFloat(sample.value(t, programSection, "stopwaitsecs"), 64)
	require.NoError(t, err)
	require.Greater(t, stopWait, grace, "stopwaitsecs must be longer than --grace, or supervisor SIGKILLs a bridge still finishing its jobs")
	dialect, ok := flagValue(args, "--dialect")
	require.True(t, ok, "command= names its --dialect")
	d, err := thinkqueue.ParseDialect(dialect)
	require.NoError(t, err, "the sample is for think-queue")
	queueName, ok := flagValue(args, "--queue")
	require.True(t, ok, "command= names its --queue")
	concurrency := 1
	if v, ok := flagValue(args, "--concurrency"); ok {
		concurrency, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	list, delayed, reserved := d.QueueKeys(queueName)

	// The copy: this machine's binary, Redis, directories and user; every other line as the sample has it.
	dir := t.TempDir()
	args[0] = bin
	sample.set(t, programSection, "command", strings.Join(args, " "))
	sample.set(t, programSection, "environment", fmt.Sprintf(`BRIDGE_CONNECTION="%s"`, connection()))
	sample.set(t, programSection, "directory", dir)
	me, err := user.Current()
	require.NoError(t, err)
	sample.set(t, programSection, "user", me.Username)
	programLog := filepath.Join(dir, "queuebridge.log")
	sample.set(t, programSection, "stdout_logfile", programLog)
	sv := startSupervisord(t, supervisord, supervisorctl, dir, sample.String())

	b, err := bridge.Open(ctx, &bridge.Config{
		Connection: connection(),
		Dialect:    dialect,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	led := ledger{rdb: rdb, key: "deploy-ledger"}
	push := func(ms int) string {
		t.Helper()
		id, err := b.Push(ctx, queueName, notifyJob, map[string]any{"redis": connection(), "ledger": led.key, "ms": ms})
		require.NoError(t, err)
		return id
	}

	// autostart: the bridge runs, and its log (stderr) lands in stdout_logfile.
	pid := sv.waitRunning(t, 0)
	waitFor(t, "the bridge's first log line in stdout_logfile", func() bool {
		return strings.Contains(readFile(programLog), "bridge working")
	})
	for range 5 {
		push(0)
	}
	waitFor(t, "5 quick jobs done", func() bool { return len(led.marks(t, "done")) == 5 })

	// The restart signal (what `php think queue:restart` writes): the bridge exits 0 and supervisor starts it again.
	out, err := exec.Command(bin, "restart", "--connection", connection(), "--dialect", dialect).CombinedOutput()
	require.NoError(t, err, "%s", out)
	pid = sv.waitRunning(t, pid)
	require.Contains(t, readFile(sv.logFile), "exited: queuebridge (exit status 0; expected)")
	require.Contains(t, readFile(programLog), "reason=restart")

	// Slow jobs, pushed while the bridge is stopped, so the ledger knows each one's bytes.
	require.Contains(t, sv.ctl(t, "stop", program), "queuebridge: stopped")
	const slow, slowMS = 40, 4000
	pushed := map[string]string{} // id → the bytes on the queue
	for range slow {
		push(slowMS)
	}
	for _, raw := range rdb.LRange(ctx, list, 0, -1).Val() {
		pushed[payloadID(t, raw)] = raw
	}
	require.Len(t, pushed, slow)
	require.Contains(t, sv.ctl(t, "start", program), "queuebridge: started")
	pid = sv.waitRunning(t, pid)

	// supervisorctl restart with jobs in flight: the old process finishes them before it exits.
	inFlight := led.waitInFlight(t, pid, concurrency)
	restarted := sv.ctl(t, "restart", program)
	require.Contains(t, restarted, "queuebridge: stopped")
	require.Contains(t, restarted, "queuebridge: started")
	done := led.marks(t, "done")
	for _, id := range inFlight {
		require.Contains(t, done, mark{id, pid}, "job %s was running when supervisor restarted the bridge: it must have finished first", id)
	}
	pid = sv.waitRunning(t, pid)

	// supervisorctl stop with jobs in flight: the same, and the bridge exits 0 well before stopwaitsecs.
	inFlight = led.waitInFlight(t, pid, concurrency)
	require.Contains(t, sv.ctl(t, "stop", program), "queuebridge: stopped")
	state, _ := sv.status(t)
	require.Equal(t, "STOPPED", state)
	done = led.marks(t, "done")
	for _, id := range inFlight {
		require.Contains(t, done, mark{id, pid}, "job %s was running when supervisor stopped the bridge: it must have finished first", id)
	}
	// The bridge's own account: each of the two stops with jobs in flight found them still running.
	stops := stoppingOnSignal.FindAllStringSubmatch(readFile(programLog), -1)
	require.Len(t, stops, 3, "three stops by SIGTERM in the bridge's log:\n%s", readFile(programLog))
	for _, s := range stops[1:] {
		require.NotEqual(t, "0", s[1], "a stop with jobs in flight should find them running: %s", s[0])
	}
	svLog := readFile(sv.logFile)
	require.Equal(t, 3, strings.Count(svLog, "stopped: queuebridge (exit status 0)"), "three stops, each a clean exit:\n%s", svLog)
	require.NotContains(t, svLog, "SIGKILL")

	// The ledger.
	ran := map[string]int{}
	for _, m := range led.marks(t, "done") {
		ran[m.id]++
	}
	for _, m := range led.marks(t, "started") {
		assert.Equal(t, 1, ran[m.id], "job %s started in pid %d: it must have run to completion exactly once", m.id, m.pid)
	}
	queued := rdb.LRange(ctx, list, 0, -1).Val()
	onQueue := map[string]bool{}
	for _, raw := range queued {
		id := payloadID(t, raw)
		want, ok := pushed[id]
		require.True(t, ok, "the queue holds a job nobody pushed: %s", raw)
		assert.Equal(t, want, raw, "job %s is back on the queue, but not in the bytes it was pushed with", id)
		assert.False(t, onQueue[id], "job %s is on the queue twice", id)
		onQueue[id] = true
	}
	for id := range pushed {
		assert.True(t, (ran[id] == 1) != onQueue[id], "job %s: ran %d times, on the queue: %v (want exactly one of the two)", id, ran[id], onQueue[id])
	}
	assert.NotEmpty(t, queued, "some slow jobs should still be waiting when the bridge stopped")
	assert.Zero(t, rdb.ZCard(ctx, reserved).Val(), "jobs left reserved in %s", reserved)
	assert.Zero(t, rdb.ZCard(ctx, delayed).Val(), "jobs released into %s", delayed)
	assert.Zero(t, rdb.HLen(ctx, "{queuebridge:failed}").Val(), "jobs in the failed store")
	t.Logf("%d slow jobs: %d ran to completion, %d still queued", slow, len(pushed)-len(queued), len(queued))
}

// stoppingOnSignal is the bridge's log line when SIGTERM stops it, with the number of jobs then running.
var stoppingOnSignal = regexp.MustCompile(`msg="worker stopping" reason=signal running=(\d+)`)

// supervisor is a supervisord of one test, with its own socket and logs in dir.
type supervisor struct {
	ctlPath string
	conf    string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func startSupervisord(t *testing.T, supervisord, supervisorctl, dir, program string) *supervisor {
	t.Helper()
	programConf := filepath.Join(dir, "queuebridge.conf")
	require.NoError(t, os.WriteFile(programConf, []byte(program), 0o644))
	sv := &supervisor{
		ctlPath: supervisorctl,
		conf:    filepath.Join(dir, "supervisord.conf"),
		logFile: filepath.Join(dir, "supervisord.log"),
		exited:  make(chan struct{}),
	}
	sock := filepath.Join(dir, "supervisor.sock")
	conf := fmt.Sprintf(`[unix_http_server]
file=%[1]s

[supervisord]
logfile=%[2]s
pidfile=%[3]s
childlogdir=%[4]s
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s

[include]
files=%[5]s
`, sock, sv.logFile, filepath.Join(dir, "supervisord.pid"), dir, programConf)
	require.NoError(t, os.WriteFile(sv.conf, []byte(conf), 0o644))

	sv.cmd = exec.Command(supervisord, "-n", "-c", sv.conf)
	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	require.NoError(t, err)
	sv.cmd.Stdout, sv.cmd.Stderr = out, out
	require.NoError(t, sv.cmd.Start())
	go func() { _ = sv.cmd.Wait(); _ = out.Close(); close(sv.exited) }()
	t.Cleanup(func() { sv.shutdown(t) })
	waitFor(t, "supervisord's socket", func() bool {
		select {
		case <-sv.exited:
			t.Fatalf("supervisord exited at start:\n%s\n%s", readFile(out.Name()), readFile(sv.logFile))
		default:
		}
		_, err := os.Stat(sock)
		return err == nil
	})
	return sv
}

// ctl runs supervisorctl against this supervisord. Its exit status is not checked: `status` exits 3 for a
// stopped program; callers check the output.
func (sv *supervisor) ctl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	out, err := exec.CommandContext(ctx, sv.ctlPath, append([]string{"-c", sv.conf}, args...)...).CombinedOutput()
	require.NoError(t, ctx.Err(), "supervisorctl %v hung", args)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("supervisorctl %v: %v", args, err)
	}
	return string(out)
}

// status returns the program's state and, when it runs, its pid.
func (sv *supervisor) status(t *testing.T) (string, int) {
	t.Helper()
	out := sv.ctl(t, "status", program)
	f := strings.Fields(out)
	require.GreaterOrEqual(t, len(f), 2, "supervisorctl status: %q", out)
	require.Equal(t, program, f[0], "supervisorctl status: %q", out)
	if f[1] != "RUNNING" {
		return f[1], 0
	}
	require.GreaterOrEqual(t, len(f), 4, "supervisorctl status: %q", out)
	pid, err := strconv.Atoi(strings.TrimSuffix(f[3], ","))
	require.NoError(t, err, "supervisorctl status: %q", out)
	return f[1], pid
}

// waitRunning waits until supervisorctl status shows the program RUNNING in a process other than notPid.
func (sv *supervisor) waitRunning(t *testing.T, notPid int) int {
	t.Helper()
	var pid int
	waitFor(t, "supervisorctl status: queuebridge RUNNING (a new process)", func() bool {
		var state string
		state, pid = sv.status(t)
		if state == "FATAL" || state == "BACKOFF" {
			t.Fatalf("queuebridge is %s:\n%s", state, readFile(sv.logFile))
		}
		return state == "RUNNING" && pid != notPid
	})
	return pid
}

// shutdown stops supervisord (and the bridge with it); a supervisord that does not go is killed.
func (sv *supervisor) shutdown(t *testing.T) {
	select {
	case <-sv.exited:
		return
	default:
	}
	_, _ = exec.Command(sv.ctlPath, "-c", sv.conf, "shutdown").CombinedOutput()
	select {
	case <-sv.exited:
	case <-time.After(waitLimit):
		t.Errorf("supervisord did not shut down; killing it (pid %d)", sv.cmd.Process.Pid)
		_ = sv.cmd.Process.Signal(syscall.SIGKILL)
		<-sv.exited
	}
}

// ledger reads what testdata/notify's handler recorded: "<id>|<pid>" on <key>:started and <key>:done.
type ledger struct {
	rdb *goredis.Client
	key string
}

type mark struct {
	id  string
	pid int
}

func (l ledger) marks(t *testing.T, what string) []mark {
	t.Helper()
	vals, err := l.rdb.LRange(context.Background(), l.key+":"+what, 0, -1).Result()
	require.NoError(t, err)
	marks := make([]mark, 0, len(vals))
	for _, v := range vals {
		id, p, ok := strings.Cut(v, "|")
		require.True(t, ok, "ledger entry %q", v)
		pid, err := strconv.Atoi(p)
		require.NoError(t, err, "ledger entry %q", v)
		marks = append(marks, mark{id, pid})
	}
	return marks
}

// waitInFlight waits until process pid runs n jobs that have not finished, and returns their ids.
func (l ledger) waitInFlight(t *testing.T, pid, n int) []string {
	t.Helper()
	var ids []string
	waitFor(t, fmt.Sprintf("%d jobs in flight in pid %d", n, pid), func() bool {
		done := map[mark]bool{}
		for _, m := range l.marks(t, "done") {
			done[m] = true
		}
		ids = ids[:0]
		for _, m := range l.marks(t, "started") {
			if m.pid == pid && !done[m] {
				ids = append(ids, m.id)
			}
		}
		return len(ids) >= n
	})
	return ids
}

func payloadID(t *testing.T, raw string) string {
	t.Helper()
	var p struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &p), "payload %s", raw)
	require.NotEmpty(t, p.ID, "payload %s has no id", raw)
	return p.ID
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
