package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

func TestReserve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("PopsBatchAndHolds", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v1Like, nil)
		tb.seedList(t, job("a", 1), job("b", 1), job("c", 1))

		got, err := tb.broker.Reserve(ctx, tb.queue, 2)
		require.NoError(t, err)
		expires := tb.clock.Now().Add(60 * time.Second)
		want := []queue.Reservation{
			{Queue: tb.queue, Raw: []byte(job("a", 1)), Member: []byte(job("a", 1)), Expires: expires},
			{Queue: tb.queue, Raw: []byte(job("b", 1)), Member: []byte(job("b", 1)), Expires: expires},
		}
		require.Empty(t, cmp.Diff(want, got), "(-want, +got)")
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list: {job("c", 1)},
			tb.held: {zentry(job("a", 1), 60), zentry(job("b", 1), 60)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("EmptyQueue", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, nil)
		tb.seedZSet(t, tb.delayed, 1, job("later", 0))

		got, err := tb.broker.Reserve(ctx, tb.queue, 64)
		require.NoError(t, err)
		require.Empty(t, got)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.delayed: {zentry(job("later", 0), 1)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("InvalidN", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v1Like, nil)
		tb.seedList(t, job("a", 1))
		for _, n := range []int{0, -1, MaxReserve + 1} {
			_, err := tb.broker.Reserve(ctx, tb.queue, n)
			require.ErrorContains(t, err, "n must be between 1 and 1000", "n=%d", n)
		}
		require.Equal(t, map[string][]string{tb.list: {job("a", 1)}}, tb.state(t))
	})

	t.Run("MigratesDueDelayedInScoreOrder", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v1Like, nil)
		tb.seedList(t, job("ready", 1))
		tb.seedZSet(t, tb.delayed, -5, job("d5", 1))
		tb.seedZSet(t, tb.delayed, -10, job("d10", 1))
		tb.seedZSet(t, tb.delayed, 0, job("d0", 1))
		tb.seedZSet(t, tb.delayed, 1, job("future", 1))

		got, err := tb.broker.Reserve(ctx, tb.queue, 2)
		require.NoError(t, err)
		require.Equal(t, []string{job("ready", 1), job("d10", 1)}, raws(got))
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list:    {job("d5", 1), job("d0", 1)},
			tb.delayed: {zentry(job("future", 1), 1)},
			tb.held:    {zentry(job("d10", 1), 60), zentry(job("ready", 1), 60)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("BoundsMigrationPerCall", func(t *testing.T) {
		t.Parallel()
		// v1's reserve is one script call (v3's first reserve makes two: a look at the head, then the pop).
		tb := setup(t, v1Like, nil)
		due := make([]string, 1500)
		for i := range due {
			due[i] = job(fmt.Sprintf("d%04d", i), 0)
		}
		tb.seedZSet(t, tb.delayed, -1, due...)

		got, err := tb.broker.Reserve(ctx, tb.queue, 1)
		require.NoError(t, err)
		require.Equal(t, []string{due[0]}, raws(got))
		st := tb.state(t)
		require.Equal(t, due[1:migrateLimit], st[tb.list], "the first 1000 due members, in order, minus the popped one")
		require.Len(t, st[tb.delayed], 500)
		require.Equal(t, zentry(due[migrateLimit], -1), st[tb.delayed][0])

		got, err = tb.broker.Reserve(ctx, tb.queue, MaxReserve)
		require.NoError(t, err)
		require.Equal(t, due[1:MaxReserve+1], raws(got), "the largest batch, in order")
		st = tb.state(t)
		require.Equal(t, due[MaxReserve+1:], st[tb.list])
		require.NotContains(t, st, tb.delayed)
		require.Len(t, st[tb.held], MaxReserve+1)
	})

	t.Run("HoldsReservedCopies", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, nil)
		tb.seedList(t, job("a", 0), "not json", job("b", 3))

		got, err := tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		expires := tb.clock.Now().Add(60 * time.Second)
		want := []queue.Reservation{
			{Queue: tb.queue, Raw: []byte(job("a", 0)), Member: []byte(job("a", 1)), Expires: expires},
			{Queue: tb.queue, Raw: []byte("not json"), Member: []byte("not json"), Expires: expires},
			{Queue: tb.queue, Raw: []byte(job("b", 3)), Member: []byte(job("b", 4)), Expires: expires},
		}
		require.Empty(t, cmp.Diff(want, got), "(-want, +got)")
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry("not json", 60), zentry(job("a", 1), 60), zentry(job("b", 4), 60)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("HeadChangedMeanwhile", func(t *testing.T) {
		t.Parallel()
		// A PHP worker pops "a" while Go makes the copies of the head the first call returned: the dialect's
		// ReservedCopy call is that moment. The next call pops only what is still at the head.
		var tb *testBundle
		d := hookDialect{Dialect: v3Like, onCopy: func(raw []byte) {
			if string(raw) == job("a", 0) {
				require.NoError(t, tb.client.LRem(ctx, tb.list, 1, raw).Err())
			}
		}}
		tb = setup(t, d, nil)
		tb.seedList(t, job("a", 0), job("b", 0), job("c", 0))

		got, err := tb.broker.Reserve(ctx, tb.queue, 2)
		require.NoError(t, err)
		require.Equal(t, []string{job("b", 0), job("c", 0)}, raws(got))
		require.Equal(t, []string{job("b", 1), job("c", 1)}, members(got))
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry(job("b", 1), 60), zentry(job("c", 1), 60)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("MovesExpiredBackUnchanged", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, nil)
		tb.seedZSet(t, tb.held, -1, job("e1", 1))
		tb.seedZSet(t, tb.held, 0, job("e0", 1))
		tb.seedZSet(t, tb.held, 5, job("running", 1))

		got, err := tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		require.Equal(t, []string{job("e1", 1), job("e0", 1)}, raws(got))
		require.Equal(t, []string{job("e1", 2), job("e0", 2)}, members(got))
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry(job("running", 1), 5), zentry(job("e0", 2), 60), zentry(job("e1", 2), 60)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("RewritesExpiredOncePerSecond", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v1Like, nil)
		tb.seedZSet(t, tb.held, -1, job("e", 1), "not json")
		tb.seedZSet(t, tb.held, 5, job("running", 1))

		got, err := tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		require.Equal(t, []string{"not json", job("e", 2)}, raws(got), "rewritten with attempts+1; non-JSON moved as is")
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry(job("running", 1), 5), zentry("not json", 60), zentry(job("e", 2), 60)},
		}, tb.state(t)), "(-want, +got)")

		// Within the same second the queue is not scanned again.
		tb.seedZSet(t, tb.held, -1, job("late", 1))
		got, err = tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		require.Empty(t, got)

		tb.clock.Advance(time.Second)
		got, err = tb.broker.Reserve(ctx, tb.queue, 10)
		require.NoError(t, err)
		require.Equal(t, []string{job("late", 2)}, raws(got))
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.held: {zentry(job("running", 1), 4), zentry("not json", 59), zentry(job("e", 2), 59), zentry(job("late", 2), 60)},
		}, tb.state(t)), "(-want, +got)")
	})

	t.Run("RewriteScansAgainAfterFullBatch", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v1Like, nil)
		expired := make([]string, expiredBatch+50)
		for i := range expired {
			expired[i] = job(fmt.Sprintf("e%03d", i), 1)
		}
		tb.seedZSet(t, tb.held, -1, expired...)

		got, err := tb.broker.Reserve(ctx, tb.queue, MaxReserve)
		require.NoError(t, err)
		require.Len(t, got, expiredBatch)
		got, err = tb.broker.Reserve(ctx, tb.queue, MaxReserve)
		require.NoError(t, err)
		require.Len(t, got, 50, "a full batch means more are waiting: scan again within the same second")
		require.Equal(t, job("e149", 2), string(got[49].Raw))
		require.Len(t, tb.state(t)[tb.held], len(expired))
	})

	for _, d := range []testDialect{v1Like, v3Like} {
		t.Run(fmt.Sprintf("ExpireOff/rewrite=%t", d.rewrite), func(t *testing.T) {
			t.Parallel()
			tb := setup(t, d, &Config{Expire: -1})
			tb.seedList(t, job("a", 1))
			tb.seedZSet(t, tb.delayed, -1, job("d", 1))

			got, err := tb.broker.Reserve(ctx, tb.queue, 10)
			require.NoError(t, err)
			require.Equal(t, []string{job("a", 1), job("d", 1)}, raws(got), "delayed jobs still migrate")
			require.Equal(t, tb.clock.Now(), got[0].Expires, "reserved with score now, as PHP's time()+null")
			held := members(got)

			tb.clock.Advance(time.Hour)
			got, err = tb.broker.Reserve(ctx, tb.queue, 10)
			require.NoError(t, err)
			require.Empty(t, got, "reservations never return")
			require.Empty(t, cmp.Diff(map[string][]string{
				tb.held: {zentry(held[0], -3600), zentry(held[1], -3600)},
			}, tb.state(t)), "(-want, +got)")
		})
	}
}

