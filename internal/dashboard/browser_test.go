package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// The browser tests drive the real dashboard in headless Chromium, on the real root API over real Redis.

const testToken = "s3cret-token"

// testDB is the Redis database of these tests; every test has its own key prefix in it.
const testDB = 9

func redisAddr() string {
	if a := os.Getenv("QB_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// site is one dashboard on its own Laravel key prefix, served on 127.0.0.1.
type site struct {
	b      *bridge.Bridge
	url    string
	prefix string // the Laravel key prefix
	rdb    *goredis.Client
}

func newSite(t testing.TB, token string) *site {
	t.Helper()
	ctx := context.Background()
	prefix := fmt.Sprintf("qbdash%d_", rand.Uint32())
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr(), DB: testDB})
	require.NoError(t, rdb.Ping(ctx).Err())
	t.Cleanup(func() {
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, "*"+prefix+"*", 1000).Result()
			if err != nil {
				break
			}
			if len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		rdb.Close()
	})
	b, err := bridge.Open(ctx, &bridge.Config{Connection: fmt.Sprintf("redis://%s/%d", redisAddr(), testDB),
		Dialect: "laravel-11", Prefix: prefix, FailedKeyPrefix: prefix + "qb", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	h, err := b.Dashboard(bridge.DashboardOptions{Token: token})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &site{b: b, url: srv.URL, prefix: prefix, rdb: rdb}
}

// browser is a headless Chromium tab; dialogs counts the JavaScript dialogs (alert, confirm) that opened,
// each accepted.
type browser struct {
	ctx     context.Context
	dialogs atomic.Int32
	t       *testing.T
	shots   string
}

func newBrowser(t *testing.T, acceptLanguage string) *browser {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no /usr/bin/chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("accept-lang", acceptLanguage))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	br := &browser{ctx: ctx, t: t, shots: t.TempDir()}
	if dir := os.Getenv("QB_DASHBOARD_SHOTS"); dir != "" {
		br.shots = dir // to look at them after the test
	}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *page.EventJavascriptDialogOpening, page.EventJavascriptDialogOpening:
			br.dialogs.Add(1)
			// Accepted from another goroutine: a listener must not run a command.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}))
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": acceptLanguage}})
	require.NoError(t, err)
	return br
}

func (br *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	require.NoError(br.t, chromedp.Do(br.ctx, steps...))
}

func (br *browser) text(sel string) string {
	br.t.Helper()
	s, err := chromedp.Run(br.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(br.t, err, sel)
	return strings.TrimSpace(s)
}

// eval is the value of a JavaScript expression on the page (a promise awaited).
func eval[T any](br *browser, expr string) T {
	br.t.Helper()
	v, err := chromedp.Run(br.ctx, chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.AwaitPromise = new(true) }))
	require.NoError(br.t, err, expr)
	return v
}

// waitText waits until the element's text is want.
func (br *browser) waitText(sel, want string, within time.Duration) {
	br.t.Helper()
	deadline := time.Now().Add(within)
	var got string
	for time.Now().Before(deadline) {
		got, _ = chromedp.Run(br.ctx, chromedp.Text(chromedp.CSS(sel)))
		if strings.TrimSpace(got) == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	br.t.Fatalf("%s: text %q, want %q after %s", sel, got, want, within)
}

func (br *browser) screenshot(name string) {
	br.t.Helper()
	png, err := chromedp.Run(br.ctx, chromedp.FullScreenshot(100))
	require.NoError(br.t, err)
	path := filepath.Join(br.shots, strings.ReplaceAll(br.t.Name(), "/", "_")+"-"+name+".png")
	require.NoError(br.t, os.WriteFile(path, png, 0o644))
	br.t.Logf("screenshot: %s", path)
}

// login opens a session with the token on the login page.
func (br *browser) login(s *site) {
	br.t.Helper()
	br.do(chromedp.Navigate(s.url+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), testToken),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`.session form`)))
	require.Contains(br.t, br.text("header .session"), "Log out")
}

