package php

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

//go:embed runner/thinkphp_appconfig.php
var thinkAppConfigScript []byte

// DetectFramework tells the framework line of the app in dir from its layout: bootstrap/app.php is
// Laravel; application/ with a root config/ (or the framework in vendor/topthink/framework) is ThinkPHP 5.1,
// with thinkphp/base.php and no root config/ ThinkPHP 5.0; app/ with vendor/autoload.php is ThinkPHP 6/8.
func DetectFramework(dir string) (Framework, error) {
	is := func(p string, wantDir bool) bool {
		info, err := os.Stat(filepath.Join(dir, p))
		return err == nil && info.IsDir() == wantDir
	}
	switch {
	case is("bootstrap/app.php", false):
		return FrameworkLaravel, nil
	case is("application", true) && (is("config", true) || is("vendor/topthink/framework/base.php", false)):
		return FrameworkThinkPHP51, nil
	case is("application", true) && is("thinkphp/base.php", false):
		return FrameworkThinkPHP50, nil
	case is("app", true) && is("vendor/autoload.php", false):
		return FrameworkThinkPHP6, nil
	}
	return "", fmt.Errorf("php: %s is neither a Laravel app (bootstrap/app.php) nor a ThinkPHP 5.0, 5.1 or 6/8 app (application/ or app/)", dir)
}

// thinkConfig is what thinkphp_appconfig.php prints.
type thinkConfig struct {
	Framework string         `json:"framework"`
	Version   string         `json:"version"`
	Runtime   string         `json:"runtime"`
	Queue     map[string]any `json:"queue"`
	Database  map[string]any `json:"database"`
	Cache     map[string]any `json:"cache"`
}

// parseThinkConfig turns a ThinkPHP app's config into an App. think-queue 1.x/2.x have one connection, named
// by its connector (lower-case); 3.x names its connections.
func parseThinkConfig(out []byte) (App, error) {
	var c thinkConfig
	if err := json.Unmarshal(out, &c); err != nil {
		return App{}, fmt.Errorf("php: app config: %w", err)
	}
	f, err := ParseFramework(c.Framework)
	if err != nil || f == FrameworkLaravel {
		return App{}, fmt.Errorf("php: app config: framework %q", c.Framework)
	}
	app := App{Framework: f, Version: c.Version, Connections: map[string]AppConnection{}, Unsupported: map[string]string{},
		Unreadable: map[string]error{}}
	if f == FrameworkThinkPHP6 {
		app.Default = str(c.Queue["default"])
		conns, _ := c.Queue["connections"].(map[string]any)
		for name, v := range conns {
			q, _ := v.(map[string]any)
			conn, err := thinkConnection(strings.ToLower(str(q["type"])), q, c.database(str(q["connection"])), "retry_after", "queue")
			if err != nil {
				app.Unreadable[name] = fmt.Errorf("queue.connections.%s: %w", name, err)
				continue
			}
			if conn.Driver == "" {
				app.Unsupported[name] = str(q["type"])
				continue
			}
			app.Connections[name] = conn
		}
	} else {
		// 1.x and 2.x default to the Sync connector.
		connector := cmp.Or(str(c.Queue["connector"]), "Sync")
		app.Default = strings.ToLower(connector)
		db := c.Database
		if dsn, ok := c.Queue["dsn"].(map[string]any); ok && len(dsn) > 0 {
			db = dsn // 1.x: a dsn of its own over the app's database.php
		}
		conn, err := thinkConnection(app.Default, c.Queue, db, "expire", "default")
		if err != nil {
			return App{}, fmt.Errorf("php: app config: queue: %w", err)
		}
		if conn.Driver == "" {
			app.Unsupported[app.Default] = connector
		} else {
			app.Connections[app.Default] = conn
		}
	}
	app.Cache, err = c.cache()
	if err != nil {
		return App{}, fmt.Errorf("php: app config: cache: %w", err)
	}
	return app, nil
}

// database is the database connection name of a 6/8 app's config/database.php ("" for its default).
func (c thinkConfig) database(name string) map[string]any {
	conns, _ := c.Database["connections"].(map[string]any)
	db, _ := conns[cmp.Or(name, str(c.Database["default"]))].(map[string]any)
	return db
}

// thinkConnection is a redis or database connection with think-queue's defaults; any other driver is
// returned with no Driver. expireKey and queueKey are the version's names for expire and the default queue.
func thinkConnection(driver string, q, db map[string]any, expireKey, queueKey string) (AppConnection, error) {
	conn := AppConnection{Driver: driver, Queue: cmp.Or(str(q[queueKey]), "default"), RetryAfter: 60 * time.Second}
	if v, ok := q[expireKey]; ok {
		conn.RetryAfter = seconds(v)
	}
	switch driver {
	case "redis":
		conn.URL = thinkRedisURL(q)
	case "database":
		if db == nil {
			return AppConnection{}, fmt.Errorf("no database connection in the app's database config")
		}
		u, err := thinkDatabaseURL(db, cmp.Or(str(q["table"]), "jobs"))
		if err != nil {
			return AppConnection{}, err
		}
		conn.URL = u
	default:
		return AppConnection{}, nil
	}
	return conn, nil
}

// thinkRedisURL is the redis:// URL of a ThinkPHP Redis option set (host, port, password, select).
func thinkRedisURL(o map[string]any) string {
	u := url.URL{Scheme: "redis", Host: net.JoinHostPort(cmp.Or(str(o["host"]), "127.0.0.1"), cmp.Or(str(o["port"]), "6379")),
		Path: "/" + cmp.Or(str(o["select"]), "0")}
	if pw := str(o["password"]); pw != "" {
		u.User = url.UserPassword("", pw)
	}
	return u.String()
}

// thinkDatabaseURL is the URL of a ThinkPHP database connection (type, hostname, database, username,
// password, hostport, prefix) with its jobs table; the table prefix is the connection's.
func thinkDatabaseURL(c map[string]any, table string) (string, error) {
	typ := strings.ToLower(str(c["type"]))
	u, ok := appDatabase{driver: typ, host: str(c["hostname"]), port: str(c["hostport"]), name: str(c["database"]),
		user: str(c["username"]), password: str(c["password"])}.url(table, str(c["prefix"]))
	if !ok {
		return "", fmt.Errorf("database type %q: want mysql, pgsql or sqlite", typ)
	}
	return u, nil
}

// cache is the app's cache store: 5.0/5.1's one cache config, 6/8's default store.
func (c thinkConfig) cache() (AppCache, error) {
	store := c.Cache
	if c.Framework == string(FrameworkThinkPHP6) {
		stores, _ := c.Cache["stores"].(map[string]any)
		store, _ = stores[str(c.Cache["default"])].(map[string]any)
		if store == nil {
			return AppCache{}, fmt.Errorf("no store %q in cache.stores", str(c.Cache["default"]))
		}
	}
	cache := AppCache{Driver: strings.ToLower(cmp.Or(str(store["type"]), "file")), Prefix: str(store["prefix"])}
	switch cache.Driver {
	case "redis":
		cache.URL = thinkRedisURL(store)
	case "file":
		// An empty path is the framework's runtime/cache/.
		cache.Path = cmp.Or(str(store["path"]), filepath.Join(c.Runtime, "cache"))
	}
	return cache, nil
}
