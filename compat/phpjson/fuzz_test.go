package phpjson

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hostileJSON seeds every decoder's fuzzing with what broke parsers elsewhere: nesting at and past the
// limits, truncations, huge and negative numbers, invalid UTF-8 and escapes, duplicate and case-folded keys.
var hostileJSON = []string{
	``, ` `, `{`, `[`, `"`, `{"a":`, `{"a":1`, `[1,`, `{"a" 1}`, `{,}`, `[1,]`, `{"a":1,}`, `tru`, `nul`, `-`, `01`, `1.`, `.5`,
	`1e`, `1e+`, `-0`, `-0.0`, `1e400`, `-1e400`, `1e-400`, `9223372036854775807`, `9223372036854775808`,
	`-9223372036854775808`, `-9223372036854775809`, `18446744073709551615`, `18446744073709551616`,
	`123456789012345678901234567890`, `"\u"`, `"\u12"`, `"\ud800"`, `"\udc00\ud800"`, `"\ud800\u0041"`,
	`"\ud83d\ude00"`, `"\x"`, "\"\xff\"", "\"\xed\xa0\x80\"", "\"\xc3\"", "\"a\x00b\"", "\"\u2028\"",
	`{"a":1,"a":{"b":2},"A":[]}`, `{"Name":"x","name":"y","NAME":[]}`, `{"\u0061":1}`, `{"k":"\u212a"}`,
	strings.Repeat("[", 511) + strings.Repeat("]", 511), strings.Repeat("[", 512) + strings.Repeat("]", 512),
	strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 1000),
}

// FuzzNormalize checks that Normalize never panics and that its output is normal: normalizing it again gives
// the same bytes. The one exception is PHP's own: a float -0 is written "-0", which reads back as the int 0.
func FuzzNormalize(f *testing.F) {
	files := slices.Concat(globFixtures(f, "thinkqueue/v*/*/payloads/*.json"), laravelPayloads(f))
	for _, path := range files {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range append([]string{`{}`, `{"0":1,"1":{}}`, `[-0.0,1e25,0.00001,12345678901234567890]`, `"\ud83d\ude00\/"`,
		`{"a":1,"a":2}`, `"\ud800"`, "\"\xff\"", strings.Repeat("[", 512)}, hostileJSON...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		once, err := Normalize(data)
		if err != nil {
			return
		}
		twice, err := Normalize(once)
		require.NoError(t, err, "Normalize(%q) = %q", data, once)
		v, err := Decode(data)
		require.NoError(t, err)
		if !hasNegativeZero(v) {
			require.Equal(t, string(once), string(twice), "Normalize(%q)", data)
			return
		}
		thrice, err := Normalize(twice)
		require.NoError(t, err)
		require.Equal(t, string(twice), string(thrice), "Normalize(%q)", data)
	})
}

func hasNegativeZero(v any) bool {
	switch v := v.(type) {
	case float64:
		return v == 0 && math.Signbit(v)
	case []any:
		return slices.ContainsFunc(v, hasNegativeZero)
	case *Map:
		return slices.ContainsFunc(v.Values, hasNegativeZero)
	}
	return false
}

// FuzzDecode checks that Decode never panics and accepts only what encoding/json accepts too (PHP's
// json_decode is stricter: no invalid UTF-8, 511 levels), and that what it accepts encodes again unless it
// holds a float PHP cannot write (±Inf from a literal too large); and that the scanning helpers the
// dialects' Parse uses after json.Valid (Kind, Unquote, Int, Members) never panic on any input either.
func FuzzDecode(f *testing.F) {
	for _, path := range slices.Concat(globFixtures(f, "thinkqueue/v*/*/payloads/*.json"), laravelPayloads(f)) {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range hostileJSON {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The helpers for valid JSON return something for any input, and a walk ends.
		_ = Kind(data)
		_ = Unquote(data)
		_, _ = Int(data)
		m := NewMembers(data)
		for n := 0; ; n++ {
			require.LessOrEqual(t, n, len(data), "the walk over %q does not end", data)
			if _, _, ok := m.Next(); !ok {
				break
			}
		}
		canonical := Canonical(data)
		v, err := Decode(data)
		if err != nil {
			require.False(t, canonical, "Canonical(%q), which does not decode: %v", data, err)
			return
		}
		require.True(t, json.Valid(data), "Decode accepted %q", data)
		if canonical {
			again, err := Encode(Assoc(v))
			require.NoError(t, err, "Canonical(%q)", data)
			require.Equal(t, string(data), string(again), "Canonical(%q), but its re-encode differs", data)
		}
		if _, err := Encode(v); err != nil {
			require.True(t, hasInf(v), "Decode(%q) = %#v, which does not encode: %v", data, v, err)
		}
	})
}

