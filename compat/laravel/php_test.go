package laravel

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
)

func serialize(d Dialect, v any) (string, error) {
	w := serializer{d: d}
	if err := w.value(v, 0); err != nil {
		return "", err
	}
	return string(w.buf), nil
}

// The serialized forms were printed by PHP 8.2's serialize().
func TestSerializeMatchesPHP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      any
		generic any // what Unserialize returns; nil means in itself
		php     string
	}{
		{"scalars",
			[]any{nil, true, false, 0, -7, math.MaxInt64, math.MinInt64, 0.1, 2.0, negativeZero(), 1e25, 1.5e-7, 0.00001, 1e15, 1e17,
				123456789.5, math.Inf(1), math.Inf(-1), "", "é/\"\\;", "a\x00b"},
			[]any{nil, true, false, int64(0), int64(-7), int64(math.MaxInt64), int64(math.MinInt64), 0.1, 2.0, negativeZero(), 1e25, 1.5e-7,
				0.00001, 1e15, 1e17, 123456789.5, math.Inf(1), math.Inf(-1), "", "é/\"\\;", "a\x00b"},
			"a:21:{i:0;N;i:1;b:1;i:2;b:0;i:3;i:0;i:4;i:-7;i:5;i:9223372036854775807;i:6;i:-9223372036854775808;i:7;d:0.1;i:8;d:2;i:9;d:-0;" +
				"i:10;d:1.0E+25;i:11;d:1.5E-7;i:12;d:1.0E-5;i:13;d:1000000000000000;i:14;d:1.0E+17;i:15;d:123456789.5;i:16;d:INF;" +
				"i:17;d:-INF;i:18;s:0:\"\";i:19;s:6:\"é/\"\\;\";i:20;s:3:\"a\x00b\";}"},
		{"integer and string keys",
			objMap("5", "a", "05", "b", "-3", "c", "x", []any{}, "", "e", "9223372036854775808", "big"), nil,
			`a:6:{i:5;s:1:"a";s:2:"05";s:1:"b";i:-3;s:1:"c";s:1:"x";a:0:{}s:0:"";s:1:"e";s:19:"9223372036854775808";s:3:"big";}`},
		{"nested lists", []any{"a", []any{"b", []any{"c"}}}, nil,
			`a:2:{i:0;s:1:"a";i:1;a:2:{i:0;s:1:"b";i:1;a:1:{i:0;s:1:"c";}}}`},
		{"enums", []any{Enum{Class: "Status", Case: "Active"}, Enum{Class: "Pure", Case: "One"}}, nil,
			`a:2:{i:0;E:13:"Status:Active";i:1;E:8:"Pure:One";}`},
		{"visibilities and an inherited private property",
			&Object{Class: "Child", Props: []Prop{
				{Name: "hidden", Visibility: Private, Class: "Base", Value: "base"},
				{Name: "prot", Visibility: Protected, Value: 1},
				{Name: "pub", Value: objMap("1", "x", "k", nil)},
				{Name: "hidden", Visibility: Private, Value: "child"},
			}},
			&Object{Class: "Child", Props: []Prop{
				{Name: "hidden", Visibility: Private, Class: "Base", Value: "base"},
				{Name: "prot", Visibility: Protected, Value: int64(1)},
				{Name: "pub", Value: objMap("1", "x", "k", nil)},
				{Name: "hidden", Visibility: Private, Class: "Child", Value: "child"},
			}},
			"O:5:\"Child\":4:{s:12:\"\x00Base\x00hidden\";s:4:\"base\";s:7:\"\x00*\x00prot\";i:1;s:3:\"pub\";a:2:{i:1;s:1:\"x\";s:1:\"k\";N;}" +
				"s:13:\"\x00Child\x00hidden\";s:5:\"child\";}"},
		{"stdClass", Object{Class: "stdClass", Props: []Prop{{Name: "a", Value: int64(1)}}},
			&Object{Class: "stdClass", Props: []Prop{{Name: "a", Value: int64(1)}}}, `O:8:"stdClass":1:{s:1:"a";i:1;}`},
		{"Serializable class", Custom{Class: "Foo", Data: "a;}b"}, nil, `C:3:"Foo":4:{a;}b}`},
	}
	d := Dialect{Version: V12}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := serialize(d, tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.php, got)

			want := tt.generic
			if want == nil {
				want = tt.in
			}
			back, err := Unserialize(tt.php)
			require.NoError(t, err)
			require.Equal(t, want, back)
			again, err := serialize(d, back)
			require.NoError(t, err)
			require.Equal(t, tt.php, again)
		})
	}
}

