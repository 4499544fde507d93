package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// isSync reports whether a connection is the sync connection: think-queue's Sync driver, which "degrades
// the queue to synchronous execution" — a push runs its handler at once, in the pushing goroutine.
func isSync(connection string) bool {
	return connection == "sync" || strings.HasPrefix(connection, "sync:")
}

// syncStore is the queue of the sync connection: nothing is ever stored, so there is nothing to reserve,
// list or fail.
type syncStore struct{}

func (syncStore) Reserve(context.Context, string, int) ([]queue.Reservation, error) { return nil, nil }
func (syncStore) Delete(context.Context, string, ...[]byte) (int, error)            { return 0, nil }
func (syncStore) Release(context.Context, queue.Reservation, []byte, time.Time) (bool, error) {
	return false, nil
}
func (syncStore) HandBack(context.Context, queue.Reservation) (bool, error) { return false, nil }
func (syncStore) Extend(context.Context, queue.Reservation, time.Time) (bool, error) {
	return false, nil
}
func (syncStore) Fail(context.Context, queue.Reservation, queue.FailedJob) error { return nil }
func (syncStore) Push(context.Context, string, []byte) error                     { return nil }
func (syncStore) Later(context.Context, string, []byte, time.Time) error         { return nil }
func (syncStore) Sizes(context.Context, string) (queue.Sizes, error)             { return queue.Sizes{}, nil }
func (syncStore) List(context.Context, string, queue.State, int, int) ([]queue.StoredJob, error) {
	return nil, nil
}
func (syncStore) Queues(context.Context) ([]string, error) { return nil, nil }

// syncFailed is the sync connection's failed store: always empty, since a failing job's error goes back
// to whoever pushed it.
type syncFailed struct{}

func (syncFailed) Failed(context.Context) ([]queue.FailedJob, error) { return nil, nil }
func (syncFailed) FailedJob(context.Context, string) (queue.FailedJob, bool, error) {
	return queue.FailedJob{}, false, nil
}
func (syncFailed) Forget(context.Context, string) (bool, error) { return false, nil }
func (syncFailed) Flush(context.Context) (int, error)           { return 0, nil }

// ErrNoHandler is returned by a push on the sync connection for a job no Go handler claims.
var ErrNoHandler = errors.New("no handler for this job")

// runSync runs a pushed payload at once, as think-queue's Sync connector does: the handler's error (or a
// Fail) comes back to the caller, after the handler's Failed hook ran (think-queue 1.x/2.x call failed()
// and rethrow); a release runs nothing again. Delays are not waited for (Sync's later() runs at once).
func (b *Bridge) runSync(ctx context.Context, queueName string, payload []byte) error {
	r, err := b.RunJob(ctx, queueName, payload, WorkerConfig{Tries: 1})
	switch {
	case err != nil:
		return fmt.Errorf("sync: %w", err)
	case r.Err == nil:
		return nil
	case r.Job == nil:
		return fmt.Errorf("sync: %w", r.Err)
	case r.Outcome == OutcomeReleased: // think-queue 1.x's rules fail on the next pop, which never comes
		if h, ok := b.mux.Lookup(r.Job.Name()); ok {
			b.failed(ctx, h, r.Job, r.Job.Reservation(), r.Err)
		}
	}
	return fmt.Errorf("sync: %s: %w", r.Job.Name(), r.Err)
}
