package integration

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// laravelBenchJobs is how many jobs BenchmarkLaravelDrain drains per iteration; QB_LARAVEL_BENCH_JOBS overrides it.
const laravelBenchJobs = 20000

// BenchmarkLaravelDrain drains the same 20,000 Laravel jobs (App\Jobs\Noop, dispatched by Laravel 8.83 with
// Queue::push) twice: with the in-process bridge (a no-op Go handler, concurrency 128) and with Laravel's own
// queue:work (bench.php: WorkCommand + Worker, --sleep=0 --tries=1 --stop-when-empty). Both get the very same
// bytes: the list Laravel filled is copied to a second queue before either starts. It reports both paces and
// their ratio.
//
// The bridge's time runs from Run to its return (its last acknowledgement and the empty reserve that stops it
// included); Laravel's from its first JobProcessing to its last job done (PHP start-up and the final empty
// pop left out), which favours Laravel. QB_BENCH_CPUPROFILE=FILE writes a CPU profile of the bridge's drain alone.
//
//	go test -C integration -run '^$' -bench '^BenchmarkLaravelDrain$' -benchtime 1x .
func BenchmarkLaravelDrain(b *testing.B) {
	jobs := laravelBenchJobs
	if s := os.Getenv("QB_LARAVEL_BENCH_JOBS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err, "QB_LARAVEL_BENCH_JOBS")
		jobs = n
	}
	ctx := context.Background()
	a := newLaravelApp(b, laravelOptions{})
	const goQ, phpQ = "bench-bridge", "bench-laravel"

	var bridgeSeconds, laravelSeconds, goCPU, redisCPU float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		out := a.PHP("dispatch.php", "--objects="+strconv.Itoa(jobs), "--class=Noop", "--via=queue",
			"--queue="+goQ, "--no-readback")
		require.Len(b, jsonLines[laravelJob](b, out), jobs)
		copyQueue(b, a, goQ, phpQ, jobs)

		var ran atomic.Int64
		br := a.Open(bridge.WorkerConfig{Queues: []string{goQ}, Concurrency: 128, StopWhenEmpty: true,
			Sleep: time.Millisecond, QuietJobs: true}) // no line per job: Laravel's console output is discarded too
		br.HandleFunc(`App\Jobs\Noop`, func(context.Context, *bridge.Job) error {
			ran.Add(1)
			return nil
		})
		cpu0, redis0 := processCPU(b), redisServerCPU(b, a.Redis)
		start := time.Now()
		b.StartTimer()
		stopProfile := profileDrain(b)
		err := br.Run(ctx)
		stopProfile()
		b.StopTimer()
		bridgeSeconds += time.Since(start).Seconds()
		goCPU += (processCPU(b) - cpu0).Seconds()
		redisCPU += redisServerCPU(b, a.Redis) - redis0
		require.NoError(b, err)
		require.EqualValues(b, jobs, ran.Load())
		a.RequireQueueEmpty(goQ)

		res := a.Bench(jobs, "--queue="+phpQ, "--no-push")
		require.Equal(b, jobs, res.Processed)
		require.Zero(b, res.Failed)
		require.Zero(b, res.Status)
		laravelSeconds += res.Seconds
		a.RequireQueueEmpty(phpQ)
		b.StartTimer()
	}
	b.StopTimer()

	total := float64(jobs * b.N)
	bridgeRate, laravelRate := total/bridgeSeconds, total/laravelSeconds
	b.ReportMetric(bridgeRate, "bridge-jobs/s")
	b.ReportMetric(laravelRate, "laravel-jobs/s")
	b.ReportMetric(bridgeRate/laravelRate, "x-laravel")
	// CPU seconds per second of the bridge's drain, of this process and of redis-server (its Lua scripts make
	// the cjson reserved copies): which one the drain waits on.
	b.ReportMetric(goCPU/bridgeSeconds, "go-cores")
	b.ReportMetric(redisCPU/bridgeSeconds, "redis-cores")
	b.Logf("%d Laravel jobs × %d: bridge (concurrency 128) %.0f jobs/s | Laravel queue:work %.0f jobs/s | %.1f×",
		jobs, b.N, bridgeRate, laravelRate, bridgeRate/laravelRate)
}

// redisServerCPU is redis-server's used CPU (user + system seconds) so far, from INFO cpu.
func redisServerCPU(tb testing.TB, rdb *goredis.Client) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	require.NoError(tb, err)
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(tb, err, line)
			total += f
		}
	}
	return total
}

// copyQueue appends the ready jobs of queue from to queue to, byte for byte, with one notify token each, as
// if they had been pushed there.
func copyQueue(tb testing.TB, a *laravelApp, from, to string, want int) {
	tb.Helper()
	ctx := context.Background()
	items := a.LRange(a.Keys(from).List)
	require.Len(tb, items, want)
	for start := 0; start < len(items); start += 1000 {
		chunk := items[start:min(start+1000, len(items))]
		args := make([]any, len(chunk))
		tokens := make([]any, len(chunk))
		for i, s := range chunk {
			args[i], tokens[i] = s, "1"
		}
		pipe := a.Redis.TxPipeline()
		pipe.RPush(ctx, a.Keys(to).List, args...)
		pipe.RPush(ctx, a.Keys(to).Notify, tokens...)
		_, err := pipe.Exec(ctx)
		require.NoError(tb, err)
	}
}
