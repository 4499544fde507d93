package bridge

import (
	"context"
	"fmt"

	"github.com/queuebridge/bridge/queue"
)

// QueueSizes counts a queue's jobs by state: ready, delayed, reserved, and when the oldest ready job became
// available (where the store keeps times).
type QueueSizes = queue.Sizes

// StoredJob is one job as the store holds it, for listings: looking at a job never reserves it.
type StoredJob = queue.StoredJob

// State is where a job is in its queue: StateReady, StateDelayed or StateReserved.
type State = queue.State

// The states a stored job can be in.
const (
	StateReady    = queue.StateReady
	StateDelayed  = queue.StateDelayed
	StateReserved = queue.StateReserved
)

// Queues lists every queue the store holds jobs for, in this dialect's keys or this jobs table.
func (b *Bridge) Queues(ctx context.Context) ([]string, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	names, err := b.be.store.Queues(ctx)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	return names, nil
}

// Sizes counts a queue's jobs by state.
func (b *Bridge) Sizes(ctx context.Context, queueName string) (QueueSizes, error) {
	if err := b.ready(); err != nil {
		return QueueSizes{}, err
	}
	s, err := b.be.store.Sizes(ctx, queueName)
	if err != nil {
		return s, fmt.Errorf("sizes of %s: %w", queueName, err)
	}
	return s, nil
}

// Jobs lists up to limit jobs of a queue in one state, oldest first, from offset; Jobs(ctx, q, StateReady,
// 0, n) peeks at the next n jobs to run.
func (b *Bridge) Jobs(ctx context.Context, queueName string, state State, offset, limit int) ([]StoredJob, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	switch state {
	case StateReady, StateDelayed, StateReserved:
	default:
		return nil, fmt.Errorf("jobs of %s: unknown state %q (want ready, delayed or reserved)", queueName, state)
	}
	jobs, err := b.be.store.List(ctx, queueName, state, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs of %s: %w", queueName, err)
	}
	return jobs, nil
}
