package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// Reserve takes up to n jobs of queue, lowest id first, in one transaction: rows waiting and available,
// and rows whose reservation lapsed — put back first with attempts + 1 where the layout has that step
// (think-queue 1.x's pop), reserved again as they stand otherwise. The rows are locked FOR UPDATE SKIP
// LOCKED on MySQL and PostgreSQL (plain FOR UPDATE on servers without it) and by BEGIN IMMEDIATE on
// SQLite. Deadlocks, lock wait timeouts, serialization failures and SQLITE_BUSY rerun the transaction.
// attempts never goes past 255: a row there is reserved with 255 and attempts() >= 255, for the worker
// to fail.
func (b *Broker) Reserve(ctx context.Context, name string, n int) ([]queue.Reservation, error) {
	if n < 1 {
		n = 1
	}
	var out []queue.Reservation
	err := b.db.inTx(ctx, b.db.drv.reserveTx, func(tx *dbsql.Tx) error {
		out = out[:0]
		now := b.now().Unix()
		lapsed := b.lapsedBefore(now)
		args := []any{name, now, lapsed, n}
		if b.q.recover != "" {
			if b.expire >= 0 {
				if _, err := tx.ExecContext(ctx, b.q.recover, name, lapsed); err != nil {
					return err
				}
			}
			args = []any{name, now, n}
		}
		rows, err := tx.QueryContext(ctx, b.q.reserveSelect, args...)
		if err != nil {
			return err
		}
		ids := make([]any, 0, n+1)
		ids = append(ids, now)
		for rows.Next() {
			var (
				id       int64
				payload  []byte
				attempts dbsql.NullInt64
			)
			if err := rows.Scan(&id, &payload, &attempts); err != nil {
				rows.Close()
				return err
			}
			a := int(attempts.Int64)
			if b.layout.CountsAtReserve {
				a = min(a+1, maxAttempts)
			} else {
				a++ // not stored: attempts() is the column + 1
			}
			var expires time.Time
			if b.expire >= 0 {
				expires = time.Unix(now+b.expire, 0)
			}
			out = append(out, queue.Reservation{Queue: name, Raw: payload, Member: []byte(strconv.FormatInt(id, 10)),
				Expires: expires, Attempts: a})
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, b.db.drv.withIDs(b.q.reserveUpdate, len(out)), ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reserve from %s queue %q: %w", b.table, name, err)
	}
	return out, nil
}

// lapsedBefore is the reservation time at or before which a reservation has lapsed at now; -1 (which no
// reservation time is at or before) when reservations never lapse.
func (b *Broker) lapsedBefore(now int64) int64 {
	if b.expire < 0 {
		return -1
	}
	return now - b.expire
}
