package bridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/queuebridge/bridge/executor/php"
)

// FileConfig is a bridge.yaml: connections, and worker groups that each drain some queues of one
// connection — what supervisor's programs and Horizon's supervisors describe for PHP workers. The schema
// is in the README; deploy/bridge.yaml is an example.
type FileConfig struct {
	// App is the PHP app's directory; its own queue config supplies connections and the PHP executor.
	App string `yaml:"app,omitempty"`
	// HTTP is where /metrics, /healthz and /readyz listen (off when empty), e.g. 127.0.0.1:9464.
	HTTP string `yaml:"http,omitempty"`
	// Log sets the log level (debug, info, warn, error) and format (text, json).
	Log struct {
		Level  string `yaml:"level,omitempty"`
		Format string `yaml:"format,omitempty"`
	} `yaml:"log,omitempty"`
	// Dashboard serves the web dashboard of one connection beside the metrics on HTTP (off when absent).
	Dashboard *FileDashboard `yaml:"dashboard,omitempty"`
	// Connections by name.
	Connections map[string]*FileConnection `yaml:"connections,omitempty"`
	// Groups by name, each a set of workers.
	Groups map[string]*FileGroup `yaml:"groups,omitempty"`
	// Routes say which side runs a job class: go, php, or a percentage for Go (25%). The route table stored
	// on a connection (`bridge route set`) wins over these; SIGHUP re-reads them.
	Routes map[string]string `yaml:"routes,omitempty"`

	path string
}

// FileConnection is one queue backend of a bridge.yaml: the fields of Config.
type FileConnection struct {
	URL            string   `yaml:"url,omitempty"`
	Dialect        string   `yaml:"dialect,omitempty"`
	Prefix         string   `yaml:"prefix,omitempty"`
	Expire         *Seconds `yaml:"expire,omitempty"`
	Cache          string   `yaml:"cache,omitempty"`
	CachePrefix    string   `yaml:"cache_prefix,omitempty"`
	RestartKey     string   `yaml:"restart_key,omitempty"`
	FailedPrefix   string   `yaml:"failed_prefix,omitempty"`
	FailedDatabase string   `yaml:"failed_database,omitempty"`
	FailedTable    string   `yaml:"failed_table,omitempty"`
}

// FileDashboard is the dashboard section of a bridge.yaml.
type FileDashboard struct {
	// Connection is the connection it shows (default: the only one).
	Connection string `yaml:"connection,omitempty"`
	// Token lets a person who gives it change the queue; empty: read-only. Write it as ${VAR}.
	Token string `yaml:"token,omitempty"`
}

// FileGroup is one worker group of a bridge.yaml: the fields of WorkerConfig, the connection it drains and
// its PHP executor.
type FileGroup struct {
	Connection  string    `yaml:"connection,omitempty"`
	Queues      []string  `yaml:"queues,omitempty"`
	Concurrency int       `yaml:"concurrency,omitempty"`
	Tries       int       `yaml:"tries,omitempty"`
	Delay       *Seconds  `yaml:"delay,omitempty"`
	Backoff     []Seconds `yaml:"backoff,omitempty"`
	Timeout     *Seconds  `yaml:"timeout,omitempty"`
	Sleep       *Seconds  `yaml:"sleep,omitempty"`
	Memory      int       `yaml:"memory,omitempty"` // MB
	Grace       *Seconds  `yaml:"grace,omitempty"`
	PHP         *FilePHP  `yaml:"php,omitempty"`
}

// FilePHP is a group's PHP executor: the app's own code runs the jobs no Go handler claims.
type FilePHP struct {
	App       string `yaml:"app,omitempty"`
	Framework string `yaml:"framework,omitempty"`
	Boot      string `yaml:"boot,omitempty"`
	Binary    string `yaml:"binary,omitempty"`
	Workers   int    `yaml:"workers,omitempty"`
	Mode      string `yaml:"mode,omitempty"`
	MaxJobs   *int   `yaml:"max_jobs,omitempty"`
	Memory    int    `yaml:"memory,omitempty"` // MB
	// StartSecs and StartRetries are supervisord's startsecs (default 1) and startretries (default 3).
	StartSecs    *Seconds `yaml:"startsecs,omitempty"`
	StartRetries *int     `yaml:"startretries,omitempty"`
}

