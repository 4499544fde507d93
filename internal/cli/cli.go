// Package cli is the bridge command line: flags → internal/conn → worker. It is shared by cmd/bridge and by
// a user's own binary through bridge.Main. Changes to this package are not breaking changes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/executor/php"
	"github.com/queuebridge/bridge/internal/conn"
	"github.com/queuebridge/bridge/worker"
)

// Params is what the caller brings: the handlers and where output goes.
type Params struct {
	Router worker.Router
	Events *events.Dispatcher
	Stdout io.Writer
	Stderr io.Writer
}

// exitMemory is think-queue 3.x's exit status when a worker outgrew --memory.
const exitMemory = 12

// Run runs the command line args (args[0] is the program name) and returns the exit status.
func Run(ctx context.Context, args []string, p Params) int {
	app := newApp(p)
	if err := app.RunContext(ctx, args); err != nil {
		var exit urfave.ExitCoder
		if errors.As(err, &exit) {
			if exit.Error() != "" {
				fmt.Fprintln(p.Stderr, "bridge:", exit.Error())
			}
			return exit.ExitCode()
		}
		fmt.Fprintln(p.Stderr, "bridge:", err)
		return 1
	}
	return 0
}

func newApp(p Params) *urfave.App {
	app := &urfave.App{
		Name:            "bridge",
		Usage:           "run a PHP app's think-queue jobs in Go, on the same queue, in the same bytes",
		Writer:          p.Stdout,
		ErrWriter:       p.Stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*urfave.Context, error) {}, // Run prints and maps errors itself
		Flags:           connectionFlags(),
		Commands: []*urfave.Command{
			workCommand(p),
			pushCommand(),
			failedCommand(),
			restartCommand(),
			migrateCommand(),
		},
	}
	hideHelpCommands(app.Commands)
	return app
}

func connectionFlags() []urfave.Flag {
	return []urfave.Flag{
		&urfave.StringFlag{Name: "connection", Aliases: []string{"c"}, EnvVars: []string{"BRIDGE_CONNECTION"},
			Usage: "queue backend: redis://[:password@]host:port/db, rediss://…, redis+cluster://…, redis+sentinel://…?master_name=m, or a jobs table: mysql://user:pass@host:3306/db?table=jobs&prefix=tp_, sqlite:path (default: the embedded " + conn.EmbeddedConnection + ")"},
		&urfave.StringFlag{Name: "dialect", EnvVars: []string{"BRIDGE_DIALECT"}, Value: conn.DefaultDialect,
			Usage: "PHP library format: thinkqueue-v1, thinkqueue-v2, thinkqueue-v3 (keys {queues:X}), thinkqueue-v3-plain (keys queues:X), laravel-8 … laravel-12"},
		&urfave.StringFlag{Name: "expire", EnvVars: []string{"BRIDGE_EXPIRE"}, Value: "60",
			Usage: "seconds a reservation lasts before another worker may recover the job (think-queue expire / retry_after); \"null\" never recovers (v1 expire => null)"},
		&urfave.StringFlag{Name: "cache-connection", EnvVars: []string{"BRIDGE_CACHE_CONNECTION"},
			Usage: "Redis of the app's cache store, where `php think queue:restart` writes (default: --connection)"},
		&urfave.StringFlag{Name: "cache-prefix", EnvVars: []string{"BRIDGE_CACHE_PREFIX"}, Usage: "the app cache store's key prefix"},
		&urfave.StringFlag{Name: "restart-key", EnvVars: []string{"BRIDGE_RESTART_KEY"},
			Usage: "cache key of the restart signal after --cache-prefix (default: think:queue:restart; Laravel's illuminate:queue:restart with its prefixes)"},
		&urfave.StringFlag{Name: "prefix", EnvVars: []string{"BRIDGE_PREFIX"},
			Usage: "Laravel's Redis key prefix (database.redis.options.prefix; default laravel_database_)"},
		&urfave.StringFlag{Name: "failed-prefix", EnvVars: []string{"BRIDGE_FAILED_PREFIX"}, Value: "queuebridge",
			Usage: "prefix of the bridge's failed-store keys on Redis"},
		&urfave.StringFlag{Name: "failed-database", EnvVars: []string{"BRIDGE_FAILED_DATABASE"},
			Usage: "keep failed jobs in the app's failed_jobs table: mysql://user:pass@host:3306/db or sqlite:path (default: the bridge's Redis keys)"},
		&urfave.StringFlag{Name: "failed-table", EnvVars: []string{"BRIDGE_FAILED_TABLE"}, Value: "failed_jobs",
			Usage: "the failed_jobs table, with the app's table prefix"},
		&urfave.StringFlag{Name: "log-level", EnvVars: []string{"BRIDGE_LOG_LEVEL"}, Value: "info", Usage: "debug, info, warn or error"},
		&urfave.StringFlag{Name: "log-format", EnvVars: []string{"BRIDGE_LOG_FORMAT"}, Value: "text", Usage: "text or json"},
	}
}

