package sql

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDSNMySQL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dsn                  string
		user, pass, addr, db string
		timeout              time.Duration
		tlsConfig, collation string
		loc                  string // "" when the DSN has none
		sqlMode              string
	}{
		{dsn: "mysql://root@127.0.0.1:3306/app", user: "root", addr: "127.0.0.1:3306", db: "app"},
		{dsn: "mysql://root@localhost/app", user: "root", addr: "localhost:3306", db: "app"},
		{dsn: "mariadb://root@[::1]/app", user: "root", addr: "[::1]:3306", db: "app"},
		{dsn: "mysql://u:p%40ss%2Fw:rd@db.example:3307/shop?tls=skip-verify&timeout=5s&loc=Asia%2FShanghai&parseTime=true",
			user: "u", pass: "p@ss/w:rd", addr: "db.example:3307", db: "shop", timeout: 5 * time.Second,
			tlsConfig: "skip-verify", loc: "Asia/Shanghai"},
		{dsn: "mysql://root@h/app?loc=Asia/Shanghai&sql_mode=%27ANSI%27&collation=utf8mb4_bin",
			user: "root", addr: "h:3306", db: "app", loc: "Asia/Shanghai", sqlMode: "'ANSI'", collation: "utf8mb4_bin"},
		{dsn: "mysql:root:pw@tcp(127.0.0.1:3306)/app?parseTime=true&loc=Local", user: "root", pass: "pw",
			addr: "127.0.0.1:3306", db: "app", loc: "Local"},
	}
	for _, c := range cases {
		cfg, err := parseDSN(c.dsn)
		require.NoError(t, err, c.dsn)
		require.Equal(t, driverMySQL, cfg.driver)
		m := cfg.mysqlConfig
		require.Equal(t, c.user, m.User, c.dsn)
		require.Equal(t, c.pass, m.Passwd, c.dsn)
		require.Equal(t, "tcp", m.Net, c.dsn)
		require.Equal(t, c.addr, m.Addr, c.dsn)
		require.Equal(t, c.db, m.DBName, c.dsn)
		require.False(t, m.ParseTime, "parseTime is always off: %s", c.dsn)
		require.Equal(t, c.timeout, m.Timeout, c.dsn)
		require.Equal(t, c.tlsConfig, m.TLSConfig, c.dsn)
		collation := c.collation
		if collation == "" {
			collation = "utf8mb4_unicode_ci"
		}
		require.Equal(t, collation, m.Collation, c.dsn)
		sqlMode := c.sqlMode
		if sqlMode == "" {
			sqlMode = "CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES')"
		}
		require.Equal(t, sqlMode, m.Params["sql_mode"], c.dsn)
		if c.loc == "" {
			require.Nil(t, cfg.loc, c.dsn)
		} else {
			require.NotNil(t, cfg.loc, c.dsn)
			require.Equal(t, c.loc, cfg.loc.String(), c.dsn)
		}
	}
}

