package bridge

import (
	"context"
	"fmt"
	"strings"

	"github.com/queuebridge/bridge/executor/php"
)

// FromApp is the Config of the queue connection name (the app's default when "") of the PHP app that o.App
// names, as the app's own configuration says: its connection URL, dialect, prefix, retry_after, default
// queue and Redis cache store. o.Boot, o.Binary and o.Env are used as the PHP executor uses them.
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
		if driver, ok := app.Unsupported[name]; ok {
			return Config{}, fmt.Errorf("app: queue connection %q uses the %s driver, which the bridge does not drain (redis and database only)", name, driver)
		}
		return Config{}, fmt.Errorf("app: no queue connection %q in the app's config", name)
	}
	major, _, _ := strings.Cut(app.Version, ".")
	cfg := Config{Connection: c.URL, Dialect: "laravel-" + major, Prefix: c.Prefix, Expire: c.RetryAfter,
		CachePrefix: app.Cache.Prefix}
	if c.Queue != "" {
		cfg.Worker.Queues = []string{c.Queue}
	}
	if app.Cache.Driver == "redis" {
		cfg.CacheConnection = app.Cache.URL
	}
	return cfg, nil
}
