package phpjson

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxEncodeNesting is json_encode's default depth: unlike json_decode, it allows 512 nested arrays.
const maxEncodeNesting = 512

// Encode writes v as PHP's json_encode($v) with no flags.
//
// v may hold nil, bool, string, any integer kind, float64, json.Number, []any, *Map and map[string]any, nested
// in any way. Encode writes what it is given: a *Map is an object in its key order even when PHP would hold it
// as a list (use [Assoc] or [Normalize] for that), a nil *Map is null, and a nil or empty []any is []. A
// map[string]any has no order, so its keys are written sorted, as PHP's ksort() would with string keys. An
// unsigned integer beyond int64 is written as the float PHP's integer overflow would make of it, and a
// json.Number as PHP would re-encode the number it reads from it. Other types are an error; convert Go values
// with [FromGo] first.
//
// Like json_encode, Encode fails on malformed UTF-8 in a string or key, on NaN and ±Inf, and on nesting
// deeper than 512.
func Encode(v any) ([]byte, error) {
	e := encoder{}
	if err := e.value(v); err != nil {
		return nil, fmt.Errorf("phpjson: encode: %w", err)
	}
	return e.buf, nil
}

// EncodeUnescapedUnicode writes v as PHP's json_encode($v, JSON_UNESCAPED_UNICODE), the flag Laravel encodes its
// queue payloads with. It differs from [Encode] only in strings: every non-ASCII character is written as raw
// UTF-8, except U+2028 and U+2029, which PHP keeps escaped as \u2028 and \u2029 (it writes them raw only with
// JSON_UNESCAPED_LINE_TERMINATORS). "/" is still "\/", control characters are still \b \f \n \r \t or \u00XX,
// and floats, accepted types and errors are those of Encode.
func EncodeUnescapedUnicode(v any) ([]byte, error) {
	e := encoder{unescapedUnicode: true}
	if err := e.value(v); err != nil {
		return nil, fmt.Errorf("phpjson: encode: %w", err)
	}
	return e.buf, nil
}

// Normalize is json_encode(json_decode($data, true)): the bytes PHP writes back after reading data.
func Normalize(data []byte) ([]byte, error) {
	v, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("phpjson: normalize: decode: %w", err)
	}
	// Encoding with assoc set is Encode(Assoc(v)) without copying the tree.
	e := encoder{buf: make([]byte, 0, len(data)+len(data)/8), assoc: true}
	if err := e.value(v); err != nil {
		return nil, fmt.Errorf("phpjson: normalize: encode: %w", err)
	}
	return e.buf, nil
}

type encoder struct {
	buf   []byte
	depth int
	// assoc writes each *Map as PHP holds it after json_decode($s, true), a list where Assoc would make one.
	assoc bool
	// unescapedUnicode writes non-ASCII characters raw, as JSON_UNESCAPED_UNICODE does.
	unescapedUnicode bool
}

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case string:
		return e.string(v)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case uint:
		return e.uint(uint64(v))
	case uint8:
		return e.uint(uint64(v))
	case uint16:
		return e.uint(uint64(v))
	case uint32:
		return e.uint(uint64(v))
	case uint64:
		return e.uint(v)
	case float64:
		return e.float(v)
	case json.Number:
		return e.number(v)
	case []any:
		return e.list(v)
	case *Map:
		return e.object(v)
	case map[string]any:
		return e.goMap(v)
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

func (e *encoder) uint(u uint64) error {
	if u > math.MaxInt64 {
		return e.float(float64(u))
	}
	e.buf = strconv.AppendUint(e.buf, u, 10)
	return nil
}

func (e *encoder) float(f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("float %v cannot be JSON encoded", f)
	}
	e.buf = appendFloat(e.buf, f)
	return nil
}

// number writes a json.Number as PHP would after decoding it: 1.0 becomes 1, 1e2 becomes 100.
func (e *encoder) number(n json.Number) error {
	d := decoder{data: []byte(n)}
	if len(d.data) > 0 {
		if v, err := d.number(); err == nil && d.pos == len(d.data) {
			return e.value(v)
		}
	}
	return fmt.Errorf("invalid json.Number %q", string(n))
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > maxEncodeNesting {
		return fmt.Errorf("nesting deeper than %d", maxEncodeNesting)
	}
	return nil
}

func (e *encoder) list(l []any) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '[')
	for i, v := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	e.depth--
	return nil
}

func (e *encoder) object(m *Map) error {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if err := m.errLengths(); err != nil {
		return err
	}
	if e.assoc && m.isList() {
		return e.list(m.Values)
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	for i, k := range m.Keys {
		if err := e.member(i, k, m.Values[i]); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	e.depth--
	return nil
}

func (e *encoder) goMap(m map[string]any) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if err := e.member(i, k, m[k]); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	e.depth--
	return nil
}

// member writes the i-th "key":value pair of an object.
func (e *encoder) member(i int, k string, v any) error {
	if i > 0 {
		e.buf = append(e.buf, ',')
	}
	if err := e.string(k); err != nil {
		return err
	}
	e.buf = append(e.buf, ':')
	return e.value(v)
}

const hexDigits = "0123456789abcdef"

// asciiEscape holds, for each ASCII byte json_encode escapes, the character after the backslash: a short
// escape letter, or 'u' for \u00XX.
var asciiEscape = [utf8.RuneSelf]byte{
	'"': '"', '\\': '\\', '/': '/',
	'\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't',
	0x00: 'u', 0x01: 'u', 0x02: 'u', 0x03: 'u', 0x04: 'u', 0x05: 'u', 0x06: 'u', 0x07: 'u',
	0x0b: 'u', 0x0e: 'u', 0x0f: 'u', 0x10: 'u', 0x11: 'u', 0x12: 'u', 0x13: 'u', 0x14: 'u', 0x15: 'u',
	0x16: 'u', 0x17: 'u', 0x18: 'u', 0x19: 'u', 0x1a: 'u', 0x1b: 'u', 0x1c: 'u', 0x1d: 'u', 0x1e: 'u', 0x1f: 'u',
}

// string writes s quoted as json_encode does with no flags: '/' and every non-ASCII character escaped (in
// lowercase hex, astral characters as surrogate pairs), DEL and <>&' left raw. With unescapedUnicode
// (JSON_UNESCAPED_UNICODE) non-ASCII characters other than U+2028 and U+2029 stay raw.
func (e *encoder) string(s string) error {
	e.buf = append(e.buf, '"')
	start := 0 // s[start:i] is pending plain text
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			esc := asciiEscape[c]
			i++
			if esc == 0 {
				continue
			}
			e.buf = append(e.buf, s[start:i-1]...)
			if esc == 'u' {
				e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				e.buf = append(e.buf, '\\', esc)
			}
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("malformed UTF-8 at byte %d of string", i)
		}
		if e.unescapedUnicode && r != '\u2028' && r != '\u2029' {
			i += size
			continue // stays pending as plain text
		}
		e.buf = append(e.buf, s[start:i]...)
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			e.appendU(hi)
			r = lo
		}
		e.appendU(r)
		i += size
		start = i
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
	return nil
}

func (e *encoder) appendU(r rune) {
	e.buf = append(e.buf, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
