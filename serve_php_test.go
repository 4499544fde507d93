package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

func needPHP(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("php"); err != nil {
		t.Skip("no php on PATH")
	}
	if _, err := os.Stat("/usr/share/php/Illuminate/autoload.php"); err != nil {
		t.Skip("no Laravel framework (php-laravel-framework)")
	}
}

// A group whose PHP app cannot boot reaches FATAL after startretries (supervisord's semantics), and says so
// in Status and /readyz with the last error; a group beside it with a healthy app reports its processes
// RUNNING, with their pids and jobs.
func TestServePHPFatal(t *testing.T) {
	needPHP(t)
	rdb := testRedis(t)
	prefix := fmt.Sprintf("qbfatal%d", rand.Int64())
	t.Cleanup(func() { deleteKeys(rdb, "*"+prefix+"*") })
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.php")
	require.NoError(t, os.WriteFile(broken, []byte("<?php\nthrow new RuntimeException('the app cannot boot');\n"), 0o600))
	good, err := filepath.Abs("executor/php/testdata/boot.php")
	require.NoError(t, err)
	fc, err := bridge.ParseConfigFile("bridge.yaml", []byte(fmt.Sprintf(`
connections:
  lv: {url: "%[1]s", dialect: laravel-8, prefix: %[2]s_, failed_prefix: %[2]s}
groups:
  broken:
    queues: %[2]s-broken
    php: {app: %[3]s, boot: %[4]s, startretries: 1, workers: 1}
  healthy:
    queues: %[2]s-healthy
    sleep: 0.01
    php: {app: %[3]s, boot: %[5]s, startsecs: 0.2, workers: 2}
`, exampleRedis(), prefix, dir, broken, good)))
	require.NoError(t, err)
	srv := bridge.New().NewServer(fc, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	byName := func() map[string]bridge.GroupStatus {
		out := map[string]bridge.GroupStatus{}
		for _, st := range srv.Status() {
			out[st.Name] = st
		}
		return out
	}
	require.Eventually(t, func() bool {
		sts := byName()
		return sts["broken"].State == bridge.GroupFatal && len(sts["healthy"].PHP) == 2 &&
			sts["healthy"].PHP[0].State == "RUNNING" && sts["healthy"].PHP[1].State == "RUNNING"
	}, 30*time.Second, 20*time.Millisecond, "%+v", srv.Status())
	sts := byName()
	require.Contains(t, sts["broken"].LastError, "FATAL")
	require.Contains(t, sts["broken"].LastError, "the app cannot boot")
	require.Zero(t, sts["broken"].Restarts, "FATAL is not retried")
	require.NotZero(t, sts["healthy"].PHP[0].PID)
	rec := get(t, srv.Handler(), "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, rec.code)
	require.Contains(t, rec.body, "group broken is FATAL")
	js, err := json.Marshal(sts["healthy"])
	require.NoError(t, err)
	require.Contains(t, string(js), `"php":[{"state":"RUNNING","pid":`)
	time.Sleep(1500 * time.Millisecond) // longer than the backoff: still FATAL, not tried again
	require.Equal(t, bridge.GroupFatal, byName()["broken"].State)
	cancel()
	require.NoError(t, <-done)
}