func hasInf(v any) bool {
	switch v := v.(type) {
	case float64:
		return math.IsInf(v, 0)
	case []any:
		return slices.ContainsFunc(v, hasInf)
	case *Map:
		return slices.ContainsFunc(v.Values, hasInf)
	}
	return false
}

// The targets FuzzUnmarshal binds to: every kind the binder handles itself, and some it leaves to
// encoding/json.
type (
	fuzzInner struct {
		A  int    `json:"a"`
		B  string `json:"b"`
		Kk []int  `json:"k"`
	}
	fuzzEmbedded struct {
		E  map[string]int
		EP *fuzzInner
	}
	fuzzHidden struct{ Hidden []string }
	// FuzzPromoted is embedded through an exported pointer, which binding allocates.
	FuzzPromoted struct{ Promoted []string }
	// fuzzRecorder keeps what UnmarshalJSON got, to compare it between the two ways through Unmarshal.
	fuzzRecorder struct{ Raw string }
	fuzzTarget   struct {
		fuzzEmbedded
		*FuzzPromoted
		I8     int8                               `json:"i8"`
		I      int                                `json:"i"`
		U16    uint16                             `json:"u16"`
		U      uint64                             `json:"u"`
		F32    float32                            `json:"f32"`
		F      float64                            `json:"f"`
		S      string                             `json:"s"`
		Bool   bool                               `json:"bool"`
		P      *int                               `json:"p"`
		PP     **fuzzInner                        `json:"pp"`
		Struct fuzzInner                          `json:"struct"`
		List   []fuzzInner                        `json:"list"`
		Arr    [2]*fuzzInner                      `json:"arr"`
		Map    map[string]fuzzInner               `json:"map"`
		IntMap map[int8]string                    `json:"intmap"`
		UMap   map[uint]any                       `json:"umap"`
		Any    any                                `json:"any"`
		Num    json.Number                        `json:"num"`
		Bytes  []byte                             `json:"bytes"`
		Raw    json.RawMessage                    `json:"raw"`
		Rec    fuzzRecorder                       `json:"rec"`
		RecP   *fuzzRecorder                      `json:"recp"`
		When   time.Time                          `json:"when"`
		Nested map[string][]map[string]*fuzzInner `json:"nested"`
		Name   string
		Skip   string `json:"-"`
	}
	// fuzzIndirect has what only encoding/json binds: the ",string" option and a non-empty interface.
	fuzzIndirect struct {
		*fuzzHidden
		Q   int            `json:"q,string"`
		Err error          `json:"err"`
		In  fuzzInner      `json:"in"`
		M   map[string]any `json:"m"`
	}
)

func (r *fuzzRecorder) UnmarshalJSON(b []byte) error {
	r.Raw = string(b)
	return nil
}

