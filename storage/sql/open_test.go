package sql

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// silentServer listens on 127.0.0.1 and runs answer on every connection it accepts, then keeps the
// connection open, reading and answering nothing, until the test ends.
func silentServer(t *testing.T, answer func(c net.Conn) error) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				if answer != nil && answer(c) != nil {
					return
				}
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return l.Addr().String()
}

// pgStartup answers a PostgreSQL client's startup as a server that trusts it (AuthenticationOk,
// ReadyForQuery), reports the type of the client's next message (a query) on queried, and then goes
// silent; SSL and GSS requests are declined.
func pgStartup(queried chan<- byte) func(c net.Conn) error {
	return func(c net.Conn) error {
		if err := pgAnswerStartup(c); err != nil {
			return err
		}
		var typ [1]byte
		if _, err := io.ReadFull(c, typ[:]); err != nil {
			return err
		}
		queried <- typ[0]
		return nil
	}
}

func pgAnswerStartup(c net.Conn) error {
	for {
		var head [8]byte
		if _, err := io.ReadFull(c, head[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(head[:4])
		if _, err := io.CopyN(io.Discard, c, int64(n)-8); err != nil {
			return err
		}
		switch code := binary.BigEndian.Uint32(head[4:]); code {
		case 80877103, 80877104: // SSLRequest, GSSENCRequest
			if _, err := c.Write([]byte{'N'}); err != nil {
				return err
			}
		case 80877102: // CancelRequest
			return errors.New("cancel")
		default:
			_, err := c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'})
			return err
		}
	}
}

// openWithin is Open that fails the test if it has not returned after a minute (a hang).
func openWithin(t *testing.T, dsn string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		db, err := Open(context.Background(), dsn, nil)
		if err == nil {
			_ = db.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("Open(%s) still waiting after a minute", redactedForTest(dsn))
		return nil
	}
}

// redactedForTest hides a test DSN's password in a failure message.
func redactedForTest(dsn string) string { return scrub(dsn, "s3cr3t") }

// TestOpenServerNeverAnswers: a server that accepts and never answers ends Open after the DSN's
// timeout, with an error naming its address and saying what happened.
func TestOpenServerNeverAnswers(t *testing.T) {
	t.Parallel()
	queried := make(chan byte, 8)
	cases := []struct {
		name, dsn string
		answer    func(net.Conn) error
	}{
		{"mysql handshake", "mysql://root:s3cr3t@%s/db?timeout=1s", nil},
		{"postgres startup", "postgres://postgres:s3cr3t@%s/db?connect_timeout=1&sslmode=disable", nil},
		{"postgres first query", "postgres://postgres:s3cr3t@%s/db?connect_timeout=1&sslmode=disable", pgStartup(queried)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := silentServer(t, c.answer)
			err := openWithin(t, strings.Replace(c.dsn, "%s", addr, 1))
			if c.answer != nil {
				select {
				case typ := <-queried:
					require.Equal(t, byte('Q'), typ, "connected, then a query")
				default:
					t.Fatal("the client never got past its startup")
				}
			}
			require.Error(t, err)
			require.ErrorContains(t, err, addr+"/db")
			require.ErrorContains(t, err, "no answer within 1s")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

// TestPoolConnectionsBounded: every new connection of the pool, not only Open's first, gives up on a
// server that never answers, whatever the context of the query that needed it.
func TestPoolConnectionsBounded(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"mysql://root@%s/db?timeout=1s", "postgres://postgres@%s/db?connect_timeout=1&sslmode=disable"} {
		t.Run(strings.Split(dsn, ":")[0], func(t *testing.T) {
			t.Parallel()
			cfg, err := parseDSN(strings.Replace(dsn, "%s", silentServer(t, nil), 1))
			require.NoError(t, err)
			pool, err := driverFor(cfg.driver).connect(cfg, cfg.connectTimeout)
			require.NoError(t, err)
			defer pool.Close()
			done := make(chan error, 1)
			go func() {
				c, err := pool.Conn(context.Background())
				if err == nil {
					_ = c.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				require.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(time.Minute):
				t.Fatal("a new connection still waiting after a minute")
			}
		})
	}
}

func TestConnectTimeoutFromDSN(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]time.Duration{
		"mysql://root@h/db":                         defaultConnectTimeout,
		"mysql://root@h/db?timeout=1500ms":          1500 * time.Millisecond,
		"mysql://root@h/db?timeout=0":               0, // the user's word: no bound
		"mysql:root@tcp(h:3306)/db?timeout=3s":      3 * time.Second,
		"postgres://u@h/db":                         defaultConnectTimeout,
		"postgres://u@h/db?connect_timeout=2":       2 * time.Second,
		"postgres://u@h/db?connect_timeout=0":       0,
		"sqlite:" + filepath.Join(t.TempDir(), "x"): 0,
	} {
		cfg, err := parseDSN(dsn)
		require.NoError(t, err, dsn)
		require.Equal(t, want, cfg.connectTimeout, dsn)
	}
}

// TestJobsMissingTable: a broker on a table that is not there (or not laid out as the library's) is an
// error at open naming the table, not an error at every poll.
func TestJobsMissingTable(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openDB(t, newDatabase(t, d))
			_, err := db.Jobs(ctx, jobsLaravel.Jobs, "tp_jobs", nil)
			require.ErrorIs(t, err, ErrNoTable)
			require.ErrorContains(t, err, "jobs table tp_jobs does not exist")
			require.ErrorContains(t, err, "`bridge migrate`")
			require.ErrorContains(t, err, db.String())

			_, err = db.MigrateJobs(ctx, jobsLaravel.Jobs, "tp_jobs", false)
			require.NoError(t, err)
			_, err = db.Jobs(ctx, jobsV3.Jobs, "tp_jobs", nil)
			require.ErrorContains(t, err, "jobs table tp_jobs lacks one of the columns id, queue, payload, attempts, reserve_time, available_time, create_time")
			require.NotErrorIs(t, err, ErrNoTable)
			_, err = db.Jobs(ctx, jobsLaravel.Jobs, "tp_jobs", nil)
			require.NoError(t, err)
		})
	}
}

// TestOpenSQLiteMissingFile: opening a path that does not exist leaves no empty database behind; with
// Create, the file is made by the first statement, and a dry run makes nothing.
func TestOpenSQLiteMissingFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "typo.db")
	_, err := Open(ctx, "sqlite:"+path, nil)
	require.ErrorContains(t, err, "sqlite "+path+": the database file does not exist")
	require.NoFileExists(t, path)
	_, err = Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "no", "such", "dir.db"), &Options{})
	require.ErrorContains(t, err, "does not exist")

	db, err := Open(ctx, "sqlite:"+path, &Options{Create: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoFileExists(t, path)
	m, err := db.MigrateJobs(ctx, jobsV3.Jobs, "", true)
	require.NoError(t, err)
	require.False(t, m.Existed)
	require.NotEmpty(t, m.Statements)
	require.NoFileExists(t, path, "a dry run makes nothing")
	_, err = db.Jobs(ctx, jobsV3.Jobs, "", nil)
	require.ErrorIs(t, err, ErrNoTable)
	m, err = db.MigrateJobs(ctx, jobsV3.Jobs, "", false)
	require.NoError(t, err)
	require.False(t, m.Existed)
	require.FileExists(t, path)
	b, err := db.Jobs(ctx, jobsV3.Jobs, "", nil)
	require.NoError(t, err)
	require.NoError(t, b.Push(ctx, "default", []byte(`{}`)))

	again, err := Open(ctx, "sqlite:"+path, nil)
	require.NoError(t, err, "it exists now")
	require.NoError(t, again.Close())
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.NotZero(t, info.Size())
}

// TestNoPasswordInErrors: passwords with '/', '#', '?' and '@', as they are or percent-encoded, parse
// whole, and no error of a bad DSN or a failed connection carries any part of them.
func TestNoPasswordInErrors(t *testing.T) {
	t.Parallel()
	const pass = "pw1x/pw2x#pw3x?pw4x@pw5x"
	parts := []string{"pw1x", "pw2x", "pw3x", "pw4x", "pw5x"}
	enc := url.QueryEscape(pass)
	forms := []struct{ name, dsn string }{
		{"mysql URL", "mysql://root:" + pass + "@127.0.0.1:1/db?timeout=2s"},
		{"mysql URL encoded", "mysql://root:" + enc + "@127.0.0.1:1/db?timeout=2s"},
		{"mysql driver DSN", "mysql:root:" + pass + "@tcp(127.0.0.1:1)/db?timeout=2s"},
		{"postgres URL", "postgres://u:" + pass + "@127.0.0.1:1/db?connect_timeout=2&sslmode=disable"},
		{"postgres URL encoded", "postgresql://u:" + enc + "@127.0.0.1:1/db?connect_timeout=2&sslmode=disable"},
	}
	noSecret := func(t *testing.T, err error, dsn string) {
		t.Helper()
		require.Error(t, err, dsn)
		for _, p := range parts {
			require.NotContains(t, err.Error(), p, "%s", err)
		}
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseDSN(f.dsn)
			require.NoError(t, err)
			require.Equal(t, []string{pass}, cfg.secrets(), "the password parses whole")
			require.Contains(t, cfg.where, "127.0.0.1:1/db")

			// Connection refused.
			err = openWithin(t, f.dsn)
			noSecret(t, err, f.dsn)
			require.ErrorContains(t, err, "127.0.0.1:1/db")

			// Bad DSNs: a parameter, the database, the port, the parts around the password. (A DSN that
			// lost its address is not here: what follows the last '@' is the address to any parser.)
			for _, bad := range []string{
				strings.Replace(f.dsn, "=2", "=soon", 1),
				strings.Replace(f.dsn, "sslmode=disable", "sslmode=sometimes", 1),
				strings.Replace(f.dsn, "/db", "/a/b", 1),
				strings.Replace(f.dsn, "/db", "", 1),
				strings.Replace(f.dsn, "127.0.0.1:1", "127.0.0.1:port", 1),
				f.dsn[:strings.Index(f.dsn, "pw5x")],
				f.dsn[:strings.Index(f.dsn, "pw3x")],
			} {
				if bad == f.dsn {
					continue
				}
				err := openWithin(t, bad)
				noSecret(t, err, bad)
			}
		})
	}
	// A wrong password on a real server: the server's refusal names no password either.
	server := mysqlServer(t)
	_, err := Open(context.Background(), "mysql://"+server.User+":"+pass+"@"+server.Addr+"/mysql?timeout=5s", nil)
	if err != nil { // MariaDB may let root in by socket rules; only a refusal is checked
		noSecret(t, err, "mysql")
	}
}
