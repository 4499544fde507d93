package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// lvPayload returns a compact Laravel-like payload. Its "data" holds an empty array, which cjson turns into
// {} in the reserved copy, so the copy never equals the payload by accident.
func lvPayload(id string, attempts int) string {
	return fmt.Sprintf(`{"uuid":%q,"job":"App\\Jobs\\Probe","data":{"tags":[]},"id":%q,"attempts":%d}`, id, id, attempts)
}

// cjsonCopy is the oracle for a reserved copy: Laravel's pop re-encode, run by this Redis's cjson on its own.
func (tb *testBundle) cjsonCopy(t testing.TB, raw string) string {
	t.Helper()
	out, err := cjsonCopy(context.Background(), tb.client, []byte(raw))
	require.NoError(t, err)
	return string(out)
}

func cjsonCopy(ctx context.Context, client goredis.UniversalClient, raw []byte) ([]byte, error) {
	const reencode = `local r = cjson.decode(ARGV[1]); r['attempts'] = r['attempts'] + 1; return cjson.encode(r)`
	out, err := client.Eval(ctx, reencode, nil, raw).Text()
	return []byte(out), err
}

// ones returns n notify tokens.
func ones(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "1"
	}
	return out
}

// sortedZ compares sorted-set states without caring how members of equal score are ordered.
var sortedZ = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestNewLaravel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	cluster := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	t.Cleanup(func() { _ = cluster.Close() })
	d := testLaravel{prefix: fixturePrefix}

	t.Run("PicksLaravelScripts", func(t *testing.T) {
		t.Parallel()
		b, err := New(client, d, nil)
		require.NoError(t, err)
		require.NotNil(t, b.laravel)
		require.Nil(t, b.thinkqueue)
		k, err := b.keys("default")
		require.NoError(t, err)
		require.Equal(t, queueKeys{
			list:     "laravel_database_queues:default",
			delayed:  "laravel_database_queues:default:delayed",
			reserved: "laravel_database_queues:default:reserved",
			notify:   "laravel_database_queues:default:notify",
		}, k)

		b, err = New(client, v3Like, nil)
		require.NoError(t, err)
		require.Nil(t, b.laravel)
		require.NotNil(t, b.thinkqueue)
	})

	t.Run("KeysOnly", func(t *testing.T) {
		t.Parallel()
		_, err := New(client, keysOnly{}, nil)
		require.ErrorContains(t, err, "neither a Dialect (think-queue) nor a LaravelDialect")
	})

	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		// Laravel has no hash tags of its own: New accepts the client, and each queue is checked when used.
		b, err := New(cluster, d, nil)
		require.NoError(t, err)

		k, err := b.keys("{default}")
		require.NoError(t, err)
		for _, key := range k.all() {
			require.Equal(t, "default", hashTag(key), key)
		}

		// No call reaches the (unreachable) server: the keys are refused first.
		r := queue.Reservation{Queue: "default", Raw: []byte("x"), Member: []byte("x")}
		for name, call := range map[string]func() error{
			"push":      func() error { return b.Push(ctx, "default", []byte("x")) },
			"later":     func() error { return b.Later(ctx, "default", []byte("x"), time.Now()) },
			"reserve":   func() error { _, err := b.Reserve(ctx, "default", 1); return err },
			"delete":    func() error { _, err := b.Delete(ctx, "default", []byte("x")); return err },
			"release":   func() error { _, err := b.Release(ctx, r, r.Member, time.Now()); return err },
			"hand back": func() error { _, err := b.HandBack(ctx, r); return err },
			"extend":    func() error { _, err := b.Extend(ctx, r, time.Now()); return err },
			"fail":      func() error { return b.Fail(ctx, r, queue.FailedJob{ID: "1"}) },
			"sizes":     func() error { _, err := b.Sizes(ctx, "default"); return err },
			"list":      func() error { _, err := b.List(ctx, "default", queue.StateReady, 0, 1); return err },
			"clear":     func() error { _, err := b.Clear(ctx, "default"); return err },
		} {
			err := call()
			require.ErrorContains(t, err, `put a hash tag in the queue name, e.g. "{default}"`, name)
			require.ErrorContains(t, err, name+" default: ", name)
		}
	})
}

