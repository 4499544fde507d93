package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sessionCookie holds a signed session: a nonce and its expiry, with an HMAC keyed by the token, so no
// session state is kept and a new token ends every old session.
const (
	sessionCookie = "qb_session"
	sessionTTL    = 12 * time.Hour
)

// auth checks writes: a session opened with the token, and the session's CSRF token in the form.
type auth struct {
	token string
	key   []byte // nil: read-only
	cop   *http.CrossOriginProtection
}

func newAuth(token string) (auth, error) {
	a := auth{token: token, cop: http.NewCrossOriginProtection()}
	if token != "" {
		sum := sha256.Sum256([]byte("queuebridge dashboard session\x00" + token))
		a.key = sum[:]
	}
	return a, nil
}

func (a auth) writable() bool { return a.key != nil }

func (a auth) mac(parts ...string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession is a cookie value for a session that lasts until exp.
func (a auth) newSession(exp time.Time) string {
	var b [16]byte
	rand.Read(b[:])
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	e := strconv.FormatInt(exp.Unix(), 10)
	return nonce + "." + e + "." + a.mac("session", nonce, e)
}

// session is the nonce of the request's valid session, or "".
func (a auth) session(r *http.Request, now time.Time) string {
	if a.key == nil {
		return ""
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() > exp {
		return ""
	}
	if !hmac.Equal([]byte(parts[2]), []byte(a.mac("session", parts[0], parts[1]))) {
		return ""
	}
	return parts[0]
}

// csrf is the CSRF token of a session: what its forms carry.
func (a auth) csrf(session string) string {
	if session == "" {
		return ""
	}
	return a.mac("csrf", session)
}

// tokenOK compares in constant time.
func (a auth) tokenOK(given string) bool {
	return a.key != nil && subtle.ConstantTimeCompare([]byte(given), []byte(a.token)) == 1
}

// write wraps a handler that changes something: read-only dashboards, cross-origin requests, requests
// without a session and forms without the session's CSRF token are refused with 403.
func (d *Dashboard) write(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := d.lang(w, r)
		switch sess := d.auth.session(r, d.o.Now()); {
		case !d.auth.writable():
			d.refuse(w, r, l.T("err.readonly"))
		case d.auth.cop.Check(r) != nil:
			d.refuse(w, r, l.T("err.crossorigin"))
		case sess == "":
			d.refuse(w, r, l.T("err.nosession"))
		case !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(d.auth.csrf(sess))):
			d.refuse(w, r, l.T("err.csrf"))
		default:
			h(w, r)
		}
	}
}

func (d *Dashboard) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	d.o.Logger.Warn("dashboard: write refused", "path", r.URL.Path, "why", msg, "remote", r.RemoteAddr)
	d.errorPage(w, r, http.StatusForbidden, msg)
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, "login", "login.title", map[string]any{"Next": safeNext(r.FormValue("next"))})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	l := d.lang(w, r)
	switch {
	case !d.auth.writable():
		d.refuse(w, r, l.T("err.readonly"))
		return
	case d.auth.cop.Check(r) != nil:
		d.refuse(w, r, l.T("err.crossorigin"))
		return
	case !d.auth.tokenOK(r.PostFormValue("token")):
		d.refuse(w, r, l.T("err.badtoken"))
		return
	}
	exp := d.o.Now().Add(sessionTTL)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: d.auth.newSession(exp), Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// safeNext is a redirect target on this site only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
