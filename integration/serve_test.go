package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// One `bridge serve` of three groups — think-queue 1.x on Redis whose jobs run in a PHP pool (the ThinkPHP 5.0
// stand-in app), Laravel 8 on Redis, and Laravel's jobs table on MariaDB — drains what PHP pushed onto each:
// tq_push.php writing think-queue's bytes, the real Laravel 8.83 dispatching to Redis and to the database. Every
// job runs once, /metrics counts exactly the jobs that ran (php for the pool's, go for the others), and
// `bridge status --json` lists the three groups and the pool's processes.
func TestServeThreeGroups(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 3*time.Minute)
	const n = 30

	tq := newBackend(t, "redis", dialectV1)
	qT := tq.Queue("notify")
	marks := filepath.Join(t.TempDir(), "marks.jsonl")
	data, err := json.Marshal(map[string]string{"mark": marks, "what": "ok"})
	require.NoError(t, err)
	out, err := tq.env.PHP(ctx, tqPushScript, append(tqPushArgs(tq, "jobs"), "v1", qT, `app\job\Act`, fmt.Sprint(n), string(data))...)
	require.NoError(t, err, "%s", out)
	require.Len(t, jsonLines[map[string]any](t, out), n)

	lv := newLaravelApp(t, laravelOptions{})
	qL := "mail"
	lvJobs := lv.Dispatch("--strings=30", "--queue="+qL, "--no-readback")

	db := newLaravelApp(t, laravelOptions{Jobs: "mysql"})
	qD := "reports"
	dbJobs := db.Dispatch("--connection=database", "--no-readback", "--strings=30", "--queue="+qD)
	require.Len(t, lvJobs, n)
	require.Len(t, dbJobs, n)

	app, err := filepath.Abs(filepath.Join("..", "executor", "php", "testdata", "thinkphp", "tp50"))
	require.NoError(t, err)
	fc, err := bridge.ParseConfigFile("bridge.yaml", []byte(fmt.Sprintf(`
connections:
  tq: {url: "%s", dialect: thinkqueue-v1, cache_prefix: "%s", failed_prefix: "%s"}
  lv: {url: "%s", dialect: laravel-8, prefix: "%s", cache_prefix: "%s", failed_prefix: "%s", expire: 90}
  db: {url: "%s", dialect: laravel-8, expire: 90}
groups:
  notify:
    connection: tq
    queues: %s
    sleep: 0.01
    php: {app: %s, framework: thinkphp50, workers: 2, startsecs: 0.2}
  mail: {connection: lv, queues: [%s], concurrency: 4, sleep: 0.01}
  reports: {connection: db, queues: [%s], concurrency: 4, sleep: 0.01}
`, tq.Connection, tq.CachePrefix, tq.FailedPrefix, lv.Connection, lv.Prefix, lv.CachePrefix, lv.FailedPrefix,
		db.Connection, qT, app, qL, qD)))
	require.NoError(t, err)

	var mu sync.Mutex
	ran := map[string]int{} // uuid → runs in Go
	b := bridge.New()
	b.HandleFunc(jobLegacy, func(_ context.Context, job *bridge.Job) error {
		mu.Lock()
		ran[job.UUID()]++
		mu.Unlock()
		return nil
	})
	srv := b.NewServer(fc, tq.Logger())
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	defer func() {
		stop()
		require.NoError(t, <-done)
	}()

	inPHP := func() map[string]int {
		raw, err := os.ReadFile(marks)
		if os.IsNotExist(err) {
			return nil
		}
		require.NoError(t, err)
		runs := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var m struct{ ID string }
			require.NoError(t, json.Unmarshal([]byte(line), &m), line)
			runs[m.ID]++
		}
		return runs
	}
	waitFor(t, "every group drained its queue", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ran) == 2*n && len(inPHP()) == n && tq.QueueEmpty(qT) && db.Count("jobs", "") == 0
	})
	for id, runs := range inPHP() {
		require.Equal(t, 1, runs, "think-queue job %s ran once in PHP", id)
	}
	mu.Lock()
	for _, j := range append(lvJobs, dbJobs...) {
		require.Equal(t, 1, ran[j.UUID], "Laravel job %s on %s ran once in Go", j.UUID, j.Queue)
	}
	mu.Unlock()

	// Acks and counters settle a moment after the handler returns.
	metric := func(queue, runtime string) string {
		return fmt.Sprintf(`bridge_jobs_total{job=%q,outcome="processed",queue=%q,runtime=%q}`, map[string]string{
			qT: `app\job\Act`, qL: jobLegacy, qD: jobLegacy}[queue], queue, runtime)
	}
	scrape := func() string {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Body.String()
	}
	waitFor(t, "/metrics counts every job that ran", func() bool {
		text := scrape()
		return strings.Contains(text, metric(qT, "php")+" 30\n") &&
			strings.Contains(text, metric(qL, "go")+" 30\n") &&
			strings.Contains(text, metric(qD, "go")+" 30\n")
	})

	// `bridge status --json`, as an operator runs it against the Redis the registry lives on.
	var status []bridge.BridgeInfo
	waitFor(t, "bridge status lists the three groups and the pool", func() bool {
		var stdout, stderr bytes.Buffer
		code := bridge.New().RunCommand(ctx, []string{"bridge", "status", "--json", "-c", tq.Connection,
			"--dialect", dialectV1, "--failed-prefix", tq.FailedPrefix}, &stdout, &stderr)
		require.Equal(t, 0, code, stderr.String())
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &status), stdout.String())
		for _, br := range status {
			if br.PID != os.Getpid() || len(br.Groups) != 3 {
				continue
			}
			for _, g := range br.Groups {
				if g.Name == "notify" && len(g.PHP) == 2 && g.PHP[0].State == "RUNNING" && g.PHP[1].State == "RUNNING" {
					return true
				}
			}
		}
		return false
	})
	tq.RequireGone(tq.Keys(qT).all()...)
}
