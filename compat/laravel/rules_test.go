package laravel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// countingCache is an in-memory ExceptionCounter that records the calls Rules makes.
type countingCache struct {
	counts map[string]int
	ttls   map[string]time.Duration
	forgot []string
	err    error
}

func newCountingCache() *countingCache {
	return &countingCache{counts: map[string]int{}, ttls: map[string]time.Duration{}}
}

func (c *countingCache) Increment(_ context.Context, key string, ttl time.Duration) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if _, ok := c.counts[key]; !ok {
		c.ttls[key] = ttl
	}
	c.counts[key]++
	return c.counts[key], nil
}

func (c *countingCache) Forget(_ context.Context, key string) error {
	c.forgot = append(c.forgot, key)
	delete(c.counts, key)
	return nil
}

// phpThrown is an exception thrown in PHP, as the PHP executor reports it.
type phpThrown struct{ text string }

func (e phpThrown) Error() string   { return "php: " + e.text }
func (e phpThrown) PHPText() string { return e.text }

func mustNewJob(t *testing.T, r Rules, res queue.Reservation) *queue.Job {
	t.Helper()
	j, err := r.NewJob(res)
	require.NoError(t, err)
	return j
}

// TestRulesPopRelease replays redis/pop_release.json through Rules: the job a handler sees after each pop
// is what RedisJob reported, and a release writes back the reserved bytes.
func TestRulesPopRelease(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			r := NewRules(mustDialect(t, v.dialect), nil, "")
			var fx struct {
				Steps []struct {
					Redis []redisEntry `json:"redis"`
					Job   struct {
						JobID       string `json:"getJobId"`
						Attempts    int    `json:"attempts()"`
						RawBody     string `json:"getRawBody"`
						ReservedJob string `json:"getReservedJob"`
						UUID        string `json:"uuid()"`
						ResolveName string `json:"resolveName"`
					} `json:"job"`
				} `json:"steps"`
			}
			loadFixture(t, &fx, v.dir, "redis", "pop_release.json")
			pop := fx.Steps[1].Job
			res := queue.Reservation{Queue: "default", Raw: []byte(pop.RawBody), Member: []byte(pop.ReservedJob)}
			j := mustNewJob(t, r, res)
			require.Equal(t, pop.JobID, j.ID())
			require.Equal(t, pop.UUID, j.UUID())
			require.Equal(t, pop.ResolveName, j.Name(), "a class-based job routes by its commandName")
			require.Equal(t, pop.Attempts, j.Attempts())
			var cmd struct{ N int }
			require.NoError(t, j.Bind(&cmd))
			require.Equal(t, 1, cmd.N)

			released, err := r.ReleasedCopy(res)
			require.NoError(t, err)
			require.Equal(t, fx.Steps[2].Redis[0].Members[0].Member, string(released))

			again := fx.Steps[3].Job
			require.Equal(t, string(released), again.RawBody)
			j = mustNewJob(t, r, queue.Reservation{Queue: "default", Raw: released, Member: []byte(again.ReservedJob)})
			require.Equal(t, again.Attempts, j.Attempts())
		})
	}
}

// TestRulesBackoffRelease replays redis/backoff_release.json: FailsWithBackoff throws on its first run
// and is released after backoff[0] = 10 s, as the reserved bytes.
func TestRulesBackoffRelease(t *testing.T) {
	t.Parallel()
	now := time.Unix(fixtureNow, 0)
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			r := NewRules(mustDialect(t, v.dialect), newCountingCache(), "")
			var fx struct {
				Before []redisEntry `json:"redis_before"`
				After  []redisEntry `json:"redis_after"`
			}
			loadFixture(t, &fx, v.dir, "redis", "backoff_release.json")
			member := fx.After[0].Members[0]
			res := queue.Reservation{Queue: "default", Raw: []byte(fx.Before[0].Elements[0]), Member: []byte(member.Member),
				Expires: now.Add(90 * time.Second)}
			j := mustNewJob(t, r, res)
			require.NoError(t, r.CheckBeforeRun(j, 0, now))
			require.NoError(t, r.FailAfterError(context.Background(), j, errTest, 0, now))
			delay := r.RetryDelay(j, errTest, []time.Duration{time.Hour}, now)
			require.Equal(t, time.Duration(member.ScoreMinusNow)*time.Second, delay, "the payload's backoff wins over the worker's")
			released, err := r.ReleasedCopy(res)
			require.NoError(t, err)
			require.Equal(t, member.Member, string(released))
		})
	}
}

