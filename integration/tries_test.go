package integration

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/events"
)

// fxKey is one Redis key of a fixture's state snapshot.
type fxKey struct {
	Type  string          `json:"type"`
	Items json.RawMessage `json:"items"`
}

type fxZ struct {
	Member string  `json:"member"`
	Score  float64 `json:"score"`
}

type fxState struct {
	Now   int64            `json:"now"`
	Redis map[string]fxKey `json:"redis"`
}

type fxJob struct {
	GetRawBody     string `json:"getRawBody"`
	Attempts       int    `json:"attempts"`
	GetReservedJob string `json:"getReservedJob"`
}

// fxScenario is the raw capture of a think-queue worker fixture (fail_throw.json, release.json).
type fxScenario struct {
	Summary json.RawMessage `json:"summary"`
	Pushed  struct {
		State fxState `json:"state"`
	} `json:"pushed"`
	Rounds []struct {
		Round          int `json:"round"`
		ObservedInside []struct {
			Where string  `json:"where"`
			Job   *fxJob  `json:"job"`
			State fxState `json:"state"`
		} `json:"observed_inside"`
		StateAfterExit fxState `json:"state_after_exit"`
	} `json:"rounds"`
}

// loadScenario reads the think-queue worker fixture <version>/redis/<name>.
func loadScenario(t testing.TB, version, name string) *fxScenario {
	t.Helper()
	raw, err := os.ReadFile(fixturePath(t, "thinkqueue", version, "redis", name))
	require.NoError(t, err)
	var s fxScenario
	require.NoError(t, json.Unmarshal(raw, &s), name)
	return &s
}

// list returns the items of a list key of a snapshot (nil when the key is absent).
func (s fxState) list(t testing.TB, key string) []string {
	t.Helper()
	k, ok := s.Redis[key]
	if !ok {
		return nil
	}
	require.Equal(t, "list", k.Type, key)
	var items []string
	require.NoError(t, json.Unmarshal(k.Items, &items), key)
	return items
}

// zset returns the members of a zset key of a snapshot (nil when the key is absent).
func (s fxState) zset(t testing.TB, key string) []fxZ {
	t.Helper()
	k, ok := s.Redis[key]
	if !ok {
		return nil
	}
	require.Equal(t, "zset", k.Type, key)
	var items []fxZ
	require.NoError(t, json.Unmarshal(k.Items, &items), key)
	return items
}

func members(zs []goredis.Z) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.Member.(string)
	}
	return out
}

func fxMembers(zs []fxZ) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.Member
	}
	return out
}

// held is what a handler saw of the reserved set while it ran.
type held struct {
	reserved []goredis.Z
	err      error
}

// errAlwaysThrows is the exception the fixtures' app\job\Fail throws.
var errAlwaysThrows = &phpError{Class: "Exception", Message: "Fail job always throws"}

// thrower always fails; each run is recorded (throw) with the time it started and what it saw of the
// reserved set (Seen), and its Failed hook too (failed, with the error it got).
type thrower struct {
	rec      *recorder
	rdb      *goredis.Client
	reserved string
}

func (h thrower) ProcessJob(ctx context.Context, job *bridge.Job) error {
	start := time.Now()
	zs, err := h.rdb.ZRangeWithScores(ctx, h.reserved, 0, -1).Result()
	h.rec.Record(job, "throw", func(r *record) {
		r.T, r.Seen = float64(start.UnixMicro())/1e6, held{reserved: zs, err: err}
	})
	return errAlwaysThrows
}

func (h thrower) Failed(_ context.Context, job *bridge.Job, err error) {
	h.rec.Record(job, "failed", func(r *record) { r.Err = err })
}

// checkRun compares what a failing run saw inside its handler with what PHP saw inside fire().
// runFrom is the Unix second before the worker started, a lower bound of the pop time.
func checkRun(t *testing.T, round int, runFrom int64, run record, fx fxJob, fxState fxState, fxReserved string, expire int64) {
	t.Helper()
	h, ok := run.Seen.(held)
	require.True(t, ok, "round %d: the run saw nothing", round)
	require.NoError(t, h.err)
	require.Equal(t, fx.Attempts, run.Attempts, "round %d: attempts()", round)
	require.Equal(t, fx.GetRawBody, run.Raw, "round %d: raw body", round)
	wantHeld := fxState.zset(t, fxReserved)
	require.Len(t, wantHeld, 1, "fixture round %d", round)
	require.Equal(t, fxMembers(wantHeld), members(h.reserved), "round %d: the reserved member while the job runs", round)
	require.Equal(t, wantHeld[0].Member, run.Member, "round %d: Job.Reservation().Member", round)
	// PHP: score = pop time + expire, whole seconds.
	score := int64(h.reserved[0].Score)
	require.GreaterOrEqual(t, score, runFrom+expire, "round %d: reserved score", round)
	require.LessOrEqual(t, score, run.Time().Unix()+expire, "round %d: reserved score", round)
}

