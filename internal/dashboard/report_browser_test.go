package dashboard_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// runLedger counts the runs the test's handlers made, by side and outcome.
type runLedger struct {
	mu     sync.Mutex
	counts map[string]int64 // "go.runs", "php.released", …
	ok     int
}

func (l *runLedger) add(side string, released bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int64{}
	}
	l.counts[side+".runs"]++
	if released {
		l.counts[side+".released"]++
	} else {
		l.ok++
	}
}

func (l *runLedger) done() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}

// TestDashboardReport: the report page shows what the test's ledger recorded of a class routed 30% to Go
// (every attempt, both sides), a shadowed class's mismatches with both outcomes and a <script> in an error
// as text, and the route form changes Routes(); in both languages.
func TestDashboardReport(t *testing.T) {
	s := newSite(t, testToken)
	ctx := context.Background()
	const split, mail, n = `App\Jobs\Split`, `App\Jobs\Mail`, 200
	const evil = `<script>alert(1)</script>`
	s.b.Route(split, bridge.RoutePercent(30))
	var l runLedger
	behave := func(side string) bridge.HandlerFunc {
		return func(ctx context.Context, job *bridge.Job) error {
			var d struct{ N int }
			require.NoError(t, job.Bind(&d))
			if d.N%10 == 3 && job.Attempts() == 1 {
				l.add(side, true)
				return errors.New("try again")
			}
			l.add(side, false)
			return nil
		}
	}
	s.b.Handle(split, behave("go"))
	s.b.HandleShadow(mail, bridge.HandlerFunc(func(ctx context.Context, job *bridge.Job) error {
		var d struct{ N int }
		require.NoError(t, job.Bind(&d))
		if d.N == 1 {
			job.Fail(errors.New(evil))
		}
		return nil
	}))
	phpSplit := behave("php")
	php := bridge.HandlerFunc(func(ctx context.Context, job *bridge.Job) error {
		if job.Name() == split {
			return phpSplit(ctx, job)
		}
		return nil
	})
	for i := range n {
		_, err := s.b.Push(ctx, "split", split, map[string]int{"n": i})
		require.NoError(t, err)
	}
	for i := range 5 {
		_, err := s.b.Push(ctx, "split", mail, map[string]int{"n": i})
		require.NoError(t, err)
	}
	for round := 0; l.done() < n; round++ {
		require.Less(t, round, 20, "jobs still missing: %d of %d done", l.done(), n)
		require.NoError(t, s.b.Work(ctx, bridge.WorkerConfig{Queues: []string{"split"}, Concurrency: 8, Tries: 3,
			StopWhenEmpty: true, Sleep: time.Millisecond, QuietJobs: true, PHP: php}))
	}
	require.Positive(t, l.counts["go.runs"])
	require.Positive(t, l.counts["php.released"])

	br := newBrowser(t, "en-US")
	br.login(s)
	br.do(chromedp.Navigate(s.url+"/"), chromedp.Click(chromedp.CSS(`header nav a[href="/report"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#report`)))
	require.Equal(t, "Migration report", br.text("h1"))
	row := `#report tr[data-class="App\\Jobs\\Split"] `
	field := func(f string) string { return br.text(row + `[data-field="` + f + `"]`) }
	for _, f := range []string{"go.runs", "go.released", "php.runs", "php.released"} {
		require.Equal(t, strconv.FormatInt(l.counts[f], 10), field(f), f)
	}
	require.Equal(t, strconv.FormatInt(l.counts["go.runs"]+l.counts["php.runs"], 10), field("runs"))
	require.Equal(t, "0", field("go.failed"))
	require.Equal(t, "30% (code)", field("route"))
	require.Contains(t, field("verdict"), "not yet")
	// The page's figures are Report's, read beside it.
	reps, err := s.b.Report(ctx, time.Hour)
	require.NoError(t, err)
	require.Len(t, reps, 2)
	require.Equal(t, reps[1].Class, split)
	require.Equal(t, reps[1].Verdict, field("verdict"))

	mrow := `#report tr[data-class="App\\Jobs\\Mail"] `
	require.Equal(t, "5", br.text(mrow+`[data-field="shadow.runs"]`))
	require.Equal(t, "1", br.text(mrow+`[data-field="shadow.mismatches"]`))
	require.Equal(t, "deleted", br.text(`.mismatches td.outcome.php .outcome-name`))
	require.Equal(t, "failed", br.text(`.mismatches td.outcome.go .outcome-name`))
	require.Equal(t, evil, br.text(`.mismatches td.outcome.go .error-text`), "the error is shown as text")
	require.Equal(t, 1, eval[int](br, `document.querySelectorAll("script").length`), "only the dashboard's own script is on the page")
	br.screenshot("report")

	// The windows: a day shows the same runs.
	br.do(chromedp.Click(chromedp.CSS(`#windows a[href="/report?window=24h"]`)), chromedp.WaitVisible(chromedp.CSS(`#report`)))
	require.Equal(t, strconv.FormatInt(l.counts["go.runs"], 10), field("go.runs"))

	// A row's form moves the class; the new-class form routes one the report has not seen.
	br.do(chromedp.SetValue(chromedp.CSS(row+`input[name=route]`), "go"), chromedp.Click(chromedp.CSS(row+`form button`)),
		chromedp.WaitVisible(chromedp.CSS(`.done`)))
	require.Contains(t, br.text(".done"), `App\Jobs\Split → go`)
	require.Equal(t, "go (stored)", field("route"))
	br.do(chromedp.SendKeys(chromedp.CSS(`#route-new input[name=class]`), `App\Jobs\New`),
		chromedp.SendKeys(chromedp.CSS(`#route-new input[name=route]`), "12.5%"),
		chromedp.Click(chromedp.CSS(`#route-new button`)))
	br.waitText(".done", `Route set: App\Jobs\New → 12.5% (every bridge follows within a second).`, 10*time.Second)
	routes, err := s.b.Routes(ctx)
	require.NoError(t, err)
	got := map[string]string{}
	for _, r := range routes {
		got[r.Class] = r.Route.String() + " " + r.Source
	}
	require.Equal(t, map[string]string{split: "go store", `App\Jobs\New`: "12.5% store"}, got)
	require.Equal(t, "12.5% (stored)", br.text(`#report tr[data-class="App\\Jobs\\New"] [data-field="route"]`))
	// A bad route is refused and changes nothing.
	br.do(chromedp.SendKeys(chromedp.CSS(`#route-new input[name=class]`), `App\Jobs\New`),
		chromedp.SendKeys(chromedp.CSS(`#route-new input[name=route]`), "most"),
		chromedp.Click(chromedp.CSS(`#route-new button`)), chromedp.WaitVisible(chromedp.CSS(`#error`)))
	require.Contains(t, br.text("#error"), "Not a route")
	require.Zero(t, br.dialogs.Load(), "a mismatch's error ran script")

	// Without a session the form is refused.
	anon := newBrowser(t, "en-US")
	anon.do(chromedp.Navigate(s.url + "/report"))
	require.Equal(t, 403, anon.fetchStatus("/report/route", "class=App%5CJobs%5CSplit&route=php&csrf="))
	routes, err = s.b.Routes(ctx)
	require.NoError(t, err)
	require.Equal(t, "go", routes[1].Route.String())

	zh := newBrowser(t, "zh-CN,zh;q=0.9")
	zh.do(chromedp.Navigate(s.url + "/report"))
	require.Equal(t, "迁移报告", zh.text("h1"))
	require.Equal(t, "迁移报告", zh.text(`header nav a[href="/report"]`))
	require.Equal(t, "已删除", zh.text(`.mismatches td.outcome.php .outcome-name`))
	require.Equal(t, "go (已存储)", zh.text(row+`[data-field="route"]`))
	require.Equal(t, "整个类都在 Go 中运行", zh.text(row+`[data-field="verdict"]`))
	require.True(t, strings.HasPrefix(zh.text(mrow+`[data-field="verdict"]`), "尚未就绪：1 / 5 次影子运行的结果与 PHP 不同（20.00%）；"),
		zh.text(mrow+`[data-field="verdict"]`))
	zh.screenshot("report-zh")
}
