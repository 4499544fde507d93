// Package integration holds the cross-tests: the bridge against real Redis and real PHP. A test gets its
// services from an Env, so the same tests run on local services (what CI uses here) or, later, containers.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// Env gives a cross-test its services.
type Env interface {
	// RedisAddr is host:port of the Redis under test.
	RedisAddr() string
	// RedisDB is the database index the integration tests use; tests separate themselves by key names.
	RedisDB() int
	// PHP runs a PHP script file with args and returns its stdout; stderr is part of the error.
	PHP(ctx context.Context, script string, args ...string) ([]byte, error)
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

func (localEnv) PHP(ctx context.Context, script string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, envOr("QB_PHP", "php"), append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("php %s: %w\n%s", script, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
