package phpjson

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Assoc converts a Decode result into what PHP's json_decode($s, true) holds: objects become arrays, so an
// empty object and an object keyed "0".."n-1" in order become lists ([]any); every other object stays a *Map.
// It works recursively and returns new containers, leaving v as it was.
//
// PHP turns a key into an integer only when it is an integer's canonical decimal form, so "01", "-0", "+1" and
// " 1" stay string keys and never make a list, and no two distinct JSON keys can merge into one PHP key.
func Assoc(v any) any {
	switch v := v.(type) {
	case *Map:
		if v == nil {
			return v
		}
		if v.isList() {
			return assocAll(v.Values)
		}
		return &Map{Keys: slices.Clone(v.Keys), Values: assocAll(v.Values)}
	case []any:
		return assocAll(v)
	default:
		return v
	}
}

func assocAll(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = Assoc(v)
	}
	return out
}

// FromGo converts any Go value to what PHP would hold after json_decode(json_encode-of-it, true): it marshals v
// with encoding/json (struct tags, MarshalJSON and all), decodes the result with [Decode] and applies [Assoc].
// So a struct becomes a *Map in field order, a *Map keeps its order (see [Map.MarshalJSON]), an empty Go map
// or struct becomes an empty list, and a float64 with no fraction an int64, because Go writes 2.0 as 2. Invalid UTF-8 in Go strings becomes U+FFFD, as encoding/json
// makes it, where PHP would fail.
func FromGo(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("phpjson: from go: %w", err)
	}
	d, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("phpjson: from go: %w", err)
	}
	return Assoc(d), nil
}
