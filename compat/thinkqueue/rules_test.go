package thinkqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

var errTest = fmt.Errorf("test error")

func mustNewJob(t *testing.T, r Rules, res queue.Reservation) *queue.Job {
	t.Helper()
	j, err := r.NewJob(res)
	require.NoError(t, err)
	return j
}

// reservationOf is the reservation a store hands over for a reserve.json capture: on Redis the reserved
// member beside the popped bytes, in a database the row id and attempts() from the attempts column.
func reservationOf(t *testing.T, dir, connector string) (queue.Reservation, map[string]any) {
	t.Helper()
	var fx struct {
		Summary struct {
			Job            map[string]any `json:"job_methods_inside_fire"`
			ReservedMember string         `json:"reserved_member"`
			Row            struct {
				ID string `json:"id"`
			} `json:"row_while_reserved"`
		} `json:"summary"`
	}
	loadFixture(t, &fx, dir, connector, "reserve.json")
	job := fx.Summary.Job
	res := queue.Reservation{Queue: job["getQueue"].(string), Raw: []byte(job["getRawBody"].(string))}
	if connector == "redis" {
		res.Member = []byte(fx.Summary.ReservedMember)
	} else {
		res.Member = []byte(fx.Summary.Row.ID)
		res.Attempts = int(job["attempts"].(float64))
	}
	return res, job
}

// TestRulesNewJobMatchesFixtures checks the job a handler sees against what PHP's Job reported inside
// fire() (reserve.json) for every version on Redis and in a database.
func TestRulesNewJobMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		for _, connector := range []string{"redis", "database"} {
			t.Run(v.dir+"/"+connector, func(t *testing.T) {
				t.Parallel()
				r := NewRules(mustDialect(t, v.dialect))
				res, php := reservationOf(t, v.dir, connector)
				j := mustNewJob(t, r, res)
				require.Equal(t, php["getName"], j.Name())
				require.Equal(t, int(php["attempts"].(float64)), j.Attempts())
				if id, ok := php["getJobId"]; ok {
					require.Equal(t, fmt.Sprint(id), j.ID())
				}
				var data struct{ Name string }
				require.NoError(t, j.Bind(&data))
				require.Equal(t, "张三", data.Name)
			})
		}
	}
}

// TestRulesReleasedCopyMatchesFixtures replays release.json: on Redis v1 writes the popped bytes back with
// attempts+1 and v3 the reserved member unchanged; a database release keeps the payload bytes.
func TestRulesReleasedCopyMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir+"/redis", func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			r := NewRules(d)
			var fx struct {
				Summary struct {
					Rounds []struct {
						Attempts int    `json:"attempts()_inside_fire"`
						Reserved string `json:"reserved_member_before_release"`
						Delayed  string `json:"delayed_member_after_release"`
					} `json:"rounds"`
				} `json:"summary"`
			}
			loadFixture(t, &fx, v.dir, "redis", "release.json")
			require.NotEmpty(t, fx.Summary.Rounds)
			for _, round := range fx.Summary.Rounds {
				raw := []byte(round.Reserved) // v1 reserves the popped bytes as they are
				if d.Version == V3 {
					raw = withAttempts(t, round.Reserved, round.Attempts-1)
				}
				res := queue.Reservation{Queue: "default", Raw: raw, Member: []byte(round.Reserved)}
				j := mustNewJob(t, r, res)
				require.Equal(t, round.Attempts, j.Attempts())
				released, err := r.ReleasedCopy(res)
				require.NoError(t, err)
				require.Equal(t, round.Delayed, string(released), "round %d", round.Attempts)
			}
		})
		t.Run(v.dir+"/database", func(t *testing.T) {
			t.Parallel()
			var fx struct {
				Summary struct {
					Rounds []struct {
						PayloadUnchanged bool `json:"payload_unchanged"`
					} `json:"rounds"`
				} `json:"summary"`
			}
			loadFixture(t, &fx, v.dir, "database", "release.json")
			require.True(t, fx.Summary.Rounds[0].PayloadUnchanged)
			res, _ := reservationOf(t, v.dir, "database")
			released, err := NewRules(mustDialect(t, v.dialect)).ReleasedCopy(res)
			require.NoError(t, err)
			require.Equal(t, string(res.Raw), string(released))
		})
	}
}

// withAttempts is the list element a v3 reserved member was made from: the same bytes with the attempts
// before this reservation.
func withAttempts(t *testing.T, member string, attempts int) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(member), &m))
	b, err := json.Marshal(attempts)
	require.NoError(t, err)
	old := `"attempts":` + string(m["attempts"])
	require.Contains(t, member, old)
	return []byte(member[:len(member)-len(old)-1] + `"attempts":` + string(b) + "}")
}

