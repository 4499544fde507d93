package php

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed runner/appconfig.php
var appConfigScript []byte

// App is what a PHP app's own configuration says about its queue, as plain facts.
type App struct {
	Framework Framework
	Version   string // the framework's, e.g. 8.83.26
	// QueueVersion is think-queue's version as Composer installed it in a ThinkPHP app, e.g. v3.0.4 (from
	// vendor/composer/installed.json); "" when Composer does not list it.
	QueueVersion string
	// Default is the name of the app's default queue connection.
	Default string
	// Connections are the app's queue connections the bridge can drain, by the app's names for them.
	Connections map[string]AppConnection
	// Unsupported are the app's other queue connections (sync, sqs, beanstalkd…), by name: their drivers.
	Unsupported map[string]string
	// Unreadable are the app's queue connections whose config does not say how to reach their store (a
	// database connection the app's database config lacks), by name: why. Only the one drained is an error.
	Unreadable map[string]error
	// Cache is the app's default cache store, where the restart signal lives.
	Cache AppCache
}

// AppConnection is one queue connection of an app.
type AppConnection struct {
	Driver     string        // redis or database
	URL        string        // redis://…, mysql://…, postgres://…, sqlite:path (a password included)
	Prefix     string        // Laravel's Redis key prefix
	Queue      string        // the default queue
	RetryAfter time.Duration // Laravel's retry_after, think-queue's expire; -1 for none
}

// AppCache is an app's cache store.
type AppCache struct {
	Driver string // redis, file, …
	URL    string // the Redis of a redis store
	Prefix string // cache.prefix
	Path   string // a file store's directory
}

