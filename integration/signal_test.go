package integration

import (
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestSignalFinishesRunningJob sends SIGTERM while a job runs: the bridge stops reserving at once (jobs pushed
// after the signal stay in the list, byte for byte), lets the running job finish within the grace period,
// acknowledges it, and exits 0.
//
// The job (a test\Block capped at 60 s) runs until the test opens its gate, once it has seen the worker stop
// and pushed more jobs, so "the signal came while the job ran" holds by construction, not by timing.
func TestSignalFinishesRunningJob(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t, "redis", dialect)
			q := be.Queue("signal")
			k := be.Keys(q)
			started, done, gate, log := be.Key("started"), be.Key("done"), be.Key("gate"), be.Key("log")
			b := be.Open(bridge.WorkerConfig{})
			id, _ := be.Push(b, q, `test\Block`, blockData{Started: started, Done: done, Gate: gate, MS: 60_000})

			p := be.StartBridge(q, nil, "--sleep", "0.1", "--grace", "30")
			waitFor(t, "the job to start", func() bool { return be.LLen(started) >= 1 })
			p.signal(syscall.SIGTERM)
			p.waitOutput(`msg="worker stopping"`, "reason=signal", "running=1")
			require.Zero(t, be.LLen(done), "the job must still be running when the worker stops")

			var after []string
			for range 3 {
				_, raw := be.Push(b, q, `test\Record`, map[string]string{"log": log})
				after = append(after, raw)
			}
			be.OpenGate(gate)

			st := p.wait()
			require.Equal(t, 0, st.ExitCode(), "exit status after SIGTERM")
			require.Equal(t, []string{id}, be.RecordsIn(done).IDs(), "the running job finished")
			require.False(t, be.Exists(k.Reserved), "the finished job was acknowledged: nothing left in :reserved")
			require.Equal(t, after, be.LRange(k.List), "jobs pushed after the signal stay in the list, untouched")
			require.Zero(t, be.LLen(log), "no job pushed after the signal ran")
			require.Len(t, be.RecordsIn(started), 1)
		})
	}
}

// TestSignalGraceHandsBackUnfinishedJob sends SIGTERM to a bridge with --grace 0.2 whose job runs until its
// context is cancelled: once the grace period is over the job is cancelled and handed back to the list
// exactly as it was pushed (v3: the raw body with attempts 0, not the reserved copy), and the bridge exits 0.
func TestSignalGraceHandsBackUnfinishedJob(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t, "redis", dialect)
			q := be.Queue("grace")
			k := be.Keys(q)
			started, done := be.Key("started"), be.Key("done")
			_, raw := be.Push(be.Open(bridge.WorkerConfig{}), q, `test\Block`, blockData{Started: started, Done: done})

			p := be.StartBridge(q, nil, "--sleep", "0.1", "--grace", "0.2")
			waitFor(t, "the job to start", func() bool { return be.LLen(started) >= 1 })
			require.Len(t, be.ZRange(k.Reserved), 1, "the job is reserved while it runs")
			p.signal(syscall.SIGTERM)

			st := p.wait()
			require.Equal(t, 0, st.ExitCode(), "exit status after SIGTERM")
			require.Equal(t, []string{raw}, be.LRange(k.List), "the cancelled job is back in the list, same bytes as pushed")
			for _, key := range []string{k.Reserved, k.Delayed, done} {
				require.False(t, be.Exists(key), "nothing reserved, nothing delayed, the job did not finish: %s", key)
			}
			require.Len(t, be.RecordsIn(started), 1)
			require.False(t, be.Exists(be.FailedKeys()[0]), "a cancelled job is not a failed one")
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
	for _, dialect := range thinkQueueDialects {
		for _, outcome := range []string{"delete", "release"} {
			t.Run(dialect+"/"+outcome, func(t *testing.T) {
				t.Parallel()
				be := newBackend(t, "redis", dialect)
				q := be.Queue("settle")
				k := be.Keys(q)
				started, done, gate := be.Key("started"), be.Key("done"), be.Key("gate")
				id, raw := be.Push(be.Open(bridge.WorkerConfig{}), q, `test\Block`, blockData{Started: started,
					Done: done, Gate: gate, IgnoreCtx: true, Release: outcome == "release"})

				p := be.StartBridge(q, nil, "--sleep", "0.1", "--grace", "0.2")
				waitFor(t, "the job to start", func() bool { return be.LLen(started) >= 1 })
				p.signal(syscall.SIGTERM)
				p.waitOutput(`msg="grace period over`)
				be.OpenGate(gate)

				st := p.wait()
				require.Equal(t, 0, st.ExitCode(), "exit status after SIGTERM")
				require.Equal(t, []string{id}, be.RecordsIn(done).IDs(), "the job finished")
				if outcome == "release" {
					// v1 releases the popped bytes with attempts+1, v3 the reserved copy (attempts 1).
					var want string
					if strings.HasSuffix(dialect, "-v3") {
						want = withAttempts(t, raw, 0, 1)
					} else {
						want = withAttempts(t, raw, 1, 2)
					}
					delayed := be.ZRange(k.Delayed)
					require.Len(t, delayed, 1, "the released job is in :delayed")
					require.Equal(t, want, delayed[0].Member)
					require.NoError(t, be.Redis.Del(t.Context(), k.Delayed).Err())
				}
				// Not in :reserved, not handed back to the list, nothing failed.
				be.RequireGone(append(k.all(), be.FailedKeys()...)...)
			})
		}
	}
}
