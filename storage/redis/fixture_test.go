package redis

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
)

// The golden fixtures were captured from the real think-queue running against Redis (see
// shared/fixtures/thinkqueue/INDEX.md). These tests replay each captured worker run through the broker with
// the real dialect and the clock pinned to the capture's seconds, and require every queue key to hold
// exactly what PHP left there, at every point the capture observed.
const fixtureRoot = "../../../shared/fixtures/thinkqueue"

type fxState struct {
	Now   int64                 `json:"now"`
	Redis map[string]fxRedisKey `json:"redis"`
	// FailedJobs is v3's failed_jobs table.
	FailedJobs []struct {
		Payload string `json:"payload"`
	} `json:"table:failed_jobs"`
}

type fxRedisKey struct {
	Type  string          `json:"type"`
	Items json.RawMessage `json:"items"`
}

type fxScenario struct {
	Config struct {
		Expire       int64 `json:"expire_or_retry_after"`
		ReleaseDelay int64 `json:"release_delay"`
	} `json:"config"`
	Pushed struct {
		State fxState `json:"state"`
	} `json:"pushed"`
	Rounds []struct {
		Observed []struct {
			Where string `json:"where"`
			Job   struct {
				RawBody     *string `json:"getRawBody"`
				ReservedJob *string `json:"getReservedJob"`
			} `json:"job"`
			State fxState `json:"state"`
		} `json:"observed_inside"`
		After fxState `json:"state_after_exit"`
	} `json:"rounds"`
}

// fixtureRun replays one scenario file.
type fixtureRun struct {
	t       *testing.T
	tb      *testBundle
	dialect thinkqueue.Dialect
	sc      fxScenario
	keyMap  map[string]string // fixture key (queue "default") -> this test's key
}

func loadScenario(t *testing.T, version, scenario string) fxScenario {
	t.Helper()
	path := filepath.Join(fixtureRoot, version, "redis", scenario+".json")
	data, err := os.ReadFile(path)
	require.NoError(t, err, "fixture missing: %s", path)
	var sc fxScenario
	require.NoError(t, json.Unmarshal(data, &sc), path)
	require.NotEmpty(t, sc.Rounds, path)
	return sc
}

func newFixtureRun(t *testing.T, version, scenario string) *fixtureRun {
	t.Helper()
	sc := loadScenario(t, version, scenario)
	d, err := thinkqueue.ParseDialect("thinkqueue-" + version)
	require.NoError(t, err)
	tb := setup(t, d, &Config{Expire: time.Duration(sc.Config.Expire) * time.Second})
	l, dl, r := d.QueueKeys(thinkqueue.DefaultQueue)
	run := &fixtureRun{t: t, tb: tb, dialect: d, sc: sc,
		keyMap: map[string]string{l: tb.list, dl: tb.delayed, r: tb.held}}
	run.seed(sc.Pushed.State)
	return run
}

// want converts a captured state into what testBundle.state reports, renaming the keys.
func (run *fixtureRun) want(st fxState) map[string][]string {
	t := run.t
	t.Helper()
	out := map[string][]string{}
	for key, v := range st.Redis {
		ours, ok := run.keyMap[key]
		require.True(t, ok, "fixture key %q is not one of the dialect's keys for queue %q", key, thinkqueue.DefaultQueue)
		switch v.Type {
		case "list":
			var items []string
			require.NoError(t, json.Unmarshal(v.Items, &items))
			out[ours] = items
		case "zset":
			var items []struct {
				Member string  `json:"member"`
				Score  float64 `json:"score"`
			}
			require.NoError(t, json.Unmarshal(v.Items, &items))
			for _, z := range items {
				out[ours] = append(out[ours], zentry(z.Member, int64(z.Score)-st.Now))
			}
		default:
			t.Fatalf("fixture key %q has type %q", key, v.Type)
		}
	}
	return out
}

// seed writes a captured starting state (pushed jobs only) into this test's list.
func (run *fixtureRun) seed(st fxState) {
	run.t.Helper()
	run.tb.clock.Set(st.Now)
	for key, items := range run.want(st) {
		require.Equal(run.t, run.tb.list, key, "the captures start from pushed jobs only")
		run.tb.seedList(run.t, items...)
	}
}

