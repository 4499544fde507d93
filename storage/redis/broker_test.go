package redis

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

func TestNew(t *testing.T) {
	t.Parallel()

	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	cluster := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	t.Cleanup(func() { _ = cluster.Close() })

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg := &Config{}
		b, err := New(client, v1Like, cfg)
		require.NoError(t, err)
		require.Equal(t, int64(60), b.expire)
		require.Equal(t, "{queuebridge:failed}", b.failedKey)
		require.Equal(t, "{queuebridge:failed}:index", b.failedIndexKey)
		require.NotNil(t, b.now)
		require.Equal(t, Config{}, *cfg, "New must not change the caller's config")

		b, err = New(client, v1Like, nil)
		require.NoError(t, err)
		require.Equal(t, int64(60), b.expire)
	})

	t.Run("ExpireOff", func(t *testing.T) {
		t.Parallel()
		b, err := New(client, v1Like, &Config{Expire: -1})
		require.NoError(t, err)
		require.Equal(t, int64(-1), b.expire)
	})

	t.Run("ClusterWithHashTags", func(t *testing.T) {
		t.Parallel()
		_, err := New(cluster, v3Like, nil)
		require.NoError(t, err)
	})

	for _, tt := range []struct {
		name    string
		client  goredis.UniversalClient
		dialect Dialect
		cfg     *Config
		wantErr string
	}{
		{"NilClient", nil, v1Like, nil, "client is nil"},
		{"NilDialect", client, nil, nil, "dialect is nil"},
		{"ExpireBelowMinusOne", client, v1Like, &Config{Expire: -2}, "Config.Expire"},
		{"ExpireFraction", client, v1Like, &Config{Expire: 1500 * time.Millisecond}, "Config.Expire"},
		{"ClusterWithPlainKeys", cluster, v1Like, nil, "different Cluster hash slots"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.client, tt.dialect, tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestHashTag(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"queues:x":              "queues:x",
		"{queues:x}:delayed":    "queues:x",
		"a{b}c{d}":              "b",
		"{}queues:x":            "{}queues:x",
		"queues:{x":             "queues:{x",
		"{queuebridge:failed}":  "queuebridge:failed",
		"pre{queues:x}:reserve": "queues:x",
	} {
		require.Equal(t, want, hashTag(key), key)
	}
}

func TestPushLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v3Like, nil)

	require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(job("a", 0))))
	require.NoError(t, tb.broker.Push(ctx, tb.queue, []byte(job("b", 0))))
	require.NoError(t, tb.broker.Later(ctx, tb.queue, []byte(job("c", 0)), tb.clock.Now().Add(10*time.Second)))
	require.NoError(t, tb.broker.Later(ctx, tb.queue, []byte(job("d", 0)), tb.clock.Now().Add(3600*time.Second)))

	want := map[string][]string{
		tb.list:    {job("a", 0), job("b", 0)},
		tb.delayed: {zentry(job("c", 0), 10), zentry(job("d", 0), 3600)},
	}
	require.Empty(t, cmp.Diff(want, tb.state(t)), "(-want, +got)")
}

func TestSizesListClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v1Like, nil)

	sizes, err := tb.broker.Sizes(ctx, tb.queue)
	require.NoError(t, err)
	require.Equal(t, queue.Sizes{}, sizes)
	listed, err := tb.broker.List(ctx, tb.queue, queue.StateReady, 0, 5)
	require.NoError(t, err)
	require.Empty(t, listed)
	n, err := tb.broker.Clear(ctx, tb.queue)
	require.NoError(t, err)
	require.Zero(t, n)

	tb.seedList(t, job("a", 1), job("b", 1), job("c", 1))
	tb.seedZSet(t, tb.delayed, 5, job("d", 1), job("e", 1))
	tb.seedZSet(t, tb.held, 60, job("f", 1))

	sizes, err = tb.broker.Sizes(ctx, tb.queue)
	require.NoError(t, err)
	require.Equal(t, queue.Sizes{Ready: 3, Delayed: 2, Reserved: 1}, sizes)

	listed, err = tb.broker.List(ctx, tb.queue, queue.StateReady, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []string{job("a", 1), job("b", 1)}, storedRaws(listed))
	_, err = tb.broker.List(ctx, tb.queue, queue.StateReady, 0, 0)
	require.ErrorContains(t, err, "limit at least 1")

	n, err = tb.broker.Clear(ctx, tb.queue)
	require.NoError(t, err)
	require.Equal(t, 6, n)
	require.Empty(t, tb.state(t))
}

func TestRestartStamp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := setup(t, v1Like, nil)
	key := tb.queue + ":think:queue:restart"
	t.Cleanup(func() { tb.client.Del(context.Background(), key) })

	stamp, err := tb.broker.RestartStamp(ctx, key)
	require.NoError(t, err)
	require.Empty(t, stamp)

	require.NoError(t, tb.broker.SignalRestart(ctx, key, "1795655585"))
	stamp, err = tb.broker.RestartStamp(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "1795655585", stamp)
	ttl, err := tb.client.TTL(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, time.Duration(-1), ttl, "think-queue's restart key has no TTL")
}
