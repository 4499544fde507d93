package phpjson

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonical(t *testing.T) {
	for _, s := range []string{
		`{"job":"app\\job\\Hello","data":{"a":[1,-2,true,false,null,[]],"b":"x\/y \"q\" \n\t\u0001\u00e9\u2028"},"id":"x","attempts":0}`,
		`{"a":{"b":{"c":"d"}}}`,
		`{"k-1":0,"1a":1}`,
		`{"f":1.5,"g":-0.25,"h":1.0e+25,"e":"\ud83d\ude00"}`,
	} {
		require.True(t, Canonical([]byte(s)), "%s", s)
	}
	for _, s := range []string{
		``, `[]`, `"x"`, `{}`, `{"a":{}}`, // {} decodes to an empty PHP array, written []
		`{"a": 1}`, ` {"a":1}`, `{"a":1} `, // space
		`{"a":"/"}`, `{"a":"é"}`, `{"a":"\u0041"}`, `{"a":"\u000a"}`, `{"a":"\u00E9"}`, `{"a":"\ude00"}`, `{"a":"\ud83d"}`, `{"a":"\ud83dx"}`, // escapes json_encode writes otherwise
		`{"a":1.0}`, `{"a":1e3}`, `{"a":2.50}`, `{"a":1e999}`, `{"a":-0}`, `{"a":01}`, `{"a":1234567890123456789}`, // numbers
		`{"0":"a"}`, `{"-1":"a"}`, `{"a":1,"a":2}`, // keys PHP reads as integers, a repeated key
		`{"a":1`, `{"a":tru}`, `{"a":[1,]}`, `{"a"}`, // broken
	} {
		require.False(t, Canonical([]byte(s)), "%s", s)
	}
}

// The payloads PHP wrote are canonical, but for those holding an empty object, which PHP's decode into an
// array writes back as []: the fast path is the common one.
func TestCanonicalFixtures(t *testing.T) {
	paths := globFixtures(t, "thinkqueue/v*/*/payloads/*.json")
	require.NotEmpty(t, paths)
	for _, path := range paths {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, !bytes.Contains(b, []byte("{}")), Canonical(b), "%s", path)
	}
}
