package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// done redirects after a write (POST, then GET), to a page that says what was done.
func done(w http.ResponseWriter, r *http.Request, to, what, arg string) {
	u, err := url.Parse(to)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	q := u.Query()
	q.Set("done", what)
	if arg != "" {
		q.Set("arg", arg)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// back is where a form asked to return to, on this site only.
func back(r *http.Request, def string) string {
	if next := r.PostFormValue("next"); next != "" {
		return safeNext(next)
	}
	return def
}

func (d *Dashboard) pause(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		op, what := d.o.Source.Resume, "resumed"
		if paused {
			op, what = d.o.Source.Pause, "paused"
		}
		if err := op(r.Context(), name); err != nil {
			d.backendError(w, r, err)
			return
		}
		done(w, r, back(r, "/queues/"+url.PathEscape(name)), what, name)
	}
}

func (d *Dashboard) retry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := d.o.Source.Retry(r.Context(), id); err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, "/failed", "retried", id)
}

func (d *Dashboard) forget(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := d.o.Source.Forget(r.Context(), id); err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, "/failed", "forgot", id)
}

func (d *Dashboard) retryAll(w http.ResponseWriter, r *http.Request) {
	ids, err := d.o.Source.RetryAll(r.Context())
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, "/failed", "retriedall", strconv.Itoa(len(ids)))
}

func (d *Dashboard) flush(w http.ResponseWriter, r *http.Request) {
	n, err := d.o.Source.Flush(r.Context())
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, "/failed", "flushed", strconv.Itoa(n))
}

// seconds reads a form's number of seconds; "" is nil.
func seconds(s string) (*time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 {
		return nil, false
	}
	d := time.Duration(f * float64(time.Second))
	return &d, true
}

func (d *Dashboard) push(w http.ResponseWriter, r *http.Request) {
	l := d.lang(w, r)
	queueName, job := strings.TrimSpace(r.PostFormValue("queue")), strings.TrimSpace(r.PostFormValue("job"))
	if job == "" {
		d.errorPage(w, r, http.StatusBadRequest, l.T("err.nojob"))
		return
	}
	// PHP's default data is the empty string, as `bridge push` without data.
	var data any = ""
	if raw := strings.TrimSpace(r.PostFormValue("data")); raw != "" {
		if !json.Valid([]byte(raw)) {
			d.errorPage(w, r, http.StatusBadRequest, l.T("err.badjson", raw))
			return
		}
		data = json.RawMessage(raw)
	}
	delay, ok := seconds(r.PostFormValue("delay"))
	if !ok {
		d.errorPage(w, r, http.StatusBadRequest, l.T("err.badnumber", r.PostFormValue("delay")))
		return
	}
	var wait time.Duration
	if delay != nil {
		wait = *delay
	}
	id, err := d.o.Source.Later(r.Context(), wait, queueName, job, data)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, "/queues/"+url.PathEscape(queueName), "pushed", id)
}

func (d *Dashboard) cancelJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := d.o.Jobs.CancelJob(r.Context(), id); err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, back(r, "/"), "cancelled", id)
}

func (d *Dashboard) editJob(w http.ResponseWriter, r *http.Request) {
	l := d.lang(w, r)
	id := r.PathValue("id")
	var e JobEdit
	if raw := strings.TrimSpace(r.PostFormValue("data")); raw != "" {
		if !json.Valid([]byte(raw)) {
			d.errorPage(w, r, http.StatusBadRequest, l.T("err.badjson", raw))
			return
		}
		e.Data = json.RawMessage(raw)
	}
	delay, ok := seconds(r.PostFormValue("delay"))
	if !ok {
		d.errorPage(w, r, http.StatusBadRequest, l.T("err.badnumber", r.PostFormValue("delay")))
		return
	}
	e.Delay = delay
	e.Queue = strings.TrimSpace(r.PostFormValue("queue"))
	e.Front = r.PostFormValue("front") == "1"
	j, err := d.o.Jobs.EditJob(r.Context(), id, e)
	if err != nil {
		d.backendError(w, r, err)
		return
	}
	done(w, r, "/jobs/"+url.PathEscape(j.ID), "edited", j.ID)
}
