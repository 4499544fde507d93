package redis

import (
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
// One Lua script migrates and pops the whole batch. Dialects that hold a copy of the job while it runs (v3)
// send the copies with it, made from the head the previous call returned (see reserveCopies); dialects
// that rewrite expired jobs (v1) cost one more scan and script per queue per second. With Laravel, the one
// script also makes the reserved copies (see reserveLaravel).
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
	if !rewrite {
		return b.reserveCopies(ctx, name, qk, n, now, score, moveExpired)
	}
	raws, err := reserveScript.Run(ctx, b.client, []string{list, delayed, reserved},
		now, score, n, moveExpired, migrateLimit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("reserve %s: %w", name, err)
	}
	expires := time.Unix(score, 0)
	out := make([]queue.Reservation, len(raws))
	for i, s := range raws {
		raw := []byte(s)
		out[i] = queue.Reservation{Queue: name, Raw: raw, Member: raw, Expires: expires}
	}
	return out, nil
}

// maxHeadRetries bounds the calls one reserve makes while the head keeps changing under it.
const maxHeadRetries = 32

// reserveCopies reserves for a dialect whose reserved member is a copy of the job (v3: PHP's re-encode with
// attempts+1) in one script per batch: it sends the copies of the jobs the previous call saw at the head
// and pops those of them still at the head; the script returns the new head, whose copies the next call
// sends. A first call, or one that finds the head changed (a PHP worker popped), pops what it can and calls
// again with the copies of the head it got back, until it has n jobs or the list is empty.
func (b *Broker) reserveCopies(ctx context.Context, name string, qk queueKeys, n int, now, score int64, moveExpired string) ([]queue.Reservation, error) {
	keys := []string{qk.list, qk.delayed, qk.reserved}
	// Reserves running side by side share the copies: a map once stored is never written again.
	b.mu.Lock()
	state := b.heads[qk.reserved]
	b.mu.Unlock()
	copies := state.copies
	expires := time.Unix(score, 0)
	var out []queue.Reservation
	for try := 0; ; try++ {
		args := make([]any, 0, 6+2*len(copies))
		// A head as long as the batch, so each job crosses the wire once each way; twice that while another
		// reserver works the queue, so a call that lost the head to it still finds copies behind.
		headLen := n
		if now-state.contendedAt < contendedFor {
			headLen = min(2*n, MaxReserve)
		}
		args = append(args, now, score, n-len(out), moveExpired, migrateLimit, headLen)
		sent := make([][]byte, 0, 2*len(copies)) // raw, copy, ... in ARGV order
		for _, c := range copies {
			args = append(args, c.raw, c.held)
			sent = append(sent, c.raw, c.held)
		}
		res, err := reserveCopiesScript.Run(ctx, b.client, keys, args...).Slice()
		if err != nil {
			return nil, fmt.Errorf("reserve %s: %w", name, err)
		}
		popped, head, err := reserveCopiesReply(res)
		if err != nil {
			return nil, fmt.Errorf("reserve %s: %w", name, err)
		}
		for _, p := range popped {
			if p < 1 || 2*p > int64(len(sent)) {
				return nil, fmt.Errorf("reserve %s: script popped pair %d of %d", name, p, len(sent)/2)
			}
			out = append(out, queue.Reservation{Queue: name, Raw: sent[2*p-2], Member: sent[2*p-1], Expires: expires})
		}
		if len(popped) < min(n-len(out)+len(popped), len(sent)/2) && len(head) > 0 {
			state.contendedAt = now // the head moved under this call: someone else pops from the queue
		}
		// The copies of the new head, reusing those already made.
		next := make(map[string]heldCopy, len(head))
		for _, raw := range head {
			if c, ok := copies[raw]; ok {
				next[raw] = c
				continue
			}
			c := heldCopy{raw: []byte(raw)}
			if c.held, err = b.thinkqueue.ReservedCopy(c.raw); err != nil {
				// A payload the dialect cannot re-encode stays reserved as raw; the worker fails it with the reason.
				c.held = c.raw
			}
			next[raw] = c
		}
		copies = next
		if len(out) == n || len(head) == 0 {
			break
		}
		if try == maxHeadRetries {
			if len(out) > 0 {
				break
			}
			return nil, fmt.Errorf("reserve %s: the head of the list changed under %d reserves in a row", name, try+1)
		}
	}
	b.mu.Lock()
	b.heads[qk.reserved] = headCopies{copies: copies, contendedAt: max(state.contendedAt, b.heads[qk.reserved].contendedAt)}
	b.mu.Unlock()
	return out, nil
}

// heldCopy is a job as it sits in the list and the copy held in the reserved set while it runs.
type heldCopy struct{ raw, held []byte }

// headCopies are the copies made of the jobs a queue's last reserve saw at the head of its list, by raw
// payload, and when a reserve last found that head moved under it (Unix seconds).
type headCopies struct {
	copies      map[string]heldCopy
	contendedAt int64
}

// contendedFor is how long, in seconds, reserves of a queue whose head moved under one ask for the longer
// head.
const contendedFor = 10

// reserveCopiesReply reads reserve_copies.lua's {popped, head}.
func reserveCopiesReply(res []any) (popped []int64, head []string, err error) {
	if len(res) != 2 {
		return nil, nil, fmt.Errorf("script returned %d values, want 2", len(res))
	}
	ps, ok1 := res[0].([]any)
	hs, ok2 := res[1].([]any)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("script returned %T and %T, want two arrays", res[0], res[1])
	}
	popped = make([]int64, len(ps))
	for i, p := range ps {
		if popped[i], ok1 = p.(int64); !ok1 {
			return nil, nil, fmt.Errorf("script returned pair %v (%T), want an integer", p, p)
		}
	}
	head = make([]string, len(hs))
	for i, h := range hs {
		if head[i], ok2 = h.(string); !ok2 {
			return nil, nil, fmt.Errorf("script returned job %T, want a string", h)
		}
	}
	return popped, head, nil
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
