// Package storagetest is one behaviour suite for every QueueBridge store. Redis with each dialect and the
// jobs tables on MariaDB, PostgreSQL and SQLite run the same cases, so they agree on what push, later,
// reserve, delete, release, hand back, extend, expiry, fail and the read operations (Sizes, List, Queues)
// do, and on the state each leaves.
//
// A store's tests call [Run] with a function that opens a fresh, empty store on the suite's clock, and the
// [Facts] of its format, which keep the assertions exact where the formats differ (Redis holds a re-encoded
// copy of a reserved job; a jobs table counts attempts in a column):
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Store {
//			return openStore(t, now) // Expire: storagetest.Expire; cleaned up by t.Cleanup
//		}, facts)
//	}
//
// When a store's behaviour changes, extend this suite rather than one store's own tests. The package serves
// the repository's tests: changes to it are not breaking changes.
package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// Expire is how long a reservation lasts in the suite: open must configure the store with it.
const Expire = 60 * time.Second

// Store is what the suite exercises: the operations a worker uses (storage/redis.Broker and
// storage/sql.Broker have them), the failed store's listing, and the read operations.
type Store interface {
	Push(ctx context.Context, queue string, payload []byte) error
	Later(ctx context.Context, queue string, payload []byte, at time.Time) error
	Reserve(ctx context.Context, queue string, n int) ([]queue.Reservation, error)
	Delete(ctx context.Context, queue string, members ...[]byte) (int, error)
	Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error)
	HandBack(ctx context.Context, r queue.Reservation) (bool, error)
	Extend(ctx context.Context, r queue.Reservation, until time.Time) (bool, error)
	Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error
	// Failed lists the failed store's records, oldest first.
	Failed(ctx context.Context) ([]queue.FailedJob, error)

	Sizes(ctx context.Context, queue string) (queue.Sizes, error)
	List(ctx context.Context, queue string, state queue.State, offset, limit int) ([]queue.StoredJob, error)
	Queues(ctx context.Context) ([]string, error)
}

// Facts are what the suite must know of a store's format to assert exact bytes and counts.
type Facts struct {
	// NewPayload returns what a producer of the format pushes for the job called id; distinct ids give
	// distinct payloads.
	NewPayload func(id string) ([]byte, error)
	// Attempts returns what the PHP library's attempts() reports while r runs: 1 on a job's first run.
	Attempts func(r queue.Reservation) (int, error)
	// ReleasedCopy returns what a worker releases r as: the rules' ReleasedCopy.
	ReleasedCopy func(r queue.Reservation) ([]byte, error)

	// Exactly one of Payloads and Rows is set.
	Payloads *PayloadFacts
	Rows     *RowFacts
}

// PayloadFacts describe a store that keeps every job as its payload bytes (Redis lists and sorted sets):
// a job's Member is the bytes stored, and the payload counts attempts.
type PayloadFacts struct {
	// ReservedCopy returns the bytes the store holds while raw is reserved, the reservation's Member:
	// raw itself (think-queue v1) or a re-encode with attempts+1 (think-queue v3, Laravel's cjson copy).
	ReservedCopy func(raw []byte) ([]byte, error)
	// ExpiredCopy returns what a lapsed reservation held as member is reserved as next (that
	// reservation's Raw): a re-encode with attempts+1 (think-queue v1) or member itself.
	ExpiredCopy func(member []byte) ([]byte, error)
}

// RowFacts describe a store that keeps every job as a row (a jobs table): a job's Member is its row id,
// its payload never changes, and the attempts column counts.
type RowFacts struct {
	// CountOnReserve is true when reserving a row adds one to its attempts column (think-queue 3.x,
	// Laravel), false when the column grows only once a run ends in a release or a lapse (think-queue
	// 1.x/2.x).
	CountOnReserve bool
}

func (f Facts) validate() error {
	switch {
	case f.NewPayload == nil || f.Attempts == nil || f.ReleasedCopy == nil:
		return errors.New("storagetest: Facts needs NewPayload, Attempts and ReleasedCopy")
	case (f.Payloads == nil) == (f.Rows == nil):
		return errors.New("storagetest: Facts needs exactly one of Payloads and Rows")
	case f.Payloads != nil && (f.Payloads.ReservedCopy == nil || f.Payloads.ExpiredCopy == nil):
		return errors.New("storagetest: PayloadFacts needs ReservedCopy and ExpiredCopy")
	}
	return nil
}

// Run runs every case as a parallel subtest on a store of its own: open returns a fresh, empty store
// whose clock is now and whose reservations last Expire, and cleans it up when t ends.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) Store, facts Facts) {
	t.Helper()
	if err := facts.validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := &bundle{t: t, ctx: context.Background(), facts: facts}
			b.sec.Store(epoch)
			b.store = open(t, b.now)
			c.run(b)
		})
	}
}
