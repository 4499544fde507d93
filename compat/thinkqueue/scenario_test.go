package thinkqueue

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The worker scenarios (reserve, release, fail_noop, fail_throw, foreign_payload) record, per worker run,
// the popped body, attempts() and the Redis state inside fire() and after the run. The test replays each
// one with this package's rules, the way the Go worker would, and checks every member the fixture shows.

type fxScenario struct {
	Config struct {
		Tries int `json:"tries"`
	} `json:"config"`
	Pushed struct {
		State fxState `json:"state"`
	} `json:"pushed"`
	Rounds []fxRound `json:"rounds"`
}

type fxState struct {
	RawPushed  string                `json:"raw_pushed"` // foreign_payload: written with RPUSH by the capture tool
	Redis      map[string]fxRedisKey `json:"redis"`
	FailedJobs []struct {
		Payload string `json:"payload"`
	} `json:"table:failed_jobs"`
}

type fxRedisKey struct {
	Type  string          `json:"type"`
	Items json.RawMessage `json:"items"`
}

type fxRound struct {
	Round         int             `json:"round"`
	WorkerStarted int64           `json:"worker_started"`
	Observed      []fxObservation `json:"observed_inside"`
	After         fxState         `json:"state_after_exit"`
}

type fxObservation struct {
	Where     string  `json:"where"`
	Exception *string `json:"exception"`
	Job       *struct {
		RawBody     string  `json:"getRawBody"`
		Attempts    int     `json:"attempts"`
		ReservedJob *string `json:"getReservedJob"`
	} `json:"job"`
	State fxState `json:"state"`
}

// failure tells the observations made by failed() and by the queue_failed hook / JobFailed event apart
// from those made inside the job's own method.
func (o fxObservation) failure() bool {
	return strings.HasSuffix(o.Where, "::failed") || strings.HasPrefix(o.Where, "hook:") || strings.HasPrefix(o.Where, "event:")
}

func (s fxState) list(t *testing.T, key string) []string {
	t.Helper()
	k, ok := s.Redis[key]
	require.True(t, ok, "no key %s in %v", key, s.Redis)
	require.Equal(t, "list", k.Type)
	var items []string
	require.NoError(t, json.Unmarshal(k.Items, &items))
	return items
}

// member returns the only member of the zset at key.
func (s fxState) member(t *testing.T, key string) string {
	t.Helper()
	k, ok := s.Redis[key]
	require.True(t, ok, "no key %s in %v", key, s.Redis)
	require.Equal(t, "zset", k.Type)
	var items []struct {
		Member string `json:"member"`
	}
	require.NoError(t, json.Unmarshal(k.Items, &items))
	require.Len(t, items, 1)
	return items[0].Member
}

// jobBehaviour is what the probe job does inside fire().
type jobBehaviour int

const (
	deletes jobBehaviour = iota
	releases
	throws
	returnsOnly
)

// expectation is how many worker runs a scenario has and in which one the job fails (0: never).
type expectation struct{ rounds, failRound int }

func TestWorkerScenarios(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		file      string
		behaviour jobBehaviour
		v1, v3    expectation
	}{
		{"reserve.json", deletes, expectation{1, 0}, expectation{1, 0}},
		{"release.json", releases, expectation{3, 0}, expectation{3, 0}},
		{"foreign_payload.json", releases, expectation{1, 0}, expectation{1, 0}},
		// --tries 2: fire() runs with attempts 1 and 2; the 3rd pop fails without running.
		{"fail_noop.json", returnsOnly, expectation{3, 3}, expectation{3, 3}},
		// --tries 2: v1 fails on the 3rd pop, v3 already in the 2nd run, whose error reaches the limit.
		{"fail_throw.json", throws, expectation{3, 3}, expectation{2, 2}},
	}
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, sc := range scenarios {
			want := sc.v1
			if d.Version == V3 {
				want = sc.v3
			}
			t.Run(v.dir+"/"+sc.file, func(t *testing.T) {
				t.Parallel()
				var fx fxScenario
				loadFixture(t, &fx, v.dir, "redis", sc.file)
				require.Len(t, fx.Rounds, want.rounds)
				replay(t, d, fx, sc.behaviour, want.failRound)
			})
		}
	}
}

