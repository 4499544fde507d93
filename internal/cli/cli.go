// Package cli is the bridge command line, shared by cmd/bridge and by a user's own binary through
// bridge.Main. It parses flags and prints; every operation is a method of the public API (*bridge.Bridge,
// seen here through the Bridge interface, since package bridge imports this one). Changes to this package
// are not breaking changes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/executor/php"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/status"
	"github.com/queuebridge/bridge/worker"
)

// Bridge is what the command line drives: a connected *bridge.Bridge.
type Bridge interface {
	Close() error
	Connection() string
	Dialect() string
	ConnectionName() string
	Later(ctx context.Context, delay time.Duration, queueName, job string, data any) (string, error)
	LaterCommand(ctx context.Context, delay time.Duration, queueName string, cmd laravel.Command) (string, error)
	Failed(ctx context.Context) ([]queue.FailedJob, error)
	FailedJob(ctx context.Context, id string) (queue.FailedJob, error)
	Retry(ctx context.Context, id string) error
	RetryAll(ctx context.Context) ([]string, error)
	Forget(ctx context.Context, id string) error
	Flush(ctx context.Context) (int, error)
	Restart(ctx context.Context) error
	RestartKey() string
	Pause(ctx context.Context, queueName string) error
	Resume(ctx context.Context, queueName string) error
	Queues(ctx context.Context) ([]string, error)
	Sizes(ctx context.Context, queueName string) (queue.Sizes, error)
	Jobs(ctx context.Context, queueName string, state queue.State, offset, limit int) ([]queue.StoredJob, error)
	DescribeJob(j queue.StoredJob) queue.JobInfo
	FindJob(ctx context.Context, id string) (queue.JobInfo, error)
	CancelJob(ctx context.Context, id string) error
	EditJob(ctx context.Context, id string, e queue.JobEdit) (queue.JobInfo, error)
	ClearQueue(ctx context.Context, queueName string) (int, error)
	Trends(ctx context.Context, queueName string, since time.Time) ([]queue.TrendPoint, error)
	Work(ctx context.Context, wc worker.Config) error
	NewPHPExecutor(ctx context.Context, o php.Options) (php.Executor, error)
	Bridges(ctx context.Context) ([]status.Bridge, error)
	SetRoute(ctx context.Context, class string, r status.Route) error
	ClearRoute(ctx context.Context, class string) (bool, error)
	Routes(ctx context.Context) ([]status.ClassRoute, error)
	Report(ctx context.Context, window time.Duration) ([]status.ClassReport, error)
}

// Settings are the connection flags, as the caller's Connect turns them into a bridge.Config.
type Settings struct {
	Connection      string
	Dialect         string
	Prefix          string
	Expire          time.Duration
	CacheConnection string
	CachePrefix     string
	RestartKey      string
	FailedKeyPrefix string
	FailedDatabase  string
	FailedTable     string
	Logger          *slog.Logger
	// Queue is the app's default queue (--app): what work drains when --queue is not given.
	Queue string
}

// Migration is one table migrate looked at.
type Migration struct {
	Table      string
	Statements []string
	Existed    bool
}

// Params is what the caller brings: how to connect, and where output goes.
type Params struct {
	// Connect opens the queue the settings name.
	Connect func(ctx context.Context, s Settings) (Bridge, error)
	// Migrate creates the tables of the database queue the settings name (see bridge.Migrate).
	Migrate func(ctx context.Context, s Settings, dryRun bool) ([]Migration, error)
	// NotifyTrigger is the opt-in PostgreSQL trigger of the settings' jobs table (see bridge.NotifyTrigger).
	NotifyTrigger func(s Settings) (string, error)
	// App reads the connection settings of the PHP app in dir (booted with boot, run by binary) from the
	// app's own config (see bridge.FromApp); nil: --app is not offered.
	App func(ctx context.Context, dir, boot, binary string) (Settings, error)
	// Serving runs config files (serve, config check/show); nil: not offered.
	Serving Serving
	// Dashboard serves the web dashboard of the connection the settings name on addr until ctx is done;
	// token "" is read-only. nil: not offered.
	Dashboard func(ctx context.Context, s Settings, addr, token string) error
	Stdout    io.Writer
	Stderr    io.Writer
}

