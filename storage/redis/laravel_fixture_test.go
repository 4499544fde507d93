package redis

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// The Laravel golden fixtures were captured from the real framework (8.83.26, 11.56.0, 12.67.0) running
// against Redis 7.0 with the clock fixed at 1735787045 and retry_after 90 (see
// shared/fixtures/laravel/INDEX.md). These tests replay them through the broker with a Laravel dialect whose
// connection prefix is unique to the test, pin the clock to the capture's seconds, and require every key of
// the queue to hold exactly what PHP and Redis left there. In particular the reserved copies are made by this
// Redis's cjson and must equal the captured bytes.
const laravelFixtureRoot = "../../../shared/fixtures/laravel"

var laravelVersions = []string{"v8", "v11", "v12"}

const (
	laravelFixtureNow  = 1735787045
	laravelRetryAfter  = 90 * time.Second
	laravelFixtureList = fixturePrefix + "queues:"
)

// lvKey is one key of a captured Redis dump.
type lvKey struct {
	Key      string   `json:"key"`
	Type     string   `json:"type"`
	Elements []string `json:"elements"`
	Members  []struct {
		Member string  `json:"member"`
		Score  float64 `json:"score"`
	} `json:"members"`
}

// lvJob is what the PHP RedisJob reported.
type lvJob struct {
	RawBody     string `json:"getRawBody"`
	ReservedJob string `json:"getReservedJob"`
}

func readLaravelFixture(t *testing.T, version, name string, v any) {
	t.Helper()
	path := filepath.Join(laravelFixtureRoot, version, name)
	data, err := os.ReadFile(path)
	require.NoError(t, err, "fixture missing: %s", path)
	require.NoError(t, json.Unmarshal(data, v), path)
}

func readLaravelPayload(t *testing.T, version, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(laravelFixtureRoot, version, name))
	require.NoError(t, err)
	return data
}

// fixtureQueue returns the queue a captured key belongs to: "laravel_database_queues:x:delayed" -> "x".
func fixtureQueue(t *testing.T, key string) string {
	t.Helper()
	q, ok := strings.CutPrefix(key, laravelFixtureList)
	require.True(t, ok, "fixture key %q lacks the prefix %q", key, laravelFixtureList)
	for _, suffix := range []string{":delayed", ":reserved", ":notify"} {
		if s, ok := strings.CutSuffix(q, suffix); ok {
			return s
		}
	}
	return q
}

// wantLaravel converts the captured keys of queue into what testBundle.state reports for this test's keys,
// with scores relative to the test's clock. Keys of other queues (and the cache's unique lock) are ignored.
func (tb *testBundle) wantLaravel(t *testing.T, dump []lvKey, queueName string) map[string][]string {
	t.Helper()
	k := tb.keysOf(t, queueName)
	ours := map[string]string{
		laravelFixtureList + queueName:               k.list,
		laravelFixtureList + queueName + ":delayed":  k.delayed,
		laravelFixtureList + queueName + ":reserved": k.reserved,
		laravelFixtureList + queueName + ":notify":   k.notify,
	}
	now := tb.clock.Now().Unix()
	out := map[string][]string{}
	for _, e := range dump {
		key, ok := ours[e.Key]
		if !ok {
			continue
		}
		switch e.Type {
		case "list":
			out[key] = e.Elements
		case "zset":
			for _, m := range e.Members {
				out[key] = append(out[key], zentry(m.Member, int64(m.Score)-now))
			}
		default:
			t.Fatalf("fixture key %q has type %q", e.Key, e.Type)
		}
	}
	return out
}

// checkLaravel compares every key of queueName with the captured dump.
func (tb *testBundle) checkLaravel(t *testing.T, where string, dump []lvKey, queueName string) {
	t.Helper()
	want := tb.wantLaravel(t, dump, queueName)
	got := tb.state(t, tb.keysOf(t, queueName).all()...)
	require.Empty(t, cmp.Diff(want, got), "%s (-want, +got)", where)
}

// pushFixture pushes a captured list element through the broker (Laravel's push script), as PHP did.
func (tb *testBundle) pushFixture(t *testing.T, dump []lvKey) {
	t.Helper()
	for _, e := range dump {
		if e.Type == "list" && !strings.HasSuffix(e.Key, ":notify") {
			for _, p := range e.Elements {
				require.NoError(t, tb.broker.Push(context.Background(), fixtureQueue(t, e.Key), []byte(p)))
			}
		}
	}
}

