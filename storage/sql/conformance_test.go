package sql

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/storage/storagetest"
)

// TestConformance runs the storage suite on the jobs tables of MariaDB, PostgreSQL and SQLite, each in
// the three libraries' layouts.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		for _, s := range jobsSchemas {
			t.Run(string(d)+"/"+s.String(), func(t *testing.T) {
				t.Parallel()
				storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Store {
					return openConformance(t, d, s, now)
				}, jobsFacts(t, s))
			})
		}
	}
}

// openConformance opens a store for the suite: a database of its own with the jobs table of schema and,
// beside it, the failed_jobs table of the same library, on one pool.
func openConformance(t *testing.T, d driverKind, schema *jobsLayout, now func() time.Time) storagetest.Store {
	t.Helper()
	ctx := context.Background()
	db := newDatabase(t, d)
	failedSchema := failedThinkQueue
	if schema == jobsLaravel {
		failedSchema = failedLaravel
	}
	pool, err := Open(ctx, db.dsn, &Options{Create: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pool.Close() })
	_, err = pool.MigrateFailed(ctx, failedSchema.Failed, DefaultFailedTable, false)
	require.NoError(t, err)
	_, err = pool.MigrateJobs(ctx, schema.Jobs, "jobs", false)
	require.NoError(t, err)
	failed, err := pool.Failed(failedSchema.Failed, DefaultFailedTable)
	require.NoError(t, err)
	b, err := pool.Jobs(ctx, schema.Jobs, "jobs", &JobsConfig{Expire: storagetest.Expire, NowFunc: now, Failed: failed})
	require.NoError(t, err)
	return &conformanceStore{Broker: b, failed: failed}
}

// jobsFacts: a row's payload is what the library's database driver pushes; attempts() comes with the
// reservation, and a release re-inserts the payload unchanged.
func jobsFacts(t *testing.T, schema *jobsLayout) storagetest.Facts {
	newPayload := func(id string) ([]byte, error) {
		return laravel.Dialect{Version: laravel.V12}.NewStringPayload(`App\Jobs\Probe@handle`, id,
			laravel.PayloadParams{UUID: id, Now: time.Unix(1_700_000_000, 0)})
	}
	if schema != jobsLaravel {
		d, err := thinkqueue.ParseDialect(schema.String())
		require.NoError(t, err)
		newPayload = func(id string) ([]byte, error) { return d.NewDBPayload(`app\job\Probe`, id) }
	}
	return storagetest.Facts{
		NewPayload:   newPayload,
		Attempts:     func(r queue.Reservation) (int, error) { return r.Attempts, nil },
		ReleasedCopy: func(r queue.Reservation) ([]byte, error) { return r.Raw, nil },
		Rows:         &storagetest.RowFacts{CountOnReserve: schema != jobsV1},
	}
}

// conformanceStore is the broker with its failed store.
type conformanceStore struct {
	*Broker
	failed *FailedStore
}

func (s *conformanceStore) Failed(ctx context.Context) ([]queue.FailedJob, error) {
	return s.failed.Failed(ctx)
}