// TestRulesFail replays redis/fail.json and database/fail.json: Fails (tries 1) fails with its own
// exception on its first run, and the failed record's exception is PHP's text.
func TestRulesFail(t *testing.T) {
	t.Parallel()
	now := time.Unix(fixtureNow, 0)
	for _, v := range fixtureVersions {
		for _, driver := range []string{"redis", "database"} {
			t.Run(v.dir+"/"+driver, func(t *testing.T) {
				t.Parallel()
				r := NewRules(mustDialect(t, v.dialect), nil, "")
				var fx struct {
					Rows []struct {
						Payload   string `json:"payload"`
						Exception string `json:"exception"`
					} `json:"failed_jobs_rows"`
				}
				loadFixture(t, &fx, v.dir, driver, "fail.json")
				row := fx.Rows[0]
				res := queue.Reservation{Queue: "default", Raw: []byte(row.Payload), Member: []byte("reserved copy")}
				if driver == "database" {
					res.Member, res.Attempts = []byte("1"), 1
				}
				j := mustNewJob(t, r, res)
				require.Equal(t, 1, j.Attempts())
				require.NoError(t, r.CheckBeforeRun(j, 0, now))
				thrown := phpThrown{text: row.Exception}
				err := r.FailAfterError(context.Background(), j, thrown, 0, now)
				require.Equal(t, error(thrown), err, "Laravel fails the job with its own exception")
				require.Equal(t, row.Exception, r.ExceptionText(err))
			})
		}
	}
}

// A Go error is rendered as PHP renders an exception, with the Go stack as its trace.
func TestRulesExceptionText(t *testing.T) {
	t.Parallel()
	r := NewRules(Dialect{Version: V11, Prefix: DefaultPrefix}, nil, "")
	text := r.ExceptionText(fmt.Errorf("send: %w", errTest))
	require.True(t, strings.HasPrefix(text, "*errors.errorString: test error in "), text)
	require.Contains(t, text, "\n\nNext *fmt.wrapError: send: test error in ")
	require.Contains(t, text, "rules_test.go")
	require.Equal(t, "", r.ExceptionText(nil))
}

// TestRulesDatabase replays database/push_reserve_release.json: a database reservation counts in the attempts
// column, its id is the row id, and a release inserts the payload bytes as they are.
func TestRulesDatabase(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			r := NewRules(mustDialect(t, v.dialect), nil, "")
			var fx struct {
				Steps []struct {
					SQL []struct {
						Bindings []any `json:"bindings"`
					} `json:"sql"`
					Job struct {
						JobID    int `json:"getJobId"`
						Attempts int `json:"attempts()"`
					} `json:"job"`
				} `json:"steps"`
			}
			loadFixture(t, &fx, v.dir, "database", "push_reserve_release.json")
			raw := readFixture(t, v.dir, "database", "payloads", "row1_default.json")
			pop := fx.Steps[1].Job
			res := queue.Reservation{Queue: "default", Raw: raw, Member: []byte("1"), Attempts: pop.Attempts}
			j := mustNewJob(t, r, res)
			require.Equal(t, fmt.Sprint(pop.JobID), j.ID())
			require.Equal(t, pop.Attempts, j.Attempts())
			released, err := r.ReleasedCopy(res)
			require.NoError(t, err)
			insert := fx.Steps[2].SQL[2].Bindings
			require.Equal(t, insert[len(insert)-1], string(released))
		})
	}
}

// A database job whose attempts column reached 255 fails unrun whatever the tries; Redis has no column.
func TestRulesColumnCeiling(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-11")
	r := NewRules(d, nil, "")
	now := time.Unix(fixtureNow, 0)
	raw := readFixture(t, "v11", "database", "payloads", "row2_legacy.json")
	for attempts, fails := range map[int]bool{1: false, 254: false, 255: true, 300: true} {
		j := mustNewJob(t, r, queue.Reservation{Queue: "legacy", Raw: raw, Member: []byte("2"), Attempts: attempts})
		err := r.CheckBeforeRun(j, 0, now)
		if fails {
			require.ErrorContains(t, err, "reached 255", "attempts %d", attempts)
		} else {
			require.NoError(t, err, "attempts %d", attempts)
		}
	}
	onRedis := []byte(`{"uuid":"u","job":"J@handle","data":"","attempts":300}`)
	j := mustNewJob(t, r, queue.Reservation{Queue: "default", Raw: onRedis, Member: []byte("reserved copy")})
	require.Equal(t, 301, j.Attempts())
	require.NoError(t, r.CheckBeforeRun(j, 0, now))
}

