package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ExceptionCounter keeps Laravel's per-job exception counts (maxExceptions) in the app's Redis cache store,
// where PHP workers keep them too, so both count one job's exceptions together. It satisfies
// compat/laravel's ExceptionCounter.
type ExceptionCounter struct {
	client goredis.UniversalClient
}

// NewExceptionCounter returns a counter on client, the app's cache connection, which it does not close.
func NewExceptionCounter(client goredis.UniversalClient) *ExceptionCounter {
	return &ExceptionCounter{client: client}
}

// Increment creates the count at 0 with ttl when it is missing (SET NX EX) and adds one (INCR), in one
// MULTI, and returns the new count. As in PHP, a later increment keeps the first TTL.
func (c *ExceptionCounter) Increment(ctx context.Context, key string, ttl time.Duration) (int, error) {
	var incr *goredis.IntCmd
	_, err := c.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.SetNX(ctx, key, 0, ttl)
		incr = pipe.Incr(ctx, key)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redis: count exception %s: %w", key, err)
	}
	return int(incr.Val()), nil
}

// Forget deletes the count (DEL).
func (c *ExceptionCounter) Forget(ctx context.Context, key string) error {
	if err := c.client.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("redis: forget exceptions %s: %w", key, err)
	}
	return nil
}
