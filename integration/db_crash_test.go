package integration

import (
	"context"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestDBCrash: a bridge subprocess on a MariaDB jobs table (think-queue 3.x, --expire 2) is killed with
// SIGKILL in the middle of a job. The row stays reserved; once its reservation lapses a second bridge
// reserves it again and runs it with attempts() 2; the 20 jobs queued behind it run exactly once each, and
// the table ends empty: nothing is lost.
func TestDBCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	be := newBackend(t, "mysql", dialectV3)
	be.Expire = 2 * time.Second
	started, done, gate, log := be.Key("started"), be.Key("done"), be.Key("gate"), be.Key("log")
	const q = "crash"

	b := be.Open(bridge.WorkerConfig{})
	blockID, err := b.Push(ctx, q, `test\Block`, blockData{Started: started, Done: done, Gate: gate})
	require.NoError(t, err)
	var ids []string
	for range 20 {
		id, err := b.Push(ctx, q, `test\Record`, map[string]any{"log": log})
		require.NoError(t, err)
		ids = append(ids, id)
	}

	p1 := be.StartBridge(q, nil, "--sleep", "0.1")
	waitFor(t, "the first bridge started the blocking job", func() bool { return be.LLen(started) == 1 })
	p1.signal(syscall.SIGKILL)
	st := p1.wait()
	require.Equal(t, -1, st.ExitCode(), "killed by a signal")
	require.Equal(t, 21, be.Count("jobs", ""), "nothing was deleted; the job is still reserved")
	require.Equal(t, 1, be.Count("jobs", "id = ? AND reserve_time IS NOT NULL", blockID))

	p2 := be.StartBridge(q, nil, "--sleep", "0.1", "--concurrency", "2")
	waitFor(t, "the reservation lapsed and the job ran again", func() bool { return be.LLen(started) == 2 })
	be.OpenGate(gate)
	waitFor(t, "the table is empty", func() bool { return be.Count("jobs", "") == 0 })
	p2.signal(syscall.SIGTERM)
	p2.wait()

	runs := be.RecordsIn(started)
	require.Len(t, runs, 2)
	for i, r := range runs {
		require.Equal(t, blockID, r.ID, "the same row both times: %+v", r)
		require.Equal(t, i+1, r.Attempts, "attempts() of run %d: %+v", i+1, r)
	}
	require.Equal(t, []string{blockID}, be.RecordsIn(done).IDs())
	got := be.LRange(log)
	sort.Strings(got)
	sort.Strings(ids)
	require.Equal(t, ids, got, "every job behind it ran exactly once")
}
