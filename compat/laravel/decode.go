package laravel

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// DecodeCommand unserializes data.command (a plain "O:" command; decrypt an Encrypted one first) into v,
// which must be a non-nil pointer.
//
// Into a struct, each property of the job object, public, protected or private, fills the field named by
// a `php:"name"` tag, else the field whose name matches case-insensitively (`php:"-"` skips a field).
// Fields of embedded structs count as the outer struct's, so embedding Queueable picks up the job's
// queue, connection, delay and the rest. Properties without a field are ignored; fields without a
// property keep their value.
//
// Values convert as PHP holds them: null to a zero value (a nil pointer, slice, map or interface); bool,
// integers and floats to the matching kinds (an integer into a float too, a float into an integer only
// when it has no fraction); strings to string or []byte; arrays to slices (keys 0..n-1), maps with string
// or integer keys, or structs (by key, as for objects, and an empty array to a zero struct); objects to
// structs or maps; a ModelIdentifier object to ModelIdentifier; an enum case to Enum. An interface field
// gets the generic value (see Unserialize); so does v itself when it is a *any. Any other mismatch is an
// error naming the property path.
func DecodeCommand(command string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("laravel: decode command: need a non-nil pointer, got %T", v)
	}
	if !strings.HasPrefix(command, "O:") {
		return errors.New("laravel: decode command: not a serialized object (encrypted?)")
	}
	generic, err := Unserialize(command)
	if err != nil {
		return fmt.Errorf("laravel: decode command: %w", err)
	}
	if err := bindValue(generic, rv.Elem(), ""); err != nil {
		return fmt.Errorf("laravel: decode command: %w", err)
	}
	return nil
}

var (
	objectType = reflect.TypeFor[Object]()
	modelType  = reflect.TypeFor[ModelIdentifier]()
	enumType   = reflect.TypeFor[Enum]()
	customType = reflect.TypeFor[Custom]()
	mapType    = reflect.TypeFor[phpjson.Map]()
)

