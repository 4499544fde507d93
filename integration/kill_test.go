package integration

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// killLoops is how many times TestKillLoop kills a bridge per dialect: 20 in the normal run, QB_KILL_LOOPS
// for the long version (scripts/kill-loop.sh).
func killLoops(t *testing.T) int {
	if s := os.Getenv("QB_KILL_LOOPS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "QB_KILL_LOOPS")
		return n
	}
	return 20
}

// TestKillLoop pushes jobs that append their id to a ledger, and SIGKILLs a bridge subprocess working them
// again and again at a random moment (concurrency 16, --expire 1); then one bridge finishes the queue. Not a
// job is lost, and every job that ran twice is explained: at some kill it had run (its id was in the ledger)
// but was still reserved (its acknowledgement had not landed).
func TestKillLoop(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t, "redis", dialect)
			be.Expire = time.Second
			q := be.Queue("kill")
			ledger := be.Key("ledger")
			loops := killLoops(t)
			jobs := 400 * loops

			pusher := be.Open(bridge.WorkerConfig{})
			pushed := make(map[string]bool, jobs)
			for range jobs {
				id, err := pusher.Push(context.Background(), q, `test\Record`, map[string]any{"log": ledger})
				require.NoError(t, err)
				pushed[id] = true
			}

			explained := map[string]bool{}
			work := []string{"--expire", "1", "--sleep", "0.1", "--concurrency", "16"}
			for range loops {
				p := be.StartBridge(q, nil, work...)
				p.waitOutput("bridge working")
				time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
				p.signal(syscall.SIGKILL)
				p.wait()
				ran := map[string]bool{}
				for _, id := range be.LRange(ledger) {
					ran[id] = true
				}
				for _, id := range be.reservedIDs(q) {
					if ran[id] {
						explained[id] = true // ran, and killed before its acknowledgement
					}
				}
			}

			final := be.StartBridge(q, nil, work...)
			final.waitOutput("bridge working")
			waitFor(t, "every job ran", func() bool {
				ran := map[string]bool{}
				for _, id := range be.LRange(ledger) {
					ran[id] = true
				}
				return len(ran) == jobs && be.QueueEmpty(q)
			})
			final.signal(syscall.SIGTERM)
			require.Equal(t, 0, final.wait().ExitCode())

			runs := map[string]int{}
			for _, id := range be.LRange(ledger) {
				require.True(t, pushed[id], "the ledger names a job nobody pushed: %s", id)
				runs[id]++
			}
			require.Len(t, runs, jobs, "every job ran")
			dups := 0
			for id, n := range runs {
				if n > 1 {
					dups++
					require.True(t, explained[id], "job %s ran %d times, yet no kill came between its run and its acknowledgement", id, n)
				}
			}
			t.Logf("%d kills, %d jobs, 0 lost, %d ran twice (all killed between finish and acknowledgement)", loops, jobs, dups)
			be.RequireGone(append(be.Keys(q).all(), be.FailedKeys()...)...)
		})
	}
}

// reservedIDs is the ids of the jobs of queue q held in its reserved set now.
func (be *backend) reservedIDs(q string) []string {
	be.t.Helper()
	var ids []string
	for _, z := range be.ZRange(be.Keys(q).Reserved) {
		var p struct {
			ID string `json:"id"`
		}
		require.NoError(be.t, json.Unmarshal([]byte(z.Member.(string)), &p))
		ids = append(ids, p.ID)
	}
	return ids
}
