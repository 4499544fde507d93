package laravel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPopReleaseScenario replays redis/pop_release.json: push Plain(1), pop, release(5), pop again 5 s
// later, delete. It checks what a Go worker derives at each step against what RedisJob reported.
func TestPopReleaseScenario(t *testing.T) {
	t.Parallel()
	type member struct {
		Member        string  `json:"member"`
		ScoreMinusNow float64 `json:"score_minus_now"`
	}
	type entry struct {
		Key      string   `json:"key"`
		Elements []string `json:"elements"`
		Members  []member `json:"members"`
	}
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			var fx struct {
				RetryAfter float64 `json:"retry_after"`
				Steps      []struct {
					Step  string  `json:"step"`
					Redis []entry `json:"redis"`
					Job   struct {
						JobID       string `json:"getJobId"`
						Attempts    int    `json:"attempts()"`
						RawBody     string `json:"getRawBody"`
						ReservedJob string `json:"getReservedJob"`
						UUID        string `json:"uuid()"`
						Name        string `json:"getName"`
						ResolveName string `json:"resolveName"`
						Queue       string `json:"getQueue"`
					} `json:"job"`
				} `json:"steps"`
			}
			loadFixture(t, &fx, v.dir, "redis", "pop_release.json")
			require.Len(t, fx.Steps, 5)
			list, delayed, reserved := d.QueueKeys("default")

			// push
			push := fx.Steps[0]
			require.Equal(t, []string{list, d.NotifyKey("default")}, []string{push.Redis[0].Key, push.Redis[1].Key})
			raw := []byte(push.Redis[0].Elements[0])
			p := mustParse(t, d, raw)
			rebuilt, err := d.NewObjectPayload(plainJob(1, Queueable{}), paramsFor(p, fixtureJob{}, d))
			require.NoError(t, err)
			require.Equal(t, string(raw), string(rebuilt))

			// pop: the reserved copy is held for retry_after; attempts() counts this reservation.
			pop := fx.Steps[1]
			require.Equal(t, string(raw), pop.Job.RawBody)
			require.Equal(t, p.ID, pop.Job.JobID)
			require.Equal(t, p.UUID, pop.Job.UUID)
			require.Equal(t, p.Job, pop.Job.Name)
			require.Equal(t, p.ResolveName(), pop.Job.ResolveName)
			require.Equal(t, "default", pop.Job.Queue)
			require.Equal(t, d.Attempts(p), pop.Job.Attempts)
			require.Equal(t, []entry{{Key: reserved, Members: []member{{Member: pop.Job.ReservedJob, ScoreMinusNow: fx.RetryAfter}}}}, pop.Redis)
			require.Equal(t, 1, mustParse(t, d, []byte(pop.Job.ReservedJob)).Attempts)
			require.Equal(t, string(readFixture(t, v.dir, "payloads", "reserved_after_pop.json")), pop.Job.ReservedJob)

			// release(5): the reserved bytes move to :delayed unchanged.
			released, err := d.ReleasedCopy(raw, []byte(pop.Job.ReservedJob))
			require.NoError(t, err)
			require.Equal(t, []entry{{Key: delayed, Members: []member{{Member: string(released), ScoreMinusNow: 5}}}}, fx.Steps[2].Redis)

			// pop again: the released bytes are the new raw body, counted once more.
			again := fx.Steps[3]
			require.Equal(t, string(released), again.Job.RawBody)
			p2 := mustParse(t, d, []byte(again.Job.RawBody))
			require.Equal(t, 2, d.Attempts(p2))
			require.Equal(t, again.Job.Attempts, d.Attempts(p2))
			require.Equal(t, 2, mustParse(t, d, []byte(again.Job.ReservedJob)).Attempts)
			require.Equal(t, reserved, again.Redis[0].Key)

			// delete
			require.Empty(t, fx.Steps[4].Redis)
		})
	}
}
