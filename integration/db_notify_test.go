package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestPostgresNotify: an idle bridge on a PostgreSQL jobs table with --sleep 30s starts a job long before
// its next poll when the bridge pushed it (the push's NOTIFY), when plain SQL inserted it with the opt-in
// trigger installed (as a PHP producer would), and when a delayed job comes due; without the trigger, a
// plainly inserted job is found by the poll.
func TestPostgresNotify(t *testing.T) {
	t.Parallel()
	const soon = 10 * time.Second // well before the 30 s poll
	cases := []struct {
		name    string
		trigger bool
		sleep   time.Duration
		push    func(t *testing.T, be *backend, pusher *bridge.Bridge, q string)
	}{
		{"bridge push", false, 30 * time.Second, func(t *testing.T, _ *backend, pusher *bridge.Bridge, q string) {
			_, err := pusher.Push(context.Background(), q, `test\Noop`, map[string]any{})
			require.NoError(t, err)
		}},
		{"bridge later", false, 30 * time.Second, func(t *testing.T, _ *backend, pusher *bridge.Bridge, q string) {
			_, err := pusher.Later(context.Background(), time.Second, q, `test\Noop`, map[string]any{})
			require.NoError(t, err)
		}},
		{"SQL insert with the trigger", true, 30 * time.Second, insertPlain},
		{"SQL insert without the trigger", false, time.Second, insertPlain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t, "postgres", dialectV3)
			if c.trigger {
				// As a person installs it: what `bridge migrate --notify` prints, run by hand.
				code, sql, errOut := be.CLI(context.Background(), "migrate", "--notify")
				require.Equal(t, 0, code, errOut)
				be.Exec(sql)
			}
			q := be.Queue("notify")
			br := be.Open(bridge.WorkerConfig{Queues: []string{q}, Sleep: c.sleep})
			started := make(chan struct{}, 1)
			br.HandleFunc(`test\Noop`, func(context.Context, *bridge.Job) error {
				started <- struct{}{}
				return nil
			})
			runBackground(t, br)
			waitFor(t, "the bridge listens", func() bool {
				return be.Count("pg_stat_activity", "datname = current_database() AND query LIKE 'LISTEN %' AND state = 'idle'") == 1
			})
			pusher := be.Open(bridge.WorkerConfig{})
			c.push(t, be, pusher, q)
			limit := soon
			if c.sleep < soon {
				limit = waitLimit // found by the poll, whenever that is
			}
			select {
			case <-started:
			case <-time.After(limit):
				require.FailNow(t, "the job did not start within "+limit.String())
			}
		})
	}
}

// insertPlain inserts a job into queue q with plain SQL, as a PHP producer does: a row of a payload the
// bridge made for another queue.
func insertPlain(t *testing.T, be *backend, pusher *bridge.Bridge, q string) {
	_, err := pusher.Push(context.Background(), q+".src", `test\Noop`, map[string]any{})
	require.NoError(t, err)
	be.Exec(`INSERT INTO jobs (queue, payload, attempts, available_time, create_time)
		SELECT ?, payload, attempts, available_time, create_time FROM jobs WHERE queue = ?`, q, q+".src")
}
