package thinkqueue

import (
	"fmt"
	"math"
	"strconv"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// The storage layer asks a dialect for the exact bytes each Redis step stores. PHP re-encodes payloads
// with json_encode(json_decode($s, true)) on some of these steps, which is not the identity ({} becomes
// [], 1.0 becomes 1, raw UTF-8 becomes \uXXXX), so the copies below go through phpjson.

// ReservedCopy returns the member to ZADD into :reserved for a job just popped as raw. V1 reserves the
// popped bytes unchanged. V3 reserves PHP's re-encode of raw with attempts+1 (a missing attempts counts
// as 0, where PHP would lose the job).
func (d Dialect) ReservedCopy(raw []byte) ([]byte, error) {
	if !d.isV3() {
		return raw, nil
	}
	return rewriteAttempts(raw, 0)
}

// ExpiredCopy returns what an expired :reserved member goes back to the list as. V1 rewrites it with
// attempts+1 (PHP's setMeta re-encode); V3 moves the member unchanged, since it already carries the
// increment.
func (d Dialect) ExpiredCopy(member []byte) ([]byte, error) {
	if d.isV3() {
		return member, nil
	}
	return rewriteAttempts(member, 1)
}

// RewritesExpired reports whether ExpiredCopy changes members, i.e. whether the reserved-expiry
// migration needs Go to compute each member rather than move it as is (true for V1 only).
func (d Dialect) RewritesExpired() bool { return !d.isV3() }

// ReleasedCopy returns the member release() ZADDs to :delayed for a job popped as raw and reserved as
// reserved. V1 stores raw re-encoded with attempts()+1; V3 stores the reserved bytes unchanged.
func (d Dialect) ReleasedCopy(raw, reserved []byte) ([]byte, error) {
	if d.isV3() {
		return reserved, nil
	}
	return rewriteAttempts(raw, 1)
}

// RetryCopy returns what `php think queue:retry` pushes back for a failed payload: PHP's re-encode with
// attempts reset to the version's start (V3: 0, V1: 1) when attempts is set and not null, else only
// re-encoded. (think-queue 1.x/2.x has no retry command; V1 mirrors the V3 one.)
func (d Dialect) RetryCopy(raw []byte) ([]byte, error) {
	m, err := decodeAssoc(raw)
	if err != nil {
		return nil, err
	}
	if v, ok := m.Get("attempts"); ok && v != nil {
		m.Set("attempts", d.startAttempts())
	}
	return encode(m)
}

// rewriteAttempts is PHP's decode / attempts+1 / encode round trip. missing is the attempts value
// assumed when the key is absent or null, so the result agrees with what Parse reports for raw.
func rewriteAttempts(raw []byte, missing int64) ([]byte, error) {
	if next, ok := spliceAttempts(raw); ok {
		return next, nil
	}
	return reencodeAttempts(raw, missing)
}

// reencodeAttempts is rewriteAttempts the long way: decode, attempts+1, encode.
func reencodeAttempts(raw []byte, missing int64) ([]byte, error) {
	m, err := decodeAssoc(raw)
	if err != nil {
		return nil, err
	}
	next, err := incremented(m, missing)
	if err != nil {
		return nil, err
	}
	m.Set("attempts", next)
	return encode(m)
}

// spliceAttempts is rewriteAttempts for the common payload, one PHP's json_encode wrote with an integer
// attempts: its round trip changes only the digits of attempts, so they are replaced in a copy of raw,
// without decoding it. ok is false for any other payload.
func spliceAttempts(raw []byte) (next []byte, ok bool) {
	if !phpjson.Canonical(raw) {
		return nil, false
	}
	for m := phpjson.NewMembers(raw); ; {
		key, value, ok := m.Next()
		if !ok {
			return nil, false // no attempts: PHP adds the key, at the end
		}
		if string(key) != "attempts" { // a canonical object has no repeated key
			continue
		}
		n, err := strconv.ParseInt(string(value), 10, 64) // null, a float: the round trip decides
		if err != nil || n == math.MaxInt64 {
			return nil, false
		}
		at := cap(raw) - cap(value) // value is raw[at : at+len(value)]
		next = make([]byte, 0, len(raw)+1)
		next = append(next, raw[:at]...)
		next = strconv.AppendInt(next, n+1, 10)
		return append(next, raw[at+len(value):]...), true
	}
}

// incremented returns attempts+1 keeping PHP's number type: an int stays an int and a float a float.
func incremented(m *phpjson.Map, missing int64) (any, error) {
	v, _ := m.Get("attempts")
	switch n := v.(type) {
	case nil:
		return missing + 1, nil
	case int64:
		if n == math.MaxInt64 { // PHP's ++ overflows into a float
			return float64(n) + 1, nil
		}
		return n + 1, nil
	case float64:
		if n == math.Trunc(n) { // the same integers Parse accepts
			return n + 1, nil
		}
	}
	return nil, &PayloadError{Reason: fmt.Sprintf(`"attempts" is not an integer: %v`, v)}
}

// decodeAssoc is PHP's json_decode($raw, true) of a payload, which must be an object.
func decodeAssoc(raw []byte) (*phpjson.Map, error) {
	v, err := phpjson.Decode(raw)
	if err != nil {
		return nil, &PayloadError{Reason: "not valid JSON: " + err.Error()}
	}
	m, ok := phpjson.Assoc(v).(*phpjson.Map)
	if !ok {
		return nil, &PayloadError{Reason: "not a JSON object"}
	}
	return m, nil
}

func encode(m *phpjson.Map) ([]byte, error) {
	b, err := phpjson.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("thinkqueue: re-encode payload: %w", err)
	}
	return b, nil
}
