package phpjson

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The binder is Unmarshal's one pass: it reads valid JSON straight into the target as json.Unmarshal would
// read the same JSON with each empty list bound to a struct or map written as {}, where going through
// encoding/json three times (validate, decode a tree to find those lists, bind) made a 16 MB job take
// seconds (BenchmarkUnmarshal16MB). Whatever the binder does not do exactly as encoding/json, it leaves to
// it: a type it does not handle is known before it starts (plan.direct), and any value it cannot store
// ends the pass with errIndirect.

// errIndirect ends a binding pass that encoding/json must do instead; it never reaches a caller.
var errIndirect = errors.New("phpjson: bind through encoding/json")

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

var numberType = reflect.TypeFor[json.Number]()

// plan is what the binder knows about one Go type.
type plan struct {
	t    reflect.Type
	kind reflect.Kind
	// direct: the binder handles this type and every type it reaches as encoding/json does.
	direct bool
	// reachesUnmarshaler: this type or one it reaches has an UnmarshalJSON method the binder calls.
	reachesUnmarshaler bool
	// addrUnmarshaler: a named non-pointer type whose pointer has UnmarshalJSON, which encoding/json calls on
	// the address of a field, element or map value of the type.
	addrUnmarshaler bool
	// ptrUnmarshaler: a pointer type with UnmarshalJSON.
	ptrUnmarshaler bool
	number         bool // json.Number
	bytes          bool // a slice of a uint8 kind: a JSON string is its base64
	elem           *plan
	keyType        reflect.Type
	fields         *fieldPlans
	// own: this type alone (not what it reaches) is handled by the binder.
	own bool
}

type fieldPlan struct {
	name  string
	pos   int // in fieldPlans.list
	index []int
	plan  *plan
}

// fieldPlans finds a struct's field for an object key as encoding/json does: the exact name, else the
// first field whose name equals the key under Unicode case folding.
type fieldPlans struct {
	list   []*fieldPlan // in field order, which is the order PHP and Go producers write the keys in
	exact  map[string]*fieldPlan
	folded map[string]*fieldPlan
}

// find returns the field for key; next is the position in list to try first (the one after the field
// found last), and comes back updated.
func (fs *fieldPlans) find(key []byte, next *int) *fieldPlan {
	if i := *next; i < len(fs.list) && fs.list[i].name == string(key) {
		*next = i + 1
		return fs.list[i]
	}
	f := fs.exact[string(key)]
	if f == nil {
		var buf [64]byte
		f = fs.folded[string(appendFolded(buf[:0], key))]
	}
	if f != nil {
		*next = f.pos + 1
	}
	return f
}

var (
	planMu sync.Mutex
	plans  sync.Map // reflect.Type → *plan
)

// planFor returns the plan of t and of every type it reaches, building them once.
func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	planMu.Lock()
	defer planMu.Unlock()
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	built := map[reflect.Type]*plan{}
	root := buildPlan(t, built)
	settle(built)
	for t, p := range built {
		plans.Store(t, p)
	}
	return root
}

func buildPlan(t reflect.Type, built map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := built[t]; ok {
		return p
	}
	p := &plan{t: t, kind: t.Kind(), own: true}
	built[t] = p
	ptr := reflect.PointerTo(t)
	if t.Kind() == reflect.Pointer {
		p.ptrUnmarshaler = t.Implements(unmarshalerType)
		p.own = p.ptrUnmarshaler || !t.Implements(textUnmarshalerType)
	} else {
		p.addrUnmarshaler = t.Name() != "" && ptr.Implements(unmarshalerType)
		p.own = ptr.Implements(unmarshalerType) || !ptr.Implements(textUnmarshalerType)
	}
	if p.ptrUnmarshaler {
		return p // encoding/json hands what it points to to UnmarshalJSON, whatever that holds
	}
	switch t.Kind() {
	case reflect.Pointer:
		p.elem = buildPlan(t.Elem(), built)
	case reflect.Interface:
		p.own = p.own && t.NumMethod() == 0
	case reflect.Slice:
		p.bytes = t.Elem().Kind() == reflect.Uint8
		p.elem = buildPlan(t.Elem(), built)
	case reflect.Array:
		p.elem = buildPlan(t.Elem(), built)
	case reflect.Map:
		p.keyType = t.Key()
		switch p.keyType.Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			p.own = p.own && !reflect.PointerTo(p.keyType).Implements(textUnmarshalerType)
		default:
			p.own = false
		}
		p.elem = buildPlan(t.Elem(), built)
	case reflect.Struct:
		p.fields = &fieldPlans{exact: map[string]*fieldPlan{}, folded: map[string]*fieldPlan{}}
		for _, sf := range typeFields(t) {
			if !plainField(t, sf) {
				p.own = false
			}
			f := &fieldPlan{name: sf.name, pos: len(p.fields.list), index: sf.index, plan: buildPlan(sf.typ, built)}
			p.fields.list = append(p.fields.list, f)
			p.fields.exact[sf.name] = f
			if folded := string(appendFolded(nil, []byte(sf.name))); p.fields.folded[folded] == nil {
				p.fields.folded[folded] = f
			}
		}
	case reflect.String:
		p.number = t == numberType
	}
	return p
}

