package redis

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// reserveOne pushes payload and reserves it.
func (tb *testBundle) reserveOne(t testing.TB, payload string) queue.Reservation {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(payload)))
	got, err := tb.broker.Reserve(ctx, tb.queue, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	return got[0]
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v1Like, nil)
	tb.seedZSet(t, tb.held, 60, job("a", 1), job("b", 1), job("c", 1))

	n, err := tb.broker.Delete(ctx, tb.queue, []byte(job("a", 1)), []byte(job("c", 1)), []byte(job("gone", 1)))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Empty(t, cmp.Diff(map[string][]string{tb.held: {zentry(job("b", 1), 60)}}, tb.state(t)), "(-want, +got)")

	n, err = tb.broker.Delete(ctx, tb.queue, []byte(job("a", 1)))
	require.NoError(t, err)
	require.Zero(t, n, "already gone")
	n, err = tb.broker.Delete(ctx, tb.queue)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Empty(t, cmp.Diff(map[string][]string{tb.held: {zentry(job("b", 1), 60)}}, tb.state(t)), "(-want, +got)")
}

func TestRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v1Like, nil)
	tb.seedZSet(t, tb.held, 30, job("other", 1))
	r := tb.reserveOne(t, job("a", 1))
	next, err := bump(r.Member)
	require.NoError(t, err)
	at := tb.clock.Now().Add(2 * time.Second)

	ok, err := tb.broker.Release(ctx, r, next, at)
	require.NoError(t, err)
	require.True(t, ok)
	want := map[string][]string{
		tb.delayed: {zentry(job("a", 2), 2)},
		tb.held:    {zentry(job("other", 1), 30)},
	}
	require.Empty(t, cmp.Diff(want, tb.state(t)), "(-want, +got)")

	ok, err = tb.broker.Release(ctx, r, next, at)
	require.NoError(t, err)
	require.False(t, ok, "no longer reserved: nothing is scheduled twice")
	require.Empty(t, cmp.Diff(want, tb.state(t)), "(-want, +got)")
}

func TestHandBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)
	tb.seedList(t, job("waiting", 0))
	r := tb.reserveOne(t, job("a", 0))
	require.Equal(t, job("waiting", 0), string(r.Raw), "FIFO: the seeded job comes first")
	require.Equal(t, job("waiting", 1), string(r.Member))

	ok, err := tb.broker.HandBack(ctx, r)
	require.NoError(t, err)
	require.True(t, ok)
	want := map[string][]string{tb.list: {job("a", 0), job("waiting", 0)}}
	require.Empty(t, cmp.Diff(want, tb.state(t)), "(-want, +got)")

	ok, err = tb.broker.HandBack(ctx, r)
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, cmp.Diff(want, tb.state(t)), "(-want, +got)")
}

func TestExtend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)
	r := tb.reserveOne(t, job("a", 0))

	ok, err := tb.broker.Extend(ctx, r, tb.clock.Now().Add(300*time.Second))
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, cmp.Diff(map[string][]string{tb.held: {zentry(job("a", 1), 300)}}, tb.state(t)), "(-want, +got)")

	n, err := tb.broker.Delete(ctx, tb.queue, r.Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ok, err = tb.broker.Extend(ctx, r, tb.clock.Now().Add(600*time.Second))
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, tb.state(t), "extending a finished job must not bring it back")
}
