package laravel

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// Visibility is a PHP property's visibility, which serialize() encodes in the property name: protected
// names are "\0*\0name" and private ones "\0Class\0name".
type Visibility int

// The visibilities.
const (
	Public Visibility = iota
	Protected
	Private
)

// Prop is one property of a PHP object. Objects list their properties in the order serialize() writes
// them: inherited declarations first, then the class's own, then those of its traits in `use` order. A
// class using SerializesModels serializes through ReflectionClass::getProperties() instead (PHP 8.2 lists
// own declarations, then inherited ones, then the traits'); the two agree for a class without a parent.
type Prop struct {
	// Name is the bare property name, without visibility markers.
	Name string
	// Visibility is the property's visibility.
	Visibility Visibility
	// Class is the class that declares a Private property; empty means the object's own class. It is
	// ignored for other visibilities.
	Class string
	// Value is the property's value: nil, bool, any Go integer kind, float64, float32, string, []any,
	// []string, []int, []int64, *phpjson.Map (a PHP array in key order; keys that are canonical decimal
	// integers become integer keys, as in PHP), map[string]any (keys sorted), Object, Enum,
	// ModelIdentifier or Custom, nested in any way (pointers to the struct types too).
	Value any
	// Default reports that Value is still the property's declared default (PHP's ===), which
	// SerializesModels leaves out of the serialized job since Laravel 9.4. Serializing ignores it
	// otherwise; Unserialize never sets it.
	Default bool
}

// key returns the property name as serialize() writes it.
func (p Prop) key(class string) string {
	switch p.Visibility {
	case Protected:
		return "\x00*\x00" + p.Name
	case Private:
		if p.Class != "" {
			class = p.Class
		}
		return "\x00" + class + "\x00" + p.Name
	}
	return p.Name
}

// Object is a PHP object: O:<len>:"<Class>":<count>:{<props>}.
type Object struct {
	Class string
	Props []Prop
}

// Prop returns the first property called name, whatever its visibility.
func (o *Object) Prop(name string) (Prop, bool) {
	for _, p := range o.Props {
		if p.Name == name {
			return p, true
		}
	}
	return Prop{}, false
}

// Enum is a PHP 8.1 enum case: E:<len>:"<Class>:<Case>";.
type Enum struct {
	Class string
	Case  string
}

// Custom is an object of a class implementing Serializable: C:<len>:"<Class>":<len>:{<Data>}. Data is the
// class's own serialized form.
type Custom struct {
	Class string
	Data  string
}

// ModelIdentifierClass is the class SerializesModels puts in place of each Eloquent model or collection.
const ModelIdentifierClass = `Illuminate\Contracts\Database\ModelIdentifier`

// ModelIdentifier is what SerializesModels stores for an Eloquent model (ID is its key) or collection (ID
// is a []any of keys). Laravel 8 serializes the properties class, id, relations and connection; 9.26+ adds
// collectionClass. Connection and CollectionClass are "" for PHP's null.
type ModelIdentifier struct {
	Class           string
	ID              any
	Relations       []string
	Connection      string
	CollectionClass string
}

// Unserialize parses a PHP serialize() string, as data.command holds it, into generic values: nil, bool,
// int64, float64 (INF, -INF and NAN too), string (PHP strings are bytes, so not necessarily UTF-8), []any for
// an array keyed 0..n-1 in order (a:0:{} included), *phpjson.Map for any other array (integer keys in
// decimal), *Object, Enum and Custom; a ModelIdentifier object comes back as a ModelIdentifier.
// Serializing these values again (as Prop values) gives the same bytes. References (r:, R:) yield the
// value they point to, and null when that is an array or object still being read, so the result never
// holds a cycle; bytes after the value are ignored, as PHP 8.2's unserialize() ignores them.
//
// Since references repeat a value without repeating its text, a value is refused when, with every
// reference expanded, it would nest deeper than 512 or hold more than four values per byte of s: no
// job's command comes near that, and whatever walks the result stays bounded by the size of s.
func Unserialize(s string) (any, error) {
	u := unserializer{s: s, maxValues: 4*len(s) + 64}
	v, _, err := u.value(0)
	if err != nil {
		return nil, fmt.Errorf("laravel: unserialize: %w", err)
	}
	return v, nil
}

