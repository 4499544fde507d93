package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/executor/php"
)

// With the PHP executor configured, jobs that have no Go handler run in the app's own PHP code — the real
// Laravel 8.83 app — while the bridge reserves and acknowledges them: each runs once, in PHP, and the queue
// ends empty. Jobs with a Go handler still run in Go.
func TestPHPExecutorRunsUnportedJobs(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	const q = "php-exec"
	log := a.Key("log")
	dispatched := a.Dispatch("--objects=20", "--strings=10", "--queue="+q, "--log="+log)
	require.Len(t, dispatched, 30)

	harness, err := filepath.Abs(filepath.Join("testdata", "laravel"))
	require.NoError(t, err)
	boot := filepath.Join(t.TempDir(), "boot.php")
	require.NoError(t, os.WriteFile(boot, []byte("<?php\nrequire '"+filepath.Join(harness, "bootstrap.php")+"';\nreturn qb_app();\n"), 0o644))
	ctx := testCtx(t, 2*time.Minute)
	ex, err := php.New(ctx, php.Options{
		App: harness, Boot: boot, Workers: 2, Env: a.Vars(),
		Logger: a.Logger(),
	})
	require.NoError(t, err)
	defer ex.Close()

	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond, Concurrency: 2, PHP: ex})
	b.Handle(jobLegacy, legacyHandler{rec: rec}) // ported: runs in Go
	require.NoError(t, runBackground(t, b).wait(t))

	inPHP := map[string]int{}
	for _, r := range a.RecordsIn(log) {
		require.Equal(t, "ok", r.Outcome, "%+v", r)
		require.Equal(t, "App\\Jobs\\Record", r.Class, "only the unported class runs in PHP")
		inPHP[r.UUID]++
	}
	inGo := map[string]int{}
	for _, r := range rec.Records() {
		inGo[r.UUID]++
	}
	for _, j := range dispatched {
		require.Equal(t, 1, inPHP[j.UUID]+inGo[j.UUID], "job %s ran once", j.UUID)
	}
	require.Len(t, inPHP, 20)
	require.Len(t, inGo, 10)
	a.RequireQueueEmpty(q)
}

// think-queue 1.x through the PHP executor (ThinkPHP 5.0 runner, on the stand-in app of executor/php's
// tests): a job that always throws runs at attempts 1 and 2 in PHP; on the pop past --tries 2 the bridge fails
// it without running, and the app's own failure hooks run in PHP — the job's failed($data), then the
// queue_failed listeners with a deleted think\queue\Job — as think-queue's worker does.
func TestPHPExecutorThinkPHPFailureHooks(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, time.Minute)
	be := newBackend(t, "redis", dialectV1)
	q := be.Queue("phpexec")
	k := be.Keys(q)
	app, err := filepath.Abs(filepath.Join("..", "executor", "php", "testdata", "thinkphp", "tp50"))
	require.NoError(t, err)
	marks := filepath.Join(t.TempDir(), "marks.jsonl")

	ex, err := php.New(ctx, php.Options{App: app, Framework: php.FrameworkThinkPHP50, Workers: 1, Logger: be.Logger()})
	require.NoError(t, err)
	defer ex.Close()
	b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Tries: 2, StopWhenEmpty: true, Sleep: 10 * time.Millisecond, PHP: ex})
	_, err = b.Push(ctx, q, `app\job\Act`, map[string]string{"mark": marks, "what": "throw"})
	require.NoError(t, err)
	require.NoError(t, b.Run(ctx))

	raw, err := os.ReadFile(marks)
	require.NoError(t, err)
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m struct {
			Event    string `json:"event"`
			Attempts int    `json:"attempts"`
			Deleted  bool   `json:"deleted"`
			Parent   string `json:"parent"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		switch m.Event {
		case "start":
			events = append(events, fmt.Sprintf("start@%d", m.Attempts))
		case "queue_failed":
			require.True(t, m.Deleted, "the hook gets the job already deleted")
			require.Equal(t, `think\queue\Job`, m.Parent)
			events = append(events, m.Event)
		default:
			events = append(events, m.Event)
		}
	}
	require.Equal(t, []string{"start@1", "start@2", "failed", "queue_failed"}, events)
	code, out, errOut := be.CLI(ctx, "failed", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `app\job\Act`, "the failed store holds the job")
	be.RequireGone(k.Delayed, k.Reserved)
}
