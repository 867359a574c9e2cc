package llb

import (
	"fmt"
	"strings"
)

// ValidationError reports a bad argument given to a build step. It names
// the operation, the argument, the Go source position that made the step and
// how to fix it. Builders record it on the value; it surfaces when the value
// is compiled or run, before anything reaches the daemon.
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

// Invalid builds a ValidationError.
func Invalid(loc Location, op, arg, problem, fix string) *ValidationError {
	return &ValidationError{Op: op, Arg: arg, Location: loc, Problem: problem, Fix: fix}
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
	return fmt.Sprintf("%s: From %q: resolving the base image: %v", e.Location, e.Ref, e.Err)
}

// Unwrap returns the underlying error.
func (e *ResolveError) Unwrap() error { return e.Err }