// serializer writes values as PHP's serialize() for one dialect (ModelIdentifier differs by version).
type serializer struct {
	d   Dialect
	buf []byte
}

// maxNesting bounds recursion in both directions; PHP has no such limit, but no job nests this deep.
const maxNesting = 512

func (w *serializer) value(v any, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("nesting deeper than %d", maxNesting)
	}
	switch v := v.(type) {
	case nil:
		w.buf = append(w.buf, "N;"...)
	case bool:
		if v {
			w.buf = append(w.buf, "b:1;"...)
		} else {
			w.buf = append(w.buf, "b:0;"...)
		}
	case int:
		w.int(int64(v))
	case int8:
		w.int(int64(v))
	case int16:
		w.int(int64(v))
	case int32:
		w.int(int64(v))
	case int64:
		w.int(v)
	case uint:
		w.uint(uint64(v))
	case uint8:
		w.uint(uint64(v))
	case uint16:
		w.uint(uint64(v))
	case uint32:
		w.uint(uint64(v))
	case uint64:
		w.uint(v)
	case float32:
		w.float(float64(v))
	case float64:
		w.float(v)
	case string:
		w.string(v)
	case []any:
		w.arrayHeader(len(v))
		for i, e := range v {
			w.int(int64(i))
			if err := w.value(e, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	case []string:
		w.arrayHeader(len(v))
		for i, e := range v {
			w.int(int64(i))
			w.string(e)
		}
		w.buf = append(w.buf, '}')
	case []int:
		w.arrayHeader(len(v))
		for i, e := range v {
			w.int(int64(i))
			w.int(int64(e))
		}
		w.buf = append(w.buf, '}')
	case []int64:
		w.arrayHeader(len(v))
		for i, e := range v {
			w.int(int64(i))
			w.int(e)
		}
		w.buf = append(w.buf, '}')
	case *phpjson.Map:
		if v == nil {
			w.buf = append(w.buf, "N;"...)
			return nil
		}
		if len(v.Keys) != len(v.Values) {
			return fmt.Errorf("a phpjson.Map with %d keys and %d values", len(v.Keys), len(v.Values))
		}
		w.arrayHeader(len(v.Keys))
		for i, k := range v.Keys {
			w.key(k)
			if err := w.value(v.Values[i], depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	case map[string]any:
		w.arrayHeader(len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			w.key(k)
			if err := w.value(v[k], depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	case Object:
		return w.object(v.Class, v.Props, depth)
	case *Object:
		if v == nil {
			w.buf = append(w.buf, "N;"...)
			return nil
		}
		return w.object(v.Class, v.Props, depth)
	case Enum:
		w.buf = append(w.buf, "E:"...)
		w.quoted(v.Class + ":" + v.Case)
		w.buf = append(w.buf, ';')
	case Custom:
		w.buf = append(w.buf, "C:"...)
		w.quoted(v.Class)
		w.buf = append(w.buf, ':')
		w.buf = strconv.AppendInt(w.buf, int64(len(v.Data)), 10)
		w.buf = append(w.buf, ":{"...)
		w.buf = append(w.buf, v.Data...)
		w.buf = append(w.buf, '}')
	case ModelIdentifier:
		return w.value(w.d.modelObject(v), depth)
	case *ModelIdentifier:
		if v == nil {
			w.buf = append(w.buf, "N;"...)
			return nil
		}
		return w.value(w.d.modelObject(*v), depth)
	default:
		return fmt.Errorf("cannot serialize %T", v)
	}
	return nil
}

func (w *serializer) object(class string, props []Prop, depth int) error {
	w.buf = append(w.buf, "O:"...)
	w.quoted(class)
	w.buf = append(w.buf, ':')
	w.buf = strconv.AppendInt(w.buf, int64(len(props)), 10)
	w.buf = append(w.buf, ":{"...)
	for _, p := range props {
		w.string(p.key(class))
		if err := w.value(p.Value, depth+1); err != nil {
			return fmt.Errorf("%s::$%s: %w", class, p.Name, err)
		}
	}
	w.buf = append(w.buf, '}')
	return nil
}

// modelObject is the ModelIdentifier object as this version declares it.
func (d Dialect) modelObject(m ModelIdentifier) *Object {
	relations := m.Relations
	if relations == nil {
		relations = []string{}
	}
	props := []Prop{
		{Name: "class", Value: m.Class},
		{Name: "id", Value: m.ID},
		{Name: "relations", Value: relations},
		{Name: "connection", Value: nullable(m.Connection)},
	}
	if d.hasCollectionClass() {
		props = append(props, Prop{Name: "collectionClass", Value: nullable(m.CollectionClass)})
	}
	return &Object{Class: ModelIdentifierClass, Props: props}
}

// nullable is PHP's value for a string field where "" stands for null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (w *serializer) arrayHeader(n int) {
	w.buf = append(w.buf, "a:"...)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, ":{"...)
}

// key writes an array key: an integer key when PHP would make k one, else a string key.
func (w *serializer) key(k string) {
	if n, ok := phpIntKey(k); ok {
		w.int(n)
		return
	}
	w.string(k)
}

func (w *serializer) int(n int64) {
	w.buf = append(w.buf, "i:"...)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, ';')
}

// uint writes an unsigned integer; beyond PHP_INT_MAX it is the float PHP's overflow would make.
func (w *serializer) uint(u uint64) {
	if u > math.MaxInt64 {
		w.float(float64(u))
		return
	}
	w.int(int64(u))
}

// float writes d:<x>; with serialize_precision -1: the shortest round-trip digits laid out as json_encode
// lays them out, but with a capital E ("1.0E+25"), and INF, -INF and NAN spelled out.
func (w *serializer) float(f float64) {
	w.buf = append(w.buf, "d:"...)
	switch {
	case math.IsNaN(f):
		w.buf = append(w.buf, "NAN"...)
	case math.IsInf(f, 1):
		w.buf = append(w.buf, "INF"...)
	case math.IsInf(f, -1):
		w.buf = append(w.buf, "-INF"...)
	default:
		b, _ := phpjson.Encode(f) // cannot fail for a finite float
		for _, c := range b {
			if c == 'e' {
				c = 'E'
			}
			w.buf = append(w.buf, c)
		}
	}
	w.buf = append(w.buf, ';')
}

func (w *serializer) string(s string) {
	w.buf = append(w.buf, "s:"...)
	w.quoted(s)
	w.buf = append(w.buf, ';')
}

// quoted writes <byte length>:"<bytes>".
func (w *serializer) quoted(s string) {
	w.buf = strconv.AppendInt(w.buf, int64(len(s)), 10)
	w.buf = append(w.buf, ':', '"')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '"')
}

// phpIntKey reports whether PHP turns the array key k into an integer: k is the canonical decimal form of
// an int64 ("12", "-3", not "012", "-0" or "+1").
func phpIntKey(k string) (int64, bool) {
	if k == "" || len(k) > 20 || (k[0] == '0' && len(k) > 1) || k == "-0" || (k[0] == '-' && len(k) > 1 && k[1] == '0') {
		return 0, false
	}
	n, err := strconv.ParseInt(k, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != k {
		return 0, false
	}
	return n, true
}

// unserializer is a recursive-descent parser of serialize() output.
type unserializer struct {
	s   string
	pos int
	// slots holds every value in the order PHP numbers them for r:/R: references (1-based), with its
	// extent; an array or object still being read holds nil there.
	slots []slot
	// maxValues bounds a value's extent.size.
	maxValues int
}

// extent is what a value amounts to once its references are expanded: how many values it holds (itself
// included) and how deep its arrays and objects nest.
type extent struct{ size, depth int }

// scalar is the extent of a value that is not an array or object.
var scalar = extent{size: 1}

type slot struct {
	v   any
	ext extent
}

var errTruncated = errors.New("unexpected end of input")

func (u *unserializer) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", u.pos, fmt.Sprintf(format, args...))
}

// expect consumes the literal lit.
func (u *unserializer) expect(lit string) error {
	if !strings.HasPrefix(u.s[u.pos:], lit) {
		if u.pos >= len(u.s) {
			return u.errorf("%v", errTruncated)
		}
		return u.errorf("expected %q", lit)
	}
	u.pos += len(lit)
	return nil
}

// until returns the text up to the next end byte and consumes both.
func (u *unserializer) until(end byte) (string, error) {
	i := strings.IndexByte(u.s[u.pos:], end)
	if i < 0 {
		return "", u.errorf("%v", errTruncated)
	}
	t := u.s[u.pos : u.pos+i]
	u.pos += i + 1
	return t, nil
}

func (u *unserializer) length(end byte) (int, error) {
	t, err := u.until(end)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || strings.HasPrefix(t, "+") {
		return 0, u.errorf("invalid length %q", t)
	}
	return n, nil
}

// take returns the next n bytes and a closing byte after them, consuming all. n may be anything up to
// math.MaxInt: it is compared with what is left, never added to.
func (u *unserializer) take(n int, closing string) (string, error) {
	if n > len(u.s)-u.pos-len(closing) {
		return "", u.errorf("%v", errTruncated)
	}
	t := u.s[u.pos : u.pos+n]
	u.pos += n
	if err := u.expect(closing); err != nil {
		return "", err
	}
	return t, nil
}

// quoted reads <len>:"<bytes>" and returns the bytes.
func (u *unserializer) quoted() (string, error) {
	n, err := u.length(':')
	if err != nil {
		return "", err
	}
	if err := u.expect(`"`); err != nil {
		return "", err
	}
	return u.take(n, `"`)
}

// members checks a count of array members or object properties, each at least minBytes long, against what
// is left of the input, so that it never sizes an allocation beyond the input.
func (u *unserializer) members(n, minBytes int) error {
	if n > (len(u.s)-u.pos)/minBytes {
		return u.errorf("%v", errTruncated)
	}
	return nil
}

func (u *unserializer) value(depth int) (any, extent, error) {
	if depth > maxNesting {
		return nil, extent{}, u.errorf("nesting deeper than %d", maxNesting)
	}
	if len(u.s)-u.pos < 2 {
		return nil, extent{}, u.errorf("%v", errTruncated)
	}
	tag := u.s[u.pos]
	if u.s[u.pos+1] != ':' && tag != 'N' {
		return nil, extent{}, u.errorf("expected ':' after %q", tag)
	}
	if tag == 'a' || tag == 'O' {
		u.pos += 2
		self := len(u.slots)
		u.slots = append(u.slots, slot{ext: scalar}) // a reference into the unfinished value sees null
		var v any
		var ext extent
		var err error
		if tag == 'a' {
			v, ext, err = u.array(depth)
		} else {
			v, ext, err = u.object(depth)
		}
		if err != nil {
			return nil, extent{}, err
		}
		u.slots[self] = slot{v: v, ext: ext}
		return v, ext, nil
	}
	if tag == 'r' || tag == 'R' {
		u.pos += 2
		t, err := u.until(';')
		if err != nil {
			return nil, extent{}, err
		}
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > len(u.slots) {
			return nil, extent{}, u.errorf("invalid reference %q", t)
		}
		s := u.slots[n-1]
		if tag == 'r' { // an object reference takes a slot of its own; R: does not
			u.slots = append(u.slots, s)
		}
		return s.v, s.ext, nil
	}
	v, err := u.scalar(tag)
	if err != nil {
		return nil, extent{}, err
	}
	u.slots = append(u.slots, slot{v: v, ext: scalar})
	return v, scalar, nil
}

// scalar reads a value that holds no other value, its tag at u.pos.
func (u *unserializer) scalar(tag byte) (any, error) {
	switch tag {
	case 'N':
		if err := u.expect("N;"); err != nil {
			return nil, err
		}
		return nil, nil
	case 'b':
		u.pos += 2
		t, err := u.until(';')
		if err != nil {
			return nil, err
		}
		if t != "0" && t != "1" {
			return nil, u.errorf("invalid bool %q", t)
		}
		return t == "1", nil
	case 'i':
		u.pos += 2
		t, err := u.until(';')
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64)
		if err != nil {
			return nil, u.errorf("invalid integer %q", t)
		}
		return n, nil
	case 'd':
		u.pos += 2
		t, err := u.until(';')
		if err != nil {
			return nil, err
		}
		f, err := parsePHPFloat(t)
		if err != nil {
			return nil, u.errorf("invalid float %q", t)
		}
		return f, nil
	case 's':
		u.pos += 2
		t, err := u.quoted()
		if err != nil {
			return nil, err
		}
		if err := u.expect(";"); err != nil {
			return nil, err
		}
		return t, nil
	case 'E':
		u.pos += 2
		t, err := u.quoted()
		if err != nil {
			return nil, err
		}
		if err := u.expect(";"); err != nil {
			return nil, err
		}
		class, name, ok := strings.Cut(t, ":")
		if !ok {
			return nil, u.errorf("invalid enum %q", t)
		}
		return Enum{Class: class, Case: name}, nil
	case 'C':
		u.pos += 2
		class, n, err := u.classHeader()
		if err != nil {
			return nil, err
		}
		data, err := u.take(n, "}")
		if err != nil {
			return nil, err
		}
		return Custom{Class: class, Data: data}, nil
	}
	return nil, u.errorf("unsupported type %q", tag)
}

