package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// serveConfig is a bridge.yaml of three groups: think-queue 1.x and Laravel 8 on Redis, and a think-queue
// 3.x jobs table in SQLite.
func serveConfig(t *testing.T, prefix, db string, concurrency int, extra string) *bridge.FileConfig {
	t.Helper()
	text := fmt.Sprintf(`
connections:
  tq:
    url: %[1]s
    dialect: thinkqueue-v1
    failed_prefix: %[2]s
  lv:
    url: %[1]s
    dialect: laravel-8
    prefix: %[2]s_
    failed_prefix: %[2]s
  db:
    url: sqlite:%[3]s
    dialect: thinkqueue-v3
groups:
  notify:
    connection: tq
    queues: %[2]s-notify
    concurrency: %[4]d
    sleep: 0.01
  mail:
    connection: lv
    queues: [%[2]s-mail]
    concurrency: 2
    sleep: 0.01
  reports:
    connection: db
    queues: %[2]s-reports
    sleep: 0.01
%[5]s`, exampleRedis(), prefix, db, concurrency, extra)
	fc, err := bridge.ParseConfigFile("bridge.yaml", []byte(text))
	require.NoError(t, err)
	return fc
}

// A server runs every group; jobs pushed onto each run once; /metrics counts them; a reload under load
// (a group added, one removed, one's concurrency changed) runs every job exactly once.
func TestServe(t *testing.T) {
	rdb := testRedis(t)
	prefix := fmt.Sprintf("qbserve%d", rand.Int64())
	t.Cleanup(func() { deleteKeys(rdb, "*"+prefix+"*") })
	db := filepath.Join(t.TempDir(), "jobs.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The jobs table of the database group, as `bridge migrate` makes it.
	_, err := bridge.Migrate(ctx, &bridge.Config{Connection: "sqlite:" + db, Dialect: "thinkqueue-v3", Logger: quiet}, false)
	require.NoError(t, err)

	var mu sync.Mutex
	ran := map[string]int{}
	b := bridge.New()
	record := func(_ context.Context, job *bridge.Job) error {
		var d struct{ N string }
		if err := job.Bind(&d); err != nil {
			return err
		}
		mu.Lock()
		ran[d.N]++
		mu.Unlock()
		return nil
	}
	b.HandleFunc(`app\job\Record`, record)
	b.HandleFunc(`App\Jobs\Record@handle`, record)

	srv := b.NewServer(serveConfig(t, prefix, db, 4, ""), quiet)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	h := srv.Handler()

	conns := map[string]*bridge.Bridge{}
	for name, c := range map[string]bridge.Config{
		"notify":  {Connection: exampleRedis(), Dialect: "thinkqueue-v1", FailedKeyPrefix: prefix},
		"mail":    {Connection: exampleRedis(), Dialect: "laravel-8", Prefix: prefix + "_"},
		"reports": {Connection: "sqlite:" + db, Dialect: "thinkqueue-v3"},
		"extra":   {Connection: exampleRedis(), Dialect: "thinkqueue-v1"},
	} {
		c.Logger = quiet
		p, err := bridge.Open(ctx, &c)
		require.NoError(t, err)
		defer p.Close()
		conns[name] = p
	}
	push := func(group string, n int) string {
		job := `app\job\Record`
		if group == "mail" {
			job = `App\Jobs\Record@handle`
		}
		key := fmt.Sprintf("%s-%d", group, n)
		_, err := conns[group].Push(ctx, prefix+"-"+group, job, map[string]string{"n": key})
		require.NoError(t, err)
		return key
	}
	var pushed []string
	for n := range 50 {
		for _, g := range []string{"notify", "mail", "reports"} {
			pushed = append(pushed, push(g, n))
		}
	}
	waitRan := func(keys []string) {
		t.Helper()
		ok := assert.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, k := range keys {
				if ran[k] == 0 {
					return false
				}
			}
			return true
		}, 30*time.Second, 10*time.Millisecond)
		if !ok {
			mu.Lock()
			var missing []string
			for _, k := range keys {
				if ran[k] == 0 {
					missing = append(missing, k)
				}
			}
			mu.Unlock()
			keys, _ := rdb.Keys(context.Background(), "*"+prefix+"*").Result()
			for _, k := range keys {
				typ, _ := rdb.Type(context.Background(), k).Result()
				n, _ := rdb.LLen(context.Background(), k).Result()
				t.Logf("key %s %s %d", k, typ, n)
			}
			t.Fatalf("not run: %d: %v", len(missing), missing[:min(len(missing), 20)])
		}
	}
	waitRan(pushed)
	require.Eventually(t, func() bool { ok, _ := srv.Ready(); return ok }, 10*time.Second, 10*time.Millisecond,
		"every group running")
	require.Len(t, srv.Status(), 3)

	// The registry lists this process with its groups; `bridge status --json` prints it.
	var found bridge.BridgeInfo
	require.Eventually(t, func() bool {
		list, err := conns["notify"].Bridges(ctx)
		require.NoError(t, err)
		for _, br := range list {
			// A heartbeat may have been written while a group was still starting: wait for one after.
			if len(br.Groups) == 3 && br.PID == os.Getpid() && br.Groups[1].State == bridge.GroupRunning {
				found = br
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond)
	require.Equal(t, "mail", found.Groups[0].Name)
	var out, errOut bytes.Buffer
	code := bridge.New().RunCommand(ctx, []string{"bridge", "status", "--json", "-c", exampleRedis(), "--failed-prefix", prefix}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Contains(t, out.String(), `"name": "notify"`)
	require.NotContains(t, out.String(), "***@", "no password in this connection to hide")

	metrics := scrape(t, h)
	require.Equal(t, 50.0, metricValue(t, metrics, `bridge_jobs_total{job="app\\job\\Record",outcome="processed",queue="`+prefix+`-notify",runtime="go"}`))
	require.Equal(t, 50.0, metricValue(t, metrics, `bridge_jobs_total{job="App\\Jobs\\Record@handle",outcome="processed",queue="`+prefix+`-mail",runtime="go"}`))
	require.Equal(t, 50.0, metricValue(t, metrics, `bridge_jobs_total{job="app\\job\\Record",outcome="processed",queue="`+prefix+`-reports",runtime="go"}`))
	require.Contains(t, metrics, `bridge_group_up{group="notify",state="RUNNING"} 1`)

	// Reload under load: pushers keep pushing while groups change.
	stopPush := make(chan struct{})
	var pushers sync.WaitGroup
	var pmu sync.Mutex
	for _, g := range []string{"notify", "mail", "reports", "extra"} {
		pushers.Go(func() {
			for n := 1000; ; n++ {
				select {
				case <-stopPush:
					return
				default:
				}
				k := push(g, n)
				pmu.Lock()
				pushed = append(pushed, k)
				pmu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	extra := fmt.Sprintf(`  extra:
    connection: tq
    queues: %s-extra
    sleep: 0.01
`, prefix)
	next := serveConfig(t, prefix, db, 8, extra) // notify's concurrency changed, extra added
	srv.Reload(next)
	time.Sleep(200 * time.Millisecond)
	delete(next.Groups, "reports") // reports removed…
	srv.Reload(next)
	time.Sleep(200 * time.Millisecond)
	srv.Reload(serveConfig(t, prefix, db, 8, extra)) // …and back
	time.Sleep(200 * time.Millisecond)
	close(stopPush)
	pushers.Wait()
	waitRan(pushed)
	mu.Lock()
	for _, k := range pushed {
		require.Equal(t, 1, ran[k], "job %s ran once", k)
	}
	mu.Unlock()
	require.Len(t, srv.Status(), 4)

	cancel()
	require.NoError(t, <-done)
	for _, st := range srv.Status() {
		require.Equal(t, bridge.GroupStopped, st.State, st.Name)
	}
}

// A group whose store is unreachable backs off and says so (readyz), while the others run.
func TestServeUnreachableStore(t *testing.T) {
	rdb := testRedis(t)
	prefix := fmt.Sprintf("qbserve%d", rand.Int64())
	t.Cleanup(func() { deleteKeys(rdb, "*"+prefix+"*") })
	fc, err := bridge.ParseConfigFile("bridge.yaml", []byte(fmt.Sprintf(`
connections:
  good: {url: "%s", dialect: thinkqueue-v1}
  gone: {url: "redis://127.0.0.1:1/0", dialect: thinkqueue-v1}
groups:
  up: {connection: good, queues: %s-up, sleep: 0.01}
  down: {connection: gone, queues: %s-down}
`, exampleRedis(), prefix, prefix)))
	require.NoError(t, err)
	b := bridge.New()
	ran := make(chan struct{}, 1)
	b.HandleFunc(`app\job\Record`, func(context.Context, *bridge.Job) error { ran <- struct{}{}; return nil })
	srv := b.NewServer(fc, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	p, err := bridge.Open(ctx, &bridge.Config{Connection: exampleRedis(), Dialect: "thinkqueue-v1", Logger: quiet})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.Push(ctx, prefix+"-up", `app\job\Record`, nil)
	require.NoError(t, err)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the reachable group did not run its job")
	}
	require.Eventually(t, func() bool {
		for _, st := range srv.Status() {
			if st.Name == "down" && st.State == bridge.GroupBackoff && st.LastError != "" {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	rec := get(t, srv.Handler(), "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, rec.code)
	require.Contains(t, rec.body, "group down is BACKOFF")
	require.Equal(t, http.StatusOK, get(t, srv.Handler(), "/healthz").code)
	cancel()
	require.NoError(t, <-done)
}

type response struct {
	code int
	body string
}

func get(t *testing.T, h http.Handler, path string) response {
	if t != nil {
		t.Helper()
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return response{rec.Code, rec.Body.String()}
}

func scrape(t *testing.T, h http.Handler) string {
	r := get(t, h, "/metrics")
	require.Equal(t, http.StatusOK, r.code)
	return r.body
}

// metricValue reads one sample of a Prometheus text exposition.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if name, value, ok := strings.Cut(line, "} "); ok && name+"}" == series {
			v, err := strconv.ParseFloat(value, 64)
			require.NoError(t, err)
			return v
		}
	}
	t.Fatalf("no sample %s in:\n%s", series, grepLines(text, "bridge_jobs_total"))
	return 0
}

func grepLines(text, re string) string {
	var out []string
	r := regexp.MustCompile(re)
	for _, l := range strings.Split(text, "\n") {
		if r.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
