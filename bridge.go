package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/executor/goexec"
	"github.com/queuebridge/bridge/internal/cli"
	"github.com/queuebridge/bridge/internal/conn"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/worker"
)

// Job is one reserved job as a handler sees it.
type Job = queue.Job

// Handler runs jobs of the names it is registered for.
type Handler = queue.Handler

// HandlerFunc adapts a function to Handler.
type HandlerFunc = queue.HandlerFunc

// FailedHandler is a Handler with think-queue's failed($data): Failed runs once when its job fails for good.
type FailedHandler = queue.FailedHandler

// Config says where the queue lives, in which PHP dialect, and how the worker runs.
type Config = conn.Config

// WorkerConfig tunes the worker (Config.Worker).
type WorkerConfig = worker.Config

// ErrNotConnected is returned by methods that need a queue before Connect (or Open) gave one.
var ErrNotConnected = errors.New("bridge: not connected")

// Bridge holds the Go handlers and, once connected, the queue they drain.
type Bridge struct {
	mux    *goexec.Mux
	events events.Dispatcher
	conn   *conn.Conn
}

// New returns a Bridge with no connection: register handlers, then call Main, which connects as its flags say.
func New() *Bridge { return &Bridge{mux: goexec.NewMux()} }

// Open returns a Bridge connected as cfg says, for programs that wire themselves instead of calling Main.
func Open(ctx context.Context, cfg *Config) (*Bridge, error) {
	b := New()
	if err := b.Connect(ctx, cfg); err != nil {
		return nil, err
	}
	return b, nil
}

// Connect opens the queue cfg names. Close releases it.
func (b *Bridge) Connect(ctx context.Context, cfg *Config) error {
	c, err := conn.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	b.conn = c
	return nil
}

// Close releases the connection.
func (b *Bridge) Close() error {
	if b.conn == nil {
		return nil
	}
	return b.conn.Close()
}

// Handle registers h for a job name: `Class`, or `Class@method`. A `Class` handler also serves every
// `Class@method` that has no handler of its own. Registering a name twice panics.
func (b *Bridge) Handle(name string, h Handler) { b.mux.Handle(name, h) }

// HandleFunc registers f for a job name.
func (b *Bridge) HandleFunc(name string, f func(ctx context.Context, job *Job) error) {
	b.mux.Handle(name, HandlerFunc(f))
}

// HandleFallback registers h for every job name no other handler matches. Without a fallback such jobs are
// handed back to the queue untouched, for the PHP workers.
func (b *Bridge) HandleFallback(h Handler) { b.mux.HandleFallback(h) }

// Listen adds a listener for the events in package events (JobProcessing, JobFailed, …).
func (b *Bridge) Listen(l events.Listener) { b.events.Listen(l) }

// Push writes a job as the PHP library's Queue::push would, so PHP workers can run it too, and returns its id.
// data is encoded with encoding/json and then held as PHP's json_decode($json, true) would hold it.
func (b *Bridge) Push(ctx context.Context, queueName, job string, data any) (string, error) {
	return b.Later(ctx, 0, queueName, job, data)
}

// Later is Push for a job that becomes visible after delay (Queue::later).
func (b *Bridge) Later(ctx context.Context, delay time.Duration, queueName, job string, data any) (string, error) {
	if b.conn == nil {
		return "", ErrNotConnected
	}
	v, err := phpjson.FromGo(data)
	if err != nil {
		return "", fmt.Errorf("bridge: push %s: %w", job, err)
	}
	return b.conn.Push(ctx, queueName, job, v, delay)
}

// PushCommand writes a Laravel class-based job, as dispatch(new Cmd) would: cmd describes the PHP object
// (class, properties in serialize() order, Queueable fields) and the payload's limits. Laravel dialects only.
func (b *Bridge) PushCommand(ctx context.Context, queueName string, cmd laravel.Command) (string, error) {
	return b.LaterCommand(ctx, 0, queueName, cmd)
}

// LaterCommand is PushCommand for a job that becomes visible after delay.
func (b *Bridge) LaterCommand(ctx context.Context, delay time.Duration, queueName string, cmd laravel.Command) (string, error) {
	if b.conn == nil {
		return "", ErrNotConnected
	}
	return b.conn.PushCommand(ctx, queueName, cmd, delay)
}

// Run works the queues until ctx is cancelled, then stops gracefully (see WorkerConfig).
func (b *Bridge) Run(ctx context.Context) error {
	if b.conn == nil {
		return ErrNotConnected
	}
	return b.conn.Work(ctx, b.mux, &b.events)
}

// Main runs the bridge command line (the same as cmd/bridge) with this Bridge's handlers, then exits.
func (b *Bridge) Main() {
	os.Exit(cli.Run(context.Background(), os.Args, cli.Params{
		Router: b.mux,
		Events: &b.events,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}))
}