// TestTriesV1 follows v1/redis/fail_throw.json: --tries 2, --delay 0, a job that always throws. It runs at
// attempts 1 and 2 (each release re-encodes the payload with attempts+1); the 3rd pop sees attempts 3 > 2 and
// fails the job without running it; the failed record keeps the popped bytes (attempts 3).
func TestTriesV1(t *testing.T) {
	t.Parallel()
	const dialect = dialectV1
	ctx := testCtx(t, time.Minute)
	be := newBackend(t, "redis", dialect)
	q := be.Queue("fail")
	k := be.Keys(q)
	fxk := keysOf(dialect, "", thinkqueue.DefaultQueue)

	fx := loadScenario(t, "v1", "fail_throw.json")
	require.Len(t, fx.Rounds, 3)
	pushed := fx.Pushed.State.list(t, fxk.List)
	require.Len(t, pushed, 1)
	require.NoError(t, be.Redis.RPush(ctx, k.List, pushed[0]).Err())

	rec := be.NewRecorder()
	b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Tries: 2, Delay: 0, Sleep: 10 * time.Millisecond, Once: true})
	b.Handle(`app\job\Fail`, thrower{rec: rec, rdb: be.Redis, reserved: k.Reserved})
	rec.Listen(b)

	// Rounds 1 and 2: the job runs, throws and is released with attempts+1.
	for i := range 2 {
		before := time.Now().Unix()
		require.NoError(t, b.Run(ctx))
		after := time.Now().Unix()

		runs := rec.Records().Of("throw")
		require.Len(t, runs, i+1, "round %d: the handler should have run once more", i+1)
		require.Empty(t, rec.Records().Of("failed"))
		inside := fx.Rounds[i].ObservedInside[0]
		require.Equal(t, "Fail::fire", inside.Where)
		checkRun(t, i+1, before, runs[i], *inside.Job, inside.State, fxk.Reserved, 60)

		want := fx.Rounds[i].StateAfterExit.zset(t, fxk.Delayed)
		require.Len(t, want, 1)
		got := be.ZRange(k.Delayed)
		require.Equal(t, fxMembers(want), members(got), "round %d: the released member (attempts+1, re-encoded)", i+1)
		// --delay 0: the member is due at once, scored with the release's own second.
		require.GreaterOrEqual(t, int64(got[0].Score), before)
		require.LessOrEqual(t, int64(got[0].Score), after)
		be.RequireGone(k.List, k.Reserved)
	}

	// Round 3: popped with attempts 3 > tries 2, so it fails without running.
	require.NoError(t, b.Run(ctx))
	require.Len(t, rec.Records().Of("throw"), 2, "the job ran on the pop that must fail it")
	failed := rec.Records().Of("failed")
	require.Len(t, failed, 1, "the Failed hook must run exactly once")

	var hook struct {
		QueueFailedHook struct {
			GetRawBody string `json:"getRawBody()"`
			Attempts   int    `json:"attempts()"`
		} `json:"queue_failed_hook"`
	}
	require.NoError(t, json.Unmarshal(fx.Summary, &hook))
	require.Equal(t, hook.QueueFailedHook.Attempts, failed[0].Attempts)
	require.Equal(t, hook.QueueFailedHook.GetRawBody, failed[0].Raw)
	var exceeded *thinkqueue.MaxAttemptsExceededError
	require.ErrorAs(t, failed[0].Err, &exceeded)

	jf := rec.Events().Of("JobFailed")
	require.Len(t, jf, 1, "JobFailed must fire exactly once")
	require.NotNil(t, jf[0].Job)
	require.Equal(t, hook.QueueFailedHook.GetRawBody, string(jf[0].Job.RawBody()))
	require.ErrorAs(t, jf[0].Err, &exceeded)

	store, err := be.Open(bridge.WorkerConfig{}).Failed(ctx)
	require.NoError(t, err)
	require.Len(t, store, 1)
	require.Equal(t, hook.QueueFailedHook.GetRawBody, string(store[0].Payload), "failed record payload (attempts 3)")
	require.Equal(t, q, store[0].Queue)
	require.Equal(t, "redis", store[0].Connection)
	require.Contains(t, store[0].Exception, "has been attempted too many times")

	require.Empty(t, fx.Rounds[2].StateAfterExit.Redis, "fixture: nothing left after round 3")
	be.RequireQueueEmpty(q)
}

