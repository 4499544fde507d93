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
