package bridge

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/queuebridge/bridge/worker"
)

// DefaultDialect is the dialect of a Config that names none: think-queue 3.x, the ThinkPHP 6/8 line.
const DefaultDialect = "thinkqueue-v3"

// Config says where the queue lives, in which PHP library's format, and how Run works it. The zero value
// is the embedded default: think-queue 3.x jobs in an SQLite file the bridge owns.
type Config struct {
	// Connection is the queue backend: redis://[user:password@]host:port/db, rediss://… (TLS), unix://…,
	// redis+cluster://host:port?addr=host2:port2, redis+sentinel://host:port?master_name=m; or a database
	// queue (the app's jobs table): mysql://user:pass@host:3306/db?table=jobs&prefix=tp_,
	// postgres://user:pass@host:5432/db?table=jobs, sqlite:path; or sync: (think-queue's Sync driver: a push
	// runs its handler at once, for development and tests). Default EmbeddedConnection, whose tables the
	// bridge creates.
	Connection string
	// Dialect is the PHP library whose format the queue uses: thinkqueue-v1, thinkqueue-v2 (same bytes as
	// v1), thinkqueue-v3 (keys {queues:X}, think-queue ≥ 3.0.5), thinkqueue-v3-plain (keys queues:X,
	// 3.0.0–3.0.4), or laravel-8 … laravel-12. Default DefaultDialect.
	Dialect string
	// Prefix is Laravel's Redis connection prefix (database.redis.options.prefix). Default
	// "laravel_database_" for Laravel; think-queue has none.
	Prefix string
	// Expire is think-queue's expire / Laravel's retry_after: how long a reservation lasts before another
	// worker may take the job again. Default 60s; -1 is v1's `expire => null` (reservations never lapse).
	Expire time.Duration
	// CacheConnection is the Redis of the app's cache store, where `php think queue:restart` writes its
	// signal (and Laravel its pause flags and maxExceptions counters). Default: the queue's own Redis.
	// For think-queue it may be file:DIR, the directory of ThinkPHP's File cache (the cache's path option,
	// e.g. /app/runtime/cache): the restart signal is then read and written there, in the form of the
	// dialect's framework line (thinkqueue-v1: ThinkPHP 5.0), and the pause flags have no store.
	CacheConnection string
	// CachePrefix is the app cache store's key prefix (think-queue's cache prefix, Laravel's cache.prefix;
	// in a File cache, a subdirectory). Default "" for think-queue, the framework's default for Laravel.
	CachePrefix string
	// RestartKey, when set, is the cache key of the restart signal after CachePrefix. Default: the
	// library's own (`think:queue:restart`; Laravel's `illuminate:queue:restart` with its prefixes).
	RestartKey string
	// FailedKeyPrefix names the bridge's own failed-store keys on Redis. Default "queuebridge".
	FailedKeyPrefix string
	// FailedDatabase, when set, keeps failed jobs in the app's failed_jobs table instead: mysql://…,
	// postgres://…, sqlite:path. The table's schema follows the dialect (Laravel's with uuid, think-queue 3.x's).
	FailedDatabase string
	// FailedTable is that table's name, the app's table prefix included. Default "failed_jobs".
	FailedTable string
	// Worker tunes Run: queues, concurrency, tries, delays, timeouts.
	Worker WorkerConfig
	// Logger receives logs. Default slog.Default().
	Logger *slog.Logger
	// Clock gives "now" to every timestamp written and every decision that depends on time. Default time.Now.
	Clock func() time.Time
	// IDFunc makes job ids and failed-record ids. Default: the library's own (think-queue: 32 letters,
	// Laravel: 32 letters and digits).
	IDFunc func() string
}

// WorkerConfig tunes a worker: which queues, how many jobs at once, tries, delays and timeouts. Its
// Expire, Logger, Clock and IDFunc come from the Config it runs under.
type WorkerConfig = worker.Config

// WithDefaults returns a copy of c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Connection == "" {
		c.Connection = EmbeddedConnection
	}
	if c.Dialect == "" {
		c.Dialect = DefaultDialect
	}
	if c.Expire == 0 {
		c.Expire = 60 * time.Second
	}
	if c.FailedKeyPrefix == "" {
		c.FailedKeyPrefix = "queuebridge"
	}
	if c.FailedTable == "" {
		c.FailedTable = "failed_jobs"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if len(c.Worker.Queues) == 0 {
		c.Worker.Queues = []string{"default"}
	}
	return c
}

// Validate reports what is wrong with c, naming the field; it does not connect.
func (c *Config) Validate() error {
	var errs []error
	if _, err := parseFormat(cmp.Or(c.Dialect, DefaultDialect), c.Prefix); err != nil {
		errs = append(errs, fmt.Errorf("config: Dialect: %w", err))
	}
	if c.Connection != "" && !isSQL(c.Connection) && !isSync(c.Connection) {
		if err := checkRedisURL(c.Connection); err != nil {
			errs = append(errs, fmt.Errorf("config: Connection: %w", err))
		}
	}
	if dir, ok := fileCacheDir(c.CacheConnection); ok {
		switch {
		case dir == "":
			errs = append(errs, errors.New("config: CacheConnection file: names no directory (file:/app/runtime/cache)"))
		case strings.HasPrefix(cmp.Or(c.Dialect, DefaultDialect), "laravel-"):
			errs = append(errs, fmt.Errorf("config: CacheConnection %s: file: is ThinkPHP's File cache; Laravel's file cache store is another format (use its Redis store)", c.CacheConnection))
		}
	} else if c.CacheConnection != "" {
		if err := checkRedisURL(c.CacheConnection); err != nil {
			errs = append(errs, fmt.Errorf("config: CacheConnection: %w", err))
		}
	}
	if c.Expire < -1 {
		errs = append(errs, fmt.Errorf("config: Expire %s: want a positive duration, or -1 for never", c.Expire))
	}
	w := c.Worker
	switch {
	case w.Concurrency < 0:
		errs = append(errs, fmt.Errorf("config: Worker.Concurrency %d: want 1 or more", w.Concurrency))
	case w.Tries < 0:
		errs = append(errs, fmt.Errorf("config: Worker.Tries %d: want 0 (unlimited) or more", w.Tries))
	case w.Delay < 0:
		errs = append(errs, fmt.Errorf("config: Worker.Delay %s is negative", w.Delay))
	}
	for _, q := range w.Queues {
		if q == "" {
			errs = append(errs, errors.New("config: Worker.Queues: an empty queue name"))
		}
	}
	return errors.Join(errs...)
}

// checkRedisURL parses a Redis connection URL without connecting.
func checkRedisURL(connection string) error {
	client, err := newRedisClient(connection)
	if err != nil {
		return err
	}
	return client.Close()
}