// configFrom reads the connection flags, which may stand before or after the command name.
func configFrom(c *urfave.Context) (*conn.Config, error) {
	expire, err := parseExpire(connFlag(c, "expire"))
	if err != nil {
		return nil, err
	}
	log, err := newLogger(c.App.ErrWriter, connFlag(c, "log-level"), connFlag(c, "log-format"))
	if err != nil {
		return nil, err
	}
	return &conn.Config{
		Connection:      connFlag(c, "connection"),
		Dialect:         connFlag(c, "dialect"),
		Expire:          expire,
		CacheConnection: connFlag(c, "cache-connection"),
		CachePrefix:     connFlag(c, "cache-prefix"),
		RestartKey:      connFlag(c, "restart-key"),
		Prefix:          connFlag(c, "prefix"),
		FailedKeyPrefix: connFlag(c, "failed-prefix"),
		FailedDatabase:  connFlag(c, "failed-database"),
		FailedTable:     connFlag(c, "failed-table"),
		Logger:          log,
	}, nil
}

// connFlag is a connection flag's value from the nearest command that set it (`bridge work --connection …`
// beats `bridge --connection … work`), else its default.
func connFlag(c *urfave.Context, name string) string {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc.String(name)
		}
	}
	return c.String(name)
}

func parseExpire(s string) (time.Duration, error) {
	if s == "null" || s == "-1" {
		return -1, nil
	}
	d, err := parseSeconds("expire", s)
	if err != nil {
		return 0, err
	}
	if d == 0 {
		return 0, errors.New("--expire 0 would make every reservation lapse at once; use a positive number of seconds or null")
	}
	return d, nil
}

