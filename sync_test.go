package bridge_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

type failingSync struct{ failed *error }

func (f failingSync) ProcessJob(context.Context, *bridge.Job) error { return errors.New("boom") }
func (f failingSync) Failed(_ context.Context, _ *bridge.Job, err error) {
	*f.failed = err
}

// On the sync connection a failing job's error comes back to the pusher after its Failed hook ran (think-
// queue 1.x's Sync: failed(), then rethrow); a job nobody handles is an error, not a silent drop.
func TestSyncConnection(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"thinkqueue-v1", "thinkqueue-v3", "laravel-11"} {
		b, err := bridge.Open(ctx, &bridge.Config{Connection: "sync:", Dialect: dialect, Logger: quiet})
		require.NoError(t, err)
		var failed error
		b.Handle(`app\job\Fail`, failingSync{&failed})
		_, err = b.Push(ctx, "default", `app\job\Fail`, map[string]int{"n": 1})
		require.ErrorContains(t, err, "boom", dialect)
		require.ErrorContains(t, failed, "boom", dialect)
		_, err = b.Push(ctx, "default", `app\job\Nobody`, nil)
		require.ErrorIs(t, err, bridge.ErrNoHandler, dialect)
		got, err := b.Failed(ctx)
		require.NoError(t, err)
		require.Empty(t, got)
		b.Close()
	}
}
