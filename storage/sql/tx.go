package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"math/rand/v2"
	"time"
)

// maxTxTries is how many times a transaction that hit a deadlock, a lock wait timeout, a serialization
// failure or SQLITE_BUSY is run in all.
const maxTxTries = 8

// inTx runs fn in a transaction and commits it, running it again (with a short random wait) when the
// database reports a deadlock, a lock wait timeout, a serialization failure or SQLITE_BUSY: those roll the
// whole transaction back, so no row is lost or reserved twice.
func (d *DB) inTx(ctx context.Context, opts *dbsql.TxOptions, fn func(tx *dbsql.Tx) error) error {
	for try := 1; ; try++ {
		err := d.runTx(ctx, opts, fn)
		if err == nil || try >= maxTxTries || !d.drv.retryable(err) {
			return err
		}
		if werr := retryWait(ctx, try); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

// exec runs one statement in autocommit, running it again like inTx when it was a deadlock victim.
func (d *DB) exec(ctx context.Context, q string, args ...any) (dbsql.Result, error) {
	for try := 1; ; try++ {
		res, err := d.pool.ExecContext(ctx, q, args...)
		if err == nil || try >= maxTxTries || !d.drv.retryable(err) {
			return res, err
		}
		if werr := retryWait(ctx, try); werr != nil {
			return nil, errors.Join(err, werr)
		}
	}
}

func (d *DB) runTx(ctx context.Context, opts *dbsql.TxOptions, fn func(tx *dbsql.Tx) error) error {
	tx, err := d.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// retryWait sleeps a short, growing, random while before the next try.
func retryWait(ctx context.Context, try int) error {
	wait := time.Duration(try) * (2*time.Millisecond + rand.N(8*time.Millisecond))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