// Exit statuses.
const (
	exitError  = 1
	exitUsage  = 2  // the command line cannot be run as written
	exitMemory = 12 // think-queue 3.x's status when a worker outgrew --memory
)

// Run runs the command line args (args[0] is the program name) and returns the exit status.
func Run(ctx context.Context, args []string, p Params) int {
	prog := filepath.Base(args[0])
	root := commands(p)
	parsed, err := parse(root, args[1:])
	if err != nil {
		fmt.Fprintf(p.Stderr, "%s: %v\n", prog, err)
		return exitUsage
	}
	switch {
	case parsed.version || (len(parsed.path) > 0 && parsed.path[0].name == "version"):
		fmt.Fprintf(p.Stdout, "%s %s\n", prog, Version())
		return 0
	case parsed.help:
		writeHelp(p.Stdout, prog, parsed.path, root)
		return 0
	case parsed.path[0].name == "help":
		path, err := helpPath(root, parsed.args)
		if err != nil {
			fmt.Fprintf(p.Stderr, "%s: %v\n", prog, err)
			return exitUsage
		}
		writeHelp(p.Stdout, prog, path, root)
		return 0
	}
	inv := &invocation{ctx: ctx, prog: prog, parsed: parsed, p: p}
	err = parsed.command().run(inv)
	var usage *usageError
	var exit exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(p.Stderr, "%s: %v\n", prog, err)
		return exitUsage
	case errors.As(err, &exit):
		fmt.Fprintf(p.Stderr, "%s: %v\n", prog, err)
		return exit.code
	}
	fmt.Fprintf(p.Stderr, "%s: %v\n", prog, err)
	return exitError
}

// exitCode is an error with its own exit status.
type exitCode struct {
	error
	code int
}

// helpPath finds the command `help CMD [SUB]` names.
func helpPath(root *command, args []string) ([]*command, error) {
	var path []*command
	cmd := root
	for _, a := range args {
		sub := cmd.sub(a)
		if sub == nil {
			return nil, usagef("help: no command %q", a)
		}
		path = append(path, sub)
		cmd = sub
	}
	return path, nil
}

// Version is the module version the binary was built from (`go install …@v1.2.3`), or "devel" with the
// VCS revision for a build from a checkout.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	version := info.Main.Version
	for _, dep := range info.Deps {
		if dep.Path == "github.com/queuebridge/bridge" { // a user's binary: the bridge is a dependency
			version = dep.Version
		}
	}
	if version != "" && version != "(devel)" {
		return version
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "devel"
	case dirty:
		return "devel " + rev[:min(12, len(rev))] + "+dirty"
	}
	return "devel " + rev[:min(12, len(rev))]
}

// invocation is one run of a command: its parsed line and the caller's parameters.
type invocation struct {
	ctx    context.Context
	prog   string
	parsed *parsed
	p      Params
	logger *slog.Logger
	app    *Settings // what --app said, read once
}

func (inv *invocation) stdout() io.Writer { return inv.p.Stdout }

// flag is the value of the command's flag of that name.
func (inv *invocation) flag(name string) string {
	v, ok := inv.lookup(name)
	if !ok {
		panic("cli: command " + inv.parsed.commandName() + " has no flag --" + name) // a bug in the command table
	}
	return v
}

// optional is the command's flag of that name, "" for a command without it.
func (inv *invocation) optional(name string) string {
	v, _ := inv.lookup(name)
	return v
}

func (inv *invocation) lookup(name string) (string, bool) {
	for _, f := range inv.parsed.command().flags {
		if f.name == name {
			return inv.parsed.value(f), true
		}
	}
	return "", false
}

