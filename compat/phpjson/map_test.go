package phpjson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMapGetSet(t *testing.T) {
	t.Parallel()

	m := &Map{}
	_, ok := m.Get("a")
	require.False(t, ok)

	m.Set("a", 1)
	m.Set("b", nil)
	m.Set("a", 3) // replaces in place, as $a['a'] = 3 does

	require.Equal(t, obj("a", 3, "b", nil), m)
	v, ok := m.Get("a")
	require.True(t, ok)
	require.Equal(t, 3, v)
	v, ok = m.Get("b")
	require.True(t, ok, "a key holding null is present")
	require.Nil(t, v)

	m.Set("01", "x") // not the same key as "1" or "1"'s int form
	m.Set("1", "y")
	require.Equal(t, []string{"a", "b", "01", "1"}, m.Keys)
}

func TestMapMarshalJSON(t *testing.T) {
	t.Parallel()

	m := obj("b", int64(1), "a", list(obj("x/y", "<é>")), "e", &Map{})
	b, err := json.Marshal(struct {
		M   *Map `json:"m"`
		V   Map  `json:"v"`
		Nil *Map `json:"nil"`
	}{M: m, V: *obj("0", 1)})
	require.NoError(t, err)
	require.JSONEq(t, `{"m":{"b":1,"a":[{"x/y":"<é>"}],"e":{}},"v":{"0":1},"nil":null}`, string(b))
	require.Contains(t, string(b), `{"b":1,"a":`, "keys in Map order")

	_, err = json.Marshal(obj("c", make(chan int)))
	require.ErrorContains(t, err, `phpjson: marshal value of "c": json: unsupported type: chan int`)
}

// A hand-made Map whose keys and values differ in length is an error to encode, not a panic.
func TestMapLengthsDiffer(t *testing.T) {
	t.Parallel()
	for _, m := range []*Map{{Keys: []string{"a", "b"}, Values: []any{1}}, {Keys: []string{"a"}}} {
		_, err := Encode(m)
		require.ErrorContains(t, err, "keys and")
		_, err = Encode([]any{m})
		require.ErrorContains(t, err, "keys and")
		_, err = m.MarshalJSON()
		require.ErrorContains(t, err, "keys and")
	}
}

// The scanning helpers are for valid JSON, but on anything else they return something rather than panic.
func TestScanHelpersOnInvalidInput(t *testing.T) {
	t.Parallel()
	for _, s := range []string{``, ` `, `{`, `{"`, `{"a`, `{"a"`, `{"a":`, `{"a":"`, `{"a":[`, `{"a":1,`, `"`, `"\`, `"\u12`,
		`"\ud83d\ude`, `x`, `{1:2}`, `{"a"::}`, `{"a":}`} {
		b := []byte(s)
		_ = Kind(b)
		_ = Unquote(b)
		m := NewMembers(b)
		for n := 0; ; n++ {
			require.LessOrEqual(t, n, len(b), "%q", s)
			if _, _, ok := m.Next(); !ok {
				break
			}
		}
	}
	require.Equal(t, "nothing", Kind([]byte(" ")))
}
