package integration

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCrashRecoversReservedJob kills a bridge with SIGKILL while its job runs: the job stays in :reserved
// (nothing extends it any more), and a second bridge runs it again once the reservation has expired, not
// before, counting the attempt as the PHP library does. Nothing is lost and nothing runs a third time.
func TestCrashRecoversReservedJob(t *testing.T) {
	t.Parallel()
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, dialect)
			started, done, gate := f.key("started"), f.key("done"), f.key("gate")
			id, raw := f.push(f.open(), `test\Block`, map[string]string{"started": started, "done": done, "gate": gate})
			v3 := strings.HasSuffix(dialect, "-v3")
			if v3 {
				require.True(t, strings.HasSuffix(raw, `"attempts":0}`), raw)
			} else {
				require.True(t, strings.HasSuffix(raw, `"attempts":1}`), raw)
			}

			// `work --expire 2`: a connection flag after the command, as PHP users type it.
			first := f.startBridge(nil, "--expire", "2", "--sleep", "0.1")
			waitFor(t, "the first run to start", func() bool { return f.llen(started) >= 1 })
			first.signal(syscall.SIGKILL)
			st := first.wait()
			ws, ok := st.Sys().(syscall.WaitStatus)
			require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "exit: %v", st)
			run1 := parseMark(t, f.lrange(started)[0])
			require.Equal(t, id, run1.id)
			require.Equal(t, 1, run1.attempts)

			// The job sits in :reserved as the PHP library holds it: v1 the popped bytes, v3 the copy with
			// attempts+1. Its score is when the second bridge may take it back.
			held := f.zrange(f.reserved)
			require.Len(t, held, 1)
			want := raw
			if v3 {
				want = withAttempts(t, raw, 0, 1)
			}
			require.Equal(t, want, held[0].Member)
			expiry := int64(held[0].Score)
			require.Zero(t, f.llen(f.list))
			require.Zero(t, f.llen(done))

			second := f.startBridge(nil, "--expire", "2", "--sleep", "0.1")
			waitFor(t, "the second run to start", func() bool { return f.llen(started) >= 2 })
			run2 := parseMark(t, f.lrange(started)[1])
			require.Equal(t, id, run2.id)
			require.Equal(t, 2, run2.attempts, "attempts() of the run after the crash")
			require.GreaterOrEqual(t, run2.unix, expiry, "the job ran again before its reservation expired")

			// v1 recovers the expired member re-encoded with attempts+1 (payload attempts 2) and reserves it as
			// popped; v3 moves the member (attempts 1) back unchanged and reserves a copy with attempts 2.
			held = f.zrange(f.reserved)
			require.Len(t, held, 1)
			if v3 {
				require.Equal(t, withAttempts(t, raw, 0, 2), held[0].Member)
			} else {
				require.Equal(t, withAttempts(t, raw, 1, 2), held[0].Member)
			}
			require.Zero(t, f.llen(f.list))

			require.NoError(t, f.rdb.RPush(ctx, gate, "go").Err())
			waitFor(t, "the second run to finish", func() bool { return f.llen(done) >= 1 })
			waitFor(t, "the job to be acknowledged", func() bool {
				n, err := f.rdb.Exists(ctx, f.reserved).Result()
				require.NoError(t, err)
				return n == 0
			})
			second.signal(syscall.SIGTERM)
			require.Equal(t, 0, second.wait().ExitCode())

			require.Len(t, f.lrange(started), 2, "the job ran exactly twice: killed once, finished once")
			require.Equal(t, []string{id}, f.lrange(done))
			f.requireQueueEmpty()
		})
	}
}

// mark is what test\Block records when it starts: "<id>|<attempts()>|<unix seconds>".
type mark struct {
	id       string
	attempts int
	unix     int64
}

func parseMark(t testing.TB, s string) mark {
	t.Helper()
	parts := strings.Split(s, "|")
	require.Len(t, parts, 3, s)
	attempts, err := strconv.Atoi(parts[1])
	require.NoError(t, err, s)
	unix, err := strconv.ParseInt(parts[2], 10, 64)
	require.NoError(t, err, s)
	return mark{id: parts[0], attempts: attempts, unix: unix}
}

// withAttempts returns payload with its trailing "attempts":from replaced by to: what PHP's re-encode of a
// payload it wrote itself gives (json_encode(json_decode($p, true)) is the identity on such bytes).
func withAttempts(t testing.TB, payload string, from, to int) string {
	t.Helper()
	old := `"attempts":` + strconv.Itoa(from) + `}`
	require.True(t, strings.HasSuffix(payload, old), payload)
	return strings.TrimSuffix(payload, old) + `"attempts":` + strconv.Itoa(to) + `}`
}
