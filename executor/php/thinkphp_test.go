package php

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/queuebridge/bridge/queue"
	"github.com/stretchr/testify/require"
)

// The ThinkPHP runners run on the stand-in apps of testdata/thinkphp (not ThinkPHP: small classes of the same
// shape, see its README); they need only php.

type tpLine struct {
	fw        Framework
	app       string
	v3        bool
	bare      string // a bare job name that resolves to app\job\Act
	hookEvent string
}

var tpLines = []tpLine{
	{FrameworkThinkPHP50, "tp50", false, "Act", "queue_failed"},
	{FrameworkThinkPHP51, "tp51", false, "Act", "queue_failed"},
	{FrameworkThinkPHP6, "tp6", true, "act", "JobFailed"},
}

type tpMark struct {
	Event      string `json:"event"`
	PID        int    `json:"pid"`
	Method     string `json:"method"`
	What       string `json:"what"`
	Attempts   int    `json:"attempts"`
	Queue      string `json:"queue"`
	ID         string `json:"id"`
	Job        string `json:"job"`
	Parent     string `json:"parent"`
	Ctor       bool   `json:"ctor"`
	Args       int    `json:"args"`
	Exception  string `json:"exception"`
	Deleted    bool   `json:"deleted"`
	HasFailed  bool   `json:"has_failed"`
	Connection string `json:"connection"`
	Name       string `json:"name"`
}

func readTPMarks(t testing.TB, file string) []tpMark {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []tpMark
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m tpMark
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func tpEvents(ms []tpMark) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Event)
	}
	return out
}

func tpOptions(t testing.TB, l tpLine, mode Mode) (Options, *logBuf) {
	t.Helper()
	if _, err := exec.LookPath("php"); err != nil {
		t.Skip("no php on PATH")
	}
	app, err := filepath.Abs(filepath.Join("testdata/thinkphp", l.app))
	require.NoError(t, err)
	lb := &logBuf{}
	return Options{App: app, Framework: l.fw, Mode: mode,
		Logger: slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))}, lb
}

// tpJob is a Redis-queue job as the line's think-queue pushes it.
func tpJob(t testing.TB, l tpLine, name, mark, what string, attempts int) *queue.Job {
	t.Helper()
	id := "id" + strings.ReplaceAll(filepath.Base(mark), ".", "") + what
	p := map[string]any{"job": name, "data": map[string]any{"mark": mark, "what": what}, "id": id, "attempts": 1}
	if l.v3 {
		p = map[string]any{"job": name, "maxTries": nil, "timeout": nil,
			"data": map[string]any{"mark": mark, "what": what}, "id": id, "attempts": 0}
	}
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	return queue.NewJob(queue.JobParams{Reservation: queue.Reservation{Queue: "default", Raw: raw},
		Name: name, ID: id, Attempts: attempts})
}

func tpLinesAndModes(t *testing.T, f func(t *testing.T, l tpLine, mode Mode)) {
	for _, l := range tpLines {
		t.Run(string(l.fw), func(t *testing.T) {
			t.Parallel()
			modes(t, func(t *testing.T, mode Mode) { f(t, l, mode) })
		})
	}
}

