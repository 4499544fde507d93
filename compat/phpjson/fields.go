package phpjson

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// structField is a struct field encoding/json binds an object key to.
type structField struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
}

var fieldCache sync.Map // reflect.Type → []structField

// fieldType returns the type of the field of struct type t that encoding/json fills from key: the field whose
// name is key, else the first whose name equals key case-insensitively; nil if none.
func fieldType(t reflect.Type, key string) reflect.Type {
	cached, ok := fieldCache.Load(t)
	if !ok {
		cached, _ = fieldCache.LoadOrStore(t, typeFields(t))
	}
	fields := cached.([]structField)
	for _, f := range fields {
		if f.name == key {
			return f.typ
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f.typ
		}
	}
	return nil
}

// typeFields lists the fields of struct type t as encoding/json's typeFields does: exported fields named by
// their json tag or Go name, fields of embedded structs promoted, and of several fields with one name only the
// shallowest kept, a tagged one winning a tie and an untagged tie hiding them all. The result is in field order.
func typeFields(t reflect.Type) []structField {
	type embedded struct {
		typ   reflect.Type
		index []int
	}
	var fields []structField
	visited := map[reflect.Type]bool{}
	next := []embedded{{typ: t}}
	var count, nextCount map[reflect.Type]int
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, e := range current {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				// An unexported embedded struct still promotes its exported fields.
				if !sf.IsExported() && (!sf.Anonymous || ft.Kind() != reflect.Struct) {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(e.index), i)
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := structField{name: cmp.Or(name, sf.Name), tagged: name != "", index: index, typ: sf.Type}
					fields = append(fields, f)
					if count[e.typ] > 1 {
						// The struct is embedded twice at this depth: a second copy makes its fields clash below.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, embedded{typ: ft, index: index})
				}
			}
		}
	}

	slices.SortFunc(fields, func(a, b structField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		// fields[i] dominates its namesakes unless the next one is as shallow and as tagged.
		if j == i+1 || len(fields[i+1].index) != len(fields[i].index) || fields[i+1].tagged != fields[i].tagged {
			out = append(out, fields[i])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	return out
}

// validTagName reports whether encoding/json accepts name from a json tag; it ignores any other.
func validTagName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}
