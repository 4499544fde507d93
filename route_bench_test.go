package bridge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/storage/storagetest"
)

// BenchmarkRouteCost drains b.N think-queue v3 jobs of a class with no-op Go handlers through the root's
// worker (a store answering from memory, the connection's Redis for routes and report counters), half of
// them as a class without a route and half as one routed 30% to Go (the rest to a no-op PHP executor
// stand-in), every run counted for the report and flushed to Redis; in quarters, plain, routed, routed,
// plain, each after a garbage collection, so neither side pays for the other's garbage. It reports the CPU
// time per job of both and the routed one's extra in percent.
//
//	go test -run '^$' -bench '^BenchmarkRouteCost$' -benchtime 200000x -count 5 .
func BenchmarkRouteCost(b *testing.B) {
	br, _ := routeBridge(b)
	d, err := thinkqueue.ParseDialect("thinkqueue-v3")
	require.NoError(b, err)
	noop := HandlerFunc(func(context.Context, *Job) error { return nil })
	pad := strings.Repeat("x", 128)
	plain := fmt.Sprintf(`bench\Plain%d`, rand.Int64())
	routed := fmt.Sprintf(`bench\Routed%d`, rand.Int64())
	n := max(b.N/4, 1)
	var mallocs [2]uint64 // plain, routed
	drain := func(class string) time.Duration {
		s := &storagetest.Instant{Jobs: make([][]byte, n)}
		for i := range s.Jobs {
			s.Jobs[i], err = d.NewPayload(class, map[string]any{"n": i, "pad": pad}, thinkqueue.NewID())
			require.NoError(b, err)
		}
		br.be.store = s
		w, err := br.NewWorker(WorkerConfig{Queues: []string{"bench"}, Concurrency: 8, StopWhenEmpty: true, QuietJobs: true,
			Memory: -1, PHP: noop})
		require.NoError(b, err)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cpu0 := processCPU(b)
		require.NoError(b, w.Run(context.Background()))
		cpu := processCPU(b) - cpu0
		runtime.ReadMemStats(&m1)
		side := 0
		if class == routed {
			side = 1
		}
		mallocs[side] += m1.Mallocs - m0.Mallocs
		require.EqualValues(b, n, s.Deleted.Load())
		return cpu
	}
	br.Handle(plain, noop)
	br.Handle(routed, noop)
	br.Route(routed, RoutePercent(30))
	b.ResetTimer()
	base := drain(plain)
	withRoute := drain(routed)
	withRoute += drain(routed)
	base += drain(plain)
	b.StopTimer()
	reps, err := br.Report(context.Background(), time.Hour)
	require.NoError(b, err)
	require.Len(b, reps, 1)
	require.EqualValues(b, 2*n, reps[0].Runs, "every routed run counted")
	perJob := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(2*n) / 1000 }
	b.ReportMetric(perJob(base), "plain-cpu-µs/job")
	b.ReportMetric(perJob(withRoute), "routed-cpu-µs/job")
	b.ReportMetric(100*(perJob(withRoute)/perJob(base)-1), "extra-%")
	b.ReportMetric(float64(mallocs[0])/float64(2*n), "plain-allocs/job")
	b.ReportMetric(float64(mallocs[1])/float64(2*n), "routed-allocs/job")
}

func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