// RouteTable is the file's routes, read (LoadConfigFile checked them).
func (fc *FileConfig) RouteTable() map[string]Route {
	m := make(map[string]Route, len(fc.Routes))
	for class, s := range fc.Routes {
		if r, err := ParseRoute(s); err == nil {
			m[class] = r
		}
	}
	return m
}

// Seconds is a duration written as a number of seconds (fractions allowed), as think-queue's flags take them.
type Seconds time.Duration

// Duration is s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// ConfigError is a mistake in a config file, with where it is.
type ConfigError struct {
	File string
	Line int
	Key  string // the key's path, e.g. groups.notify.concurrency
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
}

// LoadConfigFile reads a bridge.yaml. ${VAR} in a value is replaced by the environment variable VAR (an unset
// one is an error; $$ is a dollar sign), so secrets stay out of the file. Unknown keys, values of the wrong
// type and references to connections that do not exist are errors naming the file, line and key.
func LoadConfigFile(path string) (*FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return ParseConfigFile(path, data)
}

// ParseConfigFile is LoadConfigFile for bytes already read; name is the file name used in errors.
func ParseConfigFile(name string, data []byte) (*FileConfig, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fc := &FileConfig{path: name}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: name, Key: "(file)", Msg: "empty: want at least connections and groups"}
	}
	d := fileDecoder{file: name}
	if err := d.decode(root.Content[0], reflect.ValueOf(fc).Elem(), ""); err != nil {
		return nil, err
	}
	if err := fc.check(&root); err != nil {
		return nil, err
	}
	return fc, nil
}

// fileDecoder decodes a YAML tree into the File* structs, knowing where each value stood.
type fileDecoder struct{ file string }

func (d fileDecoder) fail(n *yaml.Node, key, format string, a ...any) error {
	return &ConfigError{File: d.file, Line: n.Line, Key: cmp.Or(key, "(top level)"), Msg: fmt.Sprintf(format, a...)}
}

func (d fileDecoder) decode(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if v.Kind() == reflect.Pointer {
		nullExpire := v.Type().Elem() == reflect.TypeFor[Seconds]() && strings.HasSuffix(key, "expire")
		if n.Tag == "!!null" && !nullExpire {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), key)
	}
	if v.Type() == reflect.TypeFor[Seconds]() {
		return d.seconds(n, v, key)
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return d.fail(n, key, "want a mapping of keys")
		}
		fields := yamlFields(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(key+"."+k.Value, ".")
			idx, ok := fields[k.Value]
			if !ok {
				return d.fail(k, path, "unknown key (known here: %s)", strings.Join(sortedKeys(fields), ", "))
			}
			if err := d.decode(val, v.Field(idx), path); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.fail(n, key, "want a mapping of names")
		}
		v.Set(reflect.MakeMap(v.Type()))
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			path := key + "." + k.Value
			if k.Value == "" {
				return d.fail(k, path, "empty name")
			}
			if v.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				return d.fail(k, path, "named twice")
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, elem, path); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
		return nil
	case reflect.Slice:
		items := []*yaml.Node{n}
		if n.Kind == yaml.SequenceNode {
			items = n.Content
		} else if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
			// queues: a,b — the command line's form — is accepted too.
			items = nil
			for _, q := range strings.Split(n.Value, ",") {
				items = append(items, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.TrimSpace(q), Line: n.Line})
			}
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.fail(n, key, "want a single value")
	}
	value, err := expandEnv(n.Value)
	if err != nil {
		return d.fail(n, key, "%v", err)
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	case reflect.Int:
		var i int
		if err := (&yaml.Node{Kind: yaml.ScalarNode, Value: value}).Decode(&i); err != nil {
			return d.fail(n, key, "want a whole number, got %q", value)
		}
		v.SetInt(int64(i))
	default:
		return d.fail(n, key, "unsupported value")
	}
	return nil
}