// plainField reports whether encoding/json fills f as the binder does: not through the ",string" option,
// nor through an embedded pointer to an unexported struct (which it cannot allocate).
func plainField(t reflect.Type, f structField) bool {
	for i, x := range f.index {
		sf := t.Field(x)
		if i == len(f.index)-1 {
			_, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			return !strings.Contains(","+opts+",", ",string,")
		}
		t = sf.Type
		if t.Kind() == reflect.Pointer {
			if !sf.IsExported() {
				return false
			}
			t = t.Elem()
		}
	}
	return true
}

// settle works out direct and reachesUnmarshaler over the new plans, cycles included: a plan is direct
// unless it or one it reaches is not its own, and reaches an UnmarshalJSON if it or one it reaches has one.
func settle(built map[reflect.Type]*plan) {
	for _, p := range built {
		p.direct = p.own
		p.reachesUnmarshaler = p.addrUnmarshaler || p.ptrUnmarshaler
	}
	for changed := true; changed; {
		changed = false
		for _, p := range built {
			for _, c := range p.children() {
				if p.direct && !c.direct {
					p.direct, changed = false, true
				}
				if !p.reachesUnmarshaler && c.reachesUnmarshaler {
					p.reachesUnmarshaler, changed = true, true
				}
			}
		}
	}
}

func (p *plan) children() []*plan {
	var out []*plan
	if p.elem != nil {
		out = append(out, p.elem)
	}
	if p.fields != nil {
		for _, f := range p.fields.list {
			out = append(out, f.plan)
		}
	}
	return out
}

// appendFolded appends name folded so that two names fold alike exactly when bytes.EqualFold matches them,
// as encoding/json folds field names: each rune becomes the smallest of its case-folding orbit.
func appendFolded(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				r = next
				break
			}
			r = next
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

// hasFlips reports whether the valid JSON data, bound to p, holds an empty list that binds to a struct or
// map, as fit.hasFlips does for p's type; it stops at the first.
func hasFlips(data []byte, p *plan) bool {
	b := binder{data: data, pos: skipSpace(data, 0)}
	return b.flips(p, true)
}

// flips is hasFlips for the value at b.pos; it leaves b.pos past the value unless it found one.
func (b *binder) flips(p *plan, fresh bool) bool {
	if fresh && p.addrUnmarshaler {
		b.pos = valueEnd(b.data, b.pos)
		return false
	}
	for p.kind == reflect.Pointer {
		if p.ptrUnmarshaler {
			b.pos = valueEnd(b.data, b.pos)
			return false
		}
		p = p.elem
	}
	switch b.data[b.pos] {
	case '[':
		if p.kind != reflect.Slice && p.kind != reflect.Array {
			empty := b.data[skipSpace(b.data, b.pos+1)] == ']'
			if empty && (p.kind == reflect.Struct || p.kind == reflect.Map) {
				return true
			}
			b.pos = valueEnd(b.data, b.pos)
			return false
		}
		b.pos = skipSpace(b.data, b.pos+1)
		for b.data[b.pos] != ']' {
			if b.flips(p.elem, true) {
				return true
			}
			if b.pos = skipSpace(b.data, b.pos); b.data[b.pos] == ',' {
				b.pos = skipSpace(b.data, b.pos+1)
			}
		}
		b.pos++
		return false
	case '{':
		if p.kind != reflect.Struct && p.kind != reflect.Map {
			break
		}
		b.pos = skipSpace(b.data, b.pos+1)
		next := 0
		for b.data[b.pos] != '}' {
			b.readKey()
			b.pos = skipSpace(b.data, skipSpace(b.data, b.pos)+1) // past ':'
			vp := p.elem
			if p.kind == reflect.Struct {
				if f := p.fields.find(b.key, &next); f != nil {
					vp = f.plan
				} else {
					vp = nil
				}
			}
			if vp == nil {
				b.pos = valueEnd(b.data, b.pos)
			} else if b.flips(vp, true) {
				return true
			}
			if b.pos = skipSpace(b.data, b.pos); b.data[b.pos] == ',' {
				b.pos = skipSpace(b.data, b.pos+1)
			}
		}
		b.pos++
		return false
	}
	b.pos = valueEnd(b.data, b.pos)
	return false
}

