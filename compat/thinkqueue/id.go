package thinkqueue

import "math/rand/v2"

const (
	idLength  = 32
	idLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	// idRepeat mirrors think-helper 3.1.3+ Str::random(32): the letters repeated 5 times, shuffled,
	// cut to 32, so no letter appears more than 5 times in an id.
	idRepeat = 5
)

// NewID returns a job id as current think-helper makes them: 32 letters from [A-Za-z]. Older
// think-helper also used digits, so letters-only ids are valid for every think-queue version. Ids only
// need to be unique, not secret, so math/rand/v2 (ChaCha8-seeded) is enough.
func NewID() string {
	var pool [idRepeat * len(idLetters)]byte
	for i := range pool {
		pool[i] = idLetters[i%len(idLetters)]
	}
	// A partial Fisher-Yates shuffle: the first idLength slots end up as str_shuffle's first 32.
	for i := range idLength {
		j := i + rand.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return string(pool[:idLength])
}
