// Package conn opens one queue backend in one PHP dialect and offers what the API and the CLI do with it:
// push, work, the failed store and the restart signal. It is the only place that knows which storage and
// which compat package go together. Changes to this package are not breaking changes.
package conn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
	redisstore "github.com/queuebridge/bridge/storage/redis"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
	"github.com/queuebridge/bridge/worker"
)

// DefaultDialect is used when Config.Dialect is empty: think-queue 3.x, the ThinkPHP 6/8 line.
const DefaultDialect = "thinkqueue-v3"

// Config says where the queue lives and how its jobs are written.
type Config struct {
	// Connection is the queue backend: redis://[user:password@]host:port/db, rediss://… (TLS), unix://…,
	// redis+cluster://host:port?addr=host2:port2, redis+sentinel://host:port?master_name=m; or a database
	// queue (the app's jobs table): mysql://user:pass@host:3306/db?table=jobs&prefix=tp_, sqlite:path.
	// Default EmbeddedConnection, whose tables the bridge creates.
	Connection string
	// Dialect is the PHP library whose format the queue uses: thinkqueue-v1, thinkqueue-v2 (same bytes as v1),
	// thinkqueue-v3 (keys {queues:X}, think-queue ≥ 3.0.5), thinkqueue-v3-plain (keys queues:X, 3.0.0–3.0.4),
	// or laravel-8 … laravel-12. Default DefaultDialect.
	Dialect string
	// Prefix is Laravel's Redis connection prefix (database.redis.options.prefix). Default
	// "laravel_database_" for Laravel; think-queue has none.
	Prefix string
	// Expire is think-queue's expire / retry_after: how long a reservation lasts before another worker may
	// recover the job. Default 60s; -1 is v1's `expire => null` (reservations are never recovered).
	Expire time.Duration
	// CacheConnection is the Redis of the app's cache store, where `php think queue:restart` writes its
	// signal. Default: the queue's own connection.
	CacheConnection string
	// CachePrefix is the app cache store's key prefix (think-queue's cache prefix, Laravel's cache.prefix).
	// Default "" for think-queue, the framework's default for Laravel.
	CachePrefix string
	// RestartKey, when set, is the cache key of the restart signal after CachePrefix. Default: the
	// library's own (`think:queue:restart`; Laravel's `illuminate:queue:restart` with its prefixes).
	RestartKey string
	// FailedKeyPrefix names the bridge's own failed-store keys on Redis. Default "queuebridge".
	FailedKeyPrefix string
	// FailedDatabase, when set, keeps failed jobs in the app's failed_jobs table instead: mysql://…, or
	// sqlite:path. The table's schema follows the dialect (Laravel's with uuid, think-queue 3.x's).
	FailedDatabase string
	// FailedTable is that table's name, the app's table prefix included. Default "failed_jobs".
	FailedTable string
	// Logger receives logs. Default slog.Default().
	Logger *slog.Logger
	// Clock gives "now" to every timestamp written. Default time.Now.
	Clock func() time.Time
	// IDFunc makes job ids and failed-record ids. Default: the library's own (think-queue: 32 letters,
	// Laravel: 32 letters and digits).
	IDFunc func() string
	// Worker tunes `work`. Its Logger, Clock, IDFunc, Expire and restart signal come from the fields above.
	Worker worker.Config
}

// Conn is an open queue backend.
type Conn struct {
	cfg      Config
	format   format
	store    queueStore
	failed   failedStore
	sqlStore *sqlstore.FailedStore   // when failed jobs live in SQL
	jobs     *sqlstore.Broker        // when the queue is a jobs table
	cache    goredis.UniversalClient // the app's cache store: restart signal, pause flags, maxExceptions
	db       bool                    // the queue is a jobs table, which counts attempts in a column
	restartK string
	closers  []io.Closer
}

// queueStore is the storage a connection pushes to and works from.
type queueStore interface {
	worker.Broker
	Push(ctx context.Context, queue string, payload []byte) error
	Later(ctx context.Context, queue string, payload []byte, at time.Time) error
}

