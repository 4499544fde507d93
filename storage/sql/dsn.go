package sql

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// driverKind is the database a DSN names; it picks the query book.
type driverKind string

const (
	driverMySQL  driverKind = "mysql"
	driverSQLite driverKind = "sqlite"
	// driverPostgres is PostgreSQL through pgx (github.com/jackc/pgx/v5/stdlib).
	driverPostgres driverKind = "postgres"
)

// ErrUnsupportedDriver is returned for a DSN whose database the store cannot use: an unknown scheme, or
// PDO's pgsql: form.
var ErrUnsupportedDriver = errors.New("storage/sql: unsupported database")

// defaultConnectTimeout bounds a new connection, and Open's first query, when the DSN does not say
// (MySQL's timeout, PostgreSQL's connect_timeout).
const defaultConnectTimeout = 10 * time.Second

// dsnConfig is a parsed Open DSN.
type dsnConfig struct {
	driver driverKind
	// where names the database in messages, never with a password: "mysql 127.0.0.1:3306/app",
	// "sqlite ./bridge.db".
	where string
	// connectTimeout bounds each new connection, and Open's first query; 0 means no bound.
	connectTimeout time.Duration
	// path is the SQLite file ("" for ":memory:").
	path string
	// mysqlConfig is the go-sql-driver configuration (driverMySQL).
	mysqlConfig *mysql.Config
	// sqliteDSN is modernc.org/sqlite's data source name: path?query (driverSQLite).
	sqliteDSN string
	// pgConfig is pgx's connection configuration (driverPostgres).
	pgConfig *pgx.ConnConfig
	// memory is true for SQLite's ":memory:", which lives and dies with one connection.
	memory bool
	// loc is the DSN's loc parameter (the PHP app's time zone), nil when absent.
	loc *time.Location
}

// parseDSN reads the DSN forms Open documents. Errors never repeat the DSN, which may hold a password.
func parseDSN(dsn string) (dsnConfig, error) {
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok {
		return dsnConfig{}, fmt.Errorf("storage/sql: DSN has no scheme (want mysql://… or sqlite:…)")
	}
	switch strings.ToLower(scheme) {
	case "mysql", "mariadb":
		if strings.HasPrefix(rest, "//") {
			return parseMySQLURL(dsn)
		}
		return parseMySQLDriverDSN(rest)
	case "sqlite", "sqlite3":
		return parseSQLite(rest)
	case "postgres", "postgresql":
		return parsePostgresURL(dsn)
	case "pgsql":
		return dsnConfig{}, fmt.Errorf("%w: PDO's pgsql: form (use postgres://user:pass@host:5432/db)", ErrUnsupportedDriver)
	}
	return dsnConfig{}, fmt.Errorf("%w: scheme %q (want mysql://… or sqlite:…)", ErrUnsupportedDriver, scheme)
}

// parseMySQLURL translates mysql://user:pass@host:port/db?params into a go-sql-driver configuration.
// Params are go-sql-driver's (tls, timeout, charset, collation, system variables, …).
func parseMySQLURL(dsn string) (dsnConfig, error) {
	u, err := parseServerURL(dsn, "mysql")
	if err != nil {
		return dsnConfig{}, err
	}
	if u.Opaque != "" || u.Host == "" {
		return dsnConfig{}, errors.New("storage/sql: mysql URL has no host (want mysql://user:pass@host:3306/db)")
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(db, "/") {
		return dsnConfig{}, fmt.Errorf("storage/sql: mysql URL path %q is not a database name", u.Path)
	}
	base := mysql.NewConfig()
	base.Net = "tcp"
	base.Addr = net.JoinHostPort(u.Hostname(), port)
	base.DBName = db
	if u.User != nil {
		base.User = u.User.Username()
		base.Passwd, _ = u.User.Password()
	}
	// go-sql-driver reads its own parameters (and derives, e.g., the TLS server name from the address),
	// so the URL becomes its DSN form and is parsed once. Re-encoding the query escapes any '/', which
	// that form cannot hold after the database name.
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("storage/sql: mysql URL parameters: %w", err)
	}
	driverDSN := base.FormatDSN()
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(driverDSN, "?") {
			sep = "&"
		}
		driverDSN += sep + q.Encode()
	}
	cfg, err := mysql.ParseDSN(driverDSN)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("storage/sql: mysql URL parameters: %w", scrubbed(err, base.Passwd))
	}
	return finishMySQL(cfg, u.RawQuery)
}

