package laravel

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueueOf(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{DefaultPrefix, "laravel-database-", ""} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, "laravel-12")
			d.Prefix = prefix
			require.Equal(t, prefix+"queues:*", d.QueuePattern())
			for _, queue := range []string{"default", "emails", "a:b", "{default}"} {
				list, delayed, reserved := d.QueueKeys(queue)
				for _, key := range []string{list, delayed, reserved} {
					require.True(t, strings.HasPrefix(key, prefix+"queues:"), key)
					got, ok := d.QueueOf(key)
					require.True(t, ok, key)
					require.Equal(t, queue, got, key)
				}
				_, ok := d.QueueOf(d.NotifyKey(queue))
				require.False(t, ok, "the notify list holds no jobs")
			}
			for _, key := range []string{prefix + "queues:", prefix + "laravel_cache:illuminate:queue:restart", "x" + prefix + "queues:a"} {
				_, ok := d.QueueOf(key)
				require.False(t, ok, key)
			}
		})
	}
	t.Run("GlobCharactersInThePrefix", func(t *testing.T) {
		t.Parallel()
		d := mustDialect(t, "laravel-12")
		d.Prefix = `app*[1]?\_`
		require.Equal(t, `app\*\[1\]\?\\_queues:*`, d.QueuePattern())
		got, ok := d.QueueOf(`app*[1]?\_queues:default:reserved`)
		require.True(t, ok)
		require.Equal(t, "default", got)
	})
}
