package phpjson

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The dialects' Parse runs once per job. Decoding a payload into a map[string]json.RawMessage took about
// 4.4µs and 33 allocations; validating (Valid) and then walking only the top level of the object,
// values kept as subslices of the input, takes about 1.7µs and 4. Key matching stays exact, unlike
// encoding/json's case-insensitive struct fields.

// Members walks the members of a JSON object in order. The input must be valid JSON (json.Valid) whose
// first non-space byte is '{'.
type Members struct {
	raw []byte
	i   int
}

// NewMembers starts a walk over raw, which must be valid JSON (json.Valid) whose first non-space byte is '{'.
func NewMembers(raw []byte) Members {
	return Members{raw: raw, i: skipSpace(raw, 0) + 1} // past '{'
}

// Next returns the decoded key and the raw value of the next member; ok is false after the last one.
// Given input that is not valid JSON, it returns some of it or ends the walk, but never panics.
func (m *Members) Next() (key, value []byte, ok bool) {
	raw := m.raw
	i := skipSpace(raw, m.i)
	if i < len(raw) && raw[i] == ',' {
		i = skipSpace(raw, i+1)
	}
	if i >= len(raw) || raw[i] != '"' { // '}', or not the valid JSON a walk needs
		m.i = len(raw)
		return nil, nil, false
	}
	end := stringEnd(raw, i)
	key = raw[i+1 : max(end-1, i+1)]
	if bytes.IndexByte(key, '\\') >= 0 { // PHP reads "jo\u0062" as "job" too
		key = []byte(Unquote(raw[i:end]))
	}
	if i = skipSpace(raw, end); i >= len(raw) {
		m.i = len(raw)
		return nil, nil, false
	}
	i = skipSpace(raw, i+1) // past ':'
	m.i = valueEnd(raw, i)
	return key, raw[i:m.i], true
}

// Unquote decodes a JSON string literal that passed json.Valid. Job names and commands are full of escaped
// backslashes and quotes, so this is the hot path of Parse. A lone UTF-16 surrogate becomes U+FFFD, as in
// encoding/json (PHP would reject the payload). Given anything else, it returns some text, never panics.
func Unquote(quoted []byte) string {
	if len(quoted) < 2 {
		return ""
	}
	s := quoted[1 : len(quoted)-1]
	i := bytes.IndexByte(s, '\\')
	if i < 0 {
		return string(s)
	}
	var out strings.Builder
	out.Grow(len(s))
	out.Write(s[:i])
	for i < len(s) {
		if s[i] != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				j = len(s) - i
			}
			out.Write(s[i : i+j])
			i += j
			continue
		}
		if i+1 >= len(s) || s[i+1] == 'u' && i+6 > len(s) { // a cut escape: not valid JSON
			out.WriteRune(utf8.RuneError)
			break
		}
		switch c := s[i+1]; c {
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'u':
			r := hex4(s[i+2:])
			if utf16.IsSurrogate(r) && i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if pair := utf16.DecodeRune(r, hex4(s[i+8:])); pair != utf8.RuneError {
					r = pair
					i += 6
				}
			}
			out.WriteRune(r) // U+FFFD for a lone surrogate
			i += 4
		default: // '"', '\\' or '/'
			out.WriteByte(c)
		}
		i += 2
	}
	return out.String()
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"'; len(b) when it has no end.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i]; len(b) when it has no end.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i // number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// Kind names the type of the valid JSON value raw, for error messages; "nothing" when raw is only space.
func Kind(raw []byte) string {
	i := skipSpace(raw, 0)
	if i == len(raw) {
		return "nothing"
	}
	switch raw[i] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// Int reads the raw JSON value of an integer field: ok is false when raw is missing (nil), null, or not an
// integer. A float with no fraction (1.0, 1e2 from a foreign producer) counts as one, as PHP's comparisons
// treat it.
func Int(raw []byte) (n int64, ok bool) {
	if raw == nil || string(raw) == "null" {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(string(raw), 64); err == nil && f == math.Trunc(f) &&
		f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f), true
	}
	return 0, false
}
