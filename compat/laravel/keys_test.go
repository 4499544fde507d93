package laravel

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueueKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dialect Dialect
		queue   string
		want    [4]string
	}{
		{Dialect{Version: V8, Prefix: DefaultPrefix}, "", [4]string{"laravel_database_queues:default",
			"laravel_database_queues:default:delayed", "laravel_database_queues:default:reserved", "laravel_database_queues:default:notify"}},
		{Dialect{Version: V12, Prefix: "laravel-database-"}, "emails", [4]string{"laravel-database-queues:emails",
			"laravel-database-queues:emails:delayed", "laravel-database-queues:emails:reserved", "laravel-database-queues:emails:notify"}},
		{Dialect{Version: V11}, "{high}", [4]string{"queues:{high}", "queues:{high}:delayed", "queues:{high}:reserved", "queues:{high}:notify"}},
	}
	for _, tt := range tests {
		t.Run(tt.dialect.Name()+"/"+tt.queue, func(t *testing.T) {
			t.Parallel()
			list, delayed, reserved := tt.dialect.QueueKeys(tt.queue)
			require.Equal(t, tt.want, [4]string{list, delayed, reserved, tt.dialect.NotifyKey(tt.queue)})
		})
	}
}

// TestQueueKeysFixtures checks every key redis/push.json shows: each list push wrote <list> and <notify>,
// each later() a <delayed> member, and popping every list queue left a <reserved> member.
func TestQueueKeysFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			var push struct {
				RedisPrefix string `json:"redis_prefix"`
				Cases       map[string]struct {
					Key         string `json:"key"`
					How         string `json:"how"`
					ReturnValue string `json:"return_value"`
					PayloadFile string `json:"payload_file"`
				} `json:"cases"`
				AfterPushes []struct {
					Key string `json:"key"`
				} `json:"redis_db0_after_all_pushes"`
				AfterPops []struct {
					Key string `json:"key"`
				} `json:"redis_db0_after_popping_every_list_queue_once"`
				ReservedPerCase map[string]struct {
					Queue string `json:"queue"`
				} `json:"reserved_per_case"`
			}
			loadFixture(t, &push, v.dir, "redis", "push.json")
			require.Equal(t, d.Prefix, push.RedisPrefix)
			keysOf := func(entries []struct {
				Key string `json:"key"`
			}) map[string]bool {
				m := map[string]bool{}
				for _, e := range entries {
					m[e.Key] = true
				}
				return m
			}
			pushed, popped := keysOf(push.AfterPushes), keysOf(push.AfterPops)
			require.Len(t, push.Cases, 14)
			for name, c := range push.Cases {
				// RedisQueue::push returns the payload's id, later() too (Unique::dispatch() returns its
				// PendingDispatch instead).
				p := mustParse(t, d, readFixture(t, v.dir, c.PayloadFile))
				if c.ReturnValue != "(PendingDispatch)" {
					require.Equal(t, c.ReturnValue, p.ID, name)
				}

				if c.How == "ZADD member" {
					queue := strings.TrimSuffix(strings.TrimPrefix(c.Key, d.Prefix+"queues:"), ":delayed")
					_, delayed, _ := d.QueueKeys(queue)
					require.Equal(t, c.Key, delayed, name)
					require.False(t, pushed[d.NotifyKey(queue)], "later() writes no notify token: %s", name)
					continue
				}
				queue := push.ReservedPerCase[name].Queue
				require.NotEmpty(t, queue, name)
				list, _, reserved := d.QueueKeys(queue)
				require.Equal(t, c.Key, list, name)
				require.True(t, pushed[d.NotifyKey(queue)], name)
				require.True(t, popped[reserved], name)
				require.False(t, popped[list], "pop empties the list: %s", name)
			}
		})
	}
}

func TestCacheKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v                      Version
		cachePrefix            string
		restart, pause, custom string
	}{
		{V8, "laravel_cache", "laravel_database_laravel_cache:illuminate:queue:restart", "", "laravel_database_laravel_cache:job-exceptions:u"},
		{V8, "", "laravel_database_illuminate:queue:restart", "", "laravel_database_job-exceptions:u"},
		{V10, "laravel_cache", "laravel_database_laravel_cache:illuminate:queue:restart", "", "laravel_database_laravel_cache:job-exceptions:u"},
		{V11, "laravel_cache_", "laravel_database_laravel_cache_illuminate:queue:restart", "", "laravel_database_laravel_cache_job-exceptions:u"},
		{V12, "laravel-cache-", "laravel_database_laravel-cache-illuminate:queue:restart",
			"laravel_database_laravel-cache-illuminate:queue:paused:redis:emails", "laravel_database_laravel-cache-job-exceptions:u"},
	}
	for _, tt := range tests {
		t.Run(Dialect{Version: tt.v}.Name()+"/"+tt.cachePrefix, func(t *testing.T) {
			t.Parallel()
			d := Dialect{Version: tt.v, Prefix: DefaultPrefix}
			require.Equal(t, tt.restart, d.RestartCacheKey(tt.cachePrefix))
			require.Equal(t, tt.custom, d.CacheKey(tt.cachePrefix, "job-exceptions:u"))
			pause, ok := d.PauseCacheKey(tt.cachePrefix, "redis", "emails")
			require.Equal(t, tt.pause != "", ok)
			require.Equal(t, tt.pause, pause)
		})
	}
}

// TestCacheKeysFixtures matches cache/restart_pause.json: queue:restart (and on 12.x Queue::pause /
// pauseFor) on the redis cache store with each version's default cache prefix.
func TestCacheKeysFixtures(t *testing.T) {
	t.Parallel()
	type entry struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value string `json:"value"`
		TTL   int    `json:"ttl"`
	}
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			var push struct {
				CachePrefix string `json:"cache_prefix_config"`
			}
			loadFixture(t, &push, v.dir, "redis", "push.json")
			// Some member names hold commas, which struct tags cannot spell.
			var fx map[string]json.RawMessage
			loadFixture(t, &fx, v.dir, "cache", "restart_pause.json")
			var restart, paused, pausedFor []entry
			var get string
			require.NoError(t, json.Unmarshal(fx["cache_get_illuminate:queue:restart"], &get))
			require.NoError(t, json.Unmarshal(fx["redis_db1_after_restart"], &restart))
			require.Equal(t, []entry{{Key: d.RestartCacheKey(push.CachePrefix), Type: "string", Value: "1735787045", TTL: -1}}, restart)
			require.Equal(t, "1735787045", get)

			pause, ok := d.PauseCacheKey(push.CachePrefix, "redis", "default")
			require.Equal(t, v.dir == "v12", ok)
			if !ok {
				require.NotContains(t, fx, "redis_db1_after_Queue::pause(redis, default)")
				return
			}
			require.NoError(t, json.Unmarshal(fx["redis_db1_after_Queue::pause(redis, default)"], &paused))
			require.NoError(t, json.Unmarshal(fx["redis_db1_after_Queue::pauseFor(redis, emails, 300)"], &pausedFor))
			require.Contains(t, paused, entry{Key: pause, Type: "string", Value: "b:1;", TTL: -1})
			pauseFor, _ := d.PauseCacheKey(push.CachePrefix, "redis", "emails")
			require.Contains(t, pausedFor, entry{Key: pauseFor, Type: "string", Value: "b:1;", TTL: 300})
		})
	}
}
