package phpjson

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The expected strings were printed by PHP 8.2's json_encode($s, JSON_UNESCAPED_UNICODE).
func TestEncodeUnescapedUnicodeString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `""`},
		{"plain", "abc", `"abc"`},
		{"slash still escaped", "https://a/b", `"https:\/\/a\/b"`},
		{"quote and backslash", `say "hi" \ app\job`, `"say \"hi\" \\ app\\job"`},
		{"html and apostrophe stay raw", `<b>&amp;</b> 'x'`, `"<b>&amp;<\/b> 'x'"`},
		{"short control escapes", "\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"NUL and other controls lowercase", "\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`},
		{"DEL raw", "\x7f", "\"\x7f\""},
		{"latin raw", "é", `"é"`},
		{"CJK raw", "张三", `"张三"`},
		{"line separators stay escaped", "\u2028\u2029", `"\u2028\u2029"`},
		{"line separator between text", "a\u2028b", `"a\u2028b"`},
		{"astral raw", "😀", `"😀"`},
		{"first astral", "\U00010000", "\"\U00010000\""},
		{"last code point", "\U0010ffff", "\"\U0010ffff\""},
		{"BOM raw", "\ufeff", "\"\ufeff\""},
		{"replacement char raw", "\ufffd", "\"\ufffd\""},
		{"C1 control and neighbours of U+2028 raw", "\u0085\u00a0\u2027\u202a", "\"\u0085\u00a0\u2027\u202a\""},
		{"mixed", "a/é\n😀z", `"a\/é\n😀z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := EncodeUnescapedUnicode(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))

			// Both encodings read back as the same string.
			back, err := Decode(got)
			require.NoError(t, err)
			require.Equal(t, tc.in, back)
		})
	}
}

// Everything but strings is written as Encode writes it.
func TestEncodeUnescapedUnicodeValues(t *testing.T) {
	t.Parallel()

	v := obj("k/é", list(1.0, 0.1, 1e25, math.Copysign(0, -1), "x"), "é\u2028", nil, "m", map[string]any{"b": int64(1), "a": &Map{}})
	got, err := EncodeUnescapedUnicode(v)
	require.NoError(t, err)
	require.Equal(t, `{"k\/é":[1,0.1,1.0e+25,-0,"x"],"é\u2028":null,"m":{"a":{},"b":1}}`, string(got))

	escaped, err := Encode(v)
	require.NoError(t, err)
	require.Equal(t, `{"k\/\u00e9":[1,0.1,1.0e+25,-0,"x"],"\u00e9\u2028":null,"m":{"a":{},"b":1}}`, string(escaped))
}

func TestEncodeUnescapedUnicodeErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      any
		wantErr string
	}{
		{"malformed UTF-8", "ab\xff", "malformed UTF-8 at byte 2 of string"},
		{"UTF-8 encoded surrogate", "é\xed\xa0\x80", "malformed UTF-8 at byte 2 of string"},
		{"truncated UTF-8", "\xe4\xb8", "malformed UTF-8"},
		{"malformed UTF-8 in key", obj("\xc3\x28", 1), "malformed UTF-8"},
		{"NaN", math.NaN(), "float NaN cannot be JSON encoded"},
		{"unsupported type", []string{"a"}, "unsupported type []string"},
		{"nesting too deep", nest(513), "nesting deeper than 512"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := EncodeUnescapedUnicode(tc.in)
			require.ErrorContains(t, err, "phpjson: encode: "+tc.wantErr)
			require.Nil(t, got)
		})
	}
}

// Escaping and not escaping non-ASCII agree on everything else: stripping the \u escapes Encode adds gives the
// unescaped form back.
func TestEncodeUnescapedUnicodeAgreesWithEncode(t *testing.T) {
	t.Parallel()

	for _, s := range []string{"", "plain", "é/ü\x00\n", "中文 \u2028 😀\U0010ffff", strings.Repeat("ß", 40)} {
		raw, err := EncodeUnescapedUnicode(s)
		require.NoError(t, err)
		esc, err := Encode(s)
		require.NoError(t, err)
		require.True(t, utf8.Valid(raw))
		a, err := Decode(raw)
		require.NoError(t, err)
		b, err := Decode(esc)
		require.NoError(t, err)
		require.Equal(t, a, b, "%q", s)
		if !strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) {
			require.Equal(t, string(esc), string(raw))
		}
	}
}

// Every Laravel payload is one json_encode($payload, JSON_UNESCAPED_UNICODE), so decoding and re-encoding it
// with the flag gives the stored bytes back.
func TestFixturesLaravelEncodeUnescapedUnicode(t *testing.T) {
	t.Parallel()

	var files []string
	for _, pattern := range []string{"laravel/v*/payloads/*.json", "laravel/v*/database/payloads/*.json", "laravel/v*/database/mariadb/payloads/*.json"} {
		files = append(files, globFixtures(t, pattern)...)
	}
	for _, path := range files {
		if filepath.Base(path) == "reserved_after_pop.json" {
			continue // written by Redis's cjson, not by PHP
		}
		t.Run(fixtureName(t, path), func(t *testing.T) {
			t.Parallel()
			want := readFixture(t, path)
			v, err := Decode(want)
			require.NoError(t, err)
			if filepath.Base(path) == "string_job_cjson_edges.json" {
				// PHP held the float -0.0 here, written -0; JSON reads that back as the integer 0.
				data, _ := v.(*Map).Get("data")
				data.(*Map).Set("neg0", math.Copysign(0, -1))
			}
			got, err := EncodeUnescapedUnicode(v)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}