// Open connects as cfg says. Close releases what it opened.
func Open(ctx context.Context, cfg *Config) (*Conn, error) {
	c := cfg.withDefaults()
	embedded := c.Connection == ""
	if embedded {
		c.Connection = EmbeddedConnection
		c.Logger.Info("no connection configured: using the embedded default", "connection", EmbeddedConnection)
	}
	if isSQL(c.Connection) {
		return openSQL(ctx, c, embedded)
	}
	client, err := NewRedisClient(c.Connection)
	if err != nil {
		return nil, err
	}
	conn, err := newConn(ctx, client, c)
	if err != nil {
		client.Close()
		return nil, err
	}
	conn.closers = append(conn.closers, client)
	if err := conn.openCache(); err != nil {
		conn.Close()
		return nil, err
	}
	if err := client.Ping(ctx).Err(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect %s: %w", RedactURL(c.Connection), err)
	}
	return conn, nil
}

// OpenClient uses the caller's Redis client, which Close leaves open. cfg.Connection is ignored.
func OpenClient(ctx context.Context, client goredis.UniversalClient, cfg *Config) (*Conn, error) {
	return newConn(ctx, client, cfg.withDefaults())
}

// formatFor parses c's dialect and fills in the defaults that depend on it.
func formatFor(c *Config) (format, error) {
	f, err := parseFormat(c.Dialect, c.Prefix)
	if err != nil {
		return nil, err
	}
	if c.IDFunc == nil {
		c.IDFunc = f.newID
	}
	return f, nil
}

// restartKey is where the restart signal lives: RestartKey after the cache prefix, or the library's own key.
func restartKey(f format, c Config) string {
	if c.RestartKey != "" {
		return c.CachePrefix + c.RestartKey
	}
	return f.restartKey(c.CachePrefix)
}

func newConn(ctx context.Context, client goredis.UniversalClient, c Config) (*Conn, error) {
	f, err := formatFor(&c)
	if err != nil {
		return nil, err
	}
	b, err := redisstore.New(client, f.keys(), &redisstore.Config{
		Expire:          c.Expire,
		NowFunc:         c.Clock,
		FailedKeyPrefix: c.FailedKeyPrefix,
	})
	if err != nil {
		return nil, err
	}
	conn := &Conn{
		cfg:      c,
		format:   f,
		store:    b,
		failed:   b,
		cache:    client,
		restartK: restartKey(f, c),
	}
	if c.FailedDatabase != "" {
		db, err := sqlstore.Open(ctx, c.FailedDatabase, nil)
		if err != nil {
			return nil, fmt.Errorf("failed database: %w", err)
		}
		store, err := db.Failed(f.failedTable(), c.FailedTable)
		if err != nil {
			db.Close()
			return nil, err
		}
		conn.closers = append(conn.closers, db)
		conn.sqlStore, conn.failed = store, store
		conn.store = sqlFailedBroker{b, store}
	}
	return conn, nil
}

// openCache connects CacheConnection, when one is set, as the app's cache store.
func (c *Conn) openCache() error {
	if c.cfg.CacheConnection == "" {
		return nil
	}
	cache, err := NewRedisClient(c.cfg.CacheConnection)
	if err != nil {
		return fmt.Errorf("cache connection: %w", err)
	}
	c.cache = cache
	c.closers = append(c.closers, cache)
	return nil
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.Dialect == "" {
		out.Dialect = DefaultDialect
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	if out.Clock == nil {
		out.Clock = time.Now
	}
	return out
}

// NewRedisClient opens a client for a connection URL (see Config.Connection).
func NewRedisClient(connection string) (goredis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(connection, "://")
	if !ok {
		return nil, fmt.Errorf("connection %q: want scheme://…, e.g. redis://127.0.0.1:6379/0", connection)
	}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := goredis.ParseURL(connection)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", RedactURL(connection), err)
		}
		return goredis.NewClient(o), nil
	case "redis+cluster", "rediss+cluster":
		o, err := goredis.ParseClusterURL(strings.TrimSuffix(scheme, "+cluster") + "://" + rest)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", RedactURL(connection), err)
		}
		return goredis.NewClusterClient(o), nil
	case "redis+sentinel", "rediss+sentinel":
		o, err := goredis.ParseFailoverURL(strings.TrimSuffix(scheme, "+sentinel") + "://" + rest)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", RedactURL(connection), err)
		}
		return goredis.NewFailoverClient(o), nil
	}
	return nil, fmt.Errorf("connection %s: unknown scheme %q (want redis, rediss, unix, redis+cluster, redis+sentinel, mysql, sqlite or postgres)", RedactURL(connection), scheme)
}

