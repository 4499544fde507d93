package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// errNoCache is returned by operations that need the app's Redis cache store when there is none.
var errNoCache = errors.New("the restart signal and pause flags live in the app's Redis cache store: name it with --cache-connection (Config.CacheConnection)")

// Restart writes the restart signal as `php think queue:restart` / `php artisan queue:restart` do: the Unix
// time, no TTL. Every worker on this signal, PHP's and the bridge's, stops after its current jobs.
func (b *Bridge) Restart(ctx context.Context) error {
	if err := b.ready(); err != nil {
		return err
	}
	if b.be.cache == nil {
		return fmt.Errorf("restart: %w", errNoCache)
	}
	key := b.RestartKey()
	stamp := strconv.FormatInt(b.cfg.Clock().Unix(), 10)
	if err := b.be.cache.Set(ctx, key, stamp, 0).Err(); err != nil {
		return fmt.Errorf("restart: write %s: %w", key, err)
	}
	return nil
}

// RestartKey is the cache key the restart signal lives under: RestartKey after the cache prefix, or the
// library's own key.
func (b *Bridge) RestartKey() string {
	if b.be == nil {
		return ""
	}
	if b.cfg.RestartKey != "" {
		return b.cfg.CachePrefix + b.cfg.RestartKey
	}
	return b.be.format.restartKey(b.cfg.CachePrefix)
}

// restartStamp reads the restart signal: "" when nobody ever restarted.
func (b *Bridge) restartStamp(ctx context.Context) (string, error) {
	key := b.RestartKey()
	v, err := b.be.cache.Get(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}
