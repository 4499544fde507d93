package cli

import (
	"cmp"
	"context"
	"errors"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/queuebridge/bridge/executor/php"
	"github.com/queuebridge/bridge/worker"
)

func workCommand() *command {
	return &command{
		name:  "work",
		usage: "run jobs from the queues (think-queue's queue:work, Laravel's queue:work)",
		flags: with(
			&flag{name: "queue", arg: "Q[,Q…]", def: "default", usage: "queues to drain, in priority order: a lower one is served only while those before it are empty"},
			&flag{name: "daemon", usage: "accepted for think-queue 1.x/2.x habits: the bridge always loops unless --once"},
			&flag{name: "once", usage: "run at most one job, then exit"},
			&flag{name: "stop-when-empty", usage: "exit once every queue is empty"},
			&flag{name: "delay", arg: "S", usage: "seconds a job that returned an error waits before it runs again, every attempt (default: 1 doubling to 60; --delay 0 reruns at once, as think-queue)"},
			&flag{name: "backoff", arg: "S[,S…]", usage: "Laravel's --backoff: seconds per attempt, the last repeating (10,30); replaces --delay; a payload's backoff wins"},
			&flag{name: "sleep", arg: "S", def: "3", usage: "seconds to wait when every queue is empty"},
			&flag{name: "tries", arg: "N", def: "0", usage: "fail a job after this many attempts (0: unlimited; a payload's maxTries wins)"},
			&flag{name: "memory", arg: "MB", def: "128", usage: "stop (exit 12) once the Go heap passes this many MB (0: no limit)"},
			&flag{name: "timeout", arg: "S", def: "60", usage: "seconds one job may run (its context is cancelled then; a payload's timeout wins); 0 disables"},
			&flag{name: "concurrency", short: "n", arg: "N", def: "1", usage: "jobs run at once"},
			&flag{name: "quiet", usage: "log each processed job at debug level instead of info (for high rates; --log-level warn drops every info line)"},
			&flag{name: "grace", arg: "S", def: "30", usage: "seconds running jobs get to finish on SIGTERM/SIGINT before they are handed back"},
			&flag{name: "php-app", arg: "DIR", usage: "run jobs with no Go handler in this app's own PHP code (the PHP executor; default: --app)"},
			&flag{name: "php-boot", arg: "FILE", usage: "Laravel: the app's boot file (default DIR/bootstrap/app.php)"},
			&flag{name: "php-framework", arg: "F", usage: "laravel, thinkphp50, thinkphp51 or thinkphp6 (default: told from the app directory; else laravel for laravel-*, thinkphp6 for thinkqueue-v3)"},
			&flag{name: "php-binary", arg: "PATH", def: "php", usage: "the PHP CLI"},
			&flag{name: "php-workers", arg: "N", def: "2", usage: "PHP processes"},
			&flag{name: "php-max-jobs", arg: "N", def: "1000", usage: "jobs a PHP process runs before it is replaced (0: no limit)"},
			&flag{name: "php-memory", arg: "MB", def: "128", usage: "MB a PHP process may use before it is replaced"},
			&flag{name: "php-mode", arg: "M", def: "pool", usage: "pool (long-lived processes) or per-job (a fresh process per job, like queue:listen)"},
		),
		run: runWork,
	}
}

