package phpjson

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   string
		want any
	}{
		{"null", `null`, nil},
		{"true", `true`, true},
		{"false", ` false `, false},
		{"whitespace", " \t\r\n[ 1 ,\n2 ] ", list(int64(1), int64(2))},
		{"empty object", `{}`, &Map{}},
		{"empty list", `[]`, list()},
		{"object keeps order", `{"b":1,"a":2}`, obj("b", int64(1), "a", int64(2))},
		{"list-like object stays a Map", `{"0":"x","1":"y"}`, obj("0", "x", "1", "y")},
		{"duplicate keeps first position, last value", `{"a":1,"b":2,"a":3}`, obj("a", int64(3), "b", int64(2))},
		{"nested", `{"a":[{},[]]}`, obj("a", list(&Map{}, list()))},
		{"int", `42`, int64(42)},
		{"negative int", `-7`, int64(-7)},
		{"minus zero int is int zero", `-0`, int64(0)},
		{"max int64", `9223372036854775807`, int64(math.MaxInt64)},
		{"min int64", `-9223372036854775808`, int64(math.MinInt64)},
		{"beyond int64 is float", `9223372036854775808`, float64(1 << 63)},
		{"below int64 is float", `-9223372036854775809`, -float64(1 << 63)},
		{"twenty digits", `12345678901234567890`, 1.2345678901234567e19},
		{"fraction is float", `1.0`, 1.0},
		{"exponent is float", `1e2`, 100.0},
		{"capital exponent with sign", `1E+2`, 100.0},
		{"negative exponent", `15e-1`, 1.5},
		{"float minus zero", `-0.0`, math.Copysign(0, -1)},
		{"overflow is inf as in PHP", `1e400`, math.Inf(1)},
		{"underflow is zero", `-1e-400`, math.Copysign(0, -1)},
		{"plain string", `"abc"`, "abc"},
		{"empty string", `""`, ""},
		{"short escapes", `"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{"unicode escapes either case", `"\u00e9\u00E9\u4e2d"`, "éé中"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"surrogate pair upper case", `"\uD83D\uDE00"`, "😀"},
		{"nul escape", `"a\u0000b"`, "a\x00b"},
		{"raw UTF-8", `"中😀é"`, "中😀é"},
		{"raw DEL", "\"\x7f\"", "\x7f"},
		{"escape after raw UTF-8", `"é\n"`, "é\n"},
		{"empty key", `{"":1}`, obj("", int64(1))},
		{"nul in key", `{"\u0000a":1}`, obj("\x00a", int64(1))},
		{"deepest accepted nesting", strings.Repeat("[", 511) + strings.Repeat("]", 511), nest(511)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode([]byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			if f, ok := tc.want.(float64); ok {
				require.Equal(t, math.Signbit(f), math.Signbit(got.(float64)), "sign of zero")
			}
		})
	}
}

// nest returns n empty lists nested in one another.
func nest(n int) any {
	v := list()
	for range n - 1 {
		v = list(v)
	}
	return v
}

func TestDecodeDuplicatesInLargeObject(t *testing.T) {
	t.Parallel()

	// Past indexFrom keys, duplicates go through the index rather than Map.Set.
	var b strings.Builder
	want := &Map{}
	b.WriteString("{")
	for i := range 40 {
		key := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		b.WriteString(`"` + key + `":1,`)
		want.Set(key, int64(1))
	}
	b.WriteString(`"a":2,"zz":3,"b":4}`)
	want.Set("a", int64(2))
	want.Set("zz", int64(3))
	want.Set("b", int64(4))

	got, err := Decode([]byte(b.String()))
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty input", ``, "unexpected end of input"},
		{"only whitespace", ` `, "unexpected end of input"},
		{"trailing garbage", `[1] x`, "after top-level value"},
		{"two values", `1 2`, "after top-level value"},
		{"trailing NUL", "[1]\x00", "after top-level value"},
		{"BOM", "\ufeff1", "unexpected"},
		{"trailing comma in list", `[1,]`, "unexpected ']'"},
		{"trailing comma in object", `{"a":1,}`, "expected string key"},
		{"unclosed list", `[1`, "expected ','"},
		{"unclosed object", `{"a":1`, "expected ','"},
		{"missing colon", `{"a" 1}`, "expected ':'"},
		{"unquoted key", `{a:1}`, "expected string key"},
		{"number key", `{1:1}`, "expected string key"},
		{"single quotes", `'a'`, "unexpected"},
		{"leading zero", `01`, "after top-level value"},
		{"negative leading zero", `-01`, "after top-level value"},
		{"bare minus", `-`, "invalid number"},
		{"trailing point", `1.`, "invalid number"},
		{"leading point", `.5`, "unexpected"},
		{"empty exponent", `1e`, "invalid number"},
		{"plus sign", `+1`, "unexpected"},
		{"capital TRUE", `TRUE`, "unexpected"},
		{"capital True", `True`, "unexpected"},
		{"truncated literal", `nul`, "want null"},
		{"NaN", `NaN`, "unexpected"},
		{"unterminated string", `"abc`, "unterminated string"},
		{"unterminated after escape", `"abc\`, "unterminated string"},
		{"raw control character", "\"a\x01\"", "control character"},
		{"raw tab", "\"\t\"", "control character"},
		{"raw newline", "\"\n\"", "control character"},
		{"invalid escape", `"\a"`, `invalid escape \a`},
		{"short unicode escape", `"\u12"`, `invalid \u escape`},
		{"non-hex unicode escape", `"\u12g4"`, `invalid \u escape`},
		{"lone high surrogate", `"\ud800"`, "unpaired UTF-16 surrogate"},
		{"lone low surrogate", `"\udc00"`, "unpaired UTF-16 surrogate"},
		{"high surrogate then BMP escape", `"\ud800\u0041"`, "unpaired UTF-16 surrogate"},
		{"high surrogate then text", `"\ud800abcdef"`, "unpaired UTF-16 surrogate"},
		{"two high surrogates", `"\ud800\ud800"`, "unpaired UTF-16 surrogate"},
		{"malformed UTF-8", "\"\xc3\x28\"", "malformed UTF-8"},
		{"UTF-8 encoded surrogate", "\"\xed\xa0\x80\"", "malformed UTF-8"},
		{"overlong UTF-8", "\"\xc0\xaf\"", "malformed UTF-8"},
		{"truncated UTF-8", "\"\xe4\xb8\"", "malformed UTF-8"},
		{"malformed UTF-8 in key", "{\"\xff\":1}", "malformed UTF-8"},
		{"raw UTF-8 outside string", "[é]", "unexpected"},
		{"nesting too deep", strings.Repeat("[", 512) + strings.Repeat("]", 512), "nesting deeper than 511"},
		{"objects nesting too deep", strings.Repeat(`{"a":`, 512) + "1" + strings.Repeat("}", 512), "nesting deeper than 511"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode([]byte(tc.in))
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, "phpjson: decode: offset ")
			require.Nil(t, got)
		})
	}
}