// TestTriesV3 follows v3/redis/fail_throw.json: --tries 2, a job that always throws. It runs at attempts 1 and
// 2; each release puts the reserved copy back unchanged; the 2nd run's error fails it at once (attempts >=
// tries); the failed record holds the raw list copy (attempts 1).
func TestTriesV3(t *testing.T) {
	t.Parallel()
	const dialect = dialectV3
	ctx := testCtx(t, time.Minute)
	be := newBackend(t, "redis", dialect)
	q := be.Queue("fail")
	k := be.Keys(q)
	fxk := keysOf(dialect, "", thinkqueue.DefaultQueue)

	fx := loadScenario(t, "v3", "fail_throw.json")
	require.Len(t, fx.Rounds, 2)
	pushed := fx.Pushed.State.list(t, fxk.List)
	require.Len(t, pushed, 1)
	require.NoError(t, be.Redis.RPush(ctx, k.List, pushed[0]).Err())

	var summary struct {
		PerRound []struct {
			FailedJobsRows []struct {
				Queue      string `json:"queue"`
				Connection string `json:"connection"`
				Payload    string `json:"payload"`
			} `json:"failed_jobs_rows"`
		} `json:"per_round"`
	}
	require.NoError(t, json.Unmarshal(fx.Summary, &summary))
	require.Len(t, summary.PerRound, 2)
	require.Len(t, summary.PerRound[1].FailedJobsRows, 1)
	wantFailed := summary.PerRound[1].FailedJobsRows[0]

	rec := be.NewRecorder()
	b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Tries: 2, Delay: 0, Sleep: 10 * time.Millisecond, Once: true})
	b.Handle(`app\job\Fail`, thrower{rec: rec, rdb: be.Redis, reserved: k.Reserved})
	rec.Listen(b)

	// Round 1: runs, throws, released: the reserved copy (attempts 1) goes to :delayed unchanged.
	before := time.Now().Unix()
	require.NoError(t, b.Run(ctx))
	after := time.Now().Unix()
	runs := rec.Records().Of("throw")
	require.Len(t, runs, 1)
	require.Empty(t, rec.Records().Of("failed"))
	inside := fx.Rounds[0].ObservedInside[0]
	require.Equal(t, "Fail::fire", inside.Where)
	checkRun(t, 1, before, runs[0], *inside.Job, inside.State, fxk.Reserved, 60)
	require.Equal(t, inside.Job.GetReservedJob, runs[0].Member)

	want := fx.Rounds[0].StateAfterExit.zset(t, fxk.Delayed)
	require.Len(t, want, 1)
	got := be.ZRange(k.Delayed)
	require.Equal(t, fxMembers(want), members(got), "round 1: the released member (the reserved copy, unchanged)")
	require.Equal(t, runs[0].Member, members(got)[0])
	require.GreaterOrEqual(t, int64(got[0].Score), before)
	require.LessOrEqual(t, int64(got[0].Score), after)
	be.RequireGone(k.List, k.Reserved)

	// Round 2: runs at attempts 2, throws, and fails in the same run.
	before = time.Now().Unix()
	require.NoError(t, b.Run(ctx))
	runs = rec.Records().Of("throw")
	require.Len(t, runs, 2)
	inside = fx.Rounds[1].ObservedInside[0]
	require.Equal(t, "Fail::fire", inside.Where)
	checkRun(t, 2, before, runs[1], *inside.Job, inside.State, fxk.Reserved, 60)
	failed := rec.Records().Of("failed")
	require.Len(t, failed, 1, "the Failed hook must run exactly once")
	require.Equal(t, 2, failed[0].Attempts)
	require.Equal(t, wantFailed.Payload, failed[0].Raw)
	require.ErrorIs(t, failed[0].Err, errAlwaysThrows)

	jf := rec.Events().Of("JobFailed")
	require.Len(t, jf, 1, "JobFailed must fire exactly once")
	require.ErrorIs(t, jf[0].Err, errAlwaysThrows)

	store, err := be.Open(bridge.WorkerConfig{}).Failed(ctx)
	require.NoError(t, err)
	require.Len(t, store, 1)
	require.Equal(t, wantFailed.Payload, string(store[0].Payload), "failed record payload = the raw list copy (attempts 1)")
	require.Equal(t, q, store[0].Queue)
	require.Equal(t, wantFailed.Connection, store[0].Connection)
	require.Contains(t, store[0].Exception, errAlwaysThrows.Error())
	be.RequireQueueEmpty(q)

	// Nothing is left to run.
	require.NoError(t, b.Run(ctx))
	require.Len(t, rec.Records().Of("throw"), 2)
	require.Len(t, rec.Records().Of("failed"), 1)
	require.Len(t, rec.Events().Of("JobFailed"), 1)
}

// releaseRound is one run of the releasing probe.
type releaseRound struct {
	attempts int
	start    time.Time
	returned time.Time
	reserved []goredis.Z
	// filled by the JobReleased listener, right after the release
	releasedAt time.Time
	delayed    []goredis.Z
	err        error
}

