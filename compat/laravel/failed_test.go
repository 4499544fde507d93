package laravel

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The expected text was printed by PHP 8.2 for a RuntimeException("", 3, $previous) thrown after catching a
// LogicException("inner msg") from f().
func TestExceptionString(t *testing.T) {
	t.Parallel()
	e := &Exception{
		Class: "RuntimeException", File: "/tmp/exc.php", Line: 3,
		Previous: &Exception{Class: "LogicException", Message: "inner msg", File: "/tmp/exc.php", Line: 2, Trace: []string{"/tmp/exc.php(3): f()"}},
	}
	require.Equal(t, "LogicException: inner msg in /tmp/exc.php:2\nStack trace:\n#0 /tmp/exc.php(3): f()\n#1 {main}\n\n"+
		"Next RuntimeException in /tmp/exc.php:3\nStack trace:\n#0 {main}", e.String())
}

type classedError struct{}

func (classedError) Error() string    { return "custom" }
func (classedError) PHPClass() string { return `App\Exceptions\Custom` }

func TestExceptionFromError(t *testing.T) {
	t.Parallel()
	require.Nil(t, ExceptionFromError(nil))

	inner := errors.New("connection refused")
	e := ExceptionFromError(fmt.Errorf("send mail: %w", inner))
	require.Equal(t, "*fmt.wrapError", e.Class)
	require.Equal(t, "send mail: connection refused", e.Message)
	require.True(t, strings.HasSuffix(e.File, "failed_test.go"), e.File)
	require.NotZero(t, e.Line)
	require.NotEmpty(t, e.Trace)
	require.Regexp(t, `^.+\.go\(\d+\): testing\.tRunner\(\)$`, e.Trace[0])
	require.Equal(t, &Exception{Class: "*errors.errorString", Message: "connection refused", File: e.File, Line: e.Line}, e.Previous)

	s := e.String()
	require.True(t, strings.HasPrefix(s, "*errors.errorString: connection refused in "+e.File+":"), s)
	require.Contains(t, s, "\n\nNext *fmt.wrapError: send mail: connection refused in ")
	require.True(t, strings.HasSuffix(s, " {main}"), s)

	require.Equal(t, `App\Exceptions\Custom`, ExceptionFromError(classedError{}).Class)
	exceeded := ExceptionFromError(&MaxAttemptsExceededError{Name: `App\Jobs\X`, Short: true})
	require.Equal(t, MaxAttemptsExceededException, exceeded.Class)
	require.Equal(t, `App\Jobs\X has been attempted too many times.`, exceeded.Message)
}

func TestFailedJobRow(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name      string
		v         Version
		raw       string
		exception string
		wantUUID  string
		wantExc   string
	}{
		{"uuid", V8, `{"uuid":"a\/b","job":"J"}`, "E", "a/b", "E"},
		{"no uuid", V12, `{"job":"J"}`, "E", "", "E"},
		{"uuid not a string", V12, `{"uuid":5}`, "E", "", "E"},
		{"not JSON", V12, `oops`, "E", "", "E"},
		{"8.x stores invalid UTF-8 as is", V8, `{}`, "bad \xff", "", "bad \xff"},
		{"9.2+ converts invalid UTF-8", V9, `{}`, "bad \xff\xfe end", "", "bad ?? end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Dialect{Version: tt.v}.FailedJobRow("redis", "emails", []byte(tt.raw), tt.exception, now)
			require.Equal(t, FailedJob{UUID: tt.wantUUID, Connection: "redis", Queue: "emails", Payload: []byte(tt.raw),
				Exception: tt.wantExc, FailedAt: "2025-01-02 03:04:05"}, got)
		})
	}
}

// The expected strings were printed by PHP 8.2's mb_convert_encoding($s, 'UTF-8').
func TestMbValidUTF8(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"bad \xff\xfe end": "bad ?? end", "a\xe4\xb8 b\xed\xa0\x80c": "a? b???c", "\xc0\xaf": "??", "\xf0\x9f\x98": "?",
		"\xf4\x90\x80\x80": "????", "\xe0\x80\xaf": "???", "ok😀": "ok😀", "": "",
	} {
		require.Equal(t, want, mbValidUTF8(in), "%q", in)
	}
}

// loopError unwraps to itself, as a careless error type can.
type loopError struct{}

func (loopError) Error() string   { return "loop" }
func (e loopError) Unwrap() error { return e }

// An Unwrap chain that goes round in a circle still renders, cut at the 100 exceptions String renders.
func TestExceptionFromErrorUnwrapLoop(t *testing.T) {
	t.Parallel()
	e := ExceptionFromError(loopError{})
	n := 0
	for x := e; x != nil; x = x.Previous {
		n++
	}
	require.Equal(t, 100, n)
	require.Equal(t, 99, strings.Count(e.String(), "\n\nNext "))
}
