package laravel

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// objectProps is a Go consumer's view of App\Jobs\ObjectProps.
type objectProps struct {
	Name    string
	Tags    map[string]any
	Ratio   float64
	Whole   float64
	Count   int
	Neg     int64
	Flag    bool
	Off     bool
	Nothing *string
	Format  string `php:"format"` // protected
	Secret  string // private
	Queueable
}

// typedTags binds the nested tags array to typed Go values.
type typedTags struct {
	A []any
	B []string
	C map[string]struct {
		E string `php:"e"`
	}
}

type withModel struct {
	User  ModelIdentifier
	Users *ModelIdentifier
	Note  string
	Queueable
}

type withOptions struct {
	Tries         int
	Backoff       []int
	MaxExceptions uint8
	Timeout       int32
	FailOnTimeout bool
	*Queueable
}

func commandOf(t *testing.T, dir, file string) string {
	t.Helper()
	p := mustParse(t, Dialect{Version: V12}, readFixture(t, dir, "payloads", file))
	require.False(t, p.Encrypted())
	return p.Command
}

func TestDecodeCommandObjectProps(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			command := commandOf(t, v.dir, "object_props.json")
			var got objectProps
			require.NoError(t, DecodeCommand(command, &got))
			require.Equal(t, objectProps{
				Name: "张三 / O'Brien \"q\" <b>&amp; \\ tab\t nl\n 😀",
				Tags: map[string]any{
					"a": []any{int64(1), 2.5, true, nil},
					"b": []any{},
					"c": objMap("d", objMap("e", "deep")),
				},
				Ratio: 0.1, Whole: 2.0, Count: 42, Neg: -7, Flag: true, Off: false, Nothing: nil,
				Format: "pdf", Secret: "s3cr3t",
				Queueable: Queueable{Middleware: []any{}, Chained: []string{}},
			}, got)

			var tags struct{ Tags typedTags }
			require.NoError(t, DecodeCommand(command, &tags))
			require.Equal(t, typedTags{A: []any{int64(1), 2.5, true, nil}, B: []string{},
				C: map[string]struct {
					E string `php:"e"`
				}{"d": {E: "deep"}}}, tags.Tags)

			// The generic view keeps visibility, order and PHP's types (whole is the float 2.0).
			var obj Object
			require.NoError(t, DecodeCommand(command, &obj))
			require.Equal(t, `App\Jobs\ObjectProps`, obj.Class)
			whole, ok := obj.Prop("whole")
			require.True(t, ok)
			require.Equal(t, 2.0, whole.Value)
			format, _ := obj.Prop("format")
			require.Equal(t, Prop{Name: "format", Visibility: Protected, Value: "pdf"}, format)
			secret, _ := obj.Prop("secret")
			require.Equal(t, Prop{Name: "secret", Visibility: Private, Class: `App\Jobs\ObjectProps`, Value: "s3cr3t"}, secret)
			_, ok = obj.Prop("missing")
			require.False(t, ok)

			var generic any
			require.NoError(t, DecodeCommand(command, &generic))
			require.Equal(t, &obj, generic)
		})
	}
}

func TestDecodeCommandModel(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			var got withModel
			require.NoError(t, DecodeCommand(commandOf(t, v.dir, "model.json"), &got))
			require.Equal(t, ModelIdentifier{Class: `App\Models\User`, ID: int64(42), Relations: []string{}, Connection: "sqlite"}, got.User)
			require.Equal(t, &ModelIdentifier{Class: `App\Models\User`, ID: []any{int64(42), int64(43)}, Relations: []string{}, Connection: "sqlite"}, got.Users)
			// 11.x and 12.x leave out properties still equal to their default (note = 'héllo').
			if v.dir == "v8" {
				require.Equal(t, "héllo", got.Note)
			} else {
				require.Empty(t, got.Note)
			}
			require.Equal(t, Queueable{Middleware: []any{}, Chained: []string{}}, normalizeQueueable(got.Queueable, v.dir))
		})
	}
}

// normalizeQueueable makes the two ways an empty middleware or chained list can decode comparable: v8
// serializes the defaults (a:0:{}, an empty slice), 11.x+ SerializesModels leaves them out (nil).
func normalizeQueueable(q Queueable, dir string) Queueable {
	if dir != "v8" && q.Middleware == nil && q.Chained == nil {
		q.Middleware, q.Chained = []any{}, []string{}
	}
	return q
}