// RedactURL hides a password in logs and errors.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		return scheme + "://***@" + rest[at+1:]
	}
	return s
}

// Close closes what Open opened.
func (c *Conn) Close() error {
	var errs []error
	for _, cl := range c.closers {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// Connection is the queue backend in use, its password hidden.
func (c *Conn) Connection() string { return RedactURL(c.cfg.Connection) }

// DialectName is the canonical name of the dialect in use.
func (c *Conn) DialectName() string { return c.format.name() }

// Push writes a job as the PHP library's push/later would and returns its id. data is a PHP value as
// package phpjson holds it; delay > 0 makes it a delayed job.
func (c *Conn) Push(ctx context.Context, queueName, job string, data any, delay time.Duration) (string, error) {
	if job == "" {
		return "", errors.New("push: empty job name")
	}
	if queueName == "" {
		queueName = thinkqueue.DefaultQueue
	}
	id := c.cfg.IDFunc()
	now := c.cfg.Clock()
	payload, err := c.format.payload(job, data, pushParams{id: id, now: now, delay: delay, db: c.db})
	if err != nil {
		return "", fmt.Errorf("push %s: %w", job, err)
	}
	rowID, err := c.enqueue(ctx, queueName, payload, now, delay)
	if err != nil {
		return "", err
	}
	return cmp.Or(rowID, id), nil
}

// PushCommand writes a Laravel class-based job (dispatch(new Cmd)) — the object as PHP's serialize() writes
// it — and returns its id; only the Laravel dialects have them.
func (c *Conn) PushCommand(ctx context.Context, queueName string, cmd laravel.Command, delay time.Duration) (string, error) {
	lf, ok := c.format.(laravelFormat)
	if !ok {
		return "", fmt.Errorf("push %s: class-based jobs need a Laravel dialect, not %s", cmd.Class, c.format.name())
	}
	if queueName == "" {
		queueName = laravel.DefaultQueue
	}
	id, now := c.cfg.IDFunc(), c.cfg.Clock()
	payload, err := lf.d.NewObjectPayload(cmd, pushParams{id: id, now: now, delay: delay, db: c.db}.laravel())
	if err != nil {
		return "", fmt.Errorf("push %s: %w", cmd.Class, err)
	}
	rowID, err := c.enqueue(ctx, queueName, payload, now, delay)
	if err != nil {
		return "", err
	}
	return cmp.Or(rowID, id), nil
}

// enqueue pushes a payload, or adds it to the delayed set when delay > 0. On a database queue it returns
// the new row's id, which is the job's id there.
func (c *Conn) enqueue(ctx context.Context, queueName string, payload []byte, now time.Time, delay time.Duration) (string, error) {
	if c.jobs != nil {
		id, err := c.jobs.Insert(ctx, queueName, payload, now.Add(delay))
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(id, 10), nil
	}
	if delay > 0 {
		if err := c.store.Later(ctx, queueName, payload, now.Add(delay)); err != nil {
			return "", fmt.Errorf("later %s: %w", queueName, err)
		}
		return "", nil
	}
	if err := c.store.Push(ctx, queueName, payload); err != nil {
		return "", fmt.Errorf("push %s: %w", queueName, err)
	}
	return "", nil
}

// Work runs a worker until it stops (see worker.Worker.Run).
func (c *Conn) Work(ctx context.Context, router worker.Router, ev *events.Dispatcher) error {
	wc := c.cfg.Worker
	wc.Expire = c.cfg.Expire
	wc.Logger = c.cfg.Logger
	wc.Clock = c.cfg.Clock
	wc.IDFunc = c.cfg.IDFunc
	if c.cache != nil {
		wc.RestartStampFunc = c.RestartStamp
	}
	wc.Connection = c.ConnectionName()
	wc.PausedFunc = c.pausedFunc(wc.PausedFunc)
	if len(wc.Queues) == 0 {
		wc.Queues = []string{thinkqueue.DefaultQueue}
	}
	w, err := worker.New(c.store, c.format.rules(c.cache, c.cfg.CachePrefix), router, ev, &wc)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// SetWorker replaces the worker settings Work uses (for what the caller can only build after Open, such as
// a PHP executor).
func (c *Conn) SetWorker(wc worker.Config) { c.cfg.Worker = wc }

// ConnectionName is the queue connection's name in the app's config, as failed rows and pause flags
// record it: the frameworks' defaults, "redis" or "database".
func (c *Conn) ConnectionName() string {
	if c.db {
		return "database"
	}
	return "redis"
}

// pausedFunc adds the library's own pause flag (Laravel 12's queue:pause, in the app's cache) to a
// worker's PausedFunc.
func (c *Conn) pausedFunc(next func(context.Context, string) bool) func(context.Context, string) bool {
	key := c.format.pauseKey(c.cfg.CachePrefix)
	if key == nil || c.cache == nil {
		return next
	}
	return func(ctx context.Context, q string) bool {
		if next != nil && next(ctx, q) {
			return true
		}
		v, err := c.cache.Get(ctx, key(c.ConnectionName(), q)).Result()
		// PHP tests the cached value for truth; Laravel stores serialize(true), "b:1;".
		return err == nil && v != "" && v != "b:0;" && v != "0" && v != "N;"
	}
}

// RestartStamp reads the restart signal: "" when nobody ever restarted.
func (c *Conn) RestartStamp(ctx context.Context) (string, error) {
	v, err := c.cache.Get(ctx, c.restartK).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", c.restartK, err)
	}
	return v, nil
}

// Restart writes the restart signal as `php think queue:restart` does: the Unix time, no TTL. Every
// worker on this signal (PHP's and the bridge's) stops after its current job.
func (c *Conn) Restart(ctx context.Context) error {
	if c.cache == nil {
		return errors.New("restart: the restart signal lives in the app's Redis cache store: name it with --cache-connection")
	}
	stamp := strconv.FormatInt(c.cfg.Clock().Unix(), 10)
	if err := c.cache.Set(ctx, c.restartK, stamp, 0).Err(); err != nil {
		return fmt.Errorf("write %s: %w", c.restartK, err)
	}
	return nil
}

// RestartKey is the key the restart signal lives under.
func (c *Conn) RestartKey() string { return c.restartK }

// Failed lists the failed store, oldest first.
func (c *Conn) Failed(ctx context.Context) ([]queue.FailedJob, error) { return c.failed.Failed(ctx) }

// Retry pushes a failed job back onto its queue (attempts reset, as think-queue's queue:retry does) and
// forgets it.
func (c *Conn) Retry(ctx context.Context, id string) error {
	rec, ok, err := c.failed.FailedJob(ctx, id)
	if err != nil {
		return fmt.Errorf("retry %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("retry %s: no such failed job", id)
	}
	payload, err := c.format.retryCopy(rec.Payload)
	if err != nil {
		// A payload that is not JSON goes back as it came: it was kept to be looked at, not rewritten.
		payload = rec.Payload
	}
	if err := c.store.Push(ctx, rec.Queue, payload); err != nil {
		return fmt.Errorf("retry %s: %w", id, err)
	}
	if _, err := c.failed.Forget(ctx, id); err != nil {
		return fmt.Errorf("retry %s: pushed back, but forget failed: %w", id, err)
	}
	return nil
}

// Forget deletes a failed job; false when there was none.
func (c *Conn) Forget(ctx context.Context, id string) (bool, error) { return c.failed.Forget(ctx, id) }

// Flush deletes every failed job and says how many.
func (c *Conn) Flush(ctx context.Context) (int, error) { return c.failed.Flush(ctx) }

// failedStore is where failed jobs are kept: the bridge's Redis keys, or the app's failed_jobs table.
type failedStore interface {
	Failed(ctx context.Context) ([]queue.FailedJob, error)
	FailedJob(ctx context.Context, id string) (queue.FailedJob, bool, error)
	Forget(ctx context.Context, id string) (bool, error)
	Flush(ctx context.Context) (int, error)
}

// sqlFailedBroker is the Redis broker with failed jobs going to SQL: the row is written first, then the
// reservation removed, so a crash in between leaves a duplicate row, never a lost job.
type sqlFailedBroker struct {
	*redisstore.Broker
	store *sqlstore.FailedStore
}

func (b sqlFailedBroker) Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error {
	if err := b.store.Insert(ctx, rec); err != nil {
		return fmt.Errorf("fail: %w", err)
	}
	if _, err := b.Broker.Delete(ctx, r.Queue, r.Member); err != nil {
		return fmt.Errorf("fail: row written, but the job is still reserved: %w", err)
	}
	return nil
}
