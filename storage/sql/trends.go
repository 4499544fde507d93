package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// TrendsTable is the bridge's own table of per-queue, per-minute counters, in the app's database beside its
// jobs table; the bridge creates it on first use. It is never one of the PHP libraries' tables.
const TrendsTable = "queuebridge_trends"

// TrendsTTL is how long trend rows are kept: a day, like Horizon's metric snapshots.
const TrendsTTL = 24 * time.Hour

// trendsDDL creates TrendsTable: minute is Unix seconds / 60.
func (d *dbDriver) trendsDDL() string {
	text := "VARCHAR(255)"
	if d.kind == driverSQLite {
		text = "TEXT"
	}
	return "CREATE TABLE IF NOT EXISTS " + d.ident(TrendsTable) + " (" +
		d.ident("queue") + " " + text + " NOT NULL, " + d.ident("minute") + " BIGINT NOT NULL, " +
		d.ident("processed") + " BIGINT NOT NULL DEFAULT 0, " + d.ident("failed") + " BIGINT NOT NULL DEFAULT 0, " +
		d.ident("wait_ms") + " BIGINT NOT NULL DEFAULT 0, " + d.ident("wait_n") + " BIGINT NOT NULL DEFAULT 0, " +
		"PRIMARY KEY (" + d.ident("queue") + ", " + d.ident("minute") + "))"
}

// trendsUpsert adds one minute's increments to its row, creating it.
func (d *dbDriver) trendsUpsert() string {
	t := d.ident(TrendsTable)
	q := "INSERT INTO " + t + " (" + d.ident("queue") + ", " + d.ident("minute") + ", " + d.ident("processed") + ", " +
		d.ident("failed") + ", " + d.ident("wait_ms") + ", " + d.ident("wait_n") + ") VALUES (?, ?, ?, ?, ?, ?) "
	add := func(c, from string) string { return d.ident(c) + " = " + t + "." + d.ident(c) + " + " + from }
	if d.kind == driverMySQL {
		q += "ON DUPLICATE KEY UPDATE "
		for i, c := range []string{"processed", "failed", "wait_ms", "wait_n"} {
			if i > 0 {
				q += ", "
			}
			q += add(c, "VALUES("+d.ident(c)+")")
		}
		return q
	}
	q += "ON CONFLICT (" + d.ident("queue") + ", " + d.ident("minute") + ") DO UPDATE SET "
	for i, c := range []string{"processed", "failed", "wait_ms", "wait_n"} {
		if i > 0 {
			q += ", "
		}
		q += add(c, "excluded."+d.ident(c))
	}
	return d.bind(q)
}

// ensureTrends creates TrendsTable the first time this broker needs it.
func (b *Broker) ensureTrends(ctx context.Context) error {
	if b.trendsReady.Load() {
		return nil
	}
	if _, err := b.db.exec(ctx, b.db.drv.trendsDDL()); err != nil {
		return fmt.Errorf("create %s: %w", TrendsTable, err)
	}
	b.trendsReady.Store(true)
	return nil
}

// AddTrends adds points (each a minute's increments) to a queue's rows of TrendsTable, in one transaction
// that also drops rows older than TrendsTTL. Every bridge adds to the same rows.
func (b *Broker) AddTrends(ctx context.Context, name string, points []queue.TrendPoint) error {
	if err := b.ensureTrends(ctx); err != nil {
		return err
	}
	d := b.db.drv
	upsert := d.trendsUpsert()
	expired := d.bind("DELETE FROM " + d.ident(TrendsTable) + " WHERE " + d.ident("minute") + " < ?")
	err := b.db.inTx(ctx, nil, func(tx *dbsql.Tx) error {
		for _, p := range points {
			if _, err := tx.ExecContext(ctx, upsert, name, p.Minute.Unix()/60, p.Processed, p.Failed,
				p.WaitSum.Milliseconds(), p.WaitCount); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, expired, b.now().Add(-TrendsTTL).Unix()/60)
		return err
	})
	if err != nil {
		return fmt.Errorf("add trends of %s: %w", name, err)
	}
	return nil
}

// Trends returns a queue's rows of TrendsTable from the minute since falls in, oldest first.
func (b *Broker) Trends(ctx context.Context, name string, since time.Time) ([]queue.TrendPoint, error) {
	if err := b.ensureTrends(ctx); err != nil {
		return nil, err
	}
	d := b.db.drv
	q := d.bind("SELECT " + d.ident("minute") + ", " + d.ident("processed") + ", " + d.ident("failed") + ", " +
		d.ident("wait_ms") + ", " + d.ident("wait_n") + " FROM " + d.ident(TrendsTable) + " WHERE " + d.ident("queue") +
		" = ? AND " + d.ident("minute") + " >= ? ORDER BY " + d.ident("minute"))
	rows, err := b.db.pool.QueryContext(ctx, q, name, since.Unix()/60)
	if err != nil {
		return nil, fmt.Errorf("trends of %s: %w", name, err)
	}
	defer rows.Close()
	var out []queue.TrendPoint
	for rows.Next() {
		var minute, waitMS int64
		var p queue.TrendPoint
		if err := rows.Scan(&minute, &p.Processed, &p.Failed, &waitMS, &p.WaitCount); err != nil {
			return nil, fmt.Errorf("trends of %s: %w", name, err)
		}
		p.Minute, p.WaitSum = time.Unix(minute*60, 0), time.Duration(waitMS)*time.Millisecond
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trends of %s: %w", name, err)
	}
	return out, nil
}