func runWork(inv *invocation) error {
	wc, err := workerConfig(inv)
	if err != nil {
		return err
	}
	log, err := inv.log()
	if err != nil {
		return err
	}
	// SIGUSR2 pauses the worker (it finishes what runs and takes nothing new), SIGCONT resumes it, as with
	// Laravel's worker.
	var paused atomic.Bool
	pause := make(chan os.Signal, 1)
	signal.Notify(pause, syscall.SIGUSR2, syscall.SIGCONT)
	defer signal.Stop(pause)
	go func() {
		for sig := range pause {
			was := paused.Swap(sig == syscall.SIGUSR2)
			switch {
			case sig == syscall.SIGUSR2 && !was:
				log.Info("worker paused (SIGUSR2): running jobs finish, no new ones are taken; SIGCONT resumes")
			case sig == syscall.SIGCONT && was:
				log.Info("worker resumed (SIGCONT)")
			}
		}
	}()
	wc.PausedFunc = func(context.Context, string) bool { return paused.Load() }
	// The first SIGTERM/SIGINT stops reserving and lets running jobs finish; a second one is the default
	// action, a hard stop.
	ctx, stop := signal.NotifyContext(inv.ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	inv.ctx = ctx
	return inv.withBridge(func(b Bridge) error {
		if inv.flag("php-app") != "" || inv.given("app") {
			ex, err := phpExecutor(inv, b, wc.Tries)
			if err != nil {
				return err
			}
			defer ex.Close()
			wc.PHP = ex
		}
		log.Info("bridge working", "connection", b.Connection(), "dialect", b.Dialect(),
			"queues", wc.Queues, "concurrency", wc.Concurrency)
		err := b.Work(ctx, wc)
		if errors.Is(err, worker.ErrMemoryExceeded) {
			return exitCode{err, exitMemory}
		}
		return err
	})
}

// phpExecutor starts the PHP executor the --php-* flags describe.
func phpExecutor(inv *invocation, b Bridge, tries int) (php.Executor, error) {
	var framework php.Framework
	if name := inv.flag("php-framework"); name != "" {
		f, err := php.ParseFramework(name)
		if err != nil {
			return nil, usagef("--php-framework: %v", err)
		}
		framework = f
	}
	mode, err := php.ParseMode(inv.flag("php-mode"))
	if err != nil {
		return nil, usagef("--php-mode: %v", err)
	}
	ints := map[string]int{}
	for _, name := range []string{"php-workers", "php-max-jobs", "php-memory"} {
		if ints[name], err = parseInt(name, inv.flag(name)); err != nil {
			return nil, err
		}
	}
	return b.NewPHPExecutor(inv.ctx, php.Options{
		App:       cmp.Or(inv.flag("php-app"), inv.flag("app")),
		Framework: framework,
		Boot:      inv.flag("php-boot"),
		Binary:    inv.flag("php-binary"),
		Workers:   ints["php-workers"],
		MaxJobs:   ints["php-max-jobs"],
		Memory:    int64(ints["php-memory"]) << 20,
		Mode:      mode,
		Tries:     tries,
	})
}

// defaultBackoff is the wait between attempts of a failing job when neither --delay nor --backoff is given:
// 1s doubling to 60s. think-queue's own default (no delay) reruns a failing job thousands of times a second;
// PHP workers are unaffected, since only the time the job is visible again differs, not its bytes.
var defaultBackoff = []time.Duration{
	time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute,
}

// workerConfig reads the work flags.
func workerConfig(inv *invocation) (worker.Config, error) {
	var wc worker.Config
	queues, err := inv.queue()
	if err != nil {
		return wc, err
	}
	if wc.Queues = parseList(queues); len(wc.Queues) == 0 {
		return wc, usagef("--queue: name at least one queue")
	}
	if inv.given("delay") {
		if wc.Delay, err = parseSeconds("delay", inv.flag("delay")); err != nil {
			return wc, err
		}
	} else {
		wc.Backoff = defaultBackoff
	}
	if b := inv.flag("backoff"); b != "" {
		wc.Backoff = nil
		for _, part := range strings.Split(b, ",") {
			d, err := parseSeconds("backoff", part)
			if err != nil {
				return wc, err
			}
			wc.Backoff = append(wc.Backoff, d)
		}
	}
	if wc.Sleep, err = parseSeconds("sleep", inv.flag("sleep")); err != nil {
		return wc, err
	}
	if wc.Sleep == 0 {
		wc.Sleep = time.Millisecond // --sleep 0: poll again at once, without spinning a core
	}
	if wc.Timeout, err = parseSeconds("timeout", inv.flag("timeout")); err != nil {
		return wc, err
	}
	if wc.Timeout == 0 {
		wc.Timeout = -1
	}
	if wc.GracePeriod, err = parseSeconds("grace", inv.flag("grace")); err != nil {
		return wc, err
	}
	if wc.GracePeriod == 0 {
		wc.GracePeriod = time.Millisecond
	}
	if wc.Tries, err = parseInt("tries", inv.flag("tries")); err != nil {
		return wc, err
	}
	if wc.Tries < 0 {
		return wc, usagef("--tries %d: want 0 (unlimited) or more", wc.Tries)
	}
	if wc.Concurrency, err = parseInt("concurrency", inv.flag("concurrency")); err != nil {
		return wc, err
	}
	if wc.Concurrency < 1 {
		return wc, usagef("--concurrency %d: want 1 or more", wc.Concurrency)
	}
	mb, err := parseInt("memory", inv.flag("memory"))
	switch {
	case err != nil:
		return wc, err
	case mb < 0:
		return wc, usagef("--memory %d: want MB > 0, or 0 for no limit", mb)
	case mb == 0:
		wc.Memory = -1
	default:
		wc.Memory = int64(mb) << 20
	}
	wc.QuietJobs = inv.bool("quiet")
	wc.Once = inv.bool("once")
	wc.StopWhenEmpty = inv.bool("stop-when-empty")
	return wc, nil
}
