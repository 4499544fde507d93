package phpjson

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDecodeNesting is the deepest nesting of objects and lists json_decode accepts with its default depth of
// 512: PHP counts the value inside the innermost container as a level too, so 512 nested lists already fail.
const maxDecodeNesting = 511

// indexFrom is the object size from which decoding keeps a key index for duplicate keys; below it a linear
// search is cheaper than building a Go map.
const indexFrom = 16

// Decode parses JSON keeping objects ({} included) as *Map and arrays as []any; strings become string, true
// and false bool, null nil, and numbers int64 when PHP would make an int (an integer literal that fits int64),
// else float64 (a literal too large for float64 becomes ±Inf, as in PHP). A key seen twice keeps its first
// position and takes its last value, as a PHP array does.
//
// Whatever json_decode rejects is an error: invalid JSON, trailing data, malformed UTF-8, control characters
// inside strings, unpaired UTF-16 surrogate escapes and nesting deeper than 511.
func Decode(data []byte) (any, error) {
	v, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("phpjson: decode: %w", err)
	}
	return v, nil
}

// decode is Decode with errors left for the caller to put in context.
func decode(data []byte) (any, error) {
	d := decoder{data: data, keys: make([]string, 0, 16), vals: make([]any, 0, 32)}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.errorf("unexpected %q after top-level value", d.data[d.pos])
	}
	return v, nil
}

// decoder is a recursive-descent parser over the whole input; recursion is bounded by maxDecodeNesting.
type decoder struct {
	data  []byte
	pos   int
	depth int
	// keys and vals are stacks holding the members of the containers being parsed, innermost last; each
	// container is copied out at its end in one exact-size allocation instead of growing its own slices.
	keys []string
	vals []any
	// str is scratch space for strings that need unescaping.
	str []byte
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.list()
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errorf("unexpected %q", c)
	}
}

func (d *decoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return d.errorf("invalid literal, want %s", word)
	}
	d.pos += len(word)
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDecodeNesting {
		return d.errorf("nesting deeper than %d", maxDecodeNesting)
	}
	d.pos++ // the opening bracket
	return nil
}

// closeOrComma consumes the ',' or closing bracket after an element and reports whether the container ended.
func (d *decoder) closeOrComma(closing byte) (bool, error) {
	d.skipSpace()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return false, nil
		case closing:
			d.pos++
			d.depth--
			return true, nil
		}
	}
	return false, d.errorf("expected ',' or %q", closing)
}

func (d *decoder) list() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	base := len(d.vals)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
		if done, err := d.closeOrComma(']'); err != nil {
			return nil, err
		} else if done {
			l := slices.Clone(d.vals[base:])
			d.vals = d.vals[:base]
			return l, nil
		}
	}
}

func (d *decoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return &Map{}, nil
	}
	kbase, vbase := len(d.keys), len(d.vals)
	var index map[string]int // key → position, once the object has indexFrom keys
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expected string key")
		}
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':'")
		}
		d.pos++
		v, err := d.value()
		if err != nil {
			return nil, err
		}

		keys := d.keys[kbase:]
		if i := keyIndex(keys, index, key); i >= 0 {
			d.vals[vbase+i] = v // as in a PHP array: a repeated key keeps its first position, takes the last value
		} else {
			if index == nil && len(keys) == indexFrom-1 {
				index = make(map[string]int, 2*indexFrom)
				for i, k := range keys {
					index[k] = i
				}
			}
			if index != nil {
				index[key] = len(keys)
			}
			d.keys = append(d.keys, key)
			d.vals = append(d.vals, v)
		}
		if done, err := d.closeOrComma('}'); err != nil {
			return nil, err
		} else if done {
			m := &Map{Keys: slices.Clone(d.keys[kbase:]), Values: slices.Clone(d.vals[vbase:])}
			d.keys, d.vals = d.keys[:kbase], d.vals[:vbase]
			return m, nil
		}
	}
}

