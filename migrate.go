package bridge

import (
	"context"
	"errors"
	"fmt"
)

// Migrate creates the tables of a database queue as the PHP library ships them — the jobs table, and the
// failed_jobs table when failed jobs live in SQL — and returns the statements; with dryRun it only returns
// them. Nothing is ever created implicitly, except in the embedded default.
func (b *Bridge) Migrate(ctx context.Context, dryRun bool) ([]string, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	if b.be.jobs == nil && b.be.sqlFail == nil {
		return nil, errors.New("migrate: the queue is on Redis and no failed database is configured (--failed-database)")
	}
	var stmts []string
	if b.be.jobs != nil {
		s, err := b.be.jobs.Migrate(ctx, dryRun)
		if err != nil {
			return nil, fmt.Errorf("migrate the jobs table: %w", err)
		}
		stmts = append(stmts, s...)
	}
	if b.be.sqlFail != nil {
		s, err := b.be.sqlFail.Migrate(ctx, dryRun)
		if err != nil {
			return nil, fmt.Errorf("migrate the failed jobs table: %w", err)
		}
		stmts = append(stmts, s...)
	}
	return stmts, nil
}