// keysOnly has a key scheme and nothing else: the broker cannot tell which scripts to run.
type keysOnly struct{}

func (keysOnly) QueueKeys(queue string) (string, string, string) {
	return "queues:" + queue, "queues:" + queue + ":delayed", "queues:" + queue + ":reserved"
}

func (keysOnly) QueuePattern() string          { return "queues:*" }
func (keysOnly) QueueOf(string) (string, bool) { return "", false }

func TestLaravelPushLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setupLaravel(t, nil)

	require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(lvPayload("a", 0))))
	require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(lvPayload("b", 0))))
	require.NoError(t, tb.broker.Later(ctx, tb.queue, []byte(lvPayload("c", 0)), tb.clock.Now().Add(10*time.Second)))

	require.Empty(t, cmp.Diff(map[string][]string{
		tb.list:    {lvPayload("a", 0), lvPayload("b", 0)},
		tb.notify:  {"1", "1"},
		tb.delayed: {zentry(lvPayload("c", 0), 10)},
	}, tb.state(t)), "(-want, +got): a delayed job gets no notify token")
}

func TestLaravelReserve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("PopsBatchWithCjsonCopies", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		for _, id := range []string{"a", "b", "c"} {
			require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(lvPayload(id, 0))))
		}

		got, err := tb.broker.Reserve(ctx, tb.queue, 2)
		require.NoError(t, err)
		ma, mb := tb.cjsonCopy(t, lvPayload("a", 0)), tb.cjsonCopy(t, lvPayload("b", 0))
		require.Contains(t, ma, `"tags":{}`, "cjson's copy, not the pushed bytes")
		require.Contains(t, ma, `"attempts":1`)
		expires := tb.clock.Now().Add(60 * time.Second)
		require.Empty(t, cmp.Diff([]queue.Reservation{
			{Queue: tb.queue, Raw: []byte(lvPayload("a", 0)), Member: []byte(ma), Expires: expires},
			{Queue: tb.queue, Raw: []byte(lvPayload("b", 0)), Member: []byte(mb), Expires: expires},
		}, got), "(-want, +got)")
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list:   {lvPayload("c", 0)},
			tb.notify: {"1"},
			tb.held:   {zentry(ma, 60), zentry(mb, 60)},
		}, tb.state(t), sortedZ), "(-want, +got): one notify token taken per job")
	})

	t.Run("EmptyQueue", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		tb.seedZSet(t, tb.delayed, 1, lvPayload("later", 0))

		got, err := tb.broker.Reserve(ctx, tb.queue, 64)
		require.NoError(t, err)
		require.Empty(t, got)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.delayed: {zentry(lvPayload("later", 0), 1)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("MigratesDueDelayedWithNotifyTokens", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(lvPayload("ready", 0))))
		tb.seedZSet(t, tb.delayed, -5, lvPayload("d5", 0))
		tb.seedZSet(t, tb.delayed, -10, lvPayload("d10", 0))
		tb.seedZSet(t, tb.delayed, 0, lvPayload("d0", 0))
		tb.seedZSet(t, tb.delayed, 1, lvPayload("future", 0))

		got, err := tb.broker.Reserve(ctx, tb.queue, 2)
		require.NoError(t, err)
		require.Equal(t, []string{lvPayload("ready", 0), lvPayload("d10", 0)}, raws(got))
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list:    {lvPayload("d5", 0), lvPayload("d0", 0)},
			tb.notify:  {"1", "1"}, // 1 pushed + 3 migrated - 2 reserved
			tb.delayed: {zentry(lvPayload("future", 0), 1)},
			tb.held:    {zentry(tb.cjsonCopy(t, lvPayload("d10", 0)), 60), zentry(tb.cjsonCopy(t, lvPayload("ready", 0)), 60)},
		}, tb.state(t), sortedZ), "(-want, +got)")
	})

	t.Run("MigratesInChunksOf100", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		due := make([]string, 250)
		for i := range due {
			due[i] = lvPayload(fmt.Sprintf("d%03d", i), 0)
			tb.seedZSet(t, tb.delayed, int64(i-len(due)), due[i]) // oldest first
		}

		got, err := tb.broker.Reserve(ctx, tb.queue, 1)
		require.NoError(t, err)
		require.Equal(t, due[:1], raws(got))
		st := tb.state(t)
		require.Equal(t, due[1:], st[tb.list], "every due member, in score order")
		require.Equal(t, ones(len(due)-1), st[tb.notify])
		require.NotContains(t, st, tb.delayed)
	})

	t.Run("BoundsMigrationPerCall", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		due := make([]string, migrateLimit+500)
		for i := range due {
			due[i] = lvPayload(fmt.Sprintf("d%04d", i), 0)
		}
		tb.seedZSet(t, tb.delayed, -1, due...)

		got, err := tb.broker.Reserve(ctx, tb.queue, 1)
		require.NoError(t, err)
		require.Equal(t, due[:1], raws(got))
		st := tb.state(t)
		require.Equal(t, due[1:migrateLimit], st[tb.list])
		require.Len(t, st[tb.notify], migrateLimit-1)
		require.Len(t, st[tb.delayed], 500)
	})

	t.Run("MovesExpiredBackUnchangedAfterDelayed", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		e1 := tb.cjsonCopy(t, lvPayload("e1", 0)) // what a crashed worker left reserved, attempts 1
		e0 := tb.cjsonCopy(t, lvPayload("e0", 0))
		running := tb.cjsonCopy(t, lvPayload("running", 0))
		tb.seedZSet(t, tb.held, -1, e1)
		tb.seedZSet(t, tb.held, 0, e0)
		tb.seedZSet(t, tb.held, 5, running)
		tb.seedZSet(t, tb.delayed, -1, lvPayload("d", 1))

		got, err := tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		require.Equal(t, []string{lvPayload("d", 1), e1, e0}, raws(got), "delayed first, as Laravel migrates them first")
		require.Contains(t, string(got[1].Member), `"attempts":2`)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry(running, 5), zentry(string(got[0].Member), 60), zentry(string(got[1].Member), 60), zentry(string(got[2].Member), 60)},
		}, tb.state(t), sortedZ), "(-want, +got): list and notify empty")
	})

	t.Run("RetryAfterNull", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, &Config{Expire: -1})
		held := tb.cjsonCopy(t, lvPayload("held", 0))
		tb.seedZSet(t, tb.held, -3600, held)
		tb.seedZSet(t, tb.delayed, -1, lvPayload("d", 0))

		got, err := tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		require.Equal(t, []string{lvPayload("d", 0)}, raws(got), "delayed jobs still migrate; reservations never return")
		require.Equal(t, tb.clock.Now(), got[0].Expires, "reserved with score now")
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry(held, -3600), zentry(string(got[0].Member), 0)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("KeepsPoison", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		poison := []string{
			"not json",
			`{"uuid":"x","job":"A@b","data":{}}`, // no attempts
			`{"attempts":null}`,
			`{"attempts":"many"}`,
			`{"attempts":[]}`,
			`[1,2]`,
			`null`,
			`7`,
			`"a string"`,
			"",
		}
		pushed := append([]string{lvPayload("a", 0)}, poison...)
		pushed = append(pushed, `{"attempts":"3"}`, lvPayload("b", 2))
		for _, p := range pushed {
			require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(p)))
		}

		got, err := tb.broker.Reserve(ctx, tb.queue, 64)
		require.NoError(t, err)
		require.Equal(t, pushed, raws(got), "nothing is lost, order kept")
		wantMembers := append([]string{tb.cjsonCopy(t, lvPayload("a", 0))}, poison...)
		wantMembers = append(wantMembers,
			`{"attempts":4}`, // Lua adds to a numeric string, as Laravel's pop does
			tb.cjsonCopy(t, lvPayload("b", 2)))
		require.Equal(t, wantMembers, members(got), "poison is held as it came: Member = Raw")
		var held []string
		for _, m := range wantMembers {
			held = append(held, zentry(m, 60))
		}
		require.Empty(t, cmp.Diff(map[string][]string{tb.held: held}, tb.state(t), sortedZ),
			"(-want, +got): list and notify emptied, every job reserved at now+retry_after")

		// The worker moves poison to the failed store by its exact bytes.
		for i, r := range got[1 : 1+len(poison)] {
			require.NoError(t, tb.broker.Fail(ctx, r, queue.FailedJob{ID: fmt.Sprint(i), Queue: tb.queue, Payload: r.Raw}))
			rec, ok, err := tb.broker.FailedJob(ctx, fmt.Sprint(i))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, poison[i], string(rec.Payload))
		}
		require.Len(t, tb.state(t)[tb.held], 3)
	})
}

