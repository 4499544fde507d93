package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// BenchmarkReserveDelete measures the worker's hot path without handlers: reserve 64 jobs in one call, then
// acknowledge them with one ZREM, with compat/thinkqueue's real dialects. v1 holds the popped bytes; v3 also
// swaps in PHP's re-encode with attempts+1, which costs a phpjson round trip per job and one more script call
// per batch.
//
//	go test -run '^$' -bench . -benchtime 200000x ./storage/redis/
func BenchmarkReserveDelete(b *testing.B) {
	for _, name := range []string{"thinkqueue-v1", "thinkqueue-v3"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			d, err := thinkqueue.ParseDialect(name)
			if err != nil {
				b.Fatal(err)
			}
			tb := setup(b, d, nil)
			pad := strings.Repeat("x", 120)
			const chunk = 1000
			for start := 0; start < b.N; start += chunk {
				batch := make([]any, 0, chunk)
				for i := start; i < min(start+chunk, b.N); i++ {
					batch = append(batch, fmt.Sprintf(`{"job":"app\\job\\Bench","data":{"pad":%q,"n":%d},"id":"%032d","attempts":0}`, pad, i, i))
				}
				if err := tb.client.RPush(ctx, tb.list, batch...).Err(); err != nil {
					b.Fatal(err)
				}
			}

			b.ResetTimer()
			acks := make([][]byte, 0, 64)
			for done := 0; done < b.N; {
				got, err := tb.broker.Reserve(ctx, tb.queue, 64)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) == 0 {
					b.Fatalf("queue ran dry after %d of %d jobs", done, b.N)
				}
				acks = acks[:0]
				for _, r := range got {
					acks = append(acks, r.Member)
				}
				if _, err := tb.broker.Delete(ctx, tb.queue, acks...); err != nil {
					b.Fatal(err)
				}
				done += len(got)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}
