package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
)

// ReportCounters keeps what bridges counted of each job class, per minute, so any bridge can report on all
// of them: a hash of counters per class per minute, {<prefix>:report}:<minute>:<class>, an index of the
// classes scored by their last minute, {<prefix>:report}:classes, and each class's last mismatches, newest
// first, {<prefix>:report}:mismatches:<class>. Every key expires; all share one hash slot on a Cluster.
type ReportCounters struct {
	client goredis.UniversalClient
	tag    string
	keep   int64
}

// NewReportCounters returns the counters under prefix, keeping the newest keep mismatches of a class.
func NewReportCounters(client goredis.UniversalClient, prefix string, keep int) *ReportCounters {
	return &ReportCounters{client: client, tag: "{" + prefix + ":report}", keep: int64(keep)}
}

func (c *ReportCounters) minuteKey(minute int64, class string) string {
	return c.tag + ":" + strconv.FormatInt(minute, 10) + ":" + class
}

func (c *ReportCounters) classesKey() string { return c.tag + ":classes" }

func (c *ReportCounters) mismatchKey(class string) string { return c.tag + ":mismatches:" + class }

// Add adds the deltas in one round trip; every key written lives ttl from now.
func (c *ReportCounters) Add(ctx context.Context, deltas []queue.ReportDelta, ttl time.Duration) error {
	if len(deltas) == 0 {
		return nil
	}
	_, err := c.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, d := range deltas {
			key := c.minuteKey(d.Minute, d.Class)
			for f, n := range d.Counts {
				p.HIncrBy(ctx, key, f, n)
			}
			p.Expire(ctx, key, ttl)
			p.ZAddGT(ctx, c.classesKey(), goredis.Z{Score: float64(d.Minute), Member: d.Class})
			if len(d.Mismatches) > 0 {
				mk := c.mismatchKey(d.Class)
				for _, m := range d.Mismatches {
					p.LPush(ctx, mk, m)
				}
				p.LTrim(ctx, mk, 0, c.keep-1)
				p.Expire(ctx, mk, ttl)
			}
		}
		p.Expire(ctx, c.classesKey(), ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("flush report counters: %w", err)
	}
	return nil
}

// Read sums the counters of the minutes from first to last (inclusive) for every class seen in them.
func (c *ReportCounters) Read(ctx context.Context, first, last int64) (map[string]queue.ReportCounts, error) {
	classes, err := c.client.ZRangeByScore(ctx, c.classesKey(), &goredis.ZRangeBy{
		Min: strconv.FormatInt(first, 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("read report classes: %w", err)
	}
	if len(classes) == 0 {
		return map[string]queue.ReportCounts{}, nil
	}
	hashes := make(map[string][]*goredis.MapStringStringCmd, len(classes))
	lists := make(map[string]*goredis.StringSliceCmd, len(classes))
	_, err = c.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, class := range classes {
			for m := first; m <= last; m++ {
				hashes[class] = append(hashes[class], p.HGetAll(ctx, c.minuteKey(m, class)))
			}
			lists[class] = p.LRange(ctx, c.mismatchKey(class), 0, c.keep-1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read report counters: %w", err)
	}
	out := make(map[string]queue.ReportCounts, len(classes))
	for _, class := range classes {
		cc := queue.ReportCounts{Counts: map[string]int64{}}
		for _, h := range hashes[class] {
			for f, v := range h.Val() {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					continue // not a counter of ours
				}
				cc.Counts[f] += n
			}
		}
		for _, m := range lists[class].Val() {
			cc.Mismatches = append(cc.Mismatches, []byte(m))
		}
		out[class] = cc
	}
	return out, nil
}