// FuzzUnmarshal checks Unmarshal's one pass against the way through encoding/json on arbitrary input:
// never a panic, the same error, and without an error the same result, for each target.
func FuzzUnmarshal(f *testing.F) {
	for _, path := range slices.Concat(globFixtures(f, "thinkqueue/v*/*/payloads/*.json"), laravelPayloads(f)) {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range hostileJSON {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"i8":127,"i":-5,"u16":65535,"u":18446744073709551615,"f32":3.4e38,"f":-0.5e-3,"s":"caf\u00e9 \/","bool":true,` +
			`"p":7,"pp":{"a":1},"struct":[],"list":[[],{"a":2,"k":[]}],"arr":[[],null,{"a":3}],"map":{"x":[],"y":{"b":"z"}},` +
			`"intmap":{"-3":"m","7":"n"},"umap":{"1":[]},"any":{"l":[1,"2",null,[]]},"num":1.50,"bytes":"aGk=","raw":[ ],` +
			`"rec":{"b":[],"a":"<\/>"},"recp":[],"when":"2025-01-02T03:04:05Z","nested":{"n":[{"x":[]},{"y":null}]},` +
			`"NAME":"folded","E":[],"EP":[],"Promoted":["p"],"Skip":"no","unknown":[[]]}`, `{"Hidden":["h"]}`,
		`{"i8":128}`, `{"i":1.5}`, `{"u":-1}`, `{"f32":1e39}`, `{"s":1}`, `{"bool":"true"}`, `{"num":"1x"}`, `{"num":"2"}`,
		`{"bytes":"!"}`, `{"intmap":{"300":"x"}}`, `{"map":[1]}`, `{"list":{}}`, `{"struct":"x"}`, `{"when":"yesterday"}`,
		`{"p":null,"pp":null,"map":null,"list":null,"any":null,"struct":null,"i":null}`, `[]`, `null`, `"x"`, `{"raw":"\ud800"}`,
		`{"q":"12","err":null,"in":[]}`, `{"q":12}`, `{"m":{"a":[]},"in":{"k":[]}}`,
		// A key seen again binds into what the first one stored, as encoding/json does.
		`{"list":[{"a":1}],"list":null}`, `{"map":{"x":{"a":1}},"map":null,"bytes":"aGk=","bytes":null}`,
		`{"list":[{"a":1},{"a":2}],"list":[{"b":"x"}]}`, `{"list":[{"a":1}],"list":[]}`, `{"arr":[{"a":1},{"a":2}],"arr":[{"b":"x"}]}`,
		`{"arr":[{"a":1}],"arr":[]}`, `{"struct":{"a":1},"struct":{"b":"y"}}`, `{"any":{"a":1},"any":[1]}`,
		`{"intmap":{"1":"a"},"intmap":{"2":"b"}}`, `{"pp":{"a":1},"pp":{"b":"x"}}`, `{"p":1,"p":null}`, `{"map":{"x":{"a":1}},"map":[]}`,
		`{"i":1,"I":2}`, `{"name":"a","Name":"b","nAmE":"c"}`, `{"s":"\u00e9\ud83d\ude00\ud800x\/"}`, "{\"s\":\"\xff\xfe\xc3\"}",
	} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return new(fuzzTarget) },
		func() any { return new(fuzzIndirect) },
		func() any { return new(any) },
		func() any { return new(map[string]fuzzInner) },
		func() any { return new([]map[string]any) },
		func() any { return new(*fuzzInner) },
		func() any { return new(fuzzRecorder) },
	}
	require.True(f, planFor(reflect.TypeFor[*fuzzTarget]()).direct, "fuzzTarget must exercise the binder")
	require.False(f, planFor(reflect.TypeFor[*fuzzIndirect]()).direct)
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		require.Equal(t, valid, Valid(data), "validity of %q", data)
		if value := bytes.Trim(data, " \t\r\n"); valid && sameRemarshalled(value) {
			again, err := decodeEncode(value)
			require.NoError(t, err)
			require.Equal(t, string(value), string(again), "remarshalled")
		}
		for _, target := range targets {
			got, want := target(), target()
			if p := planFor(reflect.TypeOf(got)); valid && p.direct {
				f := newFit(data)
				f.walk(skipSpace(data, 0), reflect.TypeOf(got), true)
				require.Equal(t, f.flips > 0, hasFlips(data, p), "flips of %q into %T", data, got)
			}
			err := Unmarshal(data, got)
			wantErr := unmarshalFitted(data, want)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error(), "%T from %q", got, data)
				continue
			}
			require.NoError(t, err, "%T from %q", got, data)
			require.Equal(t, want, got, "%T from %q", got, data)
		}
	})
}