// nest adds a member's extent to its container's, refusing what grows past the limits: text alone
// reaches them only at its own nesting limit, references repeating values at any length.
func (u *unserializer) nest(container, member extent) (extent, error) {
	container.size += member.size
	container.depth = max(container.depth, member.depth+1)
	if container.size > u.maxValues {
		return extent{}, u.errorf("references expand the value beyond %d values", u.maxValues)
	}
	if container.depth > maxNesting {
		return extent{}, u.errorf("nesting deeper than %d", maxNesting)
	}
	return container, nil
}

// array reads <n>:{<key><value>…} after "a:".
func (u *unserializer) array(depth int) (any, extent, error) {
	n, err := u.length(':')
	if err != nil {
		return nil, extent{}, err
	}
	if err := u.expect("{"); err != nil {
		return nil, extent{}, err
	}
	if err := u.members(n, len("i:0;N;")); err != nil {
		return nil, extent{}, err
	}
	m := &phpjson.Map{Keys: make([]string, 0, n), Values: make([]any, 0, n)}
	ext := extent{size: 1, depth: 1}
	list := true
	for i := range n {
		key, err := u.key()
		if err != nil {
			return nil, extent{}, err
		}
		v, vext, err := u.value(depth + 1)
		if err != nil {
			return nil, extent{}, err
		}
		if ext, err = u.nest(ext, vext); err != nil {
			return nil, extent{}, err
		}
		if list && key != strconv.Itoa(i) {
			list = false
		}
		m.Set(key, v)
	}
	if err := u.expect("}"); err != nil {
		return nil, extent{}, err
	}
	if list && len(m.Keys) == n {
		return m.Values, ext, nil
	}
	return m, ext, nil
}

