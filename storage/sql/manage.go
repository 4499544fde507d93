package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// ErrNoFreeID is Edit's answer to a move to the front of a queue when no row id below the queue's next
// job is free: the jobs tables run the lowest id first, so the job cannot get ahead of it.
var ErrNoFreeID = errors.New("no free row id below the queue's next job")

// waitingCond is the layout's "not reserved" condition.
func (b *Broker) waitingCond() string {
	if b.layout.Reserved != "" {
		return b.db.drv.ident(b.layout.Reserved) + " = 0"
	}
	return b.db.drv.ident(b.layout.ReservedAt) + " IS NULL"
}

// Find returns the row with that id, in the state List would list it in, except that a lapsed reservation
// is reported reserved (ReservedUntil past): only a worker takes it back. Looking never reserves it.
func (b *Broker) Find(ctx context.Context, id int64) (queue.StoredJob, bool, error) {
	d := b.db.drv
	q := d.bind("SELECT " + d.ident(colQueue) + ", " + d.ident(colPayload) + ", " + d.ident(colAttempts) + ", " +
		d.ident(b.layout.AvailableAt) + ", " + d.ident(b.layout.ReservedAt) + ", CASE WHEN " + b.waitingCond() + " THEN 0 ELSE 1 END FROM " +
		d.ident(b.table) + " WHERE " + d.ident(colID) + " = " + d.idParam)
	var (
		j                   queue.StoredJob
		attempts, available dbsql.NullInt64
		reservedAt          dbsql.NullInt64
		held                int
	)
	err := b.db.pool.QueryRowContext(ctx, q, id).Scan(&j.Queue, &j.Raw, &attempts, &available, &reservedAt, &held)
	if errors.Is(err, dbsql.ErrNoRows) {
		return queue.StoredJob{}, false, nil
	}
	if err != nil {
		return queue.StoredJob{}, false, fmt.Errorf("find job %d in %s: %w", id, b.table, err)
	}
	j.Member, j.Attempts = []byte(strconv.FormatInt(id, 10)), int(attempts.Int64)
	switch {
	case held == 1:
		j.State = queue.StateReserved
		if reservedAt.Valid && b.expire >= 0 {
			j.ReservedUntil = time.Unix(reservedAt.Int64+b.expire, 0)
		}
	case available.Int64 > b.now().Unix():
		j.State, j.AvailableAt = queue.StateDelayed, time.Unix(available.Int64, 0)
	default:
		j.State = queue.StateReady
		if available.Valid {
			j.AvailableAt = time.Unix(available.Int64, 0)
		}
	}
	return j, true, nil
}