func TestSerializeGoKinds(t *testing.T) {
	t.Parallel()
	d := Dialect{Version: V8}
	tests := []struct {
		in   any
		want string
	}{
		{int8(-8), "i:-8;"},
		{int16(16), "i:16;"},
		{int32(-32), "i:-32;"},
		{uint(7), "i:7;"},
		{uint8(255), "i:255;"},
		{uint16(16), "i:16;"},
		{uint32(32), "i:32;"},
		{uint64(math.MaxUint64), "d:1.8446744073709552E+19;"},
		{float32(1.5), "d:1.5;"},
		{math.NaN(), "d:NAN;"},
		{[]string{"a"}, `a:1:{i:0;s:1:"a";}`},
		{[]int{3}, `a:1:{i:0;i:3;}`},
		{[]int64{4}, `a:1:{i:0;i:4;}`},
		{map[string]any{"b": 1, "a": 2, "10": 3}, `a:3:{i:10;i:3;s:1:"a";i:2;s:1:"b";i:1;}`},
		{(*phpjson.Map)(nil), "N;"},
		{(*Object)(nil), "N;"},
		{(*ModelIdentifier)(nil), "N;"},
		{&ModelIdentifier{Class: "U", ID: "k"}, `O:45:"Illuminate\Contracts\Database\ModelIdentifier":4:{s:5:"class";s:1:"U";s:2:"id";s:1:"k";s:9:"relations";a:0:{}s:10:"connection";N;}`},
	}
	for _, tt := range tests {
		got, err := serialize(d, tt.in)
		require.NoError(t, err, "%T", tt.in)
		require.Equal(t, tt.want, got, "%T", tt.in)
	}
	_, err := serialize(d, struct{}{})
	require.EqualError(t, err, "cannot serialize struct {}")
	deep := any(nil)
	for range 600 {
		deep = []any{deep}
	}
	_, err = serialize(d, deep)
	require.EqualError(t, err, "nesting deeper than 512")
}

// TestSerializeModelIdentifier pins both ModelIdentifier layouts against the fixtures' model payloads.
func TestSerializeModelIdentifier(t *testing.T) {
	t.Parallel()
	m := ModelIdentifier{Class: `App\Models\User`, ID: []any{42, 43}, Relations: []string{"posts.comments"}, Connection: "sqlite"}
	for _, tt := range []struct {
		v    Version
		want string
	}{
		{V8, `O:45:"Illuminate\Contracts\Database\ModelIdentifier":4:{s:5:"class";s:15:"App\Models\User";s:2:"id";a:2:{i:0;i:42;i:1;i:43;}s:9:"relations";a:1:{i:0;s:14:"posts.comments";}s:10:"connection";s:6:"sqlite";}`},
		{V9, `O:45:"Illuminate\Contracts\Database\ModelIdentifier":5:{s:5:"class";s:15:"App\Models\User";s:2:"id";a:2:{i:0;i:42;i:1;i:43;}s:9:"relations";a:1:{i:0;s:14:"posts.comments";}s:10:"connection";s:6:"sqlite";s:15:"collectionClass";N;}`},
	} {
		got, err := serialize(Dialect{Version: tt.v}, m)
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
		back, err := Unserialize(got)
		require.NoError(t, err)
		require.Equal(t, ModelIdentifier{Class: `App\Models\User`, ID: []any{int64(42), int64(43)}, Relations: []string{"posts.comments"},
			Connection: "sqlite"}, back)
	}
}

func TestUnserializeReferences(t *testing.T) {
	t.Parallel()
	v, err := Unserialize(`a:2:{s:2:"o1";O:8:"stdClass":0:{}s:2:"o2";r:2;}`)
	require.NoError(t, err)
	m := v.(*phpjson.Map)
	require.Same(t, m.Values[0], m.Values[1])

	v, err = Unserialize(`a:3:{s:1:"v";i:5;s:1:"w";R:2;s:1:"x";r:1;}`)
	require.NoError(t, err)
	m = v.(*phpjson.Map)
	require.Equal(t, []any{int64(5), int64(5), nil}, m.Values, "a reference into an unfinished array sees null")
}

// A value PHP accepts with trailing bytes is read up to its end, as PHP 8.2 does.
func TestUnserializeTrailingData(t *testing.T) {
	t.Parallel()
	v, err := Unserialize(`i:5;garbage`)
	require.NoError(t, err)
	require.Equal(t, int64(5), v)
}

func TestUnserializeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{``, "offset 0: unexpected end of input"},
		{`x:1;`, `offset 0: unsupported type 'x'`},
		{`i5;`, `offset 0: expected ':' after 'i'`},
		{`i:5`, "offset 2: unexpected end of input"},
		{`i:five;`, `offset 7: invalid integer "five"`},
		{`b:2;`, `offset 4: invalid bool "2"`},
		{`d:1e;`, `offset 5: invalid float "1e"`},
		{`d:inf;`, `offset 6: invalid float "inf"`},
		{`s:5:"abc";`, "offset 5: unexpected end of input"},
		{`s:3:"abcd";`, `offset 8: expected "\""`},
		{`s:-1:"";`, `offset 5: invalid length "-1"`},
		{`s:3:"abc"`, "offset 9: unexpected end of input"},
		{`a:1:{i:0;i:1;`, "offset 13: unexpected end of input"},
		{`a:1:{d:0;i:1;}`, `offset 5: invalid array key type 'd'`},
		{`a:9:{}`, "offset 5: unexpected end of input"},
		{`O:1:"A":1:{i:0;i:1;}`, "offset 11: expected a property name"},
		{`E:3:"Foo";`, `offset 10: invalid enum "Foo"`},
		{`r:3;`, `offset 4: invalid reference "3"`},
		{`O:45:"Illuminate\Contracts\Database\ModelIdentifier":1:{s:5:"class";i:1;}`,
			`offset 73: Illuminate\Contracts\Database\ModelIdentifier: class: cannot store int in string`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			v, err := Unserialize(tt.in)
			require.EqualError(t, err, "laravel: unserialize: "+tt.want)
			require.Nil(t, v)
		})
	}
}

func TestPHPIntKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"0": true, "12": true, "-3": true, "9223372036854775807": true, "-9223372036854775808": true,
		"": false, "01": false, "-0": false, "+1": false, " 1": false, "1.0": false, "9223372036854775808": false, "-01": false, "x": false,
	} {
		_, got := phpIntKey(k)
		require.Equal(t, want, got, "%q", k)
	}
}

// Declared lengths and counts are checked against what is left of the input without arithmetic that
// could overflow: the largest int64 is as truncated as any other length too long for the input.
func TestUnserializeHugeLengths(t *testing.T) {
	t.Parallel()
	const huge = "9223372036854775807"
	tests := []struct {
		in, want string
	}{
		{`s:` + huge + `:"x";`, "offset 23: unexpected end of input"},
		{`E:` + huge + `:"x";`, "offset 23: unexpected end of input"},
		{`O:` + huge + `:"x":0:{}`, "offset 23: unexpected end of input"},
		{`C:` + huge + `:"x":0:{}`, "offset 23: unexpected end of input"},
		{`C:1:"x":` + huge + `:{}`, "offset 29: unexpected end of input"},
		{`a:` + huge + `:{}`, "offset 23: unexpected end of input"},
		{`O:1:"A":` + huge + `:{}`, "offset 29: unexpected end of input"},
		{`a:1:{s:` + huge + `:"k";N;}`, "offset 28: unexpected end of input"},
		{`s:-9223372036854775808:"";`, `offset 23: invalid length "-9223372036854775808"`},
		{`s:99999999999999999999:"x";`, `offset 23: invalid length "99999999999999999999"`},
		{`C:1:"x":2:{}`, "offset 11: unexpected end of input"},
	}
	for _, tt := range tests {
		v, err := Unserialize(tt.in)
		require.EqualError(t, err, "laravel: unserialize: "+tt.want, tt.in)
		require.Nil(t, v)
	}
}

// References repeat a value without repeating its text; the result stays bounded by the input's size
// and nesting limit, and never holds a cycle.
func TestUnserializeReferenceBounds(t *testing.T) {
	t.Parallel()
	// An object referring to itself sees null, as an array does.
	v, err := Unserialize(`O:1:"A":1:{s:4:"self";r:1;}`)
	require.NoError(t, err)
	require.Equal(t, &Object{Class: "A", Props: []Prop{{Name: "self"}}}, v)

	// Each array holds the one before it twice: 2^40 values from 40 levels of text.
	var b strings.Builder
	for range 40 {
		b.WriteString(`a:2:{i:0;`)
	}
	b.WriteString(`N;`)
	for k := 1; k <= 40; k++ { // level k (slot 41-k) repeats level k-1 (slot 42-k)
		fmt.Fprintf(&b, `i:1;R:%d;}`, 42-k)
	}
	_, err = Unserialize(b.String())
	require.ErrorContains(t, err, "references expand the value beyond")

	// A chain where each value nests the one before it 300 levels deeper.
	b.Reset()
	b.WriteString(`a:3:{i:0;` + strings.Repeat(`a:1:{i:0;`, 300) + `N;` + strings.Repeat(`}`, 300))
	b.WriteString(`i:1;` + strings.Repeat(`a:1:{i:0;`, 300) + `R:2;` + strings.Repeat(`}`, 300))
	b.WriteString(`i:2;N;}`)
	_, err = Unserialize(b.String())
	require.ErrorContains(t, err, "nesting deeper than 512")

	// What PHP writes for an object shared by two properties stays as it was.
	v, err = Unserialize(`a:2:{i:0;O:8:"stdClass":1:{s:1:"a";a:1:{i:0;i:1;}}i:1;r:2;}`)
	require.NoError(t, err)
	require.Same(t, v.([]any)[0], v.([]any)[1])
}