// parseServerURL parses scheme://user:pass@host:port/path?query. The user information ends at the last
// '@' that a '/' follows (else at the last '@'), so a password may hold '/', '#', '?' and '@' as they
// are or percent-encoded; an '@' in a query value must be percent-encoded. The password never reaches
// url.Parse, whose errors quote their input.
func parseServerURL(dsn, what string) (*url.URL, error) {
	scheme, rest, _ := strings.Cut(dsn, "://")
	var user *url.Userinfo
	at := strings.LastIndexByte(rest, '@')
	for i := at; i >= 0; i = strings.LastIndexByte(rest[:i], '@') {
		if strings.Contains(rest[i+1:], "/") {
			at = i
			break
		}
	}
	if at >= 0 {
		name, pass, hasPass := strings.Cut(rest[:at], ":")
		if hasPass {
			user = url.UserPassword(unescapeUserinfo(name), unescapeUserinfo(pass))
		} else {
			user = url.User(unescapeUserinfo(name))
		}
		rest = rest[at+1:]
	}
	u, err := url.Parse(scheme + "://" + rest)
	if err != nil {
		// url.Parse's errors quote what they stumbled on, which may be a part of a password that is
		// not where it should be ("mysql://u:pa#ss" has no '@'): keep only what kind of error it is.
		msg := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		if i := strings.IndexAny(msg, `"'`); i >= 0 {
			msg = strings.TrimSpace(msg[:i])
		}
		return nil, fmt.Errorf("storage/sql: %s URL: %s", what, msg)
	}
	u.User = user
	return u, nil
}

// unescapeUserinfo decodes a percent-encoded user or password; one that is not valid percent-encoding
// ("50%off") is taken as it is.
func unescapeUserinfo(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// parseMySQLDriverDSN reads go-sql-driver's own form after "mysql:": user:pass@tcp(host:3306)/db?params.
func parseMySQLDriverDSN(rest string) (dsnConfig, error) {
	cfg, err := mysql.ParseDSN(rest)
	if err != nil {
		// The driver's errors may quote what it took for the address or a parameter: scrub what may be
		// the password, up to the last '@' before the last '/' (the driver's rule), the last '@', or
		// the end.
		var guesses []string
		if slash := strings.LastIndexByte(rest, '/'); slash >= 0 {
			if at := strings.LastIndexByte(rest[:slash], '@'); at >= 0 {
				_, pass, _ := strings.Cut(rest[:at], ":")
				guesses = append(guesses, pass)
			}
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			_, pass, _ := strings.Cut(rest[:at], ":")
			guesses = append(guesses, pass)
		} else {
			_, pass, _ := strings.Cut(rest, ":") // cut short before its '@'
			guesses = append(guesses, pass)
		}
		return dsnConfig{}, fmt.Errorf("storage/sql: mysql DSN: %w", scrubbed(err, guesses...))
	}
	query := "" // the parameters follow the database name, which follows the last '/'
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		if _, after, ok := strings.Cut(rest[i:], "?"); ok {
			query = after
		}
	}
	return finishMySQL(cfg, query)
}

// finishMySQL applies what the store needs on every MySQL connection, where the DSN does not say
// otherwise:
//
//   - parseTime=false: failed_at / fail_time are read as the 'Y-m-d H:i:s' text PHP reads;
//   - SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, as Laravel's default mysql connection does;
//   - STRICT_ALL_TABLES added to sql_mode (Laravel's connection is strict too), so a value the column
//     cannot hold is an error instead of a silently truncated or zeroed row.
func finishMySQL(cfg *mysql.Config, rawQuery string) (dsnConfig, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("storage/sql: mysql DSN parameters: %w", err)
	}
	if cfg.DBName == "" {
		return dsnConfig{}, errors.New("storage/sql: mysql DSN names no database (want …/dbname)")
	}
	cfg.ParseTime = false
	if !q.Has("charset") && !q.Has("collation") {
		if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_unicode_ci")); err != nil {
			return dsnConfig{}, fmt.Errorf("storage/sql: mysql charset: %w", err)
		}
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = "CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES')"
	}
	out := dsnConfig{driver: driverMySQL, mysqlConfig: cfg, where: "mysql " + cfg.Addr + "/" + cfg.DBName,
		connectTimeout: defaultConnectTimeout}
	if q.Has("timeout") {
		out.connectTimeout = cfg.Timeout
	}
	if q.Has("loc") {
		// go-sql-driver has read it into cfg.Loc already ("Local" and IANA names).
		out.loc = cfg.Loc
	}
	return out, nil
}