func TestParseFramework(t *testing.T) {
	for in, want := range map[string]Framework{"": FrameworkLaravel, "laravel": FrameworkLaravel,
		"thinkphp50": FrameworkThinkPHP50, "thinkphp51": FrameworkThinkPHP51, "thinkphp6": FrameworkThinkPHP6,
		"thinkphp8": FrameworkThinkPHP6} {
		got, err := ParseFramework(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := ParseFramework("symfony")
	require.Error(t, err)
	_, err = NewPerJob(Options{Framework: "symfony"})
	require.ErrorContains(t, err, "unknown framework")
}

func TestThinkPHPOutcomes(t *testing.T) {
	tpLinesAndModes(t, func(t *testing.T, l tpLine, mode Mode) {
		o, lb := tpOptions(t, l, mode)
		e := newExec(t, o)
		dir := t.TempDir()
		runOK := func(job *queue.Job) {
			t.Helper()
			require.NoError(t, run(t, e, job, 30*time.Second))
		}

		t.Run("delete", func(t *testing.T) {
			f := filepath.Join(dir, "ok")
			job := tpJob(t, l, l.bare, f, "ok", 3)
			runOK(job)
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeDeleted, out)
			ms := readTPMarks(t, f)
			require.Equal(t, []string{"start"}, tpEvents(ms))
			require.Equal(t, "fire", ms[0].Method)
			require.Equal(t, 3, ms[0].Attempts)
			require.Equal(t, "default", ms[0].Queue)
			require.Equal(t, job.ID(), ms[0].ID)
			require.Equal(t, `QueueBridge\Runner\BridgeJob`, ms[0].Job)
			require.Equal(t, `think\queue\Job`, ms[0].Parent)
			require.Equal(t, l.v3, ms[0].Ctor, "3.x gives the constructor $data")
		})
		t.Run("Class@method", func(t *testing.T) {
			f := filepath.Join(dir, "alt")
			job := tpJob(t, l, `app\job\Act@alt`, f, "ok", 1)
			runOK(job)
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeDeleted, out)
			require.Equal(t, "alt", readTPMarks(t, f)[0].Method)
		})
		t.Run("release(2)", func(t *testing.T) {
			f := filepath.Join(dir, "release")
			job := tpJob(t, l, l.bare, f, "release", 1)
			runOK(job)
			out, delay, _ := job.Outcome()
			require.Equal(t, queue.OutcomeReleased, out)
			require.Equal(t, 2*time.Second, delay)
		})
		t.Run("none", func(t *testing.T) {
			f := filepath.Join(dir, "none")
			job := tpJob(t, l, l.bare, f, "none", 1)
			runOK(job)
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeKept, out, "think-queue deletes nothing by itself: the job stays reserved")
		})
		t.Run("throw", func(t *testing.T) {
			f := filepath.Join(dir, "throw")
			job := tpJob(t, l, l.bare, f, "throw", 2)
			err := run(t, e, job, 30*time.Second)
			var ex *Exception
			require.ErrorAs(t, err, &ex)
			require.Equal(t, "RuntimeException", ex.Class)
			require.Equal(t, "Act throws on attempt 2", ex.Message)
			require.True(t, strings.HasPrefix(ex.Text, "RuntimeException: Act throws on attempt 2 in "), ex.Text)
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeNone, out, "the bridge's retry policy decides")
		})
		if !l.v3 {
			t.Run("module/Name and a missing class", func(t *testing.T) {
				f := filepath.Join(dir, "missing")
				job := tpJob(t, l, "nomodule/Act", f, "ok", 1)
				runOK(job) // app\nomodule\job\Act does not exist: a silent no-op, as think-queue 1.x/2.x
				out, _, _ := job.Outcome()
				require.Equal(t, queue.OutcomeKept, out, "never deleted: it runs again after expire, as in PHP")
				require.Empty(t, readTPMarks(t, f))
			})
		}
		t.Run("print is captured", func(t *testing.T) {
			f := filepath.Join(dir, "print")
			job := tpJob(t, l, l.bare, f, "print", 1)
			runOK(job)
			runOK(tpJob(t, l, l.bare, f, "ok", 1))
			want := map[string]bool{"echoed noise": false, "stdout noise": false, "stderr noise": false}
			require.Eventually(t, func() bool {
				for _, ll := range lb.Lines(t) {
					if _, ok := want[ll.Line]; ok && ll.Msg == "php job output" && ll.Job == job.ID() {
						want[ll.Line] = true
					}
				}
				for _, seen := range want {
					if !seen {
						return false
					}
				}
				return true
			}, 5*time.Second, 20*time.Millisecond, "log: %s", lb.String())
		})
		t.Run("exit replaces the process", func(t *testing.T) {
			f := filepath.Join(dir, "exit")
			runOK(tpJob(t, l, l.bare, f, "ok", 1))
			job := tpJob(t, l, l.bare, f, "exit", 1)
			err := run(t, e, job, 30*time.Second)
			var crash *CrashError
			require.ErrorAs(t, err, &crash)
			require.Contains(t, crash.Status, "exit status 3")
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeNone, out)
			runOK(tpJob(t, l, l.bare, f, "ok", 1))
			ms := readTPMarks(t, f)
			require.Equal(t, []string{"start", "start", "start"}, tpEvents(ms))
			require.Equal(t, crash.PID, ms[1].PID)
			require.NotEqual(t, ms[1].PID, ms[2].PID)
			if mode == ModePool {
				require.Equal(t, ms[0].PID, ms[1].PID)
			}
			require.Contains(t, lb.String(), "about to exit")
		})
	})
}

type failer interface {
	FailJob(ctx context.Context, job *queue.Job, reason error) error
}