// TestLaravelFixturePush pushes every captured case with Push or Later, compares the queue's keys with the
// dump after the pushes, reserves once at the capture's clock and compares the reservation and the keys
// with what Laravel's pop left: the reserved member byte-identical to payloads/reserved/<case>.json at
// now+90, the list and :notify empty.
func TestLaravelFixturePush(t *testing.T) {
	t.Parallel()
	for _, v := range laravelVersions {
		var fx struct {
			Cases map[string]struct {
				Key           string   `json:"key"`
				How           string   `json:"how"`
				ScoreMinusNow *float64 `json:"score_minus_now"`
				PayloadFile   string   `json:"payload_file"`
			} `json:"cases"`
			AfterPushes     []lvKey `json:"redis_db0_after_all_pushes"`
			ReservedPerCase map[string]struct {
				Queue        string `json:"queue"`
				ReservedFile string `json:"reserved_file"`
			} `json:"reserved_per_case"`
			AfterPopping []lvKey `json:"redis_db0_after_popping_every_list_queue_once"`
		}
		readLaravelFixture(t, v, "redis/push.json", &fx)
		require.Len(t, fx.Cases, 14, v)
		require.Len(t, fx.ReservedPerCase, 12, v)

		for name, c := range fx.Cases {
			t.Run(v+"/"+name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				tb := setupLaravel(t, &Config{Expire: laravelRetryAfter})
				tb.clock.Set(laravelFixtureNow)
				payload := readLaravelPayload(t, v, c.PayloadFile)
				q := fixtureQueue(t, c.Key)
				k := tb.keysOf(t, q)

				switch c.How {
				case "RPUSH list element":
					require.NoError(t, tb.broker.Push(ctx, q, payload))
				case "ZADD member":
					require.NotNil(t, c.ScoreMinusNow)
					at := tb.clock.Now().Add(time.Duration(*c.ScoreMinusNow) * time.Second)
					require.NoError(t, tb.broker.Later(ctx, q, payload, at))
				default:
					t.Fatalf("unknown push %q", c.How)
				}
				tb.checkLaravel(t, "after the push", fx.AfterPushes, q)

				got, err := tb.broker.Reserve(ctx, q, 64)
				require.NoError(t, err)
				if rc, ok := fx.ReservedPerCase[name]; ok {
					require.Equal(t, rc.Queue, q)
					reserved := readLaravelPayload(t, v, rc.ReservedFile)
					require.Len(t, got, 1)
					require.Equal(t, queue.Reservation{
						Queue:   q,
						Raw:     payload,
						Member:  reserved,
						Expires: time.Unix(laravelFixtureNow+90, 0),
					}, got[0], "Raw = getRawBody (pushed bytes), Member = getReservedJob (cjson bytes)")
					require.NotEqual(t, string(got[0].Raw), string(got[0].Member))
				} else {
					require.Empty(t, got, "a delayed job is not due yet")
				}
				tb.checkLaravel(t, "after the pop", fx.AfterPopping, q)
				require.NotContains(t, tb.state(t, k.notify), k.notify, "the notify list is emptied")
			})
		}
	}
}

