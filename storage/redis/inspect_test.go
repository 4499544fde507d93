package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
)

func storedRaws(js []queue.StoredJob) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = string(j.Raw)
	}
	return out
}

// ids returns the "id" of each payload.
func ids(t testing.TB, payloads []string) []string {
	t.Helper()
	out := make([]string, len(payloads))
	for i, p := range payloads {
		var v struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(p), &v), p)
		out[i] = v.ID
	}
	return out
}

// TestListReadyIsReserveOrder seeds every kind of ready job (in the list, due in the delayed set, lapsed
// in the reserved set) beside jobs that are not ready, and requires that List's ready jobs, page by page,
// are the jobs Reserve then takes, in its order.
func TestListReadyIsReserveOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) *testBundle
		want  []string // ids, in the order Reserve takes them
	}{
		// reserve.lua migrates due delayed jobs, then lapsed reservations.
		{"v3", func(t *testing.T) *testBundle { return setup(t, v3Like, nil) }, []string{"a", "b", "d1", "d2", "x", "y"}},
		// Go rewrites lapsed reservations before reserve.lua migrates delayed jobs.
		{"v1", func(t *testing.T) *testBundle { return setup(t, v1Like, nil) }, []string{"a", "b", "x", "y", "d1", "d2"}},
		{"laravel", func(t *testing.T) *testBundle { return setupLaravel(t, nil) }, []string{"a", "b", "d1", "d2", "x", "y"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := tt.setup(t)
			tb.seedList(t, job("a", 0), job("b", 0))
			if tb.notify != "" {
				require.NoError(t, tb.client.RPush(ctx, tb.notify, 1, 1).Err())
			}
			tb.seedZSet(t, tb.delayed, -5, job("d1", 0))
			tb.seedZSet(t, tb.delayed, 0, job("d2", 0)) // due at now itself
			tb.seedZSet(t, tb.delayed, 10, job("later", 0))
			tb.seedZSet(t, tb.held, -3, job("x", 1))
			tb.seedZSet(t, tb.held, 0, job("y", 1)) // lapsed at now itself
			tb.seedZSet(t, tb.held, 30, job("running", 1))

			sizes, err := tb.broker.Sizes(ctx, tb.queue)
			require.NoError(t, err)
			require.Equal(t, queue.Sizes{Ready: 6, Delayed: 1, Reserved: 1}, sizes)

			ready, err := tb.broker.List(ctx, tb.queue, queue.StateReady, 0, 100)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(t, storedRaws(ready)))
			for _, j := range ready {
				require.Equal(t, queue.StoredJob{Queue: tb.queue, State: queue.StateReady, Member: j.Raw, Raw: j.Raw}, j)
			}
			for offset := range len(ready) + 1 {
				for limit := 1; limit <= len(ready)+1; limit++ {
					page, err := tb.broker.List(ctx, tb.queue, queue.StateReady, offset, limit)
					require.NoError(t, err)
					want := ready[offset:min(offset+limit, len(ready))]
					require.Equal(t, storedRaws(want), storedRaws(page), "offset %d limit %d", offset, limit)
				}
			}

			got, err := tb.broker.Reserve(ctx, tb.queue, 100)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(t, raws(got)), "Reserve takes the ready jobs as listed")
		})
	}
}

func TestListDelayedAndReserved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)
	now := tb.clock.Now()
	tb.seedZSet(t, tb.delayed, 0, job("due", 0))
	tb.seedZSet(t, tb.delayed, 20, job("d20", 0))
	tb.seedZSet(t, tb.delayed, 10, job("d10", 0))
	tb.seedZSet(t, tb.held, -1, job("lapsed", 1))
	tb.seedZSet(t, tb.held, 45, job("r45", 1))
	tb.seedZSet(t, tb.held, 15, job("r15", 1))

	delayed, err := tb.broker.List(ctx, tb.queue, queue.StateDelayed, 0, 10)
	require.NoError(t, err)
	require.Equal(t, []queue.StoredJob{
		{Queue: tb.queue, State: queue.StateDelayed, Member: []byte(job("d10", 0)), Raw: []byte(job("d10", 0)), AvailableAt: now.Add(10 * time.Second)},
		{Queue: tb.queue, State: queue.StateDelayed, Member: []byte(job("d20", 0)), Raw: []byte(job("d20", 0)), AvailableAt: now.Add(20 * time.Second)},
	}, delayed)
	reserved, err := tb.broker.List(ctx, tb.queue, queue.StateReserved, 1, 10)
	require.NoError(t, err)
	require.Equal(t, []queue.StoredJob{
		{Queue: tb.queue, State: queue.StateReserved, Member: []byte(job("r45", 1)), Raw: []byte(job("r45", 1)), ReservedUntil: now.Add(45 * time.Second)},
	}, reserved)

	for _, c := range []struct {
		state         queue.State
		offset, limit int
		err           string
	}{
		{queue.StateReady, -1, 1, "offset must be at least 0"},
		{queue.StateDelayed, 0, 0, "limit at least 1"},
		{"failed", 0, 1, `unknown state "failed"`},
	} {
		_, err := tb.broker.List(ctx, tb.queue, c.state, c.offset, c.limit)
		require.ErrorContains(t, err, c.err)
	}
}

