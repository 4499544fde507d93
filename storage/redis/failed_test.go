package redis

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

func TestFailedStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)
	shanghai := time.FixedZone("UTC+8", 8*3600)

	empty, err := tb.broker.Failed(ctx)
	require.NoError(t, err)
	require.Empty(t, empty)

	// Stored newest first, listed oldest first.
	r := tb.reserveOne(t, job("a", 0))
	newer := queue.FailedJob{ID: "f2", Connection: "redis", Queue: tb.queue, Payload: r.Raw,
		Exception: "boom", FailedAt: tb.clock.Now().Add(500 * time.Millisecond).In(shanghai)}
	require.NoError(t, tb.broker.Fail(ctx, r, newer))
	require.Empty(t, tb.state(t), "the reservation is gone")

	poison := tb.reserveOne(t, "\xff\xfenot utf-8")
	older := queue.FailedJob{ID: "f1", Connection: "redis", Queue: tb.queue, Payload: poison.Raw,
		Exception: "payload is not JSON", FailedAt: newer.FailedAt.Add(-time.Minute)}
	require.NoError(t, tb.broker.Fail(ctx, poison, older))

	// A zero FailedAt takes the broker's clock.
	tb.clock.Advance(time.Minute)
	third := tb.reserveOne(t, job("c", 0))
	require.NoError(t, tb.broker.Fail(ctx, third, queue.FailedJob{ID: "f3", Queue: tb.queue, Payload: third.Raw}))
	require.Empty(t, tb.state(t))

	err = tb.broker.Fail(ctx, third, queue.FailedJob{Queue: tb.queue})
	require.ErrorContains(t, err, "has no ID")

	equalTime := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
	all, err := tb.broker.Failed(ctx)
	require.NoError(t, err)
	thirdWant := queue.FailedJob{ID: "f3", Queue: tb.queue, Payload: third.Raw, FailedAt: tb.clock.Now()}
	require.Empty(t, cmp.Diff([]queue.FailedJob{older, newer, thirdWant}, all, equalTime), "(-want, +got)")

	// The record is readable JSON: text payloads as text, others as base64.
	rec, err := tb.client.HGet(ctx, tb.broker.failedKey, "f2").Result()
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"f2","connection":"redis","queue":"`+tb.queue+`","payload":`+quoteJSON(job("a", 0))+
		`,"exception":"boom","failed_at":"2023-11-15T06:13:20.5+08:00"}`, rec)
	score, err := tb.client.ZScore(ctx, tb.broker.failedIndexKey, "f2").Result()
	require.NoError(t, err)
	require.Equal(t, float64(newer.FailedAt.UnixMilli()), score)
	rec, err = tb.client.HGet(ctx, tb.broker.failedKey, "f1").Result()
	require.NoError(t, err)
	require.Contains(t, rec, `"payload":"","payload_base64":"//5ub3QgdXRmLTg="`)

	got, ok, err := tb.broker.FailedJob(ctx, "f1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, cmp.Diff(older, got, equalTime), "(-want, +got)")
	_, ok, err = tb.broker.FailedJob(ctx, "missing")
	require.NoError(t, err)
	require.False(t, ok)

	ok, err = tb.broker.Forget(ctx, "f1")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = tb.broker.Forget(ctx, "f1")
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = tb.broker.FailedJob(ctx, "f1")
	require.NoError(t, err)
	require.False(t, ok)
	ids, err := tb.client.ZRange(ctx, tb.broker.failedIndexKey, 0, -1).Result()
	require.NoError(t, err)
	require.Equal(t, []string{"f2", "f3"}, ids)

	n, err := tb.broker.Flush(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	all, err = tb.broker.Failed(ctx)
	require.NoError(t, err)
	require.Empty(t, all)
	exists, err := tb.client.Exists(ctx, tb.broker.failedKey, tb.broker.failedIndexKey).Result()
	require.NoError(t, err)
	require.Zero(t, exists)
	n, err = tb.broker.Flush(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestFailStoresBeforeRemoving pins the order of Fail's two steps: when the reservation cannot be removed,
// the record is already stored, so the job is never lost.
func TestFailStoresBeforeRemoving(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)
	r := tb.reserveOne(t, job("a", 0))
	// A string where the reserved set should be makes the ZREM fail with WRONGTYPE.
	require.NoError(t, tb.client.Del(ctx, tb.held).Err())
	require.NoError(t, tb.client.Set(ctx, tb.held, "x", 0).Err())

	err := tb.broker.Fail(ctx, r, queue.FailedJob{ID: "f1", Queue: tb.queue, Payload: r.Raw})
	require.ErrorContains(t, err, "remove reservation")
	_, ok, err := tb.broker.FailedJob(ctx, "f1")
	require.NoError(t, err)
	require.True(t, ok)
}

func quoteJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
