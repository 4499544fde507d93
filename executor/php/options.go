// Package php runs queue jobs in the app's own PHP code: the bridge starts `php <runner> --app DIR` itself,
// sends it jobs on a pipe of their own (fd 3, replies on fd 4; 4-byte big-endian length + JSON, the payload
// after a request's JSON head as raw bytes) and carries out what the job decided (delete, release, fail) on the
// queue. Runners: Laravel 8+ (runner/laravel.php), and
// ThinkPHP 5.0 + think-queue 1.x, 5.1 + 2.x, 6/8 + 3.x (runner/thinkphp*.php; Options.Framework), whose
// failure hooks the bridge runs with FailJob.
//
// Pool keeps N long-lived PHP processes, recycled after MaxJobs jobs, past Memory or after TTL (each one's
// replacement boots while it runs its last jobs, so recycling does not stall the pool); PerJob starts
// a fresh process for every job, like queue:listen. Both are queue.Handler.
package php

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/queuebridge/bridge/queue"
)

//go:embed runner/frames.php
var framesRunner []byte

//go:embed runner/laravel.php
var laravelRunner []byte

//go:embed runner/thinkphp_common.php
var thinkCommon []byte

//go:embed runner/thinkphp5_job.php
var think5Job []byte

//go:embed runner/thinkphp50.php
var think50Runner []byte

//go:embed runner/thinkphp51.php
var think51Runner []byte

//go:embed runner/thinkphp6.php
var think6Runner []byte

// Framework is the PHP framework (and queue library line) the app runs on; it picks the runner.
type Framework string

const (
	// FrameworkLaravel is Laravel 8+ (runner/laravel.php), the default.
	FrameworkLaravel Framework = "laravel"
	// FrameworkThinkPHP50 is ThinkPHP 5.0 with think-queue 1.x (runner/thinkphp50.php).
	FrameworkThinkPHP50 Framework = "thinkphp50"
	// FrameworkThinkPHP51 is ThinkPHP 5.1 with think-queue 2.x (runner/thinkphp51.php).
	FrameworkThinkPHP51 Framework = "thinkphp51"
	// FrameworkThinkPHP6 is ThinkPHP 6 or 8 with think-queue 3.x (runner/thinkphp6.php).
	FrameworkThinkPHP6 Framework = "thinkphp6"
)

// ParseFramework reads "laravel" (or ""), "thinkphp50", "thinkphp51" or "thinkphp6" ("thinkphp8" is an alias).
func ParseFramework(s string) (Framework, error) {
	switch s {
	case "", "laravel":
		return FrameworkLaravel, nil
	case "thinkphp50", "thinkphp51", "thinkphp6":
		return Framework(s), nil
	case "thinkphp8":
		return FrameworkThinkPHP6, nil
	}
	return "", fmt.Errorf("php: framework %q: want laravel, thinkphp50, thinkphp51 or thinkphp6", s)
}

// Mode is how jobs get their PHP processes.
type Mode int

const (
	// ModePool keeps Workers long-lived processes (the default).
	ModePool Mode = iota
	// ModePerJob starts a fresh process for every job, like queue:listen.
	ModePerJob
)

// ParseMode reads "pool" or "per-job".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "pool":
		return ModePool, nil
	case "per-job":
		return ModePerJob, nil
	}
	return 0, fmt.Errorf("php: mode %q: want pool or per-job", s)
}

// Options configures an executor.
type Options struct {
	// App is the app's directory; the runner chdirs there.
	App string
	// Framework picks the runner: FrameworkLaravel ("" too), FrameworkThinkPHP50, FrameworkThinkPHP51 or
	// FrameworkThinkPHP6 (6.x and 8.x).
	Framework Framework
	// Boot (Laravel only) is the file that returns the booted Illuminate application; "" means App/bootstrap/app.php (after
	// App/vendor/autoload.php), with the console kernel bootstrapped as `php artisan` does.
	Boot string
	// Binary is the PHP CLI; "" means "php".
	Binary string
	// Workers is the number of processes (Pool) or of jobs at once (PerJob); 0 means 1.
	Workers int
	// MaxJobs recycles a process after this many jobs; 0 means never.
	MaxJobs int
	// Memory recycles a process once memory_get_usage(true) passes this many bytes; 0 means never.
	Memory int64
	// TTL recycles a process this long after it started; 0 means never.
	TTL time.Duration
	// Mode is ModePool or ModePerJob (New only).
	Mode Mode
	// Logger gets what jobs print and the processes' lifecycle; nil means slog.Default().
	Logger *slog.Logger
	// Connection is the connection name jobs see (getConnectionName()); "" means "redis".
	Connection string
	// Tries (Laravel only) is the worker's --tries the runner uses, as Laravel's worker does, to fail a job (and run its
	// failed() hook) when it throws on its last attempt; 0 means the payload's maxTries/retryUntil only.
	Tries int
	// Env is added to the processes' environment (KEY=VALUE).
	Env []string
	// StartTimeout bounds a process's boot (until the runner says ready); 0 means 60 s.
	StartTimeout time.Duration
	// StartUptime (Pool) is supervisord's startsecs: how long a process must stay up after its spawn to count
	// as started; one that ends sooner is a start failure. 0 means 1 s; negative means started once ready.
	StartUptime time.Duration
	// StartRetries (Pool) is supervisord's startretries: the serial start failures after which a process
	// is FATAL (given up, reported by Processes). 0 means 3; negative means none (FATAL on the first).
	StartRetries int
}

