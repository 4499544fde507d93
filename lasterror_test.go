package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// think-queue 1.x fails a job on the pop past --tries, without running it; its failed record keeps the error
// of the run that used up the tries, not only "attempted too many times" — on Redis and on a jobs table.
func TestFailedRecordKeepsTheLastError(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t)
	prefix := fmt.Sprintf("qblasterr%d", rand.Int64())
	t.Cleanup(func() { deleteKeys(rdb, "*"+prefix+"*") })
	for _, conn := range []string{exampleRedis(), "sqlite:" + filepath.Join(t.TempDir(), "q.db")} {
		ctx := context.Background()
		cfg := &bridge.Config{
			Connection:      conn,
			Dialect:         "thinkqueue-v1",
			FailedKeyPrefix: prefix,
			Logger:          quiet,
			Worker: bridge.WorkerConfig{Queues: []string{prefix}, Tries: 2, StopWhenEmpty: true,
				Sleep: time.Millisecond, Backoff: []time.Duration{0}},
		}
		if conn != exampleRedis() {
			_, err := bridge.Migrate(ctx, cfg, false)
			require.NoError(t, err)
		}
		b, err := bridge.Open(ctx, cfg)
		require.NoError(t, err)
		defer b.Close()
		runs := 0
		b.HandleFunc(`app\job\Hello`, func(context.Context, *bridge.Job) error {
			runs++
			return errors.New("refusing to greet 'fail'")
		})
		_, err = b.Push(ctx, prefix, `app\job\Hello`, map[string]string{"name": "fail"})
		require.NoError(t, err)
		require.NoError(t, b.Run(ctx))
		require.Equal(t, 2, runs, conn)
		failed, err := b.Failed(ctx)
		require.NoError(t, err)
		require.Len(t, failed, 1, conn)
		require.Contains(t, failed[0].Exception, "attempted too many times", conn)
		require.Contains(t, failed[0].Exception, "last error: refusing to greet 'fail'", conn)
		_, err = b.Flush(ctx)
		require.NoError(t, err)
	}
}
