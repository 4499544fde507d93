package phpjson

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Unmarshal decodes PHP-produced JSON into v like encoding/json, except that an empty list binds to a struct
// or map as an empty object: PHP writes an empty array as [] whatever it stood for.
//
// Unmarshal follows v's type down through pointers, struct fields (matched by json tag or name as
// encoding/json matches them, case-insensitively), maps, slices and arrays. A type implementing json.Unmarshaler
// gets its JSON with no [] rewritten (compacted, with object keys sorted, when something else in data had to be
// rewritten), and an interface target gets what encoding/json would give it ([]any for []).
// Errors are encoding/json's own, returned unwrapped, so callers can inspect them as they would
// json.Unmarshal's.
func Unmarshal(data []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || !json.Valid(data) {
		// encoding/json reports these without touching v.
		return json.Unmarshal(data, v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps every number's text, so re-marshalling changes none
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return err
	}
	tree, changed := fitEmpty(tree, t)
	if !changed {
		return json.Unmarshal(data, v)
	}
	// Re-marshal without HTML escaping, so that what reaches a json.Unmarshaler differs from data only in
	// whitespace and key order.
	var fixed bytes.Buffer
	enc := json.NewEncoder(&fixed)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return err
	}
	return json.Unmarshal(fixed.Bytes(), v)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// fitEmpty rewrites, in a tree decoded by encoding/json, each empty list whose target type is a struct or a map
// into an empty object, and reports whether it changed anything.
func fitEmpty(v any, t reflect.Type) (any, bool) {
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return v, false
		}
		t = t.Elem()
	}
	// encoding/json calls a pointer-receiver UnmarshalJSON on an addressable T too.
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return v, false
	}
	changed := false
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if l, ok := v.([]any); ok && len(l) == 0 {
			return map[string]any{}, true
		}
		obj, _ := v.(map[string]any)
		for k, x := range obj {
			var ft reflect.Type
			if t.Kind() == reflect.Map {
				ft = t.Elem()
			} else {
				ft = fieldType(t, k)
			}
			if ft == nil {
				continue // encoding/json drops an unknown key
			}
			if x, ok := fitEmpty(x, ft); ok {
				obj[k] = x
				changed = true
			}
		}
	case reflect.Slice, reflect.Array:
		l, _ := v.([]any)
		for i, x := range l {
			if x, ok := fitEmpty(x, t.Elem()); ok {
				l[i] = x
				changed = true
			}
		}
	}
	return v, changed
}
