package laravel

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// Exception is a PHP Throwable as (string)$e renders it, which Laravel stores in failed_jobs.exception and
// Horizon and queue:failed show:
//
//	<Class>: <Message> in <File>:<Line>
//	Stack trace:
//	#0 <frame>
//	#1 {main}
//
// (without ": <Message>" when the message is empty). A Previous exception is rendered first, followed by
// "\n\nNext " and this one, as PHP does.
type Exception struct {
	// Class is the exception class, e.g. `RuntimeException`.
	Class string
	// Message is getMessage().
	Message string
	// File and Line say where the exception was created.
	File string
	Line int
	// Trace holds the frames of getTraceAsString() without their "#N " numbers and without the final
	// "{main}", which String adds: e.g. `/app/Worker.php(428): Illuminate\Queue\Jobs\Job->fire()`.
	Trace []string
	// Previous is getPrevious(), or nil.
	Previous *Exception
}

// String returns PHP's Throwable::__toString() for e.
func (e *Exception) String() string {
	var b strings.Builder
	var chain []*Exception
	for x := e; x != nil && len(chain) < 100; x = x.Previous {
		chain = append(chain, x)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		x := chain[i]
		b.WriteString(x.Class)
		if x.Message != "" {
			b.WriteString(": ")
			b.WriteString(x.Message)
		}
		b.WriteString(" in ")
		b.WriteString(x.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(x.Line))
		b.WriteString("\nStack trace:\n")
		for n, frame := range x.Trace {
			fmt.Fprintf(&b, "#%d %s\n", n, frame)
		}
		fmt.Fprintf(&b, "#%d {main}", len(x.Trace))
		if i > 0 {
			b.WriteString("\n\nNext ")
		}
	}
	return b.String()
}

// ExceptionFromError renders a Go error as an Exception, so that failed_jobs rows written by Go read like
// PHP's. Class is the error's PHPClass() when it has that method (MaxAttemptsExceededError does), else its
// Go type (e.g. `*errors.errorString`); Message is err.Error(). File, Line and Trace come from the Go call
// stack of the caller of ExceptionFromError, frames written as PHP writes them: `<file>(<line>):
// <function>()`. An error wrapping another one (errors.Unwrap) gets it as Previous, with the same location
// and no frames.
func ExceptionFromError(err error) *Exception {
	if err == nil {
		return nil
	}
	pcs := make([]uintptr, 32)
	pcs = pcs[:runtime.Callers(2, pcs)]
	frames := runtime.CallersFrames(pcs)
	var file string
	var line int
	var trace []string
	for first := true; ; first = false {
		f, more := frames.Next()
		if first {
			file, line = f.File, f.Line
		} else if f.Function != "" {
			trace = append(trace, fmt.Sprintf("%s(%d): %s()", f.File, f.Line, f.Function))
		}
		if !more {
			break
		}
	}
	e := errorException(err, file, line)
	e.Trace = trace
	// At most the 100 exceptions String renders: an Unwrap chain may go round in a circle.
	x, inner := e, errors.Unwrap(err)
	for n := 1; inner != nil && n < 100; n++ {
		x.Previous = errorException(inner, file, line)
		x, inner = x.Previous, errors.Unwrap(inner)
	}
	return e
}

func errorException(err error, file string, line int) *Exception {
	class := fmt.Sprintf("%T", err)
	if c, ok := err.(interface{ PHPClass() string }); ok {
		class = c.PHPClass()
	}
	return &Exception{Class: class, Message: err.Error(), File: file, Line: line}
}

// FailedJob is a failed_jobs row as DatabaseUuidFailedJobProvider::log writes it (the id column is the
// database's).
type FailedJob struct {
	// UUID is the payload's uuid; "" when it has none (PHP inserts NULL).
	UUID string
	// Connection is the queue connection name, e.g. "redis".
	Connection string
	// Queue is the queue name without the Redis prefix, e.g. "default".
	Queue string
	// Payload is the job's raw body as this reservation popped it (RedisJob::getRawBody): the pushed bytes
	// on the first attempt, Redis's cjson re-encode after a release.
	Payload []byte
	// Exception is (string)$e (see Exception).
	Exception string
	// FailedAt is the failure time as 'Y-m-d H:i:s' in UTC (the skeleton's app.timezone).
	FailedAt string
}

// FailedJobRow returns the failed_jobs row Laravel logs when a job popped as raw from connection and queue
// fails with exception (Exception.String() or PHP's own text) at now. From 9.2 on, invalid UTF-8 in the
// exception text becomes "?", as mb_convert_encoding($exception, 'UTF-8') makes it.
func (d Dialect) FailedJobRow(connection, queue string, raw []byte, exception string, now time.Time) FailedJob {
	if d.validatesUTF8Exception() {
		exception = mbValidUTF8(exception)
	}
	return FailedJob{
		UUID:       payloadUUID(raw),
		Connection: connection,
		Queue:      queue,
		Payload:    raw,
		Exception:  exception,
		FailedAt:   now.UTC().Format(time.DateTime),
	}
}

// payloadUUID is json_decode($payload, true)['uuid'] for a string uuid, else "".
func payloadUUID(raw []byte) string {
	if !phpjson.Valid(raw) || phpjson.Kind(raw) != "object" {
		return ""
	}
	var uuid []byte
	for m := phpjson.NewMembers(raw); ; {
		key, value, ok := m.Next()
		if !ok {
			break
		}
		if string(key) == "uuid" {
			uuid = value
		}
	}
	if len(uuid) == 0 || uuid[0] != '"' {
		return ""
	}
	return phpjson.Unquote(uuid)
}

// mbValidUTF8 is mb_convert_encoding($s, 'UTF-8', 'UTF-8') in PHP 8.2: each invalid sequence becomes "?".
// A sequence is a lead byte with the continuation bytes that are valid after it, so a truncated
// character is one "?" while a stray byte, or a lead byte whose next byte cannot follow it, is one each.
func mbValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size > 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		lead, want := s[i], 1
		switch {
		case lead >= 0xc2 && lead <= 0xdf:
			want = 2
		case lead >= 0xe0 && lead <= 0xef:
			want = 3
		case lead >= 0xf0 && lead <= 0xf4:
			want = 4
		}
		j := i + 1
		for k := 1; k < want && j < len(s); k++ {
			lo, hi := byte(0x80), byte(0xbf)
			if k == 1 {
				switch lead {
				case 0xe0:
					lo = 0xa0
				case 0xed:
					hi = 0x9f
				case 0xf0:
					lo = 0x90
				case 0xf4:
					hi = 0x8f
				}
			}
			if s[j] < lo || s[j] > hi {
				break
			}
			j++
		}
		b.WriteByte('?')
		i = j
	}
	return b.String()
}
