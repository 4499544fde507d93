package laravel

import (
	"path/filepath"
	"testing"
)

// FuzzUnserialize feeds arbitrary bytes to the serialize() parser: it must not panic, and whatever it
// accepts must serialize to a string it reads back the same way.
func FuzzUnserialize(f *testing.F) {
	for _, s := range []string{`N;`, `b:1;`, `i:-5;`, `d:1.5E-7;`, `d:NAN;`, `s:3:"a"b";`, `a:2:{i:0;s:1:"x";s:1:"k";a:0:{}}`,
		`O:1:"A":2:{s:4:"\x00*\x00p";i:1;s:6:"\x00A\x00q";N;}`, `E:8:"Pure:One";`, `C:3:"Foo":2:{ab}`,
		`a:2:{s:2:"o1";O:8:"stdClass":0:{}s:2:"o2";r:2;}`} {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "v*", "payloads", "*.json"))
	for _, file := range files {
		if p, err := (Dialect{Version: V12}).Parse(readFixture(f, file[len(fixtureRoot):])); err == nil && !p.Encrypted() && p.Command != "" {
			f.Add(p.Command)
		}
	}
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

// FuzzParse feeds arbitrary bytes to the payload parser: it must not panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"job":"J"}`, `{"job":"J","data":{"command":"O:"}}`, `{"jo\u0062":"J","backoff":1.5}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "v*", "payloads", "*.json"))
	for _, file := range files {
		f.Add(readFixture(f, file[len(fixtureRoot):]))
	}
	d := Dialect{Version: V8}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := d.Parse(raw)
		if err == nil && p.Job == "" {
			t.Fatalf("accepted %q without a job", raw)
		}
		_ = d.FailedJobRow("c", "q", raw, string(raw), timeZero)
	})
}
