package bridge

import (
	"net/url"
	"strings"
)

// redactURL is a connection URL fit for logs and errors: everything between the scheme and the host (user and
// password) and the values of password-like query parameters become ***. It works on the text, so a URL that
// does not parse — a bad port, a password with `/`, `#`, `?` or `@` in it — is hidden as well.
func redactURL(s string) string {
	rest, prefix := s, ""
	if scheme, after, ok := strings.Cut(s, "://"); ok {
		prefix, rest = scheme+"://", after
	} else if scheme, after, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "@") && !strings.Contains(scheme, "/") {
		prefix, rest = scheme+":", after // sqlite:path, or a driver DSN without a scheme
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	base, query, ok := strings.Cut(rest, "?")
	if !ok {
		return prefix + rest
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok && secretParam(k) {
			parts[i] = k + "=***"
		}
	}
	return prefix + base + "?" + strings.Join(parts, "&")
}

// secretParam reports whether a query parameter holds a secret (password=, sentinel_password=, sslpassword=…).
func secretParam(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "pass") || strings.Contains(k, "secret") || strings.Contains(k, "token")
}

// secrets are the secret parts of a connection string, as written and as URL-decoded: the password (or the
// whole user info when it has no colon) and password-like query values.
func secrets(s string) []string {
	var out []string
	add := func(v string) {
		if len(v) < 3 { // too short to search for without hiding unrelated text; redactURL still hides it
			return
		}
		out = append(out, v)
		if d, err := url.PathUnescape(v); err == nil && d != v {
			out = append(out, d)
		}
	}
	rest := s
	if _, after, ok := strings.Cut(s, "://"); ok {
		rest = after
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		info := rest[:at]
		if _, pass, ok := strings.Cut(info, ":"); ok {
			add(pass)
		} else {
			add(info)
		}
	}
	if _, query, ok := strings.Cut(s, "?"); ok {
		for _, p := range strings.Split(query, "&") {
			if k, v, ok := strings.Cut(p, "="); ok && secretParam(k) {
				add(v)
			}
		}
	}
	return out
}

// redactErr returns err with every secret of connection removed from its text: libraries put the URL they
// could not parse, or the DSN they could not reach, into their errors. The chain is kept for errors.Is.
func redactErr(err error, connection string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, sec := range secrets(connection) {
		clean = strings.ReplaceAll(clean, sec, "***")
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError shows a cleaned text but unwraps to the original error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
