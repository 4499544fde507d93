package integration

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// BenchmarkIdlePickup times push → handler start on an idle in-process bridge (the default --sleep 3s, one
// queue, concurrency 1), one job per iteration after the bridge had 20 ms to settle into its wait, and
// reports the p50 and p99 latency. Then it counts the commands the idle bridge sends for 3 s (MONITOR on a
// redis-server of the benchmark's own, commands run inside scripts left out) and reports them per second.
//
//	go test -C integration -run '^$' -bench '^BenchmarkIdlePickup$' -benchtime 200x .
func BenchmarkIdlePickup(b *testing.B) {
	for _, dialect := range []string{dialectV1, dialectV3, dialectLaravel} {
		b.Run(dialect, func(b *testing.B) {
			ctx := testCtx(b, 10*time.Minute)
			be := newBackend(b, "redis", dialect)
			srv := startRedisServer(b) // a server of its own: every command it receives is the bridges'
			be.onServer(srv)
			reportPickup(ctx, b, be)
			b.ReportMetric(idleCommandsPerSecond(b, srv.Addr(), 3*time.Second), "idle-cmds/s")
		})
	}
}

// reportPickup times push → handler start on an idle in-process bridge on be (one queue, concurrency 1), one
// job per iteration after the bridge had 20 ms to settle into its wait, and reports p50 and p99, and those of
// the push call alone (a producer's commit, on a database).
func reportPickup(ctx context.Context, b *testing.B, be *backend) {
	q := be.Queue("pickup")
	br := be.Open(bridge.WorkerConfig{Queues: []string{q}, QuietJobs: true})
	started := make(chan time.Time, 1)
	br.HandleFunc(`test\Noop`, func(context.Context, *bridge.Job) error {
		started <- time.Now()
		return nil
	})
	runBackground(b, br)
	pusher := be.Open(bridge.WorkerConfig{})

	lat := make([]time.Duration, 0, b.N)
	pushes := make([]time.Duration, 0, b.N) // the push call alone: the producer's share of lat
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		time.Sleep(20 * time.Millisecond)
		b.StartTimer()
		pushed := time.Now()
		_, err := pusher.Push(ctx, q, `test\Noop`, map[string]any{})
		require.NoError(b, err)
		pushes = append(pushes, time.Since(pushed))
		select {
		case at := <-started:
			lat = append(lat, at.Sub(pushed))
		case <-ctx.Done():
			b.Fatal("the job did not start")
		}
	}
	b.StopTimer()
	report := func(d []time.Duration, name string) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"p50-ms")
		b.ReportMetric(float64(d[(len(d)*99)/100].Microseconds())/1000, name+"p99-ms")
	}
	report(lat, "")
	report(pushes, "push-")
}

// idleCommandsPerSecond counts the commands clients send the backend's Redis during d, read from a MONITOR
// connection (commands run inside scripts left out).
func idleCommandsPerSecond(b *testing.B, addr string, d time.Duration) float64 {
	b.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(b, err)
	defer conn.Close()
	_, err = conn.Write([]byte("MONITOR\r\n"))
	require.NoError(b, err)
	require.NoError(b, conn.SetReadDeadline(time.Now().Add(d)))
	r := bufio.NewReader(conn)
	n := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return float64(n) / d.Seconds()
		}
		if strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+OK") && !strings.Contains(line, " lua]") {
			n++
		}
	}
}

// BenchmarkIdlePickupPostgres is BenchmarkIdlePickup on a PostgreSQL jobs table (think-queue 3.x's layout,
// the push's NOTIFY waking the bridge's LISTEN); the idle bridge's cost is the transactions its database
// commits during 20 s (pg_stat_database's xact_commit, read from another database), per second. An idle
// backend publishes its counts up to 10 s late, so the count starts 11 s after the last push.
//
//	go test -C integration -run '^$' -bench '^BenchmarkIdlePickupPostgres$' -benchtime 200x .
func BenchmarkIdlePickupPostgres(b *testing.B) {
	ctx := testCtx(b, 10*time.Minute)
	be := newBackend(b, "postgres", dialectV3)
	reportPickup(ctx, b, be)

	stats := openDB(b, "pgx", postgresURL())
	commits := func() int64 {
		var n int64
		require.NoError(b, stats.QueryRow("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", be.dbName()).Scan(&n))
		return n
	}
	const d = 20 * time.Second
	time.Sleep(11 * time.Second)
	before := commits()
	time.Sleep(d)
	b.ReportMetric(float64(commits()-before)/d.Seconds(), "idle-xacts/s")
}