func TestDecodeCommandQueueable(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			var opts withOptions
			require.NoError(t, DecodeCommand(commandOf(t, v.dir, "queueable_options.json"), &opts))
			require.Equal(t, withOptions{Tries: 5, Backoff: []int{10, 30, 60}, MaxExceptions: 2, Timeout: 120, FailOnTimeout: true,
				Queueable: &Queueable{Middleware: []any{}, Chained: []string{}}}, opts)

			var plain struct {
				N int
				Queueable
			}
			require.NoError(t, DecodeCommand(commandOf(t, v.dir, "bus_onqueue_onconnection.json"), &plain))
			require.Equal(t, 2, plain.N)
			require.Equal(t, "bus", plain.Queue)
			require.Equal(t, "redis", plain.Connection)
			require.Nil(t, plain.Delay)

			require.NoError(t, DecodeCommand(commandOf(t, v.dir, "bus_delay_600.json"), &plain))
			require.Equal(t, 3, plain.N)
			require.Equal(t, "busdelay", plain.Queue)
			require.Empty(t, plain.Connection)
			require.Equal(t, int64(600), plain.Delay)

			require.NoError(t, DecodeCommand(commandOf(t, v.dir, "chain.json"), &plain))
			require.Equal(t, "chain", plain.Queue)
			require.Equal(t, "chain", plain.ChainQueue)
			require.Equal(t, []any{}, plain.ChainCatchCallbacks)
			require.Len(t, plain.Chained, 2)
			var next struct {
				N int
				Queueable
			}
			require.NoError(t, DecodeCommand(plain.Chained[1], &next))
			require.Equal(t, 6, next.N)
			require.Equal(t, "ignored", next.Queue)
		})
	}
}

func TestDecodeCommandConversions(t *testing.T) {
	t.Parallel()
	type inner struct{ X int }
	type target struct {
		F       float64
		I       int
		U       uint
		B       []byte
		Arr     [2]int
		ByIndex map[int]string
		Struct  inner
		Empty   inner
		Map     phpjson.Map
		Enum    Enum
		Any     any
		Skip    string `php:"-"`
		Renamed string `php:"original"`
		Ptr     **int
	}
	cmd := `O:1:"T":14:{s:1:"f";i:3;s:1:"i";d:4;s:1:"u";i:5;s:1:"b";s:2:"hi";s:3:"arr";a:1:{i:0;i:9;}` +
		`s:7:"byIndex";a:2:{i:3;s:1:"c";i:7;s:1:"g";}s:6:"struct";O:8:"stdClass":1:{s:1:"x";i:1;}s:5:"empty";a:0:{}` +
		`s:3:"map";a:1:{i:0;s:1:"z";}s:4:"enum";E:8:"Pure:One";s:3:"any";a:1:{s:1:"k";b:1;}s:4:"skip";s:1:"x";` +
		`s:8:"original";s:1:"r";s:3:"ptr";i:8;}`
	got := target{Skip: "kept", Empty: inner{X: 5}}
	require.NoError(t, DecodeCommand(cmd, &got))
	eight := 8
	eightp := &eight
	require.Equal(t, target{F: 3, I: 4, U: 5, B: []byte("hi"), Arr: [2]int{9}, ByIndex: map[int]string{3: "c", 7: "g"},
		Struct: inner{X: 1}, Empty: inner{X: 5}, Map: phpjson.Map{Keys: []string{"0"}, Values: []any{"z"}},
		Enum: Enum{Class: "Pure", Case: "One"}, Any: objMap("k", true), Skip: "kept", Renamed: "r", Ptr: &eightp}, got)
}

func TestDecodeCommandErrors(t *testing.T) {
	t.Parallel()
	var s struct {
		Count  string
		Small  int8
		Ratio  int
		Neg    uint
		Name   []int
		Nested struct{ X bool }
		Model  ModelIdentifier
		M      map[int]string
	}
	tests := []struct {
		command string
		target  any
		want    string
	}{
		{`O:1:"A":1:{s:5:"count";i:1;}`, &s, "count: cannot store int in string"},
		{`O:1:"A":1:{s:5:"small";i:300;}`, &s, "small: 300 overflows int8"},
		{`O:1:"A":1:{s:5:"ratio";d:0.5;}`, &s, "ratio: cannot store float in int"},
		{`O:1:"A":1:{s:3:"neg";i:-1;}`, &s, "neg: -1 overflows uint"},
		{`O:1:"A":1:{s:4:"name";a:1:{i:0;s:1:"x";}}`, &s, "name[0]: cannot store string in int"},
		{`O:1:"A":1:{s:6:"nested";a:1:{s:1:"x";i:1;}}`, &s, "nested.x: cannot store int in bool"},
		{`O:1:"A":1:{s:5:"model";O:1:"B":0:{}}`, &s, "model: cannot store object B in laravel.ModelIdentifier"},
		{`O:1:"A":1:{s:1:"m";a:1:{s:1:"k";N;}}`, &s, `m: key "k" is not a int`},
		{`O:1:"A":0:{}`, s, "need a non-nil pointer, got struct"},
		{`O:1:"A":0:{}`, (*int)(nil), "need a non-nil pointer, got *int"},
		{`eyJpdiI6`, &s, "not a serialized object (encrypted?)"},
		{`O:1:"A":1:{`, &s, "unserialize: offset 11: unexpected end of input"},
		{`O:1:"A":0:{}`, new(int), "value: cannot store object A in int"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			err := DecodeCommand(tt.command, tt.target)
			require.ErrorContains(t, err, "laravel: decode command: ")
			require.ErrorContains(t, err, tt.want)
		})
	}
}
