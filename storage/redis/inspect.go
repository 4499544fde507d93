package redis

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
)

// scanCount is the COUNT hint of each SCAN call in Queues: about how many keys one round trip looks at.
const scanCount = 1000

// Sizes counts the queue's jobs by state, in one MULTI so the counts agree with each other. A job is
// ready when the next Reserve may take it: the list, and what that Reserve first moves to the list (due
// delayed jobs and, unless Expire is -1, lapsed reservations). Delayed counts the delayed jobs not yet
// due, Reserved the reservations not lapsed. OldestReady stays zero: a list keeps no times.
func (b *Broker) Sizes(ctx context.Context, name string) (queue.Sizes, error) {
	k, err := b.keys(name)
	if err != nil {
		return queue.Sizes{}, fmt.Errorf("sizes %s: %w", name, err)
	}
	now := strconv.FormatInt(b.now().Unix(), 10)
	var list, due, later, lapsed, held *goredis.IntCmd
	_, err = b.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		list = pipe.LLen(ctx, k.list)
		due = pipe.ZCount(ctx, k.delayed, "-inf", now)
		later = pipe.ZCount(ctx, k.delayed, "("+now, "+inf")
		if b.expire >= 0 {
			lapsed = pipe.ZCount(ctx, k.reserved, "-inf", now)
			held = pipe.ZCount(ctx, k.reserved, "("+now, "+inf")
		} else {
			held = pipe.ZCard(ctx, k.reserved)
		}
		return nil
	})
	if err != nil {
		return queue.Sizes{}, fmt.Errorf("sizes %s: %w", name, err)
	}
	s := queue.Sizes{Ready: list.Val() + due.Val(), Delayed: later.Val(), Reserved: held.Val()}
	if lapsed != nil {
		s.Ready += lapsed.Val()
	}
	return s, nil
}

// List returns up to limit of the queue's jobs in state, after skipping offset of them, oldest first,
// without reserving any: ready jobs in the order Reserve takes them (the list, then due delayed jobs and
// lapsed reservations, as Sizes counts them), delayed jobs by the time they become due, reservations by
// the time they lapse. Member and Raw are both the bytes the list or set holds; a lapsed reservation is
// listed as held, though a think-queue v1 dialect rewrites it (attempts+1) when it comes back.
func (b *Broker) List(ctx context.Context, name string, state queue.State, offset, limit int) ([]queue.StoredJob, error) {
	if offset < 0 || limit < 1 {
		return nil, fmt.Errorf("list %s: offset must be at least 0 and limit at least 1, got %d and %d", name, offset, limit)
	}
	k, err := b.keys(name)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	now := strconv.FormatInt(b.now().Unix(), 10)
	var jobs []queue.StoredJob
	switch state {
	case queue.StateReady:
		order := "delayed"
		switch {
		case b.expire < 0:
			order = "none"
		case b.thinkqueue != nil && b.thinkqueue.RewritesExpired():
			order = "reserved" // recoverExpired runs before reserve.lua migrates delayed jobs
		}
		members, err := listReadyScript.Run(ctx, b.client, []string{k.list, k.delayed, k.reserved},
			now, offset, limit, order).StringSlice()
		if err != nil {
			return nil, fmt.Errorf("list %s %s: %w", state, name, err)
		}
		for _, m := range members {
			jobs = append(jobs, queue.StoredJob{Queue: name, State: state, Member: []byte(m), Raw: []byte(m)})
		}
	case queue.StateDelayed, queue.StateReserved:
		key, from := k.delayed, "("+now
		if state == queue.StateReserved {
			key = k.reserved
			if b.expire < 0 {
				from = "-inf" // a reservation that never lapses is scored with the time it was taken
			}
		}
		zs, err := b.client.ZRangeByScoreWithScores(ctx, key, &goredis.ZRangeBy{
			Min: from, Max: "+inf", Offset: int64(offset), Count: int64(limit),
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("list %s %s: %w", state, name, err)
		}
		for _, z := range zs {
			m := z.Member.(string)
			j := queue.StoredJob{Queue: name, State: state, Member: []byte(m), Raw: []byte(m)}
			switch {
			case state == queue.StateDelayed:
				j.AvailableAt = time.Unix(int64(z.Score), 0)
			case b.expire >= 0:
				j.ReservedUntil = time.Unix(int64(z.Score), 0)
			}
			jobs = append(jobs, j)
		}
	default:
		return nil, fmt.Errorf("list %s: unknown state %q", name, state)
	}
	return jobs, nil
}

// Queues returns, sorted, every queue that has a list, delayed set or reserved set under the dialect's
// key names: SCAN with the dialect's pattern (on Cluster, on every master), and each key's TYPE checked,
// so a stray key that only looks like a queue's is left out.
func (b *Broker) Queues(ctx context.Context) ([]string, error) {
	var mu sync.Mutex
	found := make(map[string]struct{})
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		names, err := b.scanQueues(ctx, c)
		mu.Lock()
		for _, q := range names {
			found[q] = struct{}{}
		}
		mu.Unlock()
		return err
	}
	var err error
	if cluster, ok := b.client.(*goredis.ClusterClient); ok {
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, b.client)
	}
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	return slices.Sorted(maps.Keys(found)), nil
}

// scanQueues returns the queues whose keys one server holds.
func (b *Broker) scanQueues(ctx context.Context, c goredis.Cmdable) ([]string, error) {
	type candidate struct {
		queue, want string // want is the type the key must have: "list" or "zset"
		typ         *goredis.StatusCmd
	}
	seen := make(map[string]bool)
	var names []string
	pattern := b.keyer.QueuePattern()
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return names, err
		}
		var cands []candidate
		pipe := c.Pipeline()
		for _, key := range keys {
			q, ok := b.keyer.QueueOf(key)
			if !ok || seen[q] {
				continue
			}
			list, delayed, reserved := b.keyer.QueueKeys(q)
			want := "zset"
			switch key {
			case list:
				want = "list"
			case delayed, reserved:
			default:
				continue
			}
			cands = append(cands, candidate{queue: q, want: want, typ: pipe.Type(ctx, key)})
		}
		if len(cands) > 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				return names, err
			}
		}
		for _, cand := range cands {
			if !seen[cand.queue] && cand.typ.Val() == cand.want {
				seen[cand.queue] = true
				names = append(names, cand.queue)
			}
		}
		if next == 0 {
			return names, nil
		}
		cursor = next
	}
}
