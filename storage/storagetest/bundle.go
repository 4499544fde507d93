package storagetest

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// epoch is where the suite's clock starts, in whole seconds as PHP scores jobs.
const epoch = 1_700_000_000

// defaultQueue is the queue every case but Queues uses.
const defaultQueue = "default"

// listLimit is the page size the state checks list with; no case stores more jobs than this.
const listLimit = 100

// bundle is one case's store, clock and facts.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	store Store
	facts Facts
	sec   atomic.Int64 // the clock, Unix seconds
}

func (b *bundle) now() time.Time { return time.Unix(b.sec.Load(), 0) }

func (b *bundle) advance(d time.Duration) { b.sec.Add(int64(d / time.Second)) }

// push pushes a payload for each id to the default queue and returns the payloads.
func (b *bundle) push(ids ...string) [][]byte {
	b.t.Helper()
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = b.payload(id)
		require.NoError(b.t, b.store.Push(b.ctx, defaultQueue, out[i]))
	}
	return out
}

// payload returns the payload of the job called id.
func (b *bundle) payload(id string) []byte {
	b.t.Helper()
	p, err := b.facts.NewPayload(id)
	require.NoError(b.t, err)
	return p
}

// reserve reserves up to n jobs of the default queue, requires want of them, each held until now+Expire,
// and returns them.
func (b *bundle) reserve(n, want int) []queue.Reservation {
	b.t.Helper()
	rs, err := b.store.Reserve(b.ctx, defaultQueue, n)
	require.NoError(b.t, err)
	require.Len(b.t, rs, want, "reserve %d", n)
	for _, r := range rs {
		require.Equal(b.t, defaultQueue, r.Queue)
		require.Equal(b.t, b.now().Add(Expire).Unix(), r.Expires.Unix(), "reserved until now+Expire")
	}
	return rs
}

// requireRun requires that r is the job stored as listed (its ready listing just before the reservation)
// with payload raw, on its attempts-th run: a payload store holds raw's reserved copy, a jobs table keeps
// the row.
func (b *bundle) requireRun(r queue.Reservation, listed queue.StoredJob, raw []byte, attempts int) {
	b.t.Helper()
	require.Equal(b.t, string(raw), string(r.Raw), "reserved payload")
	if p := b.facts.Payloads; p != nil {
		held, err := p.ReservedCopy(r.Raw)
		require.NoError(b.t, err)
		require.Equal(b.t, string(held), string(r.Member), "reserved copy")
	} else {
		require.Equal(b.t, string(listed.Member), string(r.Member), "the reserved row is the listed row")
	}
	got, err := b.facts.Attempts(r)
	require.NoError(b.t, err)
	require.Equal(b.t, attempts, got, "attempts()")
}

// column is a jobs table's attempts column: atReserve where reserving counts, afterRun where only
// releases and lapses do; 0 on a payload store.
func (b *bundle) column(atReserve, afterRun int) int {
	switch {
	case b.facts.Rows == nil:
		return 0
	case b.facts.Rows.CountOnReserve:
		return atReserve
	}
	return afterRun
}

// pushed is the member a job pushed (or released) as raw is listed with: raw on a payload store; on a
// jobs table nil, which matches the new row's id, whatever it is.
func (b *bundle) pushed(raw []byte) []byte {
	if b.facts.Rows != nil {
		return nil
	}
	return raw
}

// ready is a ready job as listed. member nil matches any row id.
func (b *bundle) ready(member, raw []byte, column int) queue.StoredJob {
	return queue.StoredJob{Queue: defaultQueue, State: queue.StateReady, Member: member, Raw: raw, Attempts: column}
}

// delayed is a delayed job as listed. member nil matches any row id.
func (b *bundle) delayed(member, raw []byte, column int, at time.Time) queue.StoredJob {
	return queue.StoredJob{Queue: defaultQueue, State: queue.StateDelayed, Member: member, Raw: raw, Attempts: column,
		AvailableAt: at}
}

// held is reservation r as listed while reserved: a payload store lists the bytes it holds, a jobs table
// the row with its payload.
func (b *bundle) held(r queue.Reservation, column int, until time.Time) queue.StoredJob {
	raw := r.Raw
	if b.facts.Payloads != nil {
		raw = r.Member
	}
	return queue.StoredJob{Queue: defaultQueue, State: queue.StateReserved, Member: r.Member, Raw: raw,
		Attempts: column, ReservedUntil: until}
}

// lapsed is reservation r as listed once it lapsed: ready, still as held, for the next Reserve to take.
func (b *bundle) lapsed(r queue.Reservation, column int) queue.StoredJob {
	j := b.held(r, column, time.Time{})
	j.State = queue.StateReady
	return j
}

// state is what a queue should hold. oldestReady is checked on a jobs table only: a payload store keeps
// no times for ready jobs and must report zero.
type state struct {
	ready, delayed, reserved []queue.StoredJob
	oldestReady              time.Time
}

// listing is what a queue holds, by state, as List returned it.
type listing map[queue.State][]queue.StoredJob

// requireState requires that the default queue holds exactly want, through Sizes, List (with paging) and
// Queues (the case uses no other queue), and returns the listing.
func (b *bundle) requireState(want state) listing {
	b.t.Helper()
	got := b.requireQueueState(defaultQueue, want)
	var queues []string
	if len(want.ready)+len(want.delayed)+len(want.reserved) > 0 {
		queues = []string{defaultQueue}
	}
	b.requireQueues(queues...)
	return got
}

