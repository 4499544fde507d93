package storagetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// cases are the suite, each run on a store of its own.
var cases = []struct {
	name string
	run  func(b *bundle)
}{
	{"PushReserveDelete", pushReserveDelete},
	{"ReserveAtMostN", reserveAtMostN},
	{"Later", later},
	{"ReleaseWithDelay", releaseWithDelay},
	{"HandBack", handBack},
	{"Extend", extend},
	{"Expiry", expiry},
	{"Fail", fail},
	{"Queues", queues},
	{"ConcurrentDrain", concurrentDrain},
}

func pushReserveDelete(b *bundle) {
	t := b.t
	b.requireState(state{})
	b.reserve(1, 0)

	pushedAt := b.now()
	p := b.push("a", "b", "c")
	listed := b.requireState(state{
		ready:       []queue.StoredJob{b.ready(b.pushed(p[0]), p[0], 0), b.ready(b.pushed(p[1]), p[1], 0), b.ready(b.pushed(p[2]), p[2], 0)},
		oldestReady: pushedAt,
	})

	b.advance(5 * time.Second)
	rs := b.reserve(2, 2)
	b.requireRun(rs[0], listed[queue.StateReady][0], p[0], 1)
	b.requireRun(rs[1], listed[queue.StateReady][1], p[1], 1)
	until := b.now().Add(Expire)
	b.requireState(state{
		ready:       []queue.StoredJob{b.ready(listed[queue.StateReady][2].Member, p[2], 0)},
		reserved:    []queue.StoredJob{b.held(rs[0], b.column(1, 0), until), b.held(rs[1], b.column(1, 0), until)},
		oldestReady: pushedAt,
	})

	n, err := b.store.Delete(b.ctx, defaultQueue, rs[0].Member, rs[1].Member)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = b.store.Delete(b.ctx, defaultQueue, rs[0].Member, rs[1].Member)
	require.NoError(t, err)
	require.Zero(t, n, "deleted already")
	listed = b.requireState(state{
		ready:       []queue.StoredJob{b.ready(listed[queue.StateReady][2].Member, p[2], 0)},
		oldestReady: pushedAt,
	})

	rs = b.reserve(5, 1)
	b.requireRun(rs[0], listed[queue.StateReady][0], p[2], 1)
	n, err = b.store.Delete(b.ctx, defaultQueue, rs[0].Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.requireState(state{})
	b.reserve(1, 0)
}

func reserveAtMostN(b *bundle) {
	t := b.t
	p := b.push("a", "b", "c", "d", "e")
	require.Equal(t, texts(p[0]), raws(b.reserve(1, 1)))
	require.Equal(t, texts(p[1:4]...), raws(b.reserve(3, 3)))
	last := b.reserve(3, 1)
	require.Equal(t, texts(p[4]), raws(last))
	b.reserve(3, 0)

	sizes, err := b.store.Sizes(b.ctx, defaultQueue)
	require.NoError(t, err)
	require.Equal(t, queue.Sizes{Reserved: 5}, sizes)
	held, err := b.store.List(b.ctx, defaultQueue, queue.StateReserved, 0, listLimit)
	require.NoError(t, err)
	members := make([][]byte, len(held))
	for i, j := range held {
		members[i] = j.Member
	}
	n, err := b.store.Delete(b.ctx, defaultQueue, members...)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	b.requireState(state{})
}

func later(b *bundle) {
	t := b.t
	p := b.payload("a")
	at := b.now().Add(30 * time.Second)
	require.NoError(t, b.store.Later(b.ctx, defaultQueue, p, at))
	waiting := state{delayed: []queue.StoredJob{b.delayed(b.pushed(p), p, 0, at)}}
	b.requireState(waiting)
	b.reserve(1, 0)

	b.advance(29 * time.Second)
	b.reserve(1, 0)
	b.requireState(waiting)

	b.advance(time.Second) // due at at itself
	listed := b.requireState(state{ready: []queue.StoredJob{b.ready(b.pushed(p), p, 0)}, oldestReady: at})
	r := b.reserve(1, 1)[0]
	b.requireRun(r, listed[queue.StateReady][0], p, 1)
	n, err := b.store.Delete(b.ctx, defaultQueue, r.Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.requireState(state{})
}

func releaseWithDelay(b *bundle) {
	t := b.t
	b.push("a")
	r := b.reserve(1, 1)[0]
	released, err := b.facts.ReleasedCopy(r)
	require.NoError(t, err)
	at := b.now().Add(10 * time.Second)
	ok, err := b.store.Release(b.ctx, r, released, at)
	require.NoError(t, err)
	require.True(t, ok)
	waiting := state{delayed: []queue.StoredJob{b.delayed(b.pushed(released), released, b.column(1, 1), at)}}
	b.requireState(waiting)

	ok, err = b.store.Release(b.ctx, r, released, at)
	require.NoError(t, err)
	require.False(t, ok, "released already: nothing is added")
	b.requireState(waiting)
	b.reserve(1, 0)

	b.advance(10 * time.Second)
	listed := b.requireState(state{ready: []queue.StoredJob{b.ready(b.pushed(released), released, b.column(1, 1))}, oldestReady: at})
	r2 := b.reserve(1, 1)[0]
	b.requireRun(r2, listed[queue.StateReady][0], released, 2)
	b.requireState(state{reserved: []queue.StoredJob{b.held(r2, b.column(2, 1), b.now().Add(Expire))}})
	n, err := b.store.Delete(b.ctx, defaultQueue, r2.Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.requireState(state{})
}

func handBack(b *bundle) {
	t := b.t
	pushedAt := b.now()
	p := b.push("a")[0]
	b.advance(3 * time.Second)
	r := b.reserve(1, 1)[0]
	ok, err := b.store.HandBack(b.ctx, r)
	require.NoError(t, err)
	require.True(t, ok)
	// Back as pushed, attempts unchanged; a table keeps the row.
	member := b.pushed(p)
	if b.facts.Rows != nil {
		member = r.Member
	}
	back := state{ready: []queue.StoredJob{b.ready(member, p, 0)}, oldestReady: pushedAt}
	listed := b.requireState(back)

	ok, err = b.store.HandBack(b.ctx, r)
	require.NoError(t, err)
	require.False(t, ok, "handed back already: nothing is added")
	b.requireState(back)

	r2 := b.reserve(1, 1)[0]
	b.requireRun(r2, listed[queue.StateReady][0], p, 1)
	n, err := b.store.Delete(b.ctx, defaultQueue, r2.Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.requireState(state{})
}

func extend(b *bundle) {
	t := b.t
	b.push("a")
	r := b.reserve(1, 1)[0]
	b.advance(50 * time.Second)
	until := b.now().Add(Expire)
	ok, err := b.store.Extend(b.ctx, r, until)
	require.NoError(t, err)
	require.True(t, ok)
	extended := state{reserved: []queue.StoredJob{b.held(r, b.column(1, 0), until)}}
	b.requireState(extended)

	b.advance(30 * time.Second) // past the first expiry, not the new one
	b.reserve(1, 0)
	b.requireState(extended)

	n, err := b.store.Delete(b.ctx, defaultQueue, r.Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ok, err = b.store.Extend(b.ctx, r, b.now().Add(Expire))
	require.NoError(t, err)
	require.False(t, ok, "deleted: nothing to extend")
	b.requireState(state{})
}

func expiry(b *bundle) {
	t := b.t
	p := b.push("a")[0]
	r := b.reserve(1, 1)[0]

	b.advance(Expire - time.Second)
	b.reserve(1, 0)
	b.requireState(state{reserved: []queue.StoredJob{b.held(r, b.column(1, 0), r.Expires)}})

	b.advance(time.Second) // lapsed at r.Expires itself: any worker may take it
	// A lapsed reservation has been ready since it lapsed.
	listed := b.requireState(state{ready: []queue.StoredJob{b.lapsed(r, b.column(1, 0))}, oldestReady: r.Expires})
	back := p
	if f := b.facts.Payloads; f != nil {
		var err error
		back, err = f.ExpiredCopy(r.Member)
		require.NoError(t, err)
	}
	r2 := b.reserve(1, 1)[0]
	b.requireRun(r2, listed[queue.StateReady][0], back, 2)
	b.requireState(state{reserved: []queue.StoredJob{b.held(r2, b.column(2, 1), b.now().Add(Expire))}})

	n, err := b.store.Delete(b.ctx, defaultQueue, r2.Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.requireState(state{})
}

func fail(b *bundle) {
	t := b.t
	b.push("a")
	r := b.reserve(1, 1)[0]
	b.advance(2 * time.Second)
	rec := queue.FailedJob{
		ID:         "5f0c2d4e-8b1a-4c3d-9e2f-1a2b3c4d5e6f",
		Connection: "storagetest",
		Queue:      defaultQueue,
		Payload:    r.Raw,
		Exception:  "storagetest: failed on purpose",
		FailedAt:   b.now(),
	}
	require.NoError(t, b.store.Fail(b.ctx, r, rec))
	b.requireState(state{})
	b.reserve(1, 0)

	failed, err := b.store.Failed(b.ctx)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	got := failed[0]
	require.NotEmpty(t, got.ID)
	require.Equal(t, rec.Connection, got.Connection)
	require.Equal(t, rec.Queue, got.Queue)
	require.Equal(t, string(rec.Payload), string(got.Payload))
	require.Equal(t, rec.Exception, got.Exception)
	require.Equal(t, rec.FailedAt.Unix(), got.FailedAt.Unix())
}

func queues(b *bundle) {
	t := b.t
	b.requireQueues()
	a, e, r := b.payload("a"), b.payload("e"), b.payload("r")
	pushedAt := b.now()
	require.NoError(t, b.store.Push(b.ctx, "default", a))
	at := b.now().Add(time.Minute)
	require.NoError(t, b.store.Later(b.ctx, "emails", e, at))
	require.NoError(t, b.store.Push(b.ctx, "reports", r))
	held, err := b.store.Reserve(b.ctx, "reports", 1)
	require.NoError(t, err)
	require.Len(t, held, 1)
	b.requireQueues("default", "emails", "reports")

	ready := b.ready(b.pushed(a), a, 0)
	b.requireQueueState("default", state{ready: []queue.StoredJob{ready}, oldestReady: pushedAt})
	delayed := b.delayed(b.pushed(e), e, 0, at)
	delayed.Queue = "emails"
	b.requireQueueState("emails", state{delayed: []queue.StoredJob{delayed}})
	reserved := b.held(held[0], b.column(1, 0), held[0].Expires)
	reserved.Queue = "reports"
	b.requireQueueState("reports", state{reserved: []queue.StoredJob{reserved}})
	b.requireQueueState("nothing", state{})

	n, err := b.store.Delete(b.ctx, "reports", held[0].Member)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.requireQueues("default", "emails")
}

// concurrentDrain has 8 workers reserve and delete thousands of jobs at once: every job is reserved
// exactly once, no reservation is larger than asked for, and every delete finds its job.
func concurrentDrain(b *bundle) {
	t := b.t
	const jobs, workers, batch = 3000, 8, 32
	payloads := make([][]byte, jobs)
	for i := range payloads {
		payloads[i] = b.payload(fmt.Sprintf("drain-%05d", i))
	}
	errs := make(chan error, 2*workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < jobs; i += workers {
				if err := b.store.Push(b.ctx, defaultQueue, payloads[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	sizes, err := b.store.Sizes(b.ctx, defaultQueue)
	require.NoError(t, err)
	require.Equal(t, int64(jobs), sizes.Ready)

	var mu sync.Mutex
	seen := make(map[string]int, jobs)
	reserved := 0 // past jobs, the store hands out jobs twice: stop rather than drain for ever
	for range workers {
		wg.Go(func() {
			for {
				got, err := b.store.Reserve(b.ctx, defaultQueue, batch)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				if len(got) > batch {
					errs <- fmt.Errorf("reserved %d jobs, asked for %d", len(got), batch)
					return
				}
				members := make([][]byte, len(got))
				mu.Lock()
				for i, r := range got {
					seen[string(r.Raw)]++
					members[i] = r.Member
				}
				reserved += len(got)
				over := reserved > jobs
				mu.Unlock()
				if over {
					errs <- fmt.Errorf("reserved more jobs than the %d pushed", jobs)
					return
				}
				n, err := b.store.Delete(b.ctx, defaultQueue, members...)
				if err != nil {
					errs <- err
					return
				}
				if n != len(members) {
					errs <- fmt.Errorf("deleted %d of %d", n, len(members))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, jobs)
	for _, p := range payloads {
		require.Equal(t, 1, seen[string(p)], "job %s", p)
	}
	b.requireState(state{})
}
