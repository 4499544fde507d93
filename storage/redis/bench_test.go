package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// BenchmarkReserveDelete measures the worker's hot path without handlers: reserve 64 jobs in one call, then
// acknowledge them with one ZREM. The think-queue cases use compat/thinkqueue's real dialects: v1 holds the
// popped bytes; v3 also swaps in PHP's re-encode with attempts+1, which costs a phpjson round trip per job and
// one more script call per batch. The laravel case has Redis's cjson make each reserved copy inside the one
// reserve script, as Laravel's pop does.
//
//	go test -run '^$' -bench '^BenchmarkReserveDelete$' -benchtime 200000x ./storage/redis/
func BenchmarkReserveDelete(b *testing.B) {
	pad := strings.Repeat("x", 120)
	cases := []struct {
		name    string
		setup   func(b *testing.B) *testBundle
		payload func(i int) string
	}{
		{"thinkqueue-v1", thinkqueueBench("thinkqueue-v1"), thinkqueueBenchPayload(pad)},
		{"thinkqueue-v3", thinkqueueBench("thinkqueue-v3"), thinkqueueBenchPayload(pad)},
		{"laravel", func(b *testing.B) *testBundle { return setupLaravel(b, nil) }, func(i int) string {
			return fmt.Sprintf(`{"uuid":"00000000-0000-4000-8000-%012d","displayName":"App\\Jobs\\Bench","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\Bench","command":"O:14:\"App\\Jobs\\Bench\":1:{s:3:\"pad\";s:120:\"%s\";}"},"id":"%032d","attempts":0}`, i, pad, i)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			tb := c.setup(b)
			const chunk = 1000
			for start := 0; start < b.N; start += chunk {
				batch := make([]any, 0, chunk)
				for i := start; i < min(start+chunk, b.N); i++ {
					batch = append(batch, c.payload(i))
				}
				if err := tb.client.RPush(ctx, tb.list, batch...).Err(); err != nil {
					b.Fatal(err)
				}
				if tb.notify != "" {
					if err := tb.client.RPush(ctx, tb.notify, anyOnes(len(batch))...).Err(); err != nil {
						b.Fatal(err)
					}
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

func thinkqueueBench(name string) func(b *testing.B) *testBundle {
	return func(b *testing.B) *testBundle {
		d, err := thinkqueue.ParseDialect(name)
		if err != nil {
			b.Fatal(err)
		}
		return setup(b, d, nil)
	}
}

func thinkqueueBenchPayload(pad string) func(i int) string {
	return func(i int) string {
		return fmt.Sprintf(`{"job":"app\\job\\Bench","data":{"pad":%q,"n":%d},"id":"%032d","attempts":0}`, pad, i, i)
	}
}

func anyOnes(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = 1
	}
	return out
}