// TestReserveCopiesScript covers reserve_copies.lua directly: it pops the head while it has the copies of
// its jobs, stops at the first job it has none for, and returns the head behind.
func TestReserveCopiesScript(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)
	tb.seedList(t, job("a", 0), job("b", 0), job("c", 0), job("d", 0))
	tb.seedZSet(t, tb.held, 45, job("other", 1))
	keys := []string{tb.list, tb.delayed, tb.held}
	now := tb.clock.Now().Unix()

	res, err := reserveCopiesScript.Run(ctx, tb.client, keys, now, now+60, 10, "1", migrateLimit, 2,
		job("b", 0), job("b", 1)).Slice()
	require.NoError(t, err)
	popped, head, err := reserveCopiesReply(res)
	require.NoError(t, err)
	require.Empty(t, popped, "the head's job has no copy")
	require.Equal(t, []string{job("a", 0), job("b", 0)}, head)

	res, err = reserveCopiesScript.Run(ctx, tb.client, keys, now, now+60, 10, "1", migrateLimit, 2,
		job("b", 0), job("b", 1), job("a", 0), job("a", 1), job("d", 0), job("d", 1)).Slice()
	require.NoError(t, err)
	popped, head, err = reserveCopiesReply(res)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 1}, popped, "a then b, by their pair numbers; c has no copy")
	require.Equal(t, []string{job("c", 0), job("d", 0)}, head)
	require.Empty(t, cmp.Diff(map[string][]string{
		tb.list: {job("c", 0), job("d", 0)},
		tb.held: {zentry(job("other", 1), 45), zentry(job("a", 1), 60), zentry(job("b", 1), 60)},
	}, tb.state(t)), "(-want, +got)")
}

