package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
)

var (
	cancelScript       = loadScript("cancel.lua")
	moveScript         = loadScript("move.lua")
	clearWaitingScript = loadScript("clear_waiting.lua")
)

// findPage is how many members one round trip of Find reads.
const findPage = 1000

// Where a waiting job was when a script changed it.
const (
	NotWaiting = 0 // in neither the list nor the delayed set: reserved or removed meanwhile
	WasReady   = 1
	WasDelayed = 2
)

// Find returns the first job of the queue whose member match accepts, looking at the list, then the
// delayed set, then the reserved set, a page at a time, moving nothing. A job that moves between pages
// (a worker reserves it meanwhile) may be missed: Find is for people looking, and every write after it
// checks the exact bytes again. States are as List reports them, except that a lapsed reservation is
// reported reserved (with its ReservedUntil past), since only a worker can take it back.
func (b *Broker) Find(ctx context.Context, name string, match func(member []byte) bool) (queue.StoredJob, bool, error) {
	k, err := b.keys(name)
	if err != nil {
		return queue.StoredJob{}, false, fmt.Errorf("find in %s: %w", name, err)
	}
	for start := int64(0); ; start += findPage {
		members, err := b.client.LRange(ctx, k.list, start, start+findPage-1).Result()
		if err != nil {
			return queue.StoredJob{}, false, fmt.Errorf("find in %s: %w", name, err)
		}
		for _, m := range members {
			if match([]byte(m)) {
				return queue.StoredJob{Queue: name, State: queue.StateReady, Member: []byte(m), Raw: []byte(m)}, true, nil
			}
		}
		if len(members) < findPage {
			break
		}
	}
	now := b.now()
	for _, key := range []string{k.delayed, k.reserved} {
		for start := int64(0); ; start += findPage {
			zs, err := b.client.ZRangeWithScores(ctx, key, start, start+findPage-1).Result()
			if err != nil {
				return queue.StoredJob{}, false, fmt.Errorf("find in %s: %w", name, err)
			}
			for _, z := range zs {
				m := []byte(z.Member.(string))
				if !match(m) {
					continue
				}
				j := queue.StoredJob{Queue: name, Member: m, Raw: m}
				at := time.Unix(int64(z.Score), 0)
				switch {
				case key == k.delayed:
					j.State, j.AvailableAt = queue.StateDelayed, at
					if !at.After(now) {
						j.State = queue.StateReady // due: the next Reserve moves it to the list
					}
				default:
					j.State = queue.StateReserved
					if b.expire >= 0 {
						j.ReservedUntil = at
					}
				}
				return j, true, nil
			}
			if len(zs) < findPage {
				break
			}
		}
	}
	return queue.StoredJob{}, false, nil
}

// Cancel withdraws a waiting job by its exact member: from the list (with one of Laravel's notify tokens)
// or the delayed set. It reports where the job was, or NotWaiting when it is in neither any more (a worker
// reserved it meanwhile), and then changes nothing.
func (b *Broker) Cancel(ctx context.Context, name string, member []byte) (int, error) {
	k, err := b.keys(name)
	if err != nil {
		return NotWaiting, fmt.Errorf("cancel in %s: %w", name, err)
	}
	keys := []string{k.list, k.delayed}
	if k.notify != "" {
		keys = append(keys, k.notify)
	}
	where, err := cancelScript.Run(ctx, b.client, keys, member).Int()
	if err != nil {
		return NotWaiting, fmt.Errorf("cancel in %s: %w", name, err)
	}
	return where, nil
}

// Placement says where Move puts a job's new payload.
type Placement struct {
	// Front puts it at the head of the destination list: the next job Reserve takes.
	Front bool
	// At, when not zero, puts it in the destination delayed set to become ready then (a past time: at
	// the next Reserve). With neither, the job keeps its state: its place in its list (the tail of
	// another queue's), or its time in the delayed set.
	At time.Time
}

// Move replaces a waiting job (its exact member, in queue from) by payload in queue to, placed as p says,
// in one script: remove and add together, so no worker ever sees both or neither. It reports where the
// job was, or NotWaiting when it is in neither the list nor the delayed set any more, and then changes nothing.
// On Cluster the two queues' keys must share a hash slot; Move refuses before writing when they do not.
func (b *Broker) Move(ctx context.Context, from, to string, member, payload []byte, p Placement) (int, error) {
	src, err := b.keys(from)
	if err != nil {
		return NotWaiting, fmt.Errorf("move %s: %w", from, err)
	}
	dst, err := b.keys(to)
	if err != nil {
		return NotWaiting, fmt.Errorf("move to %s: %w", to, err)
	}
	if b.cluster && hashTag(src.list) != hashTag(dst.list) {
		return NotWaiting, fmt.Errorf("move %s to %s: their keys lie in different Redis Cluster hash slots (%q, %q), and a move must be one script on one node; push the job's payload to %s and cancel it here instead",
			from, to, src.list, dst.list, to)
	}
	keys := []string{src.list, src.delayed, dst.list, dst.delayed}
	if src.notify != "" {
		keys = append(keys, src.notify, dst.notify)
	}
	where, at := "keep", "0"
	switch {
	case p.Front:
		where = "front"
	case !p.At.IsZero():
		where, at = "at", strconv.FormatInt(p.At.Unix(), 10)
	}
	n, err := moveScript.Run(ctx, b.client, keys, member, payload, where, at).Int()
	if err != nil {
		return NotWaiting, fmt.Errorf("move %s: %w", from, err)
	}
	return n, nil
}

// ClearWaiting deletes the queue's ready and delayed jobs (and Laravel's notify list) and returns how many
// there were; reserved jobs are left to the workers running them.
func (b *Broker) ClearWaiting(ctx context.Context, name string) (int, error) {
	k, err := b.keys(name)
	if err != nil {
		return 0, fmt.Errorf("clear %s: %w", name, err)
	}
	keys := []string{k.list, k.delayed}
	if k.notify != "" {
		keys = append(keys, k.notify)
	}
	n, err := clearWaitingScript.Run(ctx, b.client, keys).Int()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, fmt.Errorf("clear %s: %w", name, err)
	}
	return n, nil
}
