package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
// beside it, the failed_jobs table of the same library.
func openConformance(t *testing.T, d driverKind, schema JobsSchema, now func() time.Time) storagetest.Store {
	t.Helper()
	ctx := context.Background()
	db := newDatabase(t, d)
	failedSchema := SchemaThinkQueue
	if schema == JobsLaravel {
		failedSchema = SchemaLaravel
	}
	failed, err := OpenFailedStore(ctx, db.dsn, failedSchema, "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = failed.Close() })
	_, err = failed.Migrate(ctx, false)
	require.NoError(t, err)
	b, err := OpenBroker(ctx, db.dsn, schema, "", &BrokerConfig{Expire: storagetest.Expire, NowFunc: now, Failed: failed})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	_, err = b.Migrate(ctx, false)
	require.NoError(t, err)
	return &conformanceStore{Broker: b, failed: failed, db: db, schema: schema, now: now}
}

// jobsFacts: a row's payload is what the library's database driver pushes; attempts() comes with the
// reservation, and a release re-inserts the payload unchanged.
func jobsFacts(t *testing.T, schema JobsSchema) storagetest.Facts {
	newPayload := func(id string) ([]byte, error) {
		return laravel.Dialect{Version: laravel.V12}.NewStringPayload(`App\Jobs\Probe@handle`, id,
			laravel.PayloadParams{UUID: id, Now: time.Unix(1_700_000_000, 0)})
	}
	if schema != JobsLaravel {
		d, err := thinkqueue.ParseDialect(schema.String())
		require.NoError(t, err)
		newPayload = func(id string) ([]byte, error) { return d.NewDBPayload(`app\job\Probe`, id) }
	}
	return storagetest.Facts{
		NewPayload:   newPayload,
		Attempts:     func(r queue.Reservation) (int, error) { return r.Attempts, nil },
		ReleasedCopy: func(r queue.Reservation) ([]byte, error) { return r.Raw, nil },
		Rows:         &storagetest.RowFacts{CountOnReserve: schema != JobsThinkQueueV1},
	}
}

// conformanceStore is the broker with its failed store. Until the broker has read operations of its own
// (Sizes, List, Queues), it stands in for them with plain queries; once it has them, it calls the broker's,
// and the stand-ins are to be deleted.
type conformanceStore struct {
	*Broker
	failed *FailedStore
	db     *database
	schema JobsSchema
	now    func() time.Time
}

// readOperations are the broker's own read operations, once it has them.
type readOperations interface {
	Sizes(ctx context.Context, queue string) (queue.Sizes, error)
	List(ctx context.Context, queue string, state queue.State, offset, limit int) ([]queue.StoredJob, error)
	Queues(ctx context.Context) ([]string, error)
}

func (s *conformanceStore) own() (readOperations, bool) {
	r, ok := any(s.Broker).(readOperations)
	return r, ok
}

func (s *conformanceStore) Failed(ctx context.Context) ([]queue.FailedJob, error) {
	return s.failed.Failed(ctx)
}

// standIn is the stand-in's SQL for one layout: ready is available and not reserved, or reserved and
// lapsed; delayed is available later; reserved is reserved and not lapsed.
type standIn struct {
	availableAt, reservedAt string
	where                   map[queue.State]string
	args                    map[queue.State][]any
}

func (s *conformanceStore) standIn() standIn {
	held, reservedAt, availableAt := "reserved_at IS NOT NULL", "reserved_at", "available_at"
	switch s.schema {
	case JobsThinkQueueV1:
		held = "reserved = 1"
	case JobsThinkQueueV3:
		held, reservedAt, availableAt = "reserve_time IS NOT NULL", "reserve_time", "available_time"
	}
	now := s.now().Unix()
	lapsed := now - int64(storagetest.Expire/time.Second)
	return standIn{
		availableAt: availableAt,
		reservedAt:  reservedAt,
		where: map[queue.State]string{
			queue.StateReady:    fmt.Sprintf("((NOT (%s) AND %s <= ?) OR (%s AND %s <= ?))", held, availableAt, held, reservedAt),
			queue.StateDelayed:  fmt.Sprintf("(NOT (%s) AND %s > ?)", held, availableAt),
			queue.StateReserved: fmt.Sprintf("(%s AND %s > ?)", held, reservedAt),
		},
		args: map[queue.State][]any{
			queue.StateReady:    {now, lapsed},
			queue.StateDelayed:  {now},
			queue.StateReserved: {lapsed},
		},
	}
}

func (s *conformanceStore) Sizes(ctx context.Context, name string) (queue.Sizes, error) {
	if own, ok := s.own(); ok {
		return own.Sizes(ctx, name)
	}
	q := s.standIn()
	var out queue.Sizes
	for st, n := range map[queue.State]*int64{queue.StateReady: &out.Ready, queue.StateDelayed: &out.Delayed, queue.StateReserved: &out.Reserved} {
		var oldest dbsql.NullInt64
		stmt := "SELECT COUNT(*), MIN(" + q.availableAt + ") FROM " + quoteIdent(s.db.driver, s.table) +
			" WHERE queue = ? AND " + q.where[st]
		if err := s.db.raw.QueryRowContext(ctx, s.placeholders(stmt), append([]any{name}, q.args[st]...)...).Scan(n, &oldest); err != nil {
			return out, err
		}
		if st == queue.StateReady && oldest.Valid {
			out.OldestReady = time.Unix(oldest.Int64, 0)
		}
	}
	return out, nil
}

func (s *conformanceStore) List(ctx context.Context, name string, state queue.State, offset, limit int) ([]queue.StoredJob, error) {
	if own, ok := s.own(); ok {
		return own.List(ctx, name, state, offset, limit)
	}
	q := s.standIn()
	stmt := "SELECT id, payload, attempts, " + q.availableAt + ", " + q.reservedAt + " FROM " +
		quoteIdent(s.db.driver, s.table) + " WHERE queue = ? AND " + q.where[state] + " ORDER BY id LIMIT ? OFFSET ?"
	rows, err := s.db.raw.QueryContext(ctx, s.placeholders(stmt), append(append([]any{name}, q.args[state]...), limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []queue.StoredJob
	for rows.Next() {
		var (
			id, attempts, available int64
			payload                 []byte
			reservedAt              dbsql.NullInt64
		)
		if err := rows.Scan(&id, &payload, &attempts, &available, &reservedAt); err != nil {
			return nil, err
		}
		j := queue.StoredJob{Queue: name, State: state, Member: []byte(strconv.FormatInt(id, 10)), Raw: payload,
			Attempts: int(attempts)}
		switch state {
		case queue.StateDelayed:
			j.AvailableAt = time.Unix(available, 0)
		case queue.StateReserved:
			j.ReservedUntil = time.Unix(reservedAt.Int64, 0).Add(storagetest.Expire)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

func (s *conformanceStore) Queues(ctx context.Context) ([]string, error) {
	if own, ok := s.own(); ok {
		return own.Queues(ctx)
	}
	rows, err := s.db.raw.QueryContext(ctx, "SELECT DISTINCT queue FROM "+quoteIdent(s.db.driver, s.table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return nil, err
		}
		names = append(names, q)
	}
	slices.Sort(names)
	return names, rows.Err()
}

// placeholders numbers a query's "?" for PostgreSQL.
func (s *conformanceStore) placeholders(q string) string {
	if s.db.driver != driverPostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