// key reads an array key (i: or s:) as the string phpjson.Map keeps: integers in decimal.
func (u *unserializer) key() (string, error) {
	if len(u.s)-u.pos < 2 {
		return "", u.errorf("%v", errTruncated)
	}
	switch u.s[u.pos] {
	case 'i':
		u.pos += 2
		t, err := u.until(';')
		if err != nil {
			return "", err
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64)
		if err != nil {
			return "", u.errorf("invalid integer key %q", t)
		}
		return strconv.FormatInt(n, 10), nil
	case 's':
		u.pos += 2
		t, err := u.quoted()
		if err != nil {
			return "", err
		}
		return t, u.expect(";")
	}
	return "", u.errorf("invalid array key type %q", u.s[u.pos])
}

// classHeader reads <len>:"<Class>":<n>:{ — the start of an O: object or a C: custom serialization — and
// returns the class and n (the property count, or the data's byte length).
func (u *unserializer) classHeader() (class string, n int, err error) {
	if class, err = u.quoted(); err != nil {
		return "", 0, err
	}
	if err = u.expect(":"); err != nil {
		return "", 0, err
	}
	if n, err = u.length(':'); err != nil {
		return "", 0, err
	}
	if err = u.expect("{"); err != nil {
		return "", 0, err
	}
	return class, n, nil
}