// Cancel deletes the row when it is waiting (ready or delayed), in one statement; false when it is not
// (reserved by a worker, or gone), and then nothing changed.
func (b *Broker) Cancel(ctx context.Context, id int64) (bool, error) {
	d := b.db.drv
	q := d.bind("DELETE FROM " + d.ident(b.table) + " WHERE " + d.ident(colID) + " = " + d.idParam + " AND " + b.waitingCond())
	res, err := b.db.exec(ctx, q, id)
	if err != nil {
		return false, fmt.Errorf("cancel job %d in %s: %w", id, b.table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cancel job %d in %s: %w", id, b.table, err)
	}
	return n > 0, nil
}

// RowEdit is what Edit changes in a waiting row; zero fields keep the row's.
type RowEdit struct {
	Payload     []byte
	Queue       string
	AvailableAt time.Time
	// Front gives the row an id below the queue's next ready job (and makes it available now), so the
	// next reserve takes it: the libraries reserve the lowest id first.
	Front bool
}

// Edit changes a waiting row in one transaction whose UPDATE checks that the row is still not reserved.
// It returns the row's id (a new one after Front) and false when the row is reserved or gone, in which
// case nothing changed. Front fails with ErrNoFreeID when the ids below the queue's next job are taken.
func (b *Broker) Edit(ctx context.Context, id int64, e RowEdit) (int64, bool, error) {
	d := b.db.drv
	tbl, idCol, qu := d.ident(b.table), d.ident(colID), d.ident(colQueue)
	newID, found := id, false
	err := b.db.inTx(ctx, nil, func(tx *dbsql.Tx) error {
		newID, found = id, false
		var sets []string
		var args []any
		if e.Payload != nil {
			sets, args = append(sets, d.ident(colPayload)+" = ?"), append(args, e.Payload)
		}
		if e.Queue != "" {
			sets, args = append(sets, qu+" = ?"), append(args, e.Queue)
		}
		at := e.AvailableAt
		if e.Front {
			now := b.now()
			if at.IsZero() || at.After(now) {
				at = now
			}
			front, err := b.frontID(ctx, tx, id, e.Queue, at.Unix())
			if err != nil {
				return err
			}
			if front != id {
				sets, args = append(sets, idCol+" = "+d.idParam), append(args, front)
				newID = front
			}
		}
		if !at.IsZero() {
			sets, args = append(sets, d.ident(b.layout.AvailableAt)+" = ?"), append(args, at.Unix())
		}
		if len(sets) == 0 {
			sets = append(sets, qu+" = "+qu) // nothing to change: still tell a waiting row from a reserved one
		}
		q := "UPDATE " + tbl + " SET "
		for i, s := range sets {
			if i > 0 {
				q += ", "
			}
			q += s
		}
		q = d.bind(q + " WHERE " + idCol + " = " + d.idParam + " AND " + b.waitingCond())
		res, err := tx.ExecContext(ctx, q, append(args, id)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if found = n > 0; !found {
			newID = id
		}
		return nil
	})
	if errors.Is(err, dbsql.ErrNoRows) {
		return id, false, nil // frontID found the row gone
	}
	if err != nil {
		return id, false, fmt.Errorf("edit job %d in %s: %w", id, b.table, err)
	}
	return newID, found, nil
}

// frontID is the id that puts row id ahead of every job of the queue (its own, or to) that is ready at
// now: id itself when it is ahead already, else the id just below the first such job, when that is free.
func (b *Broker) frontID(ctx context.Context, tx *dbsql.Tx, id int64, to string, now int64) (int64, error) {
	d := b.db.drv
	tbl, idCol, qu := d.ident(b.table), d.ident(colID), d.ident(colQueue)
	if to == "" {
		if err := tx.QueryRowContext(ctx, d.bind("SELECT "+qu+" FROM "+tbl+" WHERE "+idCol+" = "+d.idParam), id).Scan(&to); err != nil {
			return 0, err
		}
	}
	var first dbsql.NullInt64
	q := d.bind("SELECT MIN(" + idCol + ") FROM " + tbl + " WHERE " + qu + " = ? AND " + idCol + " <> " + d.idParam + " AND " +
		b.waitingCond() + " AND " + d.ident(b.layout.AvailableAt) + " <= ?")
	if err := tx.QueryRowContext(ctx, q, to, id, now).Scan(&first); err != nil {
		return 0, err
	}
	if !first.Valid || first.Int64 > id {
		return id, nil
	}
	var below dbsql.NullInt64
	if err := tx.QueryRowContext(ctx, d.bind("SELECT MAX("+idCol+") FROM "+tbl+" WHERE "+idCol+" < "+d.idParam), first.Int64).Scan(&below); err != nil {
		return 0, err
	}
	front := first.Int64 - 1
	if front < 1 || (below.Valid && below.Int64 >= front) {
		return 0, fmt.Errorf("move to the front of %q: the next job there is row %d: %w", to, first.Int64, ErrNoFreeID)
	}
	return front, nil
}

// ClearWaiting deletes the queue's waiting rows, ready and delayed, and returns how many; reserved rows
// are left to the workers running them.
func (b *Broker) ClearWaiting(ctx context.Context, name string) (int, error) {
	d := b.db.drv
	res, err := b.db.exec(ctx, d.bind("DELETE FROM "+d.ident(b.table)+" WHERE "+d.ident(colQueue)+" = ? AND "+b.waitingCond()), name)
	if err != nil {
		return 0, fmt.Errorf("clear %s queue %q: %w", b.table, name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("clear %s queue %q: %w", b.table, name, err)
	}
	return int(n), nil
}
