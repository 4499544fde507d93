package bridge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuebridge/bridge"
)

// BenchmarkServeScrape drains b.N no-op think-queue 1.x jobs through `serve`'s machinery (one group,
// concurrency 64), with and without /metrics scraped every second, and reports jobs/s:
//
//	go test -run '^$' -bench '^BenchmarkServeScrape$' -benchtime 50000x -count 3 .
func BenchmarkServeScrape(b *testing.B) {
	for _, scrape := range []bool{false, true} {
		b.Run(fmt.Sprintf("scrape=%v", scrape), func(b *testing.B) {
			prefix := fmt.Sprintf("qbscrape%d", rand.Int64())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := bridge.Open(ctx, &bridge.Config{Connection: exampleRedis(), Dialect: "thinkqueue-v1", Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			for range b.N {
				if _, err := p.Push(ctx, prefix, `app\job\Noop`, nil); err != nil {
					b.Fatal(err)
				}
			}
			fc, err := bridge.ParseConfigFile("bridge.yaml", []byte(fmt.Sprintf(`
connections:
  tq: {url: "%s", dialect: thinkqueue-v1, failed_prefix: %s}
groups:
  drain: {queues: %s, concurrency: 64, sleep: 0.01}
`, exampleRedis(), prefix, prefix)))
			if err != nil {
				b.Fatal(err)
			}
			var ran atomic.Int64
			done := make(chan struct{})
			br := bridge.New()
			br.HandleFunc(`app\job\Noop`, func(context.Context, *bridge.Job) error {
				if ran.Add(1) == int64(b.N) {
					close(done)
				}
				return nil
			})
			srv := br.NewServer(fc, quiet)
			h := srv.Handler()
			b.ResetTimer()
			start := time.Now()
			stopped := make(chan struct{})
			go func() { srv.Run(ctx); close(stopped) }()
			defer func() { cancel(); <-stopped }()
			if scrape {
				go func() {
					t := time.NewTicker(time.Second)
					defer t.Stop()
					for {
						select {
						case <-done:
							return
						case <-t.C:
							if r := get(nil, h, "/metrics"); !strings.Contains(r.body, "bridge_jobs_total") {
								panic("no metrics")
							}
						}
					}
				}()
			}
			<-done
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
