package integration

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ex, err := php.New(ctx, php.Options{
		App: harness, Boot: boot, Workers: 2, Env: a.Vars(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	defer ex.Close()

	goLog := &lvLog{a: a}
	b := lvOpen(t, a, bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond, Concurrency: 2, PHP: ex})
	b.Handle(`App\Jobs\Legacy@handle`, lvLegacyHandler{log: goLog}) // ported: runs in Go
	require.NoError(t, lvStart(t, b).wait(t))

	inPHP := map[string]int{}
	for _, r := range a.RecordsIn(log) {
		require.Equal(t, "ok", r.Outcome, "%+v", r)
		require.Equal(t, "App\\Jobs\\Record", r.Class, "only the unported class runs in PHP")
		inPHP[r.UUID]++
	}
	inGo := map[string]int{}
	for _, r := range goLog.Records() {
		inGo[r.UUID]++
	}
	for _, j := range dispatched {
		require.Equal(t, 1, inPHP[j.UUID]+inGo[j.UUID], "job %s ran once", j.UUID)
	}
	require.Len(t, inPHP, 20)
	require.Len(t, inGo, 10)
	a.RequireQueueEmpty(q)
}