func TestParseDSNSQLite(t *testing.T) {
	t.Parallel()
	defaults := "_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29&_txlock=immediate"
	cases := []struct{ dsn, want, loc string }{
		{"sqlite:./bridge.db", "./bridge.db?" + defaults, ""},
		{"sqlite:bridge.db", "bridge.db?" + defaults, ""},
		{"sqlite:///var/lib/app/db.sqlite", "/var/lib/app/db.sqlite?" + defaults, ""},
		{"sqlite3:/abs/x.db?loc=UTC", "/abs/x.db?" + defaults, "UTC"},
		{"sqlite::memory:", ":memory:?" + defaults, ""},
		{"sqlite:x.db?_pragma=busy_timeout(100)&_journal_mode=DELETE&_txlock=deferred",
			"x.db?_journal_mode=DELETE&_pragma=busy_timeout%28100%29&_txlock=deferred", ""},
	}
	for _, c := range cases {
		cfg, err := parseDSN(c.dsn)
		require.NoError(t, err, c.dsn)
		require.Equal(t, driverSQLite, cfg.driver)
		require.Equal(t, c.want, cfg.sqliteDSN, c.dsn)
		require.Equal(t, strings.HasPrefix(c.want, ":memory:"), cfg.memory)
		if c.loc != "" {
			require.Equal(t, c.loc, cfg.loc.String())
		} else {
			require.Nil(t, cfg.loc)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ dsn, msg string }{
		{"", "no scheme"},
		{"bridge.db", "no scheme"},
		{"redis://localhost", `scheme "redis"`},
		{"mysql://root:secret@host", "names no database"},
		{"mysql://root:secret@host/a/b", "not a database name"},
		{"mysql:///db", "no host"},
		{"mysql://root:secret@host/db?timeout=soon", "mysql URL parameters"},
		{"mysql://root:secret@host/db?loc=Nowhere%2FAtAll", "mysql URL parameters"},
		{"mysql:root:secret@tcp(host:3306)", "mysql DSN"},
		{"sqlite:", "no path"},
		{"sqlite:file:x.db", "not a file: URI"},
		{"sqlite:x.db?loc=Nowhere/AtAll", "loc"},
	}
	cases = append(cases, []struct{ dsn, msg string }{
		{"postgres://u:secret@localhost", "names no database"},
		{"postgres://u:secret@localhost/", "names no database"},
		{"postgresql:///db", "no host"},
		{"postgres://u:secret@localhost/a/b", "not a database name"},
		{"postgres://u:secret@localhost/db?loc=Nowhere%2FAtAll", "loc"},
		{"postgres://u:secret@localhost/db?sslmode=sometimes", "postgres URL parameters"},
		{"postgres://u:secret@localhost/db?connect_timeout=soon", "postgres URL parameters"},
	}...)
	for _, c := range cases {
		_, err := parseDSN(c.dsn)
		require.ErrorContains(t, err, c.msg, c.dsn)
		require.NotContains(t, err.Error(), "secret", "errors never repeat a password: %s", c.dsn)
	}
	_, err := parseDSN("pgsql:host=localhost")
	require.ErrorIs(t, err, ErrUnsupportedDriver)
}

func TestParseDSNPostgres(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dsn                    string
		user, pass, host, db   string
		port                   uint16
		loc, dateStyle, search string
	}{
		{dsn: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", user: "postgres", host: "127.0.0.1", port: 5432, db: "test", dateStyle: "ISO, MDY"},
		{dsn: "postgresql://u:p%40ss%2Fw:rd@db.example/shop?sslmode=disable&loc=Asia%2FShanghai&search_path=app",
			user: "u", pass: "p@ss/w:rd", host: "db.example", port: 5432, db: "shop", loc: "Asia/Shanghai", dateStyle: "ISO, MDY", search: "app"},
		{dsn: "postgres://root@h:6543/app?sslmode=disable&DateStyle=SQL%2C%20DMY", user: "root", host: "h", port: 6543, db: "app", dateStyle: "SQL, DMY"},
	}
	for _, c := range cases {
		cfg, err := parseDSN(c.dsn)
		require.NoError(t, err, c.dsn)
		require.Equal(t, driverPostgres, cfg.driver)
		p := cfg.pgConfig
		require.Equal(t, c.user, p.User, c.dsn)
		require.Equal(t, c.pass, p.Password, c.dsn)
		require.Equal(t, c.host, p.Host, c.dsn)
		require.Equal(t, c.port, p.Port, c.dsn)
		require.Equal(t, c.db, p.Database, c.dsn)
		require.NotContains(t, p.RuntimeParams, "loc", "loc is ours, not the server's")
		dateStyle := p.RuntimeParams["DateStyle"]
		if dateStyle == "" {
			dateStyle = p.RuntimeParams["datestyle"]
		}
		require.Equal(t, c.dateStyle, dateStyle, c.dsn)
		require.Equal(t, c.search, p.RuntimeParams["search_path"], c.dsn)
		if c.loc == "" {
			require.Nil(t, cfg.loc, c.dsn)
		} else {
			require.Equal(t, c.loc, cfg.loc.String(), c.dsn)
		}
	}
}

func TestValidateTable(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"failed_jobs", "tp_failed_jobs", "FailedJobs2", "_", strings.Repeat("a", 64)} {
		require.NoError(t, validateTable(ok), ok)
	}
	for _, bad := range []string{"", "failed-jobs", "failed jobs", "a.b", "`x`", `"x"`, "x;", "表", "x\x00", strings.Repeat("a", 65)} {
		require.Error(t, validateTable(bad), bad)
	}
}