// binder reads one valid JSON document into a Go value.
type binder struct {
	data []byte
	pos  int
	// remarshal: json.Unmarshalers get their JSON re-marshalled, because data had empty lists to rewrite.
	remarshal bool
	// key holds the unquoted object key being matched; scratch a string value being unquoted.
	key, scratch []byte
}

// top binds the whole document into the non-nil pointer rv, which encoding/json never replaces.
func (b *binder) top(rv reflect.Value, p *plan) error {
	b.pos = skipSpace(b.data, 0)
	if p.ptrUnmarshaler {
		return b.unmarshaler(rv)
	}
	return b.value(rv.Elem(), p.elem, false)
}

// value binds the value at b.pos into v. fresh means v is a field, an element or a map value rather than
// what a pointer points to: encoding/json looks for UnmarshalJSON on its address.
func (b *binder) value(v reflect.Value, p *plan, fresh bool) error {
	if fresh && p.addrUnmarshaler {
		return b.unmarshaler(v.Addr())
	}
	c := b.data[b.pos]
	switch p.kind {
	case reflect.Pointer:
		if c == 'n' {
			b.pos += len("null")
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(p.t.Elem()))
		}
		if p.ptrUnmarshaler {
			return b.unmarshaler(v)
		}
		return b.value(v.Elem(), p.elem, false)
	case reflect.Interface:
		if !v.IsNil() && v.Elem().Kind() == reflect.Pointer && !v.Elem().IsNil() {
			return errIndirect // encoding/json binds into what the pointer points to
		}
		if c == 'n' {
			b.pos += len("null")
			v.SetZero()
			return nil
		}
		x, err := b.generic()
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	}
	switch c {
	case '{':
		return b.object(v, p)
	case '[':
		return b.list(v, p)
	case '"':
		return b.string(v, p)
	case 't', 'f':
		if p.kind != reflect.Bool {
			return errIndirect
		}
		v.SetBool(c == 't')
		if c == 't' {
			b.pos += len("true")
		} else {
			b.pos += len("false")
		}
		return nil
	case 'n':
		b.pos += len("null")
		if p.kind == reflect.Map || p.kind == reflect.Slice {
			v.SetZero()
		}
		return nil // encoding/json ignores null for other kinds
	}
	return b.number(v, p)
}

// unmarshaler hands the value at b.pos to pv's UnmarshalJSON.
func (b *binder) unmarshaler(pv reflect.Value) error {
	end := valueEnd(b.data, b.pos)
	raw := b.data[b.pos:end]
	b.pos = end
	if b.remarshal {
		var err error
		if raw, err = remarshal(raw); err != nil {
			return errIndirect
		}
	}
	if pv.Interface().(json.Unmarshaler).UnmarshalJSON(raw) != nil {
		return errIndirect
	}
	return nil
}

// object binds the object at b.pos.
func (b *binder) object(v reflect.Value, p *plan) error {
	var elem reflect.Value
	switch p.kind {
	case reflect.Struct:
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(p.t))
		}
		elem = reflect.New(p.elem.t).Elem()
	default:
		return errIndirect
	}
	b.pos = skipSpace(b.data, b.pos+1)
	next := 0
	for b.data[b.pos] != '}' {
		b.readKey()
		b.pos = skipSpace(b.data, skipSpace(b.data, b.pos)+1) // past ':'
		if p.kind == reflect.Map {
			key, err := b.mapKey(p.keyType) // before the value's own keys replace b.key
			if err != nil {
				return err
			}
			elem.SetZero()
			if err := b.value(elem, p.elem, true); err != nil {
				return err
			}
			v.SetMapIndex(key, elem)
		} else if err := b.field(v, p.fields.find(b.key, &next)); err != nil {
			return err
		}
		if b.pos = skipSpace(b.data, b.pos); b.data[b.pos] == ',' {
			b.pos = skipSpace(b.data, b.pos+1)
		}
	}
	b.pos++
	return nil
}

