package laravel

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// hostileSerialized seeds the serialize() fuzzing with what broke the reader: declared lengths and counts
// at and past the int64 range, negative ones, truncations, deep nesting, references that expand or cycle.
var hostileSerialized = []string{
	`s:9223372036854775807:"x";`, `s:9223372036854775806:"x";`, `s:-1:"";`, `s:-9223372036854775808:"";`,
	`s:99999999999999999999:"x";`, `s:+1:"x";`, `s:1:"x"`, `s:2:"x";`, `s:1:`, `s:`, `s`,
	`O:9223372036854775807:"x":0:{}`, `O:1:"A":9223372036854775807:{}`, `O:1:"A":-1:{}`, `O:1:"A":1:{s:1:"a";`,
	`C:9223372036854775807:"x":0:{}`, `C:1:"x":9223372036854775807:{}`, `C:1:"x":-1:{}`, `C:1:"x":5:{ab}`,
	`a:9223372036854775807:{}`, `a:-1:{}`, `a:1:{i:0;`, `a:1:{i:9223372036854775808;N;}`, `a:1:{i:-9223372036854775809;N;}`,
	`E:9223372036854775807:"A:B";`, `E:3:"A:B"`, `i:9223372036854775808;`, `i:-9223372036854775808;`, `d:1e400;`, `d:-0;`,
	`r:0;`, `r:9223372036854775807;`, `R:-1;`, `O:1:"A":1:{s:4:"self";r:1;}`, `a:1:{i:0;R:1;}`,
	strings.Repeat(`a:1:{i:0;`, 513) + `N;` + strings.Repeat(`}`, 513), strings.Repeat(`a:1:{i:0;`, 600),
	strings.Repeat(`a:2:{i:0;`, 30) + `N;` + func() string {
		var b strings.Builder
		for k := 1; k <= 30; k++ {
			b.WriteString(`i:1;R:` + strconv.Itoa(32-k) + `;}`) // level k repeats level k-1
		}
		return b.String()
	}(),
	"s:2:\"\xff\xfe\";", "s:3:\"\xe2\x80\";", `O:8:"stdClass":1:{s:3:"` + "\x00*\x00" + `";N;}`,
}

// addCommandSeeds adds the captured commands and the hostile strings.
func addCommandSeeds(f *testing.F) {
	for _, s := range []string{`N;`, `b:1;`, `i:-5;`, `d:1.5E-7;`, `d:NAN;`, `s:3:"a"b";`, `a:2:{i:0;s:1:"x";s:1:"k";a:0:{}}`,
		`O:1:"A":2:{s:4:"\x00*\x00p";i:1;s:6:"\x00A\x00q";N;}`, `E:8:"Pure:One";`, `C:3:"Foo":2:{ab}`,
		`a:2:{s:2:"o1";O:8:"stdClass":0:{}s:2:"o2";r:2;}`} {
		f.Add(s)
	}
	for _, s := range hostileSerialized {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "v*", "payloads", "*.json"))
	for _, file := range files {
		if p, err := (Dialect{Version: V12}).Parse(readFixture(f, file[len(fixtureRoot):])); err == nil && !p.Encrypted() && p.Command != "" {
			f.Add(p.Command)
		}
	}
}

// FuzzUnserialize feeds arbitrary bytes to the serialize() parser: it must not panic, and whatever it
// accepts must serialize to a string it reads back the same way.
func FuzzUnserialize(f *testing.F) {
	addCommandSeeds(f)
	d := Dialect{Version: V12}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Unserialize(s)
		if err != nil {
			return
		}
		out, err := serialize(d, v)
		if err != nil {
			t.Fatalf("unserialized %q but cannot serialize %#v: %v", s, v, err)
		}
		v2, err := Unserialize(out)
		if err != nil {
			t.Fatalf("cannot read back %q: %v", out, err)
		}
		out2, err := serialize(d, v2)
		if err != nil || out2 != out {
			t.Fatalf("unstable: %q then %q (%v)", out, out2, err)
		}
	})
}

// fuzzNode is a recursive binding target: whatever the input nests, binding it must end.
type fuzzNode struct {
	Name     string
	Children []*fuzzNode
	ByKey    map[string]fuzzNode
	Parent   *fuzzNode
	Any      any
	Model    ModelIdentifier
	Enum     Enum
	Numbers  [3]float64
	Queueable
}

