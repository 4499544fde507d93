package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"strconv"
	"sync"
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
//
// A full batch leaves a watermark: its lowest id. The next reserves of the queue look above it, so they do
// not walk again over the rows at the head of the queue that are reserved, or deleted and not yet purged
// (InnoDB keeps a deleted row's index entries until its purge catches up, and under a fast drain that is
// tens of thousands of entries a reserve from the start must step over). Rows below the watermark that
// become ready (a lapsed reservation, a delayed job come due, a row another worker skipped) are taken by a
// reserve from the start: one that comes up short above the watermark, or the first one fullScanEvery
// after the last.
func (b *Broker) Reserve(ctx context.Context, name string, n int) ([]queue.Reservation, error) {
	if n < 1 {
		n = 1
	}
	var (
		out  []queue.Reservation
		ids  = make([]any, 0, n+1) // the reserve update's parameters: now, then the ids
		full bool
		at   time.Time
	)
	mark := b.marks.get(name)
	err := b.db.inTx(ctx, b.db.drv.reserveTx, func(tx *dbsql.Tx) error {
		out = out[:0]
		at = b.now()
		now := at.Unix()
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
		ids = append(ids[:0], now)
		full = !mark.above(at)
		if !full {
			above := append([]any{name, mark.id}, args[1:]...)
			if err := b.selectReady(ctx, tx, b.q.reserveAbove, name, above, now, &out, &ids); err != nil {
				return err
			}
			// Short above the watermark: the rows below it get their look now, not at the next full scan.
			// The rows just locked are this transaction's own, so the full select returns them again.
			full = len(out) < n
		}
		if full {
			out, ids = out[:0], ids[:1]
			if err := b.selectReady(ctx, tx, b.q.reserveSelect, name, args, now, &out, &ids); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, b.db.drv.withIDs(b.q.reserveUpdate, len(out)), ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reserve from %s queue %q: %w", b.table, name, err)
	}
	var first int64 // a batch came up short: the next reserve looks from the start
	if len(out) == n {
		first = ids[1].(int64)
	}
	b.marks.set(name, first, full, at)
	return out, nil
}

// selectReady runs a reserve select and appends its rows to out as reservations, and their ids to ids.
func (b *Broker) selectReady(ctx context.Context, tx *dbsql.Tx, q, name string, args []any, now int64, out *[]queue.Reservation, ids *[]any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
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
		*out = append(*out, queue.Reservation{Queue: name, Raw: payload, Member: []byte(strconv.FormatInt(id, 10)),
			Expires: expires, Attempts: a})
		*ids = append(*ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// lapsedBefore is the reservation time at or before which a reservation has lapsed at now; -1 (which no
// reservation time is at or before) when reservations never lapse.
func (b *Broker) lapsedBefore(now int64) int64 {
	if b.expire < 0 {
		return -1
	}
	return now - b.expire
}

// fullScanEvery bounds how long reserves may look only above a queue's watermark.
const fullScanEvery = time.Second

// watermarks are the reserve watermarks of a broker's queues. The zero value is ready to use.
type watermarks struct {
	mu sync.Mutex
	m  map[string]watermark
}

// watermark is one queue's: reserves look above id (none when 0) until fullScanEvery after scanned, the
// time of the last reserve from the start.
type watermark struct {
	id      int64
	scanned time.Time
}

// above reports whether a reserve at now may look above the watermark only.
func (w watermark) above(now time.Time) bool {
	return w.id > 0 && now.Sub(w.scanned) < fullScanEvery
}

func (ws *watermarks) get(queue string) watermark {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.m[queue]
}

// set records a reserve's outcome at now: the watermark id (0: none), and whether it looked from the start.
func (ws *watermarks) set(queue string, id int64, full bool, now time.Time) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = make(map[string]watermark)
	}
	w := ws.m[queue]
	w.id = id
	if full {
		w.scanned = now
	}
	ws.m[queue] = w
}

// reset makes the queue's next reserve look from the start.
func (ws *watermarks) reset(queue string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.m[queue]
	w.id = 0
	ws.m[queue] = w
}
