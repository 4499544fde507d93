package phpjson

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"
)

// maxCanonicalNesting is how deep Canonical looks; deeper input is left to the full re-encode.
const maxCanonicalNesting = 64

// maxCanonicalKeys is the most members an object Canonical accepts may have (it compares keys pairwise).
const maxCanonicalKeys = 64

// Canonical reports whether raw is a JSON object exactly as Encode writes Assoc(Decode(raw)), so that a copy
// with one scalar changed can be spliced instead of re-encoded: no space between tokens; strings escaped as
// json_encode escapes them ("/" as "\/", control characters as their short escape or \u00xx, non-ASCII as
// \u with lowercase hex); numbers as json_encode writes them back; objects that stay objects (not empty, no repeated key, no key PHP
// reads as an integer). It is conservative: false wherever it is not sure (nesting deeper than 64, objects
// of more than 64 members, integers of more than 18 digits), and the caller then re-encodes.
func Canonical(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	end, ok := canonicalValue(raw, 0, 0)
	return ok && end == len(raw)
}

// canonicalValue checks the value at b[i] and returns the index just past it.
func canonicalValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '{':
		return canonicalObject(b, i, depth+1)
	case c == '[':
		return canonicalList(b, i, depth+1)
	case c == '"':
		return canonicalString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return canonicalNumber(b, i)
	}
	for _, word := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(b[i:], []byte(word)) {
			return i + len(word), true
		}
	}
	return 0, false
}

func canonicalObject(b []byte, i, depth int) (int, bool) {
	if depth > maxCanonicalNesting || i+1 >= len(b) || b[i+1] == '}' { // {} decodes to an empty PHP array: []
		return 0, false
	}
	var keysBuf [16][]byte
	keys := keysBuf[:0]
	for { // i is at '{' or ','
		end, ok := canonicalString(b, i+1)
		if !ok || end >= len(b) || b[end] != ':' {
			return 0, false
		}
		// Canonical escapes are one-to-one, so equal keys have equal bytes.
		key := b[i+2 : end-1]
		if integerKey(key) || len(keys) == maxCanonicalKeys {
			return 0, false
		}
		for _, k := range keys {
			if bytes.Equal(k, key) {
				return 0, false
			}
		}
		keys = append(keys, key)
		if i, ok = canonicalValue(b, end+1, depth); !ok || i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case '}':
			return i + 1, true
		case ',':
		default:
			return 0, false
		}
	}
}

func canonicalList(b []byte, i, depth int) (int, bool) {
	if depth > maxCanonicalNesting || i+1 >= len(b) {
		return 0, false
	}
	if b[i+1] == ']' {
		return i + 2, true
	}
	for {
		var ok bool
		if i, ok = canonicalValue(b, i+1, depth); !ok || i >= len(b) { // i+1: past '[' or ','
			return 0, false
		}
		switch b[i] {
		case ']':
			return i + 1, true
		case ',':
		default:
			return 0, false
		}
	}
}

// integerKey reports whether a key might be one PHP turns into an integer (an object of such keys can
// decode to a list): conservatively, any run of digits with an optional leading '-'.
func integerKey(k []byte) bool {
	k = bytes.TrimPrefix(k, []byte("-"))
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// canonicalNumber checks a number at b[i]: an integer without a leading zero, not -0, of at most 18 digits
// (so it fits an int64, and so does one more), or a float written as json_encode writes it back.
func canonicalNumber(b []byte, i int) (int, bool) {
	j := i
	if b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	digits := j - start
	if digits == 0 || b[start] == '0' && digits > 1 {
		return 0, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return canonicalFloat(b, i)
	}
	if digits > 18 || b[start] == '0' && start > i { // -0 decodes to 0
		return 0, false
	}
	return j, true
}

// canonicalFloat checks a float at b[i]: it is canonical when its re-encode gives the same bytes.
func canonicalFloat(b []byte, i int) (int, bool) {
	j := i + 1
	for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '-' || b[j] == '+') {
		j++
	}
	f, err := strconv.ParseFloat(string(b[i:j]), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	var buf [32]byte
	return j, bytes.Equal(appendFloat(buf[:0], f), b[i:j])
}

// shortEscapes maps the letter after a backslash to the byte it stands for.
var shortEscapes = [utf8.RuneSelf]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// canonicalString checks the string whose opening quote is b[i] and returns the index past its closing one.
func canonicalString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			return j + 1, true
		case c >= utf8.RuneSelf: // json_encode writes non-ASCII as \u escapes
			return 0, false
		case c != '\\':
			if asciiEscape[c] != 0 { // a byte json_encode escapes ('/', control characters)
				return 0, false
			}
		case j+1 >= len(b):
			return 0, false
		case b[j+1] == 'u':
			r, ok := lowerHex4(b[j+2:])
			// Below 0x20 only the characters without a short escape are written \u00xx; from 0x20 to 0x7f
			// none is. A character beyond U+FFFF is written as a surrogate pair; a lone surrogate decodes
			// to U+FFFD.
			if !ok || r < 0x20 && asciiEscape[r] != 'u' || r >= 0x20 && r < utf8.RuneSelf || r >= 0xdc00 && r <= 0xdfff {
				return 0, false
			}
			if r >= 0xd800 && r <= 0xdbff {
				if j+11 >= len(b) || b[j+6] != '\\' || b[j+7] != 'u' {
					return 0, false
				}
				if lo, ok := lowerHex4(b[j+8:]); !ok || lo < 0xdc00 || lo > 0xdfff {
					return 0, false
				}
				j += 6
			}
			j += 5
		default:
			e := b[j+1]
			if e >= utf8.RuneSelf || shortEscapes[e] == 0 || asciiEscape[shortEscapes[e]] != e {
				return 0, false
			}
			j++
		}
	}
	return 0, false
}

// lowerHex4 reads four lowercase hex digits, as json_encode writes them.
func lowerHex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
