package php

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A pool process killed with SIGKILL in the middle of a job: the job gets a *CrashError (an attempt, for the
// worker's retry policy), and the process is restarted at once, before any next job, and counts as RUNNING
// after StartUptime.
func TestPoolRestartsAKilledProcess(t *testing.T) {
	o, _ := testOptions(t, ModePool)
	o.StartUptime = 200 * time.Millisecond
	pl, err := NewPool(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pl.Close() })
	require.Eventually(t, func() bool { return pl.Processes()[0].State == ProcRunning }, 10*time.Second, 10*time.Millisecond)
	first := pl.Processes()[0]
	require.NotZero(t, first.PID)

	f := filepath.Join(t.TempDir(), "kill")
	job := actJob(t, f, "sleep", 30, nil, 1)
	done := make(chan error, 1)
	go func() { done <- run(t, pl, job, time.Minute) }()
	require.Eventually(t, func() bool { return len(readMarks(t, f)) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, 1, pl.Processes()[0].Jobs)
	require.NoError(t, syscall.Kill(first.PID, syscall.SIGKILL))
	var crash *CrashError
	require.ErrorAs(t, <-done, &crash)
	require.Equal(t, first.PID, crash.PID)

	require.Eventually(t, func() bool {
		st := pl.Processes()[0]
		return st.State == ProcRunning && st.PID != first.PID && st.PID != 0
	}, 10*time.Second, 10*time.Millisecond, "restarted without waiting for a job: %+v", pl.Processes())
	st := pl.Processes()[0]
	require.Zero(t, st.Jobs)
	require.Contains(t, st.LastError, "signal: killed")
	require.NoError(t, syscallKill0(st.PID), "the new process is alive")
	require.NoError(t, run(t, pl, actJob(t, f, "noop", 0, nil, 1), 30*time.Second))
	require.Equal(t, st.PID, readMarks(t, f)[1].PID, "the restarted process ran the next job")
}

// An app that cannot boot: 1 + StartRetries tries, 1 s then 2 s apart (BACKOFF), then FATAL with the last
// error, which NewPool returns (wrapping ErrFatal).
func TestPoolFatalAfterStartRetries(t *testing.T) {
	o, _ := testOptions(t, ModePool)
	dir := t.TempDir()
	tries := filepath.Join(dir, "tries")
	o.Boot = filepath.Join(dir, "boot.php")
	require.NoError(t, os.WriteFile(o.Boot, []byte(`<?php
file_put_contents(`+phpString(tries)+`, "x", FILE_APPEND);
throw new RuntimeException("the app cannot boot");
`), 0o600))
	o.StartRetries = 2
	start := time.Now()
	_, err := NewPool(context.Background(), o)
	took := time.Since(start)
	require.ErrorIs(t, err, ErrFatal)
	require.ErrorContains(t, err, "3 start failures in a row")
	require.ErrorContains(t, err, "the app cannot boot")
	b, rerr := os.ReadFile(tries)
	require.NoError(t, rerr)
	require.Equal(t, "xxx", string(b), "1 + startretries tries")
	require.GreaterOrEqual(t, took, 3*time.Second, "backoff 1 s, then 2 s")
}

// A process that boots but ends within StartUptime is a start failure too; with StartRetries -1 the first one
// is FATAL, and every job after it fails with ErrFatal.
func TestPoolEndedWithinStartUptimeIsFatal(t *testing.T) {
	o, _ := testOptions(t, ModePool)
	o.StartUptime = time.Minute
	o.StartRetries = -1
	pl, err := NewPool(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pl.Close() })
	st := pl.Processes()[0]
	require.Equal(t, ProcStarting, st.State)
	require.NoError(t, syscall.Kill(st.PID, syscall.SIGKILL))
	select {
	case <-pl.Fatal():
	case <-time.After(10 * time.Second):
		t.Fatalf("not FATAL: %+v", pl.Processes())
	}
	st = pl.Processes()[0]
	require.Equal(t, ProcFatal, st.State)
	require.Contains(t, st.LastError, "ended while idle")
	err = run(t, pl, actJob(t, "", "noop", 0, nil, 1), 10*time.Second)
	require.ErrorIs(t, err, ErrFatal)
}

func phpString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