// object reads <len>:"<Class>":<n>:{<name><value>…} after "O:".
func (u *unserializer) object(depth int) (any, extent, error) {
	class, n, err := u.classHeader()
	if err != nil {
		return nil, extent{}, err
	}
	if err := u.members(n, len(`s:0:"";N;`)); err != nil {
		return nil, extent{}, err
	}
	obj := &Object{Class: class, Props: make([]Prop, 0, n)}
	ext := extent{size: 1, depth: 1}
	for range n {
		if len(u.s)-u.pos < 2 || u.s[u.pos] != 's' {
			return nil, extent{}, u.errorf("expected a property name")
		}
		u.pos += 2
		name, err := u.quoted()
		if err != nil {
			return nil, extent{}, err
		}
		if err := u.expect(";"); err != nil {
			return nil, extent{}, err
		}
		v, vext, err := u.value(depth + 1)
		if err != nil {
			return nil, extent{}, err
		}
		if ext, err = u.nest(ext, vext); err != nil {
			return nil, extent{}, err
		}
		obj.Props = append(obj.Props, unmangle(name, v))
	}
	if err := u.expect("}"); err != nil {
		return nil, extent{}, err
	}
	if class == ModelIdentifierClass {
		m, err := modelIdentifier(obj)
		if err != nil {
			return nil, extent{}, u.errorf("%v", err)
		}
		return m, ext, nil
	}
	return obj, ext, nil
}

