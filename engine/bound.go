package engine

import (
	"strconv"
	"unicode/utf8"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// maxQuoted bounds how much of a value given by the user an error message
// quotes; maxCause bounds the text of an underlying error it carries.
const (
	maxQuoted = 200
	maxCause  = 2048
)

// clip returns s cut to at most n bytes on a rune boundary, saying how
// long it was when it had to be cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:runeCut(s, n)] + "… (" + strconv.Itoa(len(s)) + " bytes in all)"
}

// quote quotes a bounded prefix of a value given by the user, for error
// messages: a huge input never makes a huge error.
func quote(s string) string { return lllb.Quote(s) }

// runeCut returns the largest index at most n that starts a rune of s.
func runeCut(s string, n int) int {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// boundedError carries an error whose text may hold a huge input, showing
// at most maxCause bytes of it; errors.Is and errors.As still see the
// whole chain.
type boundedError struct{ err error }

func (b boundedError) Error() string { return clip(b.err.Error(), maxCause) }
func (b boundedError) Unwrap() error { return b.err }

// bounded wraps err so that its text stays bounded; nil stays nil.
func bounded(err error) error {
	if err == nil || len(err.Error()) <= maxCause {
		return err
	}
	return boundedError{err}
}
