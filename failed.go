package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/queuebridge/bridge/queue"
)

// FailedJob is a job kept in the failed store: the bridge's Redis keys or the app's failed_jobs table.
type FailedJob = queue.FailedJob

// ErrNoFailedJob is returned for a failed-job id the store does not hold.
var ErrNoFailedJob = errors.New("no such failed job")

// Failed lists the failed store, oldest first.
func (b *Bridge) Failed(ctx context.Context) ([]FailedJob, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	jobs, err := b.be.failed.Failed(ctx)
	if err != nil {
		return nil, fmt.Errorf("list failed jobs: %w", err)
	}
	return jobs, nil
}

// FailedJob returns one failed job: its whole payload and the full error. ErrNoFailedJob when there is none.
func (b *Bridge) FailedJob(ctx context.Context, id string) (FailedJob, error) {
	if err := b.ready(); err != nil {
		return FailedJob{}, err
	}
	rec, ok, err := b.be.failed.FailedJob(ctx, id)
	switch {
	case err != nil:
		return FailedJob{}, fmt.Errorf("failed job %s: %w", id, err)
	case !ok:
		return FailedJob{}, fmt.Errorf("failed job %s: %w", id, ErrNoFailedJob)
	}
	return rec, nil
}

// Retry pushes a failed job back onto its queue (attempts reset, as queue:retry does) and forgets it.
func (b *Bridge) Retry(ctx context.Context, id string) error {
	rec, err := b.FailedJob(ctx, id)
	if err != nil {
		return err
	}
	payload, err := b.be.format.retryCopy(rec.Payload)
	if err != nil {
		// A payload that is not JSON goes back as it came: it was kept to be looked at, not rewritten.
		payload = rec.Payload
	}
	if err := b.be.store.Push(ctx, rec.Queue, payload); err != nil {
		return fmt.Errorf("retry %s: %w", id, err)
	}
	if _, err := b.be.failed.Forget(ctx, id); err != nil {
		return fmt.Errorf("retry %s: pushed back, but forgetting the failed record failed: %w", id, err)
	}
	return nil
}

// RetryAll retries every failed job and returns the ids it pushed back.
func (b *Bridge) RetryAll(ctx context.Context) ([]string, error) {
	jobs, err := b.Failed(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		if err := b.Retry(ctx, j.ID); err != nil {
			return ids, err
		}
		ids = append(ids, j.ID)
	}
	return ids, nil
}

// Forget deletes a failed job; ErrNoFailedJob when there was none.
func (b *Bridge) Forget(ctx context.Context, id string) error {
	if err := b.ready(); err != nil {
		return err
	}
	ok, err := b.be.failed.Forget(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("forget %s: %w", id, err)
	case !ok:
		return fmt.Errorf("forget: no failed job %s: %w", id, ErrNoFailedJob)
	}
	return nil
}

// Flush deletes every failed job and says how many.
func (b *Bridge) Flush(ctx context.Context) (int, error) {
	if err := b.ready(); err != nil {
		return 0, err
	}
	n, err := b.be.failed.Flush(ctx)
	if err != nil {
		return n, fmt.Errorf("flush failed jobs: %w", err)
	}
	return n, nil
}