// think-queue 1.x/2.x applies only the worker's limits; 3.x takes the payload's maxTries, timeout and
// timeoutAt.
func TestRulesPayloadLimits(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"job":"J","maxTries":3,"timeout":30,"timeoutAt":1700000000,"data":"","id":"i","attempts":1}`)
	v1 := mustNewJob(t, NewRules(mustDialect(t, "thinkqueue-v1")), queue.Reservation{Raw: raw, Member: raw})
	require.Zero(t, v1.MaxTries())
	require.Zero(t, v1.Timeout())
	require.True(t, v1.RetryUntil().IsZero())

	v3 := mustNewJob(t, NewRules(mustDialect(t, "thinkqueue-v3")), queue.Reservation{Raw: raw, Member: raw})
	require.Equal(t, 3, v3.MaxTries())
	require.Equal(t, 30*time.Second, v3.Timeout())
	require.Equal(t, time.Unix(1700000000, 0), v3.RetryUntil())
	require.Equal(t, 2, v3.Attempts())
}

// The fail rules run on the attempts the reservation reports, and a database job whose attempts column
// reached 255 fails unrun whatever the tries.
func TestRulesFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	v1, v3 := NewRules(mustDialect(t, "thinkqueue-v1")), NewRules(mustDialect(t, "thinkqueue-v3"))
	raw := []byte(`{"job":"app\\job\\Fail","data":"","id":"i","attempts":3}`)
	redis := queue.Reservation{Raw: raw, Member: raw}

	j := mustNewJob(t, v1, redis)
	var exceeded *MaxAttemptsExceededError
	require.ErrorAs(t, v1.CheckBeforeRun(j, 2, now), &exceeded)
	require.NoError(t, v1.CheckBeforeRun(j, 3, now))
	require.NoError(t, v1.FailAfterError(ctx, j, errTest, 3, now), "1.x fails on the next pop, never after a run")

	j = mustNewJob(t, v3, redis)
	require.Equal(t, 4, j.Attempts())
	require.Equal(t, errTest, v3.FailAfterError(ctx, j, errTest, 4, now), "3.x fails with the job's own error")
	require.NoError(t, v3.FailAfterError(ctx, j, errTest, 5, now))

	for attempts, fails := range map[int]bool{1: false, 254: false, 255: true} {
		for _, r := range []Rules{v1, v3} {
			j := mustNewJob(t, r, queue.Reservation{Raw: []byte(`{"job":"J","data":""}`), Member: []byte("7"), Attempts: attempts})
			require.Equal(t, "7", j.ID(), "a database job's id is its row id")
			require.Equal(t, attempts, j.Attempts())
			if err := r.CheckBeforeRun(j, 0, now); fails {
				require.ErrorContains(t, err, "reached 255")
			} else {
				require.NoError(t, err)
			}
		}
	}
	j = mustNewJob(t, v1, queue.Reservation{Raw: []byte(`{"job":"J","data":"","attempts":300}`), Member: []byte("m")})
	require.NoError(t, v1.CheckBeforeRun(j, 0, now), "Redis has no attempts column")
}

// --delay is the same for every attempt; a list of delays gives one per attempt, the last repeating.
func TestRulesRetryDelay(t *testing.T) {
	t.Parallel()
	r := NewRules(mustDialect(t, "thinkqueue-v1"))
	now := time.Unix(1700000000, 0)
	delays := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second}
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 5 * time.Second, 9: 5 * time.Second} {
		raw := fmt.Appendf(nil, `{"job":"J","data":"","attempts":%d}`, attempts)
		j := mustNewJob(t, r, queue.Reservation{Raw: raw, Member: raw})
		require.Equal(t, want, r.RetryDelay(j, errTest, delays, now), "attempt %d", attempts)
		require.Equal(t, 3*time.Second, r.RetryDelay(j, errTest, []time.Duration{3 * time.Second}, now))
		require.Zero(t, r.RetryDelay(j, errTest, nil, now))
	}
}

// A job another rulebook made is refused, not a panic.
func TestRulesForeignJob(t *testing.T) {
	t.Parallel()
	r := NewRules(mustDialect(t, "thinkqueue-v3"))
	now := time.Unix(1700000000, 0)
	j := queue.NewJob(queue.JobParams{Name: "J", Attempts: 1, Payload: "not a think-queue payload"})
	require.ErrorContains(t, r.CheckBeforeRun(j, 0, now), "not read by thinkqueue.Rules")
	require.ErrorContains(t, r.FailAfterError(context.Background(), j, errTest, 0, now), "not read by thinkqueue.Rules")
	require.Equal(t, "test error", r.ExceptionText(errTest))
	require.Equal(t, "", r.ExceptionText(nil))
}
