package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/storage/filecache"
	redisstore "github.com/queuebridge/bridge/storage/redis"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
	"github.com/queuebridge/bridge/worker"
)

// backend is an open queue in one dialect: the store the worker drains and the producer writes, the failed
// store, and the app's cache store (restart signal, pause flags, Laravel's maxExceptions counters). It is the
// one place that pairs a storage package with a compat package.
type backend struct {
	format  format
	store   queueStore
	failed  failedStore
	jobs    *sqlstore.Broker        // when the queue is a jobs table
	sqlFail *sqlstore.FailedStore   // when failed jobs live in SQL
	cache   goredis.UniversalClient // the app's cache store; nil when there is none
	restart restartSignal           // where the restart stamp lives; nil when nowhere
	memErrs *memoryLastErrors       // jobs' last errors, when there is no cache store
	sync    bool                    // the sync connection: a push runs its job at once
	closers []io.Closer
}

// queueStore is the storage a bridge pushes to, works from and looks into.
type queueStore interface {
	worker.Broker
	Push(ctx context.Context, queue string, payload []byte) error
	Later(ctx context.Context, queue string, payload []byte, at time.Time) error
	Sizes(ctx context.Context, queue string) (queue.Sizes, error)
	List(ctx context.Context, queue string, state queue.State, offset, limit int) ([]queue.StoredJob, error)
	Queues(ctx context.Context) ([]string, error)
}

// failedStore is where failed jobs are kept: the bridge's Redis keys, or the app's failed_jobs table.
type failedStore interface {
	Failed(ctx context.Context) ([]queue.FailedJob, error)
	FailedJob(ctx context.Context, id string) (queue.FailedJob, bool, error)
	Forget(ctx context.Context, id string) (bool, error)
	Flush(ctx context.Context) (int, error)
}

// openBackend connects the queue c names (c has its defaults).
func openBackend(ctx context.Context, c *Config) (*backend, error) {
	f, err := parseFormat(c.Dialect, c.Prefix)
	if err != nil {
		return nil, err
	}
	if isSQL(c.Connection) {
		return openSQL(ctx, c, f)
	}
	if isSync(c.Connection) {
		return &backend{format: f, store: syncStore{}, failed: syncFailed{}, sync: true, memErrs: &memoryLastErrors{}}, nil
	}
	client, err := newRedisClient(c.Connection)
	if err != nil {
		return nil, err
	}
	be, err := redisBackend(ctx, client, c, f)
	if err != nil {
		client.Close()
		return nil, err
	}
	be.closers = append(be.closers, client)
	if err := client.Ping(ctx).Err(); err != nil {
		be.close()
		return nil, fmt.Errorf("connect %s: %w", redactURL(c.Connection), redactErr(err, c.Connection))
	}
	return be, nil
}

// redisBackend works a queue on the caller's Redis client, which close leaves open.
func redisBackend(ctx context.Context, client goredis.UniversalClient, c *Config, f format) (*backend, error) {
	b, err := redisstore.New(client, f.keys(), &redisstore.Config{
		Expire:          c.Expire,
		NowFunc:         c.Clock,
		FailedKeyPrefix: c.FailedKeyPrefix,
	})
	if err != nil {
		return nil, err
	}
	be := &backend{format: f, store: b, failed: b, cache: client, memErrs: &memoryLastErrors{}}
	if c.FailedDatabase != "" {
		db, err := sqlstore.Open(ctx, c.FailedDatabase, nil)
		if err != nil {
			return nil, fmt.Errorf("failed database: %w", redactErr(err, c.FailedDatabase))
		}
		be.closers = append(be.closers, db)
		store, err := db.Failed(f.failedTable(), c.FailedTable)
		if err != nil {
			be.close()
			return nil, err
		}
		be.sqlFail, be.failed = store, store
		be.store = sqlFailedBroker{b, store}
	}
	if err := be.openCache(c); err != nil {
		be.close()
		return nil, err
	}
	return be, nil
}

// openCache connects the app's cache store, when one is named, in place of the queue's own Redis. A
// ThinkPHP File cache (file:DIR) holds only the restart stamp: the bridge's own keys stay on the queue's
// Redis, when the queue has one.
func (be *backend) openCache(c *Config) error {
	if dir, ok := fileCacheDir(c.CacheConnection); ok {
		be.restart = fileRestart{store: &filecache.Store{Dir: dir, Prefix: c.CachePrefix, NowFunc: c.Clock},
			form: thinkqueue.CacheFormOf(c.Dialect)}
		return nil
	}
	if c.CacheConnection != "" {
		cache, err := newRedisClient(c.CacheConnection)
		if err != nil {
			return fmt.Errorf("cache connection: %w", err)
		}
		be.cache = cache
		be.closers = append(be.closers, cache)
	}
	if be.cache != nil {
		be.restart = redisRestart{be.cache}
	}
	return nil
}

func (be *backend) close() error {
	var errs []error
	for _, cl := range be.closers {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// database reports whether the queue is a jobs table, which counts attempts in a column.
func (be *backend) database() bool { return be.jobs != nil }

// newRedisClient opens a client for a connection URL (see Config.Connection).
func newRedisClient(connection string) (goredis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(connection, "://")
	if !ok {
		return nil, fmt.Errorf("connection %s: want scheme://…, e.g. redis://127.0.0.1:6379/0", redactURL(connection))
	}
	parseErr := func(err error) error {
		return fmt.Errorf("connection %s: %w", redactURL(connection), redactErr(err, connection))
	}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := goredis.ParseURL(connection)
		if err != nil {
			return nil, parseErr(err)
		}
		return goredis.NewClient(o), nil
	case "redis+cluster", "rediss+cluster":
		o, err := goredis.ParseClusterURL(strings.TrimSuffix(scheme, "+cluster") + "://" + rest)
		if err != nil {
			return nil, parseErr(err)
		}
		return goredis.NewClusterClient(o), nil
	case "redis+sentinel", "rediss+sentinel":
		o, err := goredis.ParseFailoverURL(strings.TrimSuffix(scheme, "+sentinel") + "://" + rest)
		if err != nil {
			return nil, parseErr(err)
		}
		return goredis.NewFailoverClient(o), nil
	}
	return nil, fmt.Errorf("connection %s: unknown scheme %q (want redis, rediss, unix, redis+cluster, redis+sentinel, mysql, postgres or sqlite)", redactURL(connection), scheme)
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
