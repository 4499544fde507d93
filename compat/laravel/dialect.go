package laravel

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Laravel major version; each one stands for the newest release of its line (see the package
// documentation for what differs between them).
type Version int

// The supported versions.
const (
	V8  Version = 8
	V9  Version = 9
	V10 Version = 10
	V11 Version = 11
	V12 Version = 12
)

// DefaultPrefix is the Redis connection prefix of the Laravel 8–11 skeletons and of the framework's own
// 12.x config: Str::slug(APP_NAME, '_').'_database_' with APP_NAME "Laravel". The 12.x application skeleton
// since mid-2025 uses "laravel-database-" instead.
const DefaultPrefix = "laravel_database_"

// Dialect is one deployment's wire format: the Laravel Version and the Redis connection prefix
// (database.redis.options.prefix), which the Redis client puts in front of every key. Obtain one from
// ParseDialect and set Prefix when the application configures another one; the zero Dialect is not valid.
type Dialect struct {
	Version Version
	Prefix  string
}

const namePrefix = "laravel-"

// ParseDialect maps a configured dialect name, "laravel-8" to "laravel-12", to a Dialect with the
// DefaultPrefix.
func ParseDialect(name string) (Dialect, error) {
	if n, ok := strings.CutPrefix(name, namePrefix); ok {
		if v, err := strconv.Atoi(n); err == nil && v >= int(V8) && v <= int(V12) && strconv.Itoa(v) == n {
			return Dialect{Version: Version(v), Prefix: DefaultPrefix}, nil
		}
	}
	names := make([]string, 0, V12-V8+1)
	for v := V8; v <= V12; v++ {
		names = append(names, namePrefix+strconv.Itoa(int(v)))
	}
	return Dialect{}, fmt.Errorf("laravel: unknown dialect %q (accepted: %s)", name, strings.Join(names, ", "))
}

// Name returns the name ParseDialect accepts for d's Version, e.g. "laravel-11"; the prefix is
// configuration, not part of the name.
func (d Dialect) Name() string { return namePrefix + strconv.Itoa(int(d.Version)) }

// Wire features, by the version that introduced them (see the package documentation).

// omitsModelDefaults: SerializesModels::__serialize skips properties equal to their default (9.4+).
func (d Dialect) omitsModelDefaults() bool { return d.Version >= V9 }

// hasCollectionClass: ModelIdentifier has a fifth property, collectionClass (9.26+).
func (d Dialect) hasCollectionClass() bool { return d.Version >= V9 }

// shortAttemptsMessage: MaxAttemptsExceededException's message lost its timeout hint (10.10+).
func (d Dialect) shortAttemptsMessage() bool { return d.Version >= V10 }

// newQueueableOrder: Queueable declares delay … chained before the chain* properties (11.2+).
func (d Dialect) newQueueableOrder() bool { return d.Version >= V11 }

// cacheColon: the Redis cache store adds ":" after a non-empty cache prefix (before 11.0).
func (d Dialect) cacheColon() bool { return d.Version < V11 }

// v12 covers createdAt, delay, data.batchId, messageGroup, deduplicator and queue pausing.
func (d Dialect) v12() bool { return d.Version >= V12 }

// timeoutAtFallback: Job::retryUntil() reads the legacy "timeoutAt" key when "retryUntil" is null (8.x).
func (d Dialect) timeoutAtFallback() bool { return d.Version < V9 }

// validatesUTF8Exception: DatabaseUuidFailedJobProvider runs mb_convert_encoding on the exception (9.2+).
func (d Dialect) validatesUTF8Exception() bool { return d.Version >= V9 }