func replay(t *testing.T, d Dialect, fx fxScenario, behaviour jobBehaviour, failRound int) {
	list, delayedKey, reservedKey := d.QueueKeys("")
	raw := fx.Pushed.State.RawPushed
	if raw == "" {
		items := fx.Pushed.State.list(t, list)
		require.Len(t, items, 1)
		raw = items[0]
	}
	for i, r := range fx.Rounds {
		require.Equal(t, i+1, r.Round)
		last := i == len(fx.Rounds)-1
		now := time.Unix(r.WorkerStarted, 0)

		p, err := d.Parse([]byte(raw))
		require.NoError(t, err)
		attempts := d.Attempts(p)
		reserved, err := d.ReservedCopy([]byte(raw))
		require.NoError(t, err)

		var fired, failed []fxObservation
		for _, o := range r.Observed {
			if o.failure() {
				failed = append(failed, o)
			} else {
				fired = append(fired, o)
			}
		}

		if err := d.FailBeforeRun(p, attempts, fx.Config.Tries, now); err != nil {
			require.Equal(t, failRound, r.Round, "failed before running in round %d", r.Round)
			require.Empty(t, fired, "a job failed before running must not fire")
			checkFailure(t, d, failed, raw, string(reserved), attempts, r.After, err)
			require.True(t, last)
			return
		}

		require.NotEmpty(t, fired, "round %d should have fired", r.Round)
		in := fired[0]
		require.Equal(t, raw, in.Job.RawBody, "getRawBody in round %d", r.Round)
		require.Equal(t, attempts, in.Job.Attempts, "attempts() in round %d", r.Round)
		require.Equal(t, string(reserved), in.State.member(t, reservedKey), "reserved member in round %d", r.Round)
		if d.Version == V3 {
			require.Equal(t, string(reserved), *in.Job.ReservedJob)
		}

		switch behaviour {
		case deletes:
			require.Empty(t, r.After.Redis)
			require.True(t, last)
			return
		case releases:
			rel, err := d.ReleasedCopy([]byte(raw), reserved)
			require.NoError(t, err)
			require.Equal(t, string(rel), fired[len(fired)-1].State.member(t, delayedKey), "delayed member after release(), round %d", r.Round)
			require.Equal(t, string(rel), r.After.member(t, delayedKey))
			raw = string(rel) // due :delayed members move to the list unchanged
		case throws:
			if d.FailAfterError(p, attempts, fx.Config.Tries, now) {
				require.Equal(t, failRound, r.Round, "failed after an error in round %d", r.Round)
				checkFailure(t, d, failed, raw, string(reserved), attempts, r.After, nil)
				require.True(t, last)
				return
			}
			require.Empty(t, failed)
			rel, err := d.ReleasedCopy([]byte(raw), reserved)
			require.NoError(t, err)
			require.Equal(t, string(rel), r.After.member(t, delayedKey), "released after the error, round %d", r.Round)
			raw = string(rel)
		case returnsOnly:
			require.Equal(t, string(reserved), r.After.member(t, reservedKey), "still reserved after round %d", r.Round)
			back, err := d.ExpiredCopy(reserved)
			require.NoError(t, err)
			raw = string(back)
		}
	}
	require.Zero(t, failRound, "the job should have failed in round %d", failRound)
}

// checkFailure compares the failed() call, the queue_failed hook / JobFailed event and the v3 failed_jobs
// row with the job as the Go worker holds it.
func checkFailure(t *testing.T, d Dialect, failed []fxObservation, raw, reserved string, attempts int, after fxState, exceeded error) {
	t.Helper()
	require.Len(t, failed, 2, "failed() and the hook / event")
	require.Empty(t, after.Redis, "a failed job is deleted")
	for _, o := range failed {
		if o.Job != nil {
			require.Equal(t, raw, o.Job.RawBody)
			require.Equal(t, attempts, o.Job.Attempts)
			if d.Version == V3 {
				require.Equal(t, reserved, *o.Job.ReservedJob)
			}
		}
	}
	if d.Version != V3 {
		return // v1/v2 store nothing and pass no exception
	}
	require.Len(t, after.FailedJobs, 1)
	require.Equal(t, raw, after.FailedJobs[0].Payload)
	if exceeded != nil {
		require.NotNil(t, failed[0].Exception)
		require.Equal(t, `think\queue\exception\MaxAttemptsExceededException: `+exceeded.Error(), *failed[0].Exception)
	}
}