func TestLaravelAcknowledge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// reserveOne pushes payload and reserves it.
	reserveOne := func(t *testing.T, tb *testBundle, payload string) queue.Reservation {
		t.Helper()
		require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(payload)))
		got, err := tb.broker.Reserve(ctx, tb.queue, 1)
		require.NoError(t, err)
		require.Len(t, got, 1)
		return got[0]
	}

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		a := reserveOne(t, tb, lvPayload("a", 0))
		b := reserveOne(t, tb, lvPayload("b", 0))
		n, err := tb.broker.Delete(ctx, tb.queue, a.Member, b.Member, []byte("gone"))
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Empty(t, tb.state(t))
	})

	t.Run("Release", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		r := reserveOne(t, tb, lvPayload("a", 0))
		ok, err := tb.broker.Release(ctx, r, r.Member, tb.clock.Now().Add(5*time.Second))
		require.NoError(t, err)
		require.True(t, ok)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.delayed: {zentry(string(r.Member), 5)},
		}, tb.state(t)), "(-want, +got): the reserved bytes unchanged, no notify token")

		// Released again (e.g. recovered by another worker meanwhile): nothing is added.
		ok, err = tb.broker.Release(ctx, r, r.Member, tb.clock.Now().Add(9*time.Second))
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, []string{zentry(string(r.Member), 5)}, tb.state(t)[tb.delayed])
	})

	t.Run("HandBack", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		r := reserveOne(t, tb, lvPayload("a", 0))
		ok, err := tb.broker.HandBack(ctx, r)
		require.NoError(t, err)
		require.True(t, ok)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list:   {lvPayload("a", 0)},
			tb.notify: {"1"},
		}, tb.state(t)), "(-want, +got): back as pushed, attempts unchanged, with its token")

		ok, err = tb.broker.HandBack(ctx, r)
		require.NoError(t, err)
		require.False(t, ok, "no longer reserved")
		require.Len(t, tb.state(t)[tb.list], 1)
	})

	t.Run("Extend", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		r := reserveOne(t, tb, lvPayload("a", 0))
		ok, err := tb.broker.Extend(ctx, r, tb.clock.Now().Add(300*time.Second))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, []string{zentry(string(r.Member), 300)}, tb.state(t)[tb.held])
	})

	t.Run("SizesListClear", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		reserveOne(t, tb, lvPayload("r", 0))
		require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(lvPayload("a", 0))))
		require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(lvPayload("b", 0))))
		require.NoError(t, tb.broker.Later(ctx, tb.queue, []byte(lvPayload("d", 0)), tb.clock.Now().Add(time.Minute)))

		sizes, err := tb.broker.Sizes(ctx, tb.queue)
		require.NoError(t, err)
		require.Equal(t, queue.Sizes{Ready: 2, Delayed: 1, Reserved: 1}, sizes)
		listed, err := tb.broker.List(ctx, tb.queue, queue.StateReady, 0, 1)
		require.NoError(t, err)
		require.Equal(t, []string{lvPayload("a", 0)}, storedRaws(listed))

		n, err := tb.broker.Clear(ctx, tb.queue)
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.Empty(t, tb.state(t), "the notify list goes too, as in Laravel's clear")
	})
}