// check pins the clock to the capture's second and compares the whole queue state.
func (run *fixtureRun) check(where string, st fxState) {
	run.t.Helper()
	run.tb.clock.Set(st.Now)
	require.Empty(run.t, cmp.Diff(run.want(st), run.tb.state(run.t)), "%s (-want, +got)", where)
}

// reserve pops the round's job at the second PHP popped it (the first observation's clock) and checks the
// reservation against what the PHP Job object reported.
func (run *fixtureRun) reserve(round int) queue.Reservation {
	t := run.t
	t.Helper()
	rd := run.sc.Rounds[round]
	run.tb.clock.Set(rd.Observed[0].State.Now)
	got, err := run.tb.broker.Reserve(context.Background(), run.tb.queue, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "round %d", round+1)
	r := got[0]
	for _, obs := range rd.Observed {
		if obs.Job.RawBody != nil {
			require.Equal(t, *obs.Job.RawBody, string(r.Raw), "round %d %s: getRawBody", round+1, obs.Where)
		}
		if obs.Job.ReservedJob != nil {
			require.Equal(t, *obs.Job.ReservedJob, string(r.Member), "round %d %s: getReservedJob", round+1, obs.Where)
		}
	}
	return r
}

var fixtureVersions = []string{"v1", "v3"}

func TestFixtureReserve(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			run := newFixtureRun(t, v, "reserve")
			rd := run.sc.Rounds[0]
			r := run.reserve(0)
			run.check("before delete", rd.Observed[0].State)

			n, err := run.tb.broker.Delete(context.Background(), run.tb.queue, r.Member)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			run.check("after delete", rd.Observed[1].State)
			run.check("after exit", rd.After)
		})
	}
}

func TestFixtureRelease(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			run := newFixtureRun(t, v, "release")
			for i, rd := range run.sc.Rounds {
				r := run.reserve(i)
				run.check("before release", rd.Observed[0].State)

				payload, err := run.dialect.ReleasedCopy(r.Raw, r.Member)
				require.NoError(t, err)
				at := time.Unix(rd.Observed[1].State.Now+run.sc.Config.ReleaseDelay, 0)
				ok, err := run.tb.broker.Release(context.Background(), r, payload, at)
				require.NoError(t, err)
				require.True(t, ok)
				run.check("after release", rd.Observed[1].State)
				run.check("after exit", rd.After)
			}
		})
	}
}

// TestFixtureFailNoop replays a job that never deletes itself with expire 2 and --tries 2: two expiries
// bring it back (v1 rewritten with attempts+1, v3 moved unchanged), and the third pop fails it.
func TestFixtureFailNoop(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			run := newFixtureRun(t, v, "fail_noop")
			require.Len(t, run.sc.Rounds, 3)
			for i, rd := range run.sc.Rounds[:2] {
				run.reserve(i)
				run.check("inside fire", rd.Observed[0].State)
				run.check("after exit", rd.After)
			}

			last := run.sc.Rounds[2]
			r := run.reserve(2)
			if v == "v1" {
				// think-queue v1 deletes the job and keeps nothing.
				n, err := run.tb.broker.Delete(ctx, run.tb.queue, r.Member)
				require.NoError(t, err)
				require.Equal(t, 1, n)
			} else {
				require.NoError(t, run.tb.broker.Fail(ctx, r, queue.FailedJob{
					ID: "1", Connection: "redis", Queue: thinkqueue.DefaultQueue, Payload: r.Raw,
				}))
				got, ok, err := run.tb.broker.FailedJob(ctx, "1")
				require.NoError(t, err)
				require.True(t, ok)
				require.Len(t, last.After.FailedJobs, 1)
				require.Equal(t, last.After.FailedJobs[0].Payload, string(got.Payload), "failed_jobs.payload is the list copy")
			}
			for _, obs := range last.Observed {
				run.check(obs.Where, obs.State)
			}
			run.check("after exit", last.After)
		})
	}
}
