package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// dbStartBridge runs `testbridge --connection <d> --dialect <dialect> --expire <expire> work --queue <q> …`.
func dbStartBridge(t *testing.T, d *dbBackend, dialect, expire, queue string, work ...string) *bridgeProc {
	t.Helper()
	env := Local()
	args := append([]string{"--connection", d.Connection, "--dialect", dialect, "--expire", expire,
		"work", "--queue", queue}, work...)
	cmd := exec.Command(testbridge(t), args...)
	cmd.Env = append(os.Environ(), "TESTBRIDGE_REDIS_ADDR="+env.RedisAddr(), fmt.Sprintf("TESTBRIDGE_REDIS_DB=%d", env.RedisDB()))
	p := &bridgeProc{t: t, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
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
			t.Logf("testbridge %v output:\n%s", args, p.out.String())
		}
	})
	return p
}

// TestDBCrash: a bridge subprocess on a MariaDB jobs table (think-queue 3.x, --expire 2) is killed with
// SIGKILL in the middle of a job. The row stays reserved; once its reservation lapses a second bridge
// reserves it again and runs it with attempts() 2; the 20 jobs queued behind it run exactly once each, and
// the table ends empty: nothing is lost.
func TestDBCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDBBackend(t, "mysql")
	const dialect = "thinkqueue-v3"
	d.migrate(t, dialect)
	f := newFixture(t, dialect) // trace keys in Redis, deleted at cleanup
	started, done, gate, log := f.key("started"), f.key("done"), f.key("gate"), f.key("log")
	const q = "crash"

	b := d.open(t, dialect, 0, bridge.WorkerConfig{})
	blockID, err := b.Push(ctx, q, `test\Block`, map[string]any{"started": started, "done": done, "gate": gate})
	require.NoError(t, err)
	var ids []string
	for range 20 {
		id, err := b.Push(ctx, q, `test\Record`, map[string]any{"log": log})
		require.NoError(t, err)
		ids = append(ids, id)
	}

	p1 := dbStartBridge(t, d, dialect, "2", q, "--sleep", "0.1")
	waitFor(t, "the first bridge started the blocking job", func() bool { return f.llen(started) == 1 })
	p1.signal(syscall.SIGKILL)
	st := p1.wait()
	require.Equal(t, -1, st.ExitCode(), "killed by a signal")
	require.Equal(t, 21, d.count(t, "jobs", ""), "nothing was deleted; the job is still reserved")
	require.Equal(t, 1, d.count(t, "jobs", "id = ? AND reserve_time IS NOT NULL", blockID))

	p2 := dbStartBridge(t, d, dialect, "2", q, "--sleep", "0.1", "--concurrency", "2")
	waitFor(t, "the reservation lapsed and the job ran again", func() bool { return f.llen(started) == 2 })
	require.NoError(t, f.rdb.RPush(ctx, gate, "go").Err())
	waitFor(t, "the table is empty", func() bool { return d.count(t, "jobs", "") == 0 })
	p2.signal(syscall.SIGTERM)
	p2.wait()

	marks := f.lrange(started)
	require.Len(t, marks, 2)
	for i, m := range marks {
		parts := strings.Split(m, "|")
		require.Equal(t, blockID, parts[0], "the same row both times: %s", m)
		require.Equal(t, strconv.Itoa(i+1), parts[1], "attempts() of run %d: %s", i+1, m)
	}
	require.Equal(t, []string{blockID}, f.lrange(done))
	got := f.lrange(log)
	sort.Strings(got)
	sort.Strings(ids)
	require.Equal(t, ids, got, "every job behind it ran exactly once")
}
