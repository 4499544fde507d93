package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// reserveLaravel reserves up to n jobs of a Laravel queue with one script (lua/laravel_reserve.lua): due
// delayed jobs and expired reservations go to the list with their notify tokens, then each popped job is
// held in :reserved as Redis's cjson re-encode with attempts+1, the bytes Laravel's own pop script writes.
//
// Each Reservation's Raw is the popped payload (RedisJob::getRawBody) and Member the reserved copy
// (getReservedJob), which Delete, Release and Fail remove by exact bytes. Member equals Raw only for a job
// cjson could not re-encode (not JSON, or no numeric attempts): Laravel's pop would have lost it; here it
// stays reserved as it came, for the worker to fail with the reason.
func (b *Broker) reserveLaravel(ctx context.Context, name string, k queueKeys, n int) ([]queue.Reservation, error) {
	now := b.now().Unix()
	score, moveExpired := now, "0"
	if b.expire >= 0 {
		score, moveExpired = now+b.expire, "1"
	}
	flat, err := laravelReserveScript.Run(ctx, b.client, k.all(), now, score, n, moveExpired, migrateLimit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("reserve %s: %w", name, err)
	}
	if len(flat)%2 != 0 {
		return nil, fmt.Errorf("reserve %s: script returned %d strings, want pairs", name, len(flat))
	}
	if len(flat) == 0 {
		return nil, nil
	}
	expires := time.Unix(score, 0)
	out := make([]queue.Reservation, len(flat)/2)
	for i := range out {
		raw := []byte(flat[2*i])
		member := raw
		if held := flat[2*i+1]; held != flat[2*i] {
			member = []byte(held)
		}
		out[i] = queue.Reservation{Queue: name, Raw: raw, Member: member, Expires: expires}
	}
	return out, nil
}
