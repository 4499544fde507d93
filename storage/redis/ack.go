package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// Delete acknowledges finished jobs: one ZREM of their reserved members, so a batch costs one round trip.
// It returns how many were still reserved; a member recovered by another worker meanwhile is not counted.
func (b *Broker) Delete(ctx context.Context, name string, members ...[]byte) (int, error) {
	if len(members) == 0 {
		return 0, nil
	}
	k, err := b.keys(name)
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", name, err)
	}
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
	}
	n, err := b.client.ZRem(ctx, k.reserved, args...).Result()
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", name, err)
	}
	return int(n), nil
}

// Release ends the reservation r and schedules payload to become ready at at. What payload is depends on
// the dialect: think-queue v1 re-encodes the job with attempts+1, v3 and Laravel pass r.Member unchanged. It returns false, and
// schedules nothing, when r was no longer reserved: another worker recovered it, and adding it again would
// run it twice.
func (b *Broker) Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error) {
	k, err := b.keys(r.Queue)
	if err != nil {
		return false, fmt.Errorf("release %s: %w", r.Queue, err)
	}
	ok, err := releaseScript.Run(ctx, b.client, []string{k.reserved, k.delayed}, r.Member, at.Unix(), payload).Bool()
	if err != nil {
		return false, fmt.Errorf("release %s: %w", r.Queue, err)
	}
	return ok, nil
}

// HandBack ends the reservation r and appends r.Raw to the list: the job returns exactly as it was pushed,
// attempts unchanged, for a worker that can run it (Laravel: with a notify token, as a push). It returns
// false, and pushes nothing, when r was no longer reserved.
func (b *Broker) HandBack(ctx context.Context, r queue.Reservation) (bool, error) {
	k, err := b.keys(r.Queue)
	if err != nil {
		return false, fmt.Errorf("hand back %s: %w", r.Queue, err)
	}
	keys := []string{k.reserved, k.list}
	if k.notify != "" {
		keys = append(keys, k.notify)
	}
	ok, err := handBackScript.Run(ctx, b.client, keys, r.Member, r.Raw).Bool()
	if err != nil {
		return false, fmt.Errorf("hand back %s: %w", r.Queue, err)
	}
	return ok, nil
}

// Extend moves the expiry of reservation r to until, so a job running longer than Expire is not recovered
// and run a second time. It returns false when r was no longer reserved.
func (b *Broker) Extend(ctx context.Context, r queue.Reservation, until time.Time) (bool, error) {
	k, err := b.keys(r.Queue)
	if err != nil {
		return false, fmt.Errorf("extend %s: %w", r.Queue, err)
	}
	ok, err := extendScript.Run(ctx, b.client, []string{k.reserved}, until.Unix(), r.Member).Bool()
	if err != nil {
		return false, fmt.Errorf("extend %s: %w", r.Queue, err)
	}
	return ok, nil
}