func (d fileDecoder) seconds(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.ScalarNode {
		return d.fail(n, key, "want a number of seconds")
	}
	value, err := expandEnv(n.Value)
	if err != nil {
		return d.fail(n, key, "%v", err)
	}
	if value == "null" && strings.HasSuffix(key, "expire") {
		v.SetInt(-1) // think-queue 1.x's expire => null
		return nil
	}
	var f float64
	if err := (&yaml.Node{Kind: yaml.ScalarNode, Value: value}).Decode(&f); err != nil || f < 0 {
		return d.fail(n, key, "want a number of seconds ≥ 0, got %q", value)
	}
	v.SetInt(int64(f * float64(time.Second)))
	return nil
}

// expandEnv replaces ${VAR} and $VAR with the environment's values; $$ is a dollar sign.
func expandEnv(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var missing []string
	out := os.Expand(strings.ReplaceAll(s, "$$", "\x00"), func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return strings.ReplaceAll(out, "\x00", "$"), nil
}

// yamlFields maps a struct's yaml names to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			m[tag] = i
		}
	}
	return m
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// check finds what decoding cannot: groups without queues, connections that do not exist, bad values.
func (fc *FileConfig) check(root *yaml.Node) error {
	line := func(path ...string) int { return lineOf(root, path...) }
	fail := func(path []string, format string, a ...any) error {
		return &ConfigError{File: fc.path, Line: line(path...), Key: strings.Join(path, "."), Msg: fmt.Sprintf(format, a...)}
	}
	for class, r := range fc.Routes {
		if _, err := ParseRoute(r); err != nil {
			return fail([]string{"routes", class}, "%v", err)
		}
	}
	if len(fc.Groups) == 0 {
		return fail([]string{"groups"}, "no worker groups: name at least one, with its connection and queues")
	}
	if err := fc.appConnections(fail); err != nil {
		return err
	}
	for name, g := range fc.Groups {
		if g == nil {
			return fail([]string{"groups", name}, "empty group: give it a connection and queues")
		}
		switch _, ok := fc.Connections[g.Connection]; {
		case g.Connection == "" && len(fc.Connections) == 1:
			for c := range fc.Connections {
				g.Connection = c // the only one
			}
		case g.Connection == "":
			return fail([]string{"groups", name}, "no connection: name one of connections (%s)", strings.Join(mapKeys(fc.Connections), ", "))
		case g.Connection != "" && !ok:
			return fail([]string{"groups", name, "connection"}, "no connection %q in connections (%s)", g.Connection, strings.Join(mapKeys(fc.Connections), ", "))
		}
		if len(g.Queues) == 0 || slices.Contains(g.Queues, "") {
			return fail([]string{"groups", name, "queues"}, "name the queues this group drains, in priority order")
		}
		if g.Concurrency < 0 || g.Tries < 0 || g.Memory < 0 {
			return fail([]string{"groups", name}, "concurrency, tries and memory cannot be negative")
		}
		if g.Delay != nil && len(g.Backoff) > 0 {
			return fail([]string{"groups", name, "backoff"}, "give delay or backoff, not both")
		}
		if g.PHP != nil && g.PHP.App == "" {
			g.PHP.App = fc.App
		}
		if g.PHP != nil && g.PHP.App == "" {
			return fail([]string{"groups", name, "php", "app"}, "the PHP executor needs the app's directory (php.app, or app at the top)")
		}
	}
	if d := fc.Dashboard; d != nil {
		switch _, ok := fc.Connections[d.Connection]; {
		case d.Connection == "" && len(fc.Connections) == 1:
			for c := range fc.Connections {
				d.Connection = c
			}
		case d.Connection == "":
			return fail([]string{"dashboard"}, "no connection: name one of connections (%s)", strings.Join(mapKeys(fc.Connections), ", "))
		case !ok:
			return fail([]string{"dashboard", "connection"}, "no connection %q in connections (%s)", d.Connection, strings.Join(mapKeys(fc.Connections), ", "))
		}
	}
	for name, c := range fc.Connections {
		if c == nil {
			return fail([]string{"connections", name}, "empty connection: give at least url")
		}
		cfg := c.Config(nil)
		if err := cfg.Validate(); err != nil {
			return fail([]string{"connections", name}, "%v", err)
		}
	}
	return nil
}