// parseSQLite reads sqlite:<path>[?params], where params are our loc and modernc.org/sqlite's own
// (_pragma=…, _txlock=…, …). Unless the DSN sets them, connections get busy_timeout 5000 ms, WAL and
// _txlock=immediate.
func parseSQLite(rest string) (dsnConfig, error) {
	path, rawQuery, _ := strings.Cut(rest, "?")
	path = strings.TrimPrefix(path, "//") // sqlite:///abs/path.db and sqlite://rel.db
	if path == "" {
		return dsnConfig{}, errors.New("storage/sql: sqlite DSN has no path (want sqlite:./bridge.db)")
	}
	if strings.HasPrefix(path, "file:") {
		return dsnConfig{}, errors.New("storage/sql: sqlite DSN: give a path, not a file: URI (sqlite:./bridge.db)")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("storage/sql: sqlite DSN parameters: %w", err)
	}
	out := dsnConfig{driver: driverSQLite, memory: path == ":memory:", where: "sqlite " + path}
	if !out.memory {
		out.path = path
	}
	if q.Has("loc") {
		loc, err := time.LoadLocation(q.Get("loc"))
		if err != nil {
			return dsnConfig{}, fmt.Errorf("storage/sql: sqlite DSN loc: %w", err)
		}
		out.loc = loc
		q.Del("loc")
	}
	pragmas := strings.ToLower(strings.Join(q["_pragma"], ";"))
	if !strings.Contains(pragmas, "busy_timeout") && !q.Has("_busy_timeout") && !q.Has("_timeout") {
		q.Add("_pragma", "busy_timeout(5000)")
	}
	if !strings.Contains(pragmas, "journal_mode") && !q.Has("_journal_mode") && !q.Has("_journal") {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	if !q.Has("_txlock") {
		q.Set("_txlock", "immediate")
	}
	out.sqliteDSN = path + "?" + q.Encode()
	return out, nil
}

// parsePostgresURL reads postgres://user:pass@host:5432/db?params (also postgresql://). Params are pgx's
// and libpq's (sslmode, connect_timeout, application_name, …; any other is a server run-time parameter,
// e.g. search_path) plus our loc. Unless the DSN sets it, DateStyle is ISO, so timestamps read as text
// are 'Y-m-d H:i:s'.
func parsePostgresURL(dsn string) (dsnConfig, error) {
	u, err := parseServerURL(dsn, "postgres")
	if err != nil {
		return dsnConfig{}, err
	}
	if u.Opaque != "" || u.Host == "" {
		return dsnConfig{}, errors.New("storage/sql: postgres URL has no host (want postgres://user:pass@host:5432/db)")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		return dsnConfig{}, errors.New("storage/sql: postgres URL names no database (want …/dbname)")
	}
	if strings.Contains(db, "/") {
		return dsnConfig{}, fmt.Errorf("storage/sql: postgres URL path %q is not a database name", u.Path)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("storage/sql: postgres URL parameters: %w", err)
	}
	out := dsnConfig{driver: driverPostgres}
	if q.Has("loc") {
		// Ours, not a server parameter: pgx would send it in the startup message.
		loc, err := time.LoadLocation(q.Get("loc"))
		if err != nil {
			return dsnConfig{}, fmt.Errorf("storage/sql: postgres URL loc: %w", err)
		}
		out.loc = loc
		q.Del("loc")
	}
	// pgx reads '+' in the query literally: spaces go as %20 (a literal '+' is %2B already).
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgx's error repeats the URL (password redacted, best effort): say only what is wrong.
		pass, _ := u.User.Password()
		return dsnConfig{}, errors.New("storage/sql: postgres URL parameters: " + scrub(pgParseReason(err), pass, q.Get("password")))
	}
	hasDateStyle := false
	for k := range cfg.RuntimeParams {
		if strings.EqualFold(k, "datestyle") {
			hasDateStyle = true
		}
	}
	if !hasDateStyle {
		cfg.RuntimeParams["DateStyle"] = "ISO, MDY"
	}
	out.pgConfig = cfg
	out.where = "postgres " + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	// connect_timeout=0 (or PGCONNECT_TIMEOUT) is the user's word; only silence gets the default.
	out.connectTimeout = cfg.ConnectTimeout
	if cfg.ConnectTimeout == 0 && !q.Has("connect_timeout") {
		out.connectTimeout = defaultConnectTimeout
	}
	return out, nil
}

// pgParseReason is pgx's parse error without the connection string it quotes.
func pgParseReason(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "`: "); ok {
		return after
	}
	return "cannot parse"
}
