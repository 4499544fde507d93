// Package integration holds the cross-tests: the bridge against real Redis and real PHP. A test gets its
// services from an Env, so the same tests run on local services (what CI uses here) or in containers.
//
// Providers, chosen by QB_PROVIDER (see FromEnv):
//
//	QB_PROVIDER=local (default)  Local(): Redis, MySQL/MariaDB and `php` of this machine (env vars below)
//	QB_PROVIDER=container        Container(): testcontainers-go starts Redis, MariaDB and PHP containers from
//	                             the local images of scripts/images.sh (a Docker engine, no registry; see
//	                             env_container.go); scripts/test-containers.sh runs the suite that way
//
// Local's variables: QB_REDIS_ADDR (127.0.0.1:6379), QB_REDIS_DB (3), QB_MYSQL_DSN
// (root@tcp(127.0.0.1:3306)/queuebridge, a go-sql-driver/mysql DSN), QB_PHP (php), QB_LARAVEL_DIR
// (testdata/laravel), QB_PHP_TMPDIR (the OS temp dir).
package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Env gives a cross-test its services.
type Env interface {
	// RedisAddr is host:port of the Redis under test.
	RedisAddr() string
	// RedisDB is the database index the integration tests use; tests separate themselves by key names.
	RedisDB() int
	// PHP runs a PHP script file with args and returns its stdout; stderr is part of the error. A relative
	// script path is relative to this package's directory (integration/), for every provider.
	PHP(ctx context.Context, script string, args ...string) ([]byte, error)
	// PHPEnv is PHP with extra environment variables (KEY=VALUE) for the script, on top of its own.
	PHPEnv(ctx context.Context, env []string, script string, args ...string) ([]byte, error)
	// MySQLDSN is the go-sql-driver/mysql DSN of the MySQL (MariaDB) under test, as this process reaches it.
	MySQLDSN() string
	// LaravelDir is the Laravel test app (integration/testdata/laravel) as the PHP of PHP/PHPEnv sees it.
	LaravelDir() string
	// PHPSide is how the PHP side reaches the services; in containers it differs from RedisAddr/MySQLDSN.
	PHPSide() PHPSide
}

// PHPSide is the services' addresses as PHP scripts must use them.
type PHPSide struct {
	RedisAddr string // host:port of the same Redis as Env.RedisAddr
	MySQLDSN  string // the same database as Env.MySQLDSN, go-sql-driver/mysql DSN syntax
	TempDir   string // a directory PHP may write scratch files to (sqlite files of the Laravel app)
}

// FromEnv returns the provider QB_PROVIDER names: "local" (or unset) for Local, "container" for Container.
func FromEnv() (Env, error) {
	switch p := os.Getenv("QB_PROVIDER"); p {
	case "", "local":
		return Local(), nil
	case "container":
		return Container()
	default:
		return nil, fmt.Errorf("QB_PROVIDER=%q: want local or container", p)
	}
}

// Local is the Env of this machine: Redis at QB_REDIS_ADDR (default 127.0.0.1:6379), database QB_REDIS_DB
// (default 3), and the `php` on PATH (QB_PHP overrides).
func Local() Env { return localEnv{} }

type localEnv struct{}

func (localEnv) RedisAddr() string { return envOr("QB_REDIS_ADDR", "127.0.0.1:6379") }

func (localEnv) RedisDB() int {
	n, err := strconv.Atoi(envOr("QB_REDIS_DB", "3"))
	if err != nil {
		return 3
	}
	return n
}

func (e localEnv) PHP(ctx context.Context, script string, args ...string) ([]byte, error) {
	return e.PHPEnv(ctx, nil, script, args...)
}

func (localEnv) PHPEnv(ctx context.Context, env []string, script string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, envOr("QB_PHP", "php"), append([]string{script}, args...)...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("php %s: %w\n%s", script, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func (localEnv) MySQLDSN() string {
	return envOr("QB_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/queuebridge")
}

func (localEnv) LaravelDir() string {
	dir := envOr("QB_LARAVEL_DIR", filepath.Join("testdata", "laravel"))
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

func (e localEnv) PHPSide() PHPSide {
	return PHPSide{RedisAddr: e.RedisAddr(), MySQLDSN: e.MySQLDSN(), TempDir: envOr("QB_PHP_TMPDIR", os.TempDir())}
}

// mysqlDSN is the part of a go-sql-driver/mysql DSN (user:password@tcp(host:port)/dbname?params) the PHP
// side needs.
type mysqlDSN struct {
	User, Password, Host, Port, DBName string
}

// parseMySQLDSN reads [user[:password]@][tcp[(host[:port])]]/dbname[?params]; the port defaults to 3306.
func parseMySQLDSN(dsn string) (mysqlDSN, error) {
	var d mysqlDSN
	slash := strings.LastIndex(dsn, "/")
	if slash < 0 {
		return d, fmt.Errorf("mysql DSN %q: no /dbname", dsn)
	}
	head, tail := dsn[:slash], dsn[slash+1:]
	d.DBName, _, _ = strings.Cut(tail, "?")
	if at := strings.LastIndex(head, "@"); at >= 0 {
		d.User, d.Password, _ = strings.Cut(head[:at], ":")
		head = head[at+1:]
	}
	addr := "127.0.0.1:3306"
	if open := strings.Index(head, "("); open >= 0 && strings.HasSuffix(head, ")") {
		if proto := head[:open]; proto != "tcp" {
			return d, fmt.Errorf("mysql DSN %q: protocol %q, want tcp", dsn, proto)
		}
		addr = head[open+1 : len(head)-1]
	} else if head != "" && head != "tcp" {
		return d, fmt.Errorf("mysql DSN %q: cannot read the address %q", dsn, head)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "3306"
	}
	d.Host, d.Port = host, port
	return d, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
