package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/storage/filecache"
)

// errNoCache is returned by operations that need the app's Redis cache store when there is none.
var errNoCache = errors.New("the restart signal and pause flags live in the app's Redis cache store: name it with --cache-connection (Config.CacheConnection); a ThinkPHP File cache (file:DIR) holds the restart signal only")

// errNoRestart is returned by Restart when the restart signal lives nowhere.
var errNoRestart = errors.New("the restart signal lives in the app's cache store: name it with --cache-connection (Config.CacheConnection), redis://… or file:DIR for ThinkPHP's File cache")

// Restart writes the restart signal as `php think queue:restart` / `php artisan queue:restart` do: the Unix
// time, no TTL, in the app's Redis cache store or ThinkPHP's File cache. Every worker on this signal, PHP's
// and the bridge's, stops after its current jobs.
func (b *Bridge) Restart(ctx context.Context) error {
	if err := b.ready(); err != nil {
		return err
	}
	if b.be.restart == nil {
		return fmt.Errorf("restart: %w", errNoRestart)
	}
	if err := b.be.restart.write(ctx, b.RestartKey(), b.cfg.Clock()); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}

// RestartKey is the cache key the restart signal lives under: RestartKey after the cache prefix, or the
// library's own key. A File cache's prefix is a directory, not part of the key.
func (b *Bridge) RestartKey() string {
	if b.be == nil {
		return ""
	}
	prefix := b.cfg.CachePrefix
	if _, ok := b.be.restart.(fileRestart); ok {
		prefix = ""
	}
	if b.cfg.RestartKey != "" {
		return prefix + b.cfg.RestartKey
	}
	return b.be.format.restartKey(prefix)
}

// restartStamp reads the restart signal: "" when nobody ever restarted.
func (b *Bridge) restartStamp(ctx context.Context) (string, error) {
	return b.be.restart.stamp(ctx, b.RestartKey())
}

// restartSignal is where the restart stamp lives: a Redis cache store, or ThinkPHP's File cache.
type restartSignal interface {
	// stamp is the signal's value, "" when nobody ever restarted.
	stamp(ctx context.Context, key string) (string, error)
	// write sets the signal to the time at.
	write(ctx context.Context, key string, at time.Time) error
}

// redisRestart is the signal in a Redis cache store: the Unix time as a decimal string, no TTL.
type redisRestart struct{ cache goredis.UniversalClient }

func (r redisRestart) stamp(ctx context.Context, key string) (string, error) {
	v, err := r.cache.Get(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

func (r redisRestart) write(ctx context.Context, key string, at time.Time) error {
	if err := r.cache.Set(ctx, key, strconv.FormatInt(at.Unix(), 10), 0).Err(); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// fileRestart is the signal in ThinkPHP's File cache, in the form of the app's framework line.
type fileRestart struct {
	store *filecache.Store
	form  thinkqueue.CacheForm
}

func (r fileRestart) stamp(ctx context.Context, key string) (string, error) {
	data, ok, err := r.store.Get(ctx, key)
	if err != nil || !ok {
		return "", err
	}
	v, err := r.form.ParseRestartValue(data)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", r.store.Path(key), err)
	}
	return v, nil
}

func (r fileRestart) write(ctx context.Context, key string, at time.Time) error {
	return r.store.Set(ctx, key, r.form.RestartValue(at))
}

// fileCacheDir is the directory of a file:DIR cache connection.
func fileCacheDir(connection string) (string, bool) {
	return strings.CutPrefix(connection, "file:")
}
