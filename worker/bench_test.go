package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/storage/storagetest"
)

// BenchmarkWorkerNoop drains b.N think-queue jobs (about 150 bytes of data each, through the real
// compat/thinkqueue rules) with a no-op handler from a store that answers at once, and reports the worker's
// CPU time per job: the Go-side cost of a job, without the store's.
//
//	go test -run '^$' -bench '^BenchmarkWorkerNoop$' -benchtime 200000x ./worker/
func BenchmarkWorkerNoop(b *testing.B) {
	for _, dialect := range []string{"thinkqueue-v1", "thinkqueue-v3"} {
		for _, concurrency := range []int{8, 128} {
			b.Run(fmt.Sprintf("%s/c%d", dialect, concurrency), func(b *testing.B) {
				d, err := thinkqueue.ParseDialect(dialect)
				require.NoError(b, err)
				s := &storagetest.Instant{Jobs: make([][]byte, b.N)}
				pad := strings.Repeat("x", 128)
				for i := range s.Jobs {
					s.Jobs[i], err = d.NewPayload(`test\Noop`, map[string]any{"n": i, "pad": pad}, thinkqueue.NewID())
					require.NoError(b, err)
				}
				var ran atomic.Int64
				w, err := New(s, thinkqueue.NewRules(d), router{`test\Noop`: queue.HandlerFunc(func(context.Context, *queue.Job) error {
					ran.Add(1)
					return nil
				})}, nil, &Config{
					Queues: []string{"default"}, Concurrency: concurrency, StopWhenEmpty: true, QuietJobs: true,
					Memory: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), IDFunc: thinkqueue.NewID,
				})
				require.NoError(b, err)
				cpu0 := benchCPU(b)
				b.ResetTimer()
				require.NoError(b, w.Run(context.Background()))
				b.StopTimer()
				cpu := benchCPU(b) - cpu0
				require.EqualValues(b, b.N, ran.Load())
				require.EqualValues(b, b.N, s.Deleted.Load())
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "cpu-µs/job")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
			})
		}
	}
}

func benchCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
