package llb

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError reports a bad argument given to a build step. It names
// the operation, the argument, the Go source position that made the step and
// how to fix it. Builders record it on the value; it surfaces when the value
// is compiled or run, before anything reaches the daemon.
//
// Users never see this type: CompileValue and sdktest hand out package
// sdk's public ValidationError instead, and errors.As converts one found
// deeper in a chain (see [ValidationError.As]).
type ValidationError struct {
	Op       string   // the builder, e.g. "WithExec"
	Arg      string   // the argument, e.g. "args"
	Location Location // where the step was created
	Problem  string   // what is wrong
	Fix      string   // how to fix it
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: invalid %s: %s", e.Location, e.Op, e.Arg, e.Problem)
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// As lets errors.As find package sdk's public ValidationError in a chain
// that holds this one: the registered SDK converts it.
func (e *ValidationError) As(target any) bool {
	if registered.As == nil {
		return false
	}
	return registered.As(e, target)
}

// Invalid builds a ValidationError.
func Invalid(loc Location, op, arg, problem, fix string) *ValidationError {
	return &ValidationError{Op: op, Arg: arg, Location: loc, Problem: problem, Fix: fix}
}

// quoteLimit is how many bytes of a user's argument an error quotes.
const quoteLimit = 200

// Quote quotes s for an error message, Go-style, keeping at most its first
// 200 bytes (cut at a rune boundary) and saying how long it was, so that a
// 10 MB argument makes a short error: "aaaa…" (10485760 bytes).
func Quote(s string) string {
	if len(s) <= quoteLimit {
		return strconv.Quote(s)
	}
	return strconv.Quote(prefix(s)) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// Shorten bounds a message from another library, which may repeat the
// user's argument: at most 200 bytes, then "… (N bytes)".
func Shorten(msg string) string {
	if len(msg) <= quoteLimit {
		return msg
	}
	return prefix(msg) + "… (" + strconv.Itoa(len(msg)) + " bytes)"
}

// prefix is s's first quoteLimit bytes, without splitting a rune.
func prefix(s string) string {
	n := quoteLimit
	for i := 1; i < utf8.UTFMax && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n]
}

// ResolveError reports a base image that could not be resolved (not found,
// credentials missing or refused, registry down), with the Go file:line of
// the From call that named it.
type ResolveError struct {
	Ref      string   // the reference as the user wrote it
	Location Location // the From call
	Err      error    // the registry's or engine's error
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("%s: From %s: resolving the base image: %v", e.Location, Quote(e.Ref), e.Err)
}

// Unwrap returns the underlying error.
func (e *ResolveError) Unwrap() error { return e.Err }
