package phpjson_test

import (
	"fmt"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// Normalize gives the bytes PHP writes after json_decode($s, true) and json_encode.
func ExampleNormalize() {
	out, err := phpjson.Normalize([]byte(`{"job":"app/Job@fire","data":{},"list":{"0":"a","1":"b"},"n":1.0,"name":"张"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: {"job":"app\/Job@fire","data":[],"list":["a","b"],"n":1,"name":"\u5f20"}
}

// Decode keeps objects as ordered Maps; Encode writes them back unchanged.
func ExampleDecode() {
	v, err := phpjson.Decode([]byte(`{"b":{},"a":[1,2.5]}`))
	if err != nil {
		panic(err)
	}
	m := v.(*phpjson.Map)
	a, _ := m.Get("a")
	fmt.Println(m.Keys, a)

	m.Set("c", "x/y")
	out, err := phpjson.Encode(m)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// [b a] [1 2.5]
	// {"b":{},"a":[1,2.5],"c":"x\/y"}
}

// Unmarshal accepts PHP's [] for an empty object.
func ExampleUnmarshal() {
	var job struct {
		Job  string            `json:"job"`
		Data map[string]string `json:"data"`
	}
	if err := phpjson.Unmarshal([]byte(`{"job":"app\\Job","data":[]}`), &job); err != nil {
		panic(err)
	}
	fmt.Printf("%s %d %t\n", job.Job, len(job.Data), job.Data != nil)
	// Output: app\Job 0 true
}