// appConnections adds to connections those the groups name (or, when the file has no connections, leave
// out: the app's default) that only the app's own queue config has, read once from the app at the top.
func (fc *FileConfig) appConnections(fail func(path []string, format string, a ...any) error) error {
	if fc.App == "" {
		return nil
	}
	var app *php.App
	own := len(fc.Connections)
	for _, name := range mapKeys(fc.Groups) {
		g := fc.Groups[name]
		if g == nil || (g.Connection == "" && own > 0) {
			continue
		}
		if _, ok := fc.Connections[g.Connection]; ok {
			continue
		}
		if app == nil {
			a, err := php.ReadApp(context.Background(), php.Options{App: fc.App})
			if err != nil {
				return fail([]string{"app"}, "%v", err)
			}
			app = &a
		}
		cfg, err := appConfig(*app, g.Connection)
		if err != nil {
			return fail([]string{"groups", name, "connection"}, "%v", err)
		}
		g.Connection = cmp.Or(g.Connection, app.Default)
		expire := Seconds(cfg.Expire)
		if fc.Connections == nil {
			fc.Connections = map[string]*FileConnection{}
		}
		fc.Connections[g.Connection] = &FileConnection{URL: cfg.Connection, Dialect: cfg.Dialect, Prefix: cfg.Prefix,
			Expire: &expire, Cache: cfg.CacheConnection, CachePrefix: cfg.CachePrefix}
	}
	return nil
}

// lineOf is the line of the key at path in a YAML document, or 0.
func lineOf(root *yaml.Node, path ...string) int {
	if len(root.Content) == 0 {
		return 0
	}
	n, line := root.Content[0], 0
	for _, p := range path {
		found := false
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Config is the connection as a Config; base supplies what the file leaves out (nil: defaults).
func (c *FileConnection) Config(base *Config) Config {
	var out Config
	if base != nil {
		out = *base
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&out.Connection, c.URL)
	set(&out.Dialect, c.Dialect)
	set(&out.Prefix, c.Prefix)
	set(&out.CacheConnection, c.Cache)
	set(&out.CachePrefix, c.CachePrefix)
	set(&out.RestartKey, c.RestartKey)
	set(&out.FailedKeyPrefix, c.FailedPrefix)
	set(&out.FailedDatabase, c.FailedDatabase)
	set(&out.FailedTable, c.FailedTable)
	if c.Expire != nil {
		out.Expire = c.Expire.Duration()
	}
	return out
}

// WorkerConfig is the group as a WorkerConfig (without its PHP executor, which the caller starts).
func (g *FileGroup) WorkerConfig() WorkerConfig {
	wc := WorkerConfig{Queues: g.Queues, Concurrency: g.Concurrency, Tries: g.Tries}
	if g.Delay != nil {
		wc.Delay = g.Delay.Duration()
	}
	for _, b := range g.Backoff {
		wc.Backoff = append(wc.Backoff, b.Duration())
	}
	if g.Timeout != nil {
		wc.Timeout = g.Timeout.Duration()
		if wc.Timeout == 0 {
			wc.Timeout = -1
		}
	}
	if g.Sleep != nil {
		wc.Sleep = max(g.Sleep.Duration(), time.Millisecond)
	}
	if g.Grace != nil {
		wc.GracePeriod = max(g.Grace.Duration(), time.Millisecond)
	}
	if g.Memory > 0 {
		wc.Memory = int64(g.Memory) << 20
	}
	return wc
}

// Redacted is the config as YAML with every secret (passwords in URLs) hidden, for `bridge config show`.
func (fc *FileConfig) Redacted() ([]byte, error) {
	out := *fc
	out.Connections = map[string]*FileConnection{}
	for name, c := range fc.Connections {
		cc := *c
		cc.URL, cc.Cache, cc.FailedDatabase = redactURL(cc.URL), redactURL(cc.Cache), redactURL(cc.FailedDatabase)
		out.Connections[name] = &cc
	}
	if d := fc.Dashboard; d != nil && d.Token != "" {
		out.Dashboard = &FileDashboard{Connection: d.Connection, Token: "***"}
	}
	b, err := yaml.Marshal(&out)
	if err != nil {
		return nil, errors.New("config show: " + err.Error())
	}
	return b, nil
}

// MarshalYAML writes seconds as a number.
func (s Seconds) MarshalYAML() (any, error) {
	if s < 0 {
		return "null", nil
	}
	return time.Duration(s).Seconds(), nil
}
