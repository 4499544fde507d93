package integration

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// benchConcurrency is the in-process bridge's larger Worker.Concurrency in BenchmarkRedisDrain (the other is
// 8): the fastest of 16, 64 and 128 on the reference machine. QB_BENCH_CONCURRENCY runs only the one given.
const benchConcurrency = 128

// BenchmarkRedisDrain times an in-process bridge draining b.N ready jobs (about 150 bytes of data each) with a
// no-op handler, per dialect at concurrency 8 and 128, and reports jobs/s and the bridge's CPU per job. The
// jobs are pushed before the timer starts. QB_BENCH_ROUTE=go routes the class to Go, so every job goes
// through the route table and the report's counters, to compare with and without them. QB_BENCH_CPUPROFILE=FILE
// writes a CPU profile of the drain alone (the push left out), for go tool pprof.
//
//	go test -C integration -run '^$' -bench '^BenchmarkRedisDrain$' -benchtime 200000x .
func BenchmarkRedisDrain(b *testing.B) {
	concurrencies := []int{8, benchConcurrency}
	if s := os.Getenv("QB_BENCH_CONCURRENCY"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err, "QB_BENCH_CONCURRENCY")
		concurrencies = []int{n}
	}
	for _, dialect := range thinkQueueDialects {
		for _, concurrency := range concurrencies {
			b.Run(fmt.Sprintf("%s/c%d", dialect, concurrency), func(b *testing.B) {
				ctx := testCtx(b, 10*time.Minute)
				be := newBackend(b, "redis", dialect)
				q := be.Queue("drain")
				pushBench(b, be, q, b.N, `test\Noop`, map[string]any{"pad": strings.Repeat("x", 128)})

				br := be.Open(bridge.WorkerConfig{
					Queues:        []string{q},
					Concurrency:   concurrency,
					StopWhenEmpty: true,
					Sleep:         time.Millisecond,
					QuietJobs:     true, // a line per job is the cost of a log, not of the bridge
				})
				if s := os.Getenv("QB_BENCH_ROUTE"); s != "" {
					r, err := bridge.ParseRoute(s)
					require.NoError(b, err, "QB_BENCH_ROUTE")
					br.Route(`test\Noop`, r)
				}
				var ran atomic.Int64
				br.HandleFunc(`test\Noop`, func(context.Context, *bridge.Job) error {
					ran.Add(1)
					return nil
				})

				runtime.GC() // the push's garbage is the setup's, not the drain's
				cpu0, redis0 := processCPU(b), redisServerCPU(b, be.Redis)
				b.ResetTimer()
				stopProfile := profileDrain(b)
				err := br.Run(ctx)
				stopProfile()
				b.StopTimer()
				cpu, redisCPU := processCPU(b)-cpu0, redisServerCPU(b, be.Redis)-redis0
				require.NoError(b, err)
				require.EqualValues(b, b.N, ran.Load())
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
				// CPU seconds the bridge (this process) used per second of draining: well below the machine's
				// cores means the drain waits on Redis round trips rather than on Go.
				b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "go-cores")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "go-µs/job")
				b.ReportMetric(redisCPU*1e6/float64(b.N), "redis-µs/job")
				be.RequireGone(append(be.Keys(q).all(), be.FailedKeys()...)...)
			})
		}
	}
}

// BenchmarkPHPStandIn measures fleet_worker.php, the think-queue stand-in, alone on b.N test\Record jobs, and
// reports its pace from its first pop to its last delete (PHP start-up and the idle wait at the end are
// left out). For the comparison with BenchmarkRedisDrain:
//
//	go test -C integration -run '^$' -bench '^BenchmarkPHPStandIn$' -benchtime 20000x .
func BenchmarkPHPStandIn(b *testing.B) {
	for _, dialect := range thinkQueueDialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := testCtx(b, 10*time.Minute)
			be := newBackend(b, "redis", dialect)
			q := be.Queue("standin")
			log := be.Key("log")
			pushBench(b, be, q, b.N, `test\Record`, map[string]any{"log": log})

			b.ResetTimer()
			r, err := runFleetWorker(ctx, be.env, fleetArgs(be, q), "0.3", "--no-ids")
			b.StopTimer()
			require.NoError(b, err)
			require.Equal(b, b.N, r.Processed)
			require.EqualValues(b, b.N, be.LLen(log))
			busy := 0.0
			if r.First != nil && r.Last != nil {
				busy = *r.Last - *r.First
			}
			if busy > 0 {
				b.ReportMetric(float64(r.Processed)/busy, "jobs/s")
			}
			be.RequireGone(append(be.Keys(q).all(), be.FailedKeys()...)...)
		})
	}
}

// profileDrain starts a CPU profile into $QB_BENCH_CPUPROFILE, when set, and returns what stops it: go test's
// -cpuprofile would also hold the push before the timer starts.
func profileDrain(b *testing.B) (stop func()) {
	b.Helper()
	path := os.Getenv("QB_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	require.NoError(b, err, "QB_BENCH_CPUPROFILE")
	require.NoError(b, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(b, f.Close())
	}
}

// processCPU is the user+system CPU time this process has used so far.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pushBench RPUSHes n jobs onto queue q as the dialect's Queue::push writes them, through a pipeline; data
// gets an "n" field with the job's number.
func pushBench(b *testing.B, be *backend, q string, n int, job string, data map[string]any) {
	b.Helper()
	ctx := context.Background()
	d, err := thinkqueue.ParseDialect(be.Dialect)
	require.NoError(b, err)
	list := be.Keys(q).List
	const chunk = 1000
	for start := 0; start < n; start += chunk {
		pipe := be.Redis.Pipeline()
		for i := start; i < min(start+chunk, n); i++ {
			data["n"] = i
			v, err := phpjson.FromGo(data)
			require.NoError(b, err)
			payload, err := d.NewPayload(job, v, thinkqueue.NewID())
			require.NoError(b, err)
			pipe.RPush(ctx, list, payload)
		}
		_, err := pipe.Exec(ctx)
		require.NoError(b, err, "pre-push")
	}
	require.EqualValues(b, n, be.LLen(list), fmt.Sprintf("%d jobs pre-pushed", n))
}
