package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/phpjson"
)

// pushCase is one entry of a push.json fixture: what PHP's Queue::push / Queue::later wrote.
type pushCase struct {
	Case     string          `json:"case"`
	Call     string          `json:"php_call"`
	Args     json.RawMessage `json:"php_args"`
	TBefore  int64           `json:"t_before"`
	Return   *string         `json:"return"`
	RedisKey string          `json:"redis_key"`
	Score    *float64        `json:"score"`
	RawFile  string          `json:"raw_file"`
}

// TestPushMatchesFixtures pushes every fixture case through Conn.Push with the fixture's id and clock injected,
// and requires the key, the bytes and the score PHP wrote.
func TestPushMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, dialect string }{{"v1", "thinkqueue-v1"}, {"v2", "thinkqueue-v2"}, {"v3", "thinkqueue-v3"}} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("..", "shared", "fixtures", "thinkqueue", tc.version, "redis")
			blob, err := os.ReadFile(filepath.Join(dir, "push.json"))
			require.NoError(t, err, "the think-queue fixtures must sit beside the checkout")
			var fx struct {
				Cases []pushCase `json:"cases"`
			}
			require.NoError(t, json.Unmarshal(blob, &fx))
			require.NotEmpty(t, fx.Cases)

			rdb := testRedis(t)
			tag := fmt.Sprintf("pushfx%d", rand.Int64())
			t.Cleanup(func() { deleteKeys(rdb, "*"+tag+"*") })
			ran := 0
			for _, c := range fx.Cases {
				if c.Case == "object_job" {
					continue // a serialized PHP object: only PHP makes those
				}
				raw, err := os.ReadFile(filepath.Join(dir, c.RawFile))
				require.NoError(t, err)
				payload, err := phpjson.Decode(raw)
				require.NoError(t, err)
				m := payload.(*phpjson.Map)
				job, _ := m.Get("job")
				data, _ := m.Get("data")
				id, _ := m.Get("id")

				queueName := "default"
				if strings.Contains(c.RedisKey, "custom") {
					queueName = "custom"
				}
				queueName = tag + queueName
				var delay time.Duration
				if c.Call == "later" {
					require.NotNil(t, c.Score, c.Case)
					delay = time.Duration(int64(*c.Score)-c.TBefore) * time.Second
				}
				cn, err := bridge.OpenRedis(context.Background(), rdb, &bridge.Config{
					Dialect: tc.dialect,
					Clock:   func() time.Time { return time.Unix(c.TBefore, 0) },
					IDFunc:  func() string { return id.(string) },
					Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				require.NoError(t, err)
				encoded, err := phpjson.Encode(data)
				require.NoError(t, err)
				got, err := cn.Later(context.Background(), delay, queueName, job.(string), json.RawMessage(encoded))
				require.NoError(t, err, c.Case)
				if c.Return != nil {
					require.Equal(t, *c.Return, got, c.Case)
				}

				key := strings.Replace(c.RedisKey, "queues:"+strings.TrimPrefix(queueName, tag), "queues:"+queueName, 1)
				if c.Call == "later" {
					zs, err := rdb.ZRangeWithScores(context.Background(), key, 0, -1).Result()
					require.NoError(t, err)
					require.Len(t, zs, 1, c.Case)
					require.Equal(t, string(raw), zs[0].Member, c.Case)
					require.Equal(t, *c.Score, zs[0].Score, c.Case)
				} else {
					items, err := rdb.LRange(context.Background(), key, 0, -1).Result()
					require.NoError(t, err)
					require.Equal(t, []string{string(raw)}, items, c.Case)
				}
				require.NoError(t, rdb.Del(context.Background(), key).Err())
				ran++
			}
			require.Equal(t, 13, ran)
		})
	}
}

// testRedis is the test Redis: QB_REDIS_ADDR (default 127.0.0.1:6379), database 4.
func testRedis(t *testing.T) *goredis.Client {
	t.Helper()
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, DB: 4})
	require.NoError(t, rdb.Ping(context.Background()).Err())
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func deleteKeys(rdb *goredis.Client, pattern string) {
	ctx := context.Background()
	keys, _ := rdb.Keys(ctx, pattern).Result()
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}
