package redis

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/laravel"
)

var _ laravel.ExceptionCounter = (*ExceptionCounter)(nil)

// The count starts at 0 with the TTL of the first exception, which later increments keep, and Forget
// removes it.
func TestExceptionCounter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := testClient(t)
	key := uniqueName(t) + ":job-exceptions:00000000-0000-4000-8000-000000000001"
	t.Cleanup(func() { client.Del(context.Background(), key) })
	c := NewExceptionCounter(client)

	for want := 1; want <= 3; want++ {
		n, err := c.Increment(ctx, key, 24*time.Hour)
		require.NoError(t, err)
		require.Equal(t, want, n)
		if want == 1 {
			// a TTL set again would show: the first one must still tick down from a day
			require.NoError(t, client.Expire(ctx, key, time.Hour).Err())
		}
	}
	ttl, err := client.TTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute)
	require.LessOrEqual(t, ttl, time.Hour)
	v, err := client.Get(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, "3", v, "a plain decimal, as Laravel's RedisStore stores numbers")

	require.NoError(t, c.Forget(ctx, key))
	require.ErrorIs(t, client.Get(ctx, key).Err(), goredis.Nil)
	n, err := c.Increment(ctx, key, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a forgotten count starts again")
	ttl, err = client.TTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*time.Second)
	require.LessOrEqual(t, ttl, time.Minute)
}

// A count PHP started (Cache::put(key, 0, ttl), then increments) goes on in Go.
func TestExceptionCounterSharesPHPCount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := testClient(t)
	key := uniqueName(t) + ":job-exceptions:u"
	t.Cleanup(func() { client.Del(context.Background(), key) })
	require.NoError(t, client.Set(ctx, key, "0", time.Hour).Err()) // Cache::put(key, 0, 3600)
	require.NoError(t, client.IncrBy(ctx, key, 1).Err())
	n, err := NewExceptionCounter(client).Increment(ctx, key, 24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

// A cache that cannot be reached is an error, with the key but not the address's secrets.
func TestExceptionCounterErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var accepted []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range accepted {
			_ = conn.Close()
		}
	})
	go func() { // accepts and never answers
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, conn)
			mu.Unlock()
		}
	}()
	client := goredis.NewClient(&goredis.Options{Addr: ln.Addr().String(), Password: "s3cret", ReadTimeout: 100 * time.Millisecond,
		MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	c := NewExceptionCounter(client)
	_, err = c.Increment(context.Background(), "k", time.Hour)
	require.Error(t, err)
	require.Contains(t, err.Error(), "count exception k")
	require.NotContains(t, err.Error(), "s3cret")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Forget(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, goredis.Nil))
}
