package integration

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/events"
)

// tqxFxKey is one Redis key of a fixture's state snapshot.
type tqxFxKey struct {
	Type  string          `json:"type"`
	Items json.RawMessage `json:"items"`
}

type tqxFxZ struct {
	Member string  `json:"member"`
	Score  float64 `json:"score"`
}

type tqxFxState struct {
	Now   int64               `json:"now"`
	Redis map[string]tqxFxKey `json:"redis"`
}

type tqxFxJob struct {
	GetRawBody     string `json:"getRawBody"`
	Attempts       int    `json:"attempts"`
	GetReservedJob string `json:"getReservedJob"`
}

// tqxScenario is the raw capture of a worker fixture (fail_throw.json, release.json).
type tqxScenario struct {
	Summary json.RawMessage `json:"summary"`
	Pushed  struct {
		State tqxFxState `json:"state"`
	} `json:"pushed"`
	Rounds []struct {
		Round          int `json:"round"`
		ObservedInside []struct {
			Where string     `json:"where"`
			Job   *tqxFxJob  `json:"job"`
			State tqxFxState `json:"state"`
		} `json:"observed_inside"`
		StateAfterExit tqxFxState `json:"state_after_exit"`
	} `json:"rounds"`
}

func tqxLoadScenario(t testing.TB, rel string) *tqxScenario {
	t.Helper()
	raw, err := os.ReadFile(tqxFixturePath(t, rel))
	require.NoError(t, err)
	var s tqxScenario
	require.NoError(t, json.Unmarshal(raw, &s), rel)
	return &s
}

// list returns the items of a list key of a snapshot (nil when the key is absent).
func (s tqxFxState) list(t testing.TB, key string) []string {
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
func (s tqxFxState) zset(t testing.TB, key string) []tqxFxZ {
	t.Helper()
	k, ok := s.Redis[key]
	if !ok {
		return nil
	}
	require.Equal(t, "zset", k.Type, key)
	var items []tqxFxZ
	require.NoError(t, json.Unmarshal(k.Items, &items), key)
	return items
}

func tqxMembers(zs []goredis.Z) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.Member.(string)
	}
	return out
}

func tqxFxMembers(zs []tqxFxZ) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.Member
	}
	return out
}

