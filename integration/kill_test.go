package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// killLoops is how many times TestKillLoop kills a bridge per store and dialect: 20 in the normal run,
// QB_KILL_LOOPS for the long version (scripts/kill-loop.sh).
func killLoops(t *testing.T) int {
	if s := os.Getenv("QB_KILL_LOOPS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "QB_KILL_LOOPS")
		return n
	}
	return 20
}

// killStores are the stores and dialects TestKillLoop runs on: Redis in every dialect family, and the jobs
// table on MariaDB and SQLite in think-queue 3.x's and Laravel's layouts.
var killStores = []struct{ kind, dialect string }{
	{"redis", dialectV1}, {"redis", dialectV3}, {"redis", dialectLaravel},
	{"mysql", dialectV3}, {"mysql", dialectLaravel},
	{"sqlite", dialectV3}, {"sqlite", dialectLaravel},
}

// TestKillLoop pushes jobs that append their id to a ledger, and SIGKILLs a bridge subprocess working them
// again and again at a random moment (concurrency 16, --expire 1; 3 on a jobs table); then one bridge finishes the queue. Not a
// job is lost, and every job that ran twice is explained: at some kill it had run (its id was in the ledger)
// but had not been acknowledged (on Redis it was still in the reserved set; on a jobs table its row was
// still there).
func TestKillLoop(t *testing.T) {
	t.Parallel()
	for _, s := range killStores {
		t.Run(s.kind+"/"+s.dialect, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t, s.kind, s.dialect)
			// A jobs table counts reservations in whole seconds: one reserved late in a second lapses early in
			// the next, so the database stores get 3 s, not 1 s, lest live workers take each other's jobs.
			be.Expire = time.Second
			if s.kind != "redis" {
				be.Expire = 3 * time.Second
			}
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
			work := []string{"--sleep", "0.1", "--concurrency", "16"}
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
				for _, id := range be.unacknowledgedIDs(q) {
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
				return len(ran) == jobs && be.drained(q)
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
			if s.kind == "redis" {
				be.RequireGone(append(be.Keys(q).all(), be.FailedKeys()...)...)
			} else {
				require.Zero(t, be.Count("jobs", ""), "the jobs table is empty")
				require.Zero(t, be.Count("failed_jobs", ""), "no job failed")
			}
		})
	}
}

// unacknowledgedIDs is the ids of queue q's jobs not acknowledged: on Redis those in the reserved set; on
// a jobs table those whose row is still there (a job's row is deleted as its acknowledgement), waiting
// ones included, which the ledger does not name.
func (be *backend) unacknowledgedIDs(q string) []string {
	be.t.Helper()
	var ids []string
	if be.Kind != "redis" {
		for _, r := range be.Rows("SELECT id FROM jobs WHERE queue = ?", q) {
			ids = append(ids, fmt.Sprint(r["id"]))
		}
		return ids
	}
	for _, z := range be.ZRange(be.Keys(q).Reserved) {
		var p struct {
			ID string `json:"id"`
		}
		require.NoError(be.t, json.Unmarshal([]byte(z.Member.(string)), &p))
		ids = append(ids, p.ID)
	}
	return ids
}

// drained reports whether queue q holds no job any more, waiting, delayed or reserved.
func (be *backend) drained(q string) bool {
	be.t.Helper()
	if be.Kind == "redis" {
		return be.QueueEmpty(q)
	}
	return be.Count("jobs", "queue = ?", q) == 0
}
