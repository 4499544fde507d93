package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
)

// TrendsTTL is how long a queue's trend counters live after their last increment: a day, like Horizon's
// metric snapshots. Every increment refreshes it.
const TrendsTTL = 24 * time.Hour

// trendsKey is the hash of a queue's per-minute counters, a bridge-owned key beside the failed store:
// "{<prefix>:trends:<queue>}", fields "<unix minute>:processed|failed|wait_ms|wait_n".
func (b *Broker) trendsKey(name string) string { return "{" + b.keyPrefix + ":trends:" + name + "}" }

// AddTrends adds points (each a minute's increments) to a queue's counters, in one pipeline: HINCRBY per
// counter and one EXPIRE refreshing TrendsTTL. Every bridge adds to the same counters.
func (b *Broker) AddTrends(ctx context.Context, name string, points []queue.TrendPoint) error {
	key := b.trendsKey(name)
	_, err := b.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for _, p := range points {
			minute := strconv.FormatInt(p.Minute.Unix()/60, 10)
			for _, c := range []struct {
				field string
				n     int64
			}{{"processed", p.Processed}, {"failed", p.Failed}, {"wait_ms", p.WaitSum.Milliseconds()}, {"wait_n", p.WaitCount}} {
				if c.n != 0 {
					pipe.HIncrBy(ctx, key, minute+":"+c.field, c.n)
				}
			}
		}
		pipe.Expire(ctx, key, TrendsTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add trends of %s: %w", name, err)
	}
	return nil
}

// Trends returns a queue's counters from the minute since falls in, oldest first; minutes no bridge
// counted anything in are left out.
func (b *Broker) Trends(ctx context.Context, name string, since time.Time) ([]queue.TrendPoint, error) {
	fields, err := b.client.HGetAll(ctx, b.trendsKey(name)).Result()
	if err != nil {
		return nil, fmt.Errorf("trends of %s: %w", name, err)
	}
	from := since.Unix() / 60
	byMinute := map[int64]*queue.TrendPoint{}
	for field, value := range fields {
		m, counter, ok := strings.Cut(field, ":")
		minute, err1 := strconv.ParseInt(m, 10, 64)
		n, err2 := strconv.ParseInt(value, 10, 64)
		if !ok || err1 != nil || err2 != nil || minute < from {
			continue // a stray field is no reason to hide the rest
		}
		p := byMinute[minute]
		if p == nil {
			p = &queue.TrendPoint{Minute: time.Unix(minute*60, 0)}
			byMinute[minute] = p
		}
		switch counter {
		case "processed":
			p.Processed = n
		case "failed":
			p.Failed = n
		case "wait_ms":
			p.WaitSum = time.Duration(n) * time.Millisecond
		case "wait_n":
			p.WaitCount = n
		}
	}
	out := make([]queue.TrendPoint, 0, len(byMinute))
	for _, p := range byMinute {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b queue.TrendPoint) int { return a.Minute.Compare(b.Minute) })
	return out, nil
}