// fetchStatus posts a form from the page, as a script on it could, and returns the status.
func (br *browser) fetchStatus(path, body string) int {
	br.t.Helper()
	return eval[int](br, fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: %q, redirect: "manual"}).then(r => r.status)`, path, body))
}

// failJob runs one job of name on queueName through a worker whose handler fails it for good with msg.
func failJob(t testing.TB, s *site, queueName, name string, data any, msg string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.b.Push(ctx, queueName, name, data)
	require.NoError(t, err)
	s.b.HandleFunc(name, func(context.Context, *bridge.Job) error { return errors.New(msg) })
	require.NoError(t, s.b.Work(ctx, bridge.WorkerConfig{Queues: []string{queueName}, Tries: 1, StopWhenEmpty: true, Sleep: 10 * time.Millisecond}))
	failed, err := s.b.Failed(ctx)
	require.NoError(t, err)
	require.Len(t, failed, 1)
}

func TestDashboardOverviewCountsAndUpdates(t *testing.T) {
	s := newSite(t, "")
	ctx := context.Background()
	for i := range 3 {
		_, err := s.b.Push(ctx, "orders", "App\\Jobs\\Ship", map[string]int{"order": i})
		require.NoError(t, err)
	}
	for range 2 {
		_, err := s.b.Later(ctx, time.Hour, "mail", "App\\Jobs\\Mail", nil)
		require.NoError(t, err)
	}
	br := newBrowser(t, "en-US")
	br.do(chromedp.Navigate(s.url + "/"))
	require.Equal(t, "3", br.text(`tr[data-queue="orders"] [data-field=ready]`))
	require.Equal(t, "0", br.text(`tr[data-queue="orders"] [data-field=delayed]`))
	require.Equal(t, "2", br.text(`tr[data-queue="mail"] [data-field=delayed]`))
	require.Equal(t, "0", br.text(`tr[data-queue="mail"] [data-field=ready]`))
	require.Contains(t, br.text(".conn"), "redis://"+redisAddr())
	require.Contains(t, br.text("header"), "Read-only")
	require.Zero(t, eval[int](br, `document.querySelectorAll("form[method=post]").length`), "a read-only dashboard offers no writes")
	br.screenshot("overview")

	// The page polls: a job pushed now shows without a reload.
	_, err := s.b.Push(ctx, "orders", "App\\Jobs\\Ship", nil)
	require.NoError(t, err)
	br.waitText(`tr[data-queue="orders"] [data-field=ready]`, "4", 8*time.Second)

	br.do(chromedp.Click(chromedp.CSS(`a[href="/queues/orders"]`)), chromedp.WaitVisible(chromedp.CSS(`#jobs`)))
	require.Equal(t, 4, eval[int](br, `document.querySelectorAll("#jobs tbody tr").length`))
	require.Equal(t, "App\\Jobs\\Ship", br.text(`#jobs tbody tr td:nth-child(2)`))
	br.screenshot("queue")

	_, err = s.b.Push(ctx, "orders", "App\\Jobs\\Refund", nil)
	require.NoError(t, err)
	br.do(chromedp.Navigate(s.url + "/queues/orders?class=" + url.QueryEscape("App\\Jobs\\Refund")))
	require.Equal(t, 1, eval[int](br, `document.querySelectorAll("#jobs tbody tr").length`), "the class filter")
	require.Equal(t, "App\\Jobs\\Refund", br.text(`#jobs tbody tr td:nth-child(2)`))
}

func TestDashboardRetryMovesFailedJobBack(t *testing.T) {
	s := newSite(t, testToken)
	ctx := context.Background()
	failJob(t, s, "mail", "App\\Jobs\\Boom", map[string]string{"to": "a@example.com"}, "SMTP said no\nat line 2")
	br := newBrowser(t, "en-US")
	br.login(s)
	br.do(chromedp.Navigate(s.url + "/failed"))
	require.Equal(t, "1 failed jobs", br.text("#failed-count"))
	require.Equal(t, "*errors.errorString: SMTP said no", br.text("#failed tbody td.error"), "the error's first line")
	br.screenshot("failed")
	br.do(chromedp.Click(chromedp.CSS(`#failed tbody button.retry`)), chromedp.WaitVisible(chromedp.CSS(`.done`)))
	require.Contains(t, br.text(".done"), "is back on its queue")
	require.Equal(t, "0 failed jobs", br.text("#failed-count"))
	br.screenshot("retried")

	sizes, err := s.b.Sizes(ctx, "mail")
	require.NoError(t, err)
	require.EqualValues(t, 1, sizes.Ready, "the retried job is not back on its queue")
	failed, err := s.b.Failed(ctx)
	require.NoError(t, err)
	require.Empty(t, failed)
}