// keyIndex returns the position of key among an object's keys, or -1, looking it up in index if there is one.
func keyIndex(keys []string, index map[string]int, key string) int {
	if index == nil {
		return slices.Index(keys, key)
	}
	if i, ok := index[key]; ok {
		return i
	}
	return -1
}

// string decodes the string starting at the opening quote. Plain ASCII without escapes, the common case, is
// sliced out in one go.
func (d *decoder) string() (string, error) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return string(d.data[start:i]), nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			d.pos = i
			return d.slowString(append(d.str[:0], d.data[start:i]...))
		}
	}
	d.pos = len(d.data)
	return "", d.errorf("unterminated string")
}

// slowString continues a string at d.pos with buf holding what came before.
func (d *decoder) slowString(buf []byte) (string, error) {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.str = buf
			return string(buf), nil
		case c == '\\':
			var err error
			if buf, err = d.escape(buf); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", d.errorf("control character %q in string", c)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", d.errorf("malformed UTF-8 in string")
			}
			buf = append(buf, d.data[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
	return "", d.errorf("unterminated string")
}

// escape decodes the escape sequence at d.pos (the backslash) onto buf.
func (d *decoder) escape(buf []byte) ([]byte, error) {
	if d.pos+1 >= len(d.data) {
		return nil, d.errorf("unterminated string")
	}
	c := d.data[d.pos+1]
	if c != 'u' {
		d.pos += 2
		switch c {
		case '"', '\\', '/':
			return append(buf, c), nil
		case 'b':
			return append(buf, '\b'), nil
		case 'f':
			return append(buf, '\f'), nil
		case 'n':
			return append(buf, '\n'), nil
		case 'r':
			return append(buf, '\r'), nil
		case 't':
			return append(buf, '\t'), nil
		}
		d.pos -= 2
		return nil, d.errorf("invalid escape \\%c", c)
	}
	r, err := d.hex4()
	if err != nil {
		return nil, err
	}
	if utf16.IsSurrogate(r) {
		// Only a high surrogate directly followed by a low one is a character; PHP rejects anything else.
		at := d.pos - 6
		lo, err := d.hex4()
		if r >= 0xdc00 || err != nil || lo < 0xdc00 || lo > 0xdfff {
			d.pos = at
			return nil, d.errorf("single unpaired UTF-16 surrogate in unicode escape")
		}
		r = utf16.DecodeRune(r, lo)
	}
	return utf8.AppendRune(buf, r), nil
}

// hex4 reads a \uXXXX escape at d.pos.
func (d *decoder) hex4() (rune, error) {
	if d.pos+6 > len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
		return 0, d.errorf("invalid \\u escape")
	}
	var r rune
	for _, c := range d.data[d.pos+2 : d.pos+6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, d.errorf("invalid \\u escape")
		}
		r = r<<4 | rune(c)
	}
	d.pos += 6
	return r, nil
}

// number reads a JSON number. PHP's scanner makes an int of any integer literal that fits a 64-bit long and a
// double of everything else.
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case !d.digits():
		return nil, d.errorf("invalid number")
	}
	isInt := true
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if !d.digits() {
			return nil, d.errorf("invalid number")
		}
		isInt = false
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if !d.digits() {
			return nil, d.errorf("invalid number")
		}
		isInt = false
	}
	lit := d.data[start:d.pos]
	if isInt {
		if n, ok := parseInt(lit); ok {
			return n, nil
		}
	}
	// The grammar is checked, so the only error left is ErrRange, and PHP's zend_strtod gives ±Inf or ±0 there
	// as ParseFloat does.
	f, _ := strconv.ParseFloat(string(lit), 64)
	return f, nil
}

// digits consumes one or more decimal digits and reports whether there was any.
func (d *decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// parseInt parses a grammar-checked integer literal, reporting false when it does not fit int64.
func parseInt(lit []byte) (int64, bool) {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	if len(lit) > 19 { // 19 digits always fit a uint64
		return 0, false
	}
	var u uint64
	for _, c := range lit {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > math.MaxInt64+1 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
