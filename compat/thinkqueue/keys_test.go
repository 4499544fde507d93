package thinkqueue

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueueKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dialect, queue          string
		list, delayed, reserved string
	}{
		{"thinkqueue-v1", "", "queues:default", "queues:default:delayed", "queues:default:reserved"},
		{"thinkqueue-v1", "emails", "queues:emails", "queues:emails:delayed", "queues:emails:reserved"},
		{"thinkqueue-v2", "custom", "queues:custom", "queues:custom:delayed", "queues:custom:reserved"},
		{"thinkqueue-v3-plain", "", "queues:default", "queues:default:delayed", "queues:default:reserved"},
		{"thinkqueue-v3", "", "{queues:default}", "{queues:default}:delayed", "{queues:default}:reserved"},
		{"thinkqueue-v3", "high", "{queues:high}", "{queues:high}:delayed", "{queues:high}:reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect+"/"+tt.queue, func(t *testing.T) {
			t.Parallel()
			list, delayed, reserved := mustDialect(t, tt.dialect).QueueKeys(tt.queue)
			require.Equal(t, []string{tt.list, tt.delayed, tt.reserved}, []string{list, delayed, reserved})
		})
	}
}

// TestQueueKeysMatchPushFixtures checks the key every captured push / later landed on.
func TestQueueKeysMatchPushFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			var push struct {
				Cases []struct {
					Case     string            `json:"case"`
					Call     string            `json:"php_call"`
					Args     []json.RawMessage `json:"php_args"`
					RedisKey string            `json:"redis_key"`
				} `json:"cases"`
			}
			loadFixture(t, &push, v.dir, "redis", "push.json")
			require.NotEmpty(t, push.Cases)
			d := mustDialect(t, v.dialect)
			for _, c := range push.Cases {
				// push($job, $data, $queue) / later($delay, $job, $data, $queue)
				queueArg := 2
				if c.Call == "later" {
					queueArg = 3
				}
				queue := ""
				if len(c.Args) > queueArg {
					require.NoError(t, json.Unmarshal(c.Args[queueArg], &queue), c.Case)
				}
				list, delayed, _ := d.QueueKeys(queue)
				want := list
				if c.Call == "later" {
					want = delayed
				}
				require.Equal(t, c.RedisKey, want, c.Case)
			}
		})
	}
}

func TestRestartCacheKeyMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		var restart struct {
			RedisCache struct {
				Keys []struct {
					Key   string `json:"key"`
					Value string `json:"value"`
					TTL   int    `json:"ttl"`
				} `json:"keys"`
			} `json:"redis_cache"`
		}
		loadFixture(t, &restart, v.dir, "restart.json")
		require.Len(t, restart.RedisCache.Keys, 1, v.dir)
		k := restart.RedisCache.Keys[0]
		require.Equal(t, RestartCacheKey, k.Key, v.dir)
		require.Regexp(t, `^[0-9]+$`, k.Value, v.dir)
		require.Equal(t, -1, k.TTL, v.dir)
	}
}
