package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// Delete removes the rows of queue whose ids members name and returns how many there were. Members that
// are not row ids are skipped.
func (b *Broker) Delete(ctx context.Context, queue string, members ...[]byte) (int, error) {
	args := make([]any, 0, len(members)+1)
	args = append(args, queue)
	for _, m := range members {
		if id, ok := parseMember(m); ok {
			args = append(args, id)
		}
	}
	if len(args) == 1 {
		return 0, nil
	}
	res, err := b.db.exec(ctx, b.db.drv.withIDs(b.q.deleteIDs, len(args)-1), args...)
	if err != nil {
		return 0, fmt.Errorf("delete from %s queue %q: %w", b.table, queue, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete from %s queue %q: %w", b.table, queue, err)
	}
	return int(n), nil
}

// Release ends reservation r as the libraries' release does, in one transaction: the row is deleted and a
// new row (new id) is inserted with payload, attempts = r.Attempts (the column + 1 where reservations do
// not count; the column as reserved where they do), not reserved, available at at, created now. A row
// that is gone already is false, and nothing is inserted.
func (b *Broker) Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error) {
	id, ok := parseMember(r.Member)
	if !ok {
		return false, nil
	}
	var found bool
	err := b.db.inTx(ctx, nil, func(tx *dbsql.Tx) error {
		res, err := tx.ExecContext(ctx, b.q.deleteID, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if found = n > 0; !found {
			return nil
		}
		_, err = b.insert(ctx, tx, r.Queue, payload, r.Attempts, at, b.now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("release job %s of %s queue %q: %w", r.Member, b.table, r.Queue, err)
	}
	return found, nil
}

// HandBack ends reservation r leaving the row as it was before it: not reserved, and the reservation's
// attempt taken back where reservations count. false means the row is not reserved (any more).
func (b *Broker) HandBack(ctx context.Context, r queue.Reservation) (bool, error) {
	b.marks.reset(r.Queue) // the row waits again below the watermark
	return b.update(ctx, "hand back", r, b.q.handBack)
}

// Extend moves the reservation time of r so the reservation lapses at until. false means the row is not
// reserved (any more). When reservations never lapse it only checks that.
func (b *Broker) Extend(ctx context.Context, r queue.Reservation, until time.Time) (bool, error) {
	if b.expire < 0 {
		id, ok := parseMember(r.Member)
		if !ok {
			return false, nil
		}
		var n int
		if err := b.db.pool.QueryRowContext(ctx, b.q.held, id).Scan(&n); err != nil {
			return false, fmt.Errorf("extend job %s of %s queue %q: %w", r.Member, b.table, r.Queue, err)
		}
		return n > 0, nil
	}
	return b.update(ctx, "extend", r, b.q.extend, until.Unix()-b.expire)
}

func (b *Broker) update(ctx context.Context, what string, r queue.Reservation, q string, args ...any) (bool, error) {
	id, ok := parseMember(r.Member)
	if !ok {
		return false, nil
	}
	res, err := b.db.exec(ctx, q, append(args, id)...)
	if err != nil {
		return false, fmt.Errorf("%s job %s of %s queue %q: %w", what, r.Member, b.table, r.Queue, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s job %s of %s queue %q: %w", what, r.Member, b.table, r.Queue, err)
	}
	return n > 0, nil
}

// Fail writes rec to JobsConfig.Failed (Queue and Payload default to r's), then deletes r's row.
func (b *Broker) Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error {
	if b.failed == nil {
		return fmt.Errorf("fail job %s of %s queue %q: the broker has no failed-job store (JobsConfig.Failed)", r.Member, b.table, r.Queue)
	}
	if rec.Queue == "" {
		rec.Queue = r.Queue
	}
	if rec.Payload == nil {
		rec.Payload = r.Raw
	}
	if err := b.failed.Insert(ctx, rec); err != nil {
		return err
	}
	id, ok := parseMember(r.Member)
	if !ok {
		return nil
	}
	if _, err := b.db.exec(ctx, b.q.deleteID, id); err != nil {
		return fmt.Errorf("fail job %s of %s queue %q: delete: %w", r.Member, b.table, r.Queue, err)
	}
	return nil
}

// parseMember reads a row id from a reservation's Member.
func parseMember(m []byte) (int64, bool) {
	id, err := strconv.ParseInt(string(m), 10, 64)
	return id, err == nil && id > 0
}
