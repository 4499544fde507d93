package redis

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestWaitReady(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// parked returns the keys a think-queue wait of tb's broker may write, registered for cleanup.
	parked := func(tb *testBundle, ids ...string) (bridges string, inflight []string) {
		p := tb.broker.parking(tb.list)
		for _, id := range ids {
			inflight = append(inflight, inflightKey(tb.list, id))
		}
		tb.cleanup = append(tb.cleanup, p.bridges, p.inflight)
		tb.cleanup = append(tb.cleanup, inflight...)
		return p.bridges, inflight
	}

	for name, d := range map[string]testDialect{"v1": v1Like, "v3": v3Like} {
		t.Run(name+"/WakesOnPushAndLeavesTheJobOnTheList", func(t *testing.T) {
			t.Parallel()
			tb := setup(t, d, &Config{BridgeID: "me"})
			bridges, _ := parked(tb)
			wokenBy(t, tb.broker, []string{tb.queue}, func() error { return tb.client.RPush(ctx, tb.list, job("a", 1)).Err() })
			require.Empty(t, cmp.Diff(map[string][]string{
				tb.list: {job("a", 1)},
				bridges: {zentry("me", 0)},
			}, tb.state(t, tb.list, tb.delayed, tb.held, bridges, tb.broker.parking(tb.list).inflight)), "(-want, +got)")
		})

		t.Run(name+"/KeepsTheOrder", func(t *testing.T) {
			t.Parallel()
			tb := setup(t, d, &Config{BridgeID: "me"})
			_, _ = parked(tb)
			tb.seedList(t, job("a", 1), job("b", 1), job("c", 1))
			ready, err := tb.broker.WaitReady(ctx, []string{tb.queue}, time.Second)
			require.NoError(t, err)
			require.True(t, ready)
			require.Equal(t, map[string][]string{tb.list: {job("a", 1), job("b", 1), job("c", 1)}}, tb.state(t))
		})

		t.Run(name+"/TimesOut", func(t *testing.T) {
			t.Parallel()
			tb := setup(t, d, &Config{BridgeID: "me"})
			_, _ = parked(tb)
			tb.seedZSet(t, tb.delayed, 0, job("due", 1)) // a due delayed job does not wake it
			began := time.Now()
			ready, err := tb.broker.WaitReady(ctx, []string{tb.queue}, 50*time.Millisecond)
			require.NoError(t, err)
			require.False(t, ready)
			require.GreaterOrEqual(t, time.Since(began), 40*time.Millisecond)
		})
	}

	t.Run("RecoversADeadBridgesParkedJobs", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, &Config{BridgeID: "me"})
		bridges, inflight := parked(tb, "dead", "alive")
		// "dead" was killed between its BLMOVE and the move back; "alive" is in that instant right now.
		require.NoError(t, tb.client.RPush(ctx, inflight[0], job("x", 0), job("y", 0)).Err())
		require.NoError(t, tb.client.RPush(ctx, inflight[1], job("z", 0)).Err())
		tb.seedZSet(t, bridges, -deadAfter, "dead")
		tb.seedZSet(t, bridges, -1, "alive")
		tb.seedList(t, job("a", 0))

		ready, err := tb.broker.WaitReady(ctx, []string{tb.queue}, time.Second)
		require.NoError(t, err)
		require.True(t, ready)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list:     {job("x", 0), job("y", 0), job("a", 0)},
			inflight[1]: {job("z", 0)},
			bridges:     {zentry("alive", -1), zentry("me", 0)},
		}, tb.state(t, tb.list, bridges, inflight[0], inflight[1])), "(-want, +got)")
	})

	t.Run("RecoveryLeavesABridgeSeenSinceTheScan", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, &Config{BridgeID: "me"})
		bridges, inflight := parked(tb, "late")
		// "late" was found stale, then announced itself before the recovery ran: it keeps what it parked.
		require.NoError(t, tb.client.RPush(ctx, inflight[0], job("z", 0)).Err())
		tb.seedZSet(t, bridges, 0, "late")
		deadline := tb.clock.Now().Unix() - deadAfter
		n, err := inflightRecoverScript.Run(ctx, tb.client, []string{inflight[0], tb.list, bridges}, deadline, "late").Int()
		require.NoError(t, err)
		require.Equal(t, -1, n)
		require.Empty(t, cmp.Diff(map[string][]string{
			inflight[0]: {job("z", 0)},
			bridges:     {zentry("late", 0)},
		}, tb.state(t, tb.list, bridges, inflight[0])), "(-want, +got)")
	})

	t.Run("PutsBackItsOwnParkedJobs", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, &Config{BridgeID: "me"})
		bridges, inflight := parked(tb, "me")
		// A move back lost with the connection leaves the job parked; the next wait returns it first.
		require.NoError(t, tb.client.RPush(ctx, inflight[0], job("x", 0), job("y", 0)).Err())
		tb.seedList(t, job("a", 0))
		ready, err := tb.broker.WaitReady(ctx, []string{tb.queue}, time.Second)
		require.NoError(t, err)
		require.True(t, ready)
		require.Empty(t, cmp.Diff(map[string][]string{
			tb.list: {job("x", 0), job("y", 0), job("a", 0)},
			bridges: {zentry("me", 0)},
		}, tb.state(t, tb.list, bridges, inflight[0])), "(-want, +got)")
	})

	t.Run("SeveralQueues", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, v3Like, &Config{BridgeID: "me"})
		_, _ = parked(tb)
		other := tb.queue + ".other"
		ok := tb.keysOf(t, other)
		tb.cleanup = append(tb.cleanup, tb.broker.parking(ok.list).bridges, tb.broker.parking(ok.list).inflight)
		wokenBy(t, tb.broker, []string{tb.queue, other}, func() error { return tb.client.RPush(ctx, ok.list, job("b", 0)).Err() })
		require.Equal(t, []string{job("b", 0)}, tb.client.LRange(ctx, ok.list, 0, -1).Val())
	})

	t.Run("Laravel", func(t *testing.T) {
		t.Parallel()
		tb := setupLaravel(t, nil)
		wokenBy(t, tb.broker, []string{tb.queue}, func() error { return tb.broker.Push(ctx, tb.queue, []byte(job("a", 0))) })
		// block_for's BLPOP took the push's token; the job waits for the reserve.
		require.Equal(t, map[string][]string{tb.list: {job("a", 0)}}, tb.state(t))

		ready, err := tb.broker.WaitReady(ctx, []string{tb.queue}, 50*time.Millisecond)
		require.NoError(t, err)
		require.False(t, ready)
	})
}

// wokenBy pushes after 100 ms and waits on queues until WaitReady reports a job, which must come before the
// 1 s wait it asks for would time out. WaitReady may return early with neither a job nor an error; a worker
// then waits again. The push reports to the test's goroutine, so a failed wait never leaves it behind.
func wokenBy(t *testing.T, b *Broker, queues []string, push func() error) {
	t.Helper()
	pushed := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		pushed <- push()
	}()
	began := time.Now()
	ready := false
	for !ready && time.Since(began) < 900*time.Millisecond {
		var err error
		ready, err = b.WaitReady(context.Background(), queues, time.Second)
		require.NoError(t, err)
	}
	require.NoError(t, <-pushed)
	require.True(t, ready, "woke on the push, not at the timeout")
}
