package thinkqueue

import (
	"fmt"
	"strings"
)

// Version is a think-queue wire-format line.
type Version int

const (
	// V1 is think-queue 1.x (ThinkPHP 5.0) and 2.x (ThinkPHP 5.1): payloads start at attempts 1 and
	// attempts grow on release and on reserved-expiry migration.
	V1 Version = 1
	// V3 is think-queue 3.x (ThinkPHP 6/8): payloads start at attempts 0 and the reserved copy carries
	// attempts+1.
	V3 Version = 3
)

// KeyScheme selects how Redis key names are spelled.
type KeyScheme int

const (
	// KeysPlain is queues:<name> (v1, v2, and v3.0.0–3.0.4).
	KeysPlain KeyScheme = iota + 1
	// KeysHashTag is {queues:<name>} (v3.0.5 and later), a Redis Cluster hash tag.
	KeysHashTag
)

// Dialect is one deployment's wire format: a Version plus its Redis KeyScheme. Obtain one from
// ParseDialect; the zero Dialect is not a valid one.
type Dialect struct {
	Version Version
	Keys    KeyScheme
}

// The accepted dialect names. v2 is an alias of v1 because the two write identical bytes.
const (
	nameV1      = "thinkqueue-v1"
	nameV2      = "thinkqueue-v2"
	nameV3      = "thinkqueue-v3"
	nameV3Plain = "thinkqueue-v3-plain"
)

// ParseDialect maps a configured dialect name to a Dialect: "thinkqueue-v1", "thinkqueue-v2" (same as v1),
// "thinkqueue-v3" (3.0.5+ hash-tag keys) or "thinkqueue-v3-plain" (3.0.0–3.0.4 key names).
func ParseDialect(name string) (Dialect, error) {
	switch name {
	case nameV1, nameV2:
		return Dialect{Version: V1, Keys: KeysPlain}, nil
	case nameV3:
		return Dialect{Version: V3, Keys: KeysHashTag}, nil
	case nameV3Plain:
		return Dialect{Version: V3, Keys: KeysPlain}, nil
	}
	return Dialect{}, fmt.Errorf("thinkqueue: unknown dialect %q (accepted: %s)",
		name, strings.Join([]string{nameV1, nameV2, nameV3, nameV3Plain}, ", "))
}

// Name returns the canonical name ParseDialect accepts for d; a v2 dialect reports "thinkqueue-v1".
func (d Dialect) Name() string {
	switch d {
	case Dialect{Version: V1, Keys: KeysPlain}:
		return nameV1
	case Dialect{Version: V3, Keys: KeysHashTag}:
		return nameV3
	case Dialect{Version: V3, Keys: KeysPlain}:
		return nameV3Plain
	}
	return fmt.Sprintf("thinkqueue(version=%d, keys=%d)", d.Version, d.Keys)
}

// isV3 reports whether d follows the 3.x rules; everything else follows 1.x/2.x.
func (d Dialect) isV3() bool { return d.Version == V3 }
