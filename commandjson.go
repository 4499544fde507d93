package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
)

// commandJSON is a serialize()d command's properties as a JSON object, in serialize() order, for people
// to read: nested objects are objects with their class under "@class", enums "Class::Case", models their
// ModelIdentifier, floats PHP cannot put in JSON (INF, NAN) their PHP text.
func commandJSON(command string) (json.RawMessage, error) {
	v, err := laravel.Unserialize(command)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*laravel.Object)
	if !ok {
		return nil, fmt.Errorf("the command is a %T, not an object", v)
	}
	var buf bytes.Buffer
	if err := writeProps(&buf, "", obj.Props); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeProps(buf *bytes.Buffer, class string, props []laravel.Prop) error {
	buf.WriteByte('{')
	first := true
	key := func(k string) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
	}
	if class != "" {
		key("@class")
		cb, _ := json.Marshal(class)
		buf.Write(cb)
	}
	for _, p := range props {
		key(p.Name)
		if err := writePHP(buf, p.Value); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func writePHP(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case *laravel.Object:
		return writeProps(buf, v.Class, v.Props)
	case laravel.Enum:
		b, _ := json.Marshal(v.Class + "::" + v.Case)
		buf.Write(b)
		return nil
	case *phpjson.Map:
		props := make([]laravel.Prop, len(v.Keys))
		for i, k := range v.Keys {
			props[i] = laravel.Prop{Name: k, Value: v.Values[i]}
		}
		return writeProps(buf, "", props)
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writePHP(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			v2, _ := json.Marshal(fmt.Sprint(v))
			buf.Write(v2)
			return nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}
