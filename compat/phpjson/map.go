package phpjson

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Map is a JSON object (PHP associative array) with its key order kept. Keys and Values have the same length;
// Keys[i] names Values[i]. Keys are the strings written in the JSON: PHP's integer keys are their decimal form.
type Map struct {
	Keys   []string
	Values []any
}

// Get returns the value under key. It searches linearly: payload objects are small, and a Map carries no
// index so that it stays a plain, comparable pair of slices.
func (m *Map) Get(key string) (any, bool) {
	if i := m.find(key); i >= 0 {
		return m.Values[i], true
	}
	return nil, false
}

// Set replaces the value under key in place, or appends key at the end, as PHP's $a[$key] = $v does.
//
// Matching the key string exactly is what PHP does too: PHP turns a key into an integer only when it is the
// integer's canonical decimal form ("12", not "012" or "+12"), so two different strings never meet as one key.
func (m *Map) Set(key string, v any) {
	if i := m.find(key); i >= 0 {
		m.Values[i] = v
		return
	}
	m.Keys = append(m.Keys, key)
	m.Values = append(m.Values, v)
}

// MarshalJSON writes m as a JSON object in key order, so that encoding/json, and with it [FromGo], treats a Map
// nested in any Go value as the object it stands for rather than as a struct with Keys and Values fields.
func (m Map) MarshalJSON() ([]byte, error) {
	if err := m.errLengths(); err != nil {
		return nil, err
	}
	buf := []byte{'{'}
	for i, k := range m.Keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, fmt.Errorf("phpjson: marshal key %q: %w", k, err)
		}
		val, err := json.Marshal(m.Values[i])
		if err != nil {
			return nil, fmt.Errorf("phpjson: marshal value of %q: %w", k, err)
		}
		buf = append(append(append(buf, key...), ':'), val...)
	}
	return append(buf, '}'), nil
}

// errLengths reports a Map whose Keys and Values differ in length, which nothing but a hand-made Map has.
func (m *Map) errLengths() error {
	if len(m.Keys) != len(m.Values) {
		return fmt.Errorf("phpjson: a Map with %d keys and %d values", len(m.Keys), len(m.Values))
	}
	return nil
}

func (m *Map) find(key string) int {
	for i, k := range m.Keys {
		if k == key {
			return i
		}
	}
	return -1
}

// isList reports whether PHP holds m as a list: its keys are "0", "1", ... in order, or it has none. Such an
// array is what json_encode writes as [...].
func (m *Map) isList() bool {
	var buf [20]byte
	for i, k := range m.Keys {
		if string(strconv.AppendInt(buf[:0], int64(i), 10)) != k {
			return false
		}
	}
	return true
}
