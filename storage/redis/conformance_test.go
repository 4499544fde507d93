package redis

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/storage/storagetest"
)

// TestConformance runs the storage suite on Redis with compat's own dialects: think-queue v1, v3 and
// v3-plain, each store on a Redis database of its own (think-queue's keys have no prefix, and Queues must
// see only the store's own), and Laravel under a connection prefix of its own.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"thinkqueue-v1", "thinkqueue-v3", "thinkqueue-v3-plain"} {
		d, err := thinkqueue.ParseDialect(name)
		require.NoError(t, err)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Store {
				return openConformance(t, claimDatabase(t), d, now)
			}, thinkQueueFacts(d))
		})
	}
	t.Run("laravel-12", func(t *testing.T) {
		t.Parallel()
		d, err := laravel.ParseDialect("laravel-12")
		require.NoError(t, err)
		client := testClient(t)
		storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Store {
			d := d
			d.Prefix = uniqueName(t) + "_" + laravel.DefaultPrefix
			b := openConformance(t, client, d, now)
			t.Cleanup(func() { requireNotifyTokens(t, client, d) })
			return b
		}, laravelFacts(d, client))
	})
}

// openConformance returns a broker for the suite; the keys it leaves under the dialect's pattern, and its
// failed store, are deleted when t ends.
func openConformance(t *testing.T, client *goredis.Client, d QueueKeyer, now func() time.Time) *Broker {
	t.Helper()
	b, err := New(client, d, &Config{Expire: storagetest.Expire, NowFunc: now, FailedKeyPrefix: uniqueName(t)})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		keys := []string{b.failedKey, b.failedIndexKey}
		iter := client.Scan(ctx, 0, d.QueuePattern(), scanCount).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		require.NoError(t, iter.Err())
		require.NoError(t, client.Del(ctx, keys...).Err())
	})
	return b
}

// requireNotifyTokens requires one notify token per ready job in each queue the suite uses, as Laravel's
// own scripts keep them: PHP workers blocking on the notify list must wake as among PHP workers.
func requireNotifyTokens(t *testing.T, client *goredis.Client, d laravel.Dialect) {
	ctx := context.Background()
	for _, q := range []string{"default", "emails", "reports"} {
		list, _, _ := d.QueueKeys(q)
		ready, err := client.LLen(ctx, list).Result()
		require.NoError(t, err)
		tokens, err := client.LLen(ctx, d.NotifyKey(q)).Result()
		require.NoError(t, err)
		if ready != tokens {
			t.Errorf("queue %s: %d ready jobs, %d notify tokens", q, ready, tokens)
		}
	}
}

func thinkQueueFacts(d thinkqueue.Dialect) storagetest.Facts {
	return storagetest.Facts{
		NewPayload: func(id string) ([]byte, error) { return d.NewPayload(`app\job\Probe`, id, id) },
		Attempts: func(r queue.Reservation) (int, error) {
			p, err := d.Parse(r.Raw)
			if err != nil {
				return 0, err
			}
			return d.Attempts(p), nil
		},
		ReleasedCopy: func(r queue.Reservation) ([]byte, error) { return d.ReleasedCopy(r.Raw, r.Member) },
		Payloads:     &storagetest.PayloadFacts{ReservedCopy: d.ReservedCopy, ExpiredCopy: d.ExpiredCopy},
	}
}

// laravelFacts has Redis's own cjson make the reserved copies the suite expects, as Laravel's pop does.
func laravelFacts(d laravel.Dialect, client *goredis.Client) storagetest.Facts {
	return storagetest.Facts{
		NewPayload: func(id string) ([]byte, error) {
			return d.NewStringPayload(`App\Jobs\Probe@handle`, id,
				laravel.PayloadParams{UUID: id, ID: id, Now: time.Unix(testEpoch, 0), Redis: true})
		},
		Attempts: func(r queue.Reservation) (int, error) {
			p, err := d.Parse(r.Raw)
			if err != nil {
				return 0, err
			}
			return d.Attempts(p), nil
		},
		ReleasedCopy: func(r queue.Reservation) ([]byte, error) { return d.ReleasedCopy(r.Raw, r.Member) },
		Payloads: &storagetest.PayloadFacts{
			ReservedCopy: func(raw []byte) ([]byte, error) { return cjsonCopy(context.Background(), client, raw) },
			ExpiredCopy:  func(member []byte) ([]byte, error) { return member, nil },
		},
	}
}

// claimKey marks a Redis database as taken by one test; its value names the test.
const claimKey = "qbtest:claim"

// suiteDatabases are the Redis databases claimDatabase hands out, "lo-hi" in QB_REDIS_SUITE_DBS, by
// default 8-15 (a stock Redis has 16).
func suiteDatabases(t *testing.T) (lo, hi int) {
	t.Helper()
	spec := os.Getenv("QB_REDIS_SUITE_DBS")
	if spec == "" {
		spec = "8-15"
	}
	from, to, ok := strings.Cut(spec, "-")
	lo, err1 := strconv.Atoi(from)
	hi, err2 := strconv.Atoi(to)
	if !ok || err1 != nil || err2 != nil || lo > hi {
		t.Fatalf("QB_REDIS_SUITE_DBS=%q: want lo-hi, e.g. 8-15", spec)
	}
	return lo, hi
}

// claims limits how many tests of this process hold a database at once to how many there are, so the
// rest wait for one rather than fail.
var claims struct {
	once  sync.Once
	slots chan struct{}
}

// claimDatabase returns a client on an empty Redis database that no other test uses until t ends: it
// sets claimKey with NX (and a TTL, should the process die) in the first empty database of
// suiteDatabases, and deletes it when t ends.
func claimDatabase(t *testing.T) *goredis.Client {
	t.Helper()
	lo, hi := suiteDatabases(t)
	claims.once.Do(func() { claims.slots = make(chan struct{}, hi-lo+1) })
	claims.slots <- struct{}{}
	ctx := context.Background()
	for db := lo; db <= hi; db++ {
		client := goredis.NewClient(&goredis.Options{Addr: redisAddr(), DB: db})
		ok, err := client.SetNX(ctx, claimKey, t.Name(), 10*time.Minute).Result()
		if err != nil {
			<-claims.slots
			t.Fatalf("Redis at %s, database %d (set QB_REDIS_ADDR, QB_REDIS_SUITE_DBS): %v", redisAddr(), db, err)
		}
		if ok {
			n, err := client.DBSize(ctx).Result()
			if err == nil && n == 1 {
				t.Cleanup(func() {
					client.Del(context.Background(), claimKey)
					_ = client.Close()
					<-claims.slots
				})
				return client
			}
			client.Del(ctx, claimKey) // in use by something that does not claim
		}
		_ = client.Close()
	}
	<-claims.slots
	t.Fatalf("no empty, unclaimed Redis database in %d-%d (set QB_REDIS_SUITE_DBS)", lo, hi)
	return nil
}

func TestClaimDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := claimDatabase(t)
	b := claimDatabase(t)
	require.NotEqual(t, a.Options().DB, b.Options().DB, "two claims, two databases")
	owner, err := a.Get(ctx, claimKey).Result()
	require.NoError(t, err)
	require.Equal(t, t.Name(), owner)
	require.Equal(t, int64(1), a.DBSize(ctx).Val(), "nothing but the claim")
}
