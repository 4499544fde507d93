package dashboard

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/queuebridge/bridge/status"
)

// reportWindows are the windows the report page offers, as `bridge report --window` takes them.
var reportWindows = []reportWindow{
	{"1h", "report.1h", time.Hour},
	{"24h", "report.24h", 24 * time.Hour},
	{"168h", "report.7d", 7 * 24 * time.Hour},
}

// reportWindow is a window: its ?window= parameter, its label's key and its span.
type reportWindow struct {
	Param, Key string
	Span       time.Duration
}

// reportRow is one class on the report page: its report over the window (zero when it has a route but
// ran nothing) and its route with where it comes from.
type reportRow struct {
	status.ClassReport
	Source string // store, file or code; "" without a route
	Ran    bool   // it has figures in the window
}

type windowTab struct {
	Key, URL string
	On       bool
}

type reportData struct {
	Windows []windowTab
	Window  string // the window's parameter, for the forms' way back
	Rows    []reportRow
}

func (d *Dashboard) reportPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	param := cmp.Or(r.FormValue("window"), reportWindows[0].Param)
	at := slices.IndexFunc(reportWindows, func(rw reportWindow) bool { return rw.Param == param })
	if at < 0 {
		d.errorPage(w, r, http.StatusBadRequest, d.lang(w, r).T("err.badwindow", param))
		return
	}
	reps, err := d.o.Report.Report(ctx, reportWindows[at].Span)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	routes, err := d.o.Report.Routes(ctx)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	data := reportData{Window: param}
	for i, rw := range reportWindows {
		data.Windows = append(data.Windows, windowTab{Key: rw.Key, URL: "/report?window=" + url.QueryEscape(rw.Param), On: i == at})
	}
	rows := map[string]*reportRow{}
	for _, rep := range reps {
		rows[rep.Class] = &reportRow{ClassReport: rep, Ran: true}
	}
	for _, rt := range routes {
		row := rows[rt.Class]
		if row == nil {
			row = &reportRow{ClassReport: status.ClassReport{Class: rt.Class}}
			rows[rt.Class] = row
		}
		row.Route, row.Source = rt.Route.String(), rt.Source
	}
	for _, row := range rows {
		data.Rows = append(data.Rows, *row)
	}
	slices.SortFunc(data.Rows, func(a, b reportRow) int { return strings.Compare(a.Class, b.Class) })
	d.render(w, r, "report", "report.title", data)
}

func (d *Dashboard) setRoute(w http.ResponseWriter, r *http.Request) {
	l := d.lang(w, r)
	class := strings.TrimSpace(r.PostFormValue("class"))
	if class == "" {
		d.errorPage(w, r, http.StatusBadRequest, l.T("err.noclass"))
		return
	}
	rt, err := status.ParseRoute(r.PostFormValue("route"))
	if err != nil {
		d.errorPage(w, r, http.StatusBadRequest, l.T("err.badroute", r.PostFormValue("route")))
		return
	}
	if err := d.o.Report.SetRoute(r.Context(), class, rt); err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, back(r, "/report"), "routed", class+" → "+rt.String())
}

// millis is a run time as the report page shows it: milliseconds to a hundredth.
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// outcomeView is one side's outcome of a mismatch, for the outcome template.
type outcomeView struct {
	L    lang
	Side status.ShadowOutcome
}

func outcomeOf(l lang, o status.ShadowOutcome) outcomeView { return outcomeView{L: l, Side: o} }
