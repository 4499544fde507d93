package phpjson

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEncodeString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `""`},
		{"plain", "abc", `"abc"`},
		{"slash", "https://a/b", `"https:\/\/a\/b"`},
		{"quote and backslash", `say "hi" \ app\job`, `"say \"hi\" \\ app\\job"`},
		{"html and apostrophe stay raw", `<b>&amp;</b> 'x'`, `"<b>&amp;<\/b> 'x'"`},
		{"short control escapes", "\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"other controls lowercase", "\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`},
		{"DEL raw", "\x7f", "\"\x7f\""},
		{"latin", "é", `"\u00e9"`},
		{"CJK lowercase hex", "张三", `"\u5f20\u4e09"`},
		{"line separators", "\u2028\u2029", `"\u2028\u2029"`},
		{"astral as surrogate pair", "😀", `"\ud83d\ude00"`},
		{"first astral", "\U00010000", `"\ud800\udc00"`},
		{"last code point", "\U0010ffff", `"\udbff\udfff"`},
		{"BOM", "\ufeff", `"\ufeff"`},
		{"replacement char is valid", "\ufffd", `"\ufffd"`},
		{"mixed", "a/é\n😀z", `"a\/\u00e9\n\ud83d\ude00z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestEncodeFloat(t *testing.T) {
	t.Parallel()

	tenth, fifth := 0.1, 0.2 // variables, so that the sum is rounded as a float64 and not folded exactly
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{2.0, "2"},
		{-2.0, "-2"},
		{1.5, "1.5"},
		{0.1, "0.1"},
		{tenth + fifth, "0.30000000000000004"},
		{1.0 / 3, "0.3333333333333333"},
		{3.25, "3.25"},
		{123456789.5, "123456789.5"},
		{0.5, "0.5"},
		{0.0001, "0.0001"},
		{0.000123, "0.000123"},
		{0.00001, "1.0e-5"},
		{2.5e-5, "2.5e-5"},
		{1.5e-7, "1.5e-7"},
		{-1.5e-7, "-1.5e-7"},
		{1e15, "1000000000000000"},
		{1e16, "10000000000000000"},
		{1.5e16, "15000000000000000"},
		{1e17, "1.0e+17"},
		{1.2345678901234567e17, "1.2345678901234566e+17"},
		{1e25, "1.0e+25"},
		{1.2345678901234567e19, "1.2345678901234567e+19"},
		{float64(1 << 63), "9.223372036854776e+18"},
		{5e-324, "5.0e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{1e100, "1.0e+100"},
		{1e-100, "1.0e-100"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestEncodeValues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, `null`},
		{"true", true, `true`},
		{"false", false, `false`},
		{"int", 42, `42`},
		{"int8", int8(-8), `-8`},
		{"int16", int16(16), `16`},
		{"int32", int32(-32), `-32`},
		{"int64 min", int64(math.MinInt64), `-9223372036854775808`},
		{"uint", uint(7), `7`},
		{"uint8", uint8(255), `255`},
		{"uint16", uint16(16), `16`},
		{"uint32", uint32(32), `32`},
		{"uint64 in range", uint64(math.MaxInt64), `9223372036854775807`},
		{"uint64 beyond int64 overflows to float", uint64(math.MaxUint64), `1.8446744073709552e+19`},
		{"json.Number int", json.Number("12"), `12`},
		{"json.Number float with zero fraction", json.Number("1.0"), `1`},
		{"json.Number exponent", json.Number("1.5e3"), `1500`},
		{"json.Number big int", json.Number("12345678901234567890"), `1.2345678901234567e+19`},
		{"empty list", list(), `[]`},
		{"nil list", []any(nil), `[]`},
		{"list", list(int64(1), "two", 3.25, nil), `[1,"two",3.25,null]`},
		{"empty Map stays an object", &Map{}, `{}`},
		{"nil Map", (*Map)(nil), `null`},
		{"list-like Map stays an object", obj("0", "a", "1", "b"), `{"0":"a","1":"b"}`},
		{"Map in key order", obj("b", int64(1), "a", list()), `{"b":1,"a":[]}`},
		{"Map key escaped", obj("a/é", true), `{"a\/\u00e9":true}`},
		{"Go map sorted", map[string]any{"b": 1, "a": 2, "10": 3, "9": 4}, `{"10":3,"9":4,"a":2,"b":1}`},
		{"empty Go map", map[string]any{}, `{}`},
		{"nested", obj("l", list(obj("m", map[string]any{"x": list()}))), `{"l":[{"m":{"x":[]}}]}`},
		{"deepest accepted nesting", nest(512), strings.Repeat("[", 512) + strings.Repeat("]", 512)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()

	cyclic := &Map{Keys: []string{"self"}}
	cyclic.Values = []any{cyclic}

	tests := []struct {
		name    string
		in      any
		wantErr string
	}{
		{"NaN", math.NaN(), "float NaN cannot be JSON encoded"},
		{"+Inf", math.Inf(1), "float +Inf cannot be JSON encoded"},
		{"-Inf nested", list(obj("f", math.Inf(-1))), "float -Inf cannot be JSON encoded"},
		{"malformed UTF-8", "ab\xff", "malformed UTF-8 at byte 2 of string"},
		{"UTF-8 encoded surrogate", "\xed\xa0\x80", "malformed UTF-8"},
		{"truncated UTF-8", "\xe4\xb8", "malformed UTF-8"},
		{"malformed UTF-8 in key", obj("\xc3\x28", 1), "malformed UTF-8"},
		{"malformed UTF-8 in Go map key", map[string]any{"\xff": 1}, "malformed UTF-8"},
		{"float32", float32(1.5), "unsupported type float32"},
		{"struct", struct{}{}, "unsupported type struct {}"},
		{"typed slice", []string{"a"}, "unsupported type []string"},
		{"invalid json.Number", json.Number("1.5x"), `invalid json.Number "1.5x"`},
		{"empty json.Number", json.Number(""), `invalid json.Number ""`},
		{"nesting too deep", nest(513), "nesting deeper than 512"},
		{"cycle", cyclic, "nesting deeper than 512"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tc.in)
			require.ErrorContains(t, err, "phpjson: encode: "+tc.wantErr)
			require.Nil(t, got)
		})
	}
}
