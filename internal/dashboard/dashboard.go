// Package dashboard is the bridge's web dashboard: the queues, their jobs, the failed store and the running
// bridges, in English and Simplified Chinese. It reads and changes the queue only through Source (a
// connected *bridge.Bridge, which imports this package to mount it). It is read-only unless Options.Token is
// set; writes then need a session opened with the token, a same-origin request and the session's CSRF token.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/status"
)

// Source is what the dashboard shows and changes: a connected *bridge.Bridge.
type Source interface {
	Connection() string // its password hidden
	Dialect() string
	Queues(ctx context.Context) ([]string, error)
	Sizes(ctx context.Context, queueName string) (queue.Sizes, error)
	Jobs(ctx context.Context, queueName string, state queue.State, offset, limit int) ([]queue.StoredJob, error)
	Paused(ctx context.Context, queueName string) (bool, error)
	Pause(ctx context.Context, queueName string) error
	Resume(ctx context.Context, queueName string) error
	Later(ctx context.Context, delay time.Duration, queueName, job string, data any) (string, error)
	Failed(ctx context.Context) ([]queue.FailedJob, error)
	FailedJob(ctx context.Context, id string) (queue.FailedJob, error)
	Retry(ctx context.Context, id string) error
	RetryAll(ctx context.Context) ([]string, error)
	Forget(ctx context.Context, id string) error
	Flush(ctx context.Context) (int, error)
	Bridges(ctx context.Context) ([]status.Bridge, error)
}

// Job is one job found by id, decoded.
type Job = queue.JobInfo

// JobEdit changes a waiting job.
type JobEdit = queue.JobEdit

// JobManager finds, cancels and edits waiting jobs by id.
type JobManager interface {
	FindJob(ctx context.Context, id string) (Job, error)
	CancelJob(ctx context.Context, id string) error
	EditJob(ctx context.Context, id string, e JobEdit) (Job, error)
}

// TrendPoint is one minute of a queue across every bridge.
type TrendPoint = queue.TrendPoint

// TrendSource gives a queue's minutes since a time.
type TrendSource interface {
	Trends(ctx context.Context, queueName string, since time.Time) ([]TrendPoint, error)
}

// ReportSource is what the report page shows and changes: the per-class report of `bridge report`, the
// routes of `bridge route list`, and `bridge route set`.
type ReportSource interface {
	Report(ctx context.Context, window time.Duration) ([]status.ClassReport, error)
	Routes(ctx context.Context) ([]status.ClassRoute, error)
	SetRoute(ctx context.Context, class string, r status.Route) error
}

// Options configure the dashboard.
type Options struct {
	Source Source
	// Jobs adds the job pages (/jobs/{id}) and the cancel and edit buttons; nil leaves them out.
	Jobs JobManager
	// Trends adds the throughput and wait charts of the last hour; nil leaves them out.
	Trends TrendSource
	// Report adds the report page (/report) with its route form; nil leaves it out.
	Report ReportSource
	// Token opens a session that may change the queue (retry, pause, push, …). Empty: read-only.
	Token string
	// NotFound reports whether an error of Source (or Jobs) means the failed job or job does not exist.
	NotFound func(error) bool
	// Conflict reports whether an error of Jobs means the job is reserved by a worker and cannot be changed.
	Conflict func(error) bool
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Dashboard serves the pages. Create it with New.
type Dashboard struct {
	o     Options
	pages map[string]*template.Template
	auth  auth
	mux   *http.ServeMux
}

// New returns the dashboard's handler, serving at the root of its own paths (mount it with
// http.StripPrefix to serve it under a prefix).
func New(o Options) (*Dashboard, error) {
	if o.Source == nil {
		return nil, errors.New("dashboard: no Source")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NotFound == nil {
		o.NotFound = func(error) bool { return false }
	}
	if o.Conflict == nil {
		o.Conflict = func(error) bool { return false }
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a, err := newAuth(o.Token)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{o: o, pages: pages, auth: a, mux: http.NewServeMux()}
	d.routes()
	return d, nil
}

func (d *Dashboard) routes() {
	static, _ := fs.Sub(staticFS, "static")
	d.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	d.mux.HandleFunc("GET /{$}", d.overview)
	d.mux.HandleFunc("GET /api/overview", d.overviewJSON)
	d.mux.HandleFunc("GET /queues/{name}", d.queuePage)
	d.mux.HandleFunc("GET /failed", d.failedList)
	d.mux.HandleFunc("GET /failed/{id}", d.failedDetail)
	d.mux.HandleFunc("GET /bridges", d.bridgesPage)
	d.mux.HandleFunc("GET /push", d.pushForm)
	d.mux.HandleFunc("GET /login", d.loginForm)
	d.mux.HandleFunc("POST /login", d.login)
	d.mux.HandleFunc("POST /logout", d.write(d.logout))
	d.mux.HandleFunc("POST /queues/{name}/pause", d.write(d.pause(true)))
	d.mux.HandleFunc("POST /queues/{name}/resume", d.write(d.pause(false)))
	d.mux.HandleFunc("POST /push", d.write(d.push))
	d.mux.HandleFunc("POST /failed/retry-all", d.write(d.retryAll))
	d.mux.HandleFunc("POST /failed/flush", d.write(d.flush))
	d.mux.HandleFunc("POST /failed/{id}/retry", d.write(d.retry))
	d.mux.HandleFunc("POST /failed/{id}/forget", d.write(d.forget))
	if d.o.Jobs != nil {
		d.mux.HandleFunc("GET /jobs/{id}", d.jobPage)
		d.mux.HandleFunc("POST /jobs/{id}/cancel", d.write(d.cancelJob))
		d.mux.HandleFunc("POST /jobs/{id}/edit", d.write(d.editJob))
	}
	if d.o.Report != nil {
		d.mux.HandleFunc("GET /report", d.reportPage)
		d.mux.HandleFunc("POST /report/route", d.write(d.setRoute))
	}
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere: a payload that holds markup can
// neither run script nor load anything, even if it escaped html/template.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	d.mux.ServeHTTP(w, r)
}
