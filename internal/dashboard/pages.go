package dashboard

import (
	"bytes"
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/status"
)

// Page sizes: a queue page lists pageSize jobs; a class filter looks at no more than filterScan jobs per
// page, reading them filterChunk at a time, so a page never loads a whole queue.
const (
	pageSize    = 50
	filterChunk = 500
	filterScan  = 10_000
	// previewBytes is how much of a payload a page shows before its "show all".
	previewBytes = 4096
)

// view is what every page's template gets.
type view struct {
	L         lang
	Other     lang   // the language the switch offers
	LangURL   string // this page in the other language
	Title     string
	Path      string // this page, for the login's way back
	Writable  bool   // a token is configured
	Session   bool   // and this request has a session
	CSRF      string
	Conn      string
	Dialect   string
	HasJobs   bool // job pages and their buttons exist
	HasReport bool // the report page exists
	Done      string
	Data      any
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, page, titleKey string, data any, titleArgs ...any) {
	d.renderStatus(w, r, http.StatusOK, page, titleKey, data, titleArgs...)
}

func (d *Dashboard) renderStatus(w http.ResponseWriter, r *http.Request, code int, page, titleKey string, data any, titleArgs ...any) {
	l := d.lang(w, r)
	other := chinese
	if l.Code == chinese.Code {
		other = english
	}
	u := *r.URL
	q := u.Query()
	q.Set("lang", other.Code)
	q.Del("done")
	q.Del("arg")
	u.RawQuery = q.Encode()
	sess := d.auth.session(r, d.o.Now())
	v := view{L: l, Other: other, LangURL: u.RequestURI(), Title: l.T(titleKey, titleArgs...), Path: r.URL.RequestURI(),
		Writable: d.auth.writable(), Session: sess != "", CSRF: d.auth.csrf(sess),
		Conn: d.o.Source.Connection(), Dialect: d.o.Source.Dialect(), HasJobs: d.o.Jobs != nil,
		HasReport: d.o.Report != nil, Data: data}
	if done := r.URL.Query().Get("done"); done != "" {
		if _, ok := l.strings["done."+done]; ok {
			v.Done = l.T("done."+done, r.URL.Query().Get("arg"))
		}
	}
	var buf bytes.Buffer
	if err := d.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		d.o.Logger.Error("dashboard: render", "page", page, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (d *Dashboard) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	d.renderStatus(w, r, code, "error", "err.title", msg)
}

// backendError shows an error of the store: not found as 404, anything else as 502, never a secret (the
// root's errors carry redacted connections only).
func (d *Dashboard) backendError(w http.ResponseWriter, r *http.Request, err error) {
	l := d.lang(w, r)
	switch {
	case d.o.NotFound(err):
		d.errorPage(w, r, http.StatusNotFound, l.T("err.notfound"))
	case d.o.Conflict(err):
		d.errorPage(w, r, http.StatusConflict, l.T("err.reserved"))
	default:
		d.o.Logger.Error("dashboard", "path", r.URL.Path, "err", err)
		d.errorPage(w, r, http.StatusBadGateway, l.T("err.backend", err.Error()))
	}
}

// queueRow is one queue on the overview.
type queueRow struct {
	Name                     string
	Ready, Delayed, Reserved int64
	Failed                   int
	Paused                   bool
	OldestReady              time.Time
	Processed, Wait          chart
}

type overviewData struct {
	Queues  []queueRow
	Failed  int
	Bridges int
	Charts  bool
}

func (d *Dashboard) overviewOf(r *http.Request, charts bool) (overviewData, error) {
	ctx := r.Context()
	names, err := d.o.Source.Queues(ctx)
	if err != nil {
		return overviewData{}, err
	}
	failed, err := d.o.Source.Failed(ctx)
	if err != nil {
		return overviewData{}, err
	}
	perQueue := map[string]int{}
	for _, f := range failed {
		perQueue[f.Queue]++
		if !slices.Contains(names, f.Queue) {
			names = append(names, f.Queue) // a queue emptied by its failures is still worth seeing
		}
	}
	slices.Sort(names)
	out := overviewData{Failed: len(failed), Charts: charts && d.o.Trends != nil}
	since := d.o.Now().Add(-time.Hour).Truncate(time.Minute)
	for _, n := range names {
		s, err := d.o.Source.Sizes(ctx, n)
		if err != nil {
			return out, err
		}
		paused, err := d.o.Source.Paused(ctx, n)
		if err != nil {
			return out, err
		}
		row := queueRow{Name: n, Ready: s.Ready, Delayed: s.Delayed, Reserved: s.Reserved, OldestReady: s.OldestReady,
			Failed: perQueue[n], Paused: paused}
		if out.Charts {
			points, err := d.o.Trends.Trends(ctx, n, since)
			if err != nil {
				return out, err
			}
			row.Processed, row.Wait = trendCharts(points, since, d.o.Now())
		}
		out.Queues = append(out.Queues, row)
	}
	bridges, err := d.o.Source.Bridges(ctx)
	if err == nil { // a database queue without a Redis cache store has no registry: show none
		out.Bridges = len(bridges)
	}
	return out, nil
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	data, err := d.overviewOf(r, true)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	d.render(w, r, "overview", "overview.title", data)
}

// overviewJSON is what the pages poll to update their counts without a reload.
func (d *Dashboard) overviewJSON(w http.ResponseWriter, r *http.Request) {
	data, err := d.overviewOf(r, false)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	type q struct {
		Name     string `json:"name"`
		Ready    int64  `json:"ready"`
		Delayed  int64  `json:"delayed"`
		Reserved int64  `json:"reserved"`
		Failed   int    `json:"failed"`
		Paused   bool   `json:"paused"`
	}
	out := struct {
		Queues  []q `json:"queues"`
		Failed  int `json:"failed"`
		Bridges int `json:"bridges"`
	}{Queues: []q{}, Failed: data.Failed, Bridges: data.Bridges}
	for _, row := range data.Queues {
		out.Queues = append(out.Queues, q{row.Name, row.Ready, row.Delayed, row.Reserved, row.Failed, row.Paused})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// jobRow is one job on a queue page.
type jobRow struct {
	ID, Name      string
	Attempts      int
	AvailableAt   time.Time
	ReservedUntil time.Time
	Payload       payloadView
}

// payloadView is a payload shown escaped, indented when it is JSON, cut at a size with the whole length.
type payloadView struct {
	Text      string
	Truncated bool
	Size      int
}

func showPayload(raw []byte, full bool, limit int) payloadView {
	var buf bytes.Buffer
	text := string(raw)
	if json.Indent(&buf, raw, "", "  ") == nil {
		text = buf.String()
	}
	v := payloadView{Text: text, Size: len(raw)}
	if !full && len(text) > limit {
		cut := limit
		for cut > 0 && !utf8Start(text[cut]) {
			cut--
		}
		v.Text, v.Truncated = text[:cut]+"…", true
	}
	return v
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// payloadFields are the fields of a think-queue or Laravel payload a listing shows.
type payloadFields struct {
	ID          string `json:"id"`
	UUID        string `json:"uuid"`
	Job         string `json:"job"`
	DisplayName string `json:"displayName"`
	Attempts    int    `json:"attempts"`
}

func rowOf(j queue.StoredJob) jobRow {
	var p payloadFields
	json.Unmarshal(j.Raw, &p) // a payload that is not JSON still lists, by its bytes
	row := jobRow{ID: cmp.Or(p.ID, p.UUID), Name: cmp.Or(p.DisplayName, p.Job), Attempts: p.Attempts,
		AvailableAt: j.AvailableAt, ReservedUntil: j.ReservedUntil, Payload: showPayload(j.Raw, false, 1024)}
	if !bytes.Equal(j.Member, j.Raw) { // a jobs table: the row is the job, and counts its attempts
		row.ID, row.Attempts = string(j.Member), j.Attempts
	}
	return row
}

type queueData struct {
	Name     string
	State    queue.State
	States   []stateTab
	Class    string
	Paused   bool
	Jobs     []jobRow
	Offset   int
	PrevURL  string
	NextURL  string
	FirstURL string
	ScanFrom int
	ScanTo   int
}

type stateTab struct {
	State queue.State
	Count int64
	URL   string
	On    bool
}

func (d *Dashboard) queuePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	state := queue.State(cmp.Or(r.FormValue("state"), string(queue.StateReady)))
	switch state {
	case queue.StateReady, queue.StateDelayed, queue.StateReserved:
	default:
		d.errorPage(w, r, http.StatusBadRequest, d.lang(w, r).T("err.notfound"))
		return
	}
	offset, _ := strconv.Atoi(r.FormValue("offset"))
	offset = max(offset, 0)
	class := strings.TrimSpace(r.FormValue("class"))
	sizes, err := d.o.Source.Sizes(ctx, name)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	paused, err := d.o.Source.Paused(ctx, name)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	link := func(st queue.State, off int) string {
		q := url.Values{"state": {string(st)}}
		if off > 0 {
			q.Set("offset", strconv.Itoa(off))
		}
		if class != "" && st == state {
			q.Set("class", class)
		}
		return "/queues/" + url.PathEscape(name) + "?" + q.Encode()
	}
	data := queueData{Name: name, State: state, Class: class, Paused: paused, Offset: offset}
	for _, t := range []struct {
		st queue.State
		n  int64
	}{{queue.StateReady, sizes.Ready}, {queue.StateDelayed, sizes.Delayed}, {queue.StateReserved, sizes.Reserved}} {
		data.States = append(data.States, stateTab{State: t.st, Count: t.n, URL: link(t.st, 0), On: t.st == state})
	}
	next := -1
	if class == "" {
		jobs, err := d.o.Source.Jobs(ctx, name, state, offset, pageSize+1)
		if err != nil {
			d.backendError(w, r, err)
			return
		}
		if len(jobs) > pageSize {
			jobs, next = jobs[:pageSize], offset+pageSize
		}
		for _, j := range jobs {
			data.Jobs = append(data.Jobs, rowOf(j))
		}
		if offset > 0 {
			data.PrevURL = link(state, max(offset-pageSize, 0))
		}
	} else {
		// A class filter reads on from offset until a page is full or filterScan jobs were looked at; the
		// next page starts where this one stopped.
		at := offset
		for at-offset < filterScan && len(data.Jobs) < pageSize {
			jobs, err := d.o.Source.Jobs(ctx, name, state, at, filterChunk)
			if err != nil {
				d.backendError(w, r, err)
				return
			}
			hint := classHint(class)
			i := 0
			for ; i < len(jobs) && len(data.Jobs) < pageSize; i++ {
				if hint != nil && !bytes.Contains(jobs[i].Raw, hint) {
					continue
				}
				if row := rowOf(jobs[i]); row.Name == class {
					data.Jobs = append(data.Jobs, row)
				}
			}
			at += i
			if len(jobs) < filterChunk && i == len(jobs) {
				at = -1 // the end of the queue
				break
			}
		}
		data.ScanFrom = offset + 1
		if at >= 0 {
			next, data.ScanTo = at, at
		} else {
			data.ScanTo = int(max(sizes.Ready, sizes.Delayed, sizes.Reserved))
		}
		if offset > 0 {
			data.FirstURL = link(state, 0)
		}
	}
	if next >= 0 {
		data.NextURL = link(state, next)
	}
	d.render(w, r, "queue", "queue.title", data, name)
}

// classHint is bytes every payload of a job class holds whatever its JSON escaping: the class's last
// name, when it is plain ASCII (PHP escapes \, / and non-ASCII); nil when there is none to rely on.
func classHint(class string) []byte {
	last := class[strings.LastIndexByte(class, '\\')+1:]
	for _, c := range []byte(last) {
		if c >= 0x80 || c == '/' || c == '"' || c < 0x20 {
			return nil
		}
	}
	if last == "" {
		return nil
	}
	return []byte(last)
}

type jobData struct {
	Job     Job
	Payload payloadView
	Data    payloadView
	State   queue.State
}

func (d *Dashboard) jobPage(w http.ResponseWriter, r *http.Request) {
	j, err := d.o.Jobs.FindJob(r.Context(), r.PathValue("id"))
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	full := r.FormValue("full") == "1"
	d.render(w, r, "job", "job.title", jobData{Job: j, State: j.State, Payload: showPayload(j.Raw, full, previewBytes),
		Data: showPayload(j.Data, full, previewBytes)}, j.ID)
}

type failedRow struct {
	queue.FailedJob
	Name  string
	Error string
}

type failedData struct {
	Jobs    []failedRow
	Total   int
	NextURL string
	PrevURL string
}

func failedRowOf(f queue.FailedJob) failedRow {
	var p payloadFields
	json.Unmarshal(f.Payload, &p)
	first, _, _ := strings.Cut(f.Exception, "\n")
	return failedRow{FailedJob: f, Name: cmp.Or(p.DisplayName, p.Job), Error: first}
}

func (d *Dashboard) failedList(w http.ResponseWriter, r *http.Request) {
	jobs, err := d.o.Source.Failed(r.Context())
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	offset, _ := strconv.Atoi(r.FormValue("offset"))
	offset = min(max(offset, 0), len(jobs))
	data := failedData{Total: len(jobs)}
	end := min(offset+pageSize, len(jobs))
	for _, f := range jobs[offset:end] {
		data.Jobs = append(data.Jobs, failedRowOf(f))
	}
	if end < len(jobs) {
		data.NextURL = "/failed?offset=" + strconv.Itoa(end)
	}
	if offset > 0 {
		data.PrevURL = "/failed?offset=" + strconv.Itoa(max(offset-pageSize, 0))
	}
	d.render(w, r, "failed", "failed.title", data)
}

type failedDetailData struct {
	Job     failedRow
	Payload payloadView
}

func (d *Dashboard) failedDetail(w http.ResponseWriter, r *http.Request) {
	f, err := d.o.Source.FailedJob(r.Context(), r.PathValue("id"))
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	d.render(w, r, "faileddetail", "failed.detail", failedDetailData{Job: failedRowOf(f),
		Payload: showPayload(f.Payload, r.FormValue("full") == "1", previewBytes)}, f.ID)
}

func (d *Dashboard) bridgesPage(w http.ResponseWriter, r *http.Request) {
	bridges, err := d.o.Source.Bridges(r.Context())
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	d.render(w, r, "bridges", "bridges.title", bridges)
}

func (d *Dashboard) pushForm(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, "push", "push.title", map[string]string{"Queue": cmp.Or(r.FormValue("queue"), "default")})
}

// stateClass is a group state's CSS class.
func stateClass(s status.State) string { return "state-" + strings.ToLower(string(s)) }

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Local().Format(time.DateTime)
		},
		"stateClass": stateClass,
		"join":       strings.Join,
		"pathEscape": url.PathEscape,
		"stateName":  func(l lang, s queue.State) string { return l.T("state." + string(s)) },
		"ms":         millis,
		"outcomeOf":  outcomeOf,
		"verdict":    verdictText,
	}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "queue", "job", "failed", "faileddetail", "bridges", "push", "report", "login", "error"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}
