package bridge

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/queuebridge/bridge/executor/php"
)

// FromApp is the Config of the queue connection name (the app's default when "") of the PHP app that o.App
// names, as the app's own configuration says: its connection URL, dialect, prefix, retry_after, default
// queue and cache store (Redis, or ThinkPHP's File cache). o.Boot, o.Binary and o.Env are used as the PHP executor uses them.
func FromApp(ctx context.Context, o php.Options, name string) (Config, php.App, error) {
	app, err := php.ReadApp(ctx, o)
	if err != nil {
		return Config{}, app, err
	}
	cfg, err := appConfig(app, name)
	return cfg, app, err
}

// appConfig is the Config of the app's connection name ("" for its default).
func appConfig(app php.App, name string) (Config, error) {
	if name == "" {
		name = app.Default
	}
	c, ok := app.Connections[name]
	if !ok {
		if err, ok := app.Unreadable[name]; ok {
			return Config{}, fmt.Errorf("app: queue connection %q: %w", name, err)
		}
		if driver, ok := app.Unsupported[name]; ok {
			return Config{}, fmt.Errorf("app: queue connection %q uses the %s driver, which the bridge does not drain (Redis and Database only)", name, driver)
		}
		return Config{}, fmt.Errorf("app: no queue connection %q in the app's config", name)
	}
	cfg := Config{Connection: c.URL, Dialect: appDialect(app), Prefix: c.Prefix, Expire: c.RetryAfter,
		CachePrefix: app.Cache.Prefix}
	if c.Queue != "" {
		cfg.Worker.Queues = []string{c.Queue}
	}
	switch {
	case app.Cache.Driver == "redis":
		cfg.CacheConnection = app.Cache.URL
	case app.Cache.Driver == "file" && app.Framework != php.FrameworkLaravel:
		// ThinkPHP's File cache, where most ThinkPHP apps keep the restart signal.
		dir, err := filepath.Abs(app.Cache.Path)
		if err != nil {
			return Config{}, fmt.Errorf("app: cache path: %w", err)
		}
		cfg.CacheConnection = "file:" + dir
	}
	return cfg, nil
}

// appDialect is the dialect of the app's queue library: think-queue by the version Composer installed
// (3.0.0–3.0.4 keep the keys queues:X that 3.0.5 renamed to {queues:X}), else by the framework line — 1.x on
// ThinkPHP 5.0, 2.x on 5.1, 3.0.5+ on 6/8 —, Laravel's by its major version.
func appDialect(app php.App) string {
	if app.Framework == php.FrameworkLaravel {
		major, _, _ := strings.Cut(app.Version, ".")
		return "laravel-" + major
	}
	var major, minor, patch int
	if n, _ := fmt.Sscanf(strings.TrimPrefix(app.QueueVersion, "v"), "%d.%d.%d", &major, &minor, &patch); n == 3 {
		switch {
		case major == 1:
			return "thinkqueue-v1"
		case major == 2:
			return "thinkqueue-v2"
		case major == 3 && minor == 0 && patch <= 4:
			return "thinkqueue-v3-plain"
		}
	}
	switch app.Framework {
	case php.FrameworkThinkPHP50:
		return "thinkqueue-v1"
	case php.FrameworkThinkPHP51:
		return "thinkqueue-v2"
	}
	return "thinkqueue-v3"
}