// bindValue stores the generic PHP value src into dst; path names dst in errors.
func bindValue(src any, dst reflect.Value, path string) error {
	mismatch := func() error {
		where := path
		if where == "" {
			where = "value"
		}
		return fmt.Errorf("%s: cannot store %s in %s", where, phpKind(src), dst.Type())
	}
	if dst.Kind() == reflect.Interface {
		if src == nil {
			dst.SetZero()
			return nil
		}
		sv := reflect.ValueOf(src)
		if !sv.Type().AssignableTo(dst.Type()) {
			return mismatch()
		}
		dst.Set(sv)
		return nil
	}
	if dst.Kind() == reflect.Pointer {
		if src == nil {
			dst.SetZero()
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return bindValue(src, dst.Elem(), path)
	}
	if src == nil {
		dst.SetZero()
		return nil
	}
	// The package's own types take their generic form as is.
	switch dst.Type() {
	case objectType, modelType, enumType, customType, mapType:
		if list, ok := src.([]any); ok && dst.Type() == mapType {
			keys := make([]string, len(list))
			for i := range list {
				keys[i] = strconv.Itoa(i)
			}
			src = &phpjson.Map{Keys: keys, Values: list}
		}
		sv := reflect.ValueOf(src)
		if sv.Kind() == reflect.Pointer && sv.Type().Elem() == dst.Type() {
			sv = sv.Elem()
		}
		if sv.Type() != dst.Type() {
			return mismatch()
		}
		dst.Set(sv)
		return nil
	}
	switch s := src.(type) {
	case bool:
		if dst.Kind() != reflect.Bool {
			return mismatch()
		}
		dst.SetBool(s)
	case int64:
		switch {
		case dst.CanInt():
			if dst.OverflowInt(s) {
				return fmt.Errorf("%s: %d overflows %s", path, s, dst.Type())
			}
			dst.SetInt(s)
		case dst.CanUint():
			if s < 0 || dst.OverflowUint(uint64(s)) {
				return fmt.Errorf("%s: %d overflows %s", path, s, dst.Type())
			}
			dst.SetUint(uint64(s))
		case dst.CanFloat():
			dst.SetFloat(float64(s))
		default:
			return mismatch()
		}
	case float64:
		switch {
		case dst.CanFloat():
			dst.SetFloat(s)
		case (dst.CanInt() || dst.CanUint()) && s == math.Trunc(s) && s >= math.MinInt64 && s < math.MaxInt64:
			return bindValue(int64(s), dst, path)
		default:
			return mismatch()
		}
	case string:
		switch {
		case dst.Kind() == reflect.String:
			dst.SetString(s)
		case dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.Uint8:
			dst.SetBytes([]byte(s))
		default:
			return mismatch()
		}
	case []any:
		return bindList(s, dst, path, mismatch)
	case *phpjson.Map:
		return bindKeyed(s.Keys, s.Values, dst, path, mismatch)
	case *Object:
		keys, values := make([]string, len(s.Props)), make([]any, len(s.Props))
		for i, p := range s.Props {
			keys[i], values[i] = p.Name, p.Value
		}
		return bindKeyed(keys, values, dst, path, mismatch)
	default:
		return mismatch()
	}
	return nil
}

// bindList stores a PHP list (keys 0..n-1) in a slice, array, map or struct.
func bindList(list []any, dst reflect.Value, path string, mismatch func() error) error {
	switch dst.Kind() {
	case reflect.Slice:
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, e := range list {
			if err := bindValue(e, out.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.Array:
		if len(list) > dst.Len() {
			return fmt.Errorf("%s: %d elements do not fit in %s", path, len(list), dst.Type())
		}
		dst.SetZero()
		for i, e := range list {
			if err := bindValue(e, dst.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map, reflect.Struct:
		keys := make([]string, len(list))
		for i := range list {
			keys[i] = strconv.Itoa(i)
		}
		return bindKeyed(keys, list, dst, path, mismatch)
	}
	return mismatch()
}

// bindKeyed stores named members (array keys or property names) in a map or struct.
func bindKeyed(keys []string, values []any, dst reflect.Value, path string, mismatch func() error) error {
	switch dst.Kind() {
	case reflect.Map:
		kt := dst.Type().Key()
		if kt.Kind() != reflect.String && !isIntKind(kt.Kind()) {
			return mismatch()
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(keys))
		for i, k := range keys {
			kv := reflect.New(kt).Elem()
			if kt.Kind() == reflect.String {
				kv.SetString(k)
			} else {
				n, err := strconv.ParseInt(k, 10, 64)
				if err != nil || kv.OverflowInt(n) {
					return fmt.Errorf("%s: key %q is not a %s", path, k, kt)
				}
				kv.SetInt(n)
			}
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := bindValue(values[i], ev, join(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(kv, ev)
		}
		dst.Set(out)
		return nil
	case reflect.Struct:
		fields := structFields(dst.Type())
		for i, k := range keys {
			f, ok := fields.find(k)
			if !ok {
				continue
			}
			fv, err := fieldByIndex(dst, f.index)
			if err != nil {
				return fmt.Errorf("%s: %w", join(path, k), err)
			}
			if err := bindValue(values[i], fv, join(path, k)); err != nil {
				return err
			}
		}
		return nil
	}
	return mismatch()
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// fieldByIndex is reflect.Value.FieldByIndex, allocating nil embedded struct pointers on the way.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, fmt.Errorf("cannot set embedded pointer to unexported %s", v.Type().Elem())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}

// phpKind names a generic value's PHP type for errors.
func phpKind(v any) string {
	switch v := v.(type) {
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "string"
	case []any, *phpjson.Map:
		return "array"
	case *Object:
		return "object " + v.Class
	case ModelIdentifier:
		return "ModelIdentifier"
	case Enum:
		return "enum " + v.Class
	case Custom:
		return "object " + v.Class
	}
	return fmt.Sprintf("%T", v)
}

// field is a settable struct field (promoted ones included) and the name a property must have.
type field struct {
	name  string
	tag   bool // name comes from a php tag: matched exactly before case-insensitive names
	index []int
}

type fieldList []field

// find returns the field for a property: an exact tag or field name first, else a case-insensitive one.
func (l fieldList) find(name string) (field, bool) {
	for _, f := range l {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range l {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return field{}, false
}

var fieldCache sync.Map // reflect.Type → fieldList

// structFields lists t's settable fields, outer ones shadowing promoted ones of the same name, as Go's
// selector rules (and encoding/json) do.
func structFields(t reflect.Type) fieldList {
	if l, ok := fieldCache.Load(t); ok {
		return l.(fieldList)
	}
	var out fieldList
	seen := map[string]bool{}
	type level struct {
		t     reflect.Type
		index []int
	}
	current := []level{{t: t}}
	visited := map[reflect.Type]bool{}
	for len(current) > 0 {
		var next []level
		var found []field
		for _, lv := range current {
			if visited[lv.t] {
				continue
			}
			visited[lv.t] = true
			for i := range lv.t.NumField() {
				sf := lv.t.Field(i)
				index := append(append([]int(nil), lv.index...), i)
				tag := sf.Tag.Get("php")
				if tag == "-" {
					continue
				}
				if sf.Anonymous && tag == "" {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct && ft != objectType && ft != modelType && ft != enumType {
						next = append(next, level{t: ft, index: index})
						continue
					}
				}
				if !sf.IsExported() {
					continue
				}
				name := sf.Name
				if tag != "" {
					name = tag
				}
				found = append(found, field{name: name, tag: tag != "", index: index})
			}
		}
		for _, f := range found {
			if !seen[f.name] {
				out = append(out, f)
			}
		}
		for _, f := range found {
			seen[f.name] = true
		}
		current = next
	}
	// Tagged names first, so an exact tag wins over another field's case-insensitive name.
	sorted := make(fieldList, 0, len(out))
	for _, f := range out {
		if f.tag {
			sorted = append(sorted, f)
		}
	}
	for _, f := range out {
		if !f.tag {
			sorted = append(sorted, f)
		}
	}
	fieldCache.Store(t, sorted)
	return sorted
}