func TestDashboardPauseStopsWorkers(t *testing.T) {
	s := newSite(t, testToken)
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	s.b.HandleFunc("App\\Jobs\\Work", func(context.Context, *bridge.Job) error { ran.Add(1); return nil })
	worked := make(chan error, 1)
	go func() {
		worked <- s.b.Work(ctx, bridge.WorkerConfig{Queues: []string{"work"}, Sleep: 10 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); <-worked })
	push := func(n int) {
		for range n {
			_, err := s.b.Push(context.Background(), "work", "App\\Jobs\\Work", nil)
			require.NoError(t, err)
		}
	}
	push(1)
	require.Eventually(t, func() bool { return ran.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "the worker does not run jobs")

	br := newBrowser(t, "en-US")
	br.login(s)
	br.do(chromedp.Navigate(s.url+"/queues/work"), chromedp.Click(chromedp.CSS(`#pause-button`)),
		chromedp.WaitVisible(chromedp.CSS(`.warn`)))
	require.Contains(t, br.text(".done"), "Queue work paused.")
	br.screenshot("paused")
	paused, err := s.b.Paused(context.Background(), "work")
	require.NoError(t, err)
	require.True(t, paused)

	time.Sleep(time.Second) // "within a second"
	push(3)
	time.Sleep(1500 * time.Millisecond)
	require.EqualValues(t, 1, ran.Load(), "a paused queue's worker took a job")
	sizes, err := s.b.Sizes(context.Background(), "work")
	require.NoError(t, err)
	require.EqualValues(t, 3, sizes.Ready)

	br.do(chromedp.Click(chromedp.CSS(`#pause-button`)))
	br.waitText(".done", "Queue work resumed.", 5*time.Second)
	require.Eventually(t, func() bool { return ran.Load() == 4 }, 5*time.Second, 10*time.Millisecond, "the resumed queue is not worked")
}

func TestDashboardScriptPayloadIsInert(t *testing.T) {
	s := newSite(t, testToken)
	const evil = `<script>alert(1)</script>`
	_, err := s.b.Push(context.Background(), "evil", "App\\Jobs\\X", map[string]string{"html": evil, "img": `<img src=x onerror=alert(2)>`})
	require.NoError(t, err)
	failJob(t, s, "evil-failed", "App\\Jobs\\Y", map[string]string{"html": evil}, evil)
	br := newBrowser(t, "en-US")
	br.do(chromedp.Navigate(s.url+"/queues/evil"), chromedp.Click(chromedp.CSS(`#jobs summary`)))
	require.Contains(t, br.text("#jobs pre.payload"), `alert(1)`)
	require.Contains(t, br.text("#jobs pre.payload"), `<img src=x onerror=alert(2)>`)
	br.screenshot("queue")

	failed, err := s.b.Failed(context.Background())
	require.NoError(t, err)
	br.do(chromedp.Navigate(s.url + "/failed/" + failed[0].ID))
	require.Contains(t, br.text("#exception"), ": "+evil+" in ", "the error is not shown as text")
	br.screenshot("failed")
	require.Equal(t, 1, eval[int](br, `document.querySelectorAll("script").length`), "only the dashboard's own script is on the page")
	require.Zero(t, eval[int](br, `document.querySelectorAll("img").length`))
	time.Sleep(300 * time.Millisecond)
	require.Zero(t, br.dialogs.Load(), "a payload ran script")
}

func TestDashboardBothLanguages(t *testing.T) {
	s := newSite(t, testToken)
	_, err := s.b.Push(context.Background(), "orders", "App\\Jobs\\Ship", nil)
	require.NoError(t, err)

	br := newBrowser(t, "zh-CN,zh;q=0.9")
	br.do(chromedp.Navigate(s.url + "/"))
	require.Equal(t, "概览", br.text("h1"), "Accept-Language zh-CN")
	require.Equal(t, "就绪", br.text("#queues thead th:nth-child(2)"))
	require.Equal(t, "1", br.text(`tr[data-queue="orders"] [data-field=ready]`))
	br.screenshot("zh")
	br.do(chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS("h1")))
	require.Equal(t, "Overview", br.text("h1"))
	br.do(chromedp.Navigate(s.url + "/failed")) // the choice is remembered
	require.Equal(t, "Failed jobs", br.text("h1"))
	br.do(chromedp.Navigate(s.url + "/failed?lang=zh-CN"))
	require.Equal(t, "失败任务", br.text("h1"))
	require.Equal(t, "登录以管理", br.text(`header .session a[href^="/login"]`))
	br.screenshot("zh-failed")
}

