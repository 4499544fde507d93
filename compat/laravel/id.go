package laravel

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
)

const (
	idLength  = 32
	idLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// NewUUID returns a random (version 4) UUID in lower case with hyphens, as Str::uuid() makes the payload
// uuid.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// NewID returns a Redis job id as RedisQueue::getRandomId() makes them with Str::random(32): 32 characters
// from [A-Za-z0-9]. Ids only need to be unique, not secret, so math/rand/v2 (ChaCha8-seeded) is enough.
func NewID() string {
	var b [idLength]byte
	for i := range b {
		b[i] = idLetters[mrand.IntN(len(idLetters))]
	}
	return string(b[:])
}