// FuzzDecodeCommand binds arbitrary serialize() strings to Go values: never a panic or an endless walk,
// and into an interface exactly what Unserialize returns.
func FuzzDecodeCommand(f *testing.F) {
	addCommandSeeds(f)
	for _, s := range []string{
		`O:1:"A":2:{s:4:"Name";s:1:"x";s:8:"Children";a:2:{i:0;O:1:"A":1:{s:4:"Name";s:1:"y";}i:1;N;}}`,
		`O:1:"A":1:{s:6:"Parent";O:1:"A":1:{s:6:"Parent";O:1:"A":1:{s:6:"Parent";r:1;}}}`,
		`O:1:"A":1:{s:5:"ByKey";a:2:{s:1:"a";a:0:{}s:1:"b";R:3;}}`,
		`O:1:"A":1:{s:7:"Numbers";a:4:{i:0;i:1;i:1;d:2.5;i:2;b:1;i:3;N;}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var node fuzzNode
		_ = DecodeCommand(s, &node)
		var m map[string]any
		_ = DecodeCommand(s, &m)
		var generic any
		err := DecodeCommand(s, &generic)
		if err == nil {
			want, uerr := Unserialize(s)
			require.NoError(t, uerr)
			require.Equal(t, want, generic)
		}
	})
}

// FuzzParse feeds arbitrary bytes to the payload parser, for each version: it must not panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"job":"J"}`, `{"job":"J","data":{"command":"O:"}}`, `{"jo\u0062":"J","backoff":1.5}`, `[]`, `{`,
		`{"job":"J","attempts":9223372036854775807,"maxTries":-9223372036854775808,"retryUntil":1e300,"backoff":"9223372036854775807,-1,x"}`,
		`{"job":"J","backoff":[],"timeout":{},"maxExceptions":"2","timeoutAt":true}`, `{"job":"J","data":{"command":5,"commandName":[]}}`,
		`{"job":"\ud800","uuid":"\u0000"}`, "{\"job\":\"J\xff\"}", `{"job":"J","data":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
		`{"job":"J","failOnTimeout":"0","delay":-1,"createdAt":"x"}`} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "v*", "payloads", "*.json"))
	for _, file := range files {
		f.Add(readFixture(f, file[len(fixtureRoot):]))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, d := range []Dialect{{Version: V8}, {Version: V11}, {Version: V12}} {
			p, err := d.Parse(raw)
			if err == nil && p.Job == "" {
				t.Fatalf("accepted %q without a job", raw)
			}
			_ = d.FailedJobRow("c", "q", raw, string(raw), timeZero)
		}
	})
}

// FuzzRules runs a reservation of arbitrary bytes through every rule the worker applies, with and without
// an exception counter: never a panic.
func FuzzRules(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "v*", "payloads", "*.json"))
	for _, file := range files {
		f.Add(readFixture(f, file[len(fixtureRoot):]))
	}
	for _, s := range []string{`{"uuid":"u","job":"J@handle","maxExceptions":0,"data":"","attempts":0}`,
		`{"uuid":"u","job":"J","maxExceptions":-1,"maxTries":-1,"backoff":"x,,9223372036854775807","retryUntil":-1,"attempts":-1}`,
		`{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"commandName":"C","command":"O:9223372036854775807:\"x\":0:{}"}}`} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	now := time.Unix(fixtureNow, 0)
	timedOut := errors.Join(errors.New("boom"), context.DeadlineExceeded)
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, counter := range []ExceptionCounter{nil, newCountingCache()} {
			r := NewRules(Dialect{Version: V12, Prefix: DefaultPrefix}, counter, "laravel_cache_")
			for _, res := range []queue.Reservation{
				{Queue: "default", Raw: raw, Member: []byte("reserved copy"), Expires: now.Add(time.Minute)},
				{Queue: "default", Raw: raw, Member: []byte("7"), Attempts: 1 + len(raw)%300},
			} {
				j, err := r.NewJob(res)
				if j == nil {
					require.Error(t, err)
					continue
				}
				for _, tries := range []int{0, 1, 3, -1} {
					_ = r.CheckBeforeRun(j, tries, now)
					_ = r.FailAfterError(ctx, j, errTest, tries, now)
					_ = r.FailAfterError(ctx, j, timedOut, tries, now)
				}
				_ = r.RetryDelay(j, errTest, []time.Duration{time.Second, -time.Second}, now)
				_ = r.RetryDelay(j, timedOut, nil, now)
				_, _ = r.ReleasedCopy(res)
				var command any
				_ = j.Bind(&command)
				_ = r.ExceptionText(timedOut)
			}
		}
	})
}
