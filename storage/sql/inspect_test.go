package sql

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// TestBrokerSizesListQueues: a queue with a job in every state, on every database and layout. A lapsed
// reservation is ready (any worker may take it), and became ready when it lapsed.
func TestBrokerSizesListQueues(t *testing.T) {
	forEachJobs(t, func(t *testing.T, d driverKind, s *jobsLayout) {
		ctx := context.Background()
		const t0 = 1_800_000_000
		clock := newClock(t0)
		bb := setupBroker(t, d, s, &JobsConfig{NowFunc: clock.Now, Expire: 30 * time.Second})
		at := func(sec int64) time.Time { return time.Unix(t0+sec, 0) }
		push := func(q, payload string, available time.Time) {
			t.Helper()
			require.NoError(t, bb.b.Later(ctx, q, []byte(payload), available))
		}
		reserve := func(member string) {
			t.Helper()
			res, err := bb.b.Reserve(ctx, "default", 1)
			require.NoError(t, err)
			require.Len(t, res, 1)
			require.Equal(t, member, string(res[0].Member))
		}

		empty, err := bb.b.Sizes(ctx, "default")
		require.NoError(t, err)
		require.Equal(t, queue.Sizes{}, empty)

		push("default", `{"job":"lapses"}`, at(0)) // 1: reserved at t0, lapsed at t0+30
		reserve("1")
		clock.Set(t0 + 25)
		push("default", `{"job":"held"}`, at(25)) // 2: reserved at t0+25, lapses at t0+55
		reserve("2")
		clock.Set(t0 + 35)
		sizes, err := bb.b.Sizes(ctx, "default")
		require.NoError(t, err)
		require.Equal(t, queue.Sizes{Ready: 1, Reserved: 1, OldestReady: at(30)}, sizes, "ready since it lapsed")
		push("default", `{"job":"late"}`, at(20))    // 3: ready since t0+20, the oldest
		push("default", `{"job":"now"}`, at(35))     // 4: ready
		push("default", `{"job":"later"}`, at(135))  // 5: delayed
		push("other", `{"job":"elsewhere"}`, at(35)) // 6
		push("Zeta", `{"job":"capital"}`, at(35))    // 7: sorts before "default" by bytes

		sizes, err = bb.b.Sizes(ctx, "default")
		require.NoError(t, err)
		require.Equal(t, queue.Sizes{Ready: 3, Delayed: 1, Reserved: 1, OldestReady: at(20)}, sizes)
		other, err := bb.b.Sizes(ctx, "other")
		require.NoError(t, err)
		require.Equal(t, queue.Sizes{Ready: 1, OldestReady: at(35)}, other)

		reservedAttempts := 1 // the reservation's increment
		if !s.CountsAtReserve {
			reservedAttempts = 0
		}
		job := func(member string, state queue.State, payload string, attempts int) queue.StoredJob {
			return queue.StoredJob{Queue: "default", State: state, Member: []byte(member), Raw: []byte(payload), Attempts: attempts}
		}
		list := func(state queue.State, offset, limit int) []queue.StoredJob {
			t.Helper()
			jobs, err := bb.b.List(ctx, "default", state, offset, limit)
			require.NoError(t, err)
			return jobs
		}
		ready := []queue.StoredJob{
			job("1", queue.StateReady, `{"job":"lapses"}`, reservedAttempts),
			job("3", queue.StateReady, `{"job":"late"}`, 0),
			job("4", queue.StateReady, `{"job":"now"}`, 0),
		}
		require.Equal(t, ready, list(queue.StateReady, 0, 10))
		require.Equal(t, ready[1:2], list(queue.StateReady, 1, 1))
		require.Empty(t, list(queue.StateReady, 3, 10))
		require.Empty(t, list(queue.StateReady, 0, 0))
		delayed := job("5", queue.StateDelayed, `{"job":"later"}`, 0)
		delayed.AvailableAt = at(135)
		require.Equal(t, []queue.StoredJob{delayed}, list(queue.StateDelayed, 0, 10))
		held := job("2", queue.StateReserved, `{"job":"held"}`, reservedAttempts)
		held.ReservedUntil = at(55)
		require.Equal(t, []queue.StoredJob{held}, list(queue.StateReserved, 0, 10))
		_, err = bb.b.List(ctx, "default", "failed", 0, 10)
		require.ErrorContains(t, err, `unknown state "failed"`)
		_, err = bb.b.List(ctx, "default", queue.StateReady, -1, 10)
		require.Error(t, err)

		queues, err := bb.b.Queues(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"Zeta", "default", "other"}, queues)

		// Looking reserved nothing: the next worker takes the lapsed row first, then the ready ones.
		res, err := bb.b.Reserve(ctx, "default", 10)
		require.NoError(t, err)
		var members []string
		for _, r := range res {
			members = append(members, string(r.Member))
		}
		require.Equal(t, []string{"1", "3", "4"}, members)
		sizes, err = bb.b.Sizes(ctx, "default")
		require.NoError(t, err)
		require.Equal(t, queue.Sizes{Delayed: 1, Reserved: 4}, sizes)
	})
}

// TestBrokerSizesNeverExpire: when reservations never lapse, a reservation stays reserved however old.
func TestBrokerSizesNeverExpire(t *testing.T) {
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newClock(1_800_000_000)
			bb := setupBroker(t, d, jobsV1, &JobsConfig{NowFunc: clock.Now, Expire: -1})
			require.NoError(t, bb.b.Push(ctx, "default", []byte(`{}`)))
			_, err := bb.b.Reserve(ctx, "default", 1)
			require.NoError(t, err)
			clock.Add(1000 * time.Hour)
			sizes, err := bb.b.Sizes(ctx, "default")
			require.NoError(t, err)
			require.Equal(t, queue.Sizes{Reserved: 1}, sizes)
			jobs, err := bb.b.List(ctx, "default", queue.StateReserved, 0, 1)
			require.NoError(t, err)
			require.Len(t, jobs, 1)
			require.True(t, jobs[0].ReservedUntil.IsZero(), "it never lapses")
		})
	}
}
