package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"time"
)

// Push adds payload to queue as the library's push does: attempts 0, not reserved, available and created
// now.
func (b *Broker) Push(ctx context.Context, queue string, payload []byte) error {
	_, err := b.Insert(ctx, queue, payload, b.now())
	return err
}

// Later adds payload to queue, available from at, as the library's later does (created now).
func (b *Broker) Later(ctx context.Context, queue string, payload []byte, at time.Time) error {
	_, err := b.Insert(ctx, queue, payload, at)
	return err
}

// Insert is Push (at = now) or Later returning the new row's id, which the libraries return as the job id
// (LastInsertId on MySQL and SQLite, INSERT … RETURNING "id" on PostgreSQL).
func (b *Broker) Insert(ctx context.Context, queue string, payload []byte, at time.Time) (int64, error) {
	return b.insert(ctx, b.db.pool, queue, payload, 0, at, b.now())
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (dbsql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *dbsql.Row
}

// insert adds one row and returns its id.
func (b *Broker) insert(ctx context.Context, db execer, queue string, payload []byte, attempts int, available, created time.Time) (int64, error) {
	if err := b.db.drv.checkText(string(payload), queue); err != nil {
		return 0, fmt.Errorf("push to %s queue %q: %w", b.table, queue, err)
	}
	attempts = min(max(attempts, 0), maxAttempts)
	args := make([]any, len(b.q.insertArgs))
	for i, a := range b.q.insertArgs {
		switch a {
		case argQueue:
			args[i] = queue
		case argPayload:
			args[i] = string(payload)
		case argAttempts:
			args[i] = attempts
		case argAvailable:
			args[i] = available.Unix()
		case argCreated:
			args[i] = created.Unix()
		}
	}
	var id int64
	if b.db.drv.returningID {
		if err := db.QueryRowContext(ctx, b.q.insert, args...).Scan(&id); err != nil {
			return 0, fmt.Errorf("push to %s queue %q: %w", b.table, queue, err)
		}
		return id, nil
	}
	res, err := db.ExecContext(ctx, b.q.insert, args...)
	if err == nil {
		id, err = res.LastInsertId()
	}
	if err != nil {
		return 0, fmt.Errorf("push to %s queue %q: %w", b.table, queue, err)
	}
	return id, nil
}
