package cli

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// connectionFlags are taken by every command that opens the queue.
var connectionFlags = []*flag{
	{name: "connection", short: "c", env: "BRIDGE_CONNECTION", arg: "URL", secret: true,
		usage: "queue backend: redis://[user:password@]host:port/db, rediss://…, unix:///path/redis.sock?db=N, redis+cluster://host:port?addr=host2:port2, redis+sentinel://host:port?master_name=M, or the app's jobs table: mysql://user:pass@host:3306/db?table=jobs&prefix=tp_, postgres://user:pass@host:5432/db?table=jobs, sqlite:PATH (default: the embedded sqlite:./bridge.db)"},
	{name: "dialect", env: "BRIDGE_DIALECT", arg: "D", def: "thinkqueue-v3",
		usage: "the PHP library's format: thinkqueue-v1, thinkqueue-v2, thinkqueue-v3 (keys {queues:X}), thinkqueue-v3-plain (keys queues:X), laravel-8 … laravel-12"},
	{name: "prefix", env: "BRIDGE_PREFIX", arg: "P",
		usage: "Laravel's Redis key prefix, database.redis.options.prefix (default laravel_database_)"},
	{name: "expire", env: "BRIDGE_EXPIRE", arg: "S", def: "60",
		usage: "seconds a reservation lasts before another worker may take the job again (think-queue expire, Laravel retry_after); null: never (v1 expire => null)"},
	{name: "cache-connection", env: "BRIDGE_CACHE_CONNECTION", arg: "URL", secret: true,
		usage: "Redis of the app's cache store, where php think queue:restart writes the restart signal (default: --connection); file:DIR for ThinkPHP's File cache (e.g. file:/app/runtime/cache; the restart signal only)"},
	{name: "cache-prefix", env: "BRIDGE_CACHE_PREFIX", arg: "P", usage: "the app cache store's key prefix"},
	{name: "restart-key", env: "BRIDGE_RESTART_KEY", arg: "K",
		usage: "cache key of the restart signal after --cache-prefix (default think:queue:restart; Laravel's illuminate:queue:restart with its prefixes)"},
	{name: "app", env: "BRIDGE_APP", arg: "DIR",
		usage: "the PHP app (Laravel or ThinkPHP 5.0/5.1/6/8): its own config (queue, database, cache) gives the connection, dialect, prefix, retry_after/expire, default queue and cache store, so its restart signal is the app's; work: its PHP code runs the jobs with no Go handler"},
	{name: "failed-prefix", env: "BRIDGE_FAILED_PREFIX", arg: "P", def: "queuebridge",
		usage: "prefix of the bridge's own keys on Redis (failed store, pause flags)"},
	{name: "failed-database", env: "BRIDGE_FAILED_DATABASE", arg: "DSN", secret: true,
		usage: "keep failed jobs in the app's failed_jobs table: mysql://…, postgres://… or sqlite:PATH (default: the bridge's Redis keys; a database queue uses the table beside its jobs table)"},
	{name: "failed-table", env: "BRIDGE_FAILED_TABLE", arg: "T", def: "failed_jobs",
		usage: "the failed_jobs table, with the app's table prefix"},
	logLevelFlag(),
	logFormatFlag(),
}

func logLevelFlag() *flag {
	return &flag{name: "log-level", env: "BRIDGE_LOG_LEVEL", arg: "L", def: "info", usage: "debug, info, warn or error"}
}

func logFormatFlag() *flag {
	return &flag{name: "log-format", env: "BRIDGE_LOG_FORMAT", arg: "F", def: "text", usage: "text or json"}
}

// with is the connection flags followed by a command's own.
func with(own ...*flag) []*flag {
	return append(append([]*flag{}, connectionFlags...), own...)
}

func parseExpire(s string) (time.Duration, error) {
	if s == "null" || s == "-1" {
		return -1, nil
	}
	d, err := parseSeconds("expire", s)
	if err != nil {
		return 0, err
	}
	if d == 0 {
		return 0, usagef("--expire 0 would make every reservation lapse at once; use a positive number of seconds or null")
	}
	return d, nil
}

// parseSeconds reads think-queue's second counts, fractions allowed ("0.5").
func parseSeconds(name, s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, usagef("--%s %q: want a number of seconds ≥ 0", name, s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseInt reads a whole-number flag.
func parseInt(name, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, usagef("--%s %q: want a whole number", name, s)
	}
	return n, nil
}

// parseList reads a comma-separated list, dropping empty items.
func parseList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