// requireQueueState is requireState for any queue, without Queues.
func (b *bundle) requireQueueState(name string, want state) listing {
	b.t.Helper()
	sizes, err := b.store.Sizes(b.ctx, name)
	require.NoError(b.t, err)
	wantSizes := queue.Sizes{Ready: int64(len(want.ready)), Delayed: int64(len(want.delayed)),
		Reserved: int64(len(want.reserved))}
	if b.facts.Rows != nil {
		wantSizes.OldestReady = want.oldestReady
	}
	require.Equal(b.t, wantSizes.Ready, sizes.Ready, "Sizes.Ready")
	require.Equal(b.t, wantSizes.Delayed, sizes.Delayed, "Sizes.Delayed")
	require.Equal(b.t, wantSizes.Reserved, sizes.Reserved, "Sizes.Reserved")
	require.Equal(b.t, unix(wantSizes.OldestReady), unix(sizes.OldestReady), "Sizes.OldestReady")

	got := listing{}
	for _, s := range []struct {
		state queue.State
		want  []queue.StoredJob
	}{{queue.StateReady, want.ready}, {queue.StateDelayed, want.delayed}, {queue.StateReserved, want.reserved}} {
		jobs, err := b.store.List(b.ctx, name, s.state, 0, listLimit)
		require.NoError(b.t, err)
		b.requireJobs(s.state, s.want, jobs)
		b.requirePages(name, s.state, jobs)
		got[s.state] = jobs
	}
	return got
}

// requireJobs compares a listing with what it should be. Ready jobs come in the order Reserve takes
// them, which every store fixes. Delayed and reserved jobs come oldest first by their time; jobs with
// the same time may come in any order (Redis sorts them by member, a table by id), so those are compared
// as sets.
func (b *bundle) requireJobs(s queue.State, want, got []queue.StoredJob) {
	b.t.Helper()
	wantViews, gotViews := make([]jobView, len(want)), make([]jobView, len(got))
	for i, j := range want {
		wantViews[i] = viewOf(j)
	}
	for i, j := range got {
		gotViews[i] = viewOf(j)
	}
	if s != queue.StateReady {
		require.True(b.t, slices.IsSortedFunc(gotViews, byTime), "%s jobs oldest first: %+v", s, gotViews)
		slices.SortFunc(wantViews, byTimeRaw)
		slices.SortFunc(gotViews, byTimeRaw)
	}
	for i := range min(len(wantViews), len(gotViews)) {
		if wantViews[i].Member == "" && b.facts.Rows != nil {
			id, err := strconv.ParseInt(gotViews[i].Member, 10, 64)
			require.True(b.t, err == nil && id > 0, "%s job %d: member %q is not a row id", s, i, gotViews[i].Member)
			wantViews[i].Member = gotViews[i].Member
		}
	}
	if diff := gocmp.Diff(wantViews, gotViews); diff != "" {
		b.t.Fatalf("%s jobs (-want, +got):\n%s", s, diff)
	}
}

// requirePages requires that paging through the state gives the jobs of the whole listing.
func (b *bundle) requirePages(name string, s queue.State, all []queue.StoredJob) {
	b.t.Helper()
	for offset := range len(all) + 1 {
		page, err := b.store.List(b.ctx, name, s, offset, 1)
		require.NoError(b.t, err)
		if offset == len(all) {
			require.Empty(b.t, page, "%s page past the end", s)
			break
		}
		require.Len(b.t, page, 1, "%s page at offset %d", s, offset)
		require.Equal(b.t, viewOf(all[offset]), viewOf(page[0]), "%s page at offset %d", s, offset)
	}
}

// requireQueues requires that Queues reports exactly names (sorted).
func (b *bundle) requireQueues(names ...string) {
	b.t.Helper()
	got, err := b.store.Queues(b.ctx)
	require.NoError(b.t, err)
	if len(names) == 0 {
		require.Empty(b.t, got, "Queues")
		return
	}
	require.Equal(b.t, names, got, "Queues")
}

// jobView is a StoredJob as text, so a diff reads.
type jobView struct {
	Queue, State, Member, Raw  string
	Attempts                   int
	AvailableAt, ReservedUntil int64 // Unix seconds, 0 for the zero time
}

func viewOf(j queue.StoredJob) jobView {
	return jobView{Queue: j.Queue, State: string(j.State), Member: string(j.Member), Raw: string(j.Raw),
		Attempts: j.Attempts, AvailableAt: unix(j.AvailableAt), ReservedUntil: unix(j.ReservedUntil)}
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func byTime(a, b jobView) int {
	return cmp.Compare(a.AvailableAt+a.ReservedUntil, b.AvailableAt+b.ReservedUntil)
}

func byTimeRaw(a, b jobView) int {
	return cmp.Or(byTime(a, b), cmp.Compare(a.Raw, b.Raw))
}

// raws returns the reservations' payloads as text.
func raws(rs []queue.Reservation) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Raw)
	}
	return out
}

// texts returns payloads as text.
func texts(payloads ...[]byte) []string {
	out := make([]string, len(payloads))
	for i, p := range payloads {
		out[i] = string(p)
	}
	return out
}
