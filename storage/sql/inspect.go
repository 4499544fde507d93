package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// Size counts the rows of queue, reserved and delayed ones included, as the libraries' size() does.
func (b *Broker) Size(ctx context.Context, queue string) (int64, error) {
	var n int64
	if err := b.db.pool.QueryRowContext(ctx, b.q.size, queue).Scan(&n); err != nil {
		return 0, fmt.Errorf("size of %s queue %q: %w", b.table, queue, err)
	}
	return n, nil
}

// Sizes counts the jobs of a queue by state at the clock's now: ready (available and not reserved, or
// reserved and lapsed, since any worker may take those), delayed (available later) and reserved (not
// lapsed). OldestReady is when the oldest ready job became ready: its available_at, or for a lapsed
// reservation the moment it lapsed.
func (b *Broker) Sizes(ctx context.Context, name string) (queue.Sizes, error) {
	now := b.now().Unix()
	lapsed := b.lapsedBefore(now)
	var s queue.Sizes
	var oldest dbsql.NullInt64
	err := b.db.pool.QueryRowContext(ctx, b.q.sizes, now, lapsed, now, lapsed, now, lapsed, max(b.expire, 0), name).
		Scan(&s.Ready, &s.Delayed, &s.Reserved, &oldest)
	if err != nil {
		return queue.Sizes{}, fmt.Errorf("sizes of %s queue %q: %w", b.table, name, err)
	}
	if oldest.Valid {
		s.OldestReady = time.Unix(oldest.Int64, 0)
	}
	return s, nil
}

// List returns up to limit jobs of queue in state, oldest (lowest id) first, after skipping offset of
// them; looking never reserves a job. States are as Sizes counts them. AvailableAt is set for delayed
// jobs, ReservedUntil for reserved ones when reservations lapse.
func (b *Broker) List(ctx context.Context, name string, state queue.State, offset, limit int) ([]queue.StoredJob, error) {
	lq, ok := b.q.list[state]
	if !ok {
		return nil, fmt.Errorf("list %s queue %q: unknown state %q", b.table, name, state)
	}
	if offset < 0 || limit < 0 {
		return nil, fmt.Errorf("list %s queue %q: offset %d and limit %d must not be negative", b.table, name, offset, limit)
	}
	if limit == 0 {
		return nil, nil
	}
	now := b.now().Unix()
	args := []any{name}
	for _, a := range lq.args {
		if a == argNow {
			args = append(args, now)
		} else {
			args = append(args, b.lapsedBefore(now))
		}
	}
	rows, err := b.db.pool.QueryContext(ctx, lq.q, append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("list %s queue %q: %w", b.table, name, err)
	}
	defer rows.Close()
	var out []queue.StoredJob
	for rows.Next() {
		var (
			id                              int64
			payload                         []byte
			attempts, available, reservedAt dbsql.NullInt64
		)
		if err := rows.Scan(&id, &payload, &attempts, &available, &reservedAt); err != nil {
			return nil, fmt.Errorf("list %s queue %q: %w", b.table, name, err)
		}
		j := queue.StoredJob{Queue: name, State: state, Member: []byte(strconv.FormatInt(id, 10)), Raw: payload,
			Attempts: int(attempts.Int64)}
		switch {
		case state == queue.StateDelayed && available.Valid:
			j.AvailableAt = time.Unix(available.Int64, 0)
		case state == queue.StateReserved && reservedAt.Valid && b.expire >= 0:
			j.ReservedUntil = time.Unix(reservedAt.Int64+b.expire, 0)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s queue %q: %w", b.table, name, err)
	}
	return out, nil
}

// Queues returns the name of every queue the table holds a job for, sorted (by bytes, whatever the
// database's collation).
func (b *Broker) Queues(ctx context.Context) ([]string, error) {
	rows, err := b.db.pool.QueryContext(ctx, b.q.queues)
	if err != nil {
		return nil, fmt.Errorf("queues of %s: %w", b.table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return nil, fmt.Errorf("queues of %s: %w", b.table, err)
		}
		out = append(out, q)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("queues of %s: %w", b.table, err)
	}
	slices.Sort(out)
	return out, nil
}