// given reports whether the command's flag of that name was set.
func (inv *invocation) given(name string) bool {
	for _, f := range inv.parsed.command().flags {
		if f.name == name {
			return inv.parsed.given(f)
		}
	}
	return false
}

func (inv *invocation) bool(name string) bool { return inv.flag(name) == "true" }

func (inv *invocation) arg(i int) string { return inv.parsed.args[i] }

// connect opens the queue the connection flags name; the caller closes it.
func (inv *invocation) connect() (Bridge, error) {
	s, err := inv.settings()
	if err != nil {
		return nil, err
	}
	return inv.p.Connect(inv.ctx, s)
}

func (inv *invocation) settings() (Settings, error) {
	log, err := inv.log()
	if err != nil {
		return Settings{}, err
	}
	expire, err := parseExpire(inv.flag("expire"))
	if err != nil {
		return Settings{}, err
	}
	s := Settings{
		Connection:      inv.flag("connection"),
		Dialect:         inv.flag("dialect"),
		Prefix:          inv.flag("prefix"),
		Expire:          expire,
		CacheConnection: inv.flag("cache-connection"),
		CachePrefix:     inv.flag("cache-prefix"),
		RestartKey:      inv.flag("restart-key"),
		FailedKeyPrefix: inv.flag("failed-prefix"),
		FailedDatabase:  inv.flag("failed-database"),
		FailedTable:     inv.flag("failed-table"),
		Logger:          log,
	}
	if !inv.given("app") {
		return s, nil
	}
	if inv.p.App == nil {
		return s, fmt.Errorf("--app is not supported by this program")
	}
	if inv.app == nil {
		app, err := inv.p.App(inv.ctx, inv.flag("app"), inv.optional("php-boot"), inv.optional("php-binary"))
		if err != nil {
			return s, err
		}
		inv.app = &app
	}
	app := *inv.app
	// The connection flags, when given, win over what the app says.
	for name, dst := range map[string]*string{"connection": &s.Connection, "dialect": &s.Dialect, "prefix": &s.Prefix,
		"cache-connection": &s.CacheConnection, "cache-prefix": &s.CachePrefix} {
		if !inv.given(name) {
			*dst = map[string]string{"connection": app.Connection, "dialect": app.Dialect, "prefix": app.Prefix,
				"cache-connection": app.CacheConnection, "cache-prefix": app.CachePrefix}[name]
		}
	}
	if !inv.given("expire") && app.Expire != 0 {
		s.Expire = app.Expire
	}
	s.Queue = app.Queue
	return s, nil
}

// queue is --queue, or without it the default queue of --app's connection, as the app's own queue:work
// drains and its Queue::push pushes onto.
func (inv *invocation) queue() (string, error) {
	if inv.given("app") && !inv.given("queue") {
		s, err := inv.settings()
		if err != nil {
			return "", err
		}
		if s.Queue != "" {
			return s.Queue, nil
		}
	}
	return inv.flag("queue"), nil
}

// log is the logger the --log-* flags describe, on stderr.
func (inv *invocation) log() (*slog.Logger, error) {
	if inv.logger != nil {
		return inv.logger, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(inv.flag("log-level"))); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", inv.flag("log-level"))
	}
	o := &slog.HandlerOptions{Level: l}
	switch f := inv.flag("log-format"); f {
	case "text":
		inv.logger = slog.New(slog.NewTextHandler(inv.p.Stderr, o))
	case "json":
		inv.logger = slog.New(slog.NewJSONHandler(inv.p.Stderr, o))
	default:
		return nil, usagef("--log-format %q: want text or json", f)
	}
	return inv.logger, nil
}

// withBridge connects, runs f, and closes.
func (inv *invocation) withBridge(f func(Bridge) error) error {
	b, err := inv.connect()
	if err != nil {
		return err
	}
	defer b.Close()
	return f(b)
}
