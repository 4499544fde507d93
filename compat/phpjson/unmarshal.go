package phpjson

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Unmarshal decodes PHP-produced JSON into v like encoding/json, except that an empty list binds to a struct
// or map as an empty object: PHP writes an empty array as [] whatever it stood for.
//
// The result is json.Unmarshal's for data with each such [] written as {}: fields are matched by json tag
// or name as encoding/json matches them (case-insensitively), through pointers, struct fields, maps,
// slices and arrays, and an interface target gets what encoding/json would give it ([]any for []). A type
// implementing json.Unmarshaler gets its JSON with no [] rewritten; when something else in data had to be
// rewritten, that JSON comes compacted, with object keys sorted and HTML characters unescaped.
// Errors are encoding/json's own, returned unwrapped, so callers can inspect them as they would
// json.Unmarshal's.
//
// Unmarshal binds straight into v in one pass over data, after checking that data is valid JSON. Targets
// that reach a field with the ",string" option, a field promoted through an embedded pointer to an
// unexported struct, an encoding.TextUnmarshaler, a map keyed by one, a non-empty interface or an
// interface already holding a pointer, and any input that makes binding fail, go through encoding/json
// instead, which reports exactly what json.Unmarshal reports; what the first attempt stored stays where
// encoding/json stores the same, but an UnmarshalJSON may then run twice.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return json.Unmarshal(data, v) // json.InvalidUnmarshalError, as encoding/json reports it
	}
	p := planFor(rv.Type())
	if p.direct && Valid(data) {
		b := binder{data: data}
		if p.reachesUnmarshaler {
			b.remarshal = hasFlips(data, p)
		}
		if b.top(rv, p) == nil {
			return nil
		}
	}
	return unmarshalFitted(data, v)
}

// unmarshalFitted is Unmarshal by way of encoding/json: data with its edits made (see fit), then
// json.Unmarshal.
func unmarshalFitted(data []byte, v any) error {
	if !json.Valid(data) {
		return json.Unmarshal(data, v) // the syntax error, v untouched
	}
	f := newFit(data)
	f.walk(skipSpace(data, 0), reflect.TypeOf(v), true)
	if f.flips == 0 {
		return json.Unmarshal(data, v)
	}
	fixed, err := f.apply()
	if err != nil {
		return err
	}
	return json.Unmarshal(fixed, v)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// fit finds, in valid JSON, what Unmarshal changes before encoding/json binds it to a type: each empty list
// bound to a struct or map, which becomes {}, and, when there is one, each value a json.Unmarshaler
// receives, which becomes compacted with its keys sorted (as re-marshalling a decoded tree would make it).
type fit struct {
	data  []byte
	edits []edit // in the order of the data
	flips int    // how many edits are empty lists
}

// edit is one change: data[start:end] is an empty list to write as {}, or a json.Unmarshaler's JSON.
type edit struct {
	start, end int
	flip       bool
}

func newFit(data []byte) *fit { return &fit{data: data} }

// walk follows the value at data[i] into t as encoding/json binds it (fresh: t is a field, element or map
// value, whose address encoding/json takes to find an UnmarshalJSON method) and returns the index past it.
func (f *fit) walk(i int, t reflect.Type, fresh bool) int {
	end := valueEnd(f.data, i)
	if fresh && t.Kind() != reflect.Pointer && t.Name() != "" && reflect.PointerTo(t).Implements(unmarshalerType) {
		f.edits = append(f.edits, edit{start: i, end: end})
		return end
	}
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			f.edits = append(f.edits, edit{start: i, end: end})
			return end
		}
		t = t.Elem()
	}
	switch f.data[i] {
	case '[':
		switch t.Kind() {
		case reflect.Struct, reflect.Map:
			if j := skipSpace(f.data, i+1); f.data[j] == ']' {
				f.edits = append(f.edits, edit{start: i, end: end, flip: true})
				f.flips++
			}
		case reflect.Slice, reflect.Array:
			for j := skipSpace(f.data, i+1); f.data[j] != ']'; {
				j = skipSpace(f.data, f.walk(j, t.Elem(), true))
				if f.data[j] == ',' {
					j = skipSpace(f.data, j+1)
				}
			}
		}
	case '{':
		if t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
			break
		}
		var key []byte
		for j := skipSpace(f.data, i+1); f.data[j] != '}'; {
			keyEnd := stringEnd(f.data, j)
			key = appendUnquoted(key[:0], f.data[j+1:keyEnd-1])
			j = skipSpace(f.data, skipSpace(f.data, keyEnd)+1) // past ':'
			var vt reflect.Type
			if t.Kind() == reflect.Map {
				vt = t.Elem()
			} else {
				vt = fieldType(t, string(key))
			}
			if vt == nil {
				j = valueEnd(f.data, j) // encoding/json drops an unknown key
			} else {
				j = f.walk(j, vt, true)
			}
			if j = skipSpace(f.data, j); f.data[j] == ',' {
				j = skipSpace(f.data, j+1)
			}
		}
	}
	return end
}

// apply returns data with the edits made. A json.Unmarshaler's JSON is rewritten only along with an empty
// list, as Unmarshal documents.
func (f *fit) apply() ([]byte, error) {
	out := make([]byte, 0, len(f.data)+len(f.data)/8)
	last := 0
	for _, e := range f.edits {
		out = append(out, f.data[last:e.start]...)
		if e.flip {
			out = append(out, '{')
			out = append(out, f.data[e.start+1:e.end-1]...)
			out = append(out, '}')
		} else {
			fixed, err := remarshal(f.data[e.start:e.end])
			if err != nil {
				return nil, err
			}
			out = append(out, fixed...)
		}
		last = e.end
	}
	return append(out, f.data[last:]...), nil
}

// remarshal is raw decoded by encoding/json (numbers kept as their text) and encoded again without HTML
// escaping: compact, with object keys sorted.
func remarshal(raw []byte) ([]byte, error) {
	if sameRemarshalled(raw) {
		return raw, nil
	}
	return decodeEncode(raw)
}

// decodeEncode is remarshal the long way.
func decodeEncode(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// sameRemarshalled reports whether remarshal gives raw back unchanged, for the values that are cheap to
// tell: a number (kept as its text), true, false, null, and a string without escapes whose UTF-8 is valid
// and holds neither U+2028 nor U+2029 (which encoding/json escapes).
func sameRemarshalled(raw []byte) bool {
	switch raw[0] {
	case '{', '[':
		return false
	case '"':
		end, plain := scanString(raw, 0)
		return end == len(raw) && plain && !bytes.Contains(raw, []byte("\u2028")) && !bytes.Contains(raw, []byte("\u2029"))
	}
	return true
}