// TestSizesListNeverExpire: with Expire -1 a reservation never lapses, whatever its score (the time it was
// taken): it is reserved, with no ReservedUntil, and never listed as ready.
func TestSizesListNeverExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, &Config{Expire: -1})
	tb.seedList(t, job("a", 0))
	tb.seedZSet(t, tb.held, -100, job("old", 1))

	sizes, err := tb.broker.Sizes(ctx, tb.queue)
	require.NoError(t, err)
	require.Equal(t, queue.Sizes{Ready: 1, Reserved: 1}, sizes)
	ready, err := tb.broker.List(ctx, tb.queue, queue.StateReady, 0, 10)
	require.NoError(t, err)
	require.Equal(t, []string{job("a", 0)}, storedRaws(ready))
	held, err := tb.broker.List(ctx, tb.queue, queue.StateReserved, 0, 10)
	require.NoError(t, err)
	require.Equal(t, []queue.StoredJob{{Queue: tb.queue, State: queue.StateReserved, Member: []byte(job("old", 1)), Raw: []byte(job("old", 1))}}, held)
}

// TestQueuesLaravel: a queue counts when it has a list, a delayed set or a reserved set of the right type
// under the connection's prefix; its notify list alone, a stray key of another type and another
// connection's queues do not.
func TestQueuesLaravel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setupLaravel(t, nil)
	other := setupLaravel(t, nil)
	prefix := tb.broker.keyer.(testLaravel).prefix

	require.NoError(t, tb.broker.Push(ctx, "waiting", []byte(lvPayload("a", 0))))
	require.NoError(t, tb.broker.Later(ctx, "later", []byte(lvPayload("b", 0)), tb.clock.Now().Add(time.Minute)))
	require.NoError(t, tb.broker.Push(ctx, "running", []byte(lvPayload("c", 0))))
	_, err := tb.broker.Reserve(ctx, "running", 1)
	require.NoError(t, err)
	require.NoError(t, other.broker.Push(ctx, "elsewhere", []byte(lvPayload("d", 0))))
	stray := []string{prefix + "queues:ghost:notify", prefix + "queues:bogus", prefix + "queues:bogus:delayed"}
	tb.cleanup = append(tb.cleanup, stray...)
	for _, k := range []string{"waiting", "later", "running"} {
		tb.keysOf(t, k)
	}
	other.keysOf(t, "elsewhere")
	require.NoError(t, tb.client.RPush(ctx, stray[0], 1).Err())
	require.NoError(t, tb.client.Set(ctx, stray[1], "x", 0).Err())
	require.NoError(t, tb.client.RPush(ctx, stray[2], "x").Err())

	got, err := tb.broker.Queues(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"later", "running", "waiting"}, got)
}

// TestQueuesThinkQueue: on a database of its own, each think-queue key scheme sees its own queues only,
// through as many SCAN rounds as it takes.
func TestQueuesThinkQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := claimDatabase(t)
	v1, err := thinkqueue.ParseDialect("thinkqueue-v1")
	require.NoError(t, err)
	v3, err := thinkqueue.ParseDialect("thinkqueue-v3")
	require.NoError(t, err)
	plain := openConformance(t, client, v1, newStubClock().Now)
	tagged := openConformance(t, client, v3, newStubClock().Now)

	const n = 2500 // several SCAN rounds of scanCount
	var want []string
	pipe := client.Pipeline()
	for i := range n {
		q := fmt.Sprintf("q%04d", i)
		want = append(want, q)
		list, delayed, reserved := v1.QueueKeys(q)
		switch i % 3 {
		case 0:
			pipe.RPush(ctx, list, "x")
		case 1:
			pipe.ZAdd(ctx, delayed, goredis.Z{Score: testEpoch, Member: "x"})
		case 2:
			pipe.ZAdd(ctx, reserved, goredis.Z{Score: testEpoch, Member: "x"})
		}
	}
	tagList, _, _ := v3.QueueKeys("tagged")
	pipe.RPush(ctx, tagList, "x")
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)

	got, err := plain.Queues(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = tagged.Queues(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"tagged"}, got)
}