func TestDashboardWritesNeedTokenAndCSRF(t *testing.T) {
	s := newSite(t, testToken)
	ctx := context.Background()
	failJob(t, s, "mail", "App\\Jobs\\Boom", nil, "boom")
	br := newBrowser(t, "en-US")

	// No session: the button is there, the write is refused.
	br.do(chromedp.Navigate(s.url+"/failed"), chromedp.Click(chromedp.CSS(`#failed tbody button.retry`)),
		chromedp.WaitVisible(chromedp.CSS(`#error`)))
	require.Contains(t, br.text("#error"), "log in")
	br.screenshot("refused")
	require.Equal(t, 403, br.fetchStatus("/failed/retry-all", "csrf="))
	require.Equal(t, 403, br.fetchStatus("/login", "token=wrong"))

	// A session without the form's CSRF token (a script of another page could not read it).
	br.login(s)
	require.Equal(t, 403, br.fetchStatus("/failed/retry-all", "csrf=forged"))
	require.Equal(t, 403, br.fetchStatus("/queues/mail/pause", ""))
	failed, err := s.b.Failed(ctx)
	require.NoError(t, err)
	require.Len(t, failed, 1, "a refused write changed the store")
	paused, err := s.b.Paused(ctx, "mail")
	require.NoError(t, err)
	require.False(t, paused)

	// With the page's CSRF token, the same write goes through.
	br.do(chromedp.Navigate(s.url + "/failed"))
	csrf := eval[string](br, `document.querySelector("input[name=csrf]").value`)
	require.NotEmpty(t, csrf)
	// A cross-site request with the session's cookie and CSRF token is refused too.
	got, err := chromedp.Call(br.ctx, network.GetCookies, network.GetCookiesParams{})
	require.NoError(t, err)
	cookies := got.Cookies
	req, err := http.NewRequest("POST", s.url+"/queues/mail/pause", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	paused, err = s.b.Paused(ctx, "mail")
	require.NoError(t, err)
	require.False(t, paused, "a cross-site write went through")

	// The page's own form, with its CSRF token, goes through: fetch follows no redirect (status 0).
	require.Equal(t, 0, br.fetchStatus("/queues/mail/pause", "csrf="+url.QueryEscape(csrf)))
	paused, err = s.b.Paused(ctx, "mail")
	require.NoError(t, err)
	require.True(t, paused)

	// A dashboard without a token refuses every write, a session or not.
	ro := newSite(t, "")
	br.do(chromedp.Navigate(ro.url + "/"))
	require.Equal(t, 403, br.fetchStatus("/failed/flush", ""))
	require.Equal(t, 403, br.fetchStatus("/login", "token="))
}

// The job page shows a waiting job's data; Cancel withdraws it from its queue (data-confirm is accepted),
// and a reserved job's page offers no such change.
func TestDashboardJobPageCancels(t *testing.T) {
	s := newSite(t, testToken)
	ctx := context.Background()
	id, err := s.b.Push(ctx, "orders", `App\Jobs\Ship@handle`, map[string]string{"order": "A-17"})
	require.NoError(t, err)
	keep, err := s.b.Push(ctx, "orders", `App\Jobs\Ship@handle`, map[string]string{"order": "B-18"})
	require.NoError(t, err)
	br := newBrowser(t, "en-US")
	br.login(s)
	br.do(chromedp.Navigate(s.url + "/jobs/" + id))
	require.Contains(t, br.text("#job-data"), "A-17")
	br.screenshot("job")
	br.do(chromedp.Click(chromedp.CSS(`form[action$="/cancel"] button`)), chromedp.WaitVisible(chromedp.CSS(`.done`)))
	require.NotZero(t, br.dialogs.Load(), "cancel asks first")
	sizes, err := s.b.Sizes(ctx, "orders")
	require.NoError(t, err)
	require.EqualValues(t, 1, sizes.Ready, "one job withdrawn, the other left")
	_, err = s.b.FindJob(ctx, id)
	require.ErrorIs(t, err, bridge.ErrNoJob)
	left, err := s.b.FindJob(ctx, keep)
	require.NoError(t, err)
	require.Contains(t, string(left.Data), "B-18")
}
