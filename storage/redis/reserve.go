package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
)

// Reserve takes up to n jobs (1..MaxReserve) from the queue, oldest first, and holds each in the reserved
// set until now+Expire. Before popping it makes due delayed jobs ready and recovers expired reservations,
// as the PHP library's pop does. It returns no jobs and no error when the queue is empty.
//
// One Lua script migrates and pops the whole batch. With think-queue, dialects that hold a copy of the job
// while it runs (v3) cost one more script call for the batch; dialects that rewrite expired jobs (v1) one
// more scan and script per queue per second. With Laravel, the one script also makes the reserved copies
// (see reserveLaravel).
func (b *Broker) Reserve(ctx context.Context, name string, n int) ([]queue.Reservation, error) {
	if n < 1 || n > MaxReserve {
		return nil, fmt.Errorf("reserve %s: n must be between 1 and %d, got %d", name, MaxReserve, n)
	}
	qk, err := b.keys(name)
	if err != nil {
		return nil, fmt.Errorf("reserve %s: %w", name, err)
	}
	if b.laravel != nil {
		return b.reserveLaravel(ctx, name, qk, n)
	}
	list, delayed, reserved := qk.list, qk.delayed, qk.reserved
	now := b.now().Unix()
	rewrite := b.thinkqueue.RewritesExpired()
	if rewrite && b.expire >= 0 {
		if err := b.recoverExpired(ctx, list, reserved, now); err != nil {
			return nil, fmt.Errorf("reserve %s: recover expired: %w", name, err)
		}
	}
	score, moveExpired := now, "0"
	if b.expire >= 0 {
		score += b.expire
		if !rewrite {
			moveExpired = "1"
		}
	}
	raws, err := reserveScript.Run(ctx, b.client, []string{list, delayed, reserved},
		now, score, n, moveExpired, migrateLimit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("reserve %s: %w", name, err)
	}
	if len(raws) == 0 {
		return nil, nil
	}

	expires := time.Unix(score, 0)
	out := make([]queue.Reservation, len(raws))
	var pairs []any // raw, copy, raw, copy, ... for the jobs whose held bytes differ from raw
	var swapped []int
	for i, s := range raws {
		raw := []byte(s)
		out[i] = queue.Reservation{Queue: name, Raw: raw, Member: raw, Expires: expires}
		held, err := b.thinkqueue.ReservedCopy(raw)
		if err != nil || bytes.Equal(held, raw) {
			// A payload the dialect cannot re-encode stays reserved as raw; the worker fails it with the reason.
			continue
		}
		pairs = append(pairs, raw, held)
		swapped = append(swapped, i)
		out[i].Member = held
	}
	if len(pairs) == 0 {
		return out, nil
	}
	held, err := holdCopiesScript.Run(ctx, b.client, []string{reserved}, pairs...).Int64Slice()
	if err != nil {
		// Every popped job is still in the reserved set (as raw or as its copy) and comes back after Expire.
		return nil, fmt.Errorf("reserve %s: hold reserved copies: %w", name, err)
	}
	// A raw payload that was no longer reserved has been recovered by another worker in the instant between
	// the two scripts (possible only with a tiny retry_after); running it here too would run it twice.
	kept := out[:0]
	k := 0 // index into swapped and held, both in batch order
	for i, r := range out {
		if k < len(swapped) && swapped[k] == i {
			k++
			if held[k-1] == 0 {
				continue
			}
		}
		kept = append(kept, r)
	}
	return kept, nil
}

// recoverExpired returns expired reservations of a dialect that rewrites them (v1: attempts+1) to the list.
// It scans each queue at most once per second of the injected clock, unless the last scan filled a whole
// batch, in which case more are waiting and the next call scans again.
func (b *Broker) recoverExpired(ctx context.Context, list, reserved string, now int64) error {
	b.mu.Lock()
	if b.scannedAt[reserved] == now {
		b.mu.Unlock()
		return nil
	}
	b.scannedAt[reserved] = now
	b.mu.Unlock()

	members, err := b.client.ZRangeByScore(ctx, reserved, &goredis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now, 10), Count: expiredBatch,
	}).Result()
	if err != nil {
		return err
	}
	if len(members) == expiredBatch {
		b.mu.Lock()
		delete(b.scannedAt, reserved)
		b.mu.Unlock()
	}
	if len(members) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(members))
	args = append(args, now)
	for _, m := range members {
		next, err := b.thinkqueue.ExpiredCopy([]byte(m))
		if err != nil {
			// PHP would turn a non-JSON member into a different job; moving it back unchanged lets the
			// worker reserve it again and keep its bytes in the failed store.
			next = []byte(m)
		}
		args = append(args, m, next)
	}
	return migrateExpiredScript.Run(ctx, b.client, []string{list, reserved}, args...).Err()
}