// maxExceptions counts in the app's cache under job-exceptions:<uuid>, created with a day's TTL: the job is
// released until the count reaches maxExceptions, then failed and the count forgotten.
func TestRulesMaxExceptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(fixtureNow, 0)
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			raw := readFixture(t, v.dir, "payloads", "queueable_options.json")
			p := mustParse(t, d, raw)
			require.Equal(t, 2, *p.MaxExceptions)
			key := d.CacheKey("laravel_cache", "job-exceptions:"+p.UUID)
			if v.dir == "v8" {
				require.Equal(t, "laravel_database_laravel_cache:job-exceptions:"+p.UUID, key)
			} else {
				require.Equal(t, "laravel_database_laravel_cache"+"job-exceptions:"+p.UUID, key)
			}
			cache := newCountingCache()
			r := NewRules(d, cache, "laravel_cache")
			res := queue.Reservation{Queue: "default", Raw: raw, Member: []byte("reserved copy")}

			require.NoError(t, r.FailAfterError(ctx, mustNewJob(t, r, res), errTest, 0, now))
			require.Equal(t, map[string]int{key: 1}, cache.counts)
			require.Equal(t, map[string]time.Duration{key: 24 * time.Hour}, cache.ttls)
			require.Empty(t, cache.forgot)

			require.Equal(t, errTest, r.FailAfterError(ctx, mustNewJob(t, r, res), errTest, 0, now))
			require.Equal(t, []string{key}, cache.forgot)
			require.Empty(t, cache.counts)

			// Without a counter, or with one that fails, nothing counts: the job is released every time.
			for _, counter := range []ExceptionCounter{nil, &countingCache{err: errors.New("cache down")}} {
				r := NewRules(d, counter, "laravel_cache")
				for range 3 {
					require.NoError(t, r.FailAfterError(ctx, mustNewJob(t, r, res), errTest, 0, now))
				}
			}
		})
	}
}

// A run past its timeout fails with MaxAttemptsExceededException when the job fails on timeout or its
// tries are used up; else it waits for its reservation to lapse, as the job of a killed PHP worker does.
func TestRulesTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := mustDialect(t, "laravel-11")
	r := NewRules(d, newCountingCache(), "")
	now := time.Unix(fixtureNow, 0)
	timedOut := fmt.Errorf("handler: %w", context.DeadlineExceeded)
	expires := now.Add(90 * time.Second)

	options := mustNewJob(t, r, queue.Reservation{Queue: "default", Raw: readFixture(t, "v11", "payloads", "queueable_options.json"),
		Member: []byte("reserved copy"), Expires: expires})
	var exceeded *MaxAttemptsExceededError
	require.ErrorAs(t, r.FailAfterError(ctx, options, timedOut, 0, now), &exceeded, "failOnTimeout")
	require.Equal(t, `App\Jobs\WithOptions has been attempted too many times.`, exceeded.Error())

	props := mustNewJob(t, r, queue.Reservation{Queue: "default", Raw: readFixture(t, "v11", "payloads", "object_props.json"),
		Member: []byte("reserved copy"), Expires: expires})
	require.NoError(t, r.FailAfterError(ctx, props, timedOut, 0, now))
	require.ErrorAs(t, r.FailAfterError(ctx, props, timedOut, 1, now), &exceeded, "--tries 1 used up")

	require.Equal(t, 90*time.Second, r.RetryDelay(props, timedOut, nil, now))
	require.Equal(t, 30*time.Second, r.RetryDelay(props, timedOut, nil, now.Add(time.Minute)), "waits until the reservation lapses")
	require.Zero(t, r.RetryDelay(props, timedOut, nil, now.Add(time.Hour)))
	require.Equal(t, 7*time.Second, r.RetryDelay(props, errTest, []time.Duration{7 * time.Second, 9 * time.Second}, now),
		"an ordinary error takes the worker's backoff for attempt 1")
}

// Jobs only the app's PHP can run come with the job and queue.ErrPHPOnly; a payload Redis's cjson could not
// copy fails.
func TestRulesNewJobRefusals(t *testing.T) {
	t.Parallel()
	r := NewRules(mustDialect(t, "laravel-12"), nil, "")
	for _, file := range []string{"encrypted.json", "chain.json"} {
		raw := readFixture(t, "v12", "payloads", file)
		j, err := r.NewJob(queue.Reservation{Queue: "default", Raw: raw, Member: []byte("reserved copy")})
		require.ErrorIs(t, err, queue.ErrPHPOnly, file)
		require.NotNil(t, j, file)
	}
	raw := []byte(`{"uuid":"u","job":"J@handle","data":"","attempts":0}`)
	_, err := r.NewJob(queue.Reservation{Queue: "default", Raw: raw, Member: raw})
	require.ErrorContains(t, err, "cjson")
	_, err = r.NewJob(queue.Reservation{Queue: "default", Raw: []byte(`{"uuid":"u"}`), Member: []byte("x")})
	require.ErrorIs(t, err, &PayloadError{})
}

// A job another rulebook made is refused, not a panic.
func TestRulesForeignJob(t *testing.T) {
	t.Parallel()
	r := NewRules(mustDialect(t, "laravel-11"), newCountingCache(), "")
	now := time.Unix(fixtureNow, 0)
	j := queue.NewJob(queue.JobParams{Name: "J", Attempts: 2, Payload: "not a laravel payload"})
	require.ErrorContains(t, r.CheckBeforeRun(j, 0, now), "not read by laravel.Rules")
	require.ErrorContains(t, r.FailAfterError(context.Background(), j, errTest, 0, now), "not read by laravel.Rules")
	require.Equal(t, 3*time.Second, r.RetryDelay(j, errTest, []time.Duration{time.Second, 3 * time.Second}, now))
}
