package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// The bridge's own tables of `bridge report`, in the app's database beside its jobs table, made on first
// use (never one of the PHP libraries' tables): ReportTable holds a counter per job class, minute (Unix
// seconds / 60) and name (go.runs, php.failed, …); MismatchTable the kept shadow mismatches (JSON), at_ns
// ordering them.
const (
	ReportTable   = "queuebridge_report"
	MismatchTable = "queuebridge_report_mismatches"
)

// ReportCounters keeps what bridges counted of each job class on a jobs-table connection without Redis,
// so any bridge can report on all of them (the Redis twin is storage/redis.ReportCounters).
type ReportCounters struct {
	b     *Broker
	keep  int
	ready atomic.Bool // the tables are known to exist
}

// ReportCounters returns the report counters in b's database, keeping a class's newest keep mismatches.
func (b *Broker) ReportCounters(keep int) *ReportCounters { return &ReportCounters{b: b, keep: keep} }

func (c *ReportCounters) ensure(ctx context.Context) error {
	if c.ready.Load() {
		return nil
	}
	d := c.b.db.drv
	text, long := "VARCHAR(255)", "TEXT"
	if d.kind == driverSQLite {
		text = "TEXT"
	}
	for _, ddl := range []string{
		"CREATE TABLE IF NOT EXISTS " + d.ident(ReportTable) + " (" + d.ident("class") + " " + text + " NOT NULL, " +
			d.ident("minute") + " BIGINT NOT NULL, " + d.ident("name") + " " + shortText(d) + " NOT NULL, " +
			d.ident("n") + " BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (" + d.ident("class") + ", " + d.ident("minute") + ", " +
			d.ident("name") + "))",
		"CREATE TABLE IF NOT EXISTS " + d.ident(MismatchTable) + " (" + d.ident("class") + " " + text + " NOT NULL, " +
			d.ident("at_ns") + " BIGINT NOT NULL, " + d.ident("body") + " " + long + " NOT NULL)",
	} {
		if _, err := c.b.db.exec(ctx, ddl); err != nil {
			return fmt.Errorf("create the report tables: %w", err)
		}
	}
	c.ready.Store(true)
	return nil
}

func shortText(d *dbDriver) string {
	if d.kind == driverSQLite {
		return "TEXT"
	}
	return "VARCHAR(64)"
}

// upsert adds to one counter, creating it.
func (c *ReportCounters) upsert() string {
	d := c.b.db.drv
	t := d.ident(ReportTable)
	q := "INSERT INTO " + t + " (" + d.ident("class") + ", " + d.ident("minute") + ", " + d.ident("name") + ", " +
		d.ident("n") + ") VALUES (?, ?, ?, ?) "
	if d.kind == driverMySQL {
		return q + "ON DUPLICATE KEY UPDATE " + d.ident("n") + " = " + t + "." + d.ident("n") + " + VALUES(" + d.ident("n") + ")"
	}
	return d.bind(q + "ON CONFLICT (" + d.ident("class") + ", " + d.ident("minute") + ", " + d.ident("name") +
		") DO UPDATE SET " + d.ident("n") + " = " + t + "." + d.ident("n") + " + excluded." + d.ident("n"))
}

