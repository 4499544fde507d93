// Package phpjson reads and writes JSON byte for byte as PHP 8's json_encode and json_decode do, so that a Go
// process can share queue payloads with think-queue and Laravel workers without changing a single byte.
//
// # Two views of a JSON object
//
// PHP's json_decode($s, true) turns every JSON object into an array, and json_encode writes an array as a JSON
// list when its keys are exactly 0..n-1 in order. So a round trip through PHP turns {} into [] and
// {"0":"a","1":"b"} into ["a","b"]. This package keeps the two steps apart:
//
//   - [Decode] keeps what the bytes say: every object becomes a *[Map] (ordered keys), every list a []any.
//   - [Assoc] applies PHP's array semantics: a *Map keyed "0".."n-1" in order, or empty, becomes a []any.
//   - [Encode] writes exactly the value it is given, as json_encode with no flags would.
//   - [EncodeUnescapedUnicode] does the same with JSON_UNESCAPED_UNICODE, as Laravel writes its payloads.
//   - [Normalize] is Encode(Assoc(Decode(b))): json_encode(json_decode($b, true)).
//
// # Byte rules
//
// Encode escapes "/" as "\/" and every non-ASCII character as a lowercase \uXXXX escape (astral characters as
// a surrogate pair), writes floats in their shortest round-trip form laid out as PHP does (2.0 is "2", 1e25
// is "1.0e+25", 0.00001 is "1.0e-5"), and fails on malformed UTF-8, NaN and Inf, as PHP does.
//
// Decode accepts exactly what json_decode accepts: an integer literal that fits int64 becomes an int64 and every
// other number a float64, malformed UTF-8 and unpaired UTF-16 surrogate escapes are errors, and objects and
// lists may nest at most 511 deep (json_decode's default depth of 512 counts the innermost value too).
//
// # Go values
//
// [FromGo] turns a Go value into the tree PHP would hold after decoding Go's JSON for it, and [Unmarshal] binds
// PHP-written JSON to Go types, accepting [] where a struct or map is expected, because PHP writes an empty
// array for an empty object.
package phpjson
