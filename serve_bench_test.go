package bridge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/queuebridge/bridge"
)

// BenchmarkMetricsScrape times /metrics after a server ran jobs of 20 classes on 10 queues (every series a
// scrape of a busy bridge carries: counters, histograms, queue sizes, Go and process collectors) and reports
// the CPU one scrape costs and what scraping once a second takes of one core. A drain is bound by the CPU it
// gets, so that share is what scraping costs the drain's throughput at most:
//
//	go test -run '^$' -bench '^BenchmarkMetricsScrape$' -benchtime 200x -count 5 .
func BenchmarkMetricsScrape(b *testing.B) {
	const queues, classes = 10, 20
	prefix := fmt.Sprintf("qbscrapecost%d", rand.Int64())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := bridge.Open(ctx, &bridge.Config{Connection: exampleRedis(), Dialect: "thinkqueue-v1", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var names []string
	for q := range queues {
		names = append(names, fmt.Sprintf("%s-%d", prefix, q))
		for c := range classes {
			if _, err := p.Push(ctx, names[q], fmt.Sprintf(`app\job\Class%d`, c), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	fc, err := bridge.ParseConfigFile("bridge.yaml", []byte(fmt.Sprintf(`
connections:
  tq: {url: "%s", dialect: thinkqueue-v1, failed_prefix: %s}
groups:
  drain: {queues: [%s], concurrency: 8, sleep: 0.01}
`, exampleRedis(), prefix, strings.Join(names, ", "))))
	if err != nil {
		b.Fatal(err)
	}
	var ran atomic.Int64
	br := bridge.New()
	br.HandleFallback(bridge.HandlerFunc(func(context.Context, *bridge.Job) error { ran.Add(1); return nil }))
	srv := br.NewServer(fc, quiet)
	stopped := make(chan struct{})
	go func() { srv.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for ran.Load() < queues*classes {
		time.Sleep(10 * time.Millisecond)
	}
	h := srv.Handler()
	time.Sleep(200 * time.Millisecond) // the counters of the last jobs, and a sampling of the queue sizes
	if r := get(nil, h, "/metrics"); strings.Count(r.body, "bridge_jobs_total{") < queues*classes {
		b.Fatalf("want a series per queue and class:\n%s", r.body)
	}
	cpu0 := processCPU()
	b.ResetTimer()
	for range b.N {
		get(nil, h, "/metrics")
	}
	b.StopTimer()
	perScrape := (processCPU() - cpu0) / time.Duration(b.N)
	b.ReportMetric(float64(perScrape.Microseconds()), "cpu-µs/scrape")
	b.ReportMetric(100*perScrape.Seconds(), "%core-at-1Hz")
}

// processCPU is the user+system CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