func (o Options) withDefaults() Options {
	if o.Framework == "" {
		o.Framework = FrameworkLaravel
	}
	if o.Binary == "" {
		o.Binary = "php"
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Connection == "" {
		o.Connection = "redis"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	switch {
	case o.StartUptime == 0:
		o.StartUptime = time.Second
	case o.StartUptime < 0:
		o.StartUptime = 0
	}
	switch {
	case o.StartRetries == 0:
		o.StartRetries = 3
	case o.StartRetries < 0:
		o.StartRetries = 0
	}
	return o
}

// Executor is a queue.Handler that also owns processes: Pool or PerJob.
type Executor interface {
	queue.Handler
	Close() error
}

// New returns a Pool or a PerJob executor, as o.Mode says.
func New(ctx context.Context, o Options) (Executor, error) {
	if o.Mode == ModePerJob {
		return NewPerJob(o)
	}
	return NewPool(ctx, o)
}

// Exception is a PHP Throwable a job ended with.
type Exception struct {
	Class   string `json:"class"`
	Message string `json:"message"`
	Text    string `json:"text"` // (string)$e: what Laravel writes into failed_jobs.exception
}

func (e *Exception) Error() string {
	if e.Message == "" {
		return e.Class
	}
	return e.Class + ": " + e.Message
}

// PHPClass is the exception's class (see compat/laravel.ExceptionFromError).
func (e *Exception) PHPClass() string { return e.Class }

// PHPText is (string)$e as PHP rendered it.
func (e *Exception) PHPText() string { return e.Text }

// PHPMessage is $e->getMessage(), what a shadow run's error is compared with.
func (e *Exception) PHPMessage() string { return e.Message }

// ErrTimeout is wrapped (with context.DeadlineExceeded) by the error of a job whose process was killed
// because the job's context ran out.
var ErrTimeout = errors.New("php: job timed out, its process was killed")

// CrashError is returned for a job whose process ended while running it (exit(), a fatal error, a signal).
type CrashError struct {
	PID    int
	Status string // the process's wait status
	Tail   string // the last output of the process
}

func (e *CrashError) Error() string {
	msg := fmt.Sprintf("php: process %d ended while running the job (%s)", e.PID, e.Status)
	if e.Tail != "" {
		msg += ": " + e.Tail
	}
	return msg
}

// writeRunner writes the embedded runner of f (and the files it requires) into a fresh temporary directory
// and returns the path of the script to start.
func writeRunner(f Framework) (dir, path string, err error) {
	files := map[string][]byte{"frames.php": framesRunner}
	var main string
	switch f {
	case "", FrameworkLaravel:
		main = "laravel.php"
		files[main] = laravelRunner
	case FrameworkThinkPHP50, FrameworkThinkPHP51, FrameworkThinkPHP6:
		main = string(f) + ".php"
		files[main] = map[Framework][]byte{FrameworkThinkPHP50: think50Runner, FrameworkThinkPHP51: think51Runner,
			FrameworkThinkPHP6: think6Runner}[f]
		files["thinkphp_common.php"] = thinkCommon
		if f != FrameworkThinkPHP6 {
			files["thinkphp5_job.php"] = think5Job
		}
	default:
		return "", "", fmt.Errorf("php: unknown framework %q", f)
	}
	dir, err = os.MkdirTemp("", "queuebridge-php-")
	if err != nil {
		return "", "", fmt.Errorf("php: %w", err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			_ = os.RemoveAll(dir)
			return "", "", fmt.Errorf("php: %w", err)
		}
	}
	return dir, filepath.Join(dir, main), nil
}

// reasonOf is reason as the runner gets it in a failed request.
func reasonOf(reason error) *Exception {
	if reason == nil {
		return nil
	}
	var ex *Exception
	if errors.As(reason, &ex) {
		return ex
	}
	// A Go error that stands for a PHP exception (laravel.MaxAttemptsExceededError) keeps its class, so the
	// job's failed() gets the exception Laravel would give it.
	out := &Exception{Message: reason.Error()}
	var php interface{ PHPClass() string }
	if errors.As(reason, &php) {
		out.Class = php.PHPClass()
	}
	return out
}
