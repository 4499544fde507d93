package phpjson

// obj builds a *Map from alternating keys and values.
func obj(kv ...any) *Map {
	m := &Map{}
	for i := 0; i < len(kv); i += 2 {
		m.Keys = append(m.Keys, kv[i].(string))
		m.Values = append(m.Values, kv[i+1])
	}
	return m
}

// list is shorthand for a []any literal.
func list(vs ...any) []any {
	if vs == nil {
		return []any{}
	}
	return vs
}
