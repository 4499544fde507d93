package bridge

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/executor/goexec"
	"github.com/queuebridge/bridge/queue"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
)

// Job is one reserved job as a handler sees it.
type Job = queue.Job

// Handler runs jobs of the names it is registered for: ProcessJob(ctx, job) error.
type Handler = queue.Handler

// HandlerFunc adapts a function to Handler.
type HandlerFunc = queue.HandlerFunc

// FailedHandler is a Handler with think-queue's failed($data): Failed runs once when its job fails for good.
type FailedHandler = queue.FailedHandler

// ErrNotConnected is returned by methods that need a queue before Connect (or Open) gave one.
var ErrNotConnected = errors.New("not connected")

// Bridge holds the Go handlers and, once connected, the queue they drain. Every operation of the command
// line is a method here, context first.
type Bridge struct {
	mux     *goexec.Mux
	events  *events.Dispatcher
	cfg     Config // with defaults, once connected
	be      *backend
	routing *routing // shared by every Bridge made from this one

	connMu sync.Mutex
	cs     *connRouting // the connection's stored routes and report counters, once a worker needs them
	// trends counts this bridge's workers' jobs into the store's trends (see NewWorker); nil until then.
	trends     *trendRecorder
	trendsOnce sync.Once
}

// New returns a Bridge with no connection: register handlers, then call Main, which connects as its flags
// say, or Connect.
func New() *Bridge {
	return &Bridge{mux: goexec.NewMux(), events: &events.Dispatcher{}, routing: newRouting()}
}

// sibling is a new, unconnected Bridge with b's handlers, listeners and routes, for another connection.
func (b *Bridge) sibling() *Bridge { return &Bridge{mux: b.mux, events: b.events, routing: b.routing} }

// Open returns a Bridge connected as cfg says, for programs that wire themselves instead of calling Main.
func Open(ctx context.Context, cfg *Config) (*Bridge, error) {
	b := New()
	if err := b.Connect(ctx, cfg); err != nil {
		return nil, err
	}
	return b, nil
}

// OpenRedis returns a Bridge working the queue on the caller's go-redis client (standalone, Sentinel or
// Cluster), in cfg's dialect; cfg.Connection is ignored and Close leaves the client open.
func OpenRedis(ctx context.Context, client goredis.UniversalClient, cfg *Config) (*Bridge, error) {
	c := cfg.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	f, err := parseFormat(c.Dialect, c.Prefix)
	if err != nil {
		return nil, err
	}
	routeRedisLogs(c.Logger)
	be, err := redisBackend(ctx, client, &c, f)
	if err != nil {
		return nil, err
	}
	return connected(c, be), nil
}

// OpenDB returns a Bridge working the app's jobs table (table, default "jobs", the app's table prefix
// included) on the caller's database/sql pool, in cfg's dialect; driver is "mysql", "postgres" or "sqlite";
// cfg.Connection is ignored, failed jobs go to cfg.FailedTable beside it (or to cfg.FailedDatabase), and
// Close leaves the pool open. The tables must exist (Migrate).
func OpenDB(ctx context.Context, db *sql.DB, driver, table string, cfg *Config) (*Bridge, error) {
	c := cfg.WithDefaults()
	c.Connection = ""
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Connection = driver + ":(the caller's pool)"
	f, err := parseFormat(c.Dialect, c.Prefix)
	if err != nil {
		return nil, err
	}
	pool, err := sqlstore.Wrap(ctx, db, driver, nil)
	if err != nil {
		return nil, err
	}
	routeRedisLogs(c.Logger)
	be, err := sqlBackend(ctx, &c, f, pool, cmp.Or(table, "jobs"), c.FailedTable, false)
	if err != nil {
		return nil, err
	}
	return connected(c, be), nil
}

// connected is a new Bridge on an open backend.
func connected(c Config, be *backend) *Bridge {
	b := New()
	if c.IDFunc == nil {
		c.IDFunc = be.format.newID
	}
	b.cfg, b.be = c, be
	return b
}

// Connect opens the queue cfg names. Close releases it.
func (b *Bridge) Connect(ctx context.Context, cfg *Config) error {
	if b.be != nil {
		return errors.New("already connected")
	}
	c := cfg.WithDefaults()
	if err := c.Validate(); err != nil {
		return err
	}
	if cfg.Connection == "" {
		path := strings.TrimPrefix(EmbeddedConnection, "sqlite:")
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		c.Logger.Warn("no connection configured: using the embedded default, an SQLite file the bridge owns, not your app's queue (name it with --connection)",
			"connection", EmbeddedConnection, "path", path)
	}
	routeRedisLogs(c.Logger)
	be, err := openBackend(ctx, &c)
	if err != nil {
		return err
	}
	if c.IDFunc == nil {
		c.IDFunc = be.format.newID
	}
	b.cfg, b.be = c, be
	return nil
}

// Close releases the connection (a client given to OpenRedis stays open).
func (b *Bridge) Close() error {
	if b.be == nil {
		return nil
	}
	if b.trends != nil {
		b.trends.flush(context.Background())
	}
	if r := b.conn().report; r != nil {
		r.flush(context.Background()) // the last second's counts, while the connection is open
	}
	return b.be.close()
}

// Handle registers h for a job name: `Class`, or `Class@method`. A `Class` handler also serves every
// `Class@method` that has no handler of its own. Registering a name twice panics.
func (b *Bridge) Handle(name string, h Handler) { b.mux.Handle(name, h) }

// HandleFunc registers f for a job name.
func (b *Bridge) HandleFunc(name string, f func(ctx context.Context, job *Job) error) {
	b.mux.Handle(name, HandlerFunc(f))
}

// HandleFallback registers h for every job name no other handler matches. Without a fallback such jobs are
// handed back to the queue untouched, for the PHP workers (or run by the PHP executor, when configured).
func (b *Bridge) HandleFallback(h Handler) { b.mux.HandleFallback(h) }

// Listen adds a listener for the events in package events (JobProcessing, JobFailed, …).
func (b *Bridge) Listen(l events.Listener) { b.events.Listen(l) }

// Connection is the queue backend in use, its password hidden.
func (b *Bridge) Connection() string { return redactURL(b.cfg.Connection) }

// Dialect is the canonical name of the dialect in use, e.g. "thinkqueue-v3".
func (b *Bridge) Dialect() string {
	if b.be == nil {
		return ""
	}
	return b.be.format.name()
}

// ConnectionName is the queue connection's name in the app's config, as failed rows and pause flags
// record it: the frameworks' defaults, "redis" or "database".
func (b *Bridge) ConnectionName() string {
	if b.be != nil && b.be.database() {
		return "database"
	}
	return "redis"
}

// ready returns ErrNotConnected before Connect.
func (b *Bridge) ready() error {
	if b.be == nil {
		return ErrNotConnected
	}
	return nil
}