// tqxOpenConn opens the internal connection the CLI uses, to read the failed store.
func tqxOpenConn(t testing.TB, ctx context.Context, setup tqxSetup, dialect string) *bridge.Bridge {
	t.Helper()
	c, err := bridge.Open(ctx, setup.Config(dialect, bridge.WorkerConfig{}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// tqxThrower always fails; it records what each run saw, and what its Failed hook got.
type tqxThrower struct {
	rdb      *goredis.Client
	reserved string

	mu     sync.Mutex
	runs   []tqxThrowerRun
	failed []tqxThrowerFailed
}

type tqxThrowerRun struct {
	attempts int
	raw      string
	member   string
	start    time.Time
	reserved []goredis.Z
	err      error
}

type tqxThrowerFailed struct {
	attempts int
	raw      string
	err      error
}

var errTqxAlwaysThrows = errors.New("Fail job always throws")

func (h *tqxThrower) ProcessJob(ctx context.Context, job *bridge.Job) error {
	r := tqxThrowerRun{attempts: job.Attempts(), raw: string(job.RawBody()),
		member: string(job.Reservation().Member), start: time.Now()}
	r.reserved, r.err = tqxZMembers(ctx, h.rdb, h.reserved)
	h.mu.Lock()
	h.runs = append(h.runs, r)
	h.mu.Unlock()
	return errTqxAlwaysThrows
}

func (h *tqxThrower) Failed(_ context.Context, job *bridge.Job, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = append(h.failed, tqxThrowerFailed{attempts: job.Attempts(), raw: string(job.RawBody()), err: err})
}

func (h *tqxThrower) snapshot() ([]tqxThrowerRun, []tqxThrowerFailed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]tqxThrowerRun(nil), h.runs...), append([]tqxThrowerFailed(nil), h.failed...)
}

// tqxEventLog records the events a bridge dispatches.
type tqxEventLog struct {
	mu     sync.Mutex
	events []any
}

func (l *tqxEventLog) listen(_ context.Context, ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *tqxEventLog) failed() []events.JobFailed {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []events.JobFailed
	for _, ev := range l.events {
		if f, ok := ev.(events.JobFailed); ok {
			out = append(out, f)
		}
	}
	return out
}

// tqxCheckRun compares what a failing run saw inside its handler with what PHP saw inside fire().
// runFrom is the Unix second before the worker started, a lower bound of the pop time.
func tqxCheckRun(t *testing.T, round int, runFrom int64, run tqxThrowerRun, fx tqxFxJob, fxState tqxFxState, fxReserved string, expire int64) {
	t.Helper()
	require.NoError(t, run.err)
	require.Equal(t, fx.Attempts, run.attempts, "round %d: attempts()", round)
	require.Equal(t, fx.GetRawBody, run.raw, "round %d: raw body", round)
	wantHeld := fxState.zset(t, fxReserved)
	require.Len(t, wantHeld, 1, "fixture round %d", round)
	require.Equal(t, tqxFxMembers(wantHeld), tqxMembers(run.reserved), "round %d: the reserved member while the job runs", round)
	require.Equal(t, wantHeld[0].Member, run.member, "round %d: Job.Reservation().Member", round)
	// PHP: score = pop time + expire, whole seconds.
	score := int64(run.reserved[0].Score)
	require.GreaterOrEqual(t, score, runFrom+expire, "round %d: reserved score", round)
	require.LessOrEqual(t, score, run.start.Unix()+expire, "round %d: reserved score", round)
}

// TestTriesV1 follows v1/redis/fail_throw.json: --tries 2, --delay 0, a job that always throws. It runs at
// attempts 1 and 2 (each release re-encodes the payload with attempts+1); the 3rd pop sees attempts 3 > 2 and
// fails the job without running it; the failed record keeps the popped bytes (attempts 3).
func TestTriesV1(t *testing.T) {
	t.Parallel()
	const dialect = tqxDialectV1
	ctx := tqxCtx(t, time.Minute)
	rdb := tqxRedis(t)
	setup := tqxNewSetup(t, rdb)
	queueName, list, delayed, reserved := tqxQueue(t, rdb, dialect, "fail")
	fxList, fxDelayed, fxReserved := tqxQueueKeys(t, dialect, thinkqueue.DefaultQueue)

	fx := tqxLoadScenario(t, filepath.Join("v1", "redis", "fail_throw.json"))
	require.Len(t, fx.Rounds, 3)
	pushed := fx.Pushed.State.list(t, fxList)
	require.Len(t, pushed, 1)
	require.NoError(t, rdb.RPush(ctx, list, pushed[0]).Err())

	h := &tqxThrower{rdb: rdb, reserved: reserved}
	evs := &tqxEventLog{}
	b := setup.Open(t, ctx, dialect, bridge.WorkerConfig{
		Queues: []string{queueName}, Tries: 2, Delay: 0, Sleep: 10 * time.Millisecond, Once: true,
	})
	b.Handle(`app\job\Fail`, h)
	b.Listen(evs.listen)

	// Rounds 1 and 2: the job runs, throws and is released with attempts+1.
	for i := range 2 {
		before := time.Now().Unix()
		require.NoError(t, b.Run(ctx))
		after := time.Now().Unix()

		runs, failed := h.snapshot()
		require.Len(t, runs, i+1, "round %d: the handler should have run once more", i+1)
		require.Empty(t, failed)
		inside := fx.Rounds[i].ObservedInside[0]
		require.Equal(t, "Fail::fire", inside.Where)
		tqxCheckRun(t, i+1, before, runs[i], *inside.Job, inside.State, fxReserved, 60)

		want := fx.Rounds[i].StateAfterExit.zset(t, fxDelayed)
		require.Len(t, want, 1)
		got, err := tqxZMembers(ctx, rdb, delayed)
		require.NoError(t, err)
		require.Equal(t, tqxFxMembers(want), tqxMembers(got), "round %d: the released member (attempts+1, re-encoded)", i+1)
		// --delay 0: the member is due at once, scored with the release's own second.
		require.GreaterOrEqual(t, int64(got[0].Score), before)
		require.LessOrEqual(t, int64(got[0].Score), after)
		tqxRequireGone(t, ctx, rdb, list, reserved)
	}

	// Round 3: popped with attempts 3 > tries 2, so it fails without running.
	require.NoError(t, b.Run(ctx))
	runs, failed := h.snapshot()
	require.Len(t, runs, 2, "the job ran on the pop that must fail it")
	require.Len(t, failed, 1, "the Failed hook must run exactly once")

	var hook struct {
		QueueFailedHook struct {
			GetRawBody string `json:"getRawBody()"`
			Attempts   int    `json:"attempts()"`
		} `json:"queue_failed_hook"`
	}
	require.NoError(t, json.Unmarshal(fx.Summary, &hook))
	require.Equal(t, hook.QueueFailedHook.Attempts, failed[0].attempts)
	require.Equal(t, hook.QueueFailedHook.GetRawBody, failed[0].raw)
	var exceeded *thinkqueue.MaxAttemptsExceededError
	require.ErrorAs(t, failed[0].err, &exceeded)

	jf := evs.failed()
	require.Len(t, jf, 1, "JobFailed must fire exactly once")
	require.NotNil(t, jf[0].Job)
	require.Equal(t, hook.QueueFailedHook.GetRawBody, string(jf[0].Job.RawBody()))
	require.ErrorAs(t, jf[0].Err, &exceeded)

	store, err := tqxOpenConn(t, ctx, setup, dialect).Failed(ctx)
	require.NoError(t, err)
	require.Len(t, store, 1)
	require.Equal(t, hook.QueueFailedHook.GetRawBody, string(store[0].Payload), "failed record payload (attempts 3)")
	require.Equal(t, queueName, store[0].Queue)
	require.Equal(t, "redis", store[0].Connection)
	require.Contains(t, store[0].Exception, "has been attempted too many times")

	require.Empty(t, fx.Rounds[2].StateAfterExit.Redis, "fixture: nothing left after round 3")
	tqxRequireGone(t, ctx, rdb, list, delayed, reserved)
}

// TestTriesV3 follows v3/redis/fail_throw.json: --tries 2, a job that always throws. It runs at attempts 1 and
// 2; each release puts the reserved copy back unchanged; the 2nd run's error fails it at once (attempts >=
// tries); the failed record holds the raw list copy (attempts 1).
func TestTriesV3(t *testing.T) {
	t.Parallel()
	const dialect = tqxDialectV3
	ctx := tqxCtx(t, time.Minute)
	rdb := tqxRedis(t)
	setup := tqxNewSetup(t, rdb)
	queueName, list, delayed, reserved := tqxQueue(t, rdb, dialect, "fail")
	fxList, fxDelayed, fxReserved := tqxQueueKeys(t, dialect, thinkqueue.DefaultQueue)

	fx := tqxLoadScenario(t, filepath.Join("v3", "redis", "fail_throw.json"))
	require.Len(t, fx.Rounds, 2)
	pushed := fx.Pushed.State.list(t, fxList)
	require.Len(t, pushed, 1)
	require.NoError(t, rdb.RPush(ctx, list, pushed[0]).Err())

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

	h := &tqxThrower{rdb: rdb, reserved: reserved}
	evs := &tqxEventLog{}
	b := setup.Open(t, ctx, dialect, bridge.WorkerConfig{
		Queues: []string{queueName}, Tries: 2, Delay: 0, Sleep: 10 * time.Millisecond, Once: true,
	})
	b.Handle(`app\job\Fail`, h)
	b.Listen(evs.listen)

	// Round 1: runs, throws, released: the reserved copy (attempts 1) goes to :delayed unchanged.
	before := time.Now().Unix()
	require.NoError(t, b.Run(ctx))
	after := time.Now().Unix()
	runs, failed := h.snapshot()
	require.Len(t, runs, 1)
	require.Empty(t, failed)
	inside := fx.Rounds[0].ObservedInside[0]
	require.Equal(t, "Fail::fire", inside.Where)
	tqxCheckRun(t, 1, before, runs[0], *inside.Job, inside.State, fxReserved, 60)
	require.Equal(t, inside.Job.GetReservedJob, runs[0].member)

	want := fx.Rounds[0].StateAfterExit.zset(t, fxDelayed)
	require.Len(t, want, 1)
	got, err := tqxZMembers(ctx, rdb, delayed)
	require.NoError(t, err)
	require.Equal(t, tqxFxMembers(want), tqxMembers(got), "round 1: the released member (the reserved copy, unchanged)")
	require.Equal(t, runs[0].member, tqxMembers(got)[0])
	require.GreaterOrEqual(t, int64(got[0].Score), before)
	require.LessOrEqual(t, int64(got[0].Score), after)
	tqxRequireGone(t, ctx, rdb, list, reserved)

	// Round 2: runs at attempts 2, throws, and fails in the same run.
	before = time.Now().Unix()
	require.NoError(t, b.Run(ctx))
	runs, failed = h.snapshot()
	require.Len(t, runs, 2)
	inside = fx.Rounds[1].ObservedInside[0]
	require.Equal(t, "Fail::fire", inside.Where)
	tqxCheckRun(t, 2, before, runs[1], *inside.Job, inside.State, fxReserved, 60)
	require.Len(t, failed, 1, "the Failed hook must run exactly once")
	require.Equal(t, 2, failed[0].attempts)
	require.Equal(t, wantFailed.Payload, failed[0].raw)
	require.ErrorIs(t, failed[0].err, errTqxAlwaysThrows)

	jf := evs.failed()
	require.Len(t, jf, 1, "JobFailed must fire exactly once")
	require.ErrorIs(t, jf[0].Err, errTqxAlwaysThrows)

	store, err := tqxOpenConn(t, ctx, setup, dialect).Failed(ctx)
	require.NoError(t, err)
	require.Len(t, store, 1)
	require.Equal(t, wantFailed.Payload, string(store[0].Payload), "failed record payload = the raw list copy (attempts 1)")
	require.Equal(t, queueName, store[0].Queue)
	require.Equal(t, wantFailed.Connection, store[0].Connection)
	require.Contains(t, store[0].Exception, errTqxAlwaysThrows.Error())
	tqxRequireGone(t, ctx, rdb, list, delayed, reserved)

	// Nothing is left to run.
	require.NoError(t, b.Run(ctx))
	runs, failed = h.snapshot()
	require.Len(t, runs, 2)
	require.Len(t, failed, 1)
	require.Len(t, evs.failed(), 1)
}

// tqxReleaseRound is one run of the releasing probe.
type tqxReleaseRound struct {
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
	for _, tc := range []struct{ version, dialect string }{{"v1", tqxDialectV1}, {"v3", tqxDialectV3}} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			const delay = 2 * time.Second
			ctx := tqxCtx(t, time.Minute)
			rdb := tqxRedis(t)
			setup := tqxNewSetup(t, rdb)
			queueName, list, delayed, reserved := tqxQueue(t, rdb, tc.dialect, "release")
			fxList, _, _ := tqxQueueKeys(t, tc.dialect, thinkqueue.DefaultQueue)

			fx := tqxLoadScenario(t, filepath.Join(tc.version, "redis", "release.json"))
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
			pushed := fx.Pushed.State.list(t, fxList)
			require.Len(t, pushed, 1)
			require.NoError(t, rdb.RPush(ctx, list, pushed[0]).Err())

			var (
				mu     sync.Mutex
				rounds []*tqxReleaseRound
			)
			b := setup.Open(t, ctx, tc.dialect, bridge.WorkerConfig{
				Queues: []string{queueName}, Delay: 0, Sleep: 10 * time.Millisecond,
			})
			b.HandleFunc(`app\job\Probe@release`, func(ctx context.Context, job *bridge.Job) error {
				r := &tqxReleaseRound{attempts: job.Attempts(), start: time.Now()}
				r.reserved, r.err = tqxZMembers(ctx, rdb, reserved)
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
				zs, err := tqxZMembers(ctx, rdb, delayed)
				mu.Lock()
				defer mu.Unlock()
				r := rounds[len(rounds)-1]
				r.releasedAt, r.delayed = at, zs
				if err != nil {
					r.err = err
				}
			})

			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- b.Run(runCtx) }()
			tqxWaitFor(t, ctx, "the 4th run and its delete", func() (bool, error) {
				mu.Lock()
				n := len(rounds)
				mu.Unlock()
				if n < 4 {
					return false, nil
				}
				left, err := tqxKeysLeft(ctx, rdb, list, delayed, reserved)
				return len(left) == 0, err
			})
			stop()
			require.NoError(t, <-done)

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
			tqxRequireGone(t, ctx, rdb, list, delayed, reserved)
			store, err := tqxOpenConn(t, ctx, setup, tc.dialect).Failed(ctx)
			require.NoError(t, err)
			require.Empty(t, store)
		})
	}
}