// field binds the value at b.pos into field f of struct v, or skips it when f is nil.
func (b *binder) field(v reflect.Value, f *fieldPlan) error {
	if f == nil {
		b.pos = valueEnd(b.data, b.pos) // encoding/json drops an unknown key
		return nil
	}
	if len(f.index) == 1 {
		return b.value(v.Field(f.index[0]), f.plan, true)
	}
	fv := v
	for _, x := range f.index {
		if fv.Kind() == reflect.Pointer { // an embedded pointer on the way to a promoted field
			if fv.IsNil() {
				fv.Set(reflect.New(fv.Type().Elem()))
			}
			fv = fv.Elem()
		}
		fv = fv.Field(x)
	}
	return b.value(fv, f.plan, true)
}

// mapKey converts b.key to a map key of type kt.
func (b *binder) mapKey(kt reflect.Type) (reflect.Value, error) {
	kv := reflect.New(kt).Elem()
	switch kt.Kind() {
	case reflect.String:
		kv.SetString(string(b.key))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(string(b.key), 10, 64)
		if err != nil || kv.OverflowInt(n) {
			return kv, errIndirect
		}
		kv.SetInt(n)
	default:
		n, err := strconv.ParseUint(string(b.key), 10, 64)
		if err != nil || kv.OverflowUint(n) {
			return kv, errIndirect
		}
		kv.SetUint(n)
	}
	return kv, nil
}

// readKey unquotes the object key at b.pos into b.key.
func (b *binder) readKey() {
	end, plain := scanString(b.data, b.pos)
	if s := b.data[b.pos+1 : end-1]; plain {
		b.key = append(b.key[:0], s...)
	} else {
		b.key = appendUnquoted(b.key[:0], s)
	}
	b.pos = end
}

// readString returns the string at b.pos as encoding/json decodes it, and moves past it. The bytes are
// data's own or, when they need unquoting, b.scratch's until the next call.
func (b *binder) readString() []byte {
	end, plain := scanString(b.data, b.pos)
	s := b.data[b.pos+1 : end-1]
	b.pos = end
	if plain {
		return s
	}
	b.scratch = appendUnquoted(b.scratch[:0], s)
	return b.scratch
}