// TestTriesReleaseDelay follows v{1,3}/redis/release.json: a handler calls Release(2s) three times. Each time
// the job leaves :reserved for :delayed as the fixture's exact member (v1: attempts+1 re-encoded; v3: the
// reserved copy unchanged), scored release time + 2; it is not run again before that second; then it runs
// with attempts+1.
func TestTriesReleaseDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, dialect string }{{"v1", dialectV1}, {"v3", dialectV3}} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			const delay = 2 * time.Second
			ctx := testCtx(t, time.Minute)
			be := newBackend(t, "redis", tc.dialect)
			q := be.Queue("release")
			k := be.Keys(q)

			fx := loadScenario(t, tc.version, "release.json")
			var summary struct {
				Rounds []struct {
					Attempts       int     `json:"attempts()_inside_fire"`
					ReservedBefore string  `json:"reserved_member_before_release"`
					DelayedAfter   string  `json:"delayed_member_after_release"`
					ScoreMinusNow  float64 `json:"delayed_score_minus_now"`
				} `json:"rounds"`
			}
			require.NoError(t, json.Unmarshal(fx.Summary, &summary))
			require.Len(t, summary.Rounds, 3)
			pushed := fx.Pushed.State.list(t, keysOf(tc.dialect, "", thinkqueue.DefaultQueue).List)
			require.Len(t, pushed, 1)
			require.NoError(t, be.Redis.RPush(ctx, k.List, pushed[0]).Err())

			var (
				mu     sync.Mutex
				rounds []*releaseRound
			)
			b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Delay: 0, Sleep: 10 * time.Millisecond})
			b.HandleFunc(`app\job\Probe@release`, func(ctx context.Context, job *bridge.Job) error {
				r := &releaseRound{attempts: job.Attempts(), start: time.Now()}
				r.reserved, r.err = be.Redis.ZRangeWithScores(ctx, k.Reserved, 0, -1).Result()
				mu.Lock()
				rounds = append(rounds, r)
				n := len(rounds)
				mu.Unlock()
				if n <= len(summary.Rounds) {
					job.Release(delay)
				}
				r.returned = time.Now()
				return nil
			})
			b.Listen(func(ctx context.Context, ev any) {
				if _, ok := ev.(events.JobReleased); !ok {
					return
				}
				at := time.Now()
				zs, err := be.Redis.ZRangeWithScores(ctx, k.Delayed, 0, -1).Result()
				mu.Lock()
				defer mu.Unlock()
				r := rounds[len(rounds)-1]
				r.releasedAt, r.delayed = at, zs
				if err != nil {
					r.err = err
				}
			})

			run := runBackground(t, b)
			waitFor(t, "the 4th run and its delete", func() bool {
				mu.Lock()
				n := len(rounds)
				mu.Unlock()
				return n >= 4 && be.QueueEmpty(q)
			})
			require.NoError(t, run.stop(t))

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, rounds, 4, "the job must run exactly once per release, plus the final run")
			for i, r := range rounds {
				require.NoError(t, r.err, "round %d", i+1)
				require.Equal(t, i+1, r.attempts, "round %d: attempts", i+1)
				require.Len(t, r.reserved, 1, "round %d: reserved while running", i+1)
				if i == len(summary.Rounds) {
					break
				}
				fr := summary.Rounds[i]
				require.Equal(t, fr.Attempts, r.attempts, "round %d", i+1)
				require.Equal(t, fr.ReservedBefore, r.reserved[0].Member, "round %d: reserved member", i+1)

				require.False(t, r.releasedAt.IsZero(), "round %d: no JobReleased", i+1)
				require.Len(t, r.delayed, 1, "round %d: delayed set after the release", i+1)
				require.Equal(t, fr.DelayedAfter, r.delayed[0].Member, "round %d: released member", i+1)
				score := int64(r.delayed[0].Score)
				require.Equal(t, int64(fr.ScoreMinusNow), int64(delay/time.Second))
				require.GreaterOrEqual(t, score, r.returned.Add(delay).Unix(), "round %d: release score", i+1)
				require.LessOrEqual(t, score, r.releasedAt.Add(delay).Unix(), "round %d: release score", i+1)

				next := rounds[i+1]
				require.GreaterOrEqual(t, next.start.Unix(), score,
					"round %d: the released job ran again at %s, before its availability second %d",
					i+2, next.start.Format(time.RFC3339Nano), score)
			}
			be.RequireQueueEmpty(q)
			store, err := be.Open(bridge.WorkerConfig{}).Failed(ctx)
			require.NoError(t, err)
			require.Empty(t, store)
		})
	}
}
