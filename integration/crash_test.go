package integration

import (
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestCrashRecoversReservedJob kills a bridge with SIGKILL while its job runs: the job stays in :reserved
// (nothing extends it any more), and a second bridge runs it again once the reservation has expired, not
// before, counting the attempt as the PHP library does. Nothing is lost and nothing runs a third time.
func TestCrashRecoversReservedJob(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t, "redis", dialect)
			q := be.Queue("crash")
			k := be.Keys(q)
			started, done, gate := be.Key("started"), be.Key("done"), be.Key("gate")
			id, raw := be.Push(be.Open(bridge.WorkerConfig{}), q, `test\Block`, blockData{Started: started, Done: done, Gate: gate})
			v3 := strings.HasSuffix(dialect, "-v3")
			if v3 {
				require.True(t, strings.HasSuffix(raw, `"attempts":0}`), raw)
			} else {
				require.True(t, strings.HasSuffix(raw, `"attempts":1}`), raw)
			}

			// `work --expire 2`: a connection flag after the command, as PHP users type it.
			first := be.StartBridge(q, nil, "--expire", "2", "--sleep", "0.1")
			waitFor(t, "the first run to start", func() bool { return be.LLen(started) >= 1 })
			first.signal(syscall.SIGKILL)
			st := first.wait()
			ws, ok := st.Sys().(syscall.WaitStatus)
			require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "exit: %v", st)
			run1 := be.RecordsIn(started)[0]
			require.Equal(t, id, run1.ID)
			require.Equal(t, 1, run1.Attempts)

			// The job sits in :reserved as the PHP library holds it: v1 the popped bytes, v3 the copy with
			// attempts+1. Its score is when the second bridge may take it back.
			held := be.ZRange(k.Reserved)
			require.Len(t, held, 1)
			want := raw
			if v3 {
				want = withAttempts(t, raw, 0, 1)
			}
			require.Equal(t, want, held[0].Member)
			expiry := int64(held[0].Score)
			require.Zero(t, be.LLen(k.List))
			require.Zero(t, be.LLen(done))

			second := be.StartBridge(q, nil, "--expire", "2", "--sleep", "0.1")
			waitFor(t, "the second run to start", func() bool { return be.LLen(started) >= 2 })
			run2 := be.RecordsIn(started)[1]
			require.Equal(t, id, run2.ID)
			require.Equal(t, 2, run2.Attempts, "attempts() of the run after the crash")
			require.GreaterOrEqual(t, run2.Time().Unix(), expiry, "the job ran again before its reservation expired")

			// v1 recovers the expired member re-encoded with attempts+1 (payload attempts 2) and reserves it as
			// popped; v3 moves the member (attempts 1) back unchanged and reserves a copy with attempts 2.
			held = be.ZRange(k.Reserved)
			require.Len(t, held, 1)
			if v3 {
				require.Equal(t, withAttempts(t, raw, 0, 2), held[0].Member)
			} else {
				require.Equal(t, withAttempts(t, raw, 1, 2), held[0].Member)
			}
			require.Zero(t, be.LLen(k.List))

			be.OpenGate(gate)
			waitFor(t, "the second run to finish", func() bool { return be.LLen(done) >= 1 })
			waitFor(t, "the job to be acknowledged", func() bool { return !be.Exists(k.Reserved) })
			second.signal(syscall.SIGTERM)
			require.Equal(t, 0, second.wait().ExitCode())

			require.Len(t, be.RecordsIn(started), 2, "the job ran exactly twice: killed once, finished once")
			require.Equal(t, []string{id}, be.RecordsIn(done).IDs())
			be.RequireGone(append(k.all(), be.FailedKeys()...)...)
		})
	}
}

// withAttempts returns payload with its trailing "attempts":from replaced by to: what PHP's re-encode of a
// payload it wrote itself gives (json_encode(json_decode($p, true)) is the identity on such bytes).
func withAttempts(t testing.TB, payload string, from, to int) string {
	t.Helper()
	old := `"attempts":` + strconv.Itoa(from) + `}`
	require.True(t, strings.HasSuffix(payload, old), payload)
	return strings.TrimSuffix(payload, old) + `"attempts":` + strconv.Itoa(to) + `}`
}
