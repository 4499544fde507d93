package sql

import (
	"net/url"
	"strings"
)

// secrets are the DSN's passwords, which no error may carry.
func (c dsnConfig) secrets() []string {
	switch {
	case c.mysqlConfig != nil:
		return []string{c.mysqlConfig.Passwd}
	case c.pgConfig != nil:
		return []string{c.pgConfig.Password}
	}
	return nil
}

// scrub replaces every secret in msg by "xxxxx": as given, percent-encoded, and the pieces of at least
// 4 bytes a parser may have cut it into at the characters URLs and DSNs split on.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms := []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]}
		for _, piece := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("/#?@:&=;%()", r) }) {
			if len(piece) >= 4 {
				forms = append(forms, piece)
			}
		}
		for _, form := range forms {
			msg = strings.ReplaceAll(msg, form, "xxxxx")
		}
	}
	return msg
}

// scrubbed is err with its message scrubbed of secrets; errors.Is and errors.As still see err.
func scrubbed(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := scrub(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