// unmangle splits a serialized property name into name, visibility and declaring class.
func unmangle(key string, v any) Prop {
	if len(key) > 0 && key[0] == 0 {
		if class, name, ok := strings.Cut(key[1:], "\x00"); ok {
			if class == "*" {
				return Prop{Name: name, Visibility: Protected, Value: v}
			}
			return Prop{Name: name, Visibility: Private, Class: class, Value: v}
		}
	}
	return Prop{Name: key, Value: v}
}

// modelIdentifier reads a ModelIdentifier object's properties.
func modelIdentifier(o *Object) (ModelIdentifier, error) {
	var m ModelIdentifier
	for _, p := range o.Props {
		var err error
		switch p.Name {
		case "class":
			err = bindValue(p.Value, reflect.ValueOf(&m.Class).Elem(), "class")
		case "id":
			m.ID = p.Value
		case "relations":
			err = bindValue(p.Value, reflect.ValueOf(&m.Relations).Elem(), "relations")
		case "connection":
			err = bindValue(p.Value, reflect.ValueOf(&m.Connection).Elem(), "connection")
		case "collectionClass":
			err = bindValue(p.Value, reflect.ValueOf(&m.CollectionClass).Elem(), "collectionClass")
		}
		if err != nil {
			return ModelIdentifier{}, fmt.Errorf("%s: %w", ModelIdentifierClass, err)
		}
	}
	return m, nil
}

// parsePHPFloat reads the text of a d: value.
func parsePHPFloat(t string) (float64, error) {
	switch t {
	case "INF":
		return math.Inf(1), nil
	case "-INF":
		return math.Inf(-1), nil
	case "NAN":
		return math.NaN(), nil
	}
	if t == "" || strings.ContainsAny(t, "_xXpP") || strings.EqualFold(t, "inf") || strings.EqualFold(t, "+inf") ||
		strings.EqualFold(t, "-inf") || strings.EqualFold(t, "infinity") || strings.EqualFold(t, "nan") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(t, 64)
}
