package sql

import (
	"context"
	dbsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// maxChannel is the longest PostgreSQL channel name (NAMEDATALEN - 1).
const maxChannel = 63

// notifyChannel is the PostgreSQL channel the pushes onto a jobs table notify: qb_<table>, or for a name
// too long for a channel its first 50 bytes and a hash of the whole. Tables hold only letters, digits and
// '_', so the name needs no escaping inside a literal or a quoted identifier.
func notifyChannel(table string) string {
	ch := "qb_" + table
	if len(ch) <= maxChannel {
		return ch
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(table))
	return fmt.Sprintf("qb_%s_%08x", table[:50], h.Sum32())
}

// NotifyTrigger is the SQL of an opt-in trigger that makes every INSERT into the PostgreSQL jobs table
// table notify the bridges waiting on it, as the bridge's own pushes do: with it, a job a PHP producer
// pushes starts at once instead of at the workers' next poll. Nothing requires it; `bridge migrate
// --notify` prints it. Run it once (it replaces itself); DROP TRIGGER and DROP FUNCTION undo it.
func NotifyTrigger(table string) (string, error) {
	if err := validateTable(table); err != nil {
		return "", err
	}
	ch := notifyChannel(table)
	fn := postgresDriver.ident(ch + "_notify")
	if len(ch)+len("_notify") > maxChannel {
		fn = postgresDriver.ident(ch[:maxChannel-len("_notify")] + "_notify")
	}
	return "CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$\n" +
		"BEGIN\n  PERFORM pg_notify('" + ch + "', NEW.\"queue\");\n  RETURN NULL;\nEND\n$$;\n" +
		"DROP TRIGGER IF EXISTS " + fn + " ON " + postgresDriver.ident(table) + ";\n" +
		"CREATE TRIGGER " + fn + " AFTER INSERT ON " + postgresDriver.ident(table) +
		" FOR EACH ROW EXECUTE PROCEDURE " + fn + "();\n", nil
}

// listener is a broker's LISTEN connection, held out of the pool while the broker is open.
type listener struct {
	mu   sync.Mutex  // one wait at a time
	conn *dbsql.Conn // nil before the first wait and after the connection failed
	// closing is set once Close of the DB is to put conn back.
	closing bool
}

// WaitReady blocks until one of the queues may have a ready job (true), or until d passed with none
// (false), so an idle worker starts a pushed job at once instead of at its next poll.
//
// On PostgreSQL it waits on a LISTEN connection of its own for the notification every push of the bridge
// sends in the INSERT's transaction (so it never comes before the row), and until the queues' next delayed
// job or lapsing reservation is due. PHP producers send none unless NotifyTrigger is installed; without it
// their jobs are found by the worker's poll every --sleep, as before. The first wait, and the first after
// the LISTEN connection failed, returns true once it is listening, so a job pushed before is not missed.
// A failure is an error, and the worker polls until the next wait listens again.
//
// MySQL and SQLite have no notification a PHP producer's INSERT could raise without a plugin: WaitReady
// sleeps d there, which is the worker's --sleep poll.
func (b *Broker) WaitReady(ctx context.Context, queues []string, d time.Duration) (bool, error) {
	if d <= 0 || len(queues) == 0 {
		return false, nil
	}
	if !b.db.drv.notify {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return false, nil
	}
	l := &b.listen
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		if err := b.startListening(ctx); err != nil {
			return false, err
		}
		return true, nil
	}
	due, err := b.nextDue(ctx, queues)
	if err != nil {
		return false, fmt.Errorf("wait on %s: %w", b.table, err)
	}
	dueFirst := false // the wait ends when a row comes due: ready then
	if !due.IsZero() {
		if until := due.Sub(b.now()); until < d {
			d, dueFirst = until, true
		}
		if d <= 0 {
			return true, nil
		}
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	ready := false
	err = l.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage/sql: the pool's connection is a %T, not pgx's", dc)
		}
		for {
			n, err := c.Conn().WaitForNotification(wctx)
			if err != nil {
				if wctx.Err() != nil && !c.Conn().IsClosed() {
					ready = dueFirst && ctx.Err() == nil
					return nil // waited d, or the worker stops
				}
				return errors.Join(err, driver.ErrBadConn)
			}
			if slices.Contains(queues, n.Payload) {
				ready = true
				return nil
			}
		}
	})
	if err != nil {
		_ = l.conn.Close()
		l.conn = nil
		return false, fmt.Errorf("wait on %s: the LISTEN connection failed: %w", b.table, err)
	}
	return ready, nil
}

// startListening takes a connection out of the pool and LISTENs on the table's channel with it.
func (b *Broker) startListening(ctx context.Context) error {
	conn, err := b.db.pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("wait on %s: connect: %w", b.table, err)
	}
	if _, err := conn.ExecContext(ctx, "LISTEN "+b.db.drv.ident(notifyChannel(b.table))); err != nil {
		_ = conn.Close()
		return fmt.Errorf("wait on %s: LISTEN: %w", b.table, err)
	}
	b.listen.conn = conn
	if !b.listen.closing {
		b.listen.closing = true
		b.db.onClose(b.closeListener)
	}
	return nil
}

// closeListener puts the LISTEN connection back (UNLISTEN, then the pool decides).
func (b *Broker) closeListener() {
	l := &b.listen
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.ExecContext(ctx, "UNLISTEN *"); err != nil {
		_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = l.conn.Close()
	l.conn = nil
}

// nextDue is when the next row of queues that is not ready now becomes ready by itself (a delayed job's
// available_at, a reservation's lapse); zero when none will.
func (b *Broker) nextDue(ctx context.Context, queues []string) (time.Time, error) {
	now := b.now().Unix()
	lapsed := b.lapsedBefore(now)
	if b.expire < 0 {
		lapsed = math.MaxInt32 // reservations never lapse: no reserved row counts
	}
	var due dbsql.NullInt64
	if err := b.db.pool.QueryRowContext(ctx, b.q.nextDue, b.expire, queues, now, lapsed).Scan(&due); err != nil {
		return time.Time{}, err
	}
	if !due.Valid {
		return time.Time{}, nil
	}
	return time.Unix(due.Int64, 0), nil
}
