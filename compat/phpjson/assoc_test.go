package phpjson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAssoc(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   any
		want any
	}{
		{"scalar", "x", "x"},
		{"empty Map is an empty list", &Map{}, list()},
		{"keys 0..n-1 make a list", obj("0", "a", "1", "b"), list("a", "b")},
		{"out of order stays a Map", obj("1", "a", "0", "b"), obj("1", "a", "0", "b")},
		{"gap stays a Map", obj("0", "a", "2", "b"), obj("0", "a", "2", "b")},
		{"starting at 1 stays a Map", obj("1", "a"), obj("1", "a")},
		{"leading zero is a string key", obj("0", "a", "01", "b"), obj("0", "a", "01", "b")},
		{"minus zero is a string key", obj("-0", "a"), obj("-0", "a")},
		{"plus sign is a string key", obj("+0", "a"), obj("+0", "a")},
		{"space is a string key", obj(" 0", "a"), obj(" 0", "a")},
		{"negative key stays a Map", obj("-5", "a"), obj("-5", "a")},
		{"string keys stay a Map", obj("a", &Map{}), obj("a", list())},
		{"nested", list(obj("0", obj()), obj("x", obj("0", int64(1)))), list(list(list()), obj("x", list(int64(1))))},
		{"nil Map", (*Map)(nil), (*Map)(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Assoc(tc.in))
		})
	}
}

func TestAssocLeavesInputAlone(t *testing.T) {
	t.Parallel()

	in := obj("a", obj("0", "x"), "b", list(&Map{}))
	got := Assoc(in).(*Map)
	require.Equal(t, obj("a", obj("0", "x"), "b", list(&Map{})), in)

	got.Set("c", 1)
	require.Equal(t, []string{"a", "b"}, in.Keys, "the result shares no slice with the input")
}

func TestNormalize(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty object becomes list", `{}`, `[]`},
		{"nested empty objects", `{"a":{},"b":[{}]}`, `{"a":[],"b":[[]]}`},
		{"list-like object becomes list", `{"0":"x","1":"y"}`, `["x","y"]`},
		{"object from 1 stays", `{"1":"x"}`, `{"1":"x"}`},
		{"out of order stays", `{"1":1,"0":2}`, `{"1":1,"0":2}`},
		{"duplicate key first position last value", `{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
		{"duplicates make a list", `{"0":1,"1":2,"0":3}`, `[3,2]`},
		{"string keys kept as written", `{"-5":1,"01":2,"-0":3,"9223372036854775808":4," 1":5,"+1":6}`, `{"-5":1,"01":2,"-0":3,"9223372036854775808":4," 1":5,"+1":6}`},
		{"whitespace dropped", " { \"a\" : [ 1 , 2 ] } ", `{"a":[1,2]}`},
		{"float zero fraction", `[1.0,1.5e3,-0.0,0.0]`, `[1,1500,-0,0]`},
		{"int minus zero", `-0`, `0`},
		{"big int becomes float", `12345678901234567890`, `1.2345678901234567e+19`},
		{"exponent forms", `[1e25,0.00001,1e-7,1E2]`, `[1.0e+25,1.0e-5,1.0e-7,100]`},
		{"foreign escapes become PHP's", `"/\u00E9é😀\u001F"`, `"\/\u00e9\u00e9\ud83d\ude00\u001f"`},
		{"scalar", `"x"`, `"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize([]byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"invalid JSON", `{`, "phpjson: normalize: decode: offset 1: expected string key"},
		{"lone surrogate", `"\ud800"`, "phpjson: normalize: decode: offset 1: single unpaired UTF-16 surrogate in unicode escape"},
		// json_decode reads 1e400 as INF, which json_encode then refuses.
		{"infinite float", `[1e400]`, "phpjson: normalize: encode: float +Inf cannot be JSON encoded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize([]byte(tc.in))
			require.EqualError(t, err, tc.wantErr)
			require.Nil(t, got)
		})
	}
}

func TestFromGo(t *testing.T) {
	t.Parallel()

	type inner struct {
		Deep string `json:"deep"`
	}
	type payload struct {
		Name    string            `json:"name"`
		URL     string            `json:"url"`
		Count   int               `json:"count"`
		Ratio   float64           `json:"ratio"`
		Whole   float64           `json:"whole"`
		Skip    string            `json:"-"`
		Omitted string            `json:"omitted,omitempty"`
		Empty   map[string]string `json:"empty"`
		Nil     []int             `json:"nil"`
		List    []string          `json:"list"`
		Nested  inner             `json:"nested"`
		Raw     json.RawMessage   `json:"raw"`
	}
	got, err := FromGo(payload{
		Name:  "张三 <&>",
		URL:   "https://example.com/a",
		Count: 42,
		Ratio: 1.5,
		Whole: 2,
		Skip:  "x",
		Empty: map[string]string{},
		List:  []string{"a"},
		// A Go struct reaches PHP as an object; a raw object keyed 0..n-1 becomes a list there.
		Nested: inner{Deep: "v"},
		Raw:    json.RawMessage(`{"0":{},"1":1e2}`),
	})
	require.NoError(t, err)
	want := obj(
		"name", "张三 <&>",
		"url", "https://example.com/a",
		"count", int64(42),
		"ratio", 1.5,
		"whole", int64(2), // Go writes 2.0 as 2
		"empty", list(),
		"nil", nil,
		"list", list("a"),
		"nested", obj("deep", "v"),
		"raw", list(list(), 100.0),
	)
	require.Equal(t, want, got)

	b, err := Encode(got)
	require.NoError(t, err)
	require.Equal(t, `{"name":"\u5f20\u4e09 <&>","url":"https:\/\/example.com\/a","count":42,"ratio":1.5,"whole":2,"empty":[],"nil":null,"list":["a"],"nested":{"deep":"v"},"raw":[[],100]}`, string(b))
}

// A Map inside a Go value keeps its order and becomes what PHP would hold.
func TestFromGoMap(t *testing.T) {
	t.Parallel()

	got, err := FromGo(map[string]any{"m": obj("z", 1, "a", &Map{}), "l": obj("0", "x")})
	require.NoError(t, err)
	require.Equal(t, obj("l", list("x"), "m", obj("z", int64(1), "a", list())), got)
}

func TestFromGoErrors(t *testing.T) {
	t.Parallel()

	_, err := FromGo(make(chan int))
	require.ErrorContains(t, err, "phpjson: from go: json: unsupported type: chan int")

	// encoding/json nests without limit; PHP does not.
	deep := any(nil)
	for range 600 {
		deep = []any{deep}
	}
	_, err = FromGo(deep)
	require.ErrorContains(t, err, "phpjson: from go: offset 511: nesting deeper than 511")
}