// TestLaravelFixturePopRelease replays pop_release.json: push → reserve → release(5) → clock+5 → reserve
// (the migrated reserved copy is now the raw body, attempts 2) → delete, comparing every key at each step.
func TestLaravelFixturePopRelease(t *testing.T) {
	t.Parallel()
	for _, v := range laravelVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var fx struct {
				RetryAfter int64 `json:"retry_after"`
				Steps      []struct {
					Step  string  `json:"step"`
					Job   *lvJob  `json:"job"`
					Redis []lvKey `json:"redis"`
				} `json:"steps"`
			}
			readLaravelFixture(t, v, "redis/pop_release.json", &fx)
			require.Len(t, fx.Steps, 5)
			require.EqualValues(t, 90, fx.RetryAfter)
			tb := setupLaravel(t, &Config{Expire: time.Duration(fx.RetryAfter) * time.Second})
			tb.clock.Set(laravelFixtureNow)
			check := func(i int) {
				t.Helper()
				tb.checkLaravel(t, fx.Steps[i].Step, fx.Steps[i].Redis, "default")
			}
			reserve := func(i int) queue.Reservation {
				t.Helper()
				got, err := tb.broker.Reserve(ctx, "default", 64)
				require.NoError(t, err)
				require.Len(t, got, 1, fx.Steps[i].Step)
				require.Equal(t, fx.Steps[i].Job.RawBody, string(got[0].Raw), "%s: getRawBody", fx.Steps[i].Step)
				require.Equal(t, fx.Steps[i].Job.ReservedJob, string(got[0].Member), "%s: getReservedJob", fx.Steps[i].Step)
				require.Equal(t, tb.clock.Now().Add(90*time.Second), got[0].Expires)
				return got[0]
			}

			tb.pushFixture(t, fx.Steps[0].Redis)
			check(0)

			r := reserve(1)
			check(1)

			ok, err := tb.broker.Release(ctx, r, r.Member, tb.clock.Now().Add(5*time.Second))
			require.NoError(t, err)
			require.True(t, ok)
			check(2)

			tb.clock.Advance(5 * time.Second)
			r2 := reserve(3)
			require.Equal(t, string(r.Member), string(r2.Raw), "the released reserved copy is the new raw body")
			check(3)

			n, err := tb.broker.Delete(ctx, "default", r2.Member)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			check(4)
			require.Empty(t, tb.state(t), "no keys left")
		})
	}
}

// TestLaravelFixtureBackoffRelease replays backoff_release.json: the worker releases the job after its
// first failure with backoff 10; the delayed member is the reserved copy, unchanged.
func TestLaravelFixtureBackoffRelease(t *testing.T) {
	t.Parallel()
	for _, v := range laravelVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var fx struct {
				Before []lvKey `json:"redis_before"`
				After  []lvKey `json:"redis_after"`
			}
			readLaravelFixture(t, v, "redis/backoff_release.json", &fx)
			tb := setupLaravel(t, &Config{Expire: laravelRetryAfter})
			tb.clock.Set(laravelFixtureNow)
			tb.pushFixture(t, fx.Before)
			tb.checkLaravel(t, "before", fx.Before, "default")

			got, err := tb.broker.Reserve(ctx, "default", 64)
			require.NoError(t, err)
			require.Len(t, got, 1)
			ok, err := tb.broker.Release(ctx, got[0], got[0].Member, tb.clock.Now().Add(10*time.Second))
			require.NoError(t, err)
			require.True(t, ok)
			tb.checkLaravel(t, "after", fx.After, "default")
		})
	}
}

// TestLaravelFixtureFail replays fail.json: the failed job leaves every queue key, and the failed record
// keeps the pushed bytes (Laravel's failed_jobs.payload is the raw body, not the cjson copy).
func TestLaravelFixtureFail(t *testing.T) {
	t.Parallel()
	for _, v := range laravelVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var fx struct {
				Before []lvKey `json:"redis_before"`
				After  []lvKey `json:"redis_after"`
				Rows   []struct {
					UUID    string `json:"uuid"`
					Payload string `json:"payload"`
				} `json:"failed_jobs_rows"`
			}
			readLaravelFixture(t, v, "redis/fail.json", &fx)
			require.Len(t, fx.Rows, 1)
			tb := setupLaravel(t, &Config{Expire: laravelRetryAfter})
			tb.clock.Set(laravelFixtureNow)
			tb.pushFixture(t, fx.Before)
			tb.checkLaravel(t, "before", fx.Before, "default")

			got, err := tb.broker.Reserve(ctx, "default", 64)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.NoError(t, tb.broker.Fail(ctx, got[0], queue.FailedJob{
				ID: fx.Rows[0].UUID, Connection: "redis", Queue: "default", Payload: got[0].Raw, Exception: "RuntimeException: boom",
			}))
			tb.checkLaravel(t, "after", fx.After, "default")
			require.Empty(t, tb.state(t))

			rec, ok, err := tb.broker.FailedJob(ctx, fx.Rows[0].UUID)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, fx.Rows[0].Payload, string(rec.Payload))
		})
	}
}