// Add adds the deltas in one transaction, which also drops counters and mismatches older than ttl and
// mismatches past a class's newest keep.
func (c *ReportCounters) Add(ctx context.Context, deltas []queue.ReportDelta, ttl time.Duration) error {
	if len(deltas) == 0 {
		return nil
	}
	if err := c.ensure(ctx); err != nil {
		return err
	}
	d := c.b.db.drv
	upsert := c.upsert()
	insertMismatch := d.bind("INSERT INTO " + d.ident(MismatchTable) + " (" + d.ident("class") + ", " + d.ident("at_ns") + ", " +
		d.ident("body") + ") VALUES (?, ?, ?)")
	nth := d.bind("SELECT " + d.ident("at_ns") + " FROM " + d.ident(MismatchTable) + " WHERE " + d.ident("class") +
		" = ? ORDER BY " + d.ident("at_ns") + " DESC LIMIT 1 OFFSET ?")
	trim := d.bind("DELETE FROM " + d.ident(MismatchTable) + " WHERE " + d.ident("class") + " = ? AND " + d.ident("at_ns") + " <= ?")
	expired := d.bind("DELETE FROM " + d.ident(ReportTable) + " WHERE " + d.ident("minute") + " < ?")
	expiredMismatches := d.bind("DELETE FROM " + d.ident(MismatchTable) + " WHERE " + d.ident("at_ns") + " < ?")
	now := c.b.now()
	err := c.b.db.inTx(ctx, nil, func(tx *dbsql.Tx) error {
		at := now.UnixNano()
		for _, delta := range deltas {
			if err := d.checkText(delta.Class); err != nil {
				return err
			}
			for name, n := range delta.Counts {
				if _, err := tx.ExecContext(ctx, upsert, delta.Class, delta.Minute, name, n); err != nil {
					return err
				}
			}
			if len(delta.Mismatches) == 0 {
				continue
			}
			for _, m := range delta.Mismatches {
				at++ // oldest first, each after the last
				if _, err := tx.ExecContext(ctx, insertMismatch, delta.Class, at, string(m)); err != nil {
					return err
				}
			}
			var past int64
			switch err := tx.QueryRowContext(ctx, nth, delta.Class, c.keep).Scan(&past); err {
			case nil:
				if _, err := tx.ExecContext(ctx, trim, delta.Class, past); err != nil {
					return err
				}
			case dbsql.ErrNoRows: // keep or fewer
			default:
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, expired, now.Add(-ttl).Unix()/60); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, expiredMismatches, now.Add(-ttl).UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("flush report counters: %w", err)
	}
	return nil
}

// Read sums the counters of the minutes from first to last (inclusive) for every class counted in them,
// each with its kept mismatches, newest first.
func (c *ReportCounters) Read(ctx context.Context, first, last int64) (map[string]queue.ReportCounts, error) {
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	d := c.b.db.drv
	sums := d.bind("SELECT " + d.ident("class") + ", " + d.ident("name") + ", SUM(" + d.ident("n") + ") FROM " +
		d.ident(ReportTable) + " WHERE " + d.ident("minute") + " >= ? AND " + d.ident("minute") + " <= ? GROUP BY " +
		d.ident("class") + ", " + d.ident("name"))
	rows, err := c.b.db.pool.QueryContext(ctx, sums, first, last)
	if err != nil {
		return nil, fmt.Errorf("read report counters: %w", err)
	}
	defer rows.Close()
	out := map[string]queue.ReportCounts{}
	for rows.Next() {
		var class, name string
		var n int64
		if err := rows.Scan(&class, &name, &n); err != nil {
			return nil, fmt.Errorf("read report counters: %w", err)
		}
		cc, ok := out[class]
		if !ok {
			cc = queue.ReportCounts{Counts: map[string]int64{}}
			out[class] = cc
		}
		cc.Counts[name] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report counters: %w", err)
	}
	kept := d.bind("SELECT " + d.ident("body") + " FROM " + d.ident(MismatchTable) + " WHERE " + d.ident("class") +
		" = ? ORDER BY " + d.ident("at_ns") + " DESC LIMIT ?")
	for class, cc := range out {
		ms, err := c.b.db.pool.QueryContext(ctx, kept, class, c.keep)
		if err != nil {
			return nil, fmt.Errorf("read mismatches of %s: %w", class, err)
		}
		for ms.Next() {
			var body string
			if err := ms.Scan(&body); err != nil {
				ms.Close()
				return nil, fmt.Errorf("read mismatches of %s: %w", class, err)
			}
			cc.Mismatches = append(cc.Mismatches, []byte(body))
		}
		err = ms.Err()
		ms.Close()
		if err != nil {
			return nil, fmt.Errorf("read mismatches of %s: %w", class, err)
		}
		out[class] = cc
	}
	return out, nil
}
