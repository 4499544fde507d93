package phpjson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

type (
	umInner struct {
		A int `json:"a"`
	}
	umBase struct {
		Meta  map[string]string `json:"meta"`
		Inner umInner
	}
	// rawRecorder keeps the JSON it was given, to show Unmarshal leaves a json.Unmarshaler's input alone.
	rawRecorder struct{ raw string }

	umPayload struct {
		umBase
		Data      map[string]any     `json:"data"`
		Ptr       *umInner           `json:"ptr"`
		PtrPtr    **umInner          `json:"ptr_ptr"`
		List      []umInner          `json:"list"`
		Arr       [2]umInner         `json:"arr"`
		ByKey     map[string]umInner `json:"by_key"`
		Any       any                `json:"any"`
		Ints      []int              `json:"ints"`
		Custom    rawRecorder        `json:"custom"`
		CustomPtr *rawRecorder       `json:"custom_ptr"`
		Big       uint64             `json:"big"`
		Num       json.Number        `json:"num"`
		NoTag     map[string]int
		Skipped   map[string]int `json:"-"`
	}

	umTagged struct {
		Val map[string]int `json:"Val"`
	}
	umUntagged struct{ Val []int }
	umDeep     struct{ Val []int }
	// umShadow's own Val hides the deeper umDeep.Val.
	umShadow struct {
		umDeep
		Val map[string]int
	}
	// umTagWins has two Vals at one depth; the tagged one wins.
	umTagWins struct {
		umTagged
		umUntagged
	}
	// umExactFirst has fields "val" and "Val": a key matching one exactly binds to it, not the other.
	umExactFirst struct {
		Lower map[string]int `json:"val"`
		Val   []int
	}
)

func (r *rawRecorder) UnmarshalJSON(b []byte) error {
	r.raw = string(b)
	return nil
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()

	// Each case gives the JSON PHP wrote and the JSON a Go producer would have written for the same value;
	// Unmarshal of the first must equal encoding/json's Unmarshal of the second.
	tests := []struct {
		name   string
		target func() any
		php    string
		goJSON string
	}{
		{"top-level map", func() any { return new(map[string]int) }, `[]`, `{}`},
		{"top-level struct", func() any { return new(umInner) }, ` [ ] `, `{}`},
		{"top-level pointer to pointer", func() any { p := new(umInner); return &p }, `[]`, `{}`},
		{"map field", func() any { return new(umPayload) }, `{"data":[]}`, `{"data":{}}`},
		{"promoted field of embedded struct", func() any { return new(umPayload) }, `{"meta":[],"Inner":[]}`, `{"meta":{},"Inner":{}}`},
		{"case-insensitive name", func() any { return new(umPayload) }, `{"NOTAG":[],"inner":[]}`, `{"NOTAG":{},"inner":{}}`},
		{"pointers", func() any { return new(umPayload) }, `{"ptr":[],"ptr_ptr":[]}`, `{"ptr":{},"ptr_ptr":{}}`},
		{"slice and array elements", func() any { return new(umPayload) }, `{"list":[[],{"a":1}],"arr":[{"a":2},[]]}`, `{"list":[{},{"a":1}],"arr":[{"a":2},{}]}`},
		{"map values", func() any { return new(umPayload) }, `{"by_key":{"x":[],"y":{"a":1}}}`, `{"by_key":{"x":{},"y":{"a":1}}}`},
		{"nested in map values", func() any { return new(map[string]map[string]umInner) }, `{"x":[],"y":{"z":[]}}`, `{"x":{},"y":{"z":{}}}`},
		{"interface keeps the list", func() any { return new(umPayload) }, `{"any":[],"data":{"k":[]}}`, `{"any":[],"data":{"k":[]}}`},
		{"slice takes the list", func() any { return new(umPayload) }, `{"ints":[],"list":[]}`, `{"ints":[],"list":[]}`},
		{"Unmarshaler untouched", func() any { return new(umPayload) }, `{"custom":[],"custom_ptr":[],"data":[]}`, `{"custom":[],"custom_ptr":[],"data":{}}`},
		{"numbers keep their text", func() any { return new(umPayload) }, `{"data":[],"big":18446744073709551615,"num":1.50}`, `{"data":{},"big":18446744073709551615,"num":1.50}`},
		{"unknown and skipped keys", func() any { return new(umPayload) }, `{"nope":[],"Skipped":[],"data":[]}`, `{"nope":[],"Skipped":[],"data":{}}`},
		{"shallow field hides deeper", func() any { return new(umShadow) }, `{"Val":[]}`, `{"Val":{}}`},
		{"tagged field wins a tie", func() any { return new(umTagWins) }, `{"Val":[]}`, `{"Val":{}}`},
		{"exact name before folded", func() any { return new(umExactFirst) }, `{"Val":[],"val":[]}`, `{"Val":[],"val":{}}`},
		{"nothing to fix", func() any { return new(umPayload) }, `{"data":{"a":1},"ints":[1,2]}`, `{"data":{"a":1},"ints":[1,2]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.target()
			require.NoError(t, json.Unmarshal([]byte(tc.goJSON), want))
			got := tc.target()
			require.NoError(t, Unmarshal([]byte(tc.php), got))
			require.Equal(t, want, got)
		})
	}
}

func TestUnmarshalRecordsRawJSON(t *testing.T) {
	t.Parallel()

	var p umPayload
	require.NoError(t, Unmarshal([]byte(`{"custom":[],"custom_ptr":{"b":[],"a":"<\/>"},"data":[]}`), &p))
	require.Equal(t, "[]", p.Custom.raw, "an Unmarshaler's subtree is not rewritten")
	require.Equal(t, `{"a":"</>","b":[]}`, p.CustomPtr.raw, "only re-marshalled")
	require.Equal(t, map[string]any{}, p.Data)
}

func TestUnmarshalErrors(t *testing.T) {
	t.Parallel()

	var p umPayload
	var syntaxErr *json.SyntaxError
	require.ErrorAs(t, Unmarshal([]byte(`{"data":[]`), &p), &syntaxErr)
	require.ErrorAs(t, Unmarshal([]byte(`[] x`), &p), &syntaxErr)

	var typeErr *json.UnmarshalTypeError
	err := Unmarshal([]byte(`{"data":[],"ints":"x"}`), &p)
	require.ErrorAs(t, err, &typeErr)
	require.Equal(t, "ints", typeErr.Field)

	// Only an empty list stands for an object.
	require.ErrorAs(t, Unmarshal([]byte(`{"data":[1]}`), &p), &typeErr)

	var invalid *json.InvalidUnmarshalError
	require.ErrorAs(t, Unmarshal([]byte(`[]`), p), &invalid)
	require.ErrorAs(t, Unmarshal([]byte(`[]`), nil), &invalid)
}