// scanString returns the index past the valid string literal at b[i] and whether its inside reads as it
// is: no escapes, and valid UTF-8 (encoding/json replaces invalid bytes).
func scanString(b []byte, i int) (end int, plain bool) {
	plain, ascii := true, true
	for j := i + 1; ; j++ {
		switch c := b[j]; {
		case c == '"':
			if !ascii && plain {
				plain = utf8.Valid(b[i+1 : j])
			}
			return j + 1, plain
		case c == '\\':
			plain = false
			j++
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
}

// list binds the list at b.pos.
func (b *binder) list(v reflect.Value, p *plan) error {
	b.pos = skipSpace(b.data, b.pos+1)
	empty := b.data[b.pos] == ']'
	switch p.kind {
	case reflect.Struct, reflect.Map:
		if !empty {
			return errIndirect
		}
		b.pos++
		if p.kind == reflect.Map && v.IsNil() { // PHP's [] for {}
			v.Set(reflect.MakeMap(p.t))
		}
		return nil
	case reflect.Slice, reflect.Array:
	default:
		return errIndirect
	}
	i := 0
	for b.data[b.pos] != ']' {
		if p.kind == reflect.Slice {
			if i >= v.Cap() {
				v.Grow(max(v.Cap(), 4)) // doubling: Grow(1) would grow a long list by a quarter at a time
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
		}
		if i < v.Len() {
			if err := b.value(v.Index(i), p.elem, true); err != nil {
				return err
			}
		} else {
			b.pos = valueEnd(b.data, b.pos) // past the end of an array
		}
		i++
		if b.pos = skipSpace(b.data, b.pos); b.data[b.pos] == ',' {
			b.pos = skipSpace(b.data, b.pos+1)
		}
	}
	b.pos++
	switch {
	case p.kind == reflect.Array:
		for ; i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
	case i == 0:
		v.Set(reflect.MakeSlice(p.t, 0, 0))
	case i < v.Len():
		v.SetLen(i)
	}
	return nil
}

// string binds the string at b.pos.
func (b *binder) string(v reflect.Value, p *plan) error {
	s := b.readString()
	switch {
	case p.kind == reflect.String:
		if p.number && !isNumber(s) {
			return errIndirect
		}
		v.SetString(string(s))
	case p.bytes:
		out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(out, s)
		if err != nil {
			return errIndirect
		}
		v.SetBytes(out[:n])
	default:
		return errIndirect
	}
	return nil
}

// isNumber reports whether s is a JSON number, as a json.Number must be.
func isNumber(s []byte) bool {
	end, ok := validNumber(s, 0)
	return len(s) > 0 && ok && end == len(s)
}

// number binds the number at b.pos.
func (b *binder) number(v reflect.Value, p *plan) error {
	end := numberEnd(b.data, b.pos)
	lit := b.data[b.pos:end]
	switch p.kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !isInteger(lit) {
			return errIndirect
		}
		n, ok := parseInt(lit)
		if !ok || v.OverflowInt(n) {
			return errIndirect
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(string(lit), 10, 64)
		if err != nil || v.OverflowUint(n) {
			return errIndirect
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(string(lit), p.t.Bits())
		if err != nil || v.OverflowFloat(f) {
			return errIndirect
		}
		v.SetFloat(f)
	case reflect.String:
		if !p.number {
			return errIndirect
		}
		v.SetString(string(lit))
	default:
		return errIndirect
	}
	b.pos = end
	return nil
}

// isInteger reports whether a number literal has neither fraction nor exponent.
func isInteger(lit []byte) bool {
	for _, c := range lit {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

func numberEnd(b []byte, i int) int {
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		i++
	}
	return i
}

// generic returns the value at b.pos as encoding/json stores it in an empty interface: map[string]any,
// []any, string, float64, bool or nil.
func (b *binder) generic() (any, error) {
	switch c := b.data[b.pos]; c {
	case '{':
		m := map[string]any{}
		b.pos = skipSpace(b.data, b.pos+1)
		for b.data[b.pos] != '}' {
			b.readKey()
			key := string(b.key)
			b.pos = skipSpace(b.data, skipSpace(b.data, b.pos)+1)
			x, err := b.generic()
			if err != nil {
				return nil, err
			}
			m[key] = x
			if b.pos = skipSpace(b.data, b.pos); b.data[b.pos] == ',' {
				b.pos = skipSpace(b.data, b.pos+1)
			}
		}
		b.pos++
		return m, nil
	case '[':
		l := make([]any, 0)
		b.pos = skipSpace(b.data, b.pos+1)
		for b.data[b.pos] != ']' {
			x, err := b.generic()
			if err != nil {
				return nil, err
			}
			l = append(l, x)
			if b.pos = skipSpace(b.data, b.pos); b.data[b.pos] == ',' {
				b.pos = skipSpace(b.data, b.pos+1)
			}
		}
		b.pos++
		return l, nil
	case '"':
		return string(b.readString()), nil
	case 't':
		b.pos += len("true")
		return true, nil
	case 'f':
		b.pos += len("false")
		return false, nil
	case 'n':
		b.pos += len("null")
		return nil, nil
	}
	end := numberEnd(b.data, b.pos)
	f, err := strconv.ParseFloat(string(b.data[b.pos:end]), 64)
	if err != nil {
		return nil, errIndirect
	}
	b.pos = end
	return f, nil
}

// appendUnquoted appends the inside of a valid string literal as encoding/json decodes it: escapes
// resolved, a UTF-16 surrogate that is not half of a pair and each byte of invalid UTF-8 as U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					pair := unicode.ReplacementChar
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						pair = utf16.DecodeRune(r, hex4(s[i+2:]))
					}
					if pair != unicode.ReplacementChar {
						i += 6
					}
					r = pair
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\' or '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		}
	}
	return dst
}
