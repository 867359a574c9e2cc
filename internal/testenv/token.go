package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
)

// Token returns a random string of 16 hex digits no earlier run used: it
// makes steps miss the engine's cache, names images uniquely and is easy
// to search for in outputs.
func Token(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