// parseSeconds reads think-queue's second counts, fractions allowed ("0.5").
func parseSeconds(name, s string) (time.Duration, error) {
	var f float64
	if _, err := fmt.Sscanf(s, "%g", &f); err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("--%s %q: want a number of seconds ≥ 0", name, s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func workCommand(p Params) *urfave.Command {
	return &urfave.Command{
		Name:  "work",
		Usage: "run jobs from the queues (think-queue's queue:work)",
		Flags: append(connectionFlags(),
			&urfave.StringFlag{Name: "queue", Value: "default", Usage: "queues to drain, in priority order: a,b"},
			&urfave.BoolFlag{Name: "daemon", Usage: "accepted for think-queue 1.x/2.x habits: the bridge always loops unless --once"},
			&urfave.BoolFlag{Name: "once", Usage: "run at most one job, then exit"},
			&urfave.BoolFlag{Name: "stop-when-empty", Usage: "exit once every queue is empty"},
			&urfave.StringFlag{Name: "delay", Value: "0", Usage: "seconds a job that returned an error waits before it runs again"},
			&urfave.StringFlag{Name: "backoff", Usage: "Laravel's --backoff: seconds per attempt, the last repeating (10,30); replaces --delay"},
			&urfave.StringFlag{Name: "sleep", Value: "3", Usage: "seconds to wait when every queue is empty"},
			&urfave.IntFlag{Name: "tries", Value: 0, Usage: "fail a job after this many attempts (0: unlimited; a v3 payload's maxTries wins)"},
			&urfave.IntFlag{Name: "memory", Value: 128, Usage: "stop (exit 12) once the heap passes this many MB"},
			&urfave.StringFlag{Name: "timeout", Value: "60", Usage: "seconds one job may run (its context is cancelled then); 0 disables"},
			&urfave.IntFlag{Name: "concurrency", Aliases: []string{"n"}, Value: 1, Usage: "jobs run at once"},
			&urfave.StringFlag{Name: "grace", Value: "30", Usage: "seconds running jobs get to finish on SIGTERM/SIGINT before they are handed back"},
			&urfave.StringFlag{Name: "php-app", Usage: "run jobs with no Go handler in this app's own PHP code (the PHP executor)"},
			&urfave.StringFlag{Name: "php-boot", Usage: "Laravel: the app's boot file (default DIR/bootstrap/app.php)"},
			&urfave.StringFlag{Name: "php-framework", Usage: "laravel, thinkphp50, thinkphp51 or thinkphp6 (default: laravel for laravel-*, thinkphp6 for thinkqueue-v3; thinkqueue-v1/v2 must say 50 or 51)"},
			&urfave.StringFlag{Name: "php-binary", Value: "php", Usage: "the PHP CLI"},
			&urfave.IntFlag{Name: "php-workers", Value: 2, Usage: "PHP processes"},
			&urfave.IntFlag{Name: "php-max-jobs", Value: 1000, Usage: "jobs a PHP process runs before it is replaced (0: no limit)"},
			&urfave.IntFlag{Name: "php-memory", Value: 128, Usage: "MB a PHP process may use before it is replaced"},
			&urfave.StringFlag{Name: "php-mode", Value: "pool", Usage: "pool (long-lived processes) or per-job (a fresh process per job, like queue:listen)"},
		),
		Action: func(c *urfave.Context) error {
			cfg, err := configFrom(c)
			if err != nil {
				return err
			}
			wc, err := workerConfigFrom(c)
			if err != nil {
				return err
			}
			// SIGUSR2 pauses the worker (it finishes what runs and takes nothing new), SIGCONT resumes it,
			// as with Laravel's worker.
			var paused atomic.Bool
			pause := make(chan os.Signal, 1)
			signal.Notify(pause, syscall.SIGUSR2, syscall.SIGCONT)
			defer signal.Stop(pause)
			go func() {
				for sig := range pause {
					paused.Store(sig == syscall.SIGUSR2)
				}
			}()
			wc.PausedFunc = func(context.Context, string) bool { return paused.Load() }
			cfg.Worker = wc
			// The first SIGTERM/SIGINT stops reserving and lets running jobs finish; a second one is the
			// default action, a hard stop.
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, os.Interrupt)
			defer stop()
			go func() { <-ctx.Done(); stop() }()
			cn, err := conn.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer cn.Close()
			if c.String("php-app") != "" {
				ex, err := phpExecutor(c, cn, cfg)
				if err != nil {
					return err
				}
				defer ex.Close()
				cfg.Worker.PHP = ex
				cn.SetWorker(cfg.Worker)
			}
			cfg.Logger.Info("bridge working", "connection", cn.Connection(), "dialect", cn.DialectName(),
				"queues", wc.Queues, "concurrency", wc.Concurrency)
			err = cn.Work(ctx, p.Router, p.Events)
			if errors.Is(err, worker.ErrMemoryExceeded) {
				return urfave.Exit(err.Error(), exitMemory)
			}
			return err
		},
	}
}

// phpExecutor starts the PHP executor the --php-* flags describe.
func phpExecutor(c *urfave.Context, cn *conn.Conn, cfg *conn.Config) (php.Executor, error) {
	name := c.String("php-framework")
	switch {
	case name != "":
	case strings.HasPrefix(cn.DialectName(), "laravel-"):
		name = "laravel"
	case cn.DialectName() == "thinkqueue-v3":
		name = "thinkphp6"
	default:
		return nil, fmt.Errorf("--php-app with %s: say which ThinkPHP runs the app: --php-framework thinkphp50 or thinkphp51", cn.DialectName())
	}
	framework, err := php.ParseFramework(name)
	if err != nil {
		return nil, err
	}
	mode, err := php.ParseMode(c.String("php-mode"))
	if err != nil {
		return nil, err
	}
	return php.New(c.Context, php.Options{
		App:        c.String("php-app"),
		Framework:  framework,
		Boot:       c.String("php-boot"),
		Binary:     c.String("php-binary"),
		Workers:    c.Int("php-workers"),
		MaxJobs:    c.Int("php-max-jobs"),
		Memory:     int64(c.Int("php-memory")) << 20,
		Mode:       mode,
		Logger:     cfg.Logger,
		Connection: cn.ConnectionName(),
		Tries:      cfg.Worker.Tries,
	})
}

func workerConfigFrom(c *urfave.Context) (worker.Config, error) {
	var wc worker.Config
	for _, q := range strings.Split(c.String("queue"), ",") {
		if q = strings.TrimSpace(q); q != "" {
			wc.Queues = append(wc.Queues, q)
		}
	}
	if len(wc.Queues) == 0 {
		return wc, errors.New("--queue: name at least one queue")
	}
	var err error
	if wc.Delay, err = parseSeconds("delay", c.String("delay")); err != nil {
		return wc, err
	}
	if b := c.String("backoff"); b != "" {
		for _, part := range strings.Split(b, ",") {
			d, err := parseSeconds("backoff", strings.TrimSpace(part))
			if err != nil {
				return wc, err
			}
			wc.Backoff = append(wc.Backoff, d)
		}
	}
	if wc.Sleep, err = parseSeconds("sleep", c.String("sleep")); err != nil {
		return wc, err
	}
	if wc.Sleep == 0 {
		wc.Sleep = time.Millisecond // --sleep 0: poll again at once, without spinning a core
	}
	if wc.Timeout, err = parseSeconds("timeout", c.String("timeout")); err != nil {
		return wc, err
	}
	if wc.Timeout == 0 {
		wc.Timeout = -1
	}
	if wc.GracePeriod, err = parseSeconds("grace", c.String("grace")); err != nil {
		return wc, err
	}
	if wc.GracePeriod == 0 {
		wc.GracePeriod = time.Millisecond
	}
	wc.Tries = c.Int("tries")
	if wc.Tries < 0 {
		return wc, fmt.Errorf("--tries %d: want 0 (unlimited) or more", wc.Tries)
	}
	if wc.Concurrency = c.Int("concurrency"); wc.Concurrency < 1 {
		return wc, fmt.Errorf("--concurrency %d: want 1 or more", wc.Concurrency)
	}
	switch mb := c.Int("memory"); {
	case mb < 0:
		return wc, fmt.Errorf("--memory %d: want MB > 0", mb)
	case mb == 0:
		wc.Memory = -1
	default:
		wc.Memory = int64(mb) << 20
	}
	wc.Once = c.Bool("once")
	wc.StopWhenEmpty = c.Bool("stop-when-empty")
	return wc, nil
}