// TestReserveCopiesHead: while a bridge is the only one reserving from a queue, its reserves ask for a head
// as long as the batch; once the head moved under one (another bridge took those jobs), twice that, for
// contendedFor, so a call that loses the head still finds copies behind it.
func TestReserveCopiesHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := setup(t, v3Like, nil)
	b := newBundle(t, v3Like, a.queue, uniqueName(t), nil) // a second bridge on the same queue
	for i := range 20 {
		a.seedList(t, job(fmt.Sprint(i), 0))
	}
	head := func() headCopies {
		a.broker.mu.Lock()
		defer a.broker.mu.Unlock()
		return a.broker.heads[a.held]
	}

	got, err := a.broker.Reserve(ctx, a.queue, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Zero(t, head().contendedAt, "alone on the queue")
	require.Len(t, head().copies, 2, "a head as long as the batch")

	got, err = b.broker.Reserve(ctx, b.queue, 2) // takes the two jobs a has copies of
	require.NoError(t, err)
	require.Len(t, got, 2)
	got, err = a.broker.Reserve(ctx, a.queue, 2)
	require.NoError(t, err)
	require.Len(t, got, 2, "the head moved: a calls again with the new head's copies")
	require.Equal(t, a.clock.Now().Unix(), head().contendedAt)
	require.Len(t, head().copies, 4, "twice the batch after the head moved")

	a.clock.Advance(contendedFor * time.Second)
	got, err = a.broker.Reserve(ctx, a.queue, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Len(t, head().copies, 2, "the batch again, contendedFor later")
}

// TestMigrateExpiredScript covers migrate_expired.lua directly: a member moved by someone else, or extended
// after it was read, stays where it is.
func TestMigrateExpiredScript(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v1Like, nil)
	tb.seedList(t, job("waiting", 1))
	tb.seedZSet(t, tb.held, -1, job("expired", 1))
	tb.seedZSet(t, tb.held, 30, job("extended", 1))

	moved, err := migrateExpiredScript.Run(ctx, tb.client, []string{tb.list, tb.held}, tb.clock.Now().Unix(),
		job("expired", 1), job("expired", 2),
		job("extended", 1), job("extended", 2),
		job("gone", 1), job("gone", 2)).Int()
	require.NoError(t, err)
	require.Equal(t, 1, moved)
	require.Empty(t, cmp.Diff(map[string][]string{
		tb.list: {job("waiting", 1), job("expired", 2)},
		tb.held: {zentry(job("extended", 1), 30)},
	}, tb.state(t)), "(-want, +got)")
}

// hookDialect runs onCopy inside ReservedCopy, i.e. between two reserve_copies.lua calls.
type hookDialect struct {
	Dialect
	onCopy func(raw []byte)
}

func (d hookDialect) ReservedCopy(raw []byte) ([]byte, error) {
	d.onCopy(raw)
	return d.Dialect.ReservedCopy(raw)
}

func raws(rs []queue.Reservation) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Raw)
	}
	return out
}

func members(rs []queue.Reservation) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Member)
	}
	return out
}