// ReadApp runs o.Binary on the app o.App (booted as the runners boot it: o.Boot for Laravel, in o.Env) and
// returns its queue configuration. o.Framework, when empty, is Laravel with o.Boot, else told from the app's
// layout (DetectFramework).
func ReadApp(ctx context.Context, o Options) (App, error) {
	framework := o.Framework
	o = o.withDefaults()
	dir, err := filepath.Abs(o.App)
	if err != nil {
		return App{}, fmt.Errorf("php: read app config: %w", err)
	}
	switch {
	case framework != "":
	case o.Boot != "": // a boot file of its own is Laravel's way
		framework = FrameworkLaravel
	default:
		if framework, err = DetectFramework(dir); err != nil {
			return App{}, err
		}
	}
	script, parse := appConfigScript, parseAppConfig
	if framework != FrameworkLaravel {
		script, parse = thinkAppConfigScript, parseThinkConfig
	}
	f, err := os.CreateTemp("", "queuebridge-appconfig-*.php")
	if err != nil {
		return App{}, fmt.Errorf("php: read app config: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(script); err != nil {
		f.Close()
		return App{}, fmt.Errorf("php: read app config: %w", err)
	}
	f.Close()
	args := []string{f.Name(), "--app", dir}
	if framework != FrameworkLaravel {
		args = append(args, "--framework", string(framework))
	} else if o.Boot != "" {
		args = append(args, "--boot", o.Boot)
	}
	cmd := exec.CommandContext(ctx, o.Binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), o.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return App{}, fmt.Errorf("php: read the config of the app in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	app, err := parse(stdout.Bytes())
	if err != nil || framework == FrameworkLaravel {
		return app, err
	}
	// think-queue 3.0.5 renamed its Redis keys, so the framework line alone does not tell the dialect.
	app.QueueVersion, err = installedVersion(dir, "topthink/think-queue")
	return app, err
}

// installedVersion is the version of the package that Composer installed in the app in dir, as its
// vendor/composer/installed.json lists it (an array of packages up to Composer 1, {"packages": […]} from
// Composer 2); "" without that file or the package in it.
func installedVersion(dir, pkg string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "vendor", "composer", "installed.json"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("php: read the app's installed packages: %w", err)
	}
	type installed struct{ Name, Version string }
	var v2 struct{ Packages []installed }
	var list []installed
	if err := json.Unmarshal(b, &v2); err != nil {
		if err := json.Unmarshal(b, &list); err != nil {
			return "", fmt.Errorf("php: read the app's installed packages: vendor/composer/installed.json: %w", err)
		}
	}
	for _, p := range append(v2.Packages, list...) {
		if p.Name == pkg {
			return p.Version, nil
		}
	}
	return "", nil
}

// laravelConfig is what appconfig.php prints for a Laravel app.
type laravelConfig struct {
	Framework string `json:"framework"`
	Version   string `json:"version"`
	Queue     struct {
		Default     string                    `json:"default"`
		Connections map[string]map[string]any `json:"connections"`
	} `json:"queue"`
	Database struct {
		Default     string                    `json:"default"`
		Connections map[string]map[string]any `json:"connections"`
		Redis       map[string]any            `json:"redis"`
	} `json:"database"`
	Cache struct {
		Default string                    `json:"default"`
		Stores  map[string]map[string]any `json:"stores"`
		Prefix  string                    `json:"prefix"`
	} `json:"cache"`
}

func parseAppConfig(out []byte) (App, error) {
	var c laravelConfig
	if err := json.Unmarshal(out, &c); err != nil {
		return App{}, fmt.Errorf("php: app config: %w", err)
	}
	if c.Framework != "laravel" {
		return App{}, fmt.Errorf("php: app config: framework %q", c.Framework)
	}
	app := App{Framework: FrameworkLaravel, Version: c.Version, Default: c.Queue.Default,
		Connections: map[string]AppConnection{}, Unsupported: map[string]string{}, Unreadable: map[string]error{}}
	redisPrefix := ""
	if opts, ok := c.Database.Redis["options"].(map[string]any); ok {
		redisPrefix = str(opts["prefix"])
	}
	for name, q := range c.Queue.Connections {
		driver := str(q["driver"])
		conn := AppConnection{Driver: driver, Queue: str(q["queue"]), RetryAfter: seconds(q["retry_after"])}
		switch driver {
		case "redis":
			u, err := laravelRedisURL(c.Database.Redis, cmp.Or(str(q["connection"]), "default"))
			if err != nil {
				app.Unreadable[name] = fmt.Errorf("queue.connections.%s: %w", name, err)
				continue
			}
			conn.URL, conn.Prefix = u, redisPrefix
		case "database":
			dbName := str(q["connection"])
			if dbName == "" {
				dbName = c.Database.Default
			}
			u, err := laravelDatabaseURL(c.Database.Connections[dbName], str(q["table"]))
			if err != nil {
				app.Unreadable[name] = fmt.Errorf("queue.connections.%s: database connection %q: %w", name, dbName, err)
				continue
			}
			conn.URL = u
		default:
			app.Unsupported[name] = driver
			continue
		}
		app.Connections[name] = conn
	}
	store := c.Cache.Stores[c.Cache.Default]
	app.Cache = AppCache{Driver: str(store["driver"]), Prefix: c.Cache.Prefix, Path: str(store["path"])}
	if app.Cache.Driver == "redis" {
		u, err := laravelRedisURL(c.Database.Redis, cmp.Or(str(store["connection"]), "default"))
		if err != nil {
			return App{}, fmt.Errorf("php: app config: cache.stores.%s: %w", c.Cache.Default, err)
		}
		app.Cache.URL = u
	}
	return app, nil
}

// laravelRedisURL is the redis:// URL of database.redis.<name>.
func laravelRedisURL(redis map[string]any, name string) (string, error) {
	c, ok := redis[name].(map[string]any)
	if !ok {
		return "", fmt.Errorf("no Redis connection %q in database.redis", name)
	}
	if u := str(c["url"]); u != "" {
		return u, nil
	}
	u := url.URL{Scheme: "redis", Host: net.JoinHostPort(cmp.Or(str(c["host"]), "127.0.0.1"), cmp.Or(str(c["port"]), "6379")),
		Path: "/" + cmp.Or(str(c["database"]), "0")}
	if scheme := str(c["scheme"]); scheme == "tls" {
		u.Scheme = "rediss"
	}
	if pw := str(c["password"]); pw != "" {
		u.User = url.UserPassword(str(c["username"]), pw)
	}
	return u.String(), nil
}

// laravelDatabaseURL is the URL of a database connection of database.connections, with its jobs table.
func laravelDatabaseURL(c map[string]any, table string) (string, error) {
	if c == nil {
		return "", fmt.Errorf("not in database.connections")
	}
	u, ok := appDatabase{driver: str(c["driver"]), host: str(c["host"]), port: str(c["port"]), name: str(c["database"]),
		user: str(c["username"]), password: str(c["password"])}.url(cmp.Or(table, "jobs"), str(c["prefix"]))
	if !ok {
		return "", fmt.Errorf("driver %q: want sqlite, mysql, mariadb or pgsql", str(c["driver"]))
	}
	return u, nil
}

// appDatabase is a database connection of an app's config, in the framework's words mapped to plain ones.
type appDatabase struct {
	driver                           string // sqlite, mysql, mariadb or pgsql
	host, port, name, user, password string
}

// url is the connection URL of d with its jobs table and the table prefix; false for a driver the bridge
// does not drain.
func (d appDatabase) url(table, prefix string) (string, bool) {
	q := url.Values{}
	q.Set("table", table)
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	switch d.driver {
	case "sqlite":
		return "sqlite:" + d.name + "?" + q.Encode(), true
	case "mysql", "mariadb", "pgsql":
		scheme, port := "mysql", "3306"
		if d.driver == "pgsql" {
			scheme, port = "postgres", "5432"
		}
		u := url.URL{Scheme: scheme, Host: net.JoinHostPort(cmp.Or(d.host, "127.0.0.1"), cmp.Or(d.port, port)),
			Path: "/" + d.name, User: url.UserPassword(d.user, d.password), RawQuery: q.Encode()}
		return u.String(), true
	}
	return "", false
}

// str is a JSON scalar as PHP would print it ("" for null).
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "1"
		}
	}
	return ""
}

// seconds is a retry_after/expire value: null is never (-1).
func seconds(v any) time.Duration {
	f, err := strconv.ParseFloat(str(v), 64)
	if err != nil {
		return -1
	}
	return time.Duration(f * float64(time.Second))
}
