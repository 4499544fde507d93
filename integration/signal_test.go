package integration

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignalFinishesRunningJob sends SIGTERM while a job runs: the bridge stops reserving at once (jobs pushed
// after the signal stay in the list, byte for byte), lets the running job finish within the grace period,
// acknowledges it, and exits 0.
//
// The job (a test\Block capped at 60 s) runs until the test opens its gate, once it has seen the worker stop
// and pushed more jobs, so "the signal came while the job ran" holds by construction, not by timing.
func TestSignalFinishesRunningJob(t *testing.T) {
	t.Parallel()
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, dialect)
			started, done, gate, log := f.key("started"), f.key("done"), f.key("gate"), f.key("log")
			b := f.open()
			id, _ := f.push(b, `test\Block`, map[string]any{"started": started, "done": done, "gate": gate, "ms": 60_000})

			p := f.startBridge(nil, "--sleep", "0.1", "--grace", "30")
			waitFor(t, "the job to start", func() bool { return f.llen(started) >= 1 })
			p.signal(syscall.SIGTERM)
			p.waitOutput(`msg="worker stopping"`, "reason=signal", "running=1")
			require.Zero(t, f.llen(done), "the job must still be running when the worker stops")

			var after []string
			for range 3 {
				_, raw := f.push(b, `test\Record`, map[string]string{"log": log})
				after = append(after, raw)
			}
			require.NoError(t, f.rdb.RPush(ctx, gate, "go").Err())

			st := p.wait()
			require.Equal(t, 0, st.ExitCode(), "exit status after SIGTERM")
			require.Equal(t, []string{id}, f.lrange(done), "the running job finished")
			n, err := f.rdb.Exists(ctx, f.reserved).Result()
			require.NoError(t, err)
			require.Zero(t, n, "the finished job was acknowledged: nothing left in :reserved")
			require.Equal(t, after, f.lrange(f.list), "jobs pushed after the signal stay in the list, untouched")
			require.Zero(t, f.llen(log), "no job pushed after the signal ran")
			require.Len(t, f.lrange(started), 1)
		})
	}
}

// TestSignalGraceHandsBackUnfinishedJob sends SIGTERM to a bridge with --grace 0.2 whose job runs until its
// context is cancelled: once the grace period is over the job is cancelled and handed back to the list
// exactly as it was pushed (v3: the raw body with attempts 0, not the reserved copy), and the bridge exits 0.
func TestSignalGraceHandsBackUnfinishedJob(t *testing.T) {
	t.Parallel()
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, dialect)
			started, done := f.key("started"), f.key("done")
			_, raw := f.push(f.open(), `test\Block`, map[string]string{"started": started, "done": done})

			p := f.startBridge(nil, "--sleep", "0.1", "--grace", "0.2")
			waitFor(t, "the job to start", func() bool { return f.llen(started) >= 1 })
			held := f.zrange(f.reserved)
			require.Len(t, held, 1, "the job is reserved while it runs")
			p.signal(syscall.SIGTERM)

			st := p.wait()
			require.Equal(t, 0, st.ExitCode(), "exit status after SIGTERM")
			require.Equal(t, []string{raw}, f.lrange(f.list), "the cancelled job is back in the list, same bytes as pushed")
			n, err := f.rdb.Exists(ctx, f.reserved, f.delayed, done).Result()
			require.NoError(t, err)
			require.Zero(t, n, "nothing reserved, nothing delayed, the job did not finish")
			require.Len(t, f.lrange(started), 1)
			failed, err := f.rdb.Exists(ctx, "{"+f.failedPrefix+":failed}").Result()
			require.NoError(t, err)
			require.Zero(t, failed, "a cancelled job is not a failed one")
		})
	}
}

// TestSignalSettlesJobFinishedAfterGrace covers a handler that does not watch its context and returns nil
// shortly after the grace period cancelled it (well inside the second the bridge then waits before it
// hands unfinished jobs back). The job ran to completion, so its outcome must be carried out: "delete" is
// acknowledged (not left in :reserved to run a second time once the reservation lapses); "release" (the
// handler called job.Release(0)) goes to :delayed as the dialect's released copy.
func TestSignalSettlesJobFinishedAfterGrace(t *testing.T) {
	t.Parallel()
	for _, dialect := range dialects {
		for _, outcome := range []string{"delete", "release"} {
			t.Run(dialect+"/"+outcome, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				f := newFixture(t, dialect)
				started, done, gate := f.key("started"), f.key("done"), f.key("gate")
				id, raw := f.push(f.open(), `test\Block`, map[string]any{"started": started, "done": done, "gate": gate,
					"ignore_ctx": true, "release": outcome == "release"})

				p := f.startBridge(nil, "--sleep", "0.1", "--grace", "0.2")
				waitFor(t, "the job to start", func() bool { return f.llen(started) >= 1 })
				p.signal(syscall.SIGTERM)
				p.waitOutput(`msg="grace period over`)
				require.NoError(t, f.rdb.RPush(ctx, gate, "go").Err())

				st := p.wait()
				require.Equal(t, 0, st.ExitCode(), "exit status after SIGTERM")
				require.Equal(t, []string{id}, f.lrange(done), "the job finished")
				if outcome == "release" {
					// v1 releases the popped bytes with attempts+1, v3 the reserved copy (attempts 1).
					var want string
					if strings.HasSuffix(dialect, "-v3") {
						want = withAttempts(t, raw, 0, 1)
					} else {
						want = withAttempts(t, raw, 1, 2)
					}
					delayed := f.zrange(f.delayed)
					require.Len(t, delayed, 1, "the released job is in :delayed")
					require.Equal(t, want, delayed[0].Member)
					require.NoError(t, f.rdb.Del(ctx, f.delayed).Err())
				}
				f.requireQueueEmpty() // not in :reserved, not handed back to the list
			})
		}
	}
}