func TestThinkPHPFailedHooks(t *testing.T) {
	tpLinesAndModes(t, func(t *testing.T, l tpLine, mode Mode) {
		o, _ := tpOptions(t, l, mode)
		e := newExec(t, o).(failer)
		f := filepath.Join(t.TempDir(), "failed")
		job := tpJob(t, l, l.bare, f, "ok", 4)
		reason := &Exception{Class: "RuntimeException", Message: "gave up after 3", Text: "RuntimeException: gave up after 3"}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, e.FailJob(ctx, job, reason))
		out, _, got := job.Outcome()
		require.Equal(t, queue.OutcomeFailed, out)
		require.Equal(t, reason, got)
		ms := readTPMarks(t, f)
		require.Equal(t, []string{"failed", l.hookEvent}, tpEvents(ms), "failed() then the hook; the job is not run")
		hook := ms[1]
		require.Equal(t, `QueueBridge\Runner\BridgeJob`, hook.Job)
		require.Equal(t, `think\queue\Job`, hook.Parent)
		require.True(t, hook.Deleted)
		if l.v3 {
			require.Equal(t, 2, ms[0].Args, "failed($data, $e)")
			require.Equal(t, `QueueBridge\Runner\RemoteException: gave up after 3`, ms[0].Exception)
			require.Equal(t, `QueueBridge\Runner\RemoteException: gave up after 3`, hook.Exception)
			require.True(t, hook.HasFailed)
			require.Equal(t, "redis", hook.Connection)
		} else {
			require.Equal(t, 1, ms[0].Args, "failed($data)")
			require.Equal(t, l.bare, hook.Name)
		}

		// No reason: 3.x's event gets RuntimeException('ManuallyFailed'), as Worker::failJob.
		if l.v3 {
			f2 := filepath.Join(t.TempDir(), "manual")
			job2 := tpJob(t, l, l.bare, f2, "ok", 1)
			require.NoError(t, e.FailJob(ctx, job2, nil))
			ms := readTPMarks(t, f2)
			require.Equal(t, "", ms[0].Exception)
			require.Equal(t, "RuntimeException: ManuallyFailed", ms[1].Exception)
		}
	})
}

// The bridge failing a Laravel job (e.g. past its timeout with failOnTimeout) runs its failed() in PHP,
// once; a job PHP failed itself does not run failed() a second time.
func TestLaravelFailedRequest(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode Mode) {
		o, _ := testOptions(t, mode)
		e := newExec(t, o)
		mark := filepath.Join(t.TempDir(), "marks.jsonl")
		job := actJob(t, mark, "ok", 0, nil, 1)
		e.(queue.FailedHandler).Failed(context.Background(), job, errors.New("timed out"))
		require.Equal(t, []string{"failed"}, events(readMarks(t, mark)))

		mark2 := filepath.Join(t.TempDir(), "marks.jsonl")
		job2 := actJob(t, mark2, "fail", 0, nil, 1)
		require.NoError(t, run(t, e, job2, time.Minute))
		e.(queue.FailedHandler).Failed(context.Background(), job2, errors.New("failed by PHP"))
		require.Equal(t, []string{"start", "failed"}, events(readMarks(t, mark2)), "failed() runs once")
	})
}

func TestThinkPHPBootFailure(t *testing.T) {
	o, _ := tpOptions(t, tpLines[0], ModePool)
	o.App = t.TempDir()
	o.StartTimeout = 20 * time.Second
	_, err := NewPool(context.Background(), o)
	require.ErrorContains(t, err, "did not boot")
	require.ErrorContains(t, err, "not a ThinkPHP 5.0 app")
}

// tp51Copy copies the 5.1 stand-in app (and the shared app code it loads) into a fresh directory, so a test can
// lay it out differently; it returns the app's directory.
func tp51Copy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "tp51"), os.DirFS("testdata/thinkphp/tp51")))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "shared"), os.DirFS("testdata/thinkphp/shared")))
	return filepath.Join(dir, "tp51")
}

// ThinkPHP 5.1 finds the app's root, and so Composer's packages (think-queue), from the running script; the
// runner runs from its own directory, wherever Composer put the framework.
func TestThinkPHP51Layouts(t *testing.T) {
	l := tpLines[1]
	t.Run("framework in vendor/topthink/framework", func(t *testing.T) {
		o, _ := tpOptions(t, l, ModePool)
		o.App = tp51Copy(t)
		require.NoError(t, os.MkdirAll(filepath.Join(o.App, "vendor/topthink"), 0o755))
		require.NoError(t, os.Rename(filepath.Join(o.App, "thinkphp"), filepath.Join(o.App, "vendor/topthink/framework")))
		e := newExec(t, o)
		f := filepath.Join(t.TempDir(), "ok")
		job := tpJob(t, l, l.bare, f, "ok", 1)
		require.NoError(t, run(t, e, job, 30*time.Second))
		out, _, _ := job.Outcome()
		require.Equal(t, queue.OutcomeDeleted, out)
		require.Equal(t, []string{"start"}, tpEvents(readTPMarks(t, f)))
	})
	t.Run("no think file", func(t *testing.T) {
		o, _ := tpOptions(t, l, ModePool)
		o.App = tp51Copy(t)
		require.NoError(t, os.Remove(filepath.Join(o.App, "think")))
		o.StartTimeout = 20 * time.Second
		_, err := NewPool(context.Background(), o)
		require.ErrorContains(t, err, "think not found (ThinkPHP 5.1 finds the app's root by it)")
	})
}
