package deploy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The tests here share one Redis database of their own, flushed when each test starts and ends; they do
// not run in parallel.
const redisDB = 40

// waitLimit bounds every wait on a condition: generous, so only a hang trips it.
const waitLimit = 60 * time.Second

var (
	binDir    string // made by TestMain, removed after the run
	buildOnce sync.Once
	notifyBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "queuebridge-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy: temp dir:", err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// notifyBridge builds testdata/notify (a bridge binary with a Go handler) once per test process.
func notifyBridge(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		bin := filepath.Join(binDir, "bridge")
		out, err := exec.Command("go", "build", "-o", bin, "./testdata/notify").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./testdata/notify: %w\n%s", err, out)
			return
		}
		notifyBin = bin
	})
	require.NoError(t, buildErr)
	return notifyBin
}

func redisAddr() string {
	if a := os.Getenv("QB_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// connection is the bridge's --connection for the tests' Redis database.
func connection() string { return fmt.Sprintf("redis://%s/%d", redisAddr(), redisDB) }

// ownRedis returns a client on the tests' Redis database, flushed now and when the test ends.
func ownRedis(t *testing.T) *goredis.Client {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr(), DB: redisDB})
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err(), "Redis at %s (QB_REDIS_ADDR) must be running", redisAddr())
	require.NoError(t, rdb.FlushDB(ctx).Err())
	t.Cleanup(func() {
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Errorf("cleanup: FLUSHDB %d: %v", redisDB, err)
		}
		_ = rdb.Close()
	})
	return rdb
}

// requireTool finds a program the test cannot do without, or fails saying how to get it.
func requireTool(t *testing.T, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	require.NoError(t, err, "%s is not on PATH: %s", name, hint)
	return p
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", waitLimit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// iniFile is a supervisor or systemd configuration file: sections of key=value lines. Comments are whole
// lines starting with ; or #, as both programs read them; set rewrites a value and keeps every other line.
type iniFile struct {
	lines []iniLine
}

type iniLine struct {
	section, key, value string
	raw                 string // the line as read, for lines that are not key=value
}

func readINI(t *testing.T, path string) *iniFile {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	f := &iniFile{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, ";") || strings.HasPrefix(trimmed, "#"):
			f.lines = append(f.lines, iniLine{section: section, raw: line})
		case strings.HasPrefix(trimmed, "["):
			require.True(t, strings.HasSuffix(trimmed, "]"), "%s: bad section line %q", path, line)
			section = strings.Trim(trimmed, "[]")
			f.lines = append(f.lines, iniLine{section: section, raw: line})
		default:
			k, v, ok := strings.Cut(trimmed, "=")
			require.True(t, ok, "%s: line %q is neither a section, a comment nor key=value", path, line)
			require.NotEmpty(t, section, "%s: %q stands before any section", path, line)
			f.lines = append(f.lines, iniLine{section: section, key: strings.TrimSpace(k), value: strings.TrimSpace(v)})
		}
	}
	require.NoError(t, sc.Err())
	return f
}

// values returns every value of key in section, in file order (systemd allows repeating Environment=).
func (f *iniFile) values(section, key string) []string {
	var vs []string
	for _, l := range f.lines {
		if l.section == section && l.key == key {
			vs = append(vs, l.value)
		}
	}
	return vs
}

// value returns the one value of key in section, failing the test when it is missing or repeated.
func (f *iniFile) value(t *testing.T, section, key string) string {
	t.Helper()
	vs := f.values(section, key)
	require.Len(t, vs, 1, "[%s] must set %s exactly once", section, key)
	return vs[0]
}

// set replaces the value of key in section, which the file must already set.
func (f *iniFile) set(t *testing.T, section, key, value string) {
	t.Helper()
	for i, l := range f.lines {
		if l.section == section && l.key == key {
			f.lines[i].value = value
			return
		}
	}
	t.Fatalf("[%s] has no %s to substitute", section, key)
}

func (f *iniFile) String() string {
	var b strings.Builder
	for _, l := range f.lines {
		if l.key == "" {
			b.WriteString(l.raw)
		} else {
			b.WriteString(l.key + "=" + l.value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// flagValue returns the value of a --name flag in args (`--name v` or `--name=v`).
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// graceOf is the --grace of a bridge command line, in seconds (the bridge's default when it has none).
func graceOf(t *testing.T, args []string) float64 {
	t.Helper()
	v, ok := flagValue(args, "--grace")
	if !ok {
		v = "30"
	}
	g, err := strconv.ParseFloat(v, 64)
	require.NoError(t, err, "--grace %q", v)
	return g
}

var timeSpanPart = regexp.MustCompile(`^(\d+(?:\.\d+)?)([a-z]*)$`)

// systemdSeconds reads a systemd time span ("45", "45s", "1min 30s") as seconds.
func systemdSeconds(t *testing.T, span string) float64 {
	t.Helper()
	units := map[string]float64{
		"": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1,
		"ms": 1e-3, "msec": 1e-3, "us": 1e-6, "usec": 1e-6,
		"m": 60, "min": 60, "minute": 60, "minutes": 60,
		"h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
	}
	var total float64
	parts := regexp.MustCompile(`(\d)\s*([a-z])`).ReplaceAllString(span, "$1$2")
	fields := strings.Fields(parts)
	require.NotEmpty(t, fields, "empty time span")
	for _, p := range fields {
		m := timeSpanPart.FindStringSubmatch(p)
		require.NotNil(t, m, "time span %q: cannot read %q (want e.g. 45s or 1min 30s; infinity never stops)", span, p)
		unit, ok := units[m[2]]
		require.True(t, ok, "time span %q: unknown unit %q", span, m[2])
		n, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		total += n * unit
	}
	return total
}
