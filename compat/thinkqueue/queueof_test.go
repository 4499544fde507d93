package thinkqueue

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueueOf(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"thinkqueue-v1", "thinkqueue-v3", "thinkqueue-v3-plain"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, name)
			prefix := strings.TrimSuffix(d.QueuePattern(), "*")
			for _, queue := range []string{"default", "emails", "a:b", "{x}"} {
				list, delayed, reserved := d.QueueKeys(queue)
				for _, key := range []string{list, delayed, reserved} {
					require.True(t, strings.HasPrefix(key, prefix), "%s matches %s", key, d.QueuePattern())
					got, ok := d.QueueOf(key)
					require.True(t, ok, key)
					require.Equal(t, queue, got, key)
				}
			}
			for _, key := range []string{"queues:", "{queues:}", "queues", "think:queue:restart",
				"{queuebridge:failed}", "other:queues:x"} {
				_, ok := d.QueueOf(key)
				require.False(t, ok, key)
			}
		})
	}
	t.Run("SchemesDoNotMix", func(t *testing.T) {
		t.Parallel()
		_, ok := mustDialect(t, "thinkqueue-v3").QueueOf("queues:default")
		require.False(t, ok)
		got, ok := mustDialect(t, "thinkqueue-v1").QueueOf("{queues:default}")
		require.False(t, ok, got)
	})
}
